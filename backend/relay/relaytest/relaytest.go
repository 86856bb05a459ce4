// Package relaytest starts a real relay on a real SQLite file behind a real
// HTTP server, and drives it with real websocket clients. Tests of the relay,
// the widget, the dashboard and the desktop app's Go side share it.
package relaytest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/protocol"
	"switchboard/backend/protocol/client"
	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
	"switchboard/backend/store/pgtest"
)

// Password is every seeded agent's password.
const Password = "correct horse battery"

// Agent is a seeded agent.
type Agent struct {
	Login, Name string
	Perms       string // e.g. "respond,notify"
}

// DefaultAgents: two agents who answer, a supervisor, a listener, and one
// without any permission.
var DefaultAgents = []Agent{
	{"anna", "Anna", "respond,notify"},
	{"bertil", "Bertil", "respond,notify"},
	{"cecilia", "Cecilia", "respond,notify,listen,manage"},
	{"lars", "Lars", "listen"},
	{"nils", "Nils", ""},
}

// Options change the harness.
type Options struct {
	Agents  []Agent
	Channel store.ChannelRow
	Config  func(*relay.Config)
	// Handler wraps the relay's handler (to add the widget, say).
	Handler func(relay http.Handler) http.Handler
	// OwnOrigin makes the harness's own origin the relay's demo origin, so
	// that pages served through Handler may open websockets, as the demo
	// page of a relay with the demo on.
	OwnOrigin bool
	// Closed sets the channel's opening hours to a day that is not today:
	// visitors get the offline form while agents are Present, as outside
	// opening hours.
	Closed bool
	// Blobs is where the relay keeps attachments' bytes; nil: a directory
	// (FilesDir), or the database itself when the tests run against
	// PostgreSQL.
	Blobs func(h *Harness) files.Blobs
	// Files changes the attachments' options (their clock, say).
	Files func(*files.Options)
	// DBPath is the database file (on a small filesystem, say); empty: one
	// in t.TempDir(), or a fresh PostgreSQL database when the tests run
	// against PostgreSQL (see UsePostgres).
	DBPath string
}

// UsePostgres says whether relay tests run against PostgreSQL: set
// SWITCHBOARD_TEST_STORE=postgres (make test runs the suite both ways).
func UsePostgres() bool { return os.Getenv("SWITCHBOARD_TEST_STORE") == "postgres" }

// SQLiteOnly skips a test that works on the SQLite file itself (its mode,
// its filesystem) when the tests run against PostgreSQL.
func SQLiteOnly(t testing.TB) {
	t.Helper()
	if UsePostgres() {
		t.Skip("about the SQLite file; the tests run against PostgreSQL")
	}
}

// Main runs a test binary's tests and stops the PostgreSQL server they
// started, if any: call it from TestMain.
func Main(m *testing.M) { pgtest.Main(m) }

// ClosedHours are opening hours on one weekday three days from now: the
// channel is closed today, whatever its time zone (a test does not last
// two days).
func ClosedHours() string {
	day := time.Now().UTC().AddDate(0, 0, 3).Weekday()
	return strings.ToLower(day.String()[:3]) + " 09:00-17:00"
}

// Harness is a running relay.
type Harness struct {
	T testing.TB
	// Database is what the relay was opened on: DBPath, or a PostgreSQL
	// address; OpenStore opens it again.
	Database string
	DBPath   string
	Store    store.Store
	Server   *relay.Server
	HTTP     *httptest.Server
	Config   relay.Config
	opts     Options
	IDs      map[string]int64 // login -> agent id
	// Files serves attachments; FilesDir holds their bytes on disk.
	Files    *files.Service
	FilesDir string
	pool     *pgxpool.Pool
}

var lowerCost sync.Once

// Start seeds a database in t.TempDir() and runs a relay on it.
func Start(t testing.TB, opts Options) *Harness {
	t.Helper()
	lowerCost.Do(func() { relay.PasswordCost = bcrypt.MinCost })
	if opts.Agents == nil {
		opts.Agents = DefaultAgents
	}
	if opts.Channel.Key == "" {
		opts.Channel = store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC", OfflineForm: true,
			WarnAfter: time.Minute, ManagerWarnAfter: 3 * time.Minute, TransferTimeout: chat.DefaultTransferTimeout}
	}
	database := opts.DBPath
	if database == "" && UsePostgres() {
		database = pgtest.Start(t)
	} else if database == "" {
		opts.DBPath = filepath.Join(t.TempDir(), "relay.db")
		database = opts.DBPath
	}
	if opts.Closed {
		opts.Channel.Hours = ClosedHours()
	}
	h := &Harness{T: t, Database: database, DBPath: opts.DBPath, opts: opts, IDs: map[string]int64{},
		FilesDir: filepath.Join(t.TempDir(), "files")}
	db := h.OpenStore()
	ctx := context.Background()
	if err := db.PutChannel(ctx, opts.Channel); err != nil {
		t.Fatal(err)
	}
	hash, err := relay.HashPassword(Password)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range opts.Agents {
		id, err := db.CreateAgent(ctx, a.Login, a.Name, hash)
		if err != nil {
			t.Fatal(err)
		}
		h.IDs[a.Login] = int64(id)
		if a.Perms != "" {
			p, ok := chat.ParsePerms(strings.Split(a.Perms, ","))
			if !ok {
				t.Fatalf("bad perms %q", a.Perms)
			}
			if err := db.Grant(ctx, a.Login, opts.Channel.Key, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.Store = db
	h.boot()
	t.Cleanup(h.Stop)
	return h
}

func (h *Harness) boot() {
	h.T.Helper()
	cfg := relay.DefaultConfig()
	cfg.TickInterval = 20 * time.Millisecond
	cfg.DashboardInterval = 50 * time.Millisecond
	cfg.DirectoryPoll = 100 * time.Millisecond
	cfg.RatePerSecond, cfg.RateBurst = 1000, 1000
	// Listen first: the origin is known before the relay is configured.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.T.Fatal(err)
	}
	if h.opts.OwnOrigin {
		cfg.DemoOrigin = "http://" + ln.Addr().String()
	}
	// Every test client comes from 127.0.0.1: no limits per address (the
	// security tests set them through Options.Config).
	cfg.ConnsPerIP, cfg.StartsPerMinute = 0, 0
	if h.opts.Config != nil {
		h.opts.Config(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	if cfg.Files == nil {
		cfg.Files = h.filesService(cfg, log)
	}
	h.Files = cfg.Files
	h.Config = cfg
	srv, err := relay.New(cfg, h.Store, log)
	if err != nil {
		h.T.Fatal(err)
	}
	srv.Start()
	h.Server = srv
	var handler http.Handler = srv.Handler()
	if h.opts.Handler != nil {
		handler = h.opts.Handler(handler)
	}
	// The relay's own HTTP server settings (timeouts, header limit).
	h.HTTP = &httptest.Server{Listener: ln, Config: cfg.HTTPServer(handler)}
	h.HTTP.Start()
}

// Stop shuts the relay down gracefully and closes the store.
func (h *Harness) Stop() {
	if h.Server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = h.Server.Shutdown(ctx)
	h.HTTP.CloseClientConnections()
	h.HTTP.Close()
	_ = h.Store.Close()
	if h.pool != nil {
		h.pool.Close()
		h.pool = nil
	}
	h.Server = nil
}

// filesService keeps attachments as Options.Blobs says.
func (h *Harness) filesService(cfg relay.Config, log *slog.Logger) *files.Service {
	h.T.Helper()
	var blobs files.Blobs
	switch {
	case h.opts.Blobs != nil:
		blobs = h.opts.Blobs(h)
	case UsePostgres():
		pool, err := pgxpool.New(context.Background(), h.Database)
		if err != nil {
			h.T.Fatal(err)
		}
		h.pool = pool
		blobs = &files.Postgres{Pool: pool}
	default:
		disk, err := files.NewDisk(h.FilesDir)
		if err != nil {
			h.T.Fatal(err)
		}
		blobs = disk
	}
	fopt := files.Options{CheckOrigin: relay.NewGate(cfg).OriginAllowed, Log: log, TempDir: h.T.TempDir()}
	if h.opts.Files != nil {
		h.opts.Files(&fopt)
	}
	svc, err := files.New(context.Background(), h.Store, blobs, fopt)
	if err != nil {
		h.T.Fatal(err)
	}
	return svc
}

// Restart stops the relay and starts a new one on the same database.
func (h *Harness) Restart() {
	h.T.Helper()
	h.Stop()
	h.Store = h.OpenStore()
	h.boot()
}

// OpenStore opens the harness's database (again): for a relay, or for a
// test that changes it while the relay is down, as an admin command would.
func (h *Harness) OpenStore() store.Store {
	h.T.Helper()
	db, err := open.Store(context.Background(), h.Database, store.Options{})
	if err != nil {
		h.T.Fatal(err)
	}
	return db
}

// Metric reads one unlabelled value of the relay's /metrics; -1 when the
// relay does not report it.
func (h *Harness) Metric(name string) int64 {
	h.T.Helper()
	resp, err := http.Get(h.HTTP.URL + "/metrics")
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.T.Fatalf("%s in /metrics: %q", name, v)
			}
			return int64(n)
		}
	}
	return -1
}

// URL is the websocket endpoint.
func (h *Harness) URL() string { return "ws" + strings.TrimPrefix(h.HTTP.URL, "http") + "/ws" }

// ID is a seeded agent's id.
func (h *Harness) ID(login string) int64 { return h.IDs[login] }

// Client is one websocket client that records everything it receives: a
// client.Conn whose events and unclaimed replies are kept for the test to
// wait on. Duplicates are kept too: tests check the relay sends none.
type Client struct {
	T    testing.TB
	WS   *websocket.Conn
	Conn *client.Conn

	mu      sync.Mutex
	cond    *sync.Cond
	frames  []protocol.ServerFrame // events, in arrival order
	replies map[string]protocol.ServerFrame
	closed  error
}

// Dial opens a websocket; origin may be empty (a desktop client).
func Dial(t testing.TB, url, origin string) *Client {
	t.Helper()
	c, _, err := DialErr(t, url, origin)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// DialErr is Dial that returns the handshake error (and response).
func DialErr(t testing.TB, url, origin string) (*Client, *http.Response, error) {
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	return DialHeader(t, url, hdr)
}

// DialHeader is DialErr with any request headers (X-Forwarded-For, say).
func DialHeader(t testing.TB, url string, hdr http.Header) (*Client, *http.Response, error) {
	c := &Client{T: t, replies: map[string]protocol.ServerFrame{}}
	c.cond = sync.NewCond(&c.mu)
	conn, resp, err := client.Dial(context.Background(), url, client.Options{
		Header: hdr, Dialer: websocket.DefaultDialer, Timeout: Timeout,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(f *client.Frame) { c.record(f, true) },
		OnReply: func(f *client.Frame) { c.record(f, false) },
	})
	if err != nil {
		return nil, resp, err
	}
	c.Conn, c.WS = conn, conn.WS()
	go func() {
		<-conn.Done()
		c.mu.Lock()
		c.closed = conn.Err()
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	t.Cleanup(conn.Close)
	return c, resp, nil
}

// record keeps an event, or a reply no Do waits for (a raw Send's).
func (c *Client) record(f *client.Frame, event bool) {
	sf := f.ServerFrame()
	c.mu.Lock()
	if event {
		c.frames = append(c.frames, sf)
	} else {
		c.replies[sf.Re] = sf
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

// Timeout bounds every wait.
var Timeout = 5 * time.Second

// waitFor blocks until cond holds (under c.mu) or the timeout passes.
func (c *Client) waitFor(what string, cond func() bool) bool {
	deadline := time.Now().Add(Timeout)
	timer := time.AfterFunc(Timeout, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	for !cond() {
		if c.closed != nil || time.Now().After(deadline) {
			return false
		}
		c.cond.Wait()
	}
	return true
}

// Send writes a raw frame.
func (c *Client) Send(frame string) error {
	return c.Conn.WriteFrame([]byte(frame))
}

// Do sends a command and waits for its reply.
func (c *Client) Do(cmd string, data any) protocol.ServerFrame {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	r, err := c.Conn.Call(ctx, cmd, data)
	if err != nil {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		c.T.Fatalf("%s: %v (closed: %v)", cmd, err, closed)
	}
	return r
}

// Reply waits for the reply to a command id.
func (c *Client) Reply(id string) protocol.ServerFrame {
	c.T.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var r protocol.ServerFrame
	ok := c.waitFor("reply "+id, func() bool { var ok bool; r, ok = c.replies[id]; return ok })
	if !ok {
		c.T.Fatalf("no reply to %s (closed: %v)", id, c.closed)
	}
	return r
}

// OK sends a command, fails the test unless it succeeds, and decodes the data.
func (c *Client) OK(cmd string, data, out any) {
	c.T.Helper()
	r := c.Do(cmd, data)
	if !r.OK {
		c.T.Fatalf("%s: %v", cmd, r.Error)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.T.Fatalf("%s: decode %s: %v", cmd, r.Data, err)
		}
	}
}

// Refused sends a command and fails the test unless it is refused with code.
func (c *Client) Refused(cmd string, data any, code protocol.Code) {
	c.T.Helper()
	r := c.Do(cmd, data)
	if r.OK || r.Error == nil || r.Error.Code != code {
		c.T.Fatalf("%s: want error %s, got ok=%v %v", cmd, code, r.OK, r.Error)
	}
}

// Event waits for the first event named ev (after index from) matching pred
// and returns it with its index.
func (c *Client) Event(ev string, from int, pred func(protocol.ServerFrame) bool) (protocol.ServerFrame, int) {
	c.T.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var found protocol.ServerFrame
	idx := -1
	ok := c.waitFor("event "+ev, func() bool {
		for i := from; i < len(c.frames); i++ {
			if c.frames[i].Ev == ev && (pred == nil || pred(c.frames[i])) {
				found, idx = c.frames[i], i
				return true
			}
		}
		return false
	})
	if !ok {
		c.T.Fatalf("no %s event (closed: %v); got %d events", ev, c.closed, len(c.frames))
	}
	return found, idx
}

// Events returns a copy of every event so far.
func (c *Client) Events() []protocol.ServerFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]protocol.ServerFrame(nil), c.frames...)
}

// Entries decodes the entry events of a session received so far, in order.
func (c *Client) Entries(session string) []protocol.Entry {
	var out []protocol.Entry
	for _, f := range c.Events() {
		if f.Ev == protocol.EvEntry && f.Session == session {
			var e protocol.Entry
			_ = json.Unmarshal(f.Data, &e)
			out = append(out, e)
		}
	}
	return out
}

// WaitEntries waits until the client holds entries of a session up to seq.
func (c *Client) WaitEntries(session string, seq uint64) []protocol.Entry {
	c.T.Helper()
	c.mu.Lock()
	ok := c.waitFor("entries", func() bool {
		for i := len(c.frames) - 1; i >= 0; i-- {
			if c.frames[i].Ev == protocol.EvEntry && c.frames[i].Session == session && c.frames[i].Seq >= seq {
				return true
			}
		}
		return false
	})
	c.mu.Unlock()
	if !ok {
		c.T.Fatalf("session %s: never reached seq %d; have %v", session, seq, seqs(c.Entries(session)))
	}
	return c.Entries(session)
}

func seqs(es []protocol.Entry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// Closed waits for the connection to close and returns the close error.
func (c *Client) Closed() error {
	c.T.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.waitFor("close", func() bool { return c.closed != nil }) {
		c.T.Fatal("connection did not close")
	}
	return c.closed
}

// Close closes the connection.
func (c *Client) Close() { c.Conn.Close() }

// Agent dials and logs in with the seeded password.
func (h *Harness) Agent(login string, resume map[string]uint64) (*Client, protocol.AgentWelcome) {
	h.T.Helper()
	c := Dial(h.T, h.URL(), "")
	var w protocol.AgentWelcome
	c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: login, Password: Password, Resume: resume}, &w)
	return c, w
}

// Visitor dials and starts a chat in the harness channel.
func (h *Harness) Visitor(name, question string) (*Client, protocol.ChatStarted) {
	h.T.Helper()
	c := Dial(h.T, h.URL(), "")
	c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: string(h.opts.Channel.Key)}, nil)
	var st protocol.ChatStarted
	c.OK(protocol.CmdChatStart, protocol.ChatStart{Name: name, Email: strings.ToLower(name) + "@example.com", Question: question}, &st)
	return c, st
}

// ResumeVisitor reconnects a visitor with its token and last seq.
func (h *Harness) ResumeVisitor(token, session string, last uint64) (*Client, protocol.VisitorWelcome) {
	h.T.Helper()
	c := Dial(h.T, h.URL(), "")
	var w protocol.VisitorWelcome
	c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: token,
		Resume: map[string]uint64{session: last}}, &w)
	return c, w
}
