package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
)

type role int

const (
	roleVisitor role = iota
	roleAgent
	roleSup // a supervisor listening to chats
)

func (r role) String() string { return [...]string{"visitor", "agent", "supervisor"}[r] }

// Receiver slots of a chat: who must get every message exactly once.
const (
	slotAgent   = 0 // the agent who picked the chat (later a listener if it was transferred)
	slotSup     = 1 // the supervisor listening to it
	slotVisitor = 2 // the visitor's own copy (the relay echoes a visitor's messages)
)

// chat is one visitor's session and who takes part in it.
type chatState struct {
	idx     int
	session string
	vtoken  string
	visitor *peer
	agent   *peer // picked it; keeps receiving as owner or listener
	sup     *peer

	mu      sync.Mutex
	owner   *peer // changes when a transfer is accepted
	busy    bool  // a transfer is pending (or being started)
	offerAt time.Time

	// Written by one reader goroutine each; read after the readers stopped.
	acked  bitset
	ackSeq map[uint64]uint64 // the seq each ack named (fault tests only)
	got    [3]bitset
	// Counters the run polls while readers are live.
	nAcked atomic.Int64
	nGot   [3]atomic.Int64
}

// track is a peer's view of one session's log.
type track struct {
	chat *chatState
	last uint64
}

// reply is a copy of a reply frame for whoever waits for it.
type reply struct {
	ok   bool
	code string
	raw  []byte
}

var errDown = errors.New("not connected")

// peer is one simulated client: a visitor, an agent or a supervisor. One
// goroutine (readLoop) reads its socket for its whole life, reconnecting and
// resuming when the run allows it; others write through write().
type peer struct {
	run   *run
	role  role
	idx   int
	login string
	// url is the endpoint (with the chat in the query for the baseline).
	url string
	// small asks for a tiny socket receive buffer (the slow-consumer test).
	small atomic.Bool

	wmu sync.Mutex // serialises writes
	mu  sync.Mutex // guards everything below
	ws  *websocket.Conn

	token     string // agent token after the first login; a visitor's chat token
	agentID   int64
	chat      *chatState              // a visitor's chat
	transfers []protocol.TransferInfo // pending transfers in the last welcome (agents)
	nextID    int
	waiters   map[string]chan reply
	outbox    map[uint64][]byte // a visitor's messages not yet acknowledged
	slots     chan struct{}     // a visitor's messages in flight

	// Reader goroutine only.
	tracks map[string]*track
	buf    bytes.Buffer

	next     uint64 // sender goroutine only: the last message number used
	paused   atomic.Bool
	resume   chan struct{}
	upAt     atomic.Int64 // unix nanos of the last successful hello
	downAt   atomic.Int64 // unix nanos of the last lost connection
	closes   codes        // close codes the relay sent
	rxFrames atomic.Int64 // frames read, and their bytes (the desk-scale storm)
	rxBytes  atomic.Int64
	readerWG sync.WaitGroup
}

func (r *run) newPeer(ro role, idx int) *peer {
	p := &peer{run: r, role: ro, idx: idx, waiters: map[string]chan reply{}, tracks: map[string]*track{},
		outbox: map[uint64][]byte{}, slots: make(chan struct{}, max(r.cfg.InFlight, 1)), resume: make(chan struct{}, 1)}
	switch ro {
	case roleAgent:
		p.login = fmt.Sprintf("%sa%d", r.cfg.Prefix, idx+1)
	case roleSup:
		p.login = fmt.Sprintf("%ss%d", r.cfg.Prefix, idx+1)
	}
	p.url = r.url
	return p
}

func (p *peer) dialer() *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}
	if p.small.Load() {
		nd := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		d.NetDialContext = nd.DialContext
	}
	return d
}

// readFrame reads one message into p.buf; the slice is valid until the next call.
func (p *peer) readFrame(ws *websocket.Conn) ([]byte, error) {
	_, rd, err := ws.NextReader()
	if err != nil {
		return nil, err
	}
	p.buf.Reset()
	if _, err := p.buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	p.rxFrames.Add(1)
	p.rxBytes.Add(int64(p.buf.Len()))
	return p.buf.Bytes(), nil
}

// connect dials and says hello (the relay) and returns once the relay has
// answered; frames arriving meanwhile are handled as usual. Reader goroutine
// (or the caller before it starts).
func (p *peer) connect(ctx context.Context) error {
	ws, resp, err := p.dialer().DialContext(ctx, p.url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	p.run.conns.Add(1)
	fail := func(err error) error {
		ws.Close()
		p.run.conns.Add(-1)
		return err
	}
	if !p.run.relay {
		p.setConn(ws)
		return nil
	}
	h := protocol.Hello{V: protocol.Version, Client: "switchboard-loadgen"}
	p.mu.Lock()
	switch p.role {
	case roleVisitor:
		h.Role = protocol.RoleVisitor
		if p.token != "" {
			h.Token = p.token
		} else {
			h.Channel = p.run.cfg.Channel
		}
	default:
		h.Role = protocol.RoleAgent
		if p.token != "" {
			h.Token = p.token
		} else {
			h.Login, h.Password = p.login, p.run.cfg.Password
		}
	}
	p.mu.Unlock()
	if h.Token != "" {
		h.Resume = map[string]uint64{}
		for sid, t := range p.tracks {
			if p.role != roleVisitor || (p.chat != nil && sid == p.chat.session) {
				h.Resume[sid] = t.last
			}
		}
		if p.role == roleVisitor && p.chat != nil {
			if _, ok := h.Resume[p.chat.session]; !ok {
				h.Resume[p.chat.session] = 0
			}
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetWriteDeadline(dl)
		_ = ws.SetReadDeadline(dl)
	}
	if err := ws.WriteMessage(websocket.TextMessage, command("hello", protocol.CmdHello, h)); err != nil {
		return fail(fmt.Errorf("hello: %w", err))
	}
	for {
		b, err := p.readFrame(ws)
		if err != nil {
			return fail(fmt.Errorf("hello: %w", err))
		}
		f := parseFrame(b)
		if f.kind != fkReply || string(f.re) != "hello" {
			p.handle(f)
			continue
		}
		if !f.ok {
			sf := slowFrame(b)
			p.run.errs.add(sf.code)
			return fail(fmt.Errorf("hello refused: %s", sf.code))
		}
		p.onWelcome(b)
		break
	}
	_ = ws.SetWriteDeadline(time.Time{})
	_ = ws.SetReadDeadline(time.Time{})
	p.setConn(ws)
	return nil
}

func (p *peer) setConn(ws *websocket.Conn) {
	p.wmu.Lock()
	p.mu.Lock()
	p.ws = ws
	p.mu.Unlock()
	p.wmu.Unlock()
	p.upAt.Store(time.Now().UnixNano())
}

func (p *peer) onWelcome(b []byte) {
	var sf protocol.ServerFrame
	if json.Unmarshal(b, &sf) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.role == roleVisitor {
		return
	}
	// An agent's welcome lists every agent: keep only what the run needs.
	var w struct {
		Token string `json:"token"`
		Agent struct {
			ID int64 `json:"id"`
		} `json:"agent"`
		Transfers []protocol.TransferInfo `json:"transfers"`
	}
	if json.Unmarshal(sf.Data, &w) == nil {
		if w.Token != "" {
			p.token = w.Token
		}
		p.agentID = w.Agent.ID
		p.transfers = w.Transfers
	}
	if p.buf.Cap() > 64<<10 {
		p.buf = bytes.Buffer{}
	}
}

// start runs the reader goroutine.
func (p *peer) start() {
	p.readerWG.Add(1)
	go p.readLoop()
}

func (p *peer) readLoop() {
	defer p.readerWG.Done()
	for {
		p.mu.Lock()
		ws := p.ws
		p.mu.Unlock()
		if ws != nil {
			for {
				if p.paused.Load() {
					select {
					case <-p.resume:
					case <-p.run.done:
					}
				}
				b, err := p.readFrame(ws)
				if err != nil {
					p.lost(ws, err)
					break
				}
				p.handle(parseFrame(b))
			}
		}
		if p.run.stopping.Load() || !p.run.reconnect {
			return
		}
		if !p.reconnect() {
			return
		}
	}
}

// lost notes a dropped connection.
func (p *peer) lost(ws *websocket.Conn, err error) {
	p.wmu.Lock()
	p.mu.Lock()
	if p.ws == ws {
		p.ws = nil
	}
	p.mu.Unlock()
	p.wmu.Unlock()
	ws.Close()
	p.run.conns.Add(-1)
	p.downAt.Store(time.Now().UnixNano())
	why := "eof"
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		why = strconv.Itoa(ce.Code)
	}
	if !p.run.stopping.Load() {
		p.closes.add(why)
		p.run.errs.add(p.role.String() + "_closed_" + why)
	}
	// Whoever waits for a reply on this connection gets none.
	p.mu.Lock()
	for id, ch := range p.waiters {
		ch <- reply{code: "closed"}
		delete(p.waiters, id)
	}
	p.mu.Unlock()
}

// reconnect retries with jittered backoff until hello succeeds (true) or the
// run stops or gives up (false); then it resends the outbox.
func (p *peer) reconnect() bool {
	deadline := time.Now().Add(p.run.cfg.ReconnectFor)
	backoff := 20 * time.Millisecond
	for time.Now().Before(deadline) {
		if p.run.stopping.Load() {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.connect(ctx)
		cancel()
		if err == nil {
			p.resend()
			return true
		}
		p.run.errs.add("retry: " + retryReason(err))
		if strings.Contains(err.Error(), "hello refused") && !strings.Contains(err.Error(), string(protocol.CodeUnavailable)) &&
			!strings.Contains(err.Error(), string(protocol.CodeInternal)) {
			p.run.errs.add("resume_refused")
			return false
		}
		select {
		case <-p.run.done:
			return false
		case <-time.After(backoff/2 + time.Duration(rand.Int64N(int64(backoff)))):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
	p.run.errs.add("reconnect_gave_up")
	return false
}

// resend writes every unacknowledged message again, with its client id: the
// relay stores it at most once.
func (p *peer) resend() {
	p.mu.Lock()
	ns := make([]uint64, 0, len(p.outbox))
	for n := range p.outbox {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	frames := make([][]byte, len(ns))
	for i, n := range ns {
		frames[i] = p.outbox[n]
	}
	p.mu.Unlock()
	for _, f := range frames {
		if p.write(f) != nil {
			return
		}
		p.run.resent.Add(1)
	}
}

func (p *peer) write(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.mu.Lock()
	ws := p.ws
	p.mu.Unlock()
	if ws == nil {
		return errDown
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, b)
}

// call sends a command and waits for its reply.
func (p *peer) call(cmd string, data any, timeout time.Duration) reply {
	p.mu.Lock()
	p.nextID++
	id := "x" + strconv.Itoa(p.nextID)
	ch := make(chan reply, 1)
	p.waiters[id] = ch
	p.mu.Unlock()
	if err := p.write(command(id, cmd, data)); err != nil {
		p.mu.Lock()
		delete(p.waiters, id)
		p.mu.Unlock()
		return reply{code: "write_failed"}
	}
	select {
	case r := <-ch:
		if !r.ok && r.code != "" {
			p.run.errs.add(r.code)
		}
		return r
	case <-time.After(timeout):
		p.mu.Lock()
		delete(p.waiters, id)
		p.mu.Unlock()
		p.run.errs.add("timeout")
		return reply{code: "timeout"}
	}
}

// handle processes one frame. Reader goroutine.
func (p *peer) handle(f frame) {
	switch f.kind {
	case fkReply:
		p.onReply(f)
	case fkEntry:
		p.onEntry(f)
	case fkTransfer:
		if p.role != roleVisitor {
			p.run.onTransfer(p, f.raw)
		}
	}
}

func (p *peer) onReply(f frame) {
	if p.role == roleVisitor && len(f.re) > 0 && f.re[0] >= '0' && f.re[0] <= '9' {
		n, _ := leadingUint(f.re)
		code := f.code
		if !f.ok && code == "" {
			code = slowFrame(f.raw).code
		}
		p.mu.Lock()
		_, pending := p.outbox[n]
		delete(p.outbox, n)
		p.mu.Unlock()
		if pending {
			<-p.slots
		}
		if !f.ok {
			p.run.errs.add(code)
			return
		}
		if c := p.chat; c != nil && !c.acked.set(n) {
			c.nAcked.Add(1)
			p.run.acked.Add(1)
			if p.run.reconnect {
				c.ackSeq[n] = f.seq // for the database check of the fault tests
			}
			if h := p.run.ackHook.Load(); h != nil {
				(*h)(c, n, f.seq)
			}
		}
		return
	}
	r := reply{ok: f.ok, code: f.code, raw: append([]byte(nil), f.raw...)}
	if !f.ok && r.code == "" {
		r.code = slowFrame(f.raw).code
	}
	p.mu.Lock()
	ch := p.waiters[string(f.re)]
	delete(p.waiters, string(f.re))
	p.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

func (p *peer) onEntry(f frame) {
	r := p.run
	t := p.tracks[string(f.session)]
	if t == nil {
		t = &track{}
		p.tracks[string(f.session)] = t
	}
	if t.chat == nil {
		// The session may be in the run's table only after its first entries.
		if p.role == roleVisitor {
			t.chat = p.chat
		} else {
			t.chat = r.chatOf(string(f.session))
		}
	}
	switch {
	case f.seq <= t.last:
		r.dupSeq.Add(1)
		return
	case f.seq != t.last+1 && p.role != roleVisitor:
		// Agents get every entry; visitors skip staff-only notes.
		r.gaps.Add(1)
	}
	t.last = f.seq
	c := t.chat
	if f.msg == 0 || c == nil {
		return
	}
	slot := -1
	switch {
	case p.role == roleVisitor:
		slot = slotVisitor
	case c.agent == p:
		slot = slotAgent
	case c.sup == p:
		slot = slotSup
	}
	if slot < 0 {
		return
	}
	if c.got[slot].set(f.msg) {
		r.dupMsg.Add(1)
		return
	}
	c.nGot[slot].Add(1)
	if slot != slotVisitor && r.measuring.Load() {
		r.delivered.Add(1)
		if !f.sentAt.IsZero() {
			r.lat.record(time.Since(f.sentAt))
		}
	}
}

// pause stops reading (a client that hangs); unpause resumes.
func (p *peer) pause() { p.paused.Store(true) }
func (p *peer) unpause() {
	p.paused.Store(false)
	select {
	case p.resume <- struct{}{}:
	default:
	}
}

// closeConn drops the connection (the reader reconnects if the run allows).
func (p *peer) closeConn() {
	p.mu.Lock()
	ws := p.ws
	p.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
}

// discard drains r; used for the idle connections' readers.
func discard(ws *websocket.Conn) {
	for {
		_, rd, err := ws.NextReader()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, rd)
	}
}

// retryReason names a failed reconnect attempt for the error counts.
func retryReason(err error) string {
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "timeout", "bad handshake", "EOF", "hello refused"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	if len(msg) > 40 {
		msg = msg[:40]
	}
	return msg
}
