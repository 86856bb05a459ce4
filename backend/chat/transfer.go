package chat

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// The transfer handshake. A transfer is a mark on an active session: the
// owner keeps chatting while it is pending, and only an accept moves the
// chat. Every way out (accept, reject, cancel, expire, void) is told to both
// agents and to whoever started it.

func (d *Desk) pending(s *Session) *Transfer {
	if s.Pending == 0 {
		return nil
	}
	return d.transfers[s.Pending]
}

// Targets lists the agents a chat may be transferred to: Present, with
// respond in its channel, not the owner; least loaded first.
func (d *Desk) Targets(s *Session) []Agent {
	var out []Agent
	for _, a := range d.agents {
		if a.ID != s.Owner && a.Status() == Present && a.Can(s.Channel, PermRespond) {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		li, lj := d.load[out[i].ID], d.load[out[j].ID]
		if li != lj {
			return li < lj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// TransferTargets is Targets for the owner or a manager of the chat.
func (d *Desk) TransferTargets(a AgentID, id SessionID) ([]Agent, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, err
	}
	if err := d.mayTransfer(s, a); err != nil {
		return nil, err
	}
	return d.Targets(s), nil
}

// mayTransfer: the owner, or a manager of the channel on the owner's behalf.
func (d *Desk) mayTransfer(s *Session, a AgentID) *Error {
	ag, err := d.agent(a)
	if err != nil {
		return err
	}
	if s.State != Active {
		return refuse(codeInvalidState, "only an active chat can be transferred (it is %s)", s.State)
	}
	if s.Owner == a || ag.Can(s.Channel, PermManage) {
		return nil
	}
	if s.IsListener(a) {
		return refuse(codeListenOnly, "you are listening to this chat")
	}
	return refuse(codeNotParticipant, "only the owner or a manager may transfer this chat")
}

// StartTransfer offers a chat to another agent (to > 0) or to the channel's
// queue (toQueue: the least-loaded Present agent is offered it).
func (d *Desk) StartTransfer(now time.Time, by AgentID, id SessionID, to AgentID, toQueue bool, comment string) ([]Effect, TransferID, *Error) {
	s, err := d.session(id)
	if err != nil {
		return nil, 0, err
	}
	if err := d.mayTransfer(s, by); err != nil {
		return nil, 0, err
	}
	if s.Pending != 0 {
		return nil, 0, refuse(codeTransferPending, "a transfer of this chat is already pending")
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > MaxComment {
		return nil, 0, refuse(codeTooLarge, "comment is longer than %d characters", MaxComment)
	}
	if toQueue == (to != 0) {
		return nil, 0, refuse(codeBadRequest, "name either an agent or the queue")
	}
	if toQueue {
		// The least-loaded Present agent, other than whoever asks.
		for _, a := range d.Targets(s) {
			if a.ID != by {
				to = a.ID
				break
			}
		}
		if to == 0 {
			return nil, 0, refuse(codeNoAgent, "nobody else is Present to take this chat")
		}
	} else if err := d.validTarget(s, to); err != nil {
		return nil, 0, err
	}
	ch := d.channels[s.Channel]
	t := &Transfer{
		ID: d.nextTransfer, Session: s.ID, Channel: s.Channel, Kind: KindTransfer,
		From: s.Owner, To: to, By: by, ToQueue: toQueue, Comment: comment, State: TransferPending, Started: now,
	}
	if ch != nil && ch.TransferTimeout > 0 {
		t.Deadline = now.Add(ch.TransferTimeout)
	}
	d.nextTransfer++
	d.transfers[t.ID] = t
	var e effects
	before := d.involved(s)
	s.Pending = t.ID
	d.staffNote(&e, s, now, NoteTransferOffered, NoteParams{By: d.party(by), To: d.party(to), From: d.party(s.Owner), Comment: comment})
	e.add(TransferChanged{Transfer: *t})
	d.changed(&e, s, before)
	e.add(Subscribed{Agent: to, Session: s.ID})
	return e.list, t.ID, nil
}

func (d *Desk) validTarget(s *Session, to AgentID) *Error {
	a, ok := d.agents[to]
	switch {
	case !ok || a.Disabled:
		return refuse(codeInvalidTarget, "no agent %d", to)
	case to == s.Owner:
		return refuse(codeInvalidTarget, "%s already owns the chat", a.Name)
	case !a.Can(s.Channel, PermRespond):
		return refuse(codeInvalidTarget, "%s may not answer chats in %s", a.Name, s.Channel)
	case a.Status() != Present:
		return refuse(codeInvalidTarget, "%s is %s, not Present", a.Name, a.Status())
	}
	return nil
}

// transferFor finds a pending transfer and its session.
func (d *Desk) transferFor(now time.Time, id TransferID) (*Transfer, *Session, *Error) {
	t, ok := d.transfers[id]
	if !ok {
		return nil, nil, refuse(codeNotFound, "no transfer %d", id)
	}
	if t.State != TransferPending {
		return nil, nil, refuse(codeInvalidState, "the transfer was already %s", t.State)
	}
	// Past its deadline a transfer is over even before the next Tick marks it.
	if !t.Deadline.IsZero() && !now.Before(t.Deadline) {
		return nil, nil, refuse(codeInvalidState, "the transfer has expired")
	}
	s, err := d.session(t.Session)
	if err != nil {
		return nil, nil, err
	}
	return t, s, nil
}

// Accept: the receiver becomes the owner; the former owner listens.
func (d *Desk) Accept(now time.Time, a AgentID, id TransferID) ([]Effect, *Error) {
	t, s, err := d.transferFor(now, id)
	if err != nil {
		return nil, err
	}
	ag, err := d.agent(a)
	if err != nil {
		return nil, err
	}
	if t.To != a {
		return nil, refuse(codeForbidden, "the transfer was offered to someone else")
	}
	if !ag.Can(s.Channel, PermRespond) {
		return nil, refuse(codeForbidden, "you may no longer answer chats in %s", s.Channel)
	}
	var e effects
	before := d.involved(s)
	d.resolve(&e, s, t, now, TransferAccepted, "", 0)
	d.handOver(&e, s, a, now)
	d.changed(&e, s, before)
	return e.list, nil
}

// handOver makes a the owner; the former owner goes to listen mode.
func (d *Desk) handOver(e *effects, s *Session, a AgentID, now time.Time) {
	old := s.Owner
	s.Owner = a
	s.Listeners = removeID(s.Listeners, a)
	if old != 0 && old != a {
		s.Listeners = appendUnique(s.Listeners, old)
	}
	d.setLoad(e, old, -1)
	d.setLoad(e, a, +1)
	d.notice(e, s, now, NoteJoined, a)
	e.add(Subscribed{Agent: a, Session: s.ID})
}

// Reject: the receiver declines; nothing else changes.
func (d *Desk) Reject(now time.Time, a AgentID, id TransferID) ([]Effect, *Error) {
	t, s, err := d.transferFor(now, id)
	if err != nil {
		return nil, err
	}
	if t.To != a {
		return nil, refuse(codeForbidden, "the transfer was offered to someone else")
	}
	var e effects
	before := d.involved(s)
	d.resolve(&e, s, t, now, TransferRejected, "", 0)
	d.changed(&e, s, before)
	return e.list, nil
}

// Cancel: whoever started the transfer withdraws it.
func (d *Desk) Cancel(now time.Time, a AgentID, id TransferID) ([]Effect, *Error) {
	t, s, err := d.transferFor(now, id)
	if err != nil {
		return nil, err
	}
	if t.By != a {
		return nil, refuse(codeForbidden, "only %s, who started the transfer, may cancel it", d.name(t.By))
	}
	var e effects
	before := d.involved(s)
	d.resolve(&e, s, t, now, TransferCancelled, "", 0)
	d.changed(&e, s, before)
	return e.list, nil
}

// TakeOver: a manager becomes the owner at once; the former owner listens and
// is told. A pending transfer is voided.
func (d *Desk) TakeOver(now time.Time, a AgentID, id SessionID) ([]Effect, TransferID, *Error) {
	s, ag, err := d.sessionFor(id, a)
	if err != nil {
		return nil, 0, err
	}
	if !ag.Can(s.Channel, PermManage) {
		return nil, 0, refuse(codeForbidden, "you may not take over chats in %s", s.Channel)
	}
	if s.State != Active {
		return nil, 0, refuse(codeInvalidState, "only an active chat can be taken over (it is %s)", s.State)
	}
	if s.Owner == a {
		return nil, 0, refuse(codeInvalidState, "you already own this chat")
	}
	var e effects
	before := d.involved(s)
	if p := d.pending(s); p != nil {
		d.resolve(&e, s, p, now, TransferVoided, VoidTakenOver, a)
	}
	t := &Transfer{
		ID: d.nextTransfer, Session: s.ID, Channel: s.Channel, Kind: KindTakeover,
		From: s.Owner, To: a, By: a, State: TransferAccepted, Started: now, Ended: now,
	}
	d.nextTransfer++
	d.transfers[t.ID] = t
	d.statsFor(t.Channel, now).count(t)
	d.remember(t)
	d.staffNote(&e, s, now, NoteTookOver, NoteParams{By: d.party(a), From: d.party(s.Owner)})
	d.handOver(&e, s, a, now)
	e.add(TransferChanged{Transfer: *t})
	d.changed(&e, s, before)
	return e.list, t.ID, nil
}

// resolve closes a pending transfer with an outcome; a voided one gets a
// reason code (Void*) and the agent the reason is about.
func (d *Desk) resolve(e *effects, s *Session, t *Transfer, now time.Time, st TransferState, reason string, about AgentID) {
	t.State, t.Ended, t.Reason = st, now, reason
	s.Pending = 0
	d.statsFor(t.Channel, now).count(t)
	d.remember(t)
	p := NoteParams{From: d.party(t.From), To: d.party(t.To), By: d.party(t.By)}
	var code string
	switch st {
	case TransferAccepted:
		code = NoteTransferAccepted
	case TransferRejected:
		code = NoteTransferRejected
	case TransferCancelled:
		code = NoteTransferCancelled
	case TransferExpired:
		code = NoteTransferExpired
	case TransferVoided:
		code = NoteTransferVoided
		p.Reason, p.Agent = reason, d.party(about)
	}
	d.staffNote(e, s, now, code, p)
	e.add(TransferChanged{Transfer: *t})
}

// keepRecent is how many resolved transfers the desk keeps for the dashboard.
const keepRecent = 50

func (d *Desk) remember(t *Transfer) {
	d.recent = append(d.recent, t.ID)
	if len(d.recent) > keepRecent {
		old := d.recent[0]
		d.recent = d.recent[1:]
		if ot := d.transfers[old]; ot != nil && ot.State != TransferPending {
			delete(d.transfers, old)
		}
	}
}

// PendingFor lists the pending transfers an agent takes part in (as the
// receiver, the owner or the starter), oldest first. The store holds the
// whole history.
func (d *Desk) PendingFor(a AgentID) []Transfer {
	var out []Transfer
	for _, t := range d.transfers {
		if t.State == TransferPending && (t.To == a || t.From == a || t.By == a) {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
