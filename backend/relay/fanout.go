package relay

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// Fan-out of queue and presence changes costs O(1) per recipient and change:
// agents get what changed in a queue, never the whole list; a waiting
// visitor is told only when their place or estimate moved; colleagues hear
// of an agent's status and load at most once per tick, all changes in one
// frame, and only those who share a channel with the agent.

// fanout is the state behind that. Caller holds s.mu.
type fanout struct {
	told     map[chat.SessionID]protocol.Position // last place told to each waiting visitor
	presence map[chat.AgentID]struct{}            // agents changed since the last flush
}

// queueNews gathers one decision's queue changes, per channel, into as few
// events as keep the order right: a timer that closes many waiting chats at
// once sends one frame per agent, not one per chat.
type queueNews struct {
	order  []chat.ChannelID
	events map[chat.ChannelID][]*protocol.QueueEvent // the last one is still open
}

func (n *queueNews) add(e chat.QueueChanged) {
	if n.events == nil {
		n.events = map[chat.ChannelID][]*protocol.QueueEvent{}
	}
	evs, seen := n.events[e.Channel]
	if !seen {
		n.order = append(n.order, e.Channel)
		evs = []*protocol.QueueEvent{{Channel: string(e.Channel)}}
	}
	cur := evs[len(evs)-1]
	for _, id := range e.Removed {
		if i := slices.IndexFunc(cur.Added, func(it protocol.QueueItem) bool { return it.Session == string(id) }); i >= 0 {
			// Gone again before anyone heard it came: those behind it move up.
			gone := cur.Added[i].Position
			cur.Added = slices.Delete(cur.Added, i, i+1)
			for j := range cur.Added {
				if cur.Added[j].Position > gone {
					cur.Added[j].Position--
				}
			}
			continue
		}
		if len(cur.Added) > 0 {
			// Where this chat stood among those just added is not known
			// here, so their positions cannot be corrected: a new event.
			cur = &protocol.QueueEvent{Channel: string(e.Channel)}
			evs = append(evs, cur)
		}
		cur.Removed = append(cur.Removed, string(id))
	}
	for _, w := range e.Added {
		for j := range cur.Added {
			if cur.Added[j].Position >= w.Position {
				cur.Added[j].Position++
			}
		}
		cur.Added = append(cur.Added, chat.WaitingItem(e.Channel, w))
	}
	n.events[e.Channel] = evs
}

// sendQueueNews tells the agents who may answer in each channel what changed
// in its queue, then the waiting visitors whose place moved.
func (s *Server) sendQueueNews(n *queueNews, now time.Time) {
	for _, c := range n.order {
		var watchers []chat.AgentID
		for _, ev := range n.events[c] {
			for _, id := range ev.Removed {
				delete(s.fan.told, chat.SessionID(id))
			}
			if len(ev.Removed) == 0 && len(ev.Added) == 0 {
				continue
			}
			if watchers == nil {
				watchers = s.desk.QueueWatchers(c)
			}
			slices.SortFunc(ev.Added, func(a, b protocol.QueueItem) int { return a.Position - b.Position })
			frame := encodeEvent(protocol.EvQueue, "", 0, ev)
			for _, a := range watchers {
				s.toAgent(a, frame)
			}
		}
		s.tellPositions(c, now)
	}
}

// tellPositions sends each waiting visitor of a channel their place and
// estimated wait, when it is not what they were last told.
func (s *Server) tellPositions(c chat.ChannelID, now time.Time) {
	if s.fan.told == nil {
		s.fan.told = map[chat.SessionID]protocol.Position{}
	}
	estimate := s.desk.Estimator(c, now)
	for i, sid := range s.desk.Waiting(c) {
		conns := s.visitorConns[sid]
		if len(conns) == 0 {
			continue
		}
		p := protocol.Position{Position: i + 1, EstimatedWait: int(estimate(i+1) / time.Second)}
		if last, ok := s.fan.told[sid]; ok && last == p {
			continue
		}
		s.fan.told[sid] = p
		frame := encodeEvent(protocol.EvPosition, sid, 0, p)
		for c := range conns {
			c.enqueue(frame)
		}
	}
}

// presenceChanged: the agent's own connections hear of it at once (another
// window of theirs must not lag behind a status.set reply); colleagues with
// the next flush.
func (s *Server) presenceChanged(a chat.AgentID) {
	if len(s.agentConns[a]) > 0 {
		s.toAgent(a, encodeEvent(protocol.EvPresence, "", 0, protocol.PresenceEvent{Agents: []protocol.AgentInfo{s.desk.AgentInfo(a)}}))
	}
	if s.fan.presence == nil {
		s.fan.presence = map[chat.AgentID]struct{}{}
	}
	s.fan.presence[a] = struct{}{}
}

// flushPresence sends every connected agent one frame with the colleagues
// (agents sharing a channel with them) whose status or load changed since
// the last flush. The tick calls it. Caller holds s.mu.
func (s *Server) flushPresence() {
	if len(s.fan.presence) == 0 {
		return
	}
	changed := make([]chat.AgentID, 0, len(s.fan.presence))
	for a := range s.fan.presence {
		changed = append(changed, a)
	}
	clear(s.fan.presence)
	slices.Sort(changed)
	infos := make(map[chat.AgentID]protocol.AgentInfo, len(changed))
	for _, a := range changed {
		infos[a] = s.desk.AgentInfo(a)
	}
	// Colleagues of one channel get the same list: encode it once.
	frames := map[string][]byte{}
	var key strings.Builder
	for r, conns := range s.agentConns {
		var list []protocol.AgentInfo
		key.Reset()
		for _, a := range changed {
			if a != r && s.desk.ShareChannel(r, a) {
				list = append(list, infos[a])
				key.WriteString(strconv.FormatInt(int64(a), 10))
				key.WriteByte(',')
			}
		}
		if len(list) == 0 {
			continue
		}
		frame, ok := frames[key.String()]
		if !ok {
			frame = encodeEvent(protocol.EvPresence, "", 0, protocol.PresenceEvent{Agents: list})
			frames[key.String()] = frame
		}
		for c := range conns {
			c.enqueue(frame)
		}
	}
}
