package relay

import (
	"bytes"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// deliver fans committed effects out to the clients concerned. entries holds
// the encoded frames of fx's EntryAdded effects, in order, possibly followed
// by those of later effects; deliver returns what it did not use. Queue
// changes are gathered into queue, which the caller sends after the whole
// commit batch (sendQueueNews): a burst of chats arriving or being picked
// reaches each agent as one frame per batch, not one per chat. Caller holds
// s.mu; every effect here is already durable.
func (s *Server) deliver(fx []chat.Effect, entries [][]byte, queue *queueNews) [][]byte {
	for _, e := range fx {
		switch e := e.(type) {
		case chat.EntryAdded:
			s.committed[e.Session] = e.Entry.Seq
			s.metrics.delivered.Add(1)
			var frame []byte
			if len(entries) > 0 {
				frame, entries = entries[0], entries[1:]
			} else {
				frame = encodeEntry(e.Session, e.Entry)
			}
			s.recipients = s.desk.AppendRecipientsOf(s.recipients[:0], e.Session)
			for _, a := range s.recipients {
				for c := range s.agentConns[a] {
					c.deliverEntry(e.Session, e.Entry.Seq, e.Entry.Staff, frame)
				}
			}
			for c := range s.visitorConns[e.Session] {
				c.deliverEntry(e.Session, e.Entry.Seq, e.Entry.Staff, frame)
			}
		case chat.SessionChanged:
			sess := e.Session
			for _, a := range e.Notify {
				s.toAgent(a, encodeEvent(protocol.EvSession, sess.ID, 0, s.desk.SessionInfo(&sess, a)))
			}
			if len(s.visitorConns[sess.ID]) > 0 {
				s.tellVisitor(&sess)
			}
			s.dashDirty = true
		case chat.TransferChanged:
			frame := encodeEvent(protocol.EvTransfer, e.Transfer.Session, 0, s.desk.TransferInfo(e.Transfer))
			told := map[chat.AgentID]bool{}
			for _, a := range []chat.AgentID{e.Transfer.From, e.Transfer.To, e.Transfer.By} {
				if a != 0 && !told[a] {
					told[a] = true
					s.toAgent(a, frame)
				}
			}
			s.dashDirty = true
		case chat.AgentChanged:
			s.presenceChanged(e.Agent)
			s.dashDirty = true
		case chat.QueueChanged:
			queue.add(e)
			s.dashDirty = true
		case chat.Warned:
			frame := encodeEvent(protocol.EvWarning, e.Session, 0, protocol.WarningEvent{
				Session: string(e.Session), Channel: string(e.Channel), Level: e.Level.String(),
				Visitor: s.visitorName(e.Session), Waited: int(e.Waited / time.Second)})
			for _, a := range e.Recipients {
				s.toAgent(a, frame)
			}
			s.dashDirty = true
		case chat.Subscribed:
			for c := range s.agentConns[e.Agent] {
				c.sync(e.Session)
			}
		case chat.Forgotten:
			s.forget(e.Session, e.TokenHash)
		case chat.RequestCreated:
			s.deliverRequest(e.Request, chat.StepCreated, true)
		case chat.RequestChanged:
			s.deliverRequest(e.Request, e.Step.Action, false)
		case chat.RequestWarned:
			s.deliverRequestWarning(e)
		}
	}
	return entries
}

// tellVisitor sends the visitor's connections the session as they see it,
// if that differs from what each was last told: listening is silent, and a
// transfer is invisible to the visitor until its outcome (a new owner) is.
// Caller holds s.mu.
func (s *Server) tellVisitor(sess *chat.Session) {
	frame := encodeEvent(protocol.EvSession, sess.ID, 0, s.desk.SessionInfo(sess, 0))
	for c := range s.visitorConns[sess.ID] {
		if !bytes.Equal(c.told, frame) {
			c.told = frame
			c.enqueue(frame)
		}
	}
}

func (s *Server) toAgent(a chat.AgentID, frame []byte) { s.toAgentExcept(a, nil, frame) }

// toAgentExcept queues a frame to every connection of an agent but one
// (nil: to all). The caller holds s.mu.
func (s *Server) toAgentExcept(a chat.AgentID, except *conn, frame []byte) {
	for c := range s.agentConns[a] {
		if c != except {
			c.enqueue(frame)
		}
	}
}

func (s *Server) visitorName(id chat.SessionID) string {
	if sess, ok := s.desk.Session(id); ok {
		return sess.Visitor.Name
	}
	return ""
}

// prune forgets routing entries of sessions the desk no longer holds (ended
// chats past the listing window). An ended chat's token stays valid while it
// is listed, so a reload still shows the transcript. Caller holds s.mu.
func (s *Server) prune() {
	for h, sid := range s.visitorTokens {
		if _, ok := s.desk.Session(sid); !ok {
			delete(s.visitorTokens, h)
		}
	}
	for sid := range s.committed {
		if _, ok := s.desk.Session(sid); !ok && len(s.visitorConns[sid]) == 0 {
			delete(s.committed, sid)
		}
	}
}

// forget drops the routing of an ended chat the desk let go of: a reload
// with its token is told the chat is no longer available. Caller holds s.mu.
func (s *Server) forget(sid chat.SessionID, tokenHash string) {
	if tokenHash != "" && s.visitorTokens[tokenHash] == sid {
		delete(s.visitorTokens, tokenHash)
	}
	if len(s.visitorConns[sid]) == 0 {
		delete(s.committed, sid)
	}
}

// unregister removes a closed connection from every table.
func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, c)
	delete(s.watchers, c)
	now := s.now()
	switch c.role {
	case protocol.RoleAgent:
		set := s.agentConns[c.agent]
		if _, ok := set[c]; !ok {
			return
		}
		delete(set, c)
		if len(set) == 0 {
			delete(s.agentConns, c.agent)
		}
		if fx := s.desk.Disconnect(now, c.agent); len(fx) > 0 && !s.closing {
			s.pipe.push(&job{fx: fx})
		}
	case protocol.RoleVisitor:
		if c.session == "" {
			return
		}
		set := s.visitorConns[c.session]
		if _, ok := set[c]; !ok {
			return
		}
		delete(set, c)
		if len(set) == 0 {
			delete(s.visitorConns, c.session)
		}
		s.desk.VisitorDetach(now, c.session)
	}
}
