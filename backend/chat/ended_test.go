package chat

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

func TestEndedChatsInMemoryAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.d.cfg.MaxEnded = 2
	// Ended unanswered, on nobody's list: gone at the next tick.
	f.chat("q1")
	f.ok(f.d.VisitorEnd(f.now, "q1"))
	if _, ok := f.d.Session("q1"); !ok {
		t.Fatal("forgotten before the tick: the reply to the end would not find it")
	}
	fx := f.d.Tick(f.now)
	if _, ok := f.d.Session("q1"); ok {
		t.Fatal("an unanswered ended chat is still held")
	}
	if g := one[Forgotten](t, fx); g.Session != "q1" || g.TokenHash != "hash-q1" {
		t.Errorf("forgotten = %+v", g)
	}
	// Answered chats stay for the owner's list, the newest MaxEnded of them.
	for i := 1; i <= 3; i++ {
		id := SessionID(fmt.Sprintf("a%d", i))
		f.active(id, A)
		f.at(1)
		f.ok(f.d.End(f.now, A, id))
	}
	f.d.Tick(f.now)
	var listed []string
	for _, s := range f.d.SessionsFor(A) {
		listed = append(listed, s.ID)
	}
	if !slices.Equal(listed, []string{"a3", "a2"}) {
		t.Errorf("A's list %v; want the newest two", listed)
	}
	if f.d.Held() != 2 {
		t.Errorf("held %d", f.d.Held())
	}
	// A restart holds no more than the cap either, and none unanswered.
	snap := testSnapshot()
	for i := 1; i <= 3; i++ {
		snap.Sessions = append(snap.Sessions, Session{ID: SessionID(fmt.Sprintf("e%d", i)), Channel: support, State: Ended,
			Owner: A, EndedAt: t0.Add(-10 * time.Duration(i))})
	}
	snap.Sessions = append(snap.Sessions, Session{ID: "u", Channel: support, State: Ended, EndedAt: t0})
	d := New(Config{MaxEnded: 2}, snap, t0)
	if _, ok := d.Session("e3"); ok || d.Held() != 2 {
		t.Errorf("after a restart: held %d, oldest kept %v", d.Held(), ok)
	}
}

func TestFullQueueClosesTheChannel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.d.cfg.MaxWaiting = 1
	f.chat("s1")
	if f.d.Open(support, f.now) || !f.d.Busy(support) || f.d.ChannelInfo(support, f.now).Open {
		t.Fatal("a full channel looks open")
	}
	before := dump(f.d)
	fx, err := f.d.StartChat(f.now, "s2", support, "Vera", "vera@example.com", "", "h2")
	wantCode(t, err, protocol.CodeChannelClosed)
	if fx != nil {
		t.Errorf("effects with a refusal")
	}
	unchanged(t, before, f.d)
	// The offline form is open to the visitors turned away.
	if _, _, err := f.d.SubmitOffline(f.now, support, "Vera", "vera@example.com", "Call me"); err != nil {
		t.Fatalf("offline form of a full channel: %v", err)
	}
	// Room again once the chat is answered; the offline form closes.
	f.ok(f.d.Pick(f.now, A, "s1"))
	if !f.d.Open(support, f.now) {
		t.Fatal("channel with room is closed")
	}
	if _, _, err := f.d.SubmitOffline(f.now, support, "Vera", "vera@example.com", "Call me"); err == nil || err.Code != protocol.CodeInvalidState {
		t.Fatalf("offline form of an open channel: %v", err)
	}
}
