package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	. "switchboard/backend/protocol/client"
	"switchboard/backend/relay/relaytest"
)

// entryLog keeps what a Conn's OnEvent was handed of one kind: entries with
// their verdicts.
type entryLog struct {
	mu       sync.Mutex
	seqs     []uint64
	verdicts []Verdict
	changed  chan struct{}
}

func newEntryLog() *entryLog { return &entryLog{changed: make(chan struct{}, 1)} }

func (l *entryLog) onEvent(f *Frame) {
	if f.Ev != protocol.EvEntry {
		return
	}
	l.mu.Lock()
	l.seqs = append(l.seqs, f.Seq)
	l.verdicts = append(l.verdicts, f.Track)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *entryLog) waitSeq(t *testing.T, seq uint64) ([]uint64, []Verdict) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		l.mu.Lock()
		seqs, verdicts := slices.Clone(l.seqs), slices.Clone(l.verdicts)
		l.mu.Unlock()
		if len(seqs) > 0 && seqs[len(seqs)-1] >= seq {
			return seqs, verdicts
		}
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("never reached seq %d; have %v", seq, seqs)
		}
	}
}

func dialT(t *testing.T, h *relaytest.Harness, opts Options) *Conn {
	t.Helper()
	opts.Logger = testLogger()
	c, _, err := Dial(ctxT(t), h.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A visitor's connection drops; the next one, given the same Tracker,
// resumes the chat from the last entry held: every entry exactly once, in
// order, none missed.
func TestConnResumesWithoutGapOrDuplicate(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	agent, _ := h.Agent("anna", nil)
	tracker := NewTracker()
	log1 := newEntryLog()
	v1 := dialT(t, h, Options{Tracker: tracker, OnEvent: log1.onEvent})
	if _, err := v1.HelloVisitor(ctxT(t), protocol.Hello{Channel: "support"}); err != nil {
		t.Fatal(err)
	}
	ch, err := v1.StartChat(ctxT(t), protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Parcel?"})
	if err != nil || ch.Session == "" || ch.Token == "" || ch.Position == nil || ch.Position.Position != 1 {
		t.Fatalf("chat.start: %+v %v", ch, err)
	}
	agent.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: ch.Session}, nil)
	say := func(text string) uint64 {
		var ack protocol.MessageAck
		agent.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: ch.Session, ClientID: text, Text: text}, &ack)
		return ack.Seq
	}
	seqs1, _ := log1.waitSeq(t, say("a1"))
	held := tracker.Last(ch.Session)
	if held != seqs1[len(seqs1)-1] {
		t.Fatalf("tracker holds %d, the visitor got %v", held, seqs1)
	}

	v1.Close()
	<-v1.Done()
	for i := 2; i <= 4; i++ {
		say(fmt.Sprintf("a%d", i)) // missed while away
	}
	log2 := newEntryLog()
	v2 := dialT(t, h, Options{Tracker: tracker, OnEvent: log2.onEvent})
	visit, err := v2.HelloVisitor(ctxT(t), protocol.Hello{Token: ch.Token})
	if err != nil || visit.Chat == nil || visit.Chat.Session != ch.Session {
		t.Fatalf("resume: %+v %v", visit, err)
	}
	seqs2, verdicts := log2.waitSeq(t, say("a5")) // live again
	if slices.Contains(verdicts, Duplicate) {
		t.Fatalf("after %d the new connection got %v (%v)", held, seqs2, verdicts)
	}
	// Exactly what the visitor may see after what it held: the relay keeps
	// staff-only notes from visitors.
	stored, err := h.Store.Entries(context.Background(), chat.SessionID(ch.Session), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	for _, e := range stored {
		if e.Seq > held && !e.Staff {
			want = append(want, e.Seq)
		}
	}
	if !slices.Equal(seqs2, want) || len(want) != 4 {
		t.Fatalf("resumed entries %v, want %v", seqs2, want)
	}
}

// A replay that overlaps what the client holds is caught by the Tracker:
// marked duplicate, and with DropDuplicates never handed on.
func TestConnTrackerCatchesAnOverlappingReplay(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	tracker := NewTracker()
	log1 := newEntryLog()
	a1 := dialT(t, h, Options{Tracker: tracker, OnEvent: log1.onEvent})
	w, err := a1.HelloAgent(ctxT(t), protocol.Hello{Login: "anna", Password: relaytest.Password})
	if err != nil || w.Token == "" {
		t.Fatalf("hello: %+v %v", w, err)
	}
	v, st := h.Visitor("Vera", "Parcel?")
	sid := st.Session
	var info protocol.SessionInfo
	if err := a1.Do(ctxT(t), protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, &info); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		v.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprint(i), Text: "hi"}, nil)
	}
	seqs, verdicts := log1.waitSeq(t, info.Seq+3)
	if slices.Contains(verdicts, Duplicate) || slices.Contains(verdicts, Gap) {
		t.Fatalf("live entries %v: %v", seqs, verdicts)
	}
	held := tracker.Last(sid)
	a1.Close() // one connection at a time shares a tracker
	<-a1.Done()

	// Asking for the log again from seq 1, as a client that lost track
	// would: the relay replays what the tracker already holds.
	for _, drop := range []bool{false, true} {
		l := newEntryLog()
		c := dialT(t, h, Options{Tracker: tracker, OnEvent: l.onEvent, DropDuplicates: drop})
		if _, err := c.HelloAgent(ctxT(t), protocol.Hello{Token: w.Token, Resume: map[string]uint64{sid: 1}}); err != nil {
			t.Fatal(err)
		}
		v.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprint("new", drop), Text: "new"}, nil)
		got, verdicts := l.waitSeq(t, held+1)
		switch {
		case drop && !slices.Equal(got, []uint64{held + 1}):
			t.Fatalf("with duplicates dropped: %v", got)
		case !drop && (!slices.Equal(got, seqRange(2, held+1)) || verdicts[len(verdicts)-1] != Fresh ||
			slices.Index(verdicts, Fresh) != len(verdicts)-1):
			t.Fatalf("replay %v judged %v", got, verdicts)
		}
		held++
		c.Close()
		<-c.Done()
	}
}

// A reply that does not come within the call's context is given up, and
// the late reply, when it comes, goes to OnReply instead of a stale waiter.
func TestConnCallTimesOut(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	// gate stops the reading once stall is set and the frame being read
	// is handled, until release is closed.
	var stall atomic.Bool
	release := make(chan struct{})
	gate := func() {
		if stall.Load() {
			<-release
		}
	}
	late := make(chan protocol.ServerFrame, 1)
	var frames atomic.Int64
	c := dialT(t, h, Options{BeforeRead: gate, OnReply: func(f *Frame) { late <- f.ServerFrame() },
		OnFrame: func(int) { frames.Add(1) }})
	if _, err := c.HelloAgent(ctxT(t), protocol.Hello{Login: "anna", Password: relaytest.Password}); err != nil {
		t.Fatal(err)
	}
	// What the relay sends after the welcome (her own presence, a tick
	// later) must be read before the reader stalls: the stall has to come
	// right after the ping's reply, not before it.
	quiet(t, &frames)
	stall.Store(true)
	if _, err := c.Call(ctxT(t), protocol.CmdPing, nil); err != nil { // its reply is the last frame read
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Call(ctx, protocol.CmdPing, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("call: %v after %v", err, time.Since(start))
	}
	if c.Err() != nil {
		t.Fatalf("a timed-out call closed its connection: %v", c.Err())
	}
	stall.Store(false)
	close(release)
	select {
	case f := <-late:
		if !f.OK || f.Re == "" {
			t.Fatalf("late reply %+v", f)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the late reply was not handed to OnReply")
	}
	if err := c.Do(ctxT(t), protocol.CmdPing, nil, nil); err != nil {
		t.Fatalf("after the late reply: %v", err)
	}

	// A call without a deadline of its own is bounded by Options.Timeout.
	var stall2 atomic.Bool
	release2 := make(chan struct{})
	defer close(release2)
	c2 := dialT(t, h, Options{Timeout: 100 * time.Millisecond, BeforeRead: func() {
		if stall2.Load() {
			<-release2
		}
	}})
	if _, err := c2.HelloVisitor(ctxT(t), protocol.Hello{Channel: "support"}); err != nil {
		t.Fatal(err)
	}
	stall2.Store(true)
	if _, err := c2.Call(ctxT(t), protocol.CmdPing, nil); err != nil {
		t.Fatal(err)
	}
	if err := c2.Do(context.Background(), protocol.CmdPing, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call bounded by Options.Timeout: %v", err)
	}
}

// quiet waits until no frame has been read for 300 ms.
func quiet(t *testing.T, frames *atomic.Int64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for n := frames.Load(); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		m := frames.Load()
		if m == n {
			return
		}
		n = m
	}
	t.Fatal("the relay kept sending")
}

// A refusal comes back as a *protocol.Error with its code.
func TestConnDoReturnsRefusals(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	c := dialT(t, h, Options{})
	_, err := c.HelloAgent(ctxT(t), protocol.Hello{Login: "anna", Password: "wrong"})
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.CodeBadCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	c2 := dialT(t, h, Options{})
	if _, err := c2.HelloAgent(ctxT(t), protocol.Hello{Login: "nils", Password: relaytest.Password}); err != nil {
		t.Fatal(err)
	}
	if err := c2.Do(ctxT(t), protocol.CmdQueueNext, nil, nil); !errors.As(err, &perr) || perr.Code != protocol.CodeQueueEmpty && perr.Code != protocol.CodeForbidden {
		t.Fatalf("queue.next by nils: %v", err)
	}
}
