package chat

import (
	"sort"
	"time"
)

// Ended chats are held in memory only for agents' lists ("recent"); their
// logs live in the store. What an anonymous visitor can make the desk hold is
// bounded: a chat that ended on nobody's list is forgotten at the next tick,
// and at most MaxEnded ended chats are held, the oldest forgotten first.

// keepEndedIDs is how many client message ids an ended chat remembers: a
// client resends only what was in flight when the chat ended.
const keepEndedIDs = 32

// retire files a chat that just ended: on somebody's list (it had an owner or
// listeners), or to be forgotten.
func (d *Desk) retire(s *Session) {
	s.recent.shrink(keepEndedIDs)
	if listed(s) {
		d.ended = append(d.ended, s.ID)
	} else {
		d.unlisted = append(d.unlisted, s.ID)
	}
}

// listed reports whether an ended chat shows in some agent's list.
func listed(s *Session) bool { return s.Owner != 0 || len(s.Listeners) > 0 }

// loadEnded orders the ended chats of a snapshot, oldest first, and forgets
// at once those nobody lists and those over the cap.
func (d *Desk) loadEnded() {
	for id, s := range d.sessions {
		if s.State != Ended {
			continue
		}
		if listed(s) {
			d.ended = append(d.ended, id)
		} else {
			delete(d.sessions, id)
		}
	}
	sort.Slice(d.ended, func(i, j int) bool {
		a, b := d.sessions[d.ended[i]], d.sessions[d.ended[j]]
		if !a.EndedAt.Equal(b.EndedAt) {
			return a.EndedAt.Before(b.EndedAt)
		}
		return a.ID < b.ID
	})
	if over := len(d.ended) - d.cfg.MaxEnded; d.cfg.MaxEnded > 0 && over > 0 {
		for _, id := range d.ended[:over] {
			delete(d.sessions, id)
		}
		d.ended = append(d.ended[:0], d.ended[over:]...)
	}
}

// forget drops from memory the ended chats nobody lists, those older than
// KeepEnded, and the oldest past MaxEnded. The relay hears of each so that
// it forgets the visitor's token too.
func (d *Desk) forget(e *effects, now time.Time) {
	for _, id := range d.unlisted {
		d.drop(e, id)
	}
	d.unlisted = d.unlisted[:0]
	n := 0
	for ; n < len(d.ended); n++ {
		s := d.sessions[d.ended[n]]
		aged := s == nil || (d.cfg.KeepEnded > 0 && now.Sub(s.EndedAt) >= d.cfg.KeepEnded)
		over := d.cfg.MaxEnded > 0 && len(d.ended)-n > d.cfg.MaxEnded
		if !aged && !over {
			break
		}
		d.drop(e, d.ended[n])
	}
	if n > 0 {
		d.ended = append(d.ended[:0], d.ended[n:]...)
	}
}

func (d *Desk) drop(e *effects, id SessionID) {
	s, ok := d.sessions[id]
	if !ok || s.State != Ended {
		return
	}
	delete(d.sessions, id)
	e.add(Forgotten{Session: id, TokenHash: s.TokenHash})
}

// Held is how many chats the desk holds in memory, ended ones included.
func (d *Desk) Held() int { return len(d.sessions) }
