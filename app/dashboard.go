package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
)

// openDashboard opens the dashboard window: a second process of this
// program, signed in as the same agent through a one-time token on its
// standard input (handover.go). When this profile's dashboard is already
// open, the new process only brings it to the front (single instance), so
// no token is asked for.
func (c *core) openDashboard() Result {
	c.mu.Lock()
	can, server, signedIn := c.view.canDashboard(), c.creds.server, c.client != nil
	c.mu.Unlock()
	if !signedIn {
		return failResult(CodeOffline, "sign in first")
	}
	if !can {
		return failResult(CodeNoDashboard, "the dashboard needs listen or manage permission in a channel")
	}
	lang := c.cfg.Settings().Language
	if c.dashUp() {
		return c.launch(dashboardArgs(server, lang, false), "")
	}
	res, raw := c.do(protocol.CmdTokenHandover, nil)
	if !res.OK {
		return res // never the reply itself: it holds the token
	}
	var h protocol.Handover
	if json.Unmarshal(raw, &h) != nil || h.Token == "" {
		return failResult(protocol.CodeInternal, "the server handed over no sign-in")
	}
	return c.launch(dashboardArgs(server, lang, true), h.Token)
}

// launch starts this program with args and secret as its standard input.
func (c *core) launch(args []string, secret string) Result {
	cmd, err := c.command(args)
	if err == nil {
		err = startWithStdin(cmd, secret)
	}
	if err != nil {
		return failResult(protocol.CodeInternal, "could not open the dashboard: %v", err)
	}
	return okResult(nil)
}

// clientOf is the relay client of connection gen; nil once there is none,
// or another connection has replaced it.
func (c *core) clientOf(gen uint64) *client.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	return c.client
}

// watchDashboard asks the relay for the dashboard on connection gen and
// hands the first picture to the UI; events follow by themselves.
func (c *core) watchDashboard(gen uint64) {
	cl := c.clientOf(gen)
	if cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var raw json.RawMessage
	if err := cl.Do(ctx, protocol.CmdDashboardWatch, nil, &raw); err != nil {
		c.log.Warn("dashboard not watched", "err", err)
		if pe := (*protocol.Error)(nil); errors.As(err, &pe) && pe.Code == protocol.CodeForbidden {
			c.noticeCode("error", string(CodeNoDashboard), "You may not watch the dashboard: it needs listen or manage permission in a channel.")
		}
		return
	}
	c.emitDashboard(gen, raw)
}

// emitDashboard passes a dashboard picture to the UI unless a newer one of
// the same connection went first.
func (c *core) emitDashboard(gen uint64, raw json.RawMessage) {
	var head struct {
		At time.Time `json:"at"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &head) != nil {
		return
	}
	c.dashMu.Lock()
	defer c.dashMu.Unlock()
	c.mu.Lock()
	stale := c.gen != gen
	c.mu.Unlock()
	if stale {
		return
	}
	if c.dashGen != gen {
		c.dashGen, c.dashAt = gen, time.Time{}
	}
	if head.At.Before(c.dashAt) {
		return
	}
	c.dashAt = head.At
	c.emit.Emit(EventRelay, EventPayload{Ev: protocol.EvDashboard, Data: raw})
}
