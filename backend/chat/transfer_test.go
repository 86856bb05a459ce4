package chat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// stage is the starting point of every transfer test: chat "s1" in support,
// picked by Anna (A) a second ago, nothing pending. tid is the transfer the
// case is about, once a step has started one.
type stage struct {
	*fixture
	tid TransferID
}

func newStage(t *testing.T) *stage {
	f := newFixture(t)
	f.active("s1", A)
	f.at(time.Second)
	return &stage{fixture: f}
}

// offer starts a transfer of s1 from its owner A to B and remembers it.
func (s *stage) offer() { s.tid = s.transfer(A, "s1", B) }

// offerBy starts a transfer of s1 by `by` (a supervisor) to B.
func (s *stage) offerBy(by AgentID) { s.tid = s.transfer(by, "s1", B) }

// start is StartTransfer that remembers the transfer it made.
func (s *stage) start(by AgentID, to AgentID, toQueue bool, comment string) []Effect {
	fx, tid, err := s.d.StartTransfer(s.now, by, "s1", to, toQueue, comment)
	s.tid = tid
	return s.ok(fx, err)
}

// expectSession checks s1's owner, listeners and whether a transfer is pending.
func (s *stage) expectSession(t *testing.T, state State, owner AgentID, listeners []AgentID, pending TransferID) {
	t.Helper()
	got := s.session("s1")
	if got.State != state || got.Owner != owner || got.Pending != pending {
		t.Errorf("s1: state %v owner %d pending %d, want %v %d %d", got.State, got.Owner, got.Pending, state, owner, pending)
	}
	if !slices.Equal(got.Listeners, listeners) {
		t.Errorf("s1 listeners = %v, want %v", got.Listeners, listeners)
	}
	if owner != 0 && state == Active {
		for a := range s.d.agents {
			want := 0
			if a == owner {
				want = 1
			}
			if s.d.Load(a) != want {
				t.Errorf("load of %d = %d, want %d", a, s.d.Load(a), want)
			}
		}
	}
}

// expectTransfer checks where the case's transfer stands.
func (s *stage) expectTransfer(t *testing.T, st TransferState, reason string, ended time.Time) Transfer {
	t.Helper()
	tr := s.xfer(s.tid)
	if tr.State != st || tr.Reason != reason || !tr.Ended.Equal(ended) {
		t.Errorf("transfer: %v %q ended %v, want %v %q ended %v", tr.State, tr.Reason, tr.Ended, st, reason, ended)
	}
	return tr
}

// expectResolved checks the effects of a transfer's end: it is told (with
// its outcome) and so is everyone in notify, with a staff note only.
func expectResolved(t *testing.T, fx []Effect, st TransferState, notify []AgentID, staffNote string) {
	t.Helper()
	tc := one[TransferChanged](t, fx)
	if tc.Transfer.State != st {
		t.Errorf("TransferChanged state = %v, want %v", tc.Transfer.State, st)
	}
	sc := one[SessionChanged](t, fx)
	sameIDs(t, "SessionChanged.Notify", sc.Notify, notify)
	if sc.Session.Pending != 0 {
		t.Errorf("SessionChanged still shows transfer %d pending", sc.Session.Pending)
	}
	public, staff := notes(fx)
	if len(public) != 0 {
		t.Errorf("the visitor was told %q", public)
	}
	if !slices.Equal(staff, []string{staffNote}) {
		t.Errorf("staff notes = %q, want %q", staff, staffNote)
	}
}

// expectWriters checks who may Send in s1 now: "" = allowed, or the code.
func (s *stage) expectWriters(t *testing.T, want map[AgentID]protocol.Code) {
	t.Helper()
	for a, code := range want {
		if got := s.send(a, "s1", "w-"+itoa(int64(a))+"-"+itoa(s.now.UnixNano())); got != code {
			t.Errorf("Send by %s: %q, want %q", s.d.name(a), got, code)
		}
	}
}

func TestTransferTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		prep  func(s *stage)
		act   func(s *stage) []Effect
		check func(t *testing.T, s *stage, fx []Effect)
	}{
		{
			name: "start: the owner offers the chat to a Present agent",
			act:  func(s *stage) []Effect { return s.start(A, B, false, "") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, s.tid)
				tr := s.expectTransfer(t, TransferPending, "", time.Time{})
				if tr.From != A || tr.To != B || tr.By != A || tr.Kind != KindTransfer || tr.ToQueue {
					t.Errorf("transfer = %+v", tr)
				}
				if want := s.now.Add(DefaultTransferTimeout); !tr.Deadline.Equal(want) {
					t.Errorf("deadline = %v, want %v", tr.Deadline, want)
				}
				if tc := one[TransferChanged](t, fx); tc.Transfer.State != TransferPending || tc.Transfer.ID != s.tid {
					t.Errorf("TransferChanged = %+v", tc.Transfer)
				}
				sc := one[SessionChanged](t, fx)
				sameIDs(t, "Notify", sc.Notify, []AgentID{A, B})
				if sc.Session.Pending != s.tid {
					t.Errorf("SessionChanged.Pending = %d, want %d", sc.Session.Pending, s.tid)
				}
				if sub := one[Subscribed](t, fx); sub.Agent != B || sub.Session != "s1" {
					t.Errorf("Subscribed = %+v, want Bo to s1", sub)
				}
				public, staff := notes(fx)
				if len(public) != 0 || !slices.Equal(staff, []string{"transfer_offered by=Anna#1 to=Bo#2 from=Anna#1"}) {
					t.Errorf("notes: public %q staff %q", public, staff)
				}
				// The owner keeps chatting; the receiver reads only.
				s.expectWriters(t, map[AgentID]protocol.Code{A: "", B: protocol.CodeListenOnly, C: protocol.CodeNotParticipant})
				sameIDs(t, "Recipients", s.d.RecipientsOf("s1"), []AgentID{A, B})
			},
		},
		{
			name: "start: with a comment, which is trimmed and put in the staff note",
			act:  func(s *stage) []Effect { return s.start(A, B, false, "  VIP, wants a refund \n") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if tr := s.xfer(s.tid); tr.Comment != "VIP, wants a refund" {
					t.Errorf("comment = %q", tr.Comment)
				}
				_, staff := notes(fx)
				if len(staff) != 1 || !strings.HasSuffix(staff[0], `comment="VIP, wants a refund"`) {
					t.Errorf("staff note = %q", staff)
				}
			},
		},
		{
			name: "start: to the queue offers the least-loaded Present agent",
			prep: func(s *stage) { s.active("s2", B) }, // Bo has one chat, Cleo none
			act:  func(s *stage) []Effect { return s.start(A, 0, true, "") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				tr := s.xfer(s.tid)
				if tr.To != C || !tr.ToQueue || tr.State != TransferPending {
					t.Errorf("transfer to %d (queue %v, %v), want Cleo via the queue", tr.To, tr.ToQueue, tr.State)
				}
				if sub := one[Subscribed](t, fx); sub.Agent != C {
					t.Errorf("Subscribed %d, want Cleo", sub.Agent)
				}
			},
		},
		{
			name: "start: to the queue skips Away agents and the owner",
			prep: func(s *stage) {
				s.active("s2", B)
				s.ok(s.d.SetStatus(s.now, C, Away))
			},
			act: func(s *stage) []Effect { return s.start(A, 0, true, "") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if tr := s.xfer(s.tid); tr.To != B {
					t.Errorf("offered to %d, want Bo (the only Present one left)", tr.To)
				}
			},
		},
		{
			name: "start: a supervisor with manage transfers on the owner's behalf",
			act:  func(s *stage) []Effect { return s.start(M, B, false, "") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, s.tid)
				tr := s.xfer(s.tid)
				if tr.From != A || tr.To != B || tr.By != M {
					t.Errorf("from %d to %d by %d, want Anna to Bo by Mia", tr.From, tr.To, tr.By)
				}
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B, M})
				_, staff := notes(fx)
				if !slices.Equal(staff, []string{"transfer_offered by=Mia#4 to=Bo#2 from=Anna#1"}) {
					t.Errorf("staff note = %q", staff)
				}
				s.expectWriters(t, map[AgentID]protocol.Code{A: "", B: protocol.CodeListenOnly, M: protocol.CodeNotParticipant})
			},
		},
		{
			name: "accept: the receiver owns the chat, the former owner listens",
			prep: func(s *stage) { s.offer(); s.at(10 * time.Second) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Accept(s.now, B, s.tid)) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, B, []AgentID{A}, 0)
				s.expectTransfer(t, TransferAccepted, "", s.now)
				if tc := one[TransferChanged](t, fx); tc.Transfer.State != TransferAccepted {
					t.Errorf("TransferChanged %v", tc.Transfer.State)
				}
				sc := one[SessionChanged](t, fx)
				sameIDs(t, "Notify", sc.Notify, []AgentID{A, B})
				if sc.Session.Owner != B || !slices.Equal(sc.Session.Listeners, []AgentID{A}) {
					t.Errorf("SessionChanged owner %d listeners %v", sc.Session.Owner, sc.Session.Listeners)
				}
				if sub := one[Subscribed](t, fx); sub.Agent != B {
					t.Errorf("Subscribed %d, want Bo", sub.Agent)
				}
				public, staff := notes(fx)
				if !slices.Equal(public, []string{"joined agent=Bo"}) || !slices.Equal(staff, []string{"transfer_accepted by=Anna#1 to=Bo#2 from=Anna#1"}) {
					t.Errorf("notes: public %q staff %q", public, staff)
				}
				loads := map[AgentID]int{}
				for _, ac := range all[AgentChanged](fx) {
					loads[ac.Agent] = ac.Load
				}
				if loads[A] != 0 || loads[B] != 1 || len(loads) != 2 {
					t.Errorf("AgentChanged loads = %v, want Anna 0, Bo 1", loads)
				}
				s.expectWriters(t, map[AgentID]protocol.Code{B: "", A: protocol.CodeListenOnly})
			},
		},
		{
			name: "accept of an on-behalf transfer tells the supervisor too",
			prep: func(s *stage) { s.offerBy(M) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Accept(s.now, B, s.tid)) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, B, []AgentID{A}, 0)
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B, M})
			},
		},
		{
			name: "reject: nothing changes but the highlight",
			prep: func(s *stage) { s.offer(); s.at(5 * time.Second) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Reject(s.now, B, s.tid)) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, 0)
				s.expectTransfer(t, TransferRejected, "", s.now)
				expectResolved(t, fx, TransferRejected, []AgentID{A, B}, "transfer_rejected by=Anna#1 to=Bo#2 from=Anna#1")
				if len(all[Subscribed](fx)) != 0 {
					t.Errorf("a reject subscribed someone: %s", describe(fx))
				}
				s.expectWriters(t, map[AgentID]protocol.Code{A: "", B: protocol.CodeNotParticipant})
				sameIDs(t, "Recipients", s.d.RecipientsOf("s1"), []AgentID{A})
			},
		},
		{
			name: "cancel by the owner who started it",
			prep: func(s *stage) { s.offer() },
			act:  func(s *stage) []Effect { return s.ok(s.d.Cancel(s.now, A, s.tid)) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, 0)
				s.expectTransfer(t, TransferCancelled, "", s.now)
				expectResolved(t, fx, TransferCancelled, []AgentID{A, B}, "transfer_cancelled by=Anna#1 to=Bo#2 from=Anna#1")
				s.expectWriters(t, map[AgentID]protocol.Code{A: "", B: protocol.CodeNotParticipant})
			},
		},
		{
			name: "cancel by the supervisor who started it",
			prep: func(s *stage) { s.offerBy(M) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Cancel(s.now, M, s.tid)) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, 0)
				expectResolved(t, fx, TransferCancelled, []AgentID{A, B, M}, "transfer_cancelled by=Mia#4 to=Bo#2 from=Anna#1")
			},
		},
		{
			name: "expire: a tick at the deadline",
			prep: func(s *stage) { s.offer(); s.at(DefaultTransferTimeout) },
			act:  func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, 0)
				s.expectTransfer(t, TransferExpired, "", s.now)
				expectResolved(t, fx, TransferExpired, []AgentID{A, B}, "transfer_expired by=Anna#1 to=Bo#2 from=Anna#1")
				s.expectWriters(t, map[AgentID]protocol.Code{A: "", B: protocol.CodeNotParticipant})
			},
		},
		{
			name: "expire: a tick after the deadline",
			prep: func(s *stage) { s.offer(); s.at(DefaultTransferTimeout + 7*time.Second) },
			act:  func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectTransfer(t, TransferExpired, "", s.now)
				expectResolved(t, fx, TransferExpired, []AgentID{A, B}, "transfer_expired by=Anna#1 to=Bo#2 from=Anna#1")
			},
		},
		{
			name: "no expiry: a tick just before the deadline",
			prep: func(s *stage) { s.offer(); s.at(DefaultTransferTimeout - time.Nanosecond) },
			act:  func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if len(fx) != 0 {
					t.Errorf("tick before the deadline: %s", describe(fx))
				}
				s.expectSession(t, Active, A, nil, s.tid)
				s.expectTransfer(t, TransferPending, "", time.Time{})
			},
		},
		{
			name: "no expiry ever with a transfer timeout of 0",
			prep: func(s *stage) {
				s.d.channels[support].TransferTimeout = 0
				s.d.cfg.IdleEnd = 0 // keep the quiet chat open for days
				s.offer()
				s.at(30 * 24 * time.Hour)
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if len(fx) != 0 {
					t.Errorf("tick: %s", describe(fx))
				}
				if tr := s.expectTransfer(t, TransferPending, "", time.Time{}); !tr.Deadline.IsZero() {
					t.Errorf("deadline = %v, want none", tr.Deadline)
				}
			},
		},
		{
			name: "void: the receiver stayed Offline past the grace period",
			prep: func(s *stage) {
				s.offer()
				s.at(10 * time.Second)
				s.d.Disconnect(s.now, B)
				s.at(testConfig().Grace)
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, 0)
				s.expectTransfer(t, TransferVoided, VoidReceiverOffline, s.now)
				expectResolved(t, fx, TransferVoided, []AgentID{A, B}, "transfer_voided agent=Bo#2 by=Anna#1 to=Bo#2 from=Anna#1 reason=receiver_offline")
			},
		},
		{
			name: "no void: the receiver is Offline for less than the grace period",
			prep: func(s *stage) {
				s.offer()
				s.d.Disconnect(s.now, B)
				s.at(testConfig().Grace - time.Second)
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if len(fx) != 0 {
					t.Errorf("tick: %s", describe(fx))
				}
				s.expectTransfer(t, TransferPending, "", time.Time{})
			},
		},
		{
			name: "no void: the receiver reconnects within the grace period",
			prep: func(s *stage) {
				s.offer()
				s.d.Disconnect(s.now, B)
				s.at(30 * time.Second)
				s.ok(s.d.Connect(s.now, B))
				s.at(40 * time.Second) // 70 s after the disconnect, before the deadline
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				if len(fx) != 0 {
					t.Errorf("tick: %s", describe(fx))
				}
				s.expectSession(t, Active, A, nil, s.tid)
				s.expectTransfer(t, TransferPending, "", time.Time{})
			},
		},
		{
			name: "no void: one of the receiver's two connections closes",
			prep: func(s *stage) {
				s.ok(s.d.Connect(s.now, B)) // the dashboard window
				s.offer()
				s.d.Disconnect(s.now, B)
				s.at(testConfig().Grace + time.Second)
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectTransfer(t, TransferPending, "", time.Time{})
			},
		},
		{
			name: "void: the owner ends the chat",
			prep: func(s *stage) { s.offer() },
			act:  func(s *stage) []Effect { return s.ok(s.d.End(s.now, A, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Ended, A, nil, 0)
				s.expectTransfer(t, TransferVoided, VoidChatEnded, s.now)
				if tc := one[TransferChanged](t, fx); tc.Transfer.State != TransferVoided {
					t.Errorf("TransferChanged %v", tc.Transfer.State)
				}
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B})
				public, staff := notes(fx)
				if !slices.Equal(staff, []string{"transfer_voided by=Anna#1 to=Bo#2 from=Anna#1 reason=chat_ended"}) ||
					!slices.Equal(public, []string{"ended_agent agent=Anna"}) {
					t.Errorf("notes: public %q staff %q", public, staff)
				}
				if s.d.Load(A) != 0 {
					t.Errorf("Anna's load = %d after the end", s.d.Load(A))
				}
			},
		},
		{
			name: "void: the visitor ends the chat",
			prep: func(s *stage) { s.offer() },
			act:  func(s *stage) []Effect { return s.ok(s.d.VisitorEnd(s.now, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Ended, A, nil, 0)
				s.expectTransfer(t, TransferVoided, VoidChatEnded, s.now)
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B})
				if got := s.session("s1").EndedBy; got != ByVisitor {
					t.Errorf("EndedBy = %q", got)
				}
			},
		},
		{
			name: "void: the owner stays Offline and the chat goes back to the queue",
			prep: func(s *stage) {
				s.offer()
				s.d.Disconnect(s.now, A)
				s.at(testConfig().Grace)
			},
			act: func(s *stage) []Effect { return s.d.Tick(s.now) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Queued, 0, nil, 0)
				s.expectTransfer(t, TransferVoided, VoidOwnerOffline, s.now)
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B})
			},
		},
		{
			name: "void: a supervisor takes over",
			prep: func(s *stage) { s.offer() },
			act: func(s *stage) []Effect {
				fx, _, err := s.d.TakeOver(s.now, M, "s1")
				return s.ok(fx, err)
			},
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, M, []AgentID{A}, 0)
				s.expectTransfer(t, TransferVoided, VoidTakenOver, s.now)
				tcs := all[TransferChanged](fx)
				if len(tcs) != 2 || tcs[0].Transfer.State != TransferVoided || tcs[1].Transfer.Kind != KindTakeover {
					t.Fatalf("transfers told: %s", describe(fx))
				}
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, B, M})
				s.expectWriters(t, map[AgentID]protocol.Code{M: "", A: protocol.CodeListenOnly, B: protocol.CodeNotParticipant})
			},
		},
		{
			name: "take-over: the supervisor owns the chat at once, the owner listens and is told",
			act: func(s *stage) []Effect {
				fx, tid, err := s.d.TakeOver(s.now, M, "s1")
				s.tid = tid
				return s.ok(fx, err)
			},
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, M, []AgentID{A}, 0)
				tr := s.expectTransfer(t, TransferAccepted, "", s.now)
				if tr.Kind != KindTakeover || tr.From != A || tr.To != M || tr.By != M {
					t.Errorf("take-over = %+v", tr)
				}
				if tc := one[TransferChanged](t, fx); tc.Transfer.ID != s.tid {
					t.Errorf("TransferChanged for %d, want %d", tc.Transfer.ID, s.tid)
				}
				sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A, M})
				if sub := one[Subscribed](t, fx); sub.Agent != M {
					t.Errorf("Subscribed %d, want Mia", sub.Agent)
				}
				public, staff := notes(fx)
				if !slices.Equal(public, []string{"joined agent=Mia"}) || !slices.Equal(staff, []string{"took_over by=Mia#4 from=Anna#1"}) {
					t.Errorf("notes: public %q staff %q", public, staff)
				}
				s.expectWriters(t, map[AgentID]protocol.Code{M: "", A: protocol.CodeListenOnly})
			},
		},
		{
			name: "take-over by a supervisor who was listening",
			prep: func(s *stage) { s.ok(s.d.Listen(s.now, M, "s1")) },
			act: func(s *stage) []Effect {
				fx, _, err := s.d.TakeOver(s.now, M, "s1")
				return s.ok(fx, err)
			},
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, M, []AgentID{A}, 0)
			},
		},
		{
			name: "listen: silent, read-only",
			act:  func(s *stage) []Effect { return s.ok(s.d.Listen(s.now, L, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, []AgentID{L}, 0)
				if sc := one[SessionChanged](t, fx); !slices.Equal(sc.Notify, []AgentID{L}) {
					t.Errorf("Notify = %v, want only the listener", sc.Notify)
				}
				if sub := one[Subscribed](t, fx); sub.Agent != L {
					t.Errorf("Subscribed %d, want Leo", sub.Agent)
				}
				if len(all[EntryAdded](fx)) != 0 {
					t.Errorf("listening wrote to the log: %s", describe(fx))
				}
				s.expectWriters(t, map[AgentID]protocol.Code{L: protocol.CodeListenOnly, A: ""})
				sameIDs(t, "Recipients", s.d.RecipientsOf("s1"), []AgentID{A, L})
			},
		},
		{
			name: "listen: manage alone allows it",
			act:  func(s *stage) []Effect { return s.ok(s.d.Listen(s.now, M, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, []AgentID{M}, 0)
				s.expectWriters(t, map[AgentID]protocol.Code{M: protocol.CodeListenOnly})
			},
		},
		{
			name: "listen twice: only a fresh subscription",
			prep: func(s *stage) { s.ok(s.d.Listen(s.now, L, "s1")) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Listen(s.now, L, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, []AgentID{L}, 0)
				if len(fx) != 1 || one[Subscribed](t, fx).Agent != L {
					t.Errorf("effects %s, want one Subscribed", describe(fx))
				}
			},
		},
		{
			name: "leave: the former owner closes the window",
			prep: func(s *stage) { s.offer(); s.ok(s.d.Accept(s.now, B, s.tid)) },
			act:  func(s *stage) []Effect { return s.ok(s.d.Leave(s.now, A, "s1")) },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, B, nil, 0)
				if sc := one[SessionChanged](t, fx); !slices.Equal(sc.Notify, []AgentID{A}) || len(fx) != 1 {
					t.Errorf("effects %s notify %v, want one SessionChanged to Anna only", describe(fx), sc.Notify)
				}
				s.expectWriters(t, map[AgentID]protocol.Code{A: protocol.CodeNotParticipant, B: ""})
			},
		},
		{
			name: "a second transfer after a rejected one",
			prep: func(s *stage) { s.offer(); s.ok(s.d.Reject(s.now, B, s.tid)) },
			act:  func(s *stage) []Effect { return s.start(A, C, false, "") },
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.expectSession(t, Active, A, nil, s.tid)
				if tr := s.xfer(s.tid); tr.To != C || tr.State != TransferPending {
					t.Errorf("transfer %+v", tr)
				}
			},
		},
		{
			name: "the new owner passes the chat on again",
			prep: func(s *stage) { s.offer(); s.ok(s.d.Accept(s.now, B, s.tid)) },
			act: func(s *stage) []Effect {
				fx, tid, err := s.d.StartTransfer(s.now, B, "s1", A, false, "back to you")
				s.tid = tid
				return s.ok(fx, err)
			},
			check: func(t *testing.T, s *stage, fx []Effect) {
				s.ok(s.d.Accept(s.now, A, s.tid))
				s.expectSession(t, Active, A, []AgentID{B}, 0)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStage(t)
			if tc.prep != nil {
				tc.prep(s)
			}
			fx := tc.act(s)
			tc.check(t, s, fx)
		})
	}
}

func TestTransferRefused(t *testing.T) {
	t.Parallel()
	start := func(by AgentID, id SessionID, to AgentID, toQueue bool, comment string) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) {
			fx, _, err := s.d.StartTransfer(s.now, by, id, to, toQueue, comment)
			return fx, err
		}
	}
	accept := func(a AgentID) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) { return s.d.Accept(s.now, a, s.tid) }
	}
	reject := func(a AgentID) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) { return s.d.Reject(s.now, a, s.tid) }
	}
	cancel := func(a AgentID) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) { return s.d.Cancel(s.now, a, s.tid) }
	}
	takeOver := func(a AgentID, id SessionID) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) {
			fx, _, err := s.d.TakeOver(s.now, a, id)
			return fx, err
		}
	}
	send := func(a AgentID) func(s *stage) ([]Effect, *Error) {
		return func(s *stage) ([]Effect, *Error) {
			fx, _, _, err := s.d.Send(s.now, a, "s1", "c-refused", "let me answer")
			return fx, err
		}
	}
	accepted := func(s *stage) { s.offer(); s.ok(s.d.Accept(s.now, B, s.tid)) }

	tests := []struct {
		name string
		prep func(s *stage)
		act  func(s *stage) ([]Effect, *Error)
		code protocol.Code
	}{
		// One pending transfer at a time.
		{"second transfer while one is pending", (*stage).offer, start(A, "s1", C, false, ""), protocol.CodeTransferPending},
		{"second transfer by a supervisor while one is pending", (*stage).offer, start(M, "s1", C, false, ""), protocol.CodeTransferPending},
		{"second transfer to the queue while one is pending", (*stage).offer, start(A, "s1", 0, true, ""), protocol.CodeTransferPending},

		// Only a pending transfer can be resolved.
		{"accept twice", accepted, accept(B), protocol.CodeInvalidState},
		{"accept after cancel", func(s *stage) { s.offer(); s.ok(s.d.Cancel(s.now, A, s.tid)) }, accept(B), protocol.CodeInvalidState},
		{"accept after reject", func(s *stage) { s.offer(); s.ok(s.d.Reject(s.now, B, s.tid)) }, accept(B), protocol.CodeInvalidState},
		{"accept after expiry", func(s *stage) { s.offer(); s.d.Tick(s.at(DefaultTransferTimeout)) }, accept(B), protocol.CodeInvalidState},
		{"accept after the chat ended", func(s *stage) { s.offer(); s.ok(s.d.End(s.now, A, "s1")) }, accept(B), protocol.CodeInvalidState},
		{"reject after accept", accepted, reject(B), protocol.CodeInvalidState},
		{"cancel after accept", accepted, cancel(A), protocol.CodeInvalidState},
		{"cancel twice", func(s *stage) { s.offer(); s.ok(s.d.Cancel(s.now, A, s.tid)) }, cancel(A), protocol.CodeInvalidState},
		{"accept a transfer that does not exist", func(s *stage) { s.tid = 999 }, accept(B), protocol.CodeNotFound},

		// Only the receiver answers, only the starter cancels.
		{"accept by a third agent", (*stage).offer, accept(C), protocol.CodeForbidden},
		{"accept by the owner", (*stage).offer, accept(A), protocol.CodeForbidden},
		{"accept by the supervisor who started it", func(s *stage) { s.offerBy(M) }, accept(M), protocol.CodeForbidden},
		{"reject by a third agent", (*stage).offer, reject(C), protocol.CodeForbidden},
		{"reject by the owner", (*stage).offer, reject(A), protocol.CodeForbidden},
		{"cancel by the receiver", (*stage).offer, cancel(B), protocol.CodeForbidden},
		{"cancel by a third agent", (*stage).offer, cancel(C), protocol.CodeForbidden},
		{"cancel by the owner of a transfer a supervisor started", func(s *stage) { s.offerBy(M) }, cancel(A), protocol.CodeForbidden},
		{"cancel by a supervisor of the owner's transfer", (*stage).offer, cancel(M), protocol.CodeForbidden},

		// Who may transfer.
		{"transfer by the former owner, now listening", accepted, start(A, "s1", C, false, ""), protocol.CodeListenOnly},
		{"transfer by a listen-only supervisor", func(s *stage) { s.ok(s.d.Listen(s.now, L, "s1")) }, start(L, "s1", B, false, ""), protocol.CodeListenOnly},
		{"transfer by a non-participant without manage", nil, start(C, "s1", B, false, ""), protocol.CodeNotParticipant},
		{"transfer by an agent with no permission in the channel", nil, start(N, "s1", B, false, ""), protocol.CodeNotParticipant},
		{"transfer by an unknown agent", nil, start(99, "s1", B, false, ""), protocol.CodeForbidden},
		{"transfer of a queued chat", func(s *stage) { s.chat("s2") }, start(M, "s2", B, false, ""), protocol.CodeInvalidState},
		{"transfer of an ended chat", func(s *stage) { s.ok(s.d.End(s.now, A, "s1")) }, start(A, "s1", B, false, ""), protocol.CodeInvalidState},
		{"transfer of an unknown chat", nil, start(A, "nope", B, false, ""), protocol.CodeNotFound},

		// To whom.
		{"target is the owner", nil, start(A, "s1", A, false, ""), protocol.CodeInvalidTarget},
		{"target is the owner, by a supervisor", nil, start(M, "s1", A, false, ""), protocol.CodeInvalidTarget},
		{"target is Offline", func(s *stage) { s.d.Disconnect(s.now, B) }, start(A, "s1", B, false, ""), protocol.CodeInvalidTarget},
		{"target is Away", func(s *stage) { s.ok(s.d.SetStatus(s.now, B, Away)) }, start(A, "s1", B, false, ""), protocol.CodeInvalidTarget},
		{"target lacks respond", nil, start(A, "s1", L, false, ""), protocol.CodeInvalidTarget},
		{"target responds in another channel only", nil, start(A, "s1", N, false, ""), protocol.CodeInvalidTarget},
		{"target is unknown", nil, start(A, "s1", 99, false, ""), protocol.CodeInvalidTarget},
		{"to the queue with nobody else Present", func(s *stage) {
			s.ok(s.d.SetStatus(s.now, B, Away))
			s.d.Disconnect(s.now, C)
		}, start(A, "s1", 0, true, ""), protocol.CodeNoAgent},
		{"both an agent and the queue", nil, start(A, "s1", B, true, ""), protocol.CodeBadRequest},
		{"neither an agent nor the queue", nil, start(A, "s1", 0, false, ""), protocol.CodeBadRequest},
		{"comment too long", nil, start(A, "s1", B, false, strings.Repeat("é", MaxComment+1)), protocol.CodeTooLarge},

		// Take-over and listening.
		{"take-over without manage", nil, takeOver(B, "s1"), protocol.CodeForbidden},
		{"take-over with listen only", nil, takeOver(L, "s1"), protocol.CodeForbidden},
		{"take-over of a queued chat", func(s *stage) { s.chat("s2") }, takeOver(M, "s2"), protocol.CodeInvalidState},
		{"take-over of an ended chat", func(s *stage) { s.ok(s.d.End(s.now, A, "s1")) }, takeOver(M, "s1"), protocol.CodeInvalidState},
		{"take-over of one's own chat", func(s *stage) {
			_, _, err := s.d.TakeOver(s.now, M, "s1")
			s.ok(nil, err)
		}, takeOver(M, "s1"), protocol.CodeInvalidState},
		{"listen without listen or manage", nil, func(s *stage) ([]Effect, *Error) { return s.d.Listen(s.now, C, "s1") }, protocol.CodeForbidden},
		{"listen with no permission at all", nil, func(s *stage) ([]Effect, *Error) { return s.d.Listen(s.now, N, "s1") }, protocol.CodeForbidden},
		{"listen to one's own chat", func(s *stage) { s.d.agents[A].Perms[support] |= PermListen },
			func(s *stage) ([]Effect, *Error) { return s.d.Listen(s.now, A, "s1") }, protocol.CodeInvalidState},
		{"listen to an ended chat", func(s *stage) { s.ok(s.d.End(s.now, A, "s1")) },
			func(s *stage) ([]Effect, *Error) { return s.d.Listen(s.now, L, "s1") }, protocol.CodeInvalidState},
		{"leave without listening", nil, func(s *stage) ([]Effect, *Error) { return s.d.Leave(s.now, C, "s1") }, protocol.CodeNotParticipant},
		{"leave by the owner", nil, func(s *stage) ([]Effect, *Error) { return s.d.Leave(s.now, A, "s1") }, protocol.CodeNotParticipant},

		// Writing.
		{"send by the receiver while pending", (*stage).offer, send(B), protocol.CodeListenOnly},
		{"send by the former owner after accept", accepted, send(A), protocol.CodeListenOnly},
		{"send by a listener", func(s *stage) { s.ok(s.d.Listen(s.now, L, "s1")) }, send(L), protocol.CodeListenOnly},
		{"send by a non-participant", nil, send(C), protocol.CodeNotParticipant},
		{"send by the starter of an on-behalf transfer", func(s *stage) { s.offerBy(M) }, send(M), protocol.CodeNotParticipant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStage(t)
			if tc.prep != nil {
				tc.prep(s)
			}
			s.at(time.Second)
			before := dump(s.d)
			fx, err := tc.act(s)
			wantCode(t, err, tc.code)
			if fx != nil {
				t.Errorf("a refusal came with effects: %s", describe(fx))
			}
			unchanged(t, before, s.d)
		})
	}
}

// The transfer history: every transition is a TransferChanged, in order.
func TestTransferHistoryAndPendingFor(t *testing.T) {
	t.Parallel()
	s := newStage(t)
	var told []TransferState
	record := func(fx []Effect) {
		for _, tc := range all[TransferChanged](fx) {
			told = append(told, tc.Transfer.State)
		}
	}
	record(s.start(A, B, false, "first"))
	first := s.tid
	if got := s.d.PendingFor(B); len(got) != 1 || got[0].ID != first {
		t.Errorf("PendingFor(Bo) = %+v", got)
	}
	if got := s.d.PendingFor(C); len(got) != 0 {
		t.Errorf("PendingFor(Cleo) = %+v, want none", got)
	}
	record(s.ok(s.d.Reject(s.now, B, first)))
	record(s.start(A, C, false, "second"))
	record(s.ok(s.d.Accept(s.at(time.Second), C, s.tid)))
	fx, _, err := s.d.TakeOver(s.now, M, "s1")
	record(s.ok(fx, err))
	want := []TransferState{TransferPending, TransferRejected, TransferPending, TransferAccepted, TransferAccepted}
	if !slices.Equal(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
	if got := s.d.PendingFor(A); len(got) != 0 {
		t.Errorf("PendingFor(Anna) after all resolved = %+v", got)
	}
	// Anna (first owner) and Cleo (second) both listen now; Mia owns.
	s.expectSession(t, Active, M, []AgentID{A, C}, 0)
}

func TestTransferTargets(t *testing.T) {
	t.Parallel()
	s := newStage(t)
	s.active("s2", B)
	s.active("s3", B)
	got, err := s.d.TransferTargets(A, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []AgentID
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	// Present, with respond, not the owner; least loaded first.
	if !slices.Equal(ids, []AgentID{C, B}) {
		t.Errorf("targets = %v, want Cleo then Bo", ids)
	}
	if _, err := s.d.TransferTargets(C, "s1"); err == nil || err.Code != protocol.CodeNotParticipant {
		t.Errorf("targets for a non-participant: %v", err)
	}
}

// A transfer past its deadline cannot be accepted, rejected or cancelled even
// before the next Tick marks it expired.
func TestTransferPastDeadlineBeforeTick(t *testing.T) {
	t.Parallel()
	s := newStage(t)
	s.offer()
	s.at(DefaultTransferTimeout)
	for name, f := range map[string]func() ([]Effect, *Error){
		"accept": func() ([]Effect, *Error) { return s.d.Accept(s.now, B, s.tid) },
		"reject": func() ([]Effect, *Error) { return s.d.Reject(s.now, B, s.tid) },
		"cancel": func() ([]Effect, *Error) { return s.d.Cancel(s.now, A, s.tid) },
	} {
		before := dump(s.d)
		fx, err := f()
		wantCode(t, err, protocol.CodeInvalidState)
		if len(fx) != 0 {
			t.Errorf("%s: effects %s", name, describe(fx))
		}
		unchanged(t, before, s.d)
	}
	fx := s.d.Tick(s.now)
	if got := s.xfer(s.tid).State; got != TransferExpired || len(fx) == 0 {
		t.Fatalf("after tick: %s", got)
	}
}

// A supervisor who also answers is never offered the queue transfer they start.
func TestQueueTransferSkipsStarter(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, func(s *Snapshot) {
		for i := range s.Agents {
			if s.Agents[i].ID == M {
				s.Agents[i].Perms[support] |= PermRespond
			}
		}
	})
	f.active("s1", A)
	// B and C carry load so that M would be the least loaded.
	f.active("s2", B)
	f.active("s3", C)
	_, tid, err := f.d.StartTransfer(f.now, M, "s1", 0, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if to := f.xfer(tid).To; to == M || to == A {
		t.Fatalf("queue transfer offered to %d", to)
	}
}
