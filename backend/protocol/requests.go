package protocol

import (
	"strings"
	"time"
)

// Request commands: the follow-up of tickets made by the offline form or
// from a chat. Agents with respond in the channel claim, answer and close;
// managers assign; listen (or manage) reads.
const (
	CmdRequestList   = "request.list"   // the channel's requests, open ones unless a state is named
	CmdRequestGet    = "request.get"    // one request with its transcript and history
	CmdRequestClaim  = "request.claim"  // take an open request
	CmdRequestAnswer = "request.answer" // answer by e-mail (or record an answer sent by hand)
	CmdRequestClose  = "request.close"  // done with it
	CmdRequestAssign = "request.assign" // a manager gives it to an agent
)

// EvRequest: a request was made or changed, or waits unclaimed too long.
// Sent to the agents who may read the channel's requests.
const EvRequest = "request"

// CodeMailNotConfigured: request.answer by e-mail on a relay without SMTP
// settings. Nothing was stored; copy the answer and send it yourself
// (request.answer with manual), or ask the operator to set up mail.
const CodeMailNotConfigured Code = "mail_not_configured"

// Request states.
const (
	RequestOpen     = "open"     // nobody has it yet
	RequestClaimed  = "claimed"  // an agent (the assignee) has it
	RequestAnswered = "answered" // an answer went out (or was sent by hand)
	RequestClosed   = "closed"   // done
)

// Request origins.
const (
	OriginOffline = "offline" // the widget's offline form
	OriginChat    = "chat"    // created from a chat by an agent
)

// Request history actions. created, claimed, assigned, answered and closed
// are the agents' steps; mail_sent and mail_failed are the e-mail's fate.
const (
	StepCreated    = "created"
	StepClaimed    = "claimed"
	StepAssigned   = "assigned"
	StepAnswered   = "answered"
	StepClosed     = "closed"
	StepMailSent   = "mail_sent"
	StepMailFailed = "mail_failed"
)

// RequestRef names one request.
type RequestRef struct {
	Number int64 `json:"number"`
}

// RequestList asks for a channel's requests (empty: every channel the agent
// may read), in one state (empty: open, claimed and answered), oldest first
// unless Newest.
type RequestList struct {
	Channel string `json:"channel,omitempty"`
	State   string `json:"state,omitempty"`
	Newest  bool   `json:"newest,omitempty"`
	Limit   int    `json:"limit,omitempty"` // default and cap MaxRequestList
}

// MaxRequestList caps one request.list reply.
const MaxRequestList = 500

// RequestAnswer answers a request. Without Manual the text is e-mailed to
// the visitor (mail_not_configured when the relay has no SMTP); with Manual
// it is only recorded, for an answer the agent sent themselves.
type RequestAnswer struct {
	Number int64  `json:"number"`
	Text   string `json:"text"`
	Manual bool   `json:"manual,omitempty"`
}

// RequestAssign gives a request to an agent with respond in its channel.
type RequestAssign struct {
	Number int64 `json:"number"`
	To     int64 `json:"to"`
}

// RequestInfo is a request as the desk lists it.
type RequestInfo struct {
	Number    int64       `json:"number"`
	Channel   string      `json:"channel"`
	Title     string      `json:"title"`
	State     string      `json:"state"`
	Origin    string      `json:"origin"`            // offline, chat
	Session   string      `json:"session,omitempty"` // the chat it was made from
	Visitor   VisitorInfo `json:"visitor"`
	Question  string      `json:"question,omitempty"`
	CreatedBy *AgentInfo  `json:"created_by,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	Assignee  *AgentInfo  `json:"assignee,omitempty"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// RequestStep is one line of a request's history.
type RequestStep struct {
	At     time.Time  `json:"at"`
	Action string     `json:"action"` // created, claimed, assigned, answered, closed, mail_sent, mail_failed
	By     *AgentInfo `json:"by,omitempty"`
	To     *AgentInfo `json:"to,omitempty"`   // assigned: the assignee
	Text   string     `json:"text,omitempty"` // answered: the answer; mail_failed: why
	Mail   bool       `json:"mail,omitempty"` // answered: sent by e-mail (else by hand)
}

// RequestDetail answers request.get: the request, the chat's transcript (or
// the offline question) and its whole history, oldest first.
type RequestDetail struct {
	RequestInfo
	Transcript string        `json:"transcript"`
	History    []RequestStep `json:"history"`
	Mail       bool          `json:"mail"` // the relay can send e-mail
}

// RequestListReply answers request.list. Mail says whether answers can go
// by e-mail; when false the desk offers to copy the answer instead.
type RequestListReply struct {
	Requests []RequestInfo `json:"requests"`
	Mail     bool          `json:"mail"`
}

// RequestEvent tells of a new or changed request (Request.State says which),
// or, with Warning, of one left unclaimed past the channel's manager delay.
// Notify is set for agents who asked to be notified (permission notify) of a
// new request: the desk shows a desktop notification.
type RequestEvent struct {
	Request RequestInfo `json:"request"`
	Action  string      `json:"action,omitempty"` // the step that caused it
	Notify  bool        `json:"notify,omitempty"`
	Warning string      `json:"warning,omitempty"` // manager
	Waited  int         `json:"waited_s,omitempty"`
}

// CheckRequestList validates a request.list payload and applies defaults.
func CheckRequestList(p RequestList) (RequestList, *Error) {
	switch p.State {
	case "", RequestOpen, RequestClaimed, RequestAnswered, RequestClosed:
	default:
		return p, Errorf(CodeBadRequest, "state %q: use open, claimed, answered or closed", p.State)
	}
	if p.Limit < 0 {
		return p, Errorf(CodeBadRequest, "limit must not be negative")
	}
	if p.Limit == 0 || p.Limit > MaxRequestList {
		p.Limit = MaxRequestList
	}
	p.Channel = strings.TrimSpace(p.Channel)
	return p, nil
}

// CheckRequestRef refuses a missing or impossible request number.
func CheckRequestRef(n int64) *Error {
	if n <= 0 {
		return Errorf(CodeBadRequest, "number is required")
	}
	return nil
}
