package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// hookSink is a help desk's webhook endpoint that deduplicates by event id,
// as docs/deploy.md asks receivers to. It can refuse calls (the help desk
// is down) and hold one call open after taking its event (so the relay can
// be killed between a delivery and its bookkeeping).
type hookSink struct {
	secret string
	mu     sync.Mutex
	mode   string // refuse, hold, accept
	held   chan struct{}
	resume chan struct{}

	calls, refused, badSig int
	bodies                 map[string][]byte // event id -> body, first delivery
	dups                   map[string]int
	order                  []string
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.calls++
	if !hmac.Equal([]byte(r.Header.Get(relay.HeaderHookSignature)), []byte(relay.SignHook(h.secret, body))) {
		h.badSig++
		h.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if h.mode == "refuse" {
		h.refused++
		h.mu.Unlock()
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	id := r.Header.Get(relay.HeaderHookID)
	if first, dup := h.bodies[id]; dup {
		h.dups[id]++
		if !bytes.Equal(first, body) {
			h.badSig++ // a redelivery must be the same event
		}
	} else {
		h.bodies[id] = body
		h.order = append(h.order, id)
	}
	hold := h.mode == "hold"
	if hold {
		h.mode = "accept"
	}
	h.mu.Unlock()
	if hold {
		close(h.held)
		<-h.resume // the relay dies meanwhile: it never hears the 204
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookSink) set(mode string) { h.mu.Lock(); h.mode = mode; h.mu.Unlock() }

func (h *hookSink) unique() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.bodies) }

// TestWebhookExactlyOnceAcrossKill9: requests are made and claimed while the
// help desk refuses calls; the relay is killed with SIGKILL while an event
// was taken by the receiver but not yet marked sent, and while others still
// wait for their retry. After a restart the receiver holds every event
// once, signed, in order per request; the one caught by the kill came again
// with the same id and the same body.
func TestWebhookExactlyOnceAcrossKill9(t *testing.T) {
	const requests, claims = 8, 4
	sink := &hookSink{secret: "kill-nine-secret", mode: "refuse", held: make(chan struct{}), resume: make(chan struct{}),
		bodies: map[string][]byte{}, dups: map[string]int{}}
	hs := httptest.NewServer(sink)
	defer hs.Close()
	defer func() {
		select {
		case <-sink.resume:
		default:
			close(sink.resume)
		}
	}()

	dir := t.TempDir()
	db := filepath.Join(dir, "relay.db")
	seedRequestDesk(t, db)
	secret := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secret, []byte(sink.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	args := relayArgs{Bin: relayBinary(t), DB: db, Addr: addr, LogFile: filepath.Join(dir, "relay.log"), Extra: []string{
		"--webhook-url", hs.URL + "/hooks/switchboard", "--webhook-secret-file", secret,
		"--outbox-poll", "100ms", "--outbox-retry-min", "100ms", "--outbox-retry-max", "300ms"}}
	p, err := startRelay(args)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.kill() }()
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(args.LogFile)
			t.Logf("relay log (tail):\n%s", tail(log, 4000))
		}
	})

	url := "ws://" + addr + "/ws"
	visitor := dialHello(t, url, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"})
	defer visitor.Close()
	agent := dialHello(t, url, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: "pw-anna"})
	defer agent.Close()
	var numbers []int64
	for i := range requests {
		var rc protocol.RequestCreated
		wsOK(t, visitor, protocol.CmdOfflineSubmit, protocol.OfflineSubmit{Name: fmt.Sprintf("Visitor %d", i),
			Email: fmt.Sprintf("v%d@example.com", i), Question: "Är det här öppet?"}, &rc)
		numbers = append(numbers, rc.Number)
	}
	for _, n := range numbers[:claims] {
		wsOK(t, agent, protocol.CmdRequestClaim, protocol.RequestRef{Number: n}, nil)
	}
	want := requests + claims

	// The help desk refuses a few calls: everything is pending, retried.
	waitUntil(t, "refused calls", 10*time.Second, func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.refused >= 3 })
	// Then it takes one event and holds the call; the relay dies before it
	// hears back, with the rest still waiting in its outbox.
	sink.set("hold")
	select {
	case <-sink.held:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook call reached the receiver")
	}
	p.kill()
	close(sink.resume)
	if got := sink.unique(); got != 1 {
		t.Fatalf("%d events taken before the kill, want 1", got)
	}

	if p, err = startRelay(args); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "every event", 20*time.Second, func() bool { return sink.unique() >= want })
	time.Sleep(500 * time.Millisecond) // a stray extra delivery would show now

	sink.mu.Lock()
	defer sink.mu.Unlock()
	t.Logf("%d calls: %d refused, %d events, redelivered %v", sink.calls, sink.refused, len(sink.bodies), sink.dups)
	if sink.badSig != 0 {
		t.Errorf("%d calls with a bad signature or a changed redelivery", sink.badSig)
	}
	if len(sink.bodies) != want {
		t.Errorf("%d distinct events, want %d", len(sink.bodies), want)
	}
	first := sink.order[0]
	if sink.dups[first] != 1 || len(sink.dups) != 1 {
		t.Errorf("redeliveries %v: want exactly the event caught by the kill (%s) once more", sink.dups, first)
	}
	// Per request, created comes before claimed; every request is there.
	seen := map[int64][]string{}
	for _, id := range sink.order {
		var ev relay.HookEvent
		if err := json.Unmarshal(sink.bodies[id], &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.Request.Number] = append(seen[ev.Request.Number], ev.Type)
	}
	for i, n := range numbers {
		wantTypes := "[request.created]"
		if i < claims {
			wantTypes = "[request.created request.claimed]"
		}
		if got := fmt.Sprint(seen[n]); got != wantTypes {
			t.Errorf("request %d: events %s, want %s", n, got, wantTypes)
		}
	}
}

func seedRequestDesk(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Closed today: the offline form is taken while Anna is signed in.
	if err := db.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC", OfflineForm: true,
		Hours: relaytest.ClosedHours(), TransferTimeout: chat.DefaultTransferTimeout}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw-anna"), bcrypt.MinCost)
	if _, err := db.CreateAgent(ctx, "anna", "Anna", hash); err != nil {
		t.Fatal(err)
	}
	if err := db.Grant(ctx, "anna", "support", chat.PermRespond|chat.PermNotify); err != nil {
		t.Fatal(err)
	}
}

func dialHello(t *testing.T, url string, h protocol.Hello) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	wsOK(t, c, protocol.CmdHello, h, nil)
	return c
}

var wsSeq int

// wsOK sends a command and waits for its successful reply, skipping events.
func wsOK(t *testing.T, c *websocket.Conn, cmd string, data, out any) {
	t.Helper()
	wsSeq++
	id := fmt.Sprintf("w%d", wsSeq)
	raw, _ := json.Marshal(data)
	if err := c.WriteJSON(protocol.Command{ID: id, Cmd: cmd, Data: raw}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f protocol.ServerFrame
		if err := c.ReadJSON(&f); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if f.Re != id {
			continue
		}
		if !f.OK {
			t.Fatalf("%s: %v", cmd, f.Error)
		}
		if out != nil {
			if err := json.Unmarshal(f.Data, out); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
