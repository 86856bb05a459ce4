package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/app/config"
	"switchboard/app/secret"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

func TestReadHandover(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", maxHandoverLine+1)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"h1.abc-DEF_123\n", "h1.abc-DEF_123", true},
		{"h1.abc\r\n", "h1.abc", true},
		{"h1.abc", "h1.abc", true}, // no newline before the pipe closed
		{"h1.abc\nmore\n", "h1.abc", true},
		{"", "", false},
		{"\n", "", false},
		{"two words\n", "", false},
		{"tab\there\n", "", false},
		{"ünicode\n", "", false},
		{long + "\n", "", false},
	} {
		got, err := ReadHandover(strings.NewReader(tc.in), time.Second)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ReadHandover(%.20q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, errNoHandover) {
			t.Errorf("ReadHandover(%.20q): error %v is not errNoHandover", tc.in, err)
		}
	}
	// Nobody ever writes (a terminal, an opener that died): give up in time.
	r, w := io.Pipe()
	defer w.Close()
	start := time.Now()
	if _, err := ReadHandover(r, 50*time.Millisecond); !errors.Is(err, errNoHandover) {
		t.Fatalf("silent stdin: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("ReadHandover did not give up")
	}
}

func TestStartWithStdinRefusesASecondLine(t *testing.T) {
	t.Parallel()
	cmd, _ := noopChild(nil)
	if err := startWithStdin(cmd, "a\nb"); err == nil {
		t.Fatal("a token with a newline was written")
	}
	if cmd.Process != nil {
		t.Fatal("the child was started anyway")
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// childEnv marks the test binary started as a dashboard window.
const childEnv = "SWITCHBOARD_TEST_HANDOVER_CHILD"

// childReport is what the child process prints on its last line.
type childReport struct {
	Token      string `json:"token"` // what arrived on stdin (revoked by now)
	Login      string `json:"login"`
	Dashboard  bool   `json:"dashboard"`  // a dashboard picture reached its UI
	ArgsClean  bool   `json:"args_clean"` // the token is not in its args
	EnvClean   bool   `json:"env_clean"`  // nor in its environment
	Second     string `json:"second"`     // the error code of a second sign-in with the same token
	ServerFlag bool   `json:"server_flag"`
	Err        string `json:"err,omitempty"`
}

// TestHandoverChild is not a test of its own: TestDashboardHandover starts
// this test binary as the dashboard process. It reads the handed-over token
// with the dashboard's own reader, signs in through its own core and relay
// client, and tries the token once more.
func TestHandoverChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("started only as the child of TestDashboardHandover")
	}
	rep := runHandoverChild(flag.Args())
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

func runHandoverChild(args []string) (rep childReport) {
	fail := func(format string, a ...any) childReport { rep.Err = fmt.Sprintf(format, a...); return rep }
	var server string
	handover := false
	for _, a := range args {
		switch {
		case a == HandoverFlag:
			handover = true
		case strings.HasPrefix(a, "--server="):
			server = strings.TrimPrefix(a, "--server=")
		}
	}
	rep.ServerFlag = server != ""
	if !handover {
		return fail("started without %s: %q", HandoverFlag, args)
	}
	tok, err := ReadHandover(os.Stdin, 5*time.Second)
	if err != nil {
		return fail("read: %v", err)
	}
	rep.Token = tok
	rep.ArgsClean = !strings.Contains(strings.Join(os.Args, " "), tok)
	rep.EnvClean = !strings.Contains(strings.Join(os.Environ(), "\n"), tok)

	dir, err := os.MkdirTemp("", "handover-child")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(dir)
	newDashboard := func(token string) (*core, *Recorder, error) {
		cfg, err := config.Load(config.Options{UserDir: filepath.Join(dir, "user"), MachineDir: filepath.Join(dir, "machine"),
			Flags: map[string]string{config.KeyServer: server}, Logger: testLogger()})
		if err != nil {
			return nil, nil, err
		}
		rec := &Recorder{}
		c := newCore(coreOptions{Emitter: rec, Config: cfg, Window: WindowDashboard, Handover: token, Logger: testLogger(),
			Secrets: secret.File{Path: filepath.Join(dir, "user", secret.FileName)}, DashboardRunning: func() bool { return false }})
		return c, rec, nil
	}
	c, rec, err := newDashboard(tok)
	if err != nil {
		return fail("%v", err)
	}
	defer c.shutdown()
	if cfg := c.config().Data.(ConfigData); !cfg.HasToken || !cfg.Handover || cfg.Window != "dashboard" {
		return fail("config before sign-in: %+v", cfg)
	}
	res := c.resume()
	if !res.OK {
		return fail("sign-in with the handed-over token: %v", res)
	}
	rep.Login = res.Data.(protocol.AgentWelcome).Agent.Login
	for deadline := time.Now().Add(waitTimeout); time.Now().Before(deadline) && !rep.Dashboard; time.Sleep(10 * time.Millisecond) {
		for _, e := range rec.Events() {
			if p, ok := e.Data[0].(EventPayload); ok && e.Name == EventRelay && p.Ev == protocol.EvDashboard {
				rep.Dashboard = true
			}
		}
	}
	if again := c.resume(); again.OK || again.Error.Code != CodeNoToken {
		return fail("the core kept the token for a second sign-in: %v", again)
	}

	// Someone who got hold of the token afterwards gets nothing.
	c2, _, err := newDashboard(tok)
	if err != nil {
		return fail("%v", err)
	}
	defer c2.shutdown()
	if r := c2.resume(); r.OK {
		rep.Second = "ok"
	} else {
		rep.Second = string(r.Error.Code)
	}
	return rep
}

// The desk window opens the dashboard: it asks the relay for a one-time
// token and starts a second process that gets it on standard input only.
// That process is this test binary (TestHandoverChild), which signs in with
// the real reader and core against the real relay.
func TestDashboardHandover(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	out := &syncBuffer{}
	cecilia := newTestDesk(t, deskOpts{command: func(args []string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHandoverChild$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.Stdout, cmd.Stderr = out, out
		return cmd, nil
	}})
	cecilia.login(h.URL(), "cecilia", true)

	res := cecilia.c.openDashboard()
	if !res.OK || res.Data != nil {
		t.Fatalf("open dashboard: %v (data %v: the UI must never see the token)", res, res.Data)
	}
	var rep childReport
	wait(t, "the dashboard process's report", func() bool {
		for _, line := range strings.Split(out.String(), "\n") {
			if s, ok := strings.CutPrefix(line, "REPORT "); ok {
				return json.Unmarshal([]byte(s), &rep) == nil
			}
		}
		return false
	})
	if rep.Err != "" {
		t.Fatalf("child: %s\n%s", rep.Err, out.String())
	}
	if rep.Login != "cecilia" || !rep.Dashboard || !rep.ServerFlag {
		t.Fatalf("child report %+v", rep)
	}
	if !strings.HasPrefix(rep.Token, "h1.") || rep.Token == cecilia.c.current().Token() {
		t.Fatalf("the child got %q, not a one-time token", rep.Token)
	}
	if rep.Second != string(protocol.CodeBadCredentials) {
		t.Fatalf("the token worked twice: second sign-in %q", rep.Second)
	}
	if !rep.ArgsClean || !rep.EnvClean {
		t.Fatalf("the child saw its token in its args or environment: %+v", rep)
	}

	// The command as started: the token is on no command line and in no
	// environment, and standard input was a pipe.
	cecilia.mu.Lock()
	cmd, args := cecilia.cmds[0], cecilia.spawned[0]
	cecilia.mu.Unlock()
	if strings.Join(args, " ") != "--window=dashboard --handover-stdin --server="+h.URL() {
		t.Fatalf("dashboard args %q", args)
	}
	if strings.Contains(strings.Join(cmd.Args, " "), rep.Token) || strings.Contains(cmd.Path, rep.Token) {
		t.Fatalf("the token is on the command line: %q", cmd.Args)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	if strings.Contains(strings.Join(env, "\n"), rep.Token) || strings.Contains(strings.Join(os.Environ(), "\n"), rep.Token) {
		t.Fatal("the token is in the environment")
	}
	if _, isPipe := cmd.Stdin.(*os.File); !isPipe {
		t.Fatalf("stdin is %T, not the pipe", cmd.Stdin)
	}
	// Nothing of the token went to the UI either.
	for _, e := range cecilia.rec.Events() {
		if b, _ := json.Marshal(e.Data); strings.Contains(string(b), rep.Token) {
			t.Fatalf("event %s carried the token", e.Name)
		}
	}

	// A third try, straight at the relay: refused, as the token is spent.
	raw := relaytest.Dial(t, h.URL(), "")
	raw.Refused(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: rep.Token}, protocol.CodeBadCredentials)
	// The desk's own sign-in is untouched.
	if cfg := cecilia.c.config().Data.(ConfigData); !cfg.HasToken {
		t.Fatal("opening the dashboard cost the desk its remembered sign-in")
	}
}

func TestDashboardAlreadyOpenIsRaisedWithoutAToken(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	lars := newTestDesk(t, deskOpts{dashboardUp: true})
	lars.login(h.URL(), "lars", false)
	lars.ok("dashboard", lars.c.openDashboard())
	lars.mu.Lock()
	defer lars.mu.Unlock()
	if len(lars.spawned) != 1 || strings.Join(lars.spawned[0], " ") != "--window=dashboard --server="+h.URL() {
		t.Fatalf("spawned %q", lars.spawned)
	}
	if lars.cmds[0].Stdin != nil {
		t.Fatal("a running dashboard was handed a token")
	}
}

// A dashboard started by hand has nothing handed over: it shows the login,
// and signing in there keeps nothing in the profile (the desk window's).
func TestDashboardStartedByHand(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	userDir := filepath.Join(t.TempDir(), "user")
	desk := newTestDesk(t, deskOpts{userDir: userDir})
	desk.login(h.URL(), "cecilia", true)
	desk.c.shutdown()
	before, _ := os.ReadFile(filepath.Join(userDir, secret.FileName))

	dash := newTestDesk(t, deskOpts{userDir: userDir, window: WindowDashboard})
	cfg := dash.c.config().Data.(ConfigData)
	if cfg.HasToken || cfg.Handover || cfg.Window != "dashboard" || cfg.Login != "cecilia" {
		t.Fatalf("config of a dashboard started by hand: %+v", cfg)
	}
	dash.refused("resume", dash.c.resume(), CodeNoToken)
	res := dash.c.login(LoginRequest{Server: h.URL(), Login: "lars", Password: relaytest.Password, Remember: false})
	if !res.OK {
		t.Fatalf("login: %v", res)
	}
	dash.waitEvent(EventRelay, 0, func(a any) bool { return a.(EventPayload).Ev == protocol.EvDashboard })
	after, _ := os.ReadFile(filepath.Join(userDir, secret.FileName))
	if !bytes.Equal(before, after) || len(before) == 0 {
		t.Fatal("the dashboard's sign-in changed the desk's remembered token")
	}
	if s := dash.c.cfg.Settings(); s.Login != "cecilia" || !s.Remember {
		t.Fatalf("the dashboard's sign-in changed the profile: %+v", s)
	}
	dash.ok("logout", dash.c.logout())
	after, _ = os.ReadFile(filepath.Join(userDir, secret.FileName))
	if !bytes.Equal(before, after) {
		t.Fatal("signing out of the dashboard forgot the desk's remembered token")
	}
}

// A handed-over token that the relay refuses leaves the profile alone.
func TestRefusedHandoverKeepsTheDesksToken(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	userDir := filepath.Join(t.TempDir(), "user")
	desk := newTestDesk(t, deskOpts{userDir: userDir})
	desk.login(h.URL(), "cecilia", true)
	desk.c.shutdown()
	dash := newTestDesk(t, deskOpts{userDir: userDir, window: WindowDashboard, handover: "h1.not-a-real-token"})
	dash.refused("resume", dash.c.resume(), protocol.CodeBadCredentials)
	if cfg := desk.c.config().Data.(ConfigData); !cfg.HasToken {
		t.Fatal("a refused handover forgot the desk's remembered token")
	}
	// A main window is never handed a token.
	main := newTestDesk(t, deskOpts{userDir: filepath.Join(t.TempDir(), "other"), handover: "h1.x"})
	if cfg := main.c.config().Data.(ConfigData); cfg.HasToken || cfg.Handover {
		t.Fatalf("main window config %+v", cfg)
	}
}

// The desktop Run reads the handed-over line only for a dashboard window
// started with --handover-stdin (Options.Handover set), and names the
// window so the two windows of one agent are told apart.
func TestHandoverForAndTitles(t *testing.T) {
	t.Parallel()
	log := testLogger()
	if got := handoverFor(Options{Window: WindowDashboard, Handover: strings.NewReader("h1.tok\n")}, log); got != "h1.tok" {
		t.Fatalf("dashboard: %q", got)
	}
	if got := handoverFor(Options{Window: WindowMain, Handover: strings.NewReader("h1.tok\n")}, log); got != "" {
		t.Fatalf("main window read a token: %q", got)
	}
	if got := handoverFor(Options{Window: WindowDashboard}, log); got != "" {
		t.Fatalf("no reader: %q", got)
	}
	if got := handoverFor(Options{Window: WindowDashboard, Handover: strings.NewReader("")}, log); got != "" {
		t.Fatalf("empty stdin: %q", got)
	}
	if windowTitle(WindowMain, "sv") != "Switchboard" || windowTitle(WindowDashboard, "en") != "Switchboard Dashboard" ||
		windowTitle(WindowDashboard, "sv") != "Switchboard Översikt" {
		t.Fatal("window titles")
	}
	if got := strings.Join(dashboardArgs("ws://h/ws", "sv", true), " "); got != "--window=dashboard --handover-stdin --server=ws://h/ws --language=sv" {
		t.Fatalf("args %q", got)
	}
}

// The dashboard's connection drops, then the relay restarts on the same
// database: the window comes back by itself on the session token the relay
// exchanged for the one-time one, and follows the desk again. The session
// token is only in the process's memory (not on disk, not in the UI's
// events); the one-time token stays spent; signing out revokes the session
// token, and so does closing a window that is still signed in.
func TestDashboardSurvivesDropAndRelayRestart(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	px := newProxy(t, h.HTTP.Listener.Addr().String())
	desk, _ := h.Agent("cecilia", nil)
	handover := func() string {
		var ho protocol.Handover
		desk.OK(protocol.CmdTokenHandover, nil, &ho)
		return ho.Token
	}
	once := handover()
	dash := newTestDesk(t, deskOpts{window: WindowDashboard, handover: once, server: px.url()})
	if res := dash.c.resume(); !res.OK {
		t.Fatalf("handover sign-in: %v", res)
	}
	_, _, i := waitDash(dash, 0, "the first picture", func(protocol.Dashboard) bool { return true })
	session := dash.c.current().Token()
	if session == "" || session == once || strings.HasPrefix(session, "h1.") {
		t.Fatalf("the dashboard holds %q after the handover, not a session token", session)
	}
	_, si := dash.waitState("connected", 0)

	// The network drops.
	px.drop()
	_, si = dash.waitState("reconnecting", si)
	_, si = dash.waitState("connected", si)
	_, vera := h.Visitor("Vera", "My invoice is wrong")
	_, _, i = waitDash(dash, i, "Vera waiting, after the drop", func(d protocol.Dashboard) bool {
		_, ok := dashSession(d, vera.Session)
		return ok && d.Overall.Waiting >= 1
	})

	// The relay restarts on the same database (behind the same address).
	h.Restart()
	px.retarget(h.HTTP.Listener.Addr().String())
	_, si = dash.waitState("reconnecting", si)
	dash.waitState("connected", si)
	_, walter := h.Visitor("Walter", "Where is my parcel?")
	waitDash(dash, i, "Walter waiting, after the restart", func(d protocol.Dashboard) bool {
		_, ok := dashSession(d, walter.Session)
		return ok
	})
	if got := dash.c.current().Token(); got != session {
		t.Fatal("the session token changed on reconnecting")
	}

	// Neither token reached the UI or the disk.
	for _, e := range dash.rec.Events() {
		if b, _ := json.Marshal(e.Data); strings.Contains(string(b), session) || strings.Contains(string(b), once) {
			t.Fatalf("event %s carried a token", e.Name)
		}
	}
	_ = filepath.WalkDir(dash.userDir, func(path string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), session) {
				t.Fatalf("the session token is on disk in %s", path)
			}
		}
		return nil
	})

	// The one-time token is still spent, on the restarted relay too.
	relaytest.Dial(t, h.URL(), "").Refused(protocol.CmdHello,
		protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: once}, protocol.CodeBadCredentials)

	// Signing out of the dashboard revokes its session token.
	dash.ok("logout", dash.c.logout())
	relaytest.Dial(t, h.URL(), "").Refused(protocol.CmdHello,
		protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: session}, protocol.CodeBadCredentials)

	// So does closing a dashboard window that is signed in.
	desk, _ = h.Agent("cecilia", nil) // the desk's link went with the old relay
	second := newTestDesk(t, deskOpts{window: WindowDashboard, handover: handover(), server: h.URL()})
	if res := second.c.resume(); !res.OK {
		t.Fatalf("second dashboard: %v", res)
	}
	closed := second.c.current().Token()
	second.c.shutdown()
	relaytest.Dial(t, h.URL(), "").Refused(protocol.CmdHello,
		protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: closed}, protocol.CodeBadCredentials)
}
