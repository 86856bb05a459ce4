package app

import (
	"context"

	"switchboard/backend/protocol"
)

// Requests (offline messages and tickets made from chats) in the desk's
// inbox: the UI sends the relay's request.* commands through Desk.Command
// and keeps the list up to date from relay:event "request"; the app counts
// the open ones for the tray.

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
