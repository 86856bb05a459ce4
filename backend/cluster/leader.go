package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"switchboard/backend/relay"
)

// Timing of the tunnels. A gateway that has not heard the leader for
// leaderSilence drops its tunnels (the clients reconnect and find the next
// leader); a leader that has not heard a gateway for gatewaySilence drops
// the clients it held. A new leader's beat ends the old term's tunnels at
// once: the silences matter only when no node leads, and are long enough
// that a node starved of CPU for a moment (thousands of sign-ins at once on
// two cores) is not taken for dead.
const (
	beatEvery      = 250 * time.Millisecond
	leaderSilence  = 3 * time.Second
	gatewaySilence = 6 * time.Second
	openTimeout    = 3 * time.Second
	// natsGrace is how long a node's own NATS connection may be down before
	// it gives up what needs NATS: a leader steps down, a gateway closes
	// its clients (a lost connection is a plain signal, unlike silence).
	natsGrace = 1500 * time.Millisecond
)

// Attacher is the desk's side of a tunnel: relay.Server.Attach.
type Attacher interface {
	Attach(w relay.Wire, ip netip.Addr) bool
}

// serveTunnels makes the desk of term reachable through the gateways: it
// answers open requests, routes their frames to the wires, beats, and
// forgets gateways that went silent. Stop ends it and every tunnel.
type serveTunnels struct {
	nc   *nats.Conn
	desk Attacher
	term int64
	node string
	log  *slog.Logger

	mu       sync.Mutex
	wires    map[string]*natsWire // by gateway + "." + conn
	gateways map[string]time.Time // last beat of each gateway
	subs     []*nats.Subscription
	stop     chan struct{}
	done     chan struct{}
}

func startTunnels(nc *nats.Conn, desk Attacher, term int64, node string, log *slog.Logger) (*serveTunnels, error) {
	t := &serveTunnels{nc: nc, desk: desk, term: term, node: node, log: log,
		wires: map[string]*natsWire{}, gateways: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for subj, h := range map[string]nats.MsgHandler{
		openSubject(term): t.open,
		inWildcard(term):  t.in,
		gatewayWildcard(): t.gatewayBeat,
	} {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			t.unsubscribe()
			return nil, err
		}
		// A busy desk must not lose client frames to NATS' default limits.
		_ = sub.SetPendingLimits(-1, 512<<20)
		t.subs = append(t.subs, sub)
	}
	if err := nc.Flush(); err != nil {
		t.unsubscribe()
		return nil, err
	}
	go t.loop()
	return t, nil
}

func (t *serveTunnels) unsubscribe() {
	for _, s := range t.subs {
		_ = s.Unsubscribe()
	}
}

// loop beats and forgets silent gateways.
func (t *serveTunnels) loop() {
	defer close(t.done)
	beat, _ := json.Marshal(leaderBeat{Term: t.term, Node: t.node})
	tick := time.NewTicker(beatEvery)
	defer tick.Stop()
	for {
		_ = t.nc.Publish(leaderSubject(), beat)
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		var dead []*natsWire
		t.mu.Lock()
		for gw, seen := range t.gateways {
			if now.Sub(seen) > gatewaySilence {
				delete(t.gateways, gw)
				for _, w := range t.wires {
					if w.gw == gw {
						dead = append(dead, w)
					}
				}
			}
		}
		t.mu.Unlock()
		for _, w := range dead {
			w.lost()
		}
	}
}

// Stop ends the tunnels: the clients they carried are gone for this desk.
func (t *serveTunnels) Stop() {
	t.unsubscribe()
	close(t.stop)
	<-t.done
	t.mu.Lock()
	all := make([]*natsWire, 0, len(t.wires))
	for _, w := range t.wires {
		all = append(all, w)
	}
	t.mu.Unlock()
	for _, w := range all {
		w.lost()
	}
}

func (t *serveTunnels) gatewayBeat(m *nats.Msg) {
	toks, ok := lastTokens(m.Subject, 1)
	if !ok {
		return
	}
	t.mu.Lock()
	t.gateways[toks[0]] = time.Now()
	t.mu.Unlock()
}

func (t *serveTunnels) open(m *nats.Msg) {
	var req openRequest
	if json.Unmarshal(m.Data, &req) != nil || req.Gateway == "" || req.Conn == "" {
		_ = m.Respond([]byte("malformed open request"))
		return
	}
	ip, _ := netip.ParseAddr(req.IP) // none: the zero address, limited as one
	w := &natsWire{t: t, gw: req.Gateway, conn: req.Conn, out: outSubject(req.Gateway, req.Conn),
		in: make(chan message, 64), gone: make(chan struct{}), kick: make(chan struct{}, 1)}
	key := req.Gateway + "." + req.Conn
	t.mu.Lock()
	if _, dup := t.wires[key]; dup {
		t.mu.Unlock()
		_ = m.Respond([]byte("connection id in use"))
		return
	}
	t.wires[key] = w
	t.gateways[req.Gateway] = time.Now()
	t.mu.Unlock()
	// Answer first: the gateway starts forwarding once it hears "ok", and
	// frames the desk sends meanwhile are numbered from 1 in order anyway.
	_ = m.Respond([]byte("ok"))
	t.desk.Attach(w, ip)
}

// in routes a gateway's message to its wire. NATS calls it on one
// goroutine, in order.
func (t *serveTunnels) in(m *nats.Msg) {
	toks, ok := lastTokens(m.Subject, 2)
	if !ok {
		return
	}
	t.mu.Lock()
	w := t.wires[toks[0]+"."+toks[1]]
	t.mu.Unlock()
	if w == nil {
		return // ended here already
	}
	msg, err := parseMessage(m.Data)
	if err != nil || msg.seq != w.inSeq+1 {
		// A message was lost (or garbled) on the way: the client's stream is
		// broken. It reconnects and resumes.
		t.log.Warn("cluster: a client's tunnel broke", "gateway", w.gw, "conn", w.conn, "why",
			fmt.Sprintf("message %d from the gateway after %d", msg.seq, w.inSeq))
		w.lost()
		return
	}
	w.inSeq = msg.seq
	switch msg.kind {
	case kindPong:
		if f := w.pongFunc(); f != nil {
			f()
		}
	case kindGone:
		w.lost()
	case kindText, kindBinary:
		// The data outlives the callback: NATS does not reuse it.
		select {
		case w.in <- msg:
		case <-w.gone:
		default:
			// The desk reads a client's frames as fast as its rate limit
			// lets it; a client this far ahead is flooding.
			t.log.Warn("cluster: a client sending too fast is cut off", "gateway", w.gw, "conn", w.conn)
			w.Close(websocket.ClosePolicyViolation, "too many frames", time.Now())
		}
	}
}

func (t *serveTunnels) forget(w *natsWire) {
	t.mu.Lock()
	if t.wires[w.gw+"."+w.conn] == w {
		delete(t.wires, w.gw+"."+w.conn)
	}
	t.mu.Unlock()
}

// natsWire is a client whose websocket a gateway holds, as the desk sees it.
type natsWire struct {
	t        *serveTunnels
	gw, conn string
	out      string
	in       chan message
	gone     chan struct{}
	goneOnce sync.Once
	kick     chan struct{} // the read deadline moved
	inSeq    uint64        // the tunnel's in callback only

	mu       sync.Mutex
	deadline time.Time
	onPong   func()
	outSeq   uint64
	buf      []byte
}

var _ relay.Wire = (*natsWire)(nil)

// timeoutError is the read deadline passing, as net.Conn reports it.
type timeoutError struct{}

func (timeoutError) Error() string   { return "cluster: read deadline passed" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (w *natsWire) ReadFrame(limit int64) (bool, []byte, error) {
	for {
		w.mu.Lock()
		dl := w.deadline
		w.mu.Unlock()
		var timer *time.Timer
		var expire <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return false, nil, timeoutError{}
			}
			timer = time.NewTimer(d)
			expire = timer.C
		}
		text, frame, err, again := w.wait(expire, limit)
		if timer != nil {
			timer.Stop()
		}
		if !again {
			return text, frame, err
		}
	}
}

// wait waits for a frame, the end, the deadline, or a new deadline (again).
func (w *natsWire) wait(expire <-chan time.Time, limit int64) (text bool, frame []byte, err error, again bool) {
	select {
	case m := <-w.in:
		if int64(len(m.body)) > limit {
			return m.kind == kindText, m.body[:limit+1], relay.ErrFrameTooLarge, false
		}
		return m.kind == kindText, m.body, nil, false
	case <-w.gone:
		return false, nil, io.EOF, false
	case <-expire:
		return false, nil, timeoutError{}, false
	case <-w.kick:
		return false, nil, nil, true
	}
}

func (w *natsWire) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	w.deadline = t
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return nil
}

func (w *natsWire) OnPong(f func()) {
	w.mu.Lock()
	w.onPong = f
	w.mu.Unlock()
}

func (w *natsWire) pongFunc() func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.onPong
}

// errGone: the client's tunnel has ended.
var errGone = errors.New("cluster: the client's tunnel has ended")

// send publishes one message to the gateway, numbered in order.
func (w *natsWire) send(kind byte, body func([]byte) []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.gone:
		return errGone
	default:
	}
	w.outSeq++
	b := appendMessage(w.buf[:0], kind, w.outSeq)
	if body != nil {
		b = body(b)
	}
	err := w.t.nc.Publish(w.out, b) // copies b into its buffer
	if cap(b) <= 64<<10 {
		w.buf = b[:0]
	}
	return err
}

func (w *natsWire) WriteFrames(frames [][]byte, _ time.Time) error {
	return w.send(kindFrames, func(b []byte) []byte { return appendFrames(b, frames) })
}

func (w *natsWire) Ping(time.Time) error { return w.send(kindPong, nil) }

func (w *natsWire) Close(code int, reason string, _ time.Time) {
	_ = w.send(kindGone, func(b []byte) []byte { return appendClose(b, code, reason) })
	w.lost()
}

// lost ends the wire here: a reader waiting for a frame gets EOF.
func (w *natsWire) lost() {
	w.goneOnce.Do(func() {
		close(w.gone)
		w.t.forget(w)
	})
}
