package relay

import (
	"context"
	"time"

	"switchboard/backend/protocol"
)

// Quick replies are the agent's own and are no part of the desk: they go
// straight to the store, outside the committer, like tokens. Only agents
// reach these handlers (visitors are refused before), and each reads and
// writes only the list of the agent it logged in as.

func (c *conn) readQuickReplies(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := c.srv.store.QuickReplies(ctx, c.agent)
	if err != nil {
		c.srv.log.Warn("quick replies not read", "agent", c.agent, "err", err)
		c.fail(id, protocol.Errorf(protocol.CodeInternal, "could not read your quick replies"))
		return
	}
	c.answer(id, protocol.QuickReplies{Replies: list})
}

// saveQuickReplies replaces the agent's list once it passes the checks,
// answers with it as stored, and sends it to the agent's other connections
// (another machine, the dashboard window) as a quickreplies event.
func (c *conn) saveQuickReplies(id string, replies []protocol.QuickReply) {
	s := c.srv
	list, perr := protocol.CheckQuickReplies(replies)
	if perr != nil {
		c.fail(id, perr)
		return
	}
	s.quickMu.Lock()
	defer s.quickMu.Unlock()
	if perr := s.refuseWrites(); perr != nil {
		c.fail(id, perr)
		return
	}
	s.mu.Lock()
	me, known := s.desk.Agent(c.agent)
	s.mu.Unlock()
	if !known || me.Disabled {
		c.fail(id, protocol.Errorf(protocol.CodeForbidden, "your account is disabled"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.SetQuickReplies(ctx, c.agent, list); err != nil {
		s.log.Warn("quick replies not saved", "agent", c.agent, "err", err)
		c.fail(id, s.writeFailed(err, "save your quick replies; nothing was changed"))
		return
	}
	data := protocol.QuickReplies{Replies: list}
	c.answer(id, data)
	frame := encodeEvent(protocol.EvQuickReplies, "", 0, data)
	s.mu.Lock()
	s.toAgentExcept(c.agent, c, frame)
	s.mu.Unlock()
}
