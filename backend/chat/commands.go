package chat

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/backend/protocol"
)

// Limits on what people type, declared once in backend/protocol (the
// schema and the reference tables read them there).
const (
	MaxText     = protocol.MaxText // bytes in one message
	MaxName     = protocol.MaxName
	MaxEmail    = protocol.MaxEmail
	MaxQuestion = protocol.MaxQuestion
	MaxComment  = protocol.MaxComment
	MaxTitle    = protocol.MaxTitle
)

// --- presence ------------------------------------------------------------

// Connect counts a new live connection of an agent.
func (d *Desk) Connect(now time.Time, id AgentID) ([]Effect, *Error) {
	a, err := d.agent(id)
	if err != nil {
		return nil, err
	}
	var e effects
	a.Conns++
	if a.Conns == 1 {
		a.OfflineSince = time.Time{}
		for _, t := range d.transfers {
			if t.State == TransferPending && t.To == id {
				t.ReceiverGoneAt = time.Time{}
			}
		}
		d.agentChanged(&e, id)
	}
	return e.list, nil
}

// Disconnect counts a closed connection; the last one makes the agent Offline.
func (d *Desk) Disconnect(now time.Time, id AgentID) []Effect {
	a, ok := d.agents[id]
	if !ok || a.Conns == 0 {
		return nil
	}
	var e effects
	a.Conns--
	if a.Conns == 0 {
		a.OfflineSince = now
		for _, t := range d.transfers {
			if t.State == TransferPending && t.To == id {
				t.ReceiverGoneAt = now
			}
		}
		d.agentChanged(&e, id)
	}
	return e.list
}

// SetStatus sets what an agent chose: Present or Away.
func (d *Desk) SetStatus(now time.Time, id AgentID, st Status) ([]Effect, *Error) {
	a, err := d.agent(id)
	if err != nil {
		return nil, err
	}
	if st != Present && st != Away {
		return nil, refuse(codeBadRequest, "status must be present or away")
	}
	var e effects
	if a.Chosen != st {
		a.Chosen = st
		d.agentChanged(&e, id)
		for c := range a.Perms {
			e.add(QueueChanged{Channel: c}) // nobody came or went, but the estimates moved
		}
	}
	return e.list, nil
}

// --- visitors ------------------------------------------------------------

// VisitorForm validates a pre-chat or offline form.
func VisitorForm(name, email, question string) (Visitor, string, *Error) {
	name, email, question = strings.TrimSpace(name), strings.TrimSpace(email), strings.TrimSpace(question)
	switch {
	case name == "":
		return Visitor{}, "", refuse(codeBadRequest, "name is required")
	case utf8.RuneCountInString(name) > MaxName:
		return Visitor{}, "", refuse(codeTooLarge, "name is longer than %d characters", MaxName)
	case len(email) > MaxEmail:
		return Visitor{}, "", refuse(codeTooLarge, "e-mail is too long")
	case !validEmail(email):
		return Visitor{}, "", refuse(codeBadRequest, "e-mail %q is not valid", email)
	case utf8.RuneCountInString(question) > MaxQuestion:
		return Visitor{}, "", refuse(codeTooLarge, "question is longer than %d characters", MaxQuestion)
	}
	return Visitor{Name: name, Email: email}, question, nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

// StartChat opens a session in a channel's queue. The question, when given,
// becomes the visitor's first line. tokenHash authenticates the visitor later.
func (d *Desk) StartChat(now time.Time, id SessionID, c ChannelID, name, email, question, tokenHash string) ([]Effect, *Error) {
	ch, ok := d.channels[c]
	if !ok {
		return nil, refuse(codeNotFound, "no channel %q", c)
	}
	if _, dup := d.sessions[id]; dup || id == "" {
		return nil, refuse(codeBadRequest, "session id %q is taken", id)
	}
	v, q, err := VisitorForm(name, email, question)
	if err != nil {
		return nil, err
	}
	if d.Busy(c) {
		return nil, refuse(codeChannelClosed, "%s has too many visitors waiting; leave a message instead", ch.Name)
	}
	if !d.Open(c, now) {
		return nil, refuse(codeChannelClosed, "%s is closed or nobody is available; leave a message instead", ch.Name)
	}
	s := &Session{
		ID: id, Channel: c, State: Queued, Visitor: v, Question: q, TokenHash: tokenHash,
		Rank: d.nextRank(now), CreatedAt: now, QueuedAt: now, VisitorConns: 1,
	}
	d.sessions[id] = s
	d.enqueue(s)
	d.statsFor(c, now).chats++
	var e effects
	d.changed(&e, s, nil)
	if q != "" {
		s.Seq++
		s.LastVisitor = now
		e.add(EntryAdded{Session: id, Channel: c, Entry: Entry{
			Seq: s.Seq, At: now, Kind: KindMessage, AuthorKind: ByVisitor, AuthorName: v.Name, Text: q,
		}})
	}
	e.add(d.joined(s))
	return e.list, nil
}

// SubmitOffline turns an offline form into a request. The form is for when
// nobody can answer: while a chat can be started it is refused.
func (d *Desk) SubmitOffline(now time.Time, c ChannelID, name, email, question string) ([]Effect, int64, *Error) {
	ch, ok := d.channels[c]
	if !ok {
		return nil, 0, refuse(codeNotFound, "no channel %q", c)
	}
	if !ch.OfflineForm {
		return nil, 0, refuse(codeForbidden, "%s takes no offline messages", ch.Name)
	}
	if d.Open(c, now) {
		return nil, 0, refuse(codeInvalidState, "%s is open; start a chat instead", ch.Name)
	}
	v, q, err := VisitorForm(name, email, question)
	if err != nil {
		return nil, 0, err
	}
	if q == "" {
		return nil, 0, refuse(codeBadRequest, "question is required")
	}
	r := Request{Number: d.nextRequest, Channel: c, Title: firstLine(q, MaxTitle), Visitor: v, Question: q, CreatedAt: now}
	return d.newRequest(r), r.Number, nil
}

// VisitorAttach counts a visitor connection (a reload or a second tab).
func (d *Desk) VisitorAttach(now time.Time, id SessionID) {
	if s, ok := d.sessions[id]; ok {
		s.VisitorConns++
		s.VisitorGoneAt = time.Time{}
	}
}

// VisitorDetach counts a closed visitor connection.
func (d *Desk) VisitorDetach(now time.Time, id SessionID) {
	if s, ok := d.sessions[id]; ok && s.VisitorConns > 0 {
		s.VisitorConns--
		if s.VisitorConns == 0 {
			s.VisitorGoneAt = now
		}
	}
}

// VisitorSend appends the visitor's message. A resend of a client id returns
// the original seq and no effects.
func (d *Desk) VisitorSend(now time.Time, id SessionID, clientID, text string) ([]Effect, uint64, bool, *Error) {
	return d.VisitorSendFile(now, id, clientID, text, nil)
}

// VisitorEnd ends the chat from the visitor's side (also from the queue).
func (d *Desk) VisitorEnd(now time.Time, id SessionID) ([]Effect, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, err
	}
	if s.State == Ended {
		return nil, refuse(codeInvalidState, "the chat has already ended")
	}
	var e effects
	d.end(&e, s, now, ByVisitor, NoteVisitorLeft, 0)
	return e.list, nil
}

// --- agents in sessions --------------------------------------------------

// Send appends an agent's message. Only the owner may write.
func (d *Desk) Send(now time.Time, a AgentID, id SessionID, clientID, text string) ([]Effect, uint64, bool, *Error) {
	return d.SendFile(now, a, id, clientID, text, nil)
}

// resent finds a resend of a message already stored, and its seq. It is
// looked up before the sender's right to write: the first attempt was stored
// while they could, and only its ack was lost (the link dropped, and meanwhile
// the chat was transferred or ended). The id is scoped to its sender, so
// nobody learns anything about others' messages.
func (s *Session) resent(kind string, a AgentID, clientID string) (uint64, bool) {
	if clientID == "" {
		return 0, false
	}
	return s.recent.get(senderKey(kind, a, clientID))
}

// mayWrite: the owner of an active chat writes; listeners and the receiver of
// a pending transfer only read.
func (d *Desk) mayWrite(s *Session, a AgentID) *Error {
	switch {
	case s.State == Ended:
		return refuse(codeInvalidState, "the chat has ended")
	case s.Owner == a && s.State == Active:
		return nil
	case s.IsListener(a):
		return refuse(codeListenOnly, "you are listening to this chat and cannot write")
	case s.Pending != 0 && d.transfers[s.Pending] != nil && d.transfers[s.Pending].To == a:
		return refuse(codeListenOnly, "accept the transfer to write in this chat")
	}
	return refuse(codeNotParticipant, "you do not own this chat")
}

func (d *Desk) send(now time.Time, s *Session, kind string, a AgentID, name, clientID, text string, f *Attachment) ([]Effect, uint64, bool, *Error) {
	if clientID == "" || len(clientID) > protocol.MaxIDLen {
		return nil, 0, false, refuse(codeBadRequest, "client_id is required (at most %d bytes)", protocol.MaxIDLen)
	}
	key := senderKey(kind, a, clientID)
	if seq, dup := s.recent.get(key); dup {
		return nil, seq, true, nil
	}
	text = strings.TrimRight(text, " \t\r\n")
	if strings.TrimSpace(text) == "" && f == nil {
		return nil, 0, false, refuse(codeBadRequest, "message is empty")
	}
	if len(text) > MaxText {
		return nil, 0, false, refuse(codeTooLarge, "message of %d bytes exceeds %d", len(text), MaxText)
	}
	s.Seq++
	s.recent.put(key, s.Seq)
	if kind == ByVisitor {
		s.LastVisitor = now
	} else {
		s.LastAgent = now
	}
	return []Effect{EntryAdded{Session: s.ID, Channel: s.Channel, Entry: Entry{
		Seq: s.Seq, At: now, Kind: KindMessage, AuthorKind: kind, Author: a, AuthorName: name, ClientID: clientID, Text: text, File: f,
	}}}, s.Seq, false, nil
}

// Pick makes an agent with respond the owner of a waiting chat.
func (d *Desk) Pick(now time.Time, a AgentID, id SessionID) ([]Effect, *Error) {
	s, ag, err := d.sessionFor(id, a)
	if err != nil {
		return nil, err
	}
	if !ag.Can(s.Channel, PermRespond) {
		return nil, refuse(codeForbidden, "you may not answer chats in %s", s.Channel)
	}
	if s.State != Queued {
		return nil, refuse(codeInvalidState, "the chat is %s, not waiting", s.State)
	}
	var e effects
	before := d.involved(s)
	d.dequeue(s)
	d.recordWait(s.Channel, now, now.Sub(s.QueuedAt))
	s.State, s.Owner, s.AnsweredAt, s.Warned = Active, a, now, WarnNone
	s.Listeners = removeID(s.Listeners, a)
	d.setLoad(&e, a, +1)
	d.notice(&e, s, now, NoteJoined, a)
	d.changed(&e, s, before)
	e.add(Subscribed{Agent: a, Session: s.ID})
	e.add(left(s))
	return e.list, nil
}

// Next picks the longest-waiting chat of any channel the agent may answer.
func (d *Desk) Next(now time.Time, a AgentID) ([]Effect, SessionID, *Error) {
	ag, err := d.agent(a)
	if err != nil {
		return nil, "", err
	}
	var best *Session
	for c, q := range d.queues {
		if len(q) == 0 || !ag.Can(c, PermRespond) {
			continue
		}
		if best == nil || queueLess(q[0], best) {
			best = q[0]
		}
	}
	if best == nil {
		return nil, "", refuse(codeQueueEmpty, "nobody is waiting")
	}
	fx, err := d.Pick(now, a, best.ID)
	return fx, best.ID, err
}

// End ends a chat from the agent's side: its owner, or a manager.
func (d *Desk) End(now time.Time, a AgentID, id SessionID) ([]Effect, *Error) {
	s, ag, err := d.sessionFor(id, a)
	if err != nil {
		return nil, err
	}
	if s.State == Ended {
		return nil, refuse(codeInvalidState, "the chat has already ended")
	}
	if s.Owner != a && !ag.Can(s.Channel, PermManage) {
		if s.IsListener(a) {
			return nil, refuse(codeListenOnly, "you are listening; use Close window to leave")
		}
		return nil, refuse(codeNotParticipant, "you do not own this chat")
	}
	var e effects
	d.end(&e, s, now, ByAgent, NoteEndedByAgent, a)
	return e.list, nil
}

// end closes a session for any reason; a pending transfer is voided.
func (d *Desk) end(e *effects, s *Session, now time.Time, by, code string, about AgentID) {
	before := d.involved(s)
	if t := d.pending(s); t != nil {
		d.resolve(e, s, t, now, TransferVoided, VoidChatEnded, 0)
	}
	switch s.State {
	case Queued:
		d.dequeue(s)
		e.add(left(s))
	case Active:
		d.setLoad(e, s.Owner, -1)
	}
	s.State, s.EndedAt, s.EndedBy = Ended, now, by
	d.notice(e, s, now, code, about)
	d.changed(e, s, before)
	d.retire(s)
}

// Leave takes a listener out of a chat ("Close window").
func (d *Desk) Leave(now time.Time, a AgentID, id SessionID) ([]Effect, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, err
	}
	if !s.IsListener(a) {
		return nil, refuse(codeNotParticipant, "you are not listening to this chat")
	}
	s.Listeners = removeID(s.Listeners, a)
	// Silent: only the one who left hears of it.
	return []Effect{SessionChanged{Session: s.Clone(), Notify: []AgentID{a}}}, nil
}

// Listen lets an agent with listen (or manage) in the channel follow a chat
// silently: nobody else is told.
func (d *Desk) Listen(now time.Time, a AgentID, id SessionID) ([]Effect, *Error) {
	s, ag, err := d.sessionFor(id, a)
	if err != nil {
		return nil, err
	}
	if !ag.CanWatch(s.Channel) {
		return nil, refuse(codeForbidden, "you may not listen to chats in %s", s.Channel)
	}
	if s.State == Ended {
		return nil, refuse(codeInvalidState, "the chat has ended")
	}
	if s.Owner == a {
		return nil, refuse(codeInvalidState, "you own this chat")
	}
	if s.IsListener(a) {
		return []Effect{Subscribed{Agent: a, Session: s.ID}}, nil
	}
	s.Listeners = append(s.Listeners, a)
	return []Effect{
		SessionChanged{Session: s.Clone(), Notify: []AgentID{a}},
		Subscribed{Agent: a, Session: s.ID},
	}, nil
}

// CreateRequest files a ticket from a chat: its owner, a listener, or anyone
// who may listen in the channel (the ticket holds the chat log).
func (d *Desk) CreateRequest(now time.Time, a AgentID, id SessionID, title string) ([]Effect, int64, *Error) {
	s, ag, err := d.sessionFor(id, a)
	if err != nil {
		return nil, 0, err
	}
	if s.Owner != a && !s.IsListener(a) && !ag.CanWatch(s.Channel) {
		return nil, 0, refuse(codeForbidden, "you may not file requests from this chat")
	}
	title = strings.TrimSpace(title)
	if title == "" {
		return nil, 0, refuse(codeBadRequest, "title is required")
	}
	if utf8.RuneCountInString(title) > MaxTitle {
		return nil, 0, refuse(codeTooLarge, "title is longer than %d characters", MaxTitle)
	}
	r := Request{Number: d.nextRequest, Channel: s.Channel, Session: s.ID, Title: title, Visitor: s.Visitor,
		Question: s.Question, CreatedBy: a, CreatedAt: now}
	return d.newRequest(r), r.Number, nil
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	return s
}
