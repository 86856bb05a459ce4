package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/app/config"
	"switchboard/app/notify"
	"switchboard/app/secret"
	"switchboard/app/tray"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// waitTimeout bounds every wait; nothing here is a timing goal.
const waitTimeout = 10 * time.Second

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakeShell records what the core asked of the window.
type fakeShell struct {
	mu           sync.Mutex
	shows, quits int
	title        string
}

func (f *fakeShell) Show()             { f.mu.Lock(); f.shows++; f.mu.Unlock() }
func (f *fakeShell) Quit()             { f.mu.Lock(); f.quits++; f.mu.Unlock() }
func (f *fakeShell) SetTitle(t string) { f.mu.Lock(); f.title = t; f.mu.Unlock() }
func (f *fakeShell) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shows, f.quits
}

// testDesk is one app core under test, with its own config directories.
type testDesk struct {
	t       *testing.T
	c       *core
	rec     *Recorder
	shell   *fakeShell
	userDir string
	machine string
	spawned [][]string  // the args of every dashboard started
	cmds    []*exec.Cmd // and its command
	notes   []notify.Note
	mu      sync.Mutex
}

type deskOpts struct {
	userDir, machineDir string
	window              Window
	handover            string // a dashboard window's handed-over token
	dashboardUp         bool   // pretend this profile's dashboard is open
	server              string // as if given with --server
	// command builds the child for a dashboard; nil = this test binary,
	// running no test (so it ends at once).
	command func(args []string) (*exec.Cmd, error)
}

// noopChild runs this test binary without running any test: a child
// process that starts, reads nothing and ends.
func noopChild(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	return cmd, nil
}

func newTestDesk(t *testing.T, o deskOpts) *testDesk {
	t.Helper()
	if o.userDir == "" {
		o.userDir = filepath.Join(t.TempDir(), "user")
	}
	if o.machineDir == "" {
		o.machineDir = filepath.Join(t.TempDir(), "machine")
	}
	var flags map[string]string
	if o.server != "" {
		flags = map[string]string{config.KeyServer: o.server}
	}
	cfg, err := config.Load(config.Options{UserDir: o.userDir, MachineDir: o.machineDir, Flags: flags, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	d := &testDesk{t: t, rec: &Recorder{}, shell: &fakeShell{}, userDir: o.userDir, machine: o.machineDir}
	d.c = newCore(coreOptions{Emitter: d.rec, Config: cfg, Window: o.window, Shell: d.shell, Logger: testLogger(),
		Secrets:          secret.File{Path: filepath.Join(o.userDir, secret.FileName)},
		Backoff:          20 * time.Millisecond,
		Handover:         o.handover,
		DashboardRunning: func() bool { return o.dashboardUp },
		Command: func(args []string) (*exec.Cmd, error) {
			build := o.command
			if build == nil {
				build = noopChild
			}
			cmd, err := build(args)
			d.mu.Lock()
			d.spawned = append(d.spawned, args)
			d.cmds = append(d.cmds, cmd)
			d.mu.Unlock()
			return cmd, err
		}})
	d.c.setNoteHook(func(n notify.Note) { d.mu.Lock(); d.notes = append(d.notes, n); d.mu.Unlock() })
	t.Cleanup(d.c.shutdown)
	return d
}

// login signs in an agent of the harness with the seeded password.
func (d *testDesk) login(url, login string, remember bool) protocol.AgentWelcome {
	d.t.Helper()
	res := d.c.login(LoginRequest{Server: url, Login: login, Password: relaytest.Password, Remember: remember})
	if !res.OK {
		d.t.Fatalf("login %s: %v", login, res)
	}
	w, ok := res.Data.(protocol.AgentWelcome)
	if !ok {
		d.t.Fatalf("login data is %T", res.Data)
	}
	return w
}

func (d *testDesk) ok(what string, res Result) json.RawMessage {
	d.t.Helper()
	if !res.OK {
		d.t.Fatalf("%s: %v", what, res)
	}
	raw, _ := res.Data.(json.RawMessage)
	return raw
}

func (d *testDesk) refused(what string, res Result, code protocol.Code) {
	d.t.Helper()
	if res.OK || res.Error == nil || res.Error.Code != code {
		d.t.Fatalf("%s: got %v, want code %s", what, res, code)
	}
}

// wait polls until cond holds.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEvent waits for an emitted event named name (from index from on)
// whose payload satisfies pred, and returns it with its index.
func (d *testDesk) waitEvent(name string, from int, pred func(any) bool) (any, int) {
	d.t.Helper()
	var got any
	idx := -1
	wait(d.t, "event "+name, func() bool {
		evs := d.rec.Events()
		for i := from; i < len(evs); i++ {
			if evs[i].Name == name && len(evs[i].Data) == 1 && (pred == nil || pred(evs[i].Data[0])) {
				got, idx = evs[i].Data[0], i
				return true
			}
		}
		return false
	})
	return got, idx
}

// waitState waits for relay:state st.
func (d *testDesk) waitState(st string, from int) (StatePayload, int) {
	d.t.Helper()
	p, i := d.waitEvent(EventState, from, func(a any) bool { return a.(StatePayload).State == st })
	return p.(StatePayload), i
}

// waitRelay waits for a relay:event ev whose data decodes into out and
// satisfies pred.
func waitRelay[T any](d *testDesk, ev string, from int, pred func(T) bool) (T, int) {
	d.t.Helper()
	var out T
	_, i := d.waitEvent(EventRelay, from, func(a any) bool {
		p := a.(EventPayload)
		var v T
		if p.Ev != ev || json.Unmarshal(p.Data, &v) != nil {
			return false
		}
		if pred == nil || pred(v) {
			out = v
			return true
		}
		return false
	})
	return out, i
}

// waitOutbox waits for the outbox to report clientID in status.
func (d *testDesk) waitOutbox(clientID, status string) OutboxPayload {
	d.t.Helper()
	p, _ := d.waitEvent(EventOutbox, 0, func(a any) bool {
		o := a.(OutboxPayload)
		return o.ClientID == clientID && o.Status == status
	})
	return p.(OutboxPayload)
}

func clientID(t *testing.T, res Result) string {
	t.Helper()
	if !res.OK {
		t.Fatalf("send: %v", res)
	}
	return res.Data.(ClientIDData).ClientID
}

// proxy forwards TCP to the relay and can cut every connection at once: a
// dropped link, as a flaky network makes it.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.drop() })
	return p
}

func (p *proxy) url() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		out, err := net.Dial("tcp", target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
		go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
	}
}

// retarget forwards new connections to target: the relay came back
// elsewhere, behind the same address as far as clients can tell.
func (p *proxy) retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// drop cuts every connection made so far.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func labels(m tray.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if !it.Separator() {
			out = append(out, it.Label)
		}
	}
	return out
}
