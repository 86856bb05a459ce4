package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	. "switchboard/backend/protocol/client"
	"switchboard/backend/relay/relaytest"
)

// desk is one agent's client against a relaytest relay, with its recorder
// and dialer.
type desk struct {
	*Client
	rec *recorder
	d   *testDialer
}

func newDesk(t *testing.T, h *relaytest.Harness, login string, edit func(*Config)) *desk {
	t.Helper()
	dk := &desk{rec: newRecorder(), d: &testDialer{}}
	cfg := Config{
		URL: h.URL(), Login: login, Password: relaytest.Password, Client: "client-test",
		Dial: dk.d.dial, Logger: testLogger(),
		// Short backoff: tests wait for reconnects, not for the defaults.
		BackoffInitial: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
	}
	dk.rec.hook(&cfg)
	if edit != nil {
		edit(&cfg)
	}
	dk.Client = New(cfg)
	return dk
}

// start runs the client until the test ends and waits for the connection.
func (dk *desk) start(t *testing.T) protocol.AgentWelcome {
	t.Helper()
	from := dk.rec.nStates()
	if err := dk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dk.Close() })
	st, _ := dk.rec.waitState(t, Connected, from)
	return *st.Welcome
}

// disconnect blocks dials, cuts the link and waits until the client knows.
func (dk *desk) disconnect(t *testing.T) {
	t.Helper()
	from := dk.rec.nStates()
	dk.d.block()
	dk.d.drop()
	dk.rec.waitState(t, Reconnecting, from)
}

// reconnect lets dials through and waits for the new hello.
func (dk *desk) reconnect(t *testing.T) protocol.AgentWelcome {
	t.Helper()
	from := dk.rec.nStates()
	dk.d.unblock()
	st, _ := dk.rec.waitState(t, Connected, from)
	return *st.Welcome
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// chatWith starts a visitor chat and has the desk pick it. It returns the
// seq of the log's last entry after the pick (the question, and a note).
func chatWith(t *testing.T, h *relaytest.Harness, dk *desk) (*relaytest.Client, protocol.ChatStarted, uint64) {
	t.Helper()
	v, st := h.Visitor("Vera", "Where is my parcel?")
	var info protocol.SessionInfo
	if err := dk.Do(ctxT(t), protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, &info); err != nil {
		t.Fatalf("pick: %v", err)
	}
	if info.Role != protocol.ViewOwner || info.State != protocol.StateActive {
		t.Fatalf("picked: %+v", info)
	}
	if info.Seq < 1 {
		t.Fatalf("picked: %+v", info)
	}
	dk.rec.waitSeq(t, st.Session, info.Seq)
	return v, st, info.Seq
}

func visitorSays(t *testing.T, v *relaytest.Client, sid, cid, text string) uint64 {
	t.Helper()
	var ack protocol.MessageAck
	v.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: cid, Text: text}, &ack)
	return ack.Seq
}

// stored returns the relay's log entries of a session with this client id.
func stored(t *testing.T, h *relaytest.Harness, sid, clientID string) []uint64 {
	t.Helper()
	es, err := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, e := range es {
		if e.ClientID == clientID {
			seqs = append(seqs, e.Seq)
		}
	}
	return seqs
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestPasswordThenToken(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	w := dk.start(t)
	if w.Token == "" || w.Agent.Login != "anna" || dk.Token() != w.Token {
		t.Fatalf("first welcome: token %q agent %+v; client token %q", w.Token, w.Agent, dk.Token())
	}
	if got, ok := dk.Welcome(); !ok || got.Agent.ID != h.ID("anna") {
		t.Fatalf("Welcome() = %+v, %v", got, ok)
	}
	dk.disconnect(t)
	w2 := dk.reconnect(t)
	// The relay issues a token only after a password login: none now means
	// the client said hello with the token.
	if w2.Token != "" || w2.Agent.Login != "anna" {
		t.Fatalf("second welcome: token %q agent %+v", w2.Token, w2.Agent)
	}
	if dk.Token() != w.Token {
		t.Fatal("token changed")
	}

	// A second client given only the token logs in too.
	other := newDesk(t, h, "", func(c *Config) { c.Login, c.Password, c.Token = "", "", w.Token })
	if w3 := other.start(t); w3.Agent.Login != "anna" || w3.Token != "" {
		t.Fatalf("token-only welcome: %+v", w3)
	}
}

func TestResumeDeliversExactlyTheMissedEntries(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	dk.start(t)
	v, st, base := chatWith(t, h, dk)
	sid := st.Session
	visitorSays(t, v, sid, "v1", "hello?")
	dk.rec.waitSeq(t, sid, base+1)

	dk.disconnect(t)
	for i := 3; i <= 5; i++ {
		visitorSays(t, v, sid, fmt.Sprintf("v%d", i), fmt.Sprintf("missed %d", i))
	}
	dk.reconnect(t)
	dk.rec.waitSeq(t, sid, base+4)
	if got := dk.rec.entrySeqs(sid); !slices.Equal(got, seqRange(1, base+4)) {
		t.Fatalf("entries handed on: %v", got)
	}
	// On the wire, the new connection carried only the three missed entries:
	// the hello resumed from where the client stopped.
	wire := dk.d.received(dk.d.nConns() - 1)
	if n := bytes.Count(wire, []byte(`"ev":"entry"`)); n != 3 {
		t.Fatalf("the relay replayed %d entries on the new connection, want 3", n)
	}
	if got := dk.LastSeqs()[sid]; got != base+4 {
		t.Fatalf("last seq %d", got)
	}

	// Live again.
	visitorSays(t, v, sid, "v6", "thanks")
	dk.rec.waitSeq(t, sid, base+5)
	if got := dk.rec.entrySeqs(sid); !slices.Equal(got, seqRange(1, base+5)) {
		t.Fatalf("entries handed on: %v", got)
	}
}

func TestRelayRestart(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", func(c *Config) {
		// Large enough that only the going-away path reconnects quickly.
		c.BackoffInitial, c.BackoffMax = time.Minute, time.Minute
	})
	dk.start(t)
	v, st, base := chatWith(t, h, dk)
	sid := st.Session
	visitorSays(t, v, sid, "v1", "before the restart")
	dk.rec.waitSeq(t, sid, base+1)

	from := dk.rec.nStates()
	h.Restart() // closes with 1001 "going away"
	next, _ := dk.rec.waitState(t, Reconnecting, from)
	if next.Attempt != 0 || time.Until(next.NextAttempt) > GoingAwayDelay {
		t.Fatalf("after going away: %+v", next)
	}
	// The restarted relay listens elsewhere. The dial after going-away may
	// already have hit the old address and be waiting a minute-long backoff:
	// a new address cuts that wait short.
	from = dk.rec.nStates()
	if err := dk.SetURL(h.URL()); err != nil {
		t.Fatal(err)
	}
	if back, _ := dk.rec.waitState(t, Connected, from); back.Welcome == nil || back.Welcome.Token != "" {
		t.Fatalf("welcome after the restart: %+v", back.Welcome)
	}
	v2, _ := h.ResumeVisitor(st.Token, sid, base+1)
	visitorSays(t, v2, sid, "v2", "after the restart")
	dk.rec.waitSeq(t, sid, base+2)
	if got := dk.rec.entrySeqs(sid); !slices.Equal(got, seqRange(1, base+2)) {
		t.Fatalf("entries handed on: %v", got)
	}
}

// Given the nodes of a cluster, the client dials past one that does not
// answer, and moves on to the next when the one it is on goes away.
func TestSeveralAddressesMoveOnWhenOneFails(t *testing.T) {
	t.Parallel()
	a := relaytest.Start(t, relaytest.Options{})
	b := relaytest.Start(t, relaytest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now
	dk := newDesk(t, a, "anna", func(c *Config) { c.URL = down + ", " + a.URL() + "," + b.URL() })
	dk.start(t)
	if got := dk.d.lastURL(); got != a.URL() {
		t.Fatalf("connected to %s; want the first address that answers, %s", got, a.URL())
	}
	from := dk.rec.nStates()
	a.Stop()
	dk.rec.waitState(t, Reconnecting, from)
	if st, _ := dk.rec.waitState(t, Connected, from); st.Welcome == nil {
		t.Fatalf("no welcome after moving on: %+v", st)
	}
	if got := dk.d.lastURL(); got != b.URL() {
		t.Fatalf("reconnected to %s; want the next address, %s", got, b.URL())
	}
}

func TestSendWhileDisconnected(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	dk.start(t)
	v, st, base := chatWith(t, h, dk)
	sid := st.Session

	dk.disconnect(t)
	id := dk.Send(sid, "typed while offline")
	if p := dk.Pending(); len(p) != 1 || p[0].ClientID != id || p[0].State != Pending {
		t.Fatalf("pending: %+v", p)
	}
	if got := stored(t, h, sid, id); len(got) != 0 {
		t.Fatalf("stored before reconnect: %v", got)
	}
	dk.reconnect(t)
	o := dk.rec.outcome(t, id)
	if o.State != Acked || o.Duplicate || o.Seq != base+1 {
		t.Fatalf("outcome: %+v", o)
	}
	if got := stored(t, h, sid, id); !slices.Equal(got, []uint64{base + 1}) {
		t.Fatalf("stored at %v", got)
	}
	if len(dk.Pending()) != 0 {
		t.Fatalf("still pending: %+v", dk.Pending())
	}
	if es := v.WaitEntries(sid, base+1); es[len(es)-1].Text != "typed while offline" || len(es) != int(base)+1 {
		t.Fatalf("visitor got %+v", es)
	}
}

func TestResendAfterLostAckIsStoredOnce(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	dk.start(t)
	_, st, base := chatWith(t, h, dk)
	sid := st.Session

	dk.d.cutNext.Store(true) // the send goes out; its ack never arrives
	id := dk.Send(sid, "did you get this?")
	o := dk.rec.outcome(t, id)
	if o.State != Acked || !o.Duplicate || o.Attempts != 2 || o.Seq != base+1 {
		t.Fatalf("outcome: %+v (want acked as a duplicate on the second attempt)", o)
	}
	if dk.d.nConns() != 2 {
		t.Fatalf("%d connections", dk.d.nConns())
	}
	if got := stored(t, h, sid, id); !slices.Equal(got, []uint64{base + 1}) {
		t.Fatalf("stored at %v", got)
	}
	dk.rec.waitSeq(t, sid, base+1)
	if got := dk.rec.entrySeqs(sid); !slices.Equal(got, seqRange(1, base+1)) {
		t.Fatalf("entries handed on: %v", got)
	}
}

func TestSendsKeepTheirOrder(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	dk.start(t)
	_, st, base := chatWith(t, h, dk)
	sid := st.Session
	var ids []string
	for i := range 8 {
		ids = append(ids, dk.Send(sid, fmt.Sprintf("line %d", i)))
		if i == 3 {
			dk.d.drop() // a reconnect in the middle changes nothing
		}
	}
	for i, id := range ids {
		if o := dk.rec.outcome(t, id); o.State != Acked || o.Seq != base+uint64(i)+1 {
			t.Fatalf("message %d: %+v", i, o)
		}
	}
	es, err := h.Store.Entries(context.Background(), chat.SessionID(sid), base, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.Text != fmt.Sprintf("line %d", i) || e.ClientID != ids[i] {
			t.Fatalf("stored %d: %+v", i, e)
		}
	}
	if len(es) != len(ids) {
		t.Fatalf("stored %d messages", len(es))
	}
}

func TestWrongPasswordStops(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", func(c *Config) { c.Password = "not the password" })
	err := dk.Run(ctxT(t))
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.CodeBadCredentials {
		t.Fatalf("Run: %v", err)
	}
	if dk.State() != AuthFailed || dk.d.count() != 1 {
		t.Fatalf("state %s after %d dials", dk.State(), dk.d.count())
	}
	st, _ := dk.rec.waitState(t, AuthFailed, 0)
	if !errors.As(st.Err, &perr) {
		t.Fatalf("state change: %+v", st)
	}
	if err := dk.Do(ctxT(t), protocol.CmdPing, nil, nil); !errors.As(err, &perr) || perr.Code != protocol.CodeBadCredentials {
		t.Fatalf("Do after auth failure: %v", err)
	}
}

func TestListenerSendFailsForGood(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna := newDesk(t, h, "anna", nil)
	anna.start(t)
	_, st, base := chatWith(t, h, anna)
	sid := st.Session

	lars := newDesk(t, h, "lars", nil)
	lars.start(t)
	var info protocol.SessionInfo
	if err := lars.Do(ctxT(t), protocol.CmdSessionListen, protocol.SessionRef{Session: sid}, &info); err != nil {
		t.Fatalf("listen: %v", err)
	}
	if info.Role != protocol.ViewListener {
		t.Fatalf("listen: %+v", info)
	}
	lars.rec.waitSeq(t, sid, base) // a listener gets the log
	id := lars.Send(sid, "may I?")
	o := lars.rec.outcome(t, id)
	if o.State != Failed || o.Err == nil || o.Err.Code != protocol.CodeListenOnly || o.Attempts != 1 {
		t.Fatalf("outcome: %+v", o)
	}
	if len(lars.Pending()) != 0 {
		t.Fatalf("still pending: %+v", lars.Pending())
	}
	// A reconnect does not bring it back.
	lars.disconnect(t)
	lars.reconnect(t)
	if err := lars.Do(ctxT(t), protocol.CmdPing, nil, nil); err != nil {
		t.Fatal(err)
	}
	lars.rec.mu.Lock()
	n := 0
	for _, o := range lars.rec.outs {
		if o.ClientID == id {
			n++
		}
	}
	lars.rec.mu.Unlock()
	if n != 2 { // pending, failed
		t.Fatalf("%d outbox notifications for %s", n, id)
	}
	if got := stored(t, h, sid, id); len(got) != 0 {
		t.Fatalf("stored at %v", got)
	}
}

func TestDoRefusalsAndWaiting(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)

	// Before Start there is nothing to wait for.
	if err := dk.Do(ctxT(t), protocol.CmdPing, nil, nil); !errors.Is(err, ErrOffline) {
		t.Fatalf("Do before Start: %v", err)
	}
	dk.start(t)
	err := dk.Do(ctxT(t), protocol.CmdQueueNext, nil, nil)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.CodeQueueEmpty {
		t.Fatalf("queue.next: %v", err)
	}
	err = dk.Do(ctxT(t), "no.such.command", nil, nil)
	if !errors.As(err, &perr) || perr.Code != protocol.CodeUnknownCommand {
		t.Fatalf("unknown command: %v", err)
	}

	// While disconnected, Do waits for the connection.
	dk.disconnect(t)
	done := make(chan error, 1)
	var me protocol.AgentInfo
	ctx := ctxT(t)
	go func() {
		done <- dk.Do(ctx, protocol.CmdStatusSet, protocol.StatusSet{Status: protocol.StatusAway}, &me)
	}()
	select {
	case err := <-done:
		t.Fatalf("Do returned while disconnected: %v", err)
	default:
	}
	dk.reconnect(t)
	if err := <-done; err != nil || me.Status != protocol.StatusAway {
		t.Fatalf("status.set: %v %+v", err, me)
	}

	// ...but not beyond its context.
	dk.disconnect(t)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := dk.Do(short, protocol.CmdPing, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do while disconnected: %v", err)
	}
}

// TestNoGoroutineLeak is not parallel: it counts the process's goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	before := runtime.NumGoroutine()
	dk := newDesk(t, h, "anna", nil)
	dk.start(t)
	dk.Send("s-none", "into the void") // refused: not found
	dk.disconnect(t)
	dk.reconnect(t)
	if err := dk.Do(ctxT(t), protocol.CmdPing, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := dk.Close(); err != nil {
		t.Fatal(err)
	}
	if dk.State() != Offline {
		t.Fatalf("state after Close: %s", dk.State())
	}
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	w := dk.start(t)
	if err := dk.Logout(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if dk.State() != Offline || dk.Token() != "" {
		t.Fatalf("after logout: %s, token %q", dk.State(), dk.Token())
	}
	// The token is revoked on the relay.
	again := newDesk(t, h, "", func(c *Config) { c.Login, c.Password, c.Token = "", "", w.Token })
	err := again.Run(ctxT(t))
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.CodeBadCredentials || again.State() != AuthFailed {
		t.Fatalf("revoked token: %v (%s)", err, again.State())
	}
}

// TestRevokedSignInStops: a relay that ends the sign-in (close code
// CloseRevoked: password changed, account disabled) is not dialled again
// with the dead token; the client stops with ErrRevoked.
func TestRevokedSignInStops(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	dk := newDesk(t, h, "anna", nil)
	from := dk.rec.nStates()
	dk.start(t)
	if err := h.Store.SetAgentDisabled(context.Background(), "anna", true); err != nil {
		t.Fatal(err)
	}
	st, _ := dk.rec.waitState(t, AuthFailed, from)
	if !errors.Is(st.Err, ErrRevoked) {
		t.Fatalf("auth failed with %v, want ErrRevoked", st.Err)
	}
	if n := dk.d.count(); n != 1 {
		t.Errorf("%d dials: the client reconnected after the sign-in was revoked", n)
	}
	if dk.Token() != "" {
		t.Error("the revoked token is kept")
	}
	if err := dk.Do(ctxT(t), protocol.CmdPing, nil, nil); !errors.Is(err, ErrRevoked) {
		t.Errorf("Do after the revocation: %v", err)
	}
}
