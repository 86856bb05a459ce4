package relay

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"slices"
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

// lazySends are presence frames gathered under s.mu, queued after it is
// released, lazily.
//
// A busy desk changes some agent's load on most ticks, and each flush has a
// frame for every connected agent. Queued at once, each started its
// connection's writer: a thousand writes, and as many reads in the clients,
// made runnable together, ahead of the messages queued after them; and
// under the desk lock those writers also took the cores from the lock's
// holder, so every read pump and the deliverer waited too (docs/
// performance.md, "The tail"). Now nothing is queued under the lock, and a
// presence frame waits in its connection's queue for the next frame that
// starts the writer (the message traffic a busy connection gets anyway),
// or until the next tick for a connection that got none: a change reaches
// every colleague at most one tick after the flush that carries it.
//
// Frames go after anything queued to the same connection before the flush,
// and may go after frames queued since: only news that the next frame of the
// same sender supersedes (presence, sent by the tick alone) may be sent so.
type lazySends struct {
	conns   []*conn
	frames  [][]byte
	waiting []*conn // given a frame by the last flush
}

func (o *lazySends) add(c *conn, frame []byte) {
	o.conns = append(o.conns, c)
	o.frames = append(o.frames, frame)
}

// flush starts the writers of connections still holding the last flush's
// frames, then queues what was gathered since, lazily, and empties it for
// reuse. Call it without holding s.mu.
func (o *lazySends) flush() {
	for _, c := range o.waiting {
		c.wakeLazy()
	}
	clear(o.waiting)
	o.waiting = append(o.waiting[:0], o.conns...)
	for i, c := range o.conns {
		c.enqueueLazy(o.frames[i])
	}
	clear(o.conns)
	clear(o.frames)
	o.conns, o.frames = o.conns[:0], o.frames[:0]
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

// flushPresence gives every connected agent one frame with the colleagues
// (agents sharing a channel with them) whose status or load changed since
// the last flush, in out, for the caller to send once it has let go of s.mu.
// The tick calls it. Caller holds s.mu.
func (s *Server) flushPresence(out *lazySends) {
	if len(s.fan.presence) == 0 {
		return
	}
	changed := make([]chat.AgentID, 0, len(s.fan.presence))
	for a := range s.fan.presence {
		changed = append(changed, a)
	}
	clear(s.fan.presence)
	slices.Sort(changed)
	// This runs under the desk lock, for every agent connected: each changed
	// agent's info is encoded once, and a recipient's frame is those pieces
	// joined, less its own and those of agents it shares no channel with.
	// Most recipients get every piece: that frame is built once.
	pieces := make([][]byte, len(changed))
	for i, a := range changed {
		pieces[i], _ = json.Marshal(s.desk.AgentInfo(a))
	}
	var everyone []byte
	frames := map[string][]byte{}
	var idx []int
	var key []byte
	for r, conns := range s.agentConns {
		idx = idx[:0]
		for i, a := range changed {
			if a != r && s.desk.ShareChannel(r, a) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		var frame []byte
		if len(idx) == len(changed) {
			if everyone == nil {
				everyone = presenceFrame(pieces, idx)
			}
			frame = everyone
		} else {
			key = key[:0]
			for _, i := range idx {
				key = binary.AppendUvarint(key, uint64(i))
			}
			if frame = frames[string(key)]; frame == nil {
				frame = presenceFrame(pieces, idx)
				frames[string(key)] = frame
			}
		}
		for c := range conns {
			out.add(c, frame)
		}
	}
}

// presenceHead and presenceTail frame a presence event's list of agents, as
// encodeEvent writes them.
var presenceHead, presenceTail = func() ([]byte, []byte) {
	b := encodeEvent(protocol.EvPresence, "", 0, protocol.PresenceEvent{Agents: []protocol.AgentInfo{}})
	i := bytes.LastIndex(b, []byte("[]"))
	return b[:i+1], b[i+1:]
}()

// presenceFrame is encodeEvent(EvPresence, ...) of the agents whose encoded
// infos are pieces[idx...].
func presenceFrame(pieces [][]byte, idx []int) []byte {
	n := len(presenceHead) + len(presenceTail) + len(idx)
	for _, i := range idx {
		n += len(pieces[i])
	}
	b := make([]byte, 0, n)
	b = append(b, presenceHead...)
	for k, i := range idx {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, pieces[i]...)
	}
	return append(b, presenceTail...)
}
