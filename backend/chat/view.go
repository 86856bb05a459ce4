package chat

import (
	"sort"
	"time"

	"switchboard/backend/protocol"
)

// Views turn desk state into the wire's shapes. They read; they never change.

// AgentInfo is an agent as others see them.
func (d *Desk) AgentInfo(id AgentID) protocol.AgentInfo {
	a, ok := d.agents[id]
	if !ok {
		return protocol.AgentInfo{ID: int64(id), Name: "unknown", Status: Offline.String()}
	}
	return protocol.AgentInfo{ID: int64(a.ID), Login: a.Login, Name: a.Name, Status: a.Status().String(), Load: d.load[id]}
}

// Agents lists every enabled agent, by name.
func (d *Desk) Agents() []protocol.AgentInfo {
	out := make([]protocol.AgentInfo, 0, len(d.agents))
	for id, a := range d.agents {
		if !a.Disabled {
			out = append(out, d.AgentInfo(id))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ChannelsFor lists the channels an agent has any permission in.
func (d *Desk) ChannelsFor(id AgentID, now time.Time) []protocol.ChannelInfo {
	a := d.agents[id]
	var out []protocol.ChannelInfo
	for cid, c := range d.channels {
		if a == nil || a.Perms[cid] == 0 {
			continue
		}
		ci := d.ChannelInfo(cid, now)
		ci.Perms = a.Perms[cid].Names()
		ci.Templates = c.Templates
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// ChannelInfo is the public view of a channel, as the widget sees it.
func (d *Desk) ChannelInfo(cid ChannelID, now time.Time) protocol.ChannelInfo {
	c, ok := d.channels[cid]
	if !ok {
		return protocol.ChannelInfo{Key: string(cid)}
	}
	return protocol.ChannelInfo{Key: string(c.ID), Name: c.Name, Open: d.Open(cid, now), OfflineForm: c.OfflineForm,
		TransferTTL: int(c.TransferTimeout / time.Second),
		Files:       protocol.FileRules{MaxBytes: c.Files.MaxBytes, Types: c.Files.Types}}
}

// EntryInfo converts a log entry.
func EntryInfo(e Entry) protocol.Entry {
	return protocol.Entry{Seq: e.Seq, At: e.At, Kind: e.Kind, ClientID: e.ClientID, Text: e.Text, Staff: e.Staff, Note: e.Note,
		Params: noteParamsInfo(e.Params), From: protocol.Author{Kind: e.AuthorKind, ID: int64(e.Author), Name: e.AuthorName},
		File: fileInfo(e.File)}
}

// noteParamsInfo converts a system line's params; none gives nil.
func noteParamsInfo(p NoteParams) *protocol.NoteParams {
	if p == (NoteParams{}) {
		return nil
	}
	return &protocol.NoteParams{Agent: noteAgent(p.Agent), From: noteAgent(p.From), To: noteAgent(p.To), By: noteAgent(p.By),
		Comment: p.Comment, Reason: p.Reason}
}

func noteAgent(p Party) *protocol.NoteAgent {
	if p == (Party{}) {
		return nil
	}
	return &protocol.NoteAgent{ID: int64(p.ID), Name: p.Name}
}

// TransferInfo converts a transfer.
func (d *Desk) TransferInfo(t Transfer) protocol.TransferInfo {
	ti := protocol.TransferInfo{
		ID: int64(t.ID), Session: string(t.Session), Channel: string(t.Channel), Kind: t.Kind,
		From: d.AgentInfo(t.From), To: d.AgentInfo(t.To), By: d.AgentInfo(t.By), ToQueue: t.ToQueue,
		Comment: t.Comment, State: t.State.String(), Reason: t.Reason, StartedAt: t.Started,
	}
	if !t.Deadline.IsZero() {
		dl := t.Deadline
		ti.Deadline = &dl
	}
	if !t.Ended.IsZero() {
		en := t.Ended
		ti.EndedAt = &en
	}
	if s, ok := d.sessions[t.Session]; ok {
		ti.Visitor = s.Visitor.Name
	}
	return ti
}

// SessionInfo converts a session as viewer sees it (viewer 0: the visitor).
func (d *Desk) SessionInfo(s *Session, viewer AgentID) protocol.SessionInfo {
	si := protocol.SessionInfo{
		ID: string(s.ID), Channel: string(s.Channel), State: s.State.String(),
		Visitor:  protocol.VisitorInfo{Name: s.Visitor.Name, Email: s.Visitor.Email},
		Question: s.Question, Seq: s.Seq, CreatedAt: s.CreatedAt, QueuedAt: s.QueuedAt, EndedBy: s.EndedBy,
	}
	if s.Owner != 0 {
		oi := d.AgentInfo(s.Owner)
		if viewer == 0 {
			oi = protocol.AgentInfo{ID: oi.ID, Name: oi.Name} // the visitor sees a name only
		}
		si.Owner = &oi
	}
	si.Answered = timePtr(s.AnsweredAt)
	si.EndedAt = timePtr(s.EndedAt)
	si.LastVisit = timePtr(s.LastVisitor)
	switch {
	case viewer == 0:
		si.Role = protocol.ViewVisitor
		si.Visitor.Email = s.Visitor.Email
		// The log's last seq may be a staff note the visitor never gets; a
		// visitor counts the entries it receives. When they last wrote is
		// for agents. So the visitor's copy changes only with what they see.
		si.Seq, si.LastVisit = 0, nil
	case s.Owner == viewer:
		si.Role = protocol.ViewOwner
	case s.IsListener(viewer):
		si.Role = protocol.ViewListener
	}
	if t := d.pending(s); t != nil && viewer != 0 {
		if t.To == viewer {
			si.Role = protocol.ViewOffered
		}
		ti := d.TransferInfo(*t)
		si.Transfer = &ti
	}
	return si
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SessionsFor lists what an agent's session list shows: chats they own,
// listen to or are offered, then those they took part in that ended within
// KeepEnded (newest first).
func (d *Desk) SessionsFor(a AgentID) []protocol.SessionInfo {
	var live, ended []*Session
	for _, s := range d.sessions {
		involved := s.Owner == a || s.IsListener(a)
		if t := d.pending(s); t != nil && (t.To == a || t.By == a) {
			involved = true
		}
		if !involved {
			continue
		}
		if s.State == Ended {
			ended = append(ended, s)
		} else {
			live = append(live, s)
		}
	}
	sort.Slice(live, func(i, j int) bool {
		if !live[i].CreatedAt.Equal(live[j].CreatedAt) {
			return live[i].CreatedAt.Before(live[j].CreatedAt)
		}
		return live[i].ID < live[j].ID
	})
	sort.Slice(ended, func(i, j int) bool {
		if !ended[i].EndedAt.Equal(ended[j].EndedAt) {
			return ended[i].EndedAt.After(ended[j].EndedAt)
		}
		return ended[i].ID < ended[j].ID
	})
	out := make([]protocol.SessionInfo, 0, len(live)+len(ended))
	for _, s := range append(live, ended...) {
		out = append(out, d.SessionInfo(s, a))
	}
	return out
}

// QueueFor lists the waiting chats of every channel the agent may answer, in
// the order Next serves them (by rank: a chat back from an agent who went
// offline comes first though its Since is recent).
func (d *Desk) QueueFor(a AgentID) []protocol.QueueItem {
	ag := d.agents[a]
	var waiting []*Session
	for c, q := range d.queues {
		if ag == nil || !ag.Can(c, PermRespond) {
			continue
		}
		waiting = append(waiting, q...)
	}
	sort.Slice(waiting, func(i, j int) bool { return queueLess(waiting[i], waiting[j]) })
	out := make([]protocol.QueueItem, len(waiting))
	at := map[ChannelID]int{} // waiting is in each channel's order: count places as they come
	for i, s := range waiting {
		at[s.Channel]++
		out[i] = queueItem(s, at[s.Channel])
	}
	return out
}

// QueueItems lists a channel's waiting chats in order.
func (d *Desk) QueueItems(c ChannelID) []protocol.QueueItem {
	q := d.queues[c]
	out := make([]protocol.QueueItem, len(q))
	for i, s := range q {
		out[i] = queueItem(s, i+1)
	}
	return out
}

func queueItem(s *Session, pos int) protocol.QueueItem {
	return protocol.QueueItem{Session: string(s.ID), Channel: string(s.Channel), Visitor: s.Visitor.Name, Question: s.Question,
		Since: s.QueuedAt, Position: pos}
}

// WaitingItem is the wire's view of a chat that joined a queue.
func WaitingItem(c ChannelID, w Waiting) protocol.QueueItem {
	return protocol.QueueItem{Session: string(w.Session), Channel: string(c), Visitor: w.Visitor, Question: w.Question,
		Since: w.Since, Position: w.Position}
}

// ShareChannel reports whether two agents both have some permission in one
// channel: such colleagues see each other's status and load live.
func (d *Desk) ShareChannel(a, b AgentID) bool {
	x, y := d.agents[a], d.agents[b]
	if x == nil || y == nil {
		return false
	}
	for c, p := range x.Perms {
		if p != 0 && y.Perms[c] != 0 {
			return true
		}
	}
	return false
}

// QueueWatchers lists the agents told of a channel's queue: those who may
// answer in it.
func (d *Desk) QueueWatchers(c ChannelID) []AgentID {
	var out []AgentID
	for _, a := range d.agents {
		if a.Conns > 0 && a.Can(c, PermRespond) {
			out = append(out, a.ID)
		}
	}
	return out
}

// Waiting lists the sessions waiting in a channel, in order.
func (d *Desk) Waiting(c ChannelID) []SessionID {
	q := d.queues[c]
	out := make([]SessionID, len(q))
	for i, s := range q {
		out[i] = s.ID
	}
	return out
}

// MayRead reports whether an agent may read a session's log: participants,
// the receiver of its pending transfer, watchers of its channel, and, while
// the chat waits, those who may pick it. Reading a colleague's ongoing chat
// takes listen (or manage), as listening does.
func (d *Desk) MayRead(a AgentID, id SessionID) bool {
	s, ok := d.sessions[id]
	ag := d.agents[a]
	if ag == nil || ag.Disabled {
		return false
	}
	if !ok {
		return false
	}
	if s.Owner == a || s.IsListener(a) || ag.CanWatch(s.Channel) || (s.State == Queued && ag.Can(s.Channel, PermRespond)) {
		return true
	}
	t := d.pending(s)
	return t != nil && (t.To == a || t.By == a)
}

// CanWatchAny reports whether an agent may see the dashboard.
func (d *Desk) CanWatchAny(a AgentID) bool {
	ag := d.agents[a]
	if ag == nil {
		return false
	}
	for c := range ag.Perms {
		if ag.CanWatch(c) {
			return true
		}
	}
	return false
}

// Dashboard builds the supervisor's picture, limited to the channels the
// viewer may watch.
func (d *Desk) Dashboard(now time.Time, viewer AgentID) protocol.Dashboard {
	ag := d.agents[viewer]
	db := protocol.Dashboard{At: now, Overall: protocol.Figures{Transfers: map[string]int{}}}
	watch := map[ChannelID]bool{}
	for cid, c := range d.channels {
		if ag == nil || !ag.CanWatch(cid) {
			continue
		}
		watch[cid] = true
		f := protocol.Figures{Transfers: map[string]int{}}
		q := d.queues[cid]
		f.Waiting = len(q)
		for _, s := range q {
			f.LongestWait = max(f.LongestWait, int(now.Sub(s.QueuedAt)/time.Second))
		}
		f.Present = d.presentResponders(cid)
		st := d.statsAt(cid, now)
		f.ChatsToday = st.chats
		for _, o := range Outcomes {
			f.Transfers[o.String()] = st.transfers[o]
		}
		f.Transfers[KindTakeover] = st.takeovers
		db.Channels = append(db.Channels, protocol.ChannelFigures{Channel: string(cid), Name: c.Name, Figures: f})
	}
	sort.Slice(db.Channels, func(i, j int) bool { return db.Channels[i].Channel < db.Channels[j].Channel })
	var longest int
	for _, s := range d.sortedSessions() {
		if s.State == Ended || !watch[s.Channel] {
			continue
		}
		ds := protocol.DashSession{ID: string(s.ID), Channel: string(s.Channel), State: s.State.String(),
			Visitor: s.Visitor.Name, Since: s.QueuedAt, LastVisitor: timePtr(s.LastVisitor), Warning: s.Warned.String()}
		if s.State == Active {
			ds.Since = s.AnsweredAt
			oi := d.AgentInfo(s.Owner)
			ds.Owner = &oi
			for i := range db.Channels {
				if db.Channels[i].Channel == string(s.Channel) {
					db.Channels[i].Active++
				}
			}
		}
		if t := d.pending(s); t != nil {
			ds.Transfer = t.State.String()
		}
		db.Sessions = append(db.Sessions, ds)
	}
	present := map[AgentID]bool{}
	for _, c := range db.Channels {
		db.Overall.Waiting += c.Waiting
		db.Overall.Active += c.Active
		db.Overall.ChatsToday += c.ChatsToday
		longest = max(longest, c.LongestWait)
		for k, v := range c.Transfers {
			db.Overall.Transfers[k] += v
		}
	}
	db.Overall.LongestWait = longest
	for _, a := range d.agents {
		if a.Disabled {
			continue
		}
		for c := range watch {
			if a.Can(c, PermRespond) {
				if a.Status() == Present {
					present[a.ID] = true
				}
				db.Agents = append(db.Agents, d.AgentInfo(a.ID))
				break
			}
		}
	}
	db.Overall.Present = len(present)
	sort.Slice(db.Agents, func(i, j int) bool {
		if db.Agents[i].Name != db.Agents[j].Name {
			return db.Agents[i].Name < db.Agents[j].Name
		}
		return db.Agents[i].ID < db.Agents[j].ID
	})
	for i := len(d.recent) - 1; i >= 0 && len(db.Transfers) < 20; i-- {
		if t, ok := d.transfers[d.recent[i]]; ok && watch[t.Channel] {
			db.Transfers = append(db.Transfers, d.TransferInfo(*t))
		}
	}
	var pending []protocol.TransferInfo
	for _, t := range d.transfers {
		if t.State == TransferPending && watch[t.Channel] {
			pending = append(pending, d.TransferInfo(*t))
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].ID > pending[j].ID }) // newest first
	db.Transfers = append(pending, db.Transfers...)
	return db
}

// QueueFigure is a channel's queue now: how many wait, the longest wait.
type QueueFigure struct {
	Waiting     int
	LongestWait time.Duration
}

// QueueFigures reads every channel's queue (for the per-minute history).
func (d *Desk) QueueFigures(now time.Time) map[ChannelID]QueueFigure {
	out := make(map[ChannelID]QueueFigure, len(d.channels))
	for cid := range d.channels {
		f := QueueFigure{Waiting: len(d.queues[cid])}
		if f.Waiting > 0 {
			f.LongestWait = now.Sub(d.queues[cid][0].QueuedAt)
			for _, s := range d.queues[cid] {
				f.LongestWait = max(f.LongestWait, now.Sub(s.QueuedAt))
			}
		}
		out[cid] = f
	}
	return out
}
