package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
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

// reply is what a caller learns of its command's reply.
type reply struct {
	ok   bool
	code string
	data []byte
}

var errDown = errors.New("not connected")

// peer is one simulated client: a visitor, an agent or a supervisor, on a
// client.Conn. One goroutine (readLoop) watches it for the peer's whole
// life, reconnecting and resuming when the run allows it; the Conn's own
// goroutine reads it and calls onEvent and onReply.
type peer struct {
	run   *run
	role  role
	idx   int
	login string
	// url is the endpoint (with the chat in the query for the baseline); a
	// comma-separated list names the nodes of a cluster, tried in turn from
	// the last one that answered.
	url   string
	urlAt int // reader goroutine (or the caller before it starts) only
	// on is the address of the connection up now (or last up).
	on atomic.Pointer[string]
	// small asks for a tiny socket receive buffer (the slow-consumer test).
	small atomic.Bool

	mu   sync.Mutex // guards everything below
	conn *client.Conn

	token     string                  // agent token after the first login; a visitor's chat token
	agentID   int64                   // (written before the reader starts)
	chat      *chatState              // a visitor's chat
	transfers []protocol.TransferInfo // pending transfers in the last welcome (agents)
	outbox    map[uint64][]byte       // a visitor's messages not yet acknowledged
	slots     chan struct{}           // a visitor's messages in flight

	// tracker holds the last seq of every session, across connections.
	tracker *client.Tracker
	events  client.Handlers
	// Reader goroutine only: the chat of each session seen.
	chats map[string]*chatState

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
	p := &peer{run: r, role: ro, idx: idx, tracker: client.NewTracker(), chats: map[string]*chatState{},
		outbox: map[uint64][]byte{}, slots: make(chan struct{}, max(r.cfg.InFlight, 1)), resume: make(chan struct{}, 1)}
	p.events.Transfer = func(t protocol.TransferInfo) { r.onTransfer(p, t) }
	switch ro {
	case roleAgent:
		p.login = fmt.Sprintf("%sa%d", r.cfg.Prefix, idx+1)
	case roleSup:
		p.login = fmt.Sprintf("%ss%d", r.cfg.Prefix, idx+1)
	}
	p.url = r.url
	p.urlAt = idx // the peers of a role spread over a cluster's nodes
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

// counted adds one frame read, of n bytes, to the peer's tally.
func (p *peer) counted(n int) {
	p.rxFrames.Add(1)
	p.rxBytes.Add(int64(n))
}

// connect dials and says hello (the relay) and returns once the relay has
// answered; frames arriving meanwhile are handled as usual. Reader goroutine
// (or the caller before it starts).
func (p *peer) connect(ctx context.Context) error {
	urls := strings.Split(p.url, ",")
	var cn *client.Conn
	var url string
	var err error
	// A cluster's nodes in turn, from the last that answered: a standby or
	// a node that is down sends the peer on to the next.
	for range urls {
		url = urls[p.urlAt%len(urls)]
		var resp *http.Response
		cn, resp, err = client.Dial(ctx, url, client.Options{Dialer: p.dialer(), Tracker: p.tracker, IDPrefix: "x",
			Logger: quiet, OnEvent: p.onEvent, OnReply: p.onReply, BeforeRead: p.gate, OnFrame: p.counted})
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			break
		}
		p.urlAt++
	}
	if err != nil {
		return err
	}
	p.on.Store(&url)
	p.run.conns.Add(1)
	if !p.run.relay {
		p.setConn(cn)
		return nil
	}
	h := protocol.Hello{Client: "switchboard-loadgen"}
	p.mu.Lock()
	switch {
	case p.token != "":
		h.Token = p.token
	case p.role == roleVisitor:
		h.Channel = p.run.cfg.Channel
	default:
		h.Login, h.Password = p.login, p.run.cfg.Password
	}
	p.mu.Unlock()
	if p.role == roleVisitor {
		_, err = cn.HelloVisitor(ctx, h)
	} else {
		h.Role = protocol.RoleAgent
		var raw json.RawMessage
		if raw, err = cn.Hello(ctx, h); err == nil {
			p.onWelcome(raw)
		}
	}
	if err != nil {
		cn.Close()
		p.run.conns.Add(-1)
		var perr *protocol.Error
		if errors.As(err, &perr) {
			p.run.errs.add(string(perr.Code))
			return fmt.Errorf("hello refused: %s", perr.Code)
		}
		return fmt.Errorf("hello: %w", err)
	}
	p.setConn(cn)
	return nil
}

func (p *peer) setConn(cn *client.Conn) {
	p.mu.Lock()
	p.conn = cn
	p.mu.Unlock()
	p.upAt.Store(time.Now().UnixNano())
}

// onWelcome keeps what the run needs of an agent's welcome: it lists every
// agent, and decoding all of it on 1,000 logins would cost the setup more
// than the run.
func (p *peer) onWelcome(raw []byte) {
	var w struct {
		Token string `json:"token"`
		Agent struct {
			ID int64 `json:"id"`
		} `json:"agent"`
		Transfers []protocol.TransferInfo `json:"transfers"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.Token != "" {
		p.token = w.Token
	}
	p.agentID = w.Agent.ID
	p.transfers = w.Transfers
}

// gate holds the reading while the peer is paused (a client that hangs).
func (p *peer) gate() {
	if p.paused.Load() {
		select {
		case <-p.resume:
		case <-p.run.done:
		}
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
		cn := p.conn
		p.mu.Unlock()
		if cn != nil {
			<-cn.Done()
			p.lost(cn, cn.Err())
		}
		if p.run.stopping.Load() || !p.run.reconnect {
			return
		}
		if !p.reconnect() {
			return
		}
	}
}

// lost notes a dropped connection. Calls waiting on it have been told.
func (p *peer) lost(cn *client.Conn, err error) {
	p.mu.Lock()
	if p.conn == cn {
		p.conn = nil
	}
	p.mu.Unlock()
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

// write sends a prebuilt frame: the lean path of the senders.
func (p *peer) write(b []byte) error {
	p.mu.Lock()
	cn := p.conn
	p.mu.Unlock()
	if cn == nil {
		return errDown
	}
	return cn.WriteFrame(b)
}

// call sends a command and waits for its reply.
func (p *peer) call(cmd string, data any, timeout time.Duration) reply {
	p.mu.Lock()
	cn := p.conn
	p.mu.Unlock()
	if cn == nil {
		return reply{code: "write_failed"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f, err := cn.Call(ctx, cmd, data)
	switch {
	case errors.Is(err, client.ErrNotSent):
		return reply{code: "write_failed"}
	case errors.Is(err, context.DeadlineExceeded):
		p.run.errs.add("timeout")
		return reply{code: "timeout"}
	case err != nil:
		return reply{code: "closed"}
	case !f.OK:
		code := string(protocol.CodeInternal)
		if f.Error != nil {
			code = string(f.Error.Code)
		}
		p.run.errs.add(code)
		return reply{code: code}
	}
	return reply{ok: true, data: f.Data}
}

// onEvent handles an event. Reader goroutine.
func (p *peer) onEvent(f *client.Frame) {
	switch f.Ev {
	case protocol.EvEntry:
		p.onEntry(f)
	case protocol.EvTransfer:
		if p.role != roleVisitor {
			_ = p.events.Dispatch(f)
		}
	}
}

// onReply takes the replies nobody called for: a visitor's message acks,
// whose command id is the message number. Reader goroutine.
func (p *peer) onReply(f *client.Frame) {
	n, ok := msgNumber(f.Re)
	if p.role != roleVisitor || !ok {
		return
	}
	p.mu.Lock()
	frame, pending := p.outbox[n]
	if retry := pending && !f.OK && f.Error != nil && f.Error.Code == protocol.CodeUnavailable && p.run.reconnect; retry {
		// Not stored, and the relay says try again (it is stopping, or
		// cannot write): as the app's outbox does, send it again soon; a
		// reconnect sends it anyway.
		p.mu.Unlock()
		p.run.errs.add(string(protocol.CodeUnavailable))
		time.AfterFunc(100*time.Millisecond, func() {
			p.mu.Lock()
			_, still := p.outbox[n]
			p.mu.Unlock()
			if still && p.write(frame) == nil {
				p.run.resent.Add(1)
			}
		})
		return
	}
	delete(p.outbox, n)
	p.mu.Unlock()
	if pending {
		<-p.slots
	}
	if !f.OK {
		code := string(protocol.CodeInternal)
		if f.Error != nil {
			code = string(f.Error.Code)
		}
		p.run.errs.add(code)
		return
	}
	seq := ackSeq(f.Data)
	if c := p.chat; c != nil && !c.acked.set(n) {
		c.nAcked.Add(1)
		p.run.acked.Add(1)
		if p.run.reconnect {
			c.ackSeq[n] = seq // for the database check of the fault tests
		}
		if h := p.run.ackHook.Load(); h != nil {
			(*h)(c, n, seq)
		}
	}
}

func (p *peer) onEntry(f *client.Frame) {
	r := p.run
	switch {
	case f.Track == client.Duplicate:
		r.dupSeq.Add(1)
		return
	case f.Track == client.Gap && p.role != roleVisitor:
		// Agents get every entry; visitors skip staff-only notes.
		r.gaps.Add(1)
	}
	c := p.chats[f.Session]
	if c == nil {
		// The session may be in the run's table only after its first entries.
		if p.role == roleVisitor {
			c = p.chat
		} else {
			c = r.chatOf(f.Session)
		}
		if c != nil {
			p.chats[f.Session] = c
		}
	}
	msg, sentAt := messageIn(f.Data)
	if msg == 0 || c == nil {
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
	if c.got[slot].set(msg) {
		r.dupMsg.Add(1)
		return
	}
	c.nGot[slot].Add(1)
	if slot != slotVisitor && r.measuring.Load() {
		r.delivered.Add(1)
		if !sentAt.IsZero() {
			d := time.Since(sentAt)
			r.lat.record(d)
			r.slow.note(sentAt, d)
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
	cn := p.conn
	p.mu.Unlock()
	if cn != nil {
		cn.Close()
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

// startChat starts a visitor's chat; its token resumes it after a drop.
func (p *peer) startChat(start protocol.ChatStart) (client.Chat, error) {
	p.mu.Lock()
	cn := p.conn
	p.mu.Unlock()
	if cn == nil {
		return client.Chat{}, errDown
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ch, err := cn.StartChat(ctx, start)
	var perr *protocol.Error
	if errors.As(err, &perr) {
		p.run.errs.add(string(perr.Code))
	}
	if err == nil {
		p.mu.Lock()
		p.token = ch.Token
		p.mu.Unlock()
	}
	return ch, err
}

// quiet is the connections' logger: the run counts what goes wrong.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
