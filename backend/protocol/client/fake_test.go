package client_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
	. "switchboard/backend/protocol/client"
)

// fakeRelay is a scripted websocket peer, for what the real relay never
// does on purpose: overlapping replays, refusals without an id.
type fakeRelay struct {
	srv   *httptest.Server
	conns chan *fakeConn
}

type fakeConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func startFake(t *testing.T) *fakeRelay {
	f := &fakeRelay{conns: make(chan *fakeConn, 8)}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		t.Cleanup(func() { _ = ws.Close() })
		f.conns <- &fakeConn{t: t, ws: ws}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRelay) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws" }

func (f *fakeRelay) next(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(waitTimeout):
		t.Fatal("the client did not connect")
		return nil
	}
}

func (c *fakeConn) read() protocol.Command {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(waitTimeout))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("fake relay read: %v", err)
	}
	cmd, perr := protocol.DecodeCommand(b)
	if perr != nil {
		c.t.Fatalf("fake relay got %s: %v", b, perr)
	}
	return cmd
}

func (c *fakeConn) hello() (string, protocol.Hello) {
	c.t.Helper()
	cmd := c.read()
	if cmd.Cmd != protocol.CmdHello {
		c.t.Fatalf("first frame %q", cmd.Cmd)
	}
	h, perr := protocol.DecodeData[protocol.Hello](cmd.Data)
	if perr != nil || h.V != protocol.Version || h.Role != protocol.RoleAgent {
		c.t.Fatalf("hello %+v %v", h, perr)
	}
	return cmd.ID, h
}

func (c *fakeConn) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("fake relay write: %v", err)
	}
}

func (c *fakeConn) welcome(id, token string, sessions ...string) {
	w := protocol.AgentWelcome{Token: token, Agent: protocol.AgentInfo{ID: 1, Login: "anna", Name: "Anna"}, Heartbeat: 20}
	for _, s := range sessions {
		w.Sessions = append(w.Sessions, protocol.SessionInfo{ID: s})
	}
	c.send(protocol.Reply{Re: id, OK: true, Data: w})
}

func (c *fakeConn) entry(session string, seq uint64) {
	c.send(protocol.Event{Ev: protocol.EvEntry, Session: session, Seq: seq,
		Data: protocol.Entry{Seq: seq, Kind: protocol.EntryMessage, Text: "x"}})
}

func fakeDesk(t *testing.T, f *fakeRelay, edit func(*Config)) *desk {
	dk := &desk{rec: newRecorder()}
	cfg := Config{URL: f.url(), Login: "anna", Password: "pw", Client: "fake-test", Logger: testLogger(),
		BackoffInitial: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
	dk.rec.hook(&cfg)
	if edit != nil {
		edit(&cfg)
	}
	dk.Client = New(cfg)
	if err := dk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dk.Close() })
	return dk
}

func TestReplayOverlapIsDroppedAndResumeFollowsWhatWasHandedOn(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	dk := fakeDesk(t, f, nil)

	c1 := f.next(t)
	id, h := c1.hello()
	if h.Login != "anna" || h.Password != "pw" || h.Token != "" || h.Resume != nil || h.Client != "fake-test" {
		t.Fatalf("first hello: %+v", h)
	}
	c1.welcome(id, "tok-1", "s1", "s2")
	c1.entry("s1", 1)
	c1.entry("s1", 2)
	c1.entry("s2", 1)
	c1.send(protocol.Event{Ev: protocol.EvPresence, Data: protocol.PresenceEvent{}})
	c1.entry("s1", 2) // again
	dk.rec.waitFor(t, "presence", func() bool { return len(dk.rec.events) == 4 })
	_ = c1.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart"), time.Now().Add(time.Second))
	_ = c1.ws.Close()

	c2 := f.next(t)
	id, h = c2.hello()
	if h.Token != "tok-1" || h.Password != "" || !maps.Equal(h.Resume, map[string]uint64{"s1": 2, "s2": 1}) {
		t.Fatalf("second hello: %+v", h)
	}
	c2.welcome(id, "", "s1") // s2 is no longer listed
	c2.entry("s1", 1)        // an overlapping replay
	c2.entry("s1", 3)
	dk.rec.waitSeq(t, "s1", 3)
	dk.rec.mu.Lock()
	var got []string
	for _, e := range dk.rec.events {
		got = append(got, e.Ev+":"+e.Session+":"+string(rune('0'+e.Seq)))
	}
	dk.rec.mu.Unlock()
	want := []string{"entry:s1:1", "entry:s1:2", "entry:s2:1", "presence::0", "entry:s1:3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want %v", got, want)
	}
	if last := dk.LastSeqs(); !maps.Equal(last, map[string]uint64{"s1": 3}) {
		t.Fatalf("last seqs %v", last)
	}
	_ = c2.ws.Close()

	// A refused token falls back to the password on the same connection.
	c3 := f.next(t)
	id, h = c3.hello()
	if h.Token != "tok-1" || !maps.Equal(h.Resume, map[string]uint64{"s1": 3}) {
		t.Fatalf("third hello: %+v", h)
	}
	c3.send(protocol.Reply{Re: id, Error: protocol.Errorf(protocol.CodeBadCredentials, "revoked")})
	id, h = c3.hello()
	if h.Token != "" || h.Login != "anna" || h.Password != "pw" {
		t.Fatalf("fallback hello: %+v", h)
	}
	from := dk.rec.nStates()
	c3.welcome(id, "tok-2", "s1")
	dk.rec.waitState(t, Connected, from)
	if dk.Token() != "tok-2" {
		t.Fatalf("token %q", dk.Token())
	}
}

func TestGoingAwayReconnectsPromptly(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	dk := fakeDesk(t, f, func(c *Config) { c.BackoffInitial, c.BackoffMax = time.Hour, time.Hour })
	c1 := f.next(t)
	id, _ := c1.hello()
	c1.welcome(id, "tok", "")
	dk.rec.waitState(t, Connected, 0)
	from := dk.rec.nStates()
	_ = c1.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart"), time.Now().Add(time.Second))
	st, _ := dk.rec.waitState(t, Reconnecting, from)
	if st.Attempt != 0 || time.Until(st.NextAttempt) > GoingAwayDelay || !websocket.IsCloseError(st.Err, websocket.CloseGoingAway) {
		t.Fatalf("after 1001: %+v", st)
	}
	c2 := f.next(t) // with an hour of backoff, only the going-away path gets here
	if _, h := c2.hello(); h.Token != "tok" {
		t.Fatalf("hello %+v", h)
	}
}

func TestRateLimitWithoutIDRestartsAndResends(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	dk := fakeDesk(t, f, nil)
	c1 := f.next(t)
	id, _ := c1.hello()
	c1.welcome(id, "tok", "s1")
	cid := dk.Send("s1", "hi")
	cmd := c1.read()
	if cmd.Cmd != protocol.CmdMessageSend {
		t.Fatalf("got %s", cmd.Cmd)
	}
	// The relay's rate limiter answers without naming the command.
	c1.send(protocol.Reply{Error: protocol.Errorf(protocol.CodeRateLimited, "slow down")})

	c2 := f.next(t)
	id, _ = c2.hello()
	c2.welcome(id, "", "s1")
	cmd = c2.read()
	m, _ := protocol.DecodeSend(cmd)
	if cmd.Cmd != protocol.CmdMessageSend || m.ClientID != cid || m.Text != "hi" {
		t.Fatalf("resend: %s %+v", cmd.Cmd, m)
	}
	c2.send(protocol.Reply{Re: cmd.ID, OK: true, Data: protocol.MessageAck{Seq: 7}})
	if o := dk.rec.outcome(t, cid); o.State != Acked || o.Seq != 7 || o.Attempts != 2 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestCallbackMayCallDo(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	got := make(chan error, 1)
	var dk *desk
	dk = fakeDesk(t, f, func(c *Config) {
		c.OnEvent = func(protocol.ServerFrame) { got <- dk.Do(context.Background(), protocol.CmdPing, nil, nil) }
	})
	c1 := f.next(t)
	id, _ := c1.hello()
	c1.welcome(id, "tok")
	c1.send(protocol.Event{Ev: protocol.EvPresence})
	cmd := c1.read() // the callback's ping: the read loop is not blocked by it
	c1.send(protocol.Reply{Re: cmd.ID, Error: protocol.Errorf(protocol.CodeForbidden, "no")})
	if err := <-got; err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("Do from a callback: %v", err)
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	for n := range 64 {
		ceil := min(DefaultBackoffMax, DefaultBackoffInitial<<min(n, 20))
		for range 50 {
			if d := c.Backoff(n); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, ceiling %v", n, d, ceil)
			}
		}
	}
}

func TestConfigChecks(t *testing.T) {
	t.Parallel()
	if err := New(Config{URL: "http://relay/ws", Token: "x"}).Start(context.Background()); err == nil {
		t.Fatal("an http URL was accepted")
	}
	if err := New(Config{URL: "ws://relay/ws", Login: "anna"}).Start(context.Background()); err == nil {
		t.Fatal("a login without password was accepted")
	}
	c := New(Config{URL: "ws://127.0.0.1:1/ws", Token: "x", Logger: testLogger()})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != ErrRunning {
		t.Fatalf("second Start: %v", err)
	}
	if err := c.SetURL("ftp://x"); err == nil {
		t.Fatal("SetURL accepted ftp")
	}
	_ = c.Close()
	if c.State() != Offline {
		t.Fatalf("state %s", c.State())
	}
}

// Events this version does not know, or knows with fields it does not, and
// frames that are not JSON at all, are passed over: the connection stays,
// and what follows is read as usual.
func TestUnknownEventIsIgnored(t *testing.T) {
	t.Parallel()
	f := startFake(t)
	var (
		mu       sync.Mutex
		entries  []uint64
		others   []string
		presence []protocol.PresenceEvent
		bad      []error
	)
	got := make(chan struct{}, 8)
	h := Handlers{
		Entry: func(_ string, e protocol.Entry, _ Verdict) {
			mu.Lock()
			entries = append(entries, e.Seq)
			mu.Unlock()
			got <- struct{}{}
		},
		Presence: func(p protocol.PresenceEvent) { mu.Lock(); presence = append(presence, p); mu.Unlock() },
		Other:    func(f *Frame) { mu.Lock(); others = append(others, f.Ev); mu.Unlock() },
	}
	done := make(chan *Conn, 1)
	go func() {
		c, _, err := Dial(context.Background(), f.url(), Options{Logger: testLogger(), OnEvent: func(fr *Frame) {
			if err := h.Dispatch(fr); err != nil {
				mu.Lock()
				bad = append(bad, err)
				mu.Unlock()
			}
		}})
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		if _, err := c.HelloAgent(context.Background(), protocol.Hello{Login: "anna", Password: "pw"}); err != nil {
			t.Error(err)
		}
		done <- c
	}()
	fc := f.next(t)
	id, _ := fc.hello()
	fc.welcome(id, "tok", "s1")
	c := <-done
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	_ = fc.ws.WriteMessage(websocket.TextMessage, []byte(`{"ev":"weather","session":"s1","data":{"sunny":true}}`))
	_ = fc.ws.WriteMessage(websocket.TextMessage, []byte(`not json`))
	_ = fc.ws.WriteMessage(websocket.TextMessage, []byte(`{"ev":"presence","data":{"agents":[{"id":1,"name":"Anna","status":"present","load":0,"mood":"fine"}],"since":3}}`))
	_ = fc.ws.WriteMessage(websocket.TextMessage, []byte(`{"ev":"entry","session":"s1","seq":1,"data":{"seq":1,"kind":"message","text":"x","colour":"red"}}`))
	select {
	case <-got:
	case <-time.After(waitTimeout):
		t.Fatal("the entry after the unknown event never came")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(entries, []uint64{1}) || !slices.Equal(others, []string{"weather"}) || len(bad) != 0 ||
		len(presence) != 1 || len(presence[0].Agents) != 1 || presence[0].Agents[0].Status != protocol.StatusPresent {
		t.Fatalf("entries %v, others %v, presence %+v, errors %v", entries, others, presence, bad)
	}
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
}
