package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
	. "switchboard/backend/protocol/client"
)

// waitTimeout bounds every wait of a test; nothing here is a timing goal.
const waitTimeout = 10 * time.Second

// recorder keeps what the callbacks were told.
type recorder struct {
	mu     sync.Mutex
	states []StateChange
	events []protocol.ServerFrame
	outs   []Outgoing
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) poke() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) hook(cfg *Config) {
	cfg.OnState = func(s StateChange) { r.mu.Lock(); r.states = append(r.states, s); r.mu.Unlock(); r.poke() }
	cfg.OnEvent = func(f protocol.ServerFrame) { r.mu.Lock(); r.events = append(r.events, f); r.mu.Unlock(); r.poke() }
	cfg.OnOutbox = func(o Outgoing) { r.mu.Lock(); r.outs = append(r.outs, o); r.mu.Unlock(); r.poke() }
}

// waitFor waits until cond (called under r.mu) holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitState waits for a transition to st after the first `from` ones and
// returns it and its index.
func (r *recorder) waitState(t *testing.T, st State, from int) (StateChange, int) {
	t.Helper()
	var got StateChange
	idx := -1
	r.waitFor(t, "state "+string(st), func() bool {
		for i := from; i < len(r.states); i++ {
			if r.states[i].State == st {
				got, idx = r.states[i], i
				return true
			}
		}
		return false
	})
	return got, idx
}

func (r *recorder) nStates() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.states) }

// outcome waits until the message with this client id is acked or failed.
func (r *recorder) outcome(t *testing.T, id string) Outgoing {
	t.Helper()
	var got Outgoing
	r.waitFor(t, "outcome of "+id, func() bool {
		for _, o := range r.outs {
			if o.ClientID == id && o.State != Pending {
				got = o
				return true
			}
		}
		return false
	})
	return got
}

// entrySeqs lists the seqs of the entry events of a session, in order.
func (r *recorder) entrySeqs(session string) []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, f := range r.events {
		if f.Ev == protocol.EvEntry && f.Session == session {
			out = append(out, f.Seq)
		}
	}
	return out
}

func (r *recorder) waitSeq(t *testing.T, session string, seq uint64) {
	t.Helper()
	r.waitFor(t, "entries of "+session, func() bool {
		for _, f := range r.events {
			if f.Ev == protocol.EvEntry && f.Session == session && f.Seq >= seq {
				return true
			}
		}
		return false
	})
}

// testDialer dials for real through a net.Conn it can watch and cut.
type testDialer struct {
	mu      sync.Mutex
	blocked bool
	dials   int
	conns   []*tapConn
	last    string
	// cutNext: the next frame the client writes is the last of its
	// connection; the link then dies before any reply can be read.
	cutNext atomic.Bool
}

var errNetworkDown = errors.New("test: network down")

func (d *testDialer) dial(ctx context.Context, url string) (*websocket.Conn, error) {
	d.mu.Lock()
	d.dials++
	blocked := d.blocked
	d.mu.Unlock()
	if blocked {
		return nil, errNetworkDown
	}
	var tap *tapConn
	wd := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tap = &tapConn{Conn: nc, d: d}
		return tap, nil
	}}
	ws, _, err := wd.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, tap)
	d.last = url
	d.mu.Unlock()
	return ws, nil
}

// lastURL is the address of the newest connection.
func (d *testDialer) lastURL() string { d.mu.Lock(); defer d.mu.Unlock(); return d.last }

// block makes dials fail until unblock.
func (d *testDialer) block()   { d.mu.Lock(); d.blocked = true; d.mu.Unlock() }
func (d *testDialer) unblock() { d.mu.Lock(); d.blocked = false; d.mu.Unlock() }

func (d *testDialer) count() int { d.mu.Lock(); defer d.mu.Unlock(); return d.dials }

// drop kills the newest connection under the client's feet.
func (d *testDialer) drop() {
	d.mu.Lock()
	tap := d.conns[len(d.conns)-1]
	d.mu.Unlock()
	_ = tap.Conn.Close()
}

// received is everything the relay sent on connection i (relay frames are
// not masked, so their JSON can be searched).
func (d *testDialer) received(i int) []byte {
	d.mu.Lock()
	tap := d.conns[i]
	d.mu.Unlock()
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return bytes.Clone(tap.in)
}

func (d *testDialer) nConns() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.conns) }

type tapConn struct {
	net.Conn
	d    *testDialer
	dead atomic.Bool
	mu   sync.Mutex
	in   []byte
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.dead.Load() {
		return 0, net.ErrClosed // whatever came after the cut is lost
	}
	c.mu.Lock()
	c.in = append(c.in, p[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	if !c.d.cutNext.CompareAndSwap(true, false) {
		return c.Conn.Write(p)
	}
	c.dead.Store(true)
	n, err := c.Conn.Write(p)
	// Half-close: the relay reads the frame, then the end of the stream.
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = c.Conn.Close()
	}
	return n, err
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
