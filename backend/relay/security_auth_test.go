package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

// Security suite: password sign-ins. Guessing is throttled per client
// address and per login, bcrypt runs in bounded slots, and every hello is
// answered, also the one that closes the connection.

// Throttle settings short enough for a test: 5 free failures, then waits of
// 100, 200, 400, 400... ms.
func fastThrottle(c *relay.Config) {
	c.LoginFreeFailures = 5
	c.LoginDelay = 100 * time.Millisecond
	c.LoginMaxDelay = 400 * time.Millisecond
}

// slotsIn is how many throttled attempts a key can get in a window: one per
// delay, the delays growing from base to the cap.
func slotsIn(window time.Duration, c relay.Config) int {
	n, d, spent := 0, c.LoginDelay, time.Duration(0)
	for spent+d <= window {
		spent += d
		n++
		d = min(2*d, c.LoginMaxDelay)
	}
	return n + 1
}

// dialFrom opens a websocket from a given loopback address (127.0.0.0/8 is
// all local on Linux), so that one test can be several clients.
func dialFrom(t *testing.T, h *relaytest.Harness, src string) (*websocket.Conn, error) {
	d := websocket.Dialer{
		NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext,
		HandshakeTimeout: 5 * time.Second,
	}
	ws, _, err := d.Dial(h.URL(), nil)
	if err == nil {
		t.Cleanup(func() { _ = ws.Close() })
	}
	return ws, err
}

// hello sends one agent hello and reads its reply.
func hello(ws *websocket.Conn, id, login, password string) (protocol.ServerFrame, error) {
	raw, _ := json.Marshal(protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: login, Password: password})
	b, _ := json.Marshal(protocol.Command{ID: id, Cmd: protocol.CmdHello, Data: raw})
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return protocol.ServerFrame{}, err
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return protocol.ServerFrame{}, err
		}
		var f protocol.ServerFrame
		if json.Unmarshal(msg, &f) == nil && f.Re == id {
			return f, nil
		}
	}
}

// replyTally counts a flood's replies by error code ("ok" for a success).
type replyTally struct {
	mu    sync.Mutex
	codes map[string]int
	last  map[string]string // a message per code
}

func (t *replyTally) add(f protocol.ServerFrame) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes, t.last = map[string]int{}, map[string]string{}
	}
	code := "ok"
	if f.Error != nil {
		code, t.last[string(f.Error.Code)] = string(f.Error.Code), f.Error.Message
		// The hello that closes a connection answers rate_limited and names
		// what the attempt itself came to: count that.
		if m := lastHello.FindStringSubmatch(f.Error.Message); m != nil {
			code, t.last[m[1]] = m[1], m[2]
		}
	}
	t.codes[code]++
}

var lastHello = regexp.MustCompile(`^\d+ failed hellos on this connection, the last: (\w+) \((.*)\); it closes: connect again in \d+ s$`)

func (t *replyTally) get(code protocol.Code) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.codes[string(code)]
}

// flood runs one guesser per source address for at least d and until
// enough says the flood has shown what it should (a slow machine checks
// fewer passwords in d): each sends wrong passwords as fast as the relay
// answers, reconnecting whenever it is closed. login names the login to
// guess; "" guesses a new login each time. It returns how long it ran.
func flood(t *testing.T, h *relaytest.Harness, sources []string, login string, d time.Duration, enough func(*replyTally) bool) (*replyTally, time.Duration) {
	var (
		res     replyTally
		wg      sync.WaitGroup
		seq     atomic.Int64
		start   = time.Now()
		stopped atomic.Bool
	)
	going := func() bool {
		if stopped.Load() {
			return false
		}
		if el := time.Since(start); el < d || (el < 30*time.Second && !enough(&res)) {
			return true
		}
		stopped.Store(true)
		return false
	}
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for going() {
				ws, err := dialFrom(t, h, src)
				if err != nil {
					t.Errorf("dial from %s: %v", src, err)
					return
				}
				for going() {
					n := seq.Add(1)
					who := login
					if who == "" {
						who = fmt.Sprintf("guess%d", n)
					}
					f, err := hello(ws, fmt.Sprint("h", n), who, fmt.Sprintf("wrong-%d-password", n))
					if err != nil {
						break // closed after five failures: reconnect
					}
					res.add(f)
				}
				_ = ws.Close()
			}
		}()
	}
	wg.Wait()
	if !enough(&res) {
		t.Fatalf("the flood was never slowed: after %v, replies %v", time.Since(start), res.codes)
	}
	return &res, time.Since(start)
}

func sources(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.%d", from+i)
	}
	return out
}

// TestSecurityLoginFloodFromOneAddress: many connections from one address,
// each guessing a new login, reconnecting when closed. Only a bounded number
// of guesses reach bcrypt; the rest are refused at once with rate_limited.
// Once the delay has passed, the right password works from that address.
func TestSecurityLoginFloodFromOneAddress(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: fastThrottle})
	const conns = 16
	srcs := make([]string, conns)
	for i := range srcs {
		srcs[i] = "127.0.0.1"
	}
	res, window := flood(t, h, srcs, "", 2*time.Second, func(r *replyTally) bool { return r.get(protocol.CodeRateLimited) > 0 })
	checked := res.get(protocol.CodeBadCredentials)
	limited := res.get(protocol.CodeRateLimited)
	bound := conns + h.Config.LoginFreeFailures + slotsIn(window, h.Config)
	t.Logf("flood from one address for %v over %d connections: %d guesses checked, %d refused unchecked (bound %d); checks in /metrics: %d",
		window, conns, checked, limited, bound, int(h.Metric("switchboard_password_checks_total")))
	if checked > bound {
		t.Fatalf("%d guesses reached the password check in %v; at most %d may", checked, window, bound)
	}
	if limited == 0 || !regexp.MustCompile(`^too many failed sign-ins; try again in \d+ s$`).MatchString(res.last[string(protocol.CodeRateLimited)]) {
		t.Fatalf("refusals: %+v %v", res.codes, res.last)
	}
	if got := int(h.Metric("switchboard_login_failures_total")); got != checked {
		t.Fatalf("failed sign-ins in /metrics: %d, want %d", got, checked)
	}
	if got := int(h.Metric("switchboard_login_throttled_total")); got != limited {
		t.Fatalf("throttled sign-ins in /metrics: %d, want %d", got, limited)
	}
	// After the longest delay, the right password works from that address.
	time.Sleep(h.Config.LoginMaxDelay + 100*time.Millisecond)
	ws, err := dialFrom(t, h, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if f, err := hello(ws, "good", "anna", relaytest.Password); err != nil || !f.OK {
		t.Fatalf("right password after the wait: %+v %v", f.Error, err)
	}
}

// TestSecurityLoginAttackedFromManyAddresses: one login guessed from eight
// addresses at once is slowed as a whole; during the wait even the right
// password is refused unchecked; after it, the right password works and
// resets the login's count. Meanwhile a signed-in agent's pings stay fast:
// the login's bcrypt hash has a real cost here, so unbounded checks would
// take the cores.
func TestSecurityLoginAttackedFromManyAddresses(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: fastThrottle})
	slow, err := bcrypt.GenerateFromPassword([]byte(relaytest.Password), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SetPassword(context.Background(), "anna", slow); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	bertil, _ := h.Agent("bertil", nil)
	pings := func(d time.Duration) []time.Duration {
		var out []time.Duration
		for stop := time.Now().Add(d); time.Now().Before(stop); {
			t0 := time.Now()
			bertil.OK(protocol.CmdPing, nil, nil)
			out = append(out, time.Since(t0))
			time.Sleep(5 * time.Millisecond)
		}
		return out
	}
	before := p50(pings(300 * time.Millisecond))

	srcs := sources(2, 8)
	var during []time.Duration
	done := make(chan struct{})
	go func() { defer close(done); during = pings(2 * time.Second) }()
	free := h.Config.LoginFreeFailures
	res, window := flood(t, h, srcs, "anna", 2*time.Second, func(r *replyTally) bool {
		return r.get(protocol.CodeBadCredentials) > free && r.get(protocol.CodeRateLimited) > 0
	})
	<-done
	checked := res.get(protocol.CodeBadCredentials)
	bound := len(srcs) + h.Config.LoginFreeFailures + slotsIn(window, h.Config)
	t.Logf("anna guessed from %d addresses for %v: %d guesses checked, %d refused unchecked (bound %d); bertil's ping p50 %v before, %v during",
		len(srcs), window, checked, res.get(protocol.CodeRateLimited), bound, before, p50(during))
	if checked > bound {
		t.Fatalf("%d guesses at anna reached bcrypt in %v; at most %d may", checked, window, bound)
	}
	// Timing is the load generator's business; this only catches a stall.
	if p := p50(during); p > 500*time.Millisecond {
		t.Fatalf("a signed-in agent's ping took %v (p50) during the flood", p)
	}

	// During the wait, a new address with the right password is refused
	// unchecked: the login itself is throttled. One more wrong guess that
	// is checked starts a fresh wait (LoginMaxDelay), so that the right
	// password surely comes during one.
	ws, err := dialFrom(t, h, "127.0.0.20")
	if err != nil {
		t.Fatal(err)
	}
	guess, err := dialFrom(t, h, "127.0.0.22")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		f, err := hello(guess, fmt.Sprint("g", i), "anna", "wrong-password-0")
		if err != nil || f.OK || i > 50 {
			t.Fatalf("a guess after the flood: %+v %v", f, err)
		}
		if f.Error.Code == protocol.CodeBadCredentials {
			break
		}
		time.Sleep(h.Config.LoginDelay / 4)
		if i%4 == 3 { // closed after five refusals
			if guess, err = dialFrom(t, h, "127.0.0.22"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if f, err := hello(ws, "early", "anna", relaytest.Password); err != nil || f.OK || f.Error.Code != protocol.CodeRateLimited {
		t.Fatalf("right password during the wait: %+v %v", f, err)
	}
	time.Sleep(h.Config.LoginMaxDelay + 100*time.Millisecond)
	if f, err := hello(ws, "late", "anna", relaytest.Password); err != nil || !f.OK {
		t.Fatalf("right password after the wait: %+v %v", f.Error, err)
	}
	// The success reset anna's count: from a fresh address, a wrong guess
	// is checked again rather than refused.
	ws2, err := dialFrom(t, h, "127.0.0.21")
	if err != nil {
		t.Fatal(err)
	}
	if f, err := hello(ws2, "again", "anna", "wrong-password-1"); err != nil || f.Error == nil || f.Error.Code != protocol.CodeBadCredentials {
		t.Fatalf("after a success: %+v %v", f, err)
	}
}

func p50(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestSecurityFifthFailedHelloIsAnswered: the hello that closes the
// connection (the fifth failure) gets its reply before the close: rate_limited
// with the wait (see also TestContractFifthFailedHelloIsAnswered).
func TestSecurityFifthFailedHelloIsAnswered(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	ws, err := dialFrom(t, h, "127.0.0.30")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		want := protocol.CodeBadCredentials
		if i == 5 {
			want = protocol.CodeRateLimited
		}
		f, err := hello(ws, fmt.Sprint("h", i), "anna", "not-the-password")
		if err != nil || f.Error == nil || f.Error.Code != want {
			t.Fatalf("hello %d: %+v %v", i, f, err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("after the fifth failure: %v", err)
	}
}

// TestSecurityPasswordChecksAreBounded: with one check slot and a queue of
// one, sign-ins beyond those are refused at once as busy, and all are
// answered; none waits for a slot forever.
func TestSecurityPasswordChecksAreBounded(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.PasswordWorkers, c.PasswordQueue = 1, 1
	}})
	slow, err := bcrypt.GenerateFromPassword([]byte(relaytest.Password), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SetPassword(context.Background(), "anna", slow); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	var (
		res replyTally
		wg  sync.WaitGroup
	)
	for _, src := range sources(40, 8) {
		ws, err := dialFrom(t, h, src)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := hello(ws, "h", "anna", relaytest.Password)
			if err != nil {
				t.Errorf("from %s: %v", src, err)
				return
			}
			res.add(f)
		}()
	}
	wg.Wait()
	// Eight at once for one login: some may also meet the login's own
	// throttle (attempts in flight count there), depending on how fast
	// the busy ones are turned away; none of those reaches a check.
	ok, busy, limited := res.get("ok"), res.get(protocol.CodeUnavailable), res.get(protocol.CodeRateLimited)
	t.Logf("8 sign-ins at once, 1 slot + 1 waiting: %d signed in, %d busy (%q), %d throttled", ok, busy, res.last[string(protocol.CodeUnavailable)], limited)
	if ok < 1 || busy < 1 || ok+busy+limited != 8 || !strings.Contains(res.last[string(protocol.CodeUnavailable)], "busy") {
		t.Fatalf("replies: %+v", res.codes)
	}
}

// TestSecurityOfficeSignsInAtOnce: many agents behind one address (an
// office's NAT) signing in at the same moment are all let in; throttling
// is for failures, not for a busy morning.
func TestSecurityOfficeSignsInAtOnce(t *testing.T) {
	const n = 12 // twice the free failures: with them in flight counted per address, half were refused
	var agents []relaytest.Agent
	for i := range n {
		agents = append(agents, relaytest.Agent{Login: fmt.Sprintf("agent%02d", i), Name: fmt.Sprintf("Agent %d", i), Perms: "respond"})
	}
	h := relaytest.Start(t, relaytest.Options{Agents: agents})
	// Checks that take a while, as real ones do: the sign-ins overlap.
	slow, err := bcrypt.GenerateFromPassword([]byte(relaytest.Password), 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if err := h.Store.SetPassword(context.Background(), a.Login, slow); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	refused := make(chan string, n)
	for _, a := range agents {
		wg.Go(func() {
			c, _, err := relaytest.DialErr(t, h.URL(), "")
			if err != nil {
				refused <- a.Login + ": " + err.Error()
				return
			}
			defer c.Close()
			// Twelve slow checks on a busy (or race-detecting) machine take
			// longer than the harness's usual wait: this is about being let
			// in, not about how fast.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := c.Conn.Call(ctx, protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: a.Login, Password: relaytest.Password})
			if err != nil {
				refused <- a.Login + ": " + err.Error()
			} else if !r.OK {
				refused <- fmt.Sprintf("%s: %v", a.Login, r.Error)
			}
		})
	}
	wg.Wait()
	close(refused)
	for r := range refused {
		t.Errorf("sign-in refused: %s", r)
	}
}
