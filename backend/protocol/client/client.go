package client

// Client keeps an agent connected: it dials, says hello (password once, then
// the token the relay issued), resumes every session from the last seq it
// holds, reconnects with jittered exponential backoff, correlates commands
// with their replies, and sends chat messages through an outbox that
// survives disconnects without ever storing a message twice.
//
// Callbacks (OnState, OnEvent, OnOutbox) run one at a time on a single
// goroutine, in the order things happened, so they may call Do; they should
// not block for long, or later notifications wait behind them.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
)

// Timings. The backoff defaults follow "full jitter": the delay before retry
// n is uniform in [0, min(max, initial·2ⁿ)], so a relay restart is not met by
// every desk at the same instant.
const (
	DefaultBackoffInitial = 250 * time.Millisecond
	DefaultBackoffMax     = 15 * time.Second

	// goingAwayDelay bounds the jittered pause after a close 1001: the relay
	// is restarting on purpose and will be back at once.
	goingAwayDelay = 500 * time.Millisecond
	// stableAfter: a connection that lived this long resets the backoff; one
	// that dropped sooner keeps it growing, so a relay that accepts and then
	// cuts us off is not hammered.
	stableAfter = 10 * time.Second
	// helloTimeout bounds the hello.
	helloTimeout = 10 * time.Second
	// defaultHeartbeat is assumed until the welcome names the relay's ping
	// interval; silence for two intervals (plus slack) means a dead link.
	defaultHeartbeat = 20 * time.Second
	// sendRetryDelay: a message refused for a passing reason (rate limit,
	// relay restarting, internal fault) is tried again after this.
	sendRetryDelay = time.Second
)

// State is where the connection stands.
type State string

const (
	Offline      State = "offline"      // not running (before Start/Run, after Close)
	Connecting   State = "connecting"   // dialing and saying hello
	Connected    State = "connected"    // hello accepted; commands flow
	Reconnecting State = "reconnecting" // waiting until NextAttempt
	AuthFailed   State = "auth_failed"  // the relay refused the credentials; no retry
)

// StateChange is one transition, as passed to OnState.
type StateChange struct {
	State       State
	Attempt     int       // consecutive failed attempts so far
	NextAttempt time.Time // Reconnecting: when the next dial starts
	Err         error     // why the last connection ended or failed, if it did
	// Welcome is the relay's answer to the hello (Connected only).
	Welcome *protocol.AgentWelcome
}

// DialFunc opens a websocket to url. Tests replace it.
type DialFunc func(ctx context.Context, url string) (*websocket.Conn, error)

// Config is what a Client needs.
type Config struct {
	// URL is the relay: ws:// or wss://…/ws. Several, separated by commas,
	// are the nodes of a cluster: the client dials them in turn, from the
	// last one that answered, and moves on when one fails.
	URL      string
	Login    string
	Password string
	Token    string // used instead of Login/Password when set
	Client   string // free text sent in hello: app name and version

	TLS  *tls.Config // for wss; nil = system roots
	Dial DialFunc    // nil = gorilla's dialer with TLS

	BackoffInitial time.Duration // 0 = DefaultBackoffInitial
	BackoffMax     time.Duration // 0 = DefaultBackoffMax
	RequestTimeout time.Duration // Do's bound when ctx has none; 0 = DefaultRequestTimeout

	Logger *slog.Logger // nil = slog.Default()

	OnState  func(StateChange)
	OnEvent  func(protocol.ServerFrame) // every event, entries deduplicated, in order
	OnOutbox func(Outgoing)             // every change of an outbox message
}

// Errors.
var (
	// ErrOffline: the client is not running (or was closed).
	ErrOffline = errors.New("client: not connected and not trying to")
	// ErrRunning: Run or Start was called while already running.
	ErrRunning = errors.New("client: already running")
	// ErrRevoked: the relay ended this sign-in (close code
	// protocol.CloseRevoked): the password was changed, the account
	// disabled, or the window that handed the sign-in over logged out. The
	// token is worthless and the client stops: sign in again.
	ErrRevoked = errors.New("client: signed out: the sign-in was revoked (password changed or account disabled)")
	// ErrLoggedOut: the relay closed the connection after a logout (close
	// code protocol.CloseLoggedOut); the client stops.
	ErrLoggedOut = errors.New("client: signed out: logged out")
)

// signedOut maps the relay's sign-out close codes to their errors, or nil.
// A sign-out is final: reconnecting with the token could only be refused.
func signedOut(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return nil
	}
	switch ce.Code {
	case protocol.CloseRevoked:
		return ErrRevoked
	case protocol.CloseLoggedOut:
		return ErrLoggedOut
	}
	return nil
}

// Client keeps one connection to the relay. Its methods are safe for
// concurrent use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	dial DialFunc
	disp dispatcher
	kick chan struct{} // wakes the outbox pump
	// redial cuts a reconnect wait short: the address changed.
	redial chan struct{}

	mu      sync.Mutex
	url     string
	urlAt   int // which of url's addresses to dial next (under mu)
	token   string
	state   StateChange
	changed chan struct{} // closed and replaced on every state change
	authErr error
	cur     *Conn // the connection that said hello, or nil
	welcome *protocol.AgentWelcome
	tracker *Tracker           // per session, the highest seq handed to OnEvent
	outbox  []*outItem         // unacknowledged messages, in the order typed
	runCtx  context.Context    // of the running loop
	cancel  context.CancelFunc // of the running loop
	done    chan struct{}      // closed when the running loop has ended
}

// New returns a client; it does nothing until Start or Run.
func New(cfg Config) *Client {
	if cfg.BackoffInitial <= 0 {
		cfg.BackoffInitial = DefaultBackoffInitial
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	c := &Client{
		cfg:     cfg,
		log:     cfg.Logger,
		dial:    cfg.Dial,
		url:     cfg.URL,
		token:   cfg.Token,
		state:   StateChange{State: Offline},
		changed: make(chan struct{}),
		tracker: NewTracker(),
		kick:    make(chan struct{}, 1),
		redial:  make(chan struct{}, 1),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.dial == nil {
		d := &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: handshakeTimeout, TLSClientConfig: cfg.TLS}
		c.dial = func(ctx context.Context, u string) (*websocket.Conn, error) {
			ws, _, err := d.DialContext(ctx, u, nil)
			return ws, err
		}
	}
	return c
}

func checkURL(list string) error {
	for _, u := range splitURLs(list) {
		if err := checkOneURL(u); err != nil {
			return err
		}
	}
	return nil
}

// splitURLs is the addresses of a URL setting, in order.
func splitURLs(list string) []string {
	var out []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

func checkOneURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("client: relay URL: %w", err)
	}
	if p.Scheme != "ws" && p.Scheme != "wss" || p.Host == "" {
		return fmt.Errorf("client: relay URL %q: want ws://host/… or wss://host/…", u)
	}
	return nil
}

// SetURL changes the relay address. A connection that is up is kept; a
// reconnect that is waiting dials the new address at once.
func (c *Client) SetURL(u string) error {
	if err := checkURL(u); err != nil {
		return err
	}
	c.mu.Lock()
	c.url = u
	c.mu.Unlock()
	select {
	case c.redial <- struct{}{}:
	default:
	}
	return nil
}

// Address is the relay address of the connection up now, or of the next
// dial while down: one of URL's addresses.
func (c *Client) Address() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	urls := splitURLs(c.url)
	if len(urls) == 0 {
		return ""
	}
	return urls[c.urlAt%len(urls)]
}

// State is the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.State
}

// Token is the agent token in use: the one issued after a password login,
// for the app to remember.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// Welcome is the relay's answer to the last successful hello.
func (c *Client) Welcome() (protocol.AgentWelcome, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.welcome == nil {
		return protocol.AgentWelcome{}, false
	}
	return *c.welcome, true
}

// LastSeqs returns, per session, the last seq handed to OnEvent: what the
// next hello resumes from.
func (c *Client) LastSeqs() map[string]uint64 {
	out := c.tracker.Resume()
	if out == nil {
		out = map[string]uint64{}
	}
	return out
}

// Start runs the connection loop in the background until Close or ctx ends.
func (c *Client) Start(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	go func() { _ = c.loop() }()
	return nil
}

// Run keeps the connection until ctx ends (it returns ctx's error) or the
// relay refuses the credentials (it returns the refusal, a *protocol.Error).
func (c *Client) Run(ctx context.Context) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	return c.loop()
}

// Close stops the loop, closes the connection and waits until every
// goroutine of the client has ended. Pending messages stay in the outbox.
func (c *Client) Close() error {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	return nil
}

// Logout revokes the token on the relay and stops the client. The password
// and the token are forgotten, so nothing logs in again by itself; a new
// login needs a new Client.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	// No password fallback if the link drops between the revocation and Close.
	c.cfg.Password = ""
	c.mu.Unlock()
	err := c.Do(ctx, protocol.CmdLogout, nil, nil)
	_ = c.Close()
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
	return err
}

// begin claims the loop; the state turns Connecting before it returns, so a
// Do right after Start waits for the connection instead of failing.
func (c *Client) begin(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return ErrRunning
	}
	if err := checkURL(c.url); err != nil {
		return err
	}
	if c.token == "" && (c.cfg.Login == "" || c.cfg.Password == "") {
		return errors.New("client: give login and password, or a token")
	}
	c.runCtx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	c.disp.start()
	c.authErr = nil
	c.setStateLocked(StateChange{State: Connecting})
	return nil
}

// loop reconnects until ctx ends or the credentials are refused.
func (c *Client) loop() error {
	c.mu.Lock()
	ctx := c.runCtx
	c.mu.Unlock()
	err := c.connectLoop(ctx)
	c.mu.Lock()
	if c.state.State != AuthFailed {
		c.setStateLocked(StateChange{State: Offline})
	}
	c.mu.Unlock()
	c.disp.stop() // hand on what is queued before saying we are done
	c.mu.Lock()
	c.cancel()
	c.cancel, c.runCtx = nil, nil
	done := c.done
	c.mu.Unlock()
	close(done)
	return err
}

func (c *Client) connectLoop(ctx context.Context) error {
	attempt := 0
	for {
		lived, goingAway, fatal, err := c.connectOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fatal {
			c.log.Warn("relay refused or ended the sign-in; not retrying", "err", err)
			c.mu.Lock()
			if errors.Is(err, ErrRevoked) || errors.Is(err, ErrLoggedOut) {
				c.token = ""
			}
			c.authErr = err
			c.setStateLocked(StateChange{State: AuthFailed, Attempt: attempt, Err: err})
			c.mu.Unlock()
			return err
		}
		var delay time.Duration
		switch {
		case goingAway:
			attempt, delay = 0, rand.N(goingAwayDelay+1)
		case lived >= stableAfter:
			attempt, delay = 1, c.backoff(0)
		default:
			delay = c.backoff(attempt)
			attempt++
		}
		next := time.Now().Add(delay)
		c.log.Info("relay connection ended; reconnecting", "err", err, "in", delay, "attempt", attempt)
		c.mu.Lock()
		c.setStateLocked(StateChange{State: Reconnecting, Attempt: attempt, NextAttempt: next, Err: err})
		c.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.redial:
			t.Stop()
		case <-t.C:
		}
		c.mu.Lock()
		c.setStateLocked(StateChange{State: Connecting, Attempt: attempt, Err: err})
		c.mu.Unlock()
	}
}

// backoff is the full-jitter delay before retry n.
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.BackoffMax
	if n < 30 {
		if d := c.cfg.BackoffInitial << n; d > 0 && d < ceil {
			ceil = d
		}
	}
	return rand.N(ceil + 1)
}

// connectOnce dials, says hello and serves the connection until it drops or
// ctx ends. lived is how long it was up after the hello; fatal means the
// hello was refused for good.
func (c *Client) connectOnce(ctx context.Context) (lived time.Duration, goingAway, fatal bool, err error) {
	c.mu.Lock()
	urls := splitURLs(c.url)
	u := urls[c.urlAt%len(urls)]
	c.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	ws, err := c.dial(dctx, u)
	cancel()
	if err != nil {
		c.mu.Lock()
		c.urlAt++ // down, or a cluster's standby: the next node
		c.mu.Unlock()
		return 0, false, false, fmt.Errorf("dial %s: %w", u, err)
	}
	cn := Open(ws, Options{Tracker: c.tracker, DropDuplicates: true, Heartbeat: defaultHeartbeat, Logger: c.log,
		OnEvent: c.event, OnReply: c.unclaimed})
	if fatal, err := c.hello(ctx, cn); err != nil {
		cn.Leave("")
		<-cn.Done()
		return 0, false, fatal, err
	}
	select {
	case <-c.redial: // an address change meant for a wait that is over
	default:
	}
	start := time.Now()
	pumped := make(chan struct{})
	go func() { defer close(pumped); c.pump(cn) }()
	select {
	case <-cn.Done():
	case <-ctx.Done():
		cn.Leave("client closing")
		<-cn.Done()
	}
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
	}
	c.mu.Unlock()
	<-pumped
	if out := signedOut(cn.Err()); out != nil && ctx.Err() == nil {
		return time.Since(start), false, true, out
	}
	return time.Since(start), websocket.IsCloseError(cn.Err(), websocket.CloseGoingAway), false, cn.Err()
}

// unclaimed takes in a reply nobody waits for. The relay names no id when
// it drops a command for the rate, so we cannot tell which one is lost:
// start over. The backoff slows us down, and the outbox resends what is
// unacknowledged. It runs on the read loop.
func (c *Client) unclaimed(f *Frame) {
	switch {
	case f.Error != nil && f.Error.Code == protocol.CodeRateLimited:
		f.conn.closeWith(f.Error)
	case f.Re == "":
		c.log.Warn("relay refused a frame without naming it", "err", f.Error)
	}
}

// fatalHello lists hello refusals that retrying cannot cure.
func fatalHello(code protocol.Code) bool {
	switch code {
	case protocol.CodeBadCredentials, protocol.CodeVersion, protocol.CodeBadRequest, protocol.CodeMalformed, protocol.CodeForbidden:
		return true
	}
	return false
}

// hello authenticates cn: with the token once there is one, else with the
// password; a refused token falls back to the password when it is known.
func (c *Client) hello(ctx context.Context, cn *Conn) (fatal bool, err error) {
	c.mu.Lock()
	h := protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Client: c.cfg.Client, Token: c.token,
		Resume: c.tracker.Resume()}
	login, password := c.cfg.Login, c.cfg.Password
	c.mu.Unlock()
	if h.Token == "" {
		h.Login, h.Password = login, password
	}
	f, err := c.helloOnce(ctx, cn, h)
	if err == nil && !f.OK && f.Error != nil && f.Error.Code == protocol.CodeBadCredentials &&
		h.Token != "" && login != "" && password != "" {
		c.log.Info("token refused; logging in with the password")
		h.Token, h.Login, h.Password = "", login, password
		f, err = c.helloOnce(ctx, cn, h)
	}
	if err != nil {
		return false, err
	}
	if !f.OK {
		perr := f.Error
		if perr == nil {
			perr = protocol.Errorf(protocol.CodeInternal, "hello refused without a reason")
		}
		return fatalHello(perr.Code), fmt.Errorf("client: hello: %w", perr)
	}
	return false, nil
}

// helloOnce sends one hello and waits for its reply. A welcome is taken in
// by the read loop itself, before it reads the next frame, so OnState hears
// "connected" before any event of the new connection.
func (c *Client) helloOnce(ctx context.Context, cn *Conn, h protocol.Hello) (protocol.ServerFrame, error) {
	ctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	got := make(chan protocol.ServerFrame, 1)
	id := cn.NewID()
	if !cn.expect(id, func(f *Frame) {
		sf := f.ServerFrame()
		if f.OK {
			w, err := decodeAgentWelcome(f.Data)
			if err != nil {
				sf = protocol.ServerFrame{Re: f.Re, Error: protocol.Errorf(protocol.CodeInternal, "%v", err)}
			} else {
				c.attach(cn, w)
			}
		}
		got <- sf
	}) {
		return protocol.ServerFrame{}, fmt.Errorf("hello: %w: %v", ErrConnectionLost, cn.Err())
	}
	if err := cn.Send(id, protocol.CmdHello, h); err != nil {
		return protocol.ServerFrame{}, fmt.Errorf("hello: %w", err)
	}
	select {
	case f := <-got:
		return f, nil
	case <-cn.Done():
		return protocol.ServerFrame{}, fmt.Errorf("hello: %w: %v", ErrConnectionLost, cn.Err())
	case <-ctx.Done():
		return protocol.ServerFrame{}, fmt.Errorf("hello: %w", ctx.Err())
	}
}

// attach makes cn the live connection. It runs on cn's read loop.
func (c *Client) attach(cn *Conn, w protocol.AgentWelcome) {
	if w.Heartbeat > 0 {
		cn.SetHeartbeat(time.Duration(w.Heartbeat) * time.Second)
	}
	c.mu.Lock()
	if w.Token != "" {
		c.token = w.Token
	}
	kept := w // Welcome() must not share what OnState is handed
	c.welcome = &kept
	// Forget sessions the relay no longer lists (see Tracker.Keep).
	listed := make([]string, len(w.Sessions))
	for i, s := range w.Sessions {
		listed[i] = s.ID
	}
	c.tracker.Keep(listed)
	c.cur = cn
	c.setStateLocked(StateChange{State: Connected, Welcome: &w})
	c.mu.Unlock()
	c.poke()
}

// setStateLocked records a transition and queues it for OnState. Caller
// holds c.mu, which keeps notifications in the order of the transitions.
func (c *Client) setStateLocked(s StateChange) {
	c.state = s
	close(c.changed)
	c.changed = make(chan struct{})
	if f := c.cfg.OnState; f != nil {
		c.disp.push(func() { f(s) })
	}
}

// event hands every event on, in order; the Conn has dropped duplicate
// entries already. It runs on the read loop.
func (c *Client) event(f *Frame) {
	if h := c.cfg.OnEvent; h != nil {
		sf := f.ServerFrame()
		c.disp.push(func() { h(sf) })
	}
}

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
		return errors.New("client: hello is sent by the client itself")
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
			return fmt.Errorf("client: %s: %w", cmd, err)
		}
	}
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			return err
		}
		f, err := cn.call(ctx, cn.NewID(), cmd, raw)
		if errors.Is(err, ErrNotSent) {
			continue // the link dropped first; wait for the next one
		}
		if err != nil {
			return err
		}
		if !f.OK && f.Error != nil && f.Error.Code == protocol.CodeUnavailable {
			// The relay is restarting and changed nothing: try again on the
			// next connection, once this one has closed.
			select {
			case <-cn.Done():
				continue
			case <-ctx.Done():
				return f.Error
			}
		}
		return Result(cmd, f, out)
	}
}

// waitConn returns the live connection, waiting for it while the client is
// trying to connect.
func (c *Client) waitConn(ctx context.Context) (*Conn, error) {
	for {
		c.mu.Lock()
		cn, st, changed, authErr := c.cur, c.state.State, c.changed, c.authErr
		c.mu.Unlock()
		switch {
		case cn != nil && cn.Err() == nil:
			return cn, nil
		case st == AuthFailed:
			return nil, authErr
		case st == Offline:
			return nil, ErrOffline
		}
		// Not connected, or the connection just ended: the state changes
		// (to reconnecting) as soon as the loop hears of it.
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
