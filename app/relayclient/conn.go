package relayclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
)

// conn is one websocket: a read loop that routes replies and events, and
// writes serialized by a mutex (gorilla allows one writer at a time).
type conn struct {
	c         *Client
	ws        *websocket.Conn
	wmu       sync.Mutex
	heartbeat time.Duration // read loop only

	mu      sync.Mutex
	waiting map[string]func(protocol.ServerFrame) // command id -> reply handler
	closed  bool

	done chan struct{} // closed when the read loop has ended
	err  error         // why it ended; read after done
}

func newConn(c *Client, ws *websocket.Conn) *conn {
	return &conn{c: c, ws: ws, heartbeat: defaultHeartbeat,
		waiting: make(map[string]func(protocol.ServerFrame)), done: make(chan struct{})}
}

// expect registers a reply handler, called on the read loop; false if the
// connection is already gone.
func (cn *conn) expect(id string, h func(protocol.ServerFrame)) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.closed {
		return false
	}
	cn.waiting[id] = h
	return true
}

func (cn *conn) take(id string) func(protocol.ServerFrame) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	h := cn.waiting[id]
	delete(cn.waiting, id)
	return h
}

// write sends one command. A failed write kills the connection, so that
// everything unanswered is settled by the reconnect.
func (cn *conn) write(id, cmd string, data json.RawMessage) error {
	b, err := json.Marshal(protocol.Command{ID: id, Cmd: cmd, Data: data})
	if err != nil {
		return err
	}
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_ = cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := cn.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		_ = cn.ws.Close()
		return err
	}
	return nil
}

// close says goodbye and drops the socket; the read loop then ends.
func (cn *conn) close(reason string) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason)
	_ = cn.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = cn.ws.Close()
}

// extendDeadline: the relay pings every heartbeat; two missed pings mean
// the link is dead even if TCP has not noticed.
func (cn *conn) extendDeadline() {
	_ = cn.ws.SetReadDeadline(time.Now().Add(2*cn.heartbeat + heartbeatSlack))
}

func (cn *conn) readLoop() {
	c := cn.c
	defer func() {
		cn.mu.Lock()
		cn.closed, cn.waiting = true, nil
		cn.mu.Unlock()
		c.mu.Lock()
		if c.cur == cn {
			c.cur = nil
		}
		c.mu.Unlock()
		_ = cn.ws.Close()
		close(cn.done)
	}()
	cn.ws.SetReadLimit(maxReadBytes)
	cn.ws.SetPingHandler(func(data string) error {
		cn.extendDeadline()
		err := cn.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var ne net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil // as gorilla's default handler: a late pong is not fatal
		}
		return err
	})
	for {
		cn.extendDeadline()
		_, b, err := cn.ws.ReadMessage()
		if err != nil {
			cn.err = err
			return
		}
		var f protocol.ServerFrame
		if err := json.Unmarshal(b, &f); err != nil {
			c.log.Warn("relay sent a frame that is not JSON", "err", err)
			continue
		}
		switch {
		case f.Ev != "":
			c.event(f)
		case f.Re != "":
			if h := cn.take(f.Re); h != nil {
				h(f)
			}
		case f.Error != nil && f.Error.Code == protocol.CodeRateLimited:
			// The relay names no id when it drops a command for the rate, so
			// we cannot tell which one is lost: start over. The backoff slows
			// us down, and the outbox resends what is unacknowledged.
			cn.err = f.Error
			return
		default:
			c.log.Warn("relay refused a frame without naming it", "err", f.Error)
		}
	}
}

// event deduplicates log entries and hands every event on, in order. It
// runs on the read loop.
func (c *Client) event(f protocol.ServerFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Ev == protocol.EvEntry && f.Session != "" {
		if f.Seq <= c.last[f.Session] {
			return // a replay overlapping what we already hold
		}
		c.last[f.Session] = f.Seq
	}
	if h := c.cfg.OnEvent; h != nil {
		c.disp.push(func() { h(f) })
	}
}

// errNotSent: the connection died before the command was written.
var errNotSent = errors.New("not sent")

// Do sends a command and waits for its reply. A refusal is returned as a
// *protocol.Error (use errors.As to read its Code); an accepted reply's data
// is decoded into out (unless out is nil). While the client is connecting
// or reconnecting, Do waits for the connection, within ctx (bounded by
// RequestTimeout when ctx has no deadline); a command refused as
// "unavailable" (the relay is restarting, nothing was changed) is tried
// again on the next connection. If the link drops after the
// command went out, Do returns ErrConnectionLost: it is not resent, since
// most commands are not idempotent. Chat messages go through Send instead.
func (c *Client) Do(ctx context.Context, cmd string, data, out any) error {
	if cmd == protocol.CmdHello {
		return errors.New("relayclient: hello is sent by the client itself")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	var raw json.RawMessage
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return fmt.Errorf("relayclient: %s: %w", cmd, err)
		}
	}
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			return err
		}
		f, err := cn.call(ctx, c.newID(), cmd, raw)
		if errors.Is(err, errNotSent) {
			continue // the link dropped first; wait for the next one
		}
		if err != nil {
			return err
		}
		if !f.OK && f.Error != nil && f.Error.Code == protocol.CodeUnavailable {
			// The relay is restarting and changed nothing: try again on the
			// next connection, once this one has closed.
			select {
			case <-cn.done:
				continue
			case <-ctx.Done():
				return f.Error
			}
		}
		if !f.OK {
			if f.Error == nil {
				return protocol.Errorf(protocol.CodeInternal, "%s refused without a reason", cmd)
			}
			return f.Error
		}
		if out != nil && len(f.Data) > 0 {
			if err := json.Unmarshal(f.Data, out); err != nil {
				return fmt.Errorf("relayclient: %s: decode reply: %w", cmd, err)
			}
		}
		return nil
	}
}

func (cn *conn) call(ctx context.Context, id, cmd string, raw json.RawMessage) (protocol.ServerFrame, error) {
	got := make(chan protocol.ServerFrame, 1)
	if !cn.expect(id, func(f protocol.ServerFrame) { got <- f }) {
		return protocol.ServerFrame{}, errNotSent
	}
	if err := cn.write(id, cmd, raw); err != nil {
		cn.take(id)
		return protocol.ServerFrame{}, errNotSent
	}
	select {
	case f := <-got:
		return f, nil
	case <-cn.done:
		select {
		case f := <-got: // the reply came just before the end
			return f, nil
		default:
			return protocol.ServerFrame{}, ErrConnectionLost
		}
	case <-ctx.Done():
		cn.take(id)
		return protocol.ServerFrame{}, ctx.Err()
	}
}

// waitConn returns the live connection, waiting for it while the client is
// trying to connect.
func (c *Client) waitConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		cn, st, changed, authErr := c.cur, c.state.State, c.changed, c.authErr
		c.mu.Unlock()
		switch {
		case cn != nil:
			return cn, nil
		case st == AuthFailed:
			return nil, authErr
		case st == Offline:
			return nil, ErrOffline
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
