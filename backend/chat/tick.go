package chat

import (
	"sort"
	"time"
)

// Tick runs the desk's timers at now: transfers that expire or whose receiver
// stayed Offline past the grace period, owners who stayed Offline (their chats
// go back to the head of the queue), waiting warnings, idle chats, visitors
// who left the queue, and ended chats that leave memory (see forget). The relay
// calls it often; each timer fires once.
func (d *Desk) Tick(now time.Time) []Effect {
	var e effects
	// First what ended before this tick, so that a chat ended by this tick
	// is still there for whoever reads it right after.
	d.forget(&e, now)
	// Sorted so effects come in the same order on every run.
	ids := make([]TransferID, 0, 8)
	for id, t := range d.transfers {
		if t.State == TransferPending {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		t := d.transfers[id]
		s := d.sessions[t.Session]
		if s == nil {
			continue
		}
		switch {
		case !t.Deadline.IsZero() && !now.Before(t.Deadline):
			before := d.involved(s)
			d.resolve(&e, s, t, now, TransferExpired, "", 0)
			d.changed(&e, s, before)
		case !t.ReceiverGoneAt.IsZero() && now.Sub(t.ReceiverGoneAt) >= d.cfg.Grace:
			before := d.involved(s)
			d.resolve(&e, s, t, now, TransferVoided, VoidReceiverOffline, t.To)
			d.changed(&e, s, before)
		}
	}

	for _, s := range d.sortedSessions() {
		switch s.State {
		case Active:
			owner := d.agents[s.Owner]
			if owner == nil || (owner.Status() == Offline && now.Sub(owner.OfflineSince) >= d.cfg.Grace) {
				d.requeue(&e, s, now, VoidOwnerOffline)
				continue
			}
			last := latest(s.AnsweredAt, s.LastVisitor, s.LastAgent)
			if d.cfg.IdleEnd > 0 && now.Sub(last) >= d.cfg.IdleEnd {
				d.end(&e, s, now, "idle", NoteIdleClosed, 0)
			}
		case Queued:
			if s.VisitorConns == 0 && d.cfg.QueueLeave > 0 && now.Sub(s.VisitorGoneAt) >= d.cfg.QueueLeave {
				d.end(&e, s, now, ByVisitor, NoteLeftQueue, 0)
				continue
			}
			d.warn(&e, s, now)
		}
	}
	d.warnRequests(&e, now)
	return e.list
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func (d *Desk) sortedSessions() []*Session {
	out := make([]*Session, 0, len(d.sessions))
	for _, s := range d.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// requeue returns an active chat whose owner stayed Offline (or may no
// longer answer it) to the head of its channel's queue; why (VoidOwnerOffline
// or VoidOwnerRevoked) voids a pending transfer. Nothing is lost: the log
// stays, the next agent sees it.
func (d *Desk) requeue(e *effects, s *Session, now time.Time, why string) {
	before := d.involved(s)
	if t := d.pending(s); t != nil {
		d.resolve(e, s, t, now, TransferVoided, why, s.Owner)
	}
	old := s.Owner
	d.setLoad(e, old, -1)
	head := d.nextRank(now)
	if q := d.queues[s.Channel]; len(q) > 0 {
		head = q[0].Rank - 1
	}
	s.State, s.Owner, s.Rank, s.QueuedAt, s.Warned = Queued, 0, head, now, WarnNone
	s.AnsweredAt = time.Time{}
	d.enqueue(s)
	d.notice(e, s, now, NoteRequeued, old)
	d.changed(e, s, before)
	e.add(d.joined(s))
}

// warn announces a chat waiting past the channel's delays, once per level.
func (d *Desk) warn(e *effects, s *Session, now time.Time) {
	ch := d.channels[s.Channel]
	if ch == nil {
		return
	}
	waited := now.Sub(s.QueuedAt)
	due := map[WarnLevel]bool{
		WarnWaiting: ch.WarnAfter > 0 && waited >= ch.WarnAfter,
		WarnManager: ch.ManagerWarnAfter > 0 && waited >= ch.ManagerWarnAfter,
	}
	level := WarnNone
	if due[WarnWaiting] {
		level = WarnWaiting
	}
	if due[WarnManager] {
		level = WarnManager
	}
	if level <= s.Warned {
		return
	}
	// A late tick (or a restart) may pass both delays at once: every level due
	// and not sent yet goes out, in order, so the agents with notify still
	// hear of it.
	for lv := s.Warned + 1; lv <= level; lv++ {
		if !due[lv] {
			continue
		}
		var to []AgentID
		for _, a := range d.agents {
			switch {
			case lv == WarnWaiting && a.Status() == Present && a.Can(s.Channel, PermNotify):
				to = append(to, a.ID)
			case lv == WarnManager && a.Status() == Present && a.Can(s.Channel, PermManage):
				to = append(to, a.ID)
			}
		}
		sort.Slice(to, func(i, j int) bool { return to[i] < to[j] })
		e.add(Warned{Session: s.ID, Channel: s.Channel, Level: lv, Waited: waited, Recipients: to})
	}
	s.Warned = level
	e.add(SessionChanged{Session: s.Clone()}) // persist the level; nobody to tell
}
