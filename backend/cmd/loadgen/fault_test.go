package main

// Fault tests: the real relay binary, built into a temporary directory,
// under load from real websocket clients, while something goes wrong. They
// check the guarantees rather than speed: no acknowledged message lost, none
// delivered twice, every client back within its budget, others unaffected.
//
// `go test` runs a short version of each (a few seconds); `make soak` runs
// them for minutes with more clients (-soak).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
	"switchboard/backend/store/pgtest"
)

var soak = flag.Bool("soak", false, "run the fault tests for minutes with more clients")

var (
	buildOnce sync.Once
	buildDir  string
	relayBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	pgtest.Shutdown()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// relayBinary builds backend/cmd/relay once for the whole test binary.
func relayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		noteRelaySources()
		buildDir, buildErr = os.MkdirTemp("", "switchboard-faulttest-")
		if buildErr != nil {
			return
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		relayBin = filepath.Join(buildDir, "switchboard-relay")
		// As `make relay` builds it (pure Go, -trimpath), so that its build
		// cache serves.
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", relayBin, "switchboard/backend/cmd/relay")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return relayBin
}

// noteRelaySources opens every Go file the relay binary is built from (the
// backend tree, go.mod, go.sum), so that go test's result cache, which
// tracks the files a test opens, reruns these tests when the relay changes.
func noteRelaySources() {
	dir, _ := os.Getwd()
	for dir != filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	read := func(path string) {
		if f, err := os.Open(path); err == nil {
			_, _ = io.Copy(io.Discard, f)
			f.Close()
		}
	}
	read(filepath.Join(dir, "go.mod"))
	read(filepath.Join(dir, "go.sum"))
	_ = filepath.WalkDir(filepath.Join(dir, "backend"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			read(path)
		}
		return nil
	})
}

// env is one relay process on one database, and a load run against it.
type env struct {
	t    *testing.T
	args relayArgs
	proc *process
	cfg  config
}

func newEnv(t *testing.T, cfg config, extra ...string) *env {
	t.Helper()
	return newEnvAt(t, cfg, t.TempDir(), extra...)
}

// newEnvAt is newEnv with the database in dbDir; the log goes elsewhere.
func newEnvAt(t *testing.T, cfg config, dbDir string, extra ...string) *env {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dbDir, "relay.db")
	if err := seed(db, cfg); err != nil {
		t.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, args: relayArgs{Bin: relayBinary(t), DB: db, Addr: addr, LogFile: filepath.Join(dir, "relay.log"), Extra: extra}}
	e.start()
	t.Cleanup(func() {
		if e.proc != nil {
			e.proc.kill()
		}
		if t.Failed() {
			log, _ := os.ReadFile(e.args.LogFile)
			t.Logf("relay log (tail):\n%s", tail(log, 4000))
		}
	})
	return e
}

func (e *env) start() {
	e.t.Helper()
	p, err := startRelay(e.args)
	if err != nil {
		e.t.Fatal(err)
	}
	e.proc = p
}

func (e *env) url() string { return "ws://" + e.args.Addr + "/ws" }

// run sets up a load run whose clients reconnect and resume.
func (e *env) run(name string) *run {
	e.t.Helper()
	r := newRun(name, true, e.url(), e.cfg)
	r.pid, r.reconnect, r.logf = e.proc.pid(), true, e.t.Logf
	if err := r.setup(); err != nil {
		r.stop()
		e.t.Fatal(err)
	}
	return r
}

func (e *env) healthy() bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + e.args.Addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (e *env) metric(name string) string { return metricLine(e.args.Addr, name) }

// metricLine is the line of metric name in the /metrics of the relay at
// addr ("" if it is not there or the relay does not answer).
func metricLine(addr, name string) string {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			return line
		}
	}
	return ""
}

// verify fails the test on any lost, duplicated or missing message.
func verify(t *testing.T, r *run) checkResult {
	t.Helper()
	c := r.check()
	t.Logf("%s: sent %d, acked %d, resent %d; lost %v, duplicated %d, gaps %d, unacked %d; errors %v",
		r.name, r.sent.Load(), r.acked.Load(), r.resent.Load(), c.Lost, c.Duplicated, c.Gaps, c.Unacked, r.errs.snapshot())
	if c.lost() > 0 {
		t.Errorf("LOST: %v acknowledged messages never reached a receiver", c.Lost)
	}
	if c.Duplicated > 0 {
		t.Errorf("DUPLICATED: %d deliveries of a message a receiver already had", c.Duplicated)
	}
	if c.Gaps > 0 {
		t.Errorf("GAPS: an agent's entries skipped a seq %d times", c.Gaps)
	}
	if r.acked.Load() == 0 {
		t.Error("nothing was acknowledged: the load did not run")
	}
	return c
}

// scale picks the short or the soak value.
func scale[T any](short, long T) T {
	if *soak {
		return long
	}
	return short
}

// budget is a time budget of the relay's, stretched under the race detector,
// which slows the clients (in this process) rather than the relay.
func budget(d time.Duration) time.Duration {
	if raceEnabled {
		return 4 * d
	}
	return d
}

// TestKillUnderLoad kills the relay with SIGKILL while visitors publish and
// transfers are pending, restarts it on the same database, and checks that
// every client resumes within 5 s, no acknowledged message is lost or
// doubled, and the pending transfers are still pending.
func TestKillUnderLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(60, 400), scale(6, 40), scale(3, 20)
	// As fast as the relay acknowledges: the committer is always busy, so a
	// kill lands in the middle of a group commit.
	cfg.Rate = 0
	cfg.HoldOffers = true
	cfg.TransferTimeout = time.Hour // the offers must outlive the test, however long
	e := newEnv(t, cfg, "--limits-rate", "100000", "--limits-burst", "100000")
	r := e.run("kill")
	defer r.stop()
	// An ack means the message is committed: another reader of the database
	// sees it the moment the ack arrives. Look for a sample of them.
	reader, err := store.OpenSQLite(e.args.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var looked, early atomic.Int64
	hook := func(c *chatState, n, seq uint64) {
		if n%16 != 0 {
			return
		}
		looked.Add(1)
		got, err := reader.Entries(context.Background(), chat.SessionID(c.session), seq-1, 1)
		if err == nil && (len(got) == 0 || got[0].Seq != seq || got[0].ClientID != fmt.Sprintf("m%d", n)) {
			early.Add(1)
		}
	}
	r.ackHook.Store(&hook)

	for i := 0; i < scale(3, 10); i++ {
		if !r.offerOne() {
			t.Fatal("could not start a transfer")
		}
	}
	if !waitFor(10*time.Second, func() bool { return r.heldCount() == scale(3, 10) }) {
		t.Fatalf("offers did not reach their receivers: %d", r.heldCount())
	}
	deadlines := offerDeadlines(t, r)
	r.startSenders()
	time.Sleep(scale(700*time.Millisecond, 5*time.Second))
	t.Logf("%d acks checked against the database, %d arrived before their message was stored", looked.Load(), early.Load())
	if early.Load() > 0 {
		t.Errorf("ACKED BEFORE STORED: %d of %d sampled acks arrived before the database had the message", early.Load(), looked.Load())
	}
	r.ackHook.Store(nil)
	// A kill loses only what the relay had not yet written to the WAL file
	// (the kernel keeps what was written, synced or not), so an ack sent too
	// early is caught when a kill lands inside a commit: kill several times.
	kills := scale(3, 10)
	for k := 0; k < kills; k++ {
		time.Sleep(scale(700*time.Millisecond, 10*time.Second))
		before := r.acked.Load()
		e.proc.kill()
		killedAt := time.Now()
		time.Sleep(100 * time.Millisecond) // clients notice and start retrying
		restartAt := time.Now()
		e.start()
		t.Logf("kill %d: %d acked before; relay restarted and healthy in %s", k+1, before, time.Since(restartAt).Round(time.Millisecond))
		all := r.allPeers()
		ok := waitFor(10*time.Second, func() bool {
			for _, p := range all {
				if p.upAt.Load() < killedAt.UnixNano() {
					return false
				}
			}
			return true
		})
		// From the restart (process start, database load) to each hello.
		var slowest time.Duration
		for _, p := range all {
			slowest = max(slowest, time.Duration(p.upAt.Load()-restartAt.UnixNano()))
		}
		t.Logf("kill %d: %d clients resumed; the last %s after the restart began", k+1, len(all), slowest.Round(time.Millisecond))
		if !ok || slowest > budget(5*time.Second) {
			t.Errorf("kill %d: clients took %s to resume (budget %s; all back: %v)", k+1, slowest, budget(5*time.Second), ok)
			for _, p := range all {
				if p.upAt.Load() < killedAt.UnixNano() {
					t.Logf("not back: %s %d %s", p.role, p.idx, p.login)
				}
			}
		}
		// Pending transfers survive: each receiver's welcome lists its
		// offer, still pending, with its deadline.
		checkOffers(t, fmt.Sprintf("kill %d", k+1), r, deadlines)
	}
	time.Sleep(scale(time.Second, 10*time.Second))
	r.finish(15 * time.Second)
	c := verify(t, r)
	if c.Unacked > 0 {
		t.Errorf("%d messages were never acknowledged (resends after the restart should be)", c.Unacked)
	}
	// And the database itself: every acknowledged message stored once.
	e.proc.kill()
	e.proc = nil
	verifyStore(t, r, e.args.DB)
	if r.resent.Load() == 0 {
		t.Log("note: no message was in flight at the kill")
	}
}

// TestAdminChurnUnderLoad: administrators change the directory every 100 ms
// (channel set, a participant's grant, the grant of a non-participant added
// and removed, an agent added) while visitors publish as fast as acks come
// back. The relay applies each change to the live desk: it must not crash,
// and nothing acknowledged may be lost or doubled, in the clients or in the
// database.
func TestAdminChurnUnderLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(60, 400), scale(6, 40), scale(3, 20)
	// Steady load rather than as fast as acks come back: at full speed the
	// relay's group commits hold SQLite's write lock nearly all the time and
	// an admin command waits seconds for its turn.
	cfg.Rate = float64(cfg.Visitors) * 20
	e := newEnv(t, cfg, "--limits-rate", "100000", "--limits-burst", "100000", "--timers-directory-poll", "50ms")
	admin, err := store.OpenSQLite(e.args.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	spare := cfg.Prefix + "spare"
	if _, err := admin.CreateAgent(ctx, spare, "Spare", []byte("x")); err != nil {
		t.Fatal(err)
	}
	r := e.run("admin-churn")
	defer r.stop()
	r.startSenders()

	// Participants keep what they need (agents respond, supervisors listen),
	// so that every receiver is still owed every message.
	change := func(n int) error {
		agent := fmt.Sprintf("%sa%d", cfg.Prefix, 1+n%cfg.Agents)
		switch n % 5 {
		case 0:
			return admin.PutChannel(ctx, store.ChannelRow{Key: chat.ChannelID(cfg.Channel), Name: fmt.Sprintf("Load test %d", n),
				TimeZone: "UTC", WarnAfter: time.Duration(60+n) * time.Second, TransferTimeout: chat.DefaultTransferTimeout})
		case 1:
			return admin.Grant(ctx, agent, chat.ChannelID(cfg.Channel), chat.PermRespond|chat.Perm(n%2)*chat.PermNotify)
		case 2:
			return admin.Grant(ctx, spare, chat.ChannelID(cfg.Channel), chat.PermRespond|chat.PermListen)
		case 3:
			return admin.Grant(ctx, spare, chat.ChannelID(cfg.Channel), 0) // revoke a non-participant's grant
		default:
			_, err := admin.CreateAgent(ctx, fmt.Sprintf("%schurn%d", cfg.Prefix, n), "Churn", []byte("x"))
			return err
		}
	}
	// One change every 100 ms; a write that waits for the relay's commits
	// delays the next.
	until := time.Now().Add(scale(3*time.Second, time.Minute))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	changes := 0
	var slowest time.Duration
	for time.Now().Before(until) {
		at := time.Now()
		if err := change(changes); err != nil {
			t.Fatalf("admin change %d: %v", changes, err)
		}
		slowest = max(slowest, time.Since(at))
		changes++
		<-tick.C
	}
	time.Sleep(300 * time.Millisecond) // the last change is applied under load too
	r.finish(15 * time.Second)
	t.Logf("%d admin changes (the slowest write took %s) while %d messages were acknowledged", changes, slowest.Round(time.Millisecond), r.acked.Load())
	if !e.healthy() {
		t.Error("the relay is not healthy after the churn")
	}
	for _, p := range r.allPeers() {
		if len(p.closes.snapshot()) > 0 {
			t.Errorf("%s %d was closed: %v", p.role, p.idx, p.closes.snapshot())
		}
	}
	c := verify(t, r)
	if c.Unacked > 0 {
		t.Errorf("%d messages were never acknowledged", c.Unacked)
	}
	e.proc.kill()
	e.proc = nil
	verifyStore(t, r, e.args.DB)
}

// TestSlowConsumerIsCutOffAlone: a supervisor listening to every chat stops
// reading. The relay must close it (1008) once its send queue is full,
// without slowing the agents' deliveries; it then reconnects, resumes, and
// gets everything exactly once.
func TestSlowConsumerIsCutOffAlone(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(40, 100), 4, 1
	cfg.Rate = float64(cfg.Visitors) * scale(20.0, 10.0)
	cfg.Size = scale(4000, 2000) // the kernel's socket buffers fill sooner
	e := newEnv(t, cfg)
	r := e.run("slow")
	defer r.stop()
	slow := r.sups[0]
	// Reconnect it with a tiny receive buffer so that the kernel holds little.
	slow.small.Store(true)
	slow.closeConn()
	if !waitFor(10*time.Second, func() bool { slow.mu.Lock(); defer slow.mu.Unlock(); return slow.conn != nil }) {
		t.Fatal("the supervisor did not reconnect")
	}
	r.startSenders()
	r.measuring.Store(true)
	time.Sleep(scale(700*time.Millisecond, 5*time.Second))
	before := r.lat.snap()
	slow.pause()
	pausedAt := time.Now()
	cut := waitFor(scale(15*time.Second, 30*time.Second), func() bool { return strings.Contains(e.metric("switchboard_slow_clients_disconnected_total"), " 1") })
	t.Logf("slow client cut off after %s: %v", time.Since(pausedAt).Round(time.Millisecond), cut)
	time.Sleep(scale(700*time.Millisecond, 5*time.Second)) // others keep going meanwhile
	during := r.lat.snap().sub(before)
	window := time.Since(pausedAt)
	slow.small.Store(false) // it comes back as an ordinary client
	slow.unpause()
	time.Sleep(scale(500*time.Millisecond, 5*time.Second))
	r.finish(15 * time.Second)

	base := before
	t.Logf("agents' publish-to-deliver: before p99 %s; while the supervisor hung p50 %s p99 %s max %s (%d deliveries)",
		ms(base.quantile(0.99)), ms(during.quantile(0.5)), ms(during.quantile(0.99)), ms(during.max), during.n)
	if !cut {
		t.Error("the slow client was never cut off")
	}
	if n := slow.closes.snapshot()["1008"]; n == 0 {
		t.Errorf("the slow client was not closed with 1008: %v", slow.closes.snapshot())
	}
	for _, p := range append(append([]*peer(nil), r.agents...), r.visitors...) {
		if len(p.closes.snapshot()) > 0 {
			t.Errorf("%s %d was closed too: %v", p.role, p.idx, p.closes.snapshot())
		}
	}
	// A relay that waited for the hanging client would deliver nothing to
	// the agents until it gave up on it.
	if expect := int64(cfg.Rate * window.Seconds()); during.n < expect/2 || during.quantile(0.99) > budget(500*time.Millisecond) {
		t.Errorf("others were slowed down: %d deliveries in %s (expected about %d), p99 %s", during.n, window.Round(time.Millisecond), expect, ms(during.quantile(0.99)))
	}
	verify(t, r)
}

// TestReconnectStorm drops thousands of visitors at once; they all
// reconnect and resume at the same moment.
func TestReconnectStorm(t *testing.T) {
	cfg := defaultConfig()
	// At most net.core.somaxconn (4096 here) at once: beyond the listen
	// backlog, connection attempts wait for SYN retransmits (1 s, 3 s, 7 s).
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(2000, 4000), scale(4, 20), 0
	if raceEnabled && !*soak {
		cfg.Visitors = 1000
	}
	cfg.Rate = float64(cfg.Visitors) // one message per visitor per second
	cfg.SetupConc = 64
	// Each agent picks hundreds of chats in a row during the setup.
	e := newEnv(t, cfg, "--limits-rate", "5000", "--limits-burst", "5000")
	start := time.Now()
	r := e.run("storm")
	defer r.stop()
	t.Logf("%d chats open in %s", cfg.Visitors, time.Since(start).Round(time.Millisecond))
	r.startSenders()
	time.Sleep(scale(time.Second, 10*time.Second))
	storms := scale(1, 3)
	for s := 0; s < storms; s++ {
		at := time.Now()
		for _, v := range r.visitors {
			v.closeConn()
		}
		ok := waitFor(30*time.Second, func() bool {
			for _, v := range r.visitors {
				if v.upAt.Load() < at.UnixNano() {
					return false
				}
			}
			return true
		})
		var took []float64
		for _, v := range r.visitors {
			took = append(took, float64(v.upAt.Load()-at.UnixNano()))
		}
		sort.Float64s(took)
		slowest := time.Duration(took[len(took)-1])
		t.Logf("storm %d: %d visitors dropped and resumed: half within %s, 90%% within %s, the last after %s", s+1, len(r.visitors),
			time.Duration(took[len(took)/2]).Round(time.Millisecond), time.Duration(took[len(took)*9/10]).Round(time.Millisecond), slowest.Round(time.Millisecond))
		if !ok || slowest > budget(5*time.Second) {
			t.Errorf("storm %d: resuming took %s (budget %s; all back: %v)", s+1, slowest, budget(5*time.Second), ok)
		}
		time.Sleep(scale(500*time.Millisecond, 10*time.Second))
	}
	r.finish(20 * time.Second)
	if !e.healthy() {
		t.Error("the relay is not healthy after the storm")
	}
	verify(t, r)
}

// TestGarbageFlood: clients send junk as fast as they can (bad JSON, binary
// frames, unknown commands, frames over the size limit). They are refused
// and cut off; everyone else goes on; the relay stays up.
func TestGarbageFlood(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(20, 100), 2, 1
	cfg.Rate = float64(cfg.Visitors) * 10
	e := newEnv(t, cfg)
	r := e.run("garbage")
	defer r.stop()
	r.startSenders()
	r.measuring.Store(true)
	time.Sleep(500 * time.Millisecond)
	before := r.lat.snap()

	var (
		wg      sync.WaitGroup
		frames  atomic.Int64
		replies atomic.Int64
		cmu     sync.Mutex
		closes  = map[string]int{}
	)
	floodAt := time.Now()
	stop := floodAt.Add(scale(1500*time.Millisecond, 30*time.Second))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				why := flood(e.url(), cfg.Channel, i%2 == 0, stop, &frames, &replies)
				cmu.Lock()
				closes[why]++
				cmu.Unlock()
			}
		}()
	}
	wg.Wait()
	during := r.lat.snap().sub(before)
	window := time.Since(floodAt)
	time.Sleep(300 * time.Millisecond)
	r.finish(15 * time.Second)
	t.Logf("garbage: %d frames sent, %d replies, connections ended: %v; rate limited: %s", frames.Load(), replies.Load(), closes, e.metric("switchboard_rate_limited_total"))
	t.Logf("others meanwhile: p50 %s p99 %s max %s over %d deliveries", ms(during.quantile(0.5)), ms(during.quantile(0.99)), ms(during.max), during.n)
	if closes["1008"]+closes["1009"] == 0 {
		t.Errorf("no flooding client was cut off with 1008 or 1009: %v", closes)
	}
	if strings.HasSuffix(e.metric("switchboard_rate_limited_total"), " 0") {
		t.Error("the rate limit never refused a frame")
	}
	if !strings.Contains(e.metric(`switchboard_errors_total{code="malformed"}`), "malformed") {
		t.Error("no malformed frame was refused")
	}
	if !e.healthy() {
		t.Fatal("the relay is not healthy after the flood")
	}
	// Agents and the supervisor each get every message.
	if expect := int64(2 * cfg.Rate * window.Seconds()); during.n < expect/2 || during.quantile(0.99) > budget(500*time.Millisecond) {
		t.Errorf("others were slowed down: %d deliveries in %s (expected about %d), p99 %s", during.n, window.Round(time.Millisecond), expect, ms(during.quantile(0.99)))
	}
	for _, p := range r.allPeers() {
		if len(p.closes.snapshot()) > 0 {
			t.Errorf("%s %d was closed: %v", p.role, p.idx, p.closes.snapshot())
		}
	}
	verify(t, r)
}

// flood connects and sends junk until the relay closes the connection; it
// returns the close code (or why it ended).
func flood(url, channel string, hello bool, stop time.Time, frames, replies *atomic.Int64) string {
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		time.Sleep(10 * time.Millisecond)
		return "dial"
	}
	defer ws.Close()
	done := make(chan string, 1)
	go func() {
		for {
			_, _, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					done <- fmt.Sprint(ce.Code)
				} else {
					done <- "eof"
				}
				return
			}
			replies.Add(1)
		}
	}()
	junk := [][]byte{
		[]byte(`{"id":"1","cmd":"message.send"`),
		[]byte(`not json at all`),
		[]byte(`{"id":"2","cmd":"no.such.command","data":{}}`),
		[]byte(`{"id":"3","cmd":"hello","data":{"v":99}}`),
		[]byte(`{"id":"4","cmd":"message.send","data":{"session":"s-x","client_id":"m1","text":"hi"}}`),
		[]byte(`[1,2,3]`),
	}
	if hello {
		// Past the hello, junk meets the rate limit rather than the hello checks.
		h := command("h", protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: channel})
		if ws.WriteMessage(websocket.TextMessage, h) != nil {
			return "write"
		}
	}
	big := []byte(`{"id":"5","cmd":"ping","data":"` + strings.Repeat("x", 70<<10) + `"}`)
	for time.Now().Before(stop) {
		var err error
		switch n := rand.IntN(1000); {
		case n < 5 && !hello: // past hello, junk should meet the rate limit first
			err = ws.WriteMessage(websocket.TextMessage, big)
		case n < 100:
			err = ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 255})
		default:
			err = ws.WriteMessage(websocket.TextMessage, junk[rand.IntN(len(junk))])
		}
		if err != nil {
			break
		}
		frames.Add(1)
		select {
		case why := <-done:
			return why
		default:
		}
	}
	select {
	case why := <-done:
		return why
	case <-time.After(2 * time.Second):
		return "open"
	}
}

// verifyStore reads every chat's log from the database and checks that each
// acknowledged message is stored exactly once, at the seq its ack named.
func verifyStore(t *testing.T, r *run, database string) {
	t.Helper()
	db, err := open.Store(context.Background(), database, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var missing, doubled, moved int
	for _, c := range r.chats {
		entries, err := db.Entries(context.Background(), chat.SessionID(c.session), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[uint64]int{}
		for _, e := range entries {
			if n, _ := messageOf(e.ClientID, e.Text); n > 0 {
				seen[n]++
				if want, ok := c.ackSeq[n]; ok && want != e.Seq {
					moved++
				}
			}
		}
		c.acked.each(func(n uint64) {
			switch seen[n] {
			case 0:
				missing++
			case 1:
			default:
				doubled++
			}
		})
	}
	t.Logf("database: %d acknowledged messages missing, %d stored twice, %d at another seq than acknowledged", missing, doubled, moved)
	if missing+doubled+moved > 0 {
		t.Errorf("the database lost %d acknowledged messages, doubled %d, moved %d", missing, doubled, moved)
	}
}

// TestFullDiskUnderLoad fills the filesystem the relay's database lives on
// (a small tmpfs, mounted by the test when it runs as root) while visitors
// publish, keeps it full for a while, then frees it. The relay must stay up
// with every client connected, refuse writes with "unavailable" and report
// 503 meanwhile, take writes again by itself, and lose or double nothing it
// acknowledged.
func TestFullDiskUnderLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small filesystem for the database needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+scale("64m", "256m")+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(60, 400), scale(6, 40), scale(3, 20)
	cfg.Rate = float64(cfg.Visitors) * 10
	e := newEnvAt(t, cfg, dir, "--timers-store-retry", "100ms", "--timers-store-backoff", "500ms")
	r := e.run("fulldisk")
	defer r.stop()
	r.startSenders()
	time.Sleep(scale(time.Second, 10*time.Second))

	filler := fillFilesystem(t, dir)
	filledAt := time.Now()
	if !waitFor(10*time.Second, func() bool { code, _ := e.health(); return code == http.StatusServiceUnavailable }) {
		t.Fatalf("/healthz never reported the full disk (acked %d)", r.acked.Load())
	}
	t.Logf("writes refused %s after the disk filled", time.Since(filledAt).Round(time.Millisecond))
	time.Sleep(scale(2*time.Second, 20*time.Second)) // full, under load
	code, body := e.health()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk full") {
		t.Errorf("/healthz on a full disk: %d %s", code, body)
	}
	refused := r.errs.snapshot()[string(protocol.CodeUnavailable)]
	if refused == 0 {
		t.Errorf("no send was refused with unavailable while the disk was full: %v", r.errs.snapshot())
	}
	ackedFull := r.acked.Load()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	if !waitFor(10*time.Second, func() bool { code, _ := e.health(); return code == http.StatusOK }) {
		t.Fatal("the relay did not take writes again within 10 s of the space coming back")
	}
	t.Logf("healthy again %s after the space came back; %d sends refused meanwhile; %s",
		time.Since(freedAt).Round(time.Millisecond), refused, e.metric("switchboard_store_write_failures_total"))
	time.Sleep(scale(time.Second, 10*time.Second))
	if r.acked.Load() <= ackedFull {
		t.Errorf("nothing acknowledged after the space came back (%d)", r.acked.Load())
	}
	select {
	case <-e.proc.done:
		t.Fatalf("the relay exited: %v", e.proc.err)
	default:
	}
	r.finish(15 * time.Second)
	verify(t, r)
	for _, p := range r.allPeers() {
		if closes := p.closes.snapshot(); len(closes) > 0 {
			t.Errorf("%s %d was disconnected: %v", p.role, p.idx, closes)
		}
	}
	e.proc.kill()
	e.proc = nil
	verifyStore(t, r, e.args.DB)
}

// fillFilesystem writes a file until the filesystem has no byte left;
// removing it gives the space back.
func fillFilesystem(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for size := len(buf); size >= 512; {
		if _, err := f.Write(buf[:size]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			size /= 2
		}
	}
	return path
}

// health is /healthz's status code and body (0 if it did not answer).
func (e *env) health() (int, string) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + e.args.Addr + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
