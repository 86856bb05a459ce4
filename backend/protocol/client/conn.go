// Package client speaks the relay's protocol from the client side, for every
// Go client of the project: the desktop app, the relay's tests, the load
// generator and the end-to-end helpers.
//
// A Conn is one websocket: it says hello (an agent by password or token, a
// visitor by channel or chat token, resuming from its Tracker), matches
// replies to commands by id within a context or a timeout, checks every
// entry against the Tracker (duplicates and gaps), and hands events to a
// handler, or decoded into their types through Handlers. WriteFrame is the
// lean path for a prebuilt frame, and OnReply hears the replies no call
// waits for, so a load generator pays for no more than it uses.
//
// A Client keeps an agent signed in over many Conns: it reconnects with
// jittered backoff, resumes every session without a gap or a duplicate, and
// sends chat messages through an outbox that survives disconnects without
// a message ever being stored twice.
//
// The wire types live in backend/protocol; this package does no more than
// carry them. It knows nothing of the app or of Wails.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
)

const (
	// DefaultRequestTimeout bounds a call whose context has no deadline.
	DefaultRequestTimeout = 15 * time.Second
	// handshakeTimeout bounds the websocket upgrade.
	handshakeTimeout = 10 * time.Second
	// writeWait bounds one frame write.
	writeWait = 10 * time.Second
	// heartbeatSlack: with a heartbeat set, silence for two intervals plus
	// this means a dead link even if TCP has not noticed.
	heartbeatSlack = 5 * time.Second
	// DefaultReadLimit caps a frame from the relay. Replies such as
	// session.log (up to 2000 entries) are far larger than
	// protocol.MaxFrameBytes.
	DefaultReadLimit = 32 << 20
	// keepBuffer: a read buffer grown past this by one large frame (a
	// welcome) is let go rather than kept for the small ones.
	keepBuffer = 64 << 10
)

var (
	// ErrNotSent: the connection was gone before the command was written;
	// it can safely go again on another.
	ErrNotSent = errors.New("client: connection closed before the command was sent")
	// ErrConnectionLost: the link dropped after the command was written and
	// before its reply; it may or may not have been applied.
	ErrConnectionLost = errors.New("client: connection lost before the reply")
)

// Options shape a Conn. Handlers run on the connection's read goroutine,
// one frame at a time in arrival order: a handler that blocks stops the
// reading, and one that waits for a reply of the same Conn deadlocks.
type Options struct {
	Header http.Header       // handshake headers: Origin, X-Forwarded-For
	Dialer *websocket.Dialer // nil: proxy from the environment, TLS, a handshake timeout
	TLS    *tls.Config       // with the default dialer; nil = system roots

	ReadLimit int64         // 0: DefaultReadLimit
	Heartbeat time.Duration // the relay's ping interval; 0: no read deadline
	Timeout   time.Duration // a call's bound when its context has none; 0: DefaultRequestTimeout
	IDPrefix  string        // of command ids; "" = "c"

	// Tracker checks entries and names what hello resumes; nil: a new one.
	// Give the same one to every connection of one client.
	Tracker *Tracker
	// DropDuplicates keeps entries the Tracker calls duplicates from
	// OnEvent, so a client never sees one twice.
	DropDuplicates bool

	OnEvent func(*Frame) // every event, entries with their Track verdict
	// OnReply hears replies no call waits for, and refusals that name no
	// command (a rate limit, an unreadable frame).
	OnReply func(*Frame)
	// BeforeRead runs before each frame is read and may block: a load
	// test's client that stops reading.
	BeforeRead func()
	// OnFrame hears the size of every frame read (a load test counts them).
	OnFrame func(bytes int)

	Logger *slog.Logger // nil = slog.Default()
}

// Conn is one websocket to the relay. Its methods are safe for concurrent
// use.
type Conn struct {
	ws        *websocket.Conn
	opts      Options
	tracker   *Tracker
	log       *slog.Logger
	heartbeat atomic.Int64 // time.Duration
	nextID    atomic.Uint64

	wmu sync.Mutex // gorilla allows one writer at a time

	mu      sync.Mutex
	waiting map[string]func(*Frame) // command id -> reply handler
	closed  bool

	done  chan struct{} // closed when the read loop has ended
	err   error         // why it ended; read after done
	cause error         // set by closeWith, under mu
	buf   bytes.Buffer  // read loop only
}

// Dial opens a websocket to url and starts reading it. resp is the
// handshake's response, also on failure when there was one.
func Dial(ctx context.Context, url string, opts Options) (c *Conn, resp *http.Response, err error) {
	d := opts.Dialer
	if d == nil {
		d = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: handshakeTimeout, TLSClientConfig: opts.TLS}
	}
	ws, resp, err := d.DialContext(ctx, url, opts.Header)
	if err != nil {
		return nil, resp, fmt.Errorf("dial %s: %w", url, err)
	}
	return Open(ws, opts), resp, nil
}

// Open takes over a websocket that is already open and starts reading it.
func Open(ws *websocket.Conn, opts Options) *Conn {
	c := &Conn{ws: ws, opts: opts, tracker: opts.Tracker, log: opts.Logger,
		waiting: map[string]func(*Frame){}, done: make(chan struct{})}
	if c.tracker == nil {
		c.tracker = NewTracker()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.opts.IDPrefix == "" {
		c.opts.IDPrefix = "c"
	}
	if c.opts.Timeout <= 0 {
		c.opts.Timeout = DefaultRequestTimeout
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	ws.SetReadLimit(limit)
	c.heartbeat.Store(int64(opts.Heartbeat))
	go c.readLoop()
	return c
}

// WS is the websocket underneath, for tests that need to misbehave.
func (c *Conn) WS() *websocket.Conn { return c.ws }

// Tracker is the connection's entry tracker.
func (c *Conn) Tracker() *Tracker { return c.tracker }

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is up).
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// SetHeartbeat sets the relay's ping interval, as the welcome names it.
func (c *Conn) SetHeartbeat(d time.Duration) { c.heartbeat.Store(int64(d)) }

// Close drops the socket without a goodbye; the read loop then ends.
func (c *Conn) Close() { _ = c.ws.Close() }

// closeWith drops the socket; Err will be cause.
func (c *Conn) closeWith(cause error) {
	c.mu.Lock()
	c.cause = cause
	c.mu.Unlock()
	_ = c.ws.Close()
}

// Leave says goodbye (close code 1000, reason) and drops the socket.
func (c *Conn) Leave(reason string) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason)
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

// NewID returns a command id unique on this connection.
func (c *Conn) NewID() string {
	return c.opts.IDPrefix + strconv.FormatUint(c.nextID.Add(1), 36)
}

// WriteFrame writes one prebuilt frame: the lean path of a sender that
// encodes its own commands. A failed write drops the connection, so that
// everything unanswered is settled by the reconnect.
func (c *Conn) WriteFrame(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		_ = c.ws.Close()
		return err
	}
	return nil
}

// Send writes a command without waiting for its reply (OnReply hears it).
func (c *Conn) Send(id, cmd string, data any) error {
	b, err := encodeCommand(id, cmd, data)
	if err != nil {
		return err
	}
	return c.WriteFrame(b)
}

func encodeCommand(id, cmd string, data any) ([]byte, error) {
	var raw json.RawMessage
	switch d := data.(type) {
	case nil:
	case json.RawMessage:
		raw = d
	default:
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return nil, fmt.Errorf("client: %s: %w", cmd, err)
		}
	}
	return json.Marshal(protocol.Command{ID: id, Cmd: cmd, Data: raw})
}

// expect registers a reply handler, called on the read loop; false if the
// connection is already gone.
func (c *Conn) expect(id string, h func(*Frame)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.waiting[id] = h
	return true
}

func (c *Conn) take(id string) func(*Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.waiting[id]
	delete(c.waiting, id)
	return h
}

// Call sends a command and waits for its reply, within ctx (bounded by
// Options.Timeout when ctx has no deadline). A refusal is a reply too: the
// error is for a reply that never came (ErrNotSent, ErrConnectionLost, or
// the context's).
func (c *Conn) Call(ctx context.Context, cmd string, data any) (protocol.ServerFrame, error) {
	return c.call(ctx, c.NewID(), cmd, data)
}

func (c *Conn) call(ctx context.Context, id, cmd string, data any) (protocol.ServerFrame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	b, err := encodeCommand(id, cmd, data)
	if err != nil {
		return protocol.ServerFrame{}, err
	}
	got := make(chan protocol.ServerFrame, 1)
	if !c.expect(id, func(f *Frame) { got <- f.ServerFrame() }) {
		return protocol.ServerFrame{}, ErrNotSent
	}
	if err := c.WriteFrame(b); err != nil {
		c.take(id)
		return protocol.ServerFrame{}, ErrNotSent
	}
	select {
	case f := <-got:
		return f, nil
	case <-c.done:
		select {
		case f := <-got: // the reply came just before the end
			return f, nil
		default:
			return protocol.ServerFrame{}, ErrConnectionLost
		}
	case <-ctx.Done():
		c.take(id)
		return protocol.ServerFrame{}, fmt.Errorf("client: %s: no reply: %w", cmd, ctx.Err())
	}
}

// Do sends a command and waits for its reply. A refusal is returned as a
// *protocol.Error (errors.As reads its Code); an accepted reply's data is
// decoded into out unless out is nil.
func (c *Conn) Do(ctx context.Context, cmd string, data, out any) error {
	f, err := c.Call(ctx, cmd, data)
	if err != nil {
		return err
	}
	return Result(cmd, f, out)
}

// Result reads a reply: its refusal as a *protocol.Error, or its data into
// out (unless out is nil).
func Result(cmd string, f protocol.ServerFrame, out any) error {
	if !f.OK {
		if f.Error == nil {
			return protocol.Errorf(protocol.CodeInternal, "%s refused without a reason", cmd)
		}
		return f.Error
	}
	if out != nil && len(f.Data) > 0 {
		if err := json.Unmarshal(f.Data, out); err != nil {
			return fmt.Errorf("client: %s: decode reply: %w", cmd, err)
		}
	}
	return nil
}

// extendDeadline: the relay pings every heartbeat; two missed pings mean
// the link is dead.
func (c *Conn) extendDeadline() {
	if hb := time.Duration(c.heartbeat.Load()); hb > 0 {
		_ = c.ws.SetReadDeadline(time.Now().Add(2*hb + heartbeatSlack))
	}
}

func (c *Conn) readLoop() {
	defer func() {
		c.mu.Lock()
		c.closed, c.waiting = true, nil
		c.mu.Unlock()
		_ = c.ws.Close()
		close(c.done)
	}()
	c.ws.SetPingHandler(func(data string) error {
		c.extendDeadline()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var ne net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil // as gorilla's default handler: a late pong is not fatal
		}
		return err
	})
	var f Frame
	for {
		if c.opts.BeforeRead != nil {
			c.opts.BeforeRead()
		}
		c.extendDeadline()
		b, err := c.readFrame()
		if err != nil {
			c.mu.Lock()
			if c.err = err; c.cause != nil {
				c.err = c.cause
			}
			c.mu.Unlock()
			return
		}
		if !scan(b, &f, c.tracker.intern) {
			c.log.Warn("relay sent a frame that is not JSON", "frame", truncate(b))
			continue
		}
		c.route(&f)
	}
}

// readFrame reads one message into the connection's buffer; the bytes are
// valid until the next call.
func (c *Conn) readFrame() ([]byte, error) {
	_, rd, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	if c.buf.Cap() > keepBuffer {
		c.buf = bytes.Buffer{}
	}
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	if c.opts.OnFrame != nil {
		c.opts.OnFrame(c.buf.Len())
	}
	return c.buf.Bytes(), nil
}

func (c *Conn) route(f *Frame) {
	f.conn = c
	if f.Ev != "" {
		if f.Ev == protocol.EvEntry && f.Session != "" {
			f.Track = c.tracker.Note(f.Session, f.Seq)
			if f.Track == Duplicate && c.opts.DropDuplicates {
				return
			}
		}
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(f)
		}
		return
	}
	if f.Re != "" {
		if h := c.take(f.Re); h != nil {
			h(f)
			return
		}
	}
	if c.opts.OnReply != nil {
		c.opts.OnReply(f)
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
