package relay

import (
	"context"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Handlers run on the connection's read pump. Commands that change state
// decide under s.mu and push a job; the reply is sent by the committer once
// the change is durable. Refusals and reads answer at once.

// fail answers a refused command and frees its in-flight slot.
func (c *conn) fail(id string, perr *protocol.Error) {
	c.reply(id, nil, perr)
	c.done()
}

// answer answers a command that changed nothing.
func (c *conn) answer(id string, data any) {
	c.reply(id, data, nil)
	c.done()
}

// commit queues a decision; the reply follows its commit, or the refusal
// its failure. Caller holds s.mu.
func (c *conn) commit(id string, fx []chat.Effect, data any) {
	c.srv.pipe.push(&job{fx: fx, c: c, id: id, reply: encodeReply(id, data, nil)})
}

// decide runs one desk command under the lock and commits its effects.
func (c *conn) decide(id string, f func(now time.Time) ([]chat.Effect, any, *protocol.Error)) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if perr := s.writeRefusal(); perr != nil {
		c.fail(id, perr)
		return
	}
	fx, data, perr := f(s.now())
	if perr != nil {
		c.fail(id, perr)
		return
	}
	c.commit(id, fx, data)
}

func (s *Server) sessionView(id chat.SessionID, viewer chat.AgentID) protocol.SessionInfo {
	sess, _ := s.desk.Session(id)
	return s.desk.SessionInfo(&sess, viewer)
}

func (s *Server) transferView(id chat.TransferID) protocol.TransferInfo {
	t, _ := s.desk.Transfer(id)
	return s.desk.TransferInfo(t)
}

// --- hello ---------------------------------------------------------------

func (c *conn) hello(cmd protocol.Command) *protocol.Error {
	h, perr := protocol.DecodeData[protocol.Hello](cmd.Data)
	if perr != nil {
		return perr
	}
	if h.V != protocol.Version {
		return protocol.Errorf(protocol.CodeVersion, "protocol version %d is not supported (this relay speaks %d)", h.V, protocol.Version)
	}
	switch h.Role {
	case protocol.RoleAgent:
		return c.helloAgent(cmd.ID, h)
	case protocol.RoleVisitor:
		return c.helloVisitor(cmd.ID, h)
	}
	return protocol.Errorf(protocol.CodeBadRequest, "role must be agent or visitor")
}

func (c *conn) helloAgent(id string, h protocol.Hello) *protocol.Error {
	s := c.srv
	// Signing in writes (a token, the agent's presence): not while the
	// database cannot.
	if perr := s.refuseWrites(); perr != nil {
		return perr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checks := s.tokenChecks.Load()
	agent, token, tokenHash, perr := s.authenticate(ctx, c.ip, h)
	if perr != nil {
		return perr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if perr := s.writeRefusal(); perr != nil {
		return perr
	}
	now := s.now()
	fx, derr := s.desk.Connect(now, agent)
	if derr != nil {
		return derr
	}
	c.role, c.agent, c.token = protocol.RoleAgent, agent, tokenHash
	welcome := protocol.AgentWelcome{
		Token:     token,
		Agent:     s.desk.AgentInfo(agent),
		Channels:  s.desk.ChannelsFor(agent, now),
		Sessions:  s.desk.SessionsFor(agent),
		Queue:     s.desk.QueueFor(agent),
		Agents:    s.desk.Agents(),
		Heartbeat: int(s.cfg.PingInterval / time.Second),
		Grace:     int(s.cfg.Desk.Grace / time.Second),
	}
	for _, t := range s.desk.PendingFor(agent) {
		welcome.Transfers = append(welcome.Transfers, s.desk.TransferInfo(t))
	}
	reply := encodeReply(id, welcome, nil)
	s.log.Info("agent connected", "agent", agent, "login", welcome.Agent.Login, "client", h.Client)
	s.pipe.push(&job{
		fx: fx,
		pre: func() {
			c.enqueue(reply)
			select {
			case <-c.closed: // gone before its hello was committed
				if fx := s.desk.Disconnect(s.now(), agent); len(fx) > 0 {
					s.pipe.push(&job{fx: fx})
				}
				return
			default:
			}
			if s.agentConns[agent] == nil {
				s.agentConns[agent] = make(map[*conn]struct{})
			}
			s.agentConns[agent][c] = struct{}{}
			if s.tokenChecks.Load() != checks {
				// A revocation check began after this token was checked and
				// may have missed this connection: check it again.
				go s.checkTokens(context.Background(), []*conn{c})
			}
			for sid, last := range h.Resume {
				if s.desk.MayRead(agent, chat.SessionID(sid)) {
					c.seen[chat.SessionID(sid)] = last
				}
			}
		},
		post: func() {
			for _, si := range welcome.Sessions {
				c.sync(chat.SessionID(si.ID))
			}
		},
		fail: c.helloRefused(id),
	})
	return nil
}

// helloRefused is the fail of a hello's job: the connection already took its
// role, so rather than undo that it is closed, to say hello again shortly.
func (c *conn) helloRefused(id string) func(*protocol.Error) {
	return func(perr *protocol.Error) {
		c.reply(id, nil, perr)
		go c.closeWith(websocket.CloseTryAgainLater, "the relay cannot write to its database; try again shortly")
	}
}

func (c *conn) helloVisitor(id string, h protocol.Hello) *protocol.Error {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if h.Token == "" {
		ch := chat.ChannelID(h.Channel)
		if _, ok := s.desk.Channel(ch); !ok {
			return protocol.Errorf(protocol.CodeNotFound, "no channel %q", h.Channel)
		}
		c.role, c.channel = protocol.RoleVisitor, ch
		c.enqueue(encodeReply(id, protocol.VisitorWelcome{Channel: s.desk.ChannelInfo(ch, now)}, nil))
		return nil
	}
	sid, ok := s.visitorTokens[hashToken(h.Token)]
	sess, found := s.desk.Session(sid)
	if !ok || !found {
		return protocol.Errorf(protocol.CodeBadCredentials, "this chat has ended and is no longer available; start a new one")
	}
	c.role, c.channel, c.session = protocol.RoleVisitor, sess.Channel, sid
	s.desk.VisitorAttach(now, sid)
	welcome := protocol.VisitorWelcome{Channel: s.desk.ChannelInfo(sess.Channel, now)}
	si := s.desk.SessionInfo(&sess, 0)
	welcome.Chat = &si
	welcome.Position = s.waitingPosition(sid, now)
	c.told = encodeEvent(protocol.EvSession, sid, 0, si)
	reply := encodeReply(id, welcome, nil)
	last := h.Resume[string(sid)]
	s.pipe.push(&job{
		pre: func() {
			c.enqueue(reply)
			s.attachVisitor(c, sid, last)
		},
		post: func() { c.sync(sid) },
		fail: c.helloRefused(id),
	})
	return nil
}

// waitingPosition is a waiting chat's place, as the position event tells
// it; nil when the chat does not wait. Caller holds s.mu.
func (s *Server) waitingPosition(sid chat.SessionID, now time.Time) *protocol.Position {
	pos, est := s.desk.Position(sid, now)
	if pos <= 0 {
		return nil
	}
	return &protocol.Position{Position: pos, EstimatedWait: int(est / time.Second)}
}

// attachVisitor routes a session's events to a visitor connection. Caller
// holds s.mu.
func (s *Server) attachVisitor(c *conn, sid chat.SessionID, last uint64) {
	select {
	case <-c.closed:
		s.desk.VisitorDetach(s.now(), sid)
		return
	default:
	}
	if s.visitorConns[sid] == nil {
		s.visitorConns[sid] = make(map[*conn]struct{})
	}
	s.visitorConns[sid][c] = struct{}{}
	c.seen[sid] = last
}

// --- dispatch ------------------------------------------------------------

func (c *conn) handle(cmd protocol.Command) {
	if !protocol.Known(cmd.Cmd) {
		c.fail(cmd.ID, protocol.Errorf(protocol.CodeUnknownCommand, "unknown command %q", cmd.Cmd))
		return
	}
	switch cmd.Cmd {
	case protocol.CmdPing:
		c.answer(cmd.ID, struct{}{})
	case protocol.CmdHello:
		c.fail(cmd.ID, protocol.Errorf(protocol.CodeAlreadyHello, "this connection has already said hello"))
	default:
		if c.role == protocol.RoleVisitor {
			c.handleVisitor(cmd)
		} else {
			c.handleAgent(cmd)
		}
	}
}

// payload decodes a command's data or answers malformed.
func payload[T any](c *conn, cmd protocol.Command) (T, bool) {
	v, perr := protocol.DecodeData[T](cmd.Data)
	return v, c.accepted(cmd.ID, perr)
}

// sendPayload is payload for message.send, whose data is usually decoded
// with the frame already (protocol.DecodeSend).
func sendPayload(c *conn, cmd protocol.Command) (protocol.MessageSend, bool) {
	v, perr := protocol.DecodeSend(cmd)
	return v, c.accepted(cmd.ID, perr)
}

// accepted answers a payload's refusal; it reports whether there was none.
func (c *conn) accepted(id string, perr *protocol.Error) bool {
	if perr != nil {
		c.fail(id, perr)
	}
	return perr == nil
}

func (c *conn) handleVisitor(cmd protocol.Command) {
	s := c.srv
	switch cmd.Cmd {
	case protocol.CmdChatStart:
		p, ok := payload[protocol.ChatStart](c, cmd)
		if !ok {
			return
		}
		if perr := c.allowStart(); perr != nil {
			c.fail(cmd.ID, perr)
			return
		}
		c.startChat(cmd.ID, p)
	case protocol.CmdOfflineSubmit:
		p, ok := payload[protocol.OfflineSubmit](c, cmd)
		if !ok {
			return
		}
		if perr := c.allowStart(); perr != nil {
			c.fail(cmd.ID, perr)
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, n, err := s.desk.SubmitOffline(now, c.channel, p.Name, p.Email, p.Question)
			return fx, protocol.RequestCreated{Number: n}, err
		})
	case protocol.CmdMessageSend:
		p, ok := sendPayload(c, cmd)
		if !ok {
			return
		}
		if p.File != "" {
			c.sendFile(cmd.ID, p)
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			if err := c.ownSession(p.Session); err != nil {
				return nil, nil, err
			}
			fx, seq, dup, err := s.desk.VisitorSend(now, c.session, p.ClientID, p.Text)
			return fx, protocol.MessageAck{Seq: seq, Duplicate: dup}, err
		})
	case protocol.CmdFileUpload, protocol.CmdFileURL:
		c.handleFiles(cmd)
	case protocol.CmdSessionEnd:
		p, ok := payload[protocol.SessionRef](c, cmd)
		if !ok {
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			if err := c.ownSession(p.Session); err != nil {
				return nil, nil, err
			}
			fx, err := s.desk.VisitorEnd(now, c.session)
			return fx, struct{}{}, err
		})
	case protocol.CmdTyping:
		p, ok := payload[protocol.SessionRef](c, cmd)
		if !ok {
			return
		}
		s.mu.Lock()
		if err := c.ownSession(p.Session); err != nil {
			s.mu.Unlock()
			c.fail(cmd.ID, err)
			return
		}
		frame := encodeEvent(protocol.EvTyping, c.session, 0, protocol.TypingEvent{Who: protocol.AuthorVisitor})
		for _, a := range s.desk.RecipientsOf(c.session) {
			s.toAgent(a, frame)
		}
		s.mu.Unlock()
		c.answer(cmd.ID, struct{}{})
	default:
		c.fail(cmd.ID, protocol.Errorf(protocol.CodeForbidden, "visitors may not use %s", cmd.Cmd))
	}
}

// startChat opens a visitor's session and routes it to this connection
// before its effects are delivered, so the question arrives as entry 1.
func (c *conn) startChat(id string, p protocol.ChatStart) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if perr := s.writeRefusal(); perr != nil {
		c.fail(id, perr)
		return
	}
	if c.session != "" {
		if sess, ok := s.desk.Session(c.session); ok && sess.State != chat.Ended {
			c.fail(id, protocol.Errorf(protocol.CodeInvalidState, "a chat is already open on this connection"))
			return
		}
	}
	now := s.now()
	sid := newSessionID()
	token, th := newToken()
	fx, err := s.desk.StartChat(now, sid, c.channel, p.Name, p.Email, p.Question, th)
	if err != nil {
		c.fail(id, err)
		return
	}
	if c.session != "" {
		s.detachVisitor(c)
		if _, busy := c.catching[c.session]; !busy {
			delete(c.seen, c.session) // a connection looping chats holds one entry, not one per chat
		}
	}
	c.session = sid
	s.visitorTokens[th] = sid
	view := s.sessionView(sid, 0)
	c.told = encodeEvent(protocol.EvSession, sid, 0, view)
	reply := encodeReply(id, protocol.ChatStarted{Session: string(sid), Token: token, Chat: view,
		Position: s.waitingPosition(sid, now)}, nil)
	s.pipe.push(&job{fx: fx, pre: func() {
		c.enqueue(reply)
		c.done()
		// StartChat counted this connection; attach routes it (or uncounts it
		// if it closed meanwhile).
		s.attachVisitor(c, sid, 0)
	}, fail: func(perr *protocol.Error) {
		// The chat does not exist: the desk is reloaded without it.
		if c.session == sid {
			c.session = ""
		}
		delete(s.visitorTokens, th)
		c.fail(id, perr)
	}})
}

// ownSession checks that a visitor names its own session. Caller holds s.mu.
func (c *conn) ownSession(sid string) *protocol.Error {
	if c.session == "" {
		return protocol.Errorf(protocol.CodeInvalidState, "start a chat first")
	}
	if sid != "" && chat.SessionID(sid) != c.session {
		return protocol.Errorf(protocol.CodeForbidden, "that is not your chat")
	}
	return nil
}

// detachVisitor unroutes a visitor connection from its session. Caller holds s.mu.
func (s *Server) detachVisitor(c *conn) {
	if set := s.visitorConns[c.session]; set != nil {
		if _, ok := set[c]; ok {
			delete(set, c)
			s.desk.VisitorDetach(s.now(), c.session)
		}
		if len(set) == 0 {
			delete(s.visitorConns, c.session)
		}
	}
}

func (c *conn) handleAgent(cmd protocol.Command) {
	s := c.srv
	me := c.agent
	switch cmd.Cmd {
	case protocol.CmdLogout:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.store.RevokeToken(ctx, c.token); err != nil && err != store.ErrNotFound {
			c.fail(cmd.ID, s.writeFailed(err, "revoke the token"))
			return
		}
		c.answer(cmd.ID, struct{}{})
		// The sign-ins this one handed over (a dashboard window) end with it.
		go s.closeRevoked(context.Background(), me, c)
		go func() {
			time.Sleep(100 * time.Millisecond) // let the reply go out
			c.closeWith(protocol.CloseLoggedOut, "logged out")
		}()
	case protocol.CmdTokenHandover:
		// Degraded, the relay refuses writes at once: this one might fit
		// in pages the database already holds and succeed, handing out a
		// sign-in while others are refused.
		if perr := s.refuseWrites(); perr != nil {
			c.fail(cmd.ID, perr)
			return
		}
		token, hash := newHandoverToken()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Minted from this connection's token, it dies with it (logout).
		now := s.now()
		if err := s.store.CreateHandoverToken(ctx, c.token, hash, now, now.Add(HandoverTTL)); err != nil {
			if err == store.ErrNotFound {
				c.fail(cmd.ID, protocol.Errorf(protocol.CodeBadCredentials, "your sign-in is no longer valid"))
				return
			}
			c.fail(cmd.ID, s.writeFailed(err, "issue a token"))
			return
		}
		c.answer(cmd.ID, protocol.Handover{Token: token, ExpiresIn: int(HandoverTTL / time.Second)})
	case protocol.CmdStatusSet:
		p, ok := payload[protocol.StatusSet](c, cmd)
		if !ok {
			return
		}
		st, valid := chat.ParseStatus(p.Status)
		if !valid {
			c.fail(cmd.ID, protocol.Errorf(protocol.CodeBadRequest, "status must be present or away"))
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, err := s.desk.SetStatus(now, me, st)
			return fx, s.desk.AgentInfo(me), err
		})
	case protocol.CmdQueueNext:
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, sid, err := s.desk.Next(now, me)
			if err != nil {
				return nil, nil, err
			}
			return fx, s.sessionView(sid, me), nil
		})
	case protocol.CmdSessionPick, protocol.CmdSessionEnd, protocol.CmdSessionLeave, protocol.CmdSessionListen, protocol.CmdSessionTakeover:
		p, ok := payload[protocol.SessionRef](c, cmd)
		if !ok {
			return
		}
		sid := chat.SessionID(p.Session)
		act := sessionActions[cmd.Cmd]
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, err := act(s.desk, now, me, sid)
			if err != nil {
				return nil, nil, err
			}
			return fx, s.sessionView(sid, me), nil
		})
	case protocol.CmdSessionLog:
		p, ok := payload[protocol.SessionLog](c, cmd)
		if !ok {
			return
		}
		c.readLog(cmd.ID, chat.SessionID(p.Session), p.After)
	case protocol.CmdMessageSend:
		p, ok := sendPayload(c, cmd)
		if !ok {
			return
		}
		if p.File != "" {
			c.sendFile(cmd.ID, p)
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, seq, dup, err := s.desk.Send(now, me, chat.SessionID(p.Session), p.ClientID, p.Text)
			return fx, protocol.MessageAck{Seq: seq, Duplicate: dup}, err
		})
	case protocol.CmdFileUpload, protocol.CmdFileURL:
		c.handleFiles(cmd)
	case protocol.CmdTyping:
		p, ok := payload[protocol.SessionRef](c, cmd)
		if !ok {
			return
		}
		s.mu.Lock()
		sess, found := s.desk.Session(chat.SessionID(p.Session))
		if !found || sess.Owner != me {
			s.mu.Unlock()
			c.fail(cmd.ID, protocol.Errorf(protocol.CodeNotParticipant, "you do not own this chat"))
			return
		}
		frame := encodeEvent(protocol.EvTyping, sess.ID, 0, protocol.TypingEvent{Who: s.desk.AgentInfo(me).Name})
		for v := range s.visitorConns[sess.ID] {
			v.enqueue(frame)
		}
		s.mu.Unlock()
		c.answer(cmd.ID, struct{}{})
	case protocol.CmdTransferTargets:
		p, ok := payload[protocol.SessionRef](c, cmd)
		if !ok {
			return
		}
		s.mu.Lock()
		targets, err := s.desk.TransferTargets(me, chat.SessionID(p.Session))
		out := make([]protocol.AgentInfo, 0, len(targets))
		for _, a := range targets {
			out = append(out, s.desk.AgentInfo(a.ID))
		}
		s.mu.Unlock()
		if err != nil {
			c.fail(cmd.ID, err)
			return
		}
		c.answer(cmd.ID, out)
	case protocol.CmdTransferStart:
		p, ok := payload[protocol.TransferStart](c, cmd)
		if !ok {
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, tid, err := s.desk.StartTransfer(now, me, chat.SessionID(p.Session), chat.AgentID(p.To), p.Queue, p.Comment)
			if err != nil {
				return nil, nil, err
			}
			return fx, s.transferView(tid), nil
		})
	case protocol.CmdTransferAccept, protocol.CmdTransferReject, protocol.CmdTransferCancel:
		p, ok := payload[protocol.TransferRef](c, cmd)
		if !ok {
			return
		}
		tid := chat.TransferID(p.Transfer)
		act := transferActions[cmd.Cmd]
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, err := act(s.desk, now, me, tid)
			if err != nil {
				return nil, nil, err
			}
			return fx, s.transferView(tid), nil
		})
	case protocol.CmdTransferHistory:
		p, ok := payload[protocol.TransferHistory](c, cmd)
		if !ok {
			return
		}
		c.readHistory(cmd.ID, p)
	case protocol.CmdRequestCreate:
		p, ok := payload[protocol.RequestCreate](c, cmd)
		if !ok {
			return
		}
		c.decide(cmd.ID, func(now time.Time) ([]chat.Effect, any, *protocol.Error) {
			fx, n, err := s.desk.CreateRequest(now, me, chat.SessionID(p.Session), p.Title)
			return fx, protocol.RequestCreated{Number: n}, err
		})
	case protocol.CmdRequestList, protocol.CmdRequestGet, protocol.CmdRequestClaim, protocol.CmdRequestAnswer,
		protocol.CmdRequestClose, protocol.CmdRequestAssign:
		c.handleRequest(cmd)
	case protocol.CmdQuickRepliesGet:
		c.readQuickReplies(cmd.ID)
	case protocol.CmdQuickRepliesSet:
		p, ok := payload[protocol.QuickReplies](c, cmd)
		if !ok {
			return
		}
		c.saveQuickReplies(cmd.ID, p.Replies)
	case protocol.CmdDashboardWatch:
		s.mu.Lock()
		if !s.desk.CanWatchAny(me) {
			s.mu.Unlock()
			c.fail(cmd.ID, protocol.Errorf(protocol.CodeForbidden, "you may not see the dashboard"))
			return
		}
		s.watchers[c] = struct{}{}
		db := s.dashboard(s.now(), me)
		s.mu.Unlock()
		c.answer(cmd.ID, db)
	case protocol.CmdDashboardUnwatch:
		s.mu.Lock()
		delete(s.watchers, c)
		s.mu.Unlock()
		c.answer(cmd.ID, struct{}{})
	default:
		c.fail(cmd.ID, protocol.Errorf(protocol.CodeForbidden, "agents may not use %s", cmd.Cmd))
	}
}

// sessionActions are the agent commands that act on one session and answer
// with it as the agent now sees it.
var sessionActions = map[string]func(*chat.Desk, time.Time, chat.AgentID, chat.SessionID) ([]chat.Effect, *protocol.Error){
	protocol.CmdSessionPick:   (*chat.Desk).Pick,
	protocol.CmdSessionEnd:    (*chat.Desk).End,
	protocol.CmdSessionLeave:  (*chat.Desk).Leave,
	protocol.CmdSessionListen: (*chat.Desk).Listen,
	protocol.CmdSessionTakeover: func(d *chat.Desk, now time.Time, a chat.AgentID, id chat.SessionID) ([]chat.Effect, *protocol.Error) {
		fx, _, err := d.TakeOver(now, a, id)
		return fx, err
	},
}

// transferActions resolve a pending transfer.
var transferActions = map[string]func(*chat.Desk, time.Time, chat.AgentID, chat.TransferID) ([]chat.Effect, *protocol.Error){
	protocol.CmdTransferAccept: (*chat.Desk).Accept,
	protocol.CmdTransferReject: (*chat.Desk).Reject,
	protocol.CmdTransferCancel: (*chat.Desk).Cancel,
}

// maxLogRead bounds one session.log reply; ask again after the last seq.
const maxLogRead = 2000

// SessionLogReply answers session.log.
type SessionLogReply = protocol.SessionLogReply

func (c *conn) readLog(id string, sid chat.SessionID, after uint64) {
	s := c.srv
	s.mu.Lock()
	_, inDesk := s.desk.Session(sid)
	allowed := s.desk.MayRead(c.agent, sid)
	agent, known := s.desk.Agent(c.agent)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !inDesk {
		row, err := s.store.SessionRow(ctx, sid)
		if err != nil {
			c.fail(id, protocol.Errorf(protocol.CodeNotFound, "no session %q", sid))
			return
		}
		allowed = known && !agent.Disabled && s.tookPartOrWatches(ctx, agent, &row)
	}
	if !allowed {
		c.fail(id, protocol.Errorf(protocol.CodeForbidden, "you may not read this chat"))
		return
	}
	entries, err := s.store.Entries(ctx, sid, after, maxLogRead+1)
	if err != nil {
		c.fail(id, protocol.Errorf(protocol.CodeInternal, "could not read the log"))
		return
	}
	out := SessionLogReply{Entries: make([]protocol.Entry, 0, len(entries))}
	if len(entries) > maxLogRead {
		entries, out.More = entries[:maxLogRead], true
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, chat.EntryInfo(e))
	}
	c.answer(id, out)
}

// tookPartOrWatches decides who may read an older chat, no longer in
// memory: those who may listen in its channel, and those who took part as
// far as the store can tell: its last owner, its listeners when it ended,
// and every party to its transfers and takeovers (which covers its former
// owners). Respond alone is not enough: it lets one answer new chats, not
// read every past one.
func (s *Server) tookPartOrWatches(ctx context.Context, a chat.Agent, row *chat.Session) bool {
	if a.CanWatch(row.Channel) || row.Owner == a.ID || row.IsListener(a.ID) {
		return true
	}
	mine, err := s.store.Transfers(ctx, row.ID, a.ID, 1)
	return err == nil && len(mine) > 0
}

func (c *conn) readHistory(id string, p protocol.TransferHistory) {
	s := c.srv
	s.mu.Lock()
	allowed := true
	// Another agent's history shows only the channels the reader may watch:
	// a transfer carries its chat's visitor and a staff comment.
	var watched []chat.ChannelID
	if p.Session != "" {
		allowed = s.desk.MayRead(c.agent, chat.SessionID(p.Session))
	} else if p.Agent != 0 && chat.AgentID(p.Agent) != c.agent {
		me, _ := s.desk.Agent(c.agent)
		watched = watchedChannels(me)
		allowed = len(watched) > 0
	}
	s.mu.Unlock()
	if p.Session == "" && p.Agent == 0 {
		p.Agent = int64(c.agent)
	}
	if !allowed {
		c.fail(id, protocol.Errorf(protocol.CodeForbidden, "you may not read this history"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list []chat.Transfer
	var err error
	if watched != nil {
		list, err = s.store.TransfersIn(ctx, chat.AgentID(p.Agent), watched, 200)
	} else {
		list, err = s.store.Transfers(ctx, chat.SessionID(p.Session), chat.AgentID(p.Agent), 200)
	}
	if err != nil {
		c.fail(id, protocol.Errorf(protocol.CodeInternal, "could not read the history"))
		return
	}
	s.mu.Lock()
	out := make([]protocol.TransferInfo, 0, len(list))
	for _, t := range list {
		out = append(out, s.desk.TransferInfo(t))
	}
	s.mu.Unlock()
	c.answer(id, out)
}

// watchedChannels lists the channels an agent may watch (listen or manage).
func watchedChannels(a chat.Agent) []chat.ChannelID {
	var out []chat.ChannelID
	for ch := range a.Perms {
		if a.CanWatch(ch) {
			out = append(out, ch)
		}
	}
	return out
}
