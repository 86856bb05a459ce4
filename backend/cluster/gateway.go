package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"switchboard/backend/relay"
)

// Gateway holds the websockets of clients that reached a node which does
// not lead, and tunnels them to the leader over NATS.
type Gateway struct {
	nc   *nats.Conn
	gate *relay.Gate
	id   string // this gateway's token in subjects
	log  *slog.Logger

	mu      sync.Mutex
	leader  leaderBeat
	heard   time.Time // the leader's last beat
	tunnels map[string]*tunnel
	subs    []*nats.Subscription
	next    atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
}

// tunnel is one client's websocket on this node.
type tunnel struct {
	g     *Gateway
	id    string
	term  int64 // of the desk it is attached to
	ws    *websocket.Conn
	out   chan message // to the client, in order
	inSeq uint64       // the read goroutine's count of messages sent
	inMu  sync.Mutex
	// outSeq is the last message from the leader (the gateway's callback
	// goroutine only).
	outSeq   uint64
	ended    chan struct{}
	endOnce  sync.Once
	subject  string
	maxFrame int64
}

// outQueue bounds what waits to be written to one client: a client that
// falls this far behind is cut off, as the relay cuts off a slow client.
const outQueue = 1024

// StartGateway starts tunnelling for this node: it listens for the leader's
// beat and for what the leader sends to this gateway's clients.
func StartGateway(nc *nats.Conn, gate *relay.Gate, log *slog.Logger) (*Gateway, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	g := &Gateway{nc: nc, gate: gate, id: hex.EncodeToString(b[:]), log: log,
		tunnels: map[string]*tunnel{}, stop: make(chan struct{}), done: make(chan struct{})}
	for subj, h := range map[string]nats.MsgHandler{
		leaderSubject():   g.leaderBeat,
		outWildcard(g.id): g.fromLeader,
	} {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			g.unsubscribe()
			return nil, err
		}
		_ = sub.SetPendingLimits(-1, 512<<20)
		g.subs = append(g.subs, sub)
	}
	if err := nc.Flush(); err != nil {
		g.unsubscribe()
		return nil, err
	}
	go g.loop()
	return g, nil
}

func (g *Gateway) unsubscribe() {
	for _, s := range g.subs {
		_ = s.Unsubscribe()
	}
}

// Stop closes every tunnel (the clients reconnect) and stops listening.
func (g *Gateway) Stop() {
	g.unsubscribe()
	close(g.stop)
	<-g.done
	g.dropAll(0, websocket.CloseGoingAway, "node shutting down")
}

// Leader is the leader this gateway hears, if it heard one lately.
func (g *Gateway) Leader() (node string, term int64, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.heard) > leaderSilence {
		return "", 0, false
	}
	return g.leader.Node, g.leader.Term, true
}

func (g *Gateway) leaderBeat(m *nats.Msg) {
	var b leaderBeat
	if json.Unmarshal(m.Data, &b) != nil {
		return
	}
	g.mu.Lock()
	old := g.leader.Term
	if b.Term >= old {
		g.leader, g.heard = b, time.Now()
	}
	g.mu.Unlock()
	if b.Term > old && old != 0 {
		// A new desk: the old one's clients must come to it.
		g.dropAll(b.Term, websocket.CloseGoingAway, "the desk moved to another node")
	}
}

// loop beats, and drops the tunnels when the leader has gone silent or
// this node's NATS connection stays down.
func (g *Gateway) loop() {
	defer close(g.done)
	tick := time.NewTicker(beatEvery)
	defer tick.Stop()
	var cutOff time.Time
	for {
		_ = g.nc.Publish(gatewaySubject(g.id), nil)
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
		switch {
		case g.nc.IsConnected():
			cutOff = time.Time{}
		case cutOff.IsZero():
			cutOff = time.Now()
		case time.Since(cutOff) > natsGrace:
			g.forgetLeader()
		}
		if _, _, ok := g.Leader(); !ok {
			g.dropAll(0, websocket.CloseGoingAway, "the desk is moving to another node")
		}
	}
}

// forgetLeader: this node cannot reach the leader any more.
func (g *Gateway) forgetLeader() {
	g.mu.Lock()
	g.heard = time.Time{}
	g.mu.Unlock()
}

// dropAll closes the tunnels of terms before keep (0: all).
func (g *Gateway) dropAll(keep int64, code int, reason string) {
	g.mu.Lock()
	var drop []*tunnel
	for _, t := range g.tunnels {
		if keep == 0 || t.term < keep {
			drop = append(drop, t)
		}
	}
	g.mu.Unlock()
	for _, t := range drop {
		t.end(code, reason, true)
	}
}

// ServeHTTP serves /ws: the client is admitted by the relay's rules, then
// attached to the leader's desk.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, term, ok := g.Leader()
	if !ok {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "no desk leader is reachable; try again", http.StatusServiceUnavailable)
		return
	}
	ws, ip, err := g.gate.Upgrade(w, r)
	if err != nil {
		return // answered
	}
	cfg := g.gate.Config()
	t := &tunnel{g: g, id: strconv.FormatUint(g.next.Add(1), 36), term: term, ws: ws,
		out: make(chan message, outQueue), ended: make(chan struct{}), maxFrame: cfg.MaxFrameBytes}
	t.subject = inSubject(term, g.id, t.id)
	g.mu.Lock()
	g.tunnels[t.id] = t
	g.mu.Unlock()
	req, _ := json.Marshal(openRequest{Gateway: g.id, Conn: t.id, IP: ip.String()})
	reply, err := g.nc.Request(openSubject(term), req, openTimeout)
	if err != nil || string(reply.Data) != "ok" {
		why := "no answer"
		if err == nil {
			why = string(reply.Data)
		}
		g.log.Warn("cluster: the leader did not take a client", "term", term, "why", why, "err", err)
		t.end(websocket.CloseTryAgainLater, "the desk is not reachable; try again", false)
		return
	}
	go t.writeLoop(cfg.WriteWait)
	go t.readLoop(cfg.PongWait)
}

// fromLeader routes the leader's messages to the tunnels, in order. NATS
// calls it on one goroutine.
func (g *Gateway) fromLeader(m *nats.Msg) {
	toks, ok := lastTokens(m.Subject, 1)
	if !ok {
		return
	}
	g.mu.Lock()
	t := g.tunnels[toks[0]]
	g.mu.Unlock()
	if t == nil {
		return
	}
	msg, err := parseMessage(m.Data)
	if err != nil || msg.seq != t.outSeq+1 {
		t.fail(fmt.Sprintf("message %d from the desk after %d", msg.seq, t.outSeq))
		return
	}
	t.outSeq = msg.seq
	select {
	case t.out <- msg:
	case <-t.ended:
	default:
		t.g.log.Warn("cluster: a client too slow to keep up is cut off", "conn", t.id)
		t.end(websocket.ClosePolicyViolation, "too slow: send queue full", true)
	}
}

// readLoop forwards the client's frames and pongs until its websocket ends.
func (t *tunnel) readLoop(pongWait time.Duration) {
	defer t.end(websocket.CloseNormalClosure, "", true)
	t.ws.SetPongHandler(func(string) error {
		_ = t.ws.SetReadDeadline(time.Now().Add(pongWait))
		return t.send(kindPong, nil)
	})
	_ = t.ws.SetReadDeadline(time.Now().Add(pongWait))
	for {
		mt, r, err := t.ws.NextReader()
		if err != nil {
			return
		}
		// The desk checks the size; one byte past the limit tells it.
		frame, err := io.ReadAll(io.LimitReader(r, t.maxFrame+1))
		if err != nil {
			return
		}
		kind := kindBinary
		if mt == websocket.TextMessage {
			kind = kindText
		}
		if t.send(kind, frame) != nil {
			return
		}
		_ = t.ws.SetReadDeadline(time.Now().Add(pongWait))
	}
}

// send forwards one message to the leader, numbered in order (the read
// loop and the pong handler, which runs inside it, and end).
func (t *tunnel) send(kind byte, body []byte) error {
	t.inMu.Lock()
	defer t.inMu.Unlock()
	t.inSeq++
	b := appendMessage(make([]byte, 0, len(body)+11), kind, t.inSeq)
	return t.g.nc.Publish(t.subject, append(b, body...))
}

// writeLoop writes what the leader sends, in order: the frames of every
// message waiting, in one write, as the relay's own writer does.
func (t *tunnel) writeLoop(writeWait time.Duration) {
	var frames [][]byte
	for {
		var m message
		select {
		case <-t.ended:
			return
		case m = <-t.out:
		}
		frames = frames[:0]
		for m.kind == kindFrames {
			more, err := splitFrames(m.body)
			if err != nil {
				t.fail("a malformed message from the desk")
				return
			}
			frames = append(frames, more...)
			select {
			case m = <-t.out:
				continue
			default:
				m = message{}
			}
		}
		deadline := time.Now().Add(writeWait)
		if len(frames) > 0 {
			if err := relay.WriteFrames(t.ws, frames, deadline); err != nil {
				t.end(websocket.CloseAbnormalClosure, "write failed", true)
				return
			}
			clear(frames)
		}
		switch m.kind {
		case kindPong:
			if err := t.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				t.end(websocket.CloseAbnormalClosure, "write failed", true)
				return
			}
		case kindGone:
			code, reason := parseClose(m.body)
			t.closeWS(code, reason, deadline)
			t.end(code, reason, false)
			return
		}
	}
}

// fail ends a tunnel that broke (a message lost or garbled on the way, a
// client too slow to keep up), saying so in the log: the client reconnects
// and resumes.
func (t *tunnel) fail(why string) {
	t.g.log.Warn("cluster: a client's tunnel broke", "conn", t.id, "term", t.term, "why", why)
	t.end(websocket.CloseGoingAway, "connection to the desk broken", true)
}

// end closes the tunnel once: the client gets code and reason, and the
// leader, when tell, hears that the client is gone.
func (t *tunnel) end(code int, reason string, tell bool) {
	t.endOnce.Do(func() {
		close(t.ended)
		t.g.mu.Lock()
		delete(t.g.tunnels, t.id)
		t.g.mu.Unlock()
		if tell {
			_ = t.send(kindGone, nil)
		}
		t.closeWS(code, reason, time.Now().Add(time.Second))
	})
}

func (t *tunnel) closeWS(code int, reason string, deadline time.Time) {
	if code != websocket.CloseAbnormalClosure {
		_ = t.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	}
	_ = t.ws.Close()
}
