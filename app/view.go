package app

import (
	"encoding/json"
	"slices"

	"switchboard/app/tray"
	"switchboard/backend/protocol"
)

// view is what the Go side keeps of the relay's state: just enough for the
// tray, the notifications, the dashboard permission and the listen-mode
// check on Send. The UI keeps its own, fuller picture from the same events.
// Not safe for concurrent use: core guards it.
type view struct {
	conn     string
	me       protocol.AgentInfo
	status   string
	perms    map[string][]string
	sessions map[string]protocol.SessionInfo
	incoming map[int64]protocol.TransferInfo // pending transfers offered to me
	queues   map[string][]protocol.QueueItem
	requests map[int64]string // requests not closed -> state (see requests.go)
	grace    int              // seconds an Offline owner keeps their chats (the welcome's)
}

func newView() view { return view{conn: "offline"} }

// welcome replaces everything: the welcome is the snapshot of it all; the
// events that follow are snapshots too, except queue events, which say what
// changed in a channel's queue.
func (v *view) welcome(w protocol.AgentWelcome) {
	v.me, v.status, v.grace = w.Agent, w.Agent.Status, w.Grace
	v.sessions = make(map[string]protocol.SessionInfo, len(w.Sessions))
	for _, s := range w.Sessions {
		v.sessions[s.ID] = s
	}
	v.incoming = map[int64]protocol.TransferInfo{}
	for _, t := range w.Transfers {
		v.transfer(t)
	}
	v.channels(w.Channels, w.Queue)
}

// channels replaces the agent's permissions and the queues they see (the
// welcome, or a channels event after an administrator changed them).
func (v *view) channels(channels []protocol.ChannelInfo, queue []protocol.QueueItem) {
	v.perms = make(map[string][]string, len(channels))
	for _, c := range channels {
		v.perms[c.Key] = c.Perms
	}
	v.queues = map[string][]protocol.QueueItem{}
	for _, q := range queue {
		v.queues[q.Channel] = append(v.queues[q.Channel], q)
	}
}

// apply takes in an event; true when something the tray shows may change.
func (v *view) apply(f protocol.ServerFrame) bool {
	switch f.Ev {
	case protocol.EvSession:
		var s protocol.SessionInfo
		if json.Unmarshal(f.Data, &s) == nil && s.ID != "" {
			v.session(s)
			return true
		}
	case protocol.EvTransfer:
		var t protocol.TransferInfo
		if json.Unmarshal(f.Data, &t) == nil && t.ID != 0 {
			v.transfer(t)
			return true
		}
	case protocol.EvQueue:
		var q protocol.QueueEvent
		if json.Unmarshal(f.Data, &q) == nil {
			if v.queues == nil {
				v.queues = map[string][]protocol.QueueItem{}
			}
			v.queues[q.Channel] = protocol.ApplyQueue(v.queues[q.Channel], q)
			return true
		}
	case protocol.EvChannels:
		var c protocol.ChannelsEvent
		if json.Unmarshal(f.Data, &c) == nil {
			v.channels(c.Channels, c.Queue)
			return true
		}
	case protocol.EvRequest:
		var r protocol.RequestEvent
		if json.Unmarshal(f.Data, &r) == nil && r.Request.Number != 0 {
			return v.request(r.Request)
		}
	case protocol.EvPresence:
		var p protocol.PresenceEvent
		if json.Unmarshal(f.Data, &p) == nil {
			for _, a := range p.Agents {
				if a.ID == v.me.ID && a.ID != 0 {
					v.status = a.Status
					return true
				}
			}
		}
	}
	return false
}

func (v *view) session(s protocol.SessionInfo) {
	if v.sessions == nil {
		v.sessions = map[string]protocol.SessionInfo{}
	}
	v.sessions[s.ID] = s
}

func (v *view) transfer(t protocol.TransferInfo) {
	if v.incoming == nil {
		v.incoming = map[int64]protocol.TransferInfo{}
	}
	if t.State == protocol.TransferPending && t.To.ID == v.me.ID && t.Kind != "takeover" {
		v.incoming[t.ID] = t
		return
	}
	delete(v.incoming, t.ID)
	// An accepted transfer makes me the owner now; the session event that
	// says so may still be on its way, and Send must not refuse meanwhile.
	if t.State == protocol.TransferAccepted && t.To.ID == v.me.ID {
		if s, ok := v.sessions[t.Session]; ok {
			s.Role = protocol.ViewOwner
			v.sessions[t.Session] = s
		}
	}
}

// readOnly: the relay would refuse a message from me in this session.
func (v *view) readOnly(session string) bool {
	s, ok := v.sessions[session]
	return ok && (s.Role == protocol.ViewListener || s.Role == protocol.ViewOffered)
}

func (v *view) canDashboard() bool {
	for _, p := range v.perms {
		if slices.Contains(p, "listen") || slices.Contains(p, "manage") {
			return true
		}
	}
	return false
}

func (v *view) trayState() tray.State {
	st := tray.State{Status: v.status, Conn: v.conn, CanDashboard: v.canDashboard()}
	for _, s := range v.sessions {
		if s.Role == protocol.ViewOwner && s.State == protocol.StateActive {
			st.Chats++
		}
	}
	for _, q := range v.queues {
		st.Waiting += len(q)
	}
	st.Requests = v.openRequests()
	ids := make([]int64, 0, len(v.incoming))
	for id := range v.incoming {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := v.incoming[id]
		st.Transfers = append(st.Transfers, tray.Transfer{ID: t.ID, Session: t.Session, From: t.From.Name, Visitor: t.Visitor, Comment: t.Comment})
	}
	return st
}
