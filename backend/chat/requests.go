package chat

import (
	"sort"
	"strings"
	"time"

	"switchboard/backend/protocol"
)

// RequestState is where a request (ticket) stands: open -> claimed ->
// answered -> closed. A manager may assign an open or claimed one.
type RequestState uint8

const (
	RequestOpen RequestState = iota + 1
	RequestClaimed
	RequestAnswered
	RequestClosed
)

func (s RequestState) String() string {
	switch s {
	case RequestOpen:
		return "open"
	case RequestClaimed:
		return "claimed"
	case RequestAnswered:
		return "answered"
	case RequestClosed:
		return "closed"
	}
	return "unknown"
}

// ParseRequestState reads String's output.
func ParseRequestState(s string) (RequestState, bool) {
	for st := RequestOpen; st <= RequestClosed; st++ {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// Request history actions, as the protocol names them.
const (
	StepCreated    = protocol.StepCreated
	StepClaimed    = protocol.StepClaimed
	StepAssigned   = protocol.StepAssigned
	StepAnswered   = protocol.StepAnswered
	StepClosed     = protocol.StepClosed
	StepMailSent   = protocol.StepMailSent
	StepMailFailed = protocol.StepMailFailed
)

// RequestStep is one line of a request's history: who did what, when, and
// the answer's text.
type RequestStep struct {
	Request int64
	At      time.Time
	Action  string
	By      AgentID // zero: the visitor (created) or the relay (mail_*)
	To      AgentID // assigned: the new assignee
	Text    string  // answered: the answer; mail_failed: the error
	// Mail: an answer that is to be e-mailed to the visitor.
	Mail bool
	// State is the request's state after the step.
	State RequestState
}

// RequestChanged: a request moved on. The store keeps the request's new
// state and appends Step to its history; Notify lists agents to tell.
type RequestChanged struct {
	Request Request
	Step    RequestStep
	// HandOff: the change also goes to the configured webhook.
	HandOff bool
}

// RequestWarned: an open request has waited unclaimed past its channel's
// manager delay; Recipients are the Present managers.
type RequestWarned struct {
	Request    Request
	Waited     time.Duration
	Recipients []AgentID
}

func (RequestChanged) isEffect() {}
func (RequestWarned) isEffect()  {}

// MaxAnswer bounds an answer's text, in bytes.
const MaxAnswer = protocol.MaxAnswer

// request finds a request the desk follows (every one not closed).
func (d *Desk) request(n int64) (*Request, *Error) {
	r, ok := d.requests[n]
	if !ok {
		return nil, refuse(codeNotFound, "no open request %d", n)
	}
	return r, nil
}

// Request returns a copy of a request not yet closed, or false.
func (d *Desk) Request(n int64) (Request, bool) {
	r, ok := d.requests[n]
	if !ok {
		return Request{}, false
	}
	return *r, true
}

// OpenRequests lists the requests not closed in channel c (every channel when
// c is empty), oldest first.
func (d *Desk) OpenRequests(c ChannelID) []Request {
	out := make([]Request, 0, len(d.requests))
	for _, r := range d.requests {
		if c == "" || r.Channel == c {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// OpenRequestCounts counts the requests not closed, per channel, for /metrics
// and the dashboard.
func (d *Desk) OpenRequestCounts() map[ChannelID]int {
	out := make(map[ChannelID]int)
	for _, r := range d.requests {
		out[r.Channel]++
	}
	return out
}

// MayReadRequests: agents who answer, listen or manage in a channel see its
// requests.
func (d *Desk) MayReadRequests(a AgentID, c ChannelID) bool {
	ag, ok := d.agents[a]
	return ok && (ag.Can(c, PermRespond) || ag.CanWatch(c))
}

// RequestReaders lists the agents who may read a channel's requests.
func (d *Desk) RequestReaders(c ChannelID) []AgentID {
	var out []AgentID
	for id := range d.agents {
		if d.MayReadRequests(id, c) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// NotifyOfRequest lists the Present agents with notify in a channel: they
// get a desktop notification of a new request.
func (d *Desk) NotifyOfRequest(c ChannelID) []AgentID {
	var out []AgentID
	for _, a := range d.agents {
		if a.Status() == Present && a.Can(c, PermNotify) {
			out = append(out, a.ID)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// newRequest starts following a request and records its creation.
func (d *Desk) newRequest(r Request) []Effect {
	r.State, r.UpdatedAt = RequestOpen, r.CreatedAt
	d.nextRequest++
	cp := r
	d.requests[r.Number] = &cp
	return []Effect{RequestCreated{Request: r, HandOff: d.cfg.HandOff}}
}

// responder checks that a may work on requests in the request's channel.
func (d *Desk) responder(a AgentID, n int64) (*Request, *Agent, *Error) {
	ag, err := d.agent(a)
	if err != nil {
		return nil, nil, err
	}
	r, err := d.request(n)
	if err != nil {
		return nil, nil, err
	}
	if !ag.Can(r.Channel, PermRespond) {
		if ag.CanWatch(r.Channel) {
			return nil, nil, refuse(codeListenOnly, "you may read the requests of %s but not work on them", r.Channel)
		}
		return nil, nil, refuse(codeForbidden, "you may not work on requests in %s", r.Channel)
	}
	return r, ag, nil
}

// mayHandle: an unclaimed request is anyone's (with respond); a claimed one
// is its assignee's, or a manager's.
func (d *Desk) mayHandle(r *Request, ag *Agent) *Error {
	if r.Assignee == 0 || r.Assignee == ag.ID || ag.Can(r.Channel, PermManage) {
		return nil
	}
	return refuse(codeNotParticipant, "request %d is %s's", r.Number, d.name(r.Assignee))
}

// step moves a request on and returns the effect that records it.
func (d *Desk) step(r *Request, now time.Time, s RequestStep) []Effect {
	r.UpdatedAt = now
	s.Request, s.At, s.State = r.Number, now, r.State
	cp := *r
	if r.State == RequestClosed {
		delete(d.requests, r.Number)
	}
	return []Effect{RequestChanged{Request: cp, Step: s, HandOff: d.cfg.HandOff}}
}

// ClaimRequest makes an agent with respond the assignee of an open request.
func (d *Desk) ClaimRequest(now time.Time, a AgentID, n int64) ([]Effect, *Error) {
	r, _, err := d.responder(a, n)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State != RequestOpen && r.Assignee == a:
		return nil, refuse(codeInvalidState, "request %d is already yours", n)
	case r.State != RequestOpen:
		return nil, refuse(codeInvalidState, "request %d is %s by %s", n, r.State, d.name(r.Assignee))
	}
	r.State, r.Assignee = RequestClaimed, a
	return d.step(r, now, RequestStep{Action: StepClaimed, By: a}), nil
}

// AssignRequest: a manager gives a request not yet answered to an agent who
// may respond in its channel.
func (d *Desk) AssignRequest(now time.Time, a AgentID, n int64, to AgentID) ([]Effect, *Error) {
	ag, err := d.agent(a)
	if err != nil {
		return nil, err
	}
	r, err := d.request(n)
	if err != nil {
		return nil, err
	}
	if !ag.Can(r.Channel, PermManage) {
		return nil, refuse(codeForbidden, "you may not assign requests in %s", r.Channel)
	}
	target, ok := d.agents[to]
	if !ok || !target.Can(r.Channel, PermRespond) {
		return nil, refuse(codeInvalidTarget, "agent %d may not work on requests in %s", to, r.Channel)
	}
	if r.Assignee == to {
		return nil, refuse(codeInvalidState, "request %d is already %s's", n, target.Name)
	}
	r.Assignee = to
	if r.State == RequestOpen {
		r.State = RequestClaimed
	}
	return d.step(r, now, RequestStep{Action: StepAssigned, By: a, To: to}), nil
}

// AnswerRequest records an agent's answer; with byMail the store queues it
// for e-mail to the visitor in the same transaction. Answering an open
// request claims it. A request may be answered again (a follow-up).
func (d *Desk) AnswerRequest(now time.Time, a AgentID, n int64, text string, byMail bool) ([]Effect, *Error) {
	r, ag, err := d.responder(a, n)
	if err != nil {
		return nil, err
	}
	if err := d.mayHandle(r, ag); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return nil, refuse(codeBadRequest, "the answer is empty")
	case len(text) > MaxAnswer:
		return nil, refuse(codeTooLarge, "answer of %d bytes exceeds %d", len(text), MaxAnswer)
	case byMail && r.Visitor.Email == "":
		return nil, refuse(codeBadRequest, "request %d has no e-mail address to answer to", n)
	}
	if r.Assignee == 0 {
		r.Assignee = a
	}
	r.State = RequestAnswered
	return d.step(r, now, RequestStep{Action: StepAnswered, By: a, Text: text, Mail: byMail}), nil
}

// CloseRequest ends the follow-up; the desk stops holding the request.
func (d *Desk) CloseRequest(now time.Time, a AgentID, n int64) ([]Effect, *Error) {
	r, ag, err := d.responder(a, n)
	if err != nil {
		return nil, err
	}
	if err := d.mayHandle(r, ag); err != nil {
		return nil, err
	}
	r.State = RequestClosed
	return d.step(r, now, RequestStep{Action: StepClosed, By: a}), nil
}

// warnRequests tells the Present managers of a channel about requests left
// unclaimed past its manager delay, once each. While no manager is Present
// the warning waits for one, so it is never spent on nobody.
func (d *Desk) warnRequests(e *effects, now time.Time) {
	nums := make([]int64, 0, len(d.requests))
	for n, r := range d.requests {
		if r.State == RequestOpen && !r.Warned {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for _, n := range nums {
		r := d.requests[n]
		ch := d.channels[r.Channel]
		if ch == nil || ch.ManagerWarnAfter <= 0 || now.Sub(r.CreatedAt) < ch.ManagerWarnAfter {
			continue
		}
		var to []AgentID
		for _, a := range d.agents {
			if a.Status() == Present && a.Can(r.Channel, PermManage) {
				to = append(to, a.ID)
			}
		}
		if len(to) == 0 {
			continue
		}
		sort.Slice(to, func(i, j int) bool { return to[i] < to[j] })
		r.Warned = true
		e.add(RequestWarned{Request: *r, Waited: now.Sub(r.CreatedAt), Recipients: to})
	}
}

// ChannelKeys lists every channel's key, sorted.
func (d *Desk) ChannelKeys() []ChannelID {
	out := make([]ChannelID, 0, len(d.channels))
	for c := range d.channels {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
