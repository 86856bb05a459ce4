package relay

import (
	"context"
	"sort"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Requests (tickets) are followed up here: listed, read, claimed, answered,
// closed and assigned. The desk holds the requests not yet closed and
// decides every change; the store keeps the history and the outbox of
// e-mails and webhook calls (see outbox.go), written in the change's commit.

// handleRequest runs the request.* commands of an agent.
func (c *conn) handleRequest(cmd protocol.Command) {
	s := c.srv
	me := c.agent
	switch cmd.Cmd {
	case protocol.CmdRequestList:
		p, ok := payload[protocol.RequestList](c, cmd)
		if !ok {
			return
		}
		p, perr := protocol.CheckRequestList(p)
		if perr != nil {
			c.fail(cmd.ID, perr)
			return
		}
		c.listRequests(cmd.ID, p)
	case protocol.CmdRequestGet:
		p, ok := payload[protocol.RequestRef](c, cmd)
		if !ok {
			return
		}
		c.getRequest(cmd.ID, p.Number)
	case protocol.CmdRequestClaim, protocol.CmdRequestClose:
		p, ok := payload[protocol.RequestRef](c, cmd)
		if !ok {
			return
		}
		act := (*chat.Desk).ClaimRequest
		if cmd.Cmd == protocol.CmdRequestClose {
			act = (*chat.Desk).CloseRequest
		}
		c.decideRequest(cmd.ID, p.Number, func(now time.Time) ([]chat.Effect, *protocol.Error) { return act(s.desk, now, me, p.Number) })
	case protocol.CmdRequestAssign:
		p, ok := payload[protocol.RequestAssign](c, cmd)
		if !ok {
			return
		}
		c.decideRequest(cmd.ID, p.Number, func(now time.Time) ([]chat.Effect, *protocol.Error) {
			return s.desk.AssignRequest(now, me, p.Number, chat.AgentID(p.To))
		})
	case protocol.CmdRequestAnswer:
		p, ok := payload[protocol.RequestAnswer](c, cmd)
		if !ok {
			return
		}
		if !p.Manual && s.mailer == nil {
			// Refused before anything is stored: the desk offers to copy the
			// answer, and records it with manual once sent by hand.
			c.fail(cmd.ID, protocol.Errorf(protocol.CodeMailNotConfigured,
				"this relay sends no e-mail (no SMTP server is set up): copy the answer and send it yourself"))
			return
		}
		c.decideRequest(cmd.ID, p.Number, func(now time.Time) ([]chat.Effect, *protocol.Error) {
			return s.desk.AnswerRequest(now, me, p.Number, p.Text, !p.Manual)
		})
	}
}

// decideRequest runs a request command and answers with the request as it
// stands after the change.
func (c *conn) decideRequest(id string, n int64, f func(now time.Time) ([]chat.Effect, *protocol.Error)) {
	if perr := protocol.CheckRequestRef(n); perr != nil {
		c.fail(id, perr)
		return
	}
	s := c.srv
	c.decide(id, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
		fx, err := f(now)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range fx {
			if e, ok := e.(chat.RequestChanged); ok {
				return fx, s.requestInfo(e.Request), nil
			}
		}
		return fx, struct{}{}, nil
	})
}

// listRequests answers request.list: requests not closed come from the
// desk, closed ones from the store.
func (c *conn) listRequests(id string, p protocol.RequestList) {
	s := c.srv
	ch := chat.ChannelID(p.Channel)
	s.mu.Lock()
	if ch != "" && !s.desk.MayReadRequests(c.agent, ch) {
		s.mu.Unlock()
		c.fail(id, protocol.Errorf(protocol.CodeForbidden, "you may not read the requests of %s", ch))
		return
	}
	var list []chat.Request
	if p.State != protocol.RequestClosed {
		list = s.desk.OpenRequests(ch)
	}
	s.mu.Unlock()
	if p.State == protocol.RequestClosed {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		list, err = s.store.ListRequests(ctx, store.RequestFilter{Channel: ch, States: []chat.RequestState{chat.RequestClosed},
			Newest: true, Limit: 4 * p.Limit})
		if err != nil {
			c.fail(id, protocol.Errorf(protocol.CodeInternal, "could not read the requests"))
			return
		}
	}
	s.mu.Lock()
	out := protocol.RequestListReply{Requests: make([]protocol.RequestInfo, 0, len(list)), Mail: s.mailer != nil}
	for _, r := range list {
		if (p.State == "" || r.State.String() == p.State) && s.desk.MayReadRequests(c.agent, r.Channel) {
			out.Requests = append(out.Requests, s.requestInfo(r))
		}
	}
	s.mu.Unlock()
	sort.Slice(out.Requests, func(i, j int) bool {
		if p.Newest {
			return out.Requests[i].Number > out.Requests[j].Number
		}
		return out.Requests[i].Number < out.Requests[j].Number
	})
	if len(out.Requests) > p.Limit {
		out.Requests = out.Requests[:p.Limit]
	}
	c.answer(id, out)
}

// getRequest answers request.get with the transcript and the history.
func (c *conn) getRequest(id string, n int64) {
	s := c.srv
	if perr := protocol.CheckRequestRef(n); perr != nil {
		c.fail(id, perr)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	row, err := s.store.Request(ctx, n)
	if err != nil {
		c.fail(id, protocol.Errorf(protocol.CodeNotFound, "no request %d", n))
		return
	}
	s.mu.Lock()
	allowed := s.desk.MayReadRequests(c.agent, row.Channel)
	if r, ok := s.desk.Request(n); ok {
		row.Request = r // the desk is ahead of a read that raced a commit
	}
	s.mu.Unlock()
	if !allowed {
		c.fail(id, protocol.Errorf(protocol.CodeForbidden, "you may not read the requests of %s", row.Channel))
		return
	}
	steps, err := s.store.RequestSteps(ctx, n)
	if err != nil {
		c.fail(id, protocol.Errorf(protocol.CodeInternal, "could not read the history"))
		return
	}
	s.mu.Lock()
	out := protocol.RequestDetail{RequestInfo: s.requestInfo(row.Request), Transcript: row.Transcript,
		History: make([]protocol.RequestStep, 0, len(steps)), Mail: s.mailer != nil}
	for _, st := range steps {
		out.History = append(out.History, s.stepInfo(st))
	}
	s.mu.Unlock()
	c.answer(id, out)
}

// requestInfo is a request on the wire. Caller holds s.mu.
func (s *Server) requestInfo(r chat.Request) protocol.RequestInfo {
	info := protocol.RequestInfo{
		Number: r.Number, Channel: string(r.Channel), Title: r.Title, State: r.State.String(), Origin: protocol.OriginOffline,
		Session: string(r.Session), Visitor: protocol.VisitorInfo{Name: r.Visitor.Name, Email: r.Visitor.Email},
		Question: r.Question, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.Session != "" {
		info.Origin = protocol.OriginChat
	}
	info.CreatedBy = s.agentRef(r.CreatedBy)
	info.Assignee = s.agentRef(r.Assignee)
	return info
}

func (s *Server) stepInfo(st chat.RequestStep) protocol.RequestStep {
	return protocol.RequestStep{At: st.At, Action: st.Action, By: s.agentRef(st.By), To: s.agentRef(st.To), Text: st.Text, Mail: st.Mail}
}

// agentRef is an agent on the wire, nil for nobody. Caller holds s.mu.
func (s *Server) agentRef(id chat.AgentID) *protocol.AgentInfo {
	if id == 0 {
		return nil
	}
	a := s.desk.AgentInfo(id)
	return &a
}

// deliverRequest tells the agents who may read a channel's requests of a
// new or changed one; a new one is a notification for those Present with
// notify. Caller holds s.mu; the change is durable.
func (s *Server) deliverRequest(r chat.Request, action string, isNew bool) {
	ev := protocol.RequestEvent{Request: s.requestInfo(r), Action: action}
	plain := encodeEvent(protocol.EvRequest, "", 0, ev)
	notified := map[chat.AgentID]bool{}
	if isNew {
		ev.Notify = true
		loud := encodeEvent(protocol.EvRequest, "", 0, ev)
		for _, a := range s.desk.NotifyOfRequest(r.Channel) {
			notified[a] = true
			s.toAgent(a, loud)
		}
	}
	for _, a := range s.desk.RequestReaders(r.Channel) {
		if !notified[a] {
			s.toAgent(a, plain)
		}
	}
	s.dashDirty = true
	s.wakeOutbox()
}

// deliverRequestWarning warns managers of a request nobody claimed.
func (s *Server) deliverRequestWarning(e chat.RequestWarned) {
	frame := encodeEvent(protocol.EvRequest, "", 0, protocol.RequestEvent{Request: s.requestInfo(e.Request),
		Warning: chat.WarnManager.String(), Waited: int(e.Waited / time.Second)})
	for _, a := range e.Recipients {
		s.toAgent(a, frame)
	}
}

// countRequests puts the open requests into the dashboard's tiles.
func countRequests(db *protocol.Dashboard, open map[chat.ChannelID]int) {
	db.Overall.OpenRequests = 0
	for i := range db.Channels {
		n := open[chat.ChannelID(db.Channels[i].Channel)]
		db.Channels[i].OpenRequests = n
		db.Overall.OpenRequests += n
	}
}
