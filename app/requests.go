package app

import (
	"context"

	"switchboard/backend/protocol"
)

// Requests (offline messages and tickets made from chats) in the desk's
// inbox: bound methods over the relay's request.* commands. The UI keeps
// the list up to date from relay:event "request".

// RequestListRequest asks for requests: a channel (empty: all the agent may
// read), a state (empty: all but closed), newest first or oldest first.
type RequestListRequest struct {
	Channel string `json:"channel"`
	State   string `json:"state"`
	Newest  bool   `json:"newest"`
}

// AnswerRequest is an answer: e-mailed to the visitor, or (Manual) only
// recorded, when the agent sent it themselves.
type AnswerRequest struct {
	Number int64  `json:"number"`
	Text   string `json:"text"`
	Manual bool   `json:"manual"`
}

// Requests lists requests; data: {requests, mail}. mail false: the relay
// sends no e-mail, so the desk offers to copy answers instead.
func (d *Desk) Requests(req RequestListRequest) Result {
	if c := d.core(); c != nil {
		return c.requests(req)
	}
	return notReady
}

// Request reads one request with its transcript and history.
func (d *Desk) Request(number int64) Result {
	if c := d.core(); c != nil {
		return c.request(number)
	}
	return notReady
}

// ClaimRequest takes an open request; data: the request.
func (d *Desk) ClaimRequest(number int64) Result {
	if c := d.core(); c != nil {
		return c.requestAction(protocol.CmdRequestClaim, protocol.RequestRef{Number: number})
	}
	return notReady
}

// AnswerRequest answers a request; data: the request. Without e-mail on the
// relay it fails with mail_not_configured unless Manual.
func (d *Desk) AnswerRequest(req AnswerRequest) Result {
	if c := d.core(); c != nil {
		return c.requestAction(protocol.CmdRequestAnswer, protocol.RequestAnswer{Number: req.Number, Text: req.Text, Manual: req.Manual})
	}
	return notReady
}

// CloseRequest closes a request; data: the request.
func (d *Desk) CloseRequest(number int64) Result {
	if c := d.core(); c != nil {
		return c.requestAction(protocol.CmdRequestClose, protocol.RequestRef{Number: number})
	}
	return notReady
}

// AssignRequest gives a request to an agent (managers); data: the request.
func (d *Desk) AssignRequest(number, to int64) Result {
	if c := d.core(); c != nil {
		return c.requestAction(protocol.CmdRequestAssign, protocol.RequestAssign{Number: number, To: to})
	}
	return notReady
}

func (c *core) requests(req RequestListRequest) Result {
	res, _ := c.do(protocol.CmdRequestList, protocol.RequestList{Channel: req.Channel, State: req.State, Newest: req.Newest})
	return res
}

func (c *core) request(number int64) Result {
	res, _ := c.do(protocol.CmdRequestGet, protocol.RequestRef{Number: number})
	return res
}

func (c *core) requestAction(cmd string, data any) Result {
	res, _ := c.do(cmd, data)
	return res
}

// loadRequests reads the open requests after a (re)connection, so the tray
// counts those made while the app was away; events keep the count after.
func (c *core) loadRequests(gen uint64) {
	cl := c.clientOf(gen)
	if cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var list protocol.RequestListReply
	if err := cl.Do(ctx, protocol.CmdRequestList, protocol.RequestList{State: protocol.RequestOpen}, &list); err != nil {
		c.log.Info("open requests not read", "err", err)
		return
	}
	c.mu.Lock()
	if c.gen != gen {
		c.mu.Unlock()
		return
	}
	c.view.requests = map[int64]string{}
	for _, r := range list.Requests {
		c.view.requests[r.Number] = r.State
	}
	c.mu.Unlock()
	c.pushTray()
}

// request takes in a request event; true when the tray's count may change.
func (v *view) request(r protocol.RequestInfo) bool {
	if v.requests == nil {
		v.requests = map[int64]string{}
	}
	before, had := v.requests[r.Number]
	if r.State == protocol.RequestClosed {
		delete(v.requests, r.Number)
	} else {
		v.requests[r.Number] = r.State
	}
	return had != (r.State != protocol.RequestClosed) || before != r.State
}

// openRequests counts the requests nobody has claimed yet.
func (v *view) openRequests() int {
	n := 0
	for _, st := range v.requests {
		if st == protocol.RequestOpen {
			n++
		}
	}
	return n
}
