package chat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

func TestStartChat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	fx := f.ok(f.d.StartChat(f.now, "s1", support, "  Vera ", " vera@example.com ", " Where is my parcel? \n", "h"))
	s := f.session("s1")
	if s.State != Queued || s.Owner != 0 || s.Visitor != (Visitor{Name: "Vera", Email: "vera@example.com"}) ||
		s.Question != "Where is my parcel?" || s.Seq != 1 || s.TokenHash != "h" {
		t.Errorf("session = %+v", s)
	}
	// The session is made, the question is the visitor's first line, the queue moved.
	if sc := one[SessionChanged](t, fx); sc.Session.ID != "s1" || len(sc.Notify) != 0 {
		t.Errorf("SessionChanged = %+v", sc)
	}
	e := one[EntryAdded](t, fx).Entry
	if e.Seq != 1 || e.AuthorKind != ByVisitor || e.Text != "Where is my parcel?" || e.Staff || e.AuthorName != "Vera" {
		t.Errorf("first entry = %+v", e)
	}
	if q := one[QueueChanged](t, fx); q.Channel != support {
		t.Errorf("QueueChanged %q", q.Channel)
	}
	// Without a question there is no first line.
	fx = f.ok(f.d.StartChat(f.now, "s2", support, "Walt", "walt@example.com", "", "h"))
	if len(all[EntryAdded](fx)) != 0 || f.session("s2").Seq != 0 {
		t.Errorf("an empty question made an entry: %s", describe(fx))
	}
}

// chatForm is what a visitor submits to StartChat.
type chatForm struct {
	id                    SessionID
	channel               ChannelID
	name, email, question string
}

func TestStartChatRefused(t *testing.T) {
	t.Parallel()
	closedHours := func(f *fixture) {
		h, err := ParseHours("mon-fri 08:00-09:00", time.UTC) // t0 is Monday 10:00
		if err != nil {
			f.t.Fatal(err)
		}
		f.d.channels[support].Hours = h
	}
	tests := []struct {
		name string
		prep func(f *fixture)
		edit func(c *chatForm)
		code protocol.Code
	}{
		{"missing name", nil, func(c *chatForm) { c.name = "" }, protocol.CodeBadRequest},
		{"blank name", nil, func(c *chatForm) { c.name = "  \t" }, protocol.CodeBadRequest},
		{"name too long", nil, func(c *chatForm) { c.name = strings.Repeat("n", MaxName+1) }, protocol.CodeTooLarge},
		{"missing e-mail", nil, func(c *chatForm) { c.email = "" }, protocol.CodeBadRequest},
		{"e-mail without @", nil, func(c *chatForm) { c.email = "vera.example.com" }, protocol.CodeBadRequest},
		{"e-mail without a dot in the domain", nil, func(c *chatForm) { c.email = "vera@localhost" }, protocol.CodeBadRequest},
		{"e-mail with a display name", nil, func(c *chatForm) { c.email = "Vera <vera@example.com>" }, protocol.CodeBadRequest},
		{"e-mail ending in a dot", nil, func(c *chatForm) { c.email = "vera@example.com." }, protocol.CodeBadRequest},
		{"e-mail too long", nil, func(c *chatForm) { c.email = strings.Repeat("v", MaxEmail) + "@example.com" }, protocol.CodeTooLarge},
		{"question too long", nil, func(c *chatForm) { c.question = strings.Repeat("q", MaxQuestion+1) }, protocol.CodeTooLarge},
		{"unknown channel", nil, func(c *chatForm) { c.channel = "nope" }, protocol.CodeNotFound},
		{"empty session id", nil, func(c *chatForm) { c.id = "" }, protocol.CodeBadRequest},
		{"session id taken", func(f *fixture) { f.chat("s9") }, nil, protocol.CodeBadRequest},
		{"outside opening hours", closedHours, nil, protocol.CodeChannelClosed},
		{"every responder Away", func(f *fixture) {
			for _, a := range []AgentID{A, B, C} {
				f.ok(f.d.SetStatus(f.now, a, Away))
			}
		}, nil, protocol.CodeChannelClosed},
		{"every responder Offline, supervisors Present", func(f *fixture) {
			for _, a := range []AgentID{A, B, C} {
				f.d.Disconnect(f.now, a)
			}
		}, nil, protocol.CodeChannelClosed},
		{"the only Present responder is disabled", func(f *fixture) {
			f.ok(f.d.SetStatus(f.now, A, Away))
			f.ok(f.d.SetStatus(f.now, C, Away))
			f.d.agents[B].Disabled = true
		}, nil, protocol.CodeChannelClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tc.prep != nil {
				tc.prep(f)
			}
			c := chatForm{id: "s9", channel: support, name: "Vera", email: "vera@example.com", question: "Hi"}
			if tc.edit != nil {
				tc.edit(&c)
			}
			before := dump(f.d)
			fx, err := f.d.StartChat(f.now, c.id, c.channel, c.name, c.email, c.question, "h")
			wantCode(t, err, tc.code)
			if fx != nil {
				t.Errorf("effects with a refusal: %s", describe(fx))
			}
			unchanged(t, before, f.d)
		})
	}
}

func TestSubmitOffline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The offline form is for when nobody can answer: refused while open.
	before := dump(f.d)
	if fx, _, err := f.d.SubmitOffline(f.now, support, "Vera", "vera@example.com", "Hello"); err == nil || err.Code != protocol.CodeInvalidState || fx != nil {
		t.Errorf("while open: %v, %s", err, describe(fx))
	}
	unchanged(t, before, f.d)
	for _, a := range []AgentID{A, B, C} {
		f.d.Disconnect(f.now, a)
	}
	fx, n1, err := f.d.SubmitOffline(f.now, support, "Vera", "vera@example.com", "Call me back\nabout the invoice")
	f.ok(fx, err)
	r := one[RequestCreated](t, fx).Request
	if r.Number != n1 || r.Channel != support || r.Title != "Call me back" || r.Question != "Call me back\nabout the invoice" ||
		r.Session != "" || r.CreatedBy != 0 || r.Visitor.Email != "vera@example.com" {
		t.Errorf("request = %+v", r)
	}
	_, n2, err := f.d.SubmitOffline(f.now, support, "Walt", "walt@example.com", "Hello")
	f.ok(nil, err)
	// Requests made from chats share the numbering.
	f.ok(f.d.Connect(f.now, A))
	f.active("s1", A)
	_, n3, err := f.d.CreateRequest(f.now, A, "s1", "Refund")
	f.ok(nil, err)
	if !(n1 >= 1 && n2 == n1+1 && n3 == n2+1) {
		t.Errorf("numbers %d, %d, %d: want consecutive", n1, n2, n3)
	}
	if len(f.d.sessions) != 1 {
		t.Errorf("the offline form made a session")
	}
	f.d.Disconnect(f.now, A)

	refused := []struct {
		name    string
		channel ChannelID
		q       string
		code    protocol.Code
	}{
		{"channel without an offline form", sales, "Hello", protocol.CodeForbidden},
		{"unknown channel", "nope", "Hello", protocol.CodeNotFound},
		{"empty question", support, "  ", protocol.CodeBadRequest},
	}
	for _, tc := range refused {
		before := dump(f.d)
		fx, _, err := f.d.SubmitOffline(f.now, tc.channel, "Vera", "vera@example.com", tc.q)
		if err == nil || err.Code != tc.code || fx != nil {
			t.Errorf("%s: %v, %s; want %q", tc.name, err, describe(fx), tc.code)
		}
		unchanged(t, before, f.d)
	}
}

func TestQueueIsFirstComeFirstServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, id := range []SessionID{"s3", "s1", "s2"} { // ids deliberately out of order
		f.chat(id)
		f.at(time.Second)
	}
	if got := f.d.Waiting(support); !slices.Equal(got, []SessionID{"s3", "s1", "s2"}) {
		t.Fatalf("queue = %v", got)
	}
	for i, id := range []SessionID{"s3", "s1", "s2"} {
		if pos, _ := f.d.Position(id, f.now); pos != i+1 {
			t.Errorf("position of %s = %d, want %d", id, pos, i+1)
		}
	}
	// Picking from the middle keeps the others in order.
	f.ok(f.d.Pick(f.now, A, "s1"))
	if got := f.d.Waiting(support); !slices.Equal(got, []SessionID{"s3", "s2"}) {
		t.Errorf("queue after a pick = %v", got)
	}
	if pos, _ := f.d.Position("s1", f.now); pos != 0 {
		t.Errorf("an active chat has position %d", pos)
	}
	for _, want := range []SessionID{"s3", "s2"} {
		_, got, err := f.d.Next(f.now, B)
		f.ok(nil, err)
		if got != want {
			t.Errorf("Next = %s, want %s", got, want)
		}
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.chatIn("x-sales-1", sales) // oldest, but only Cleo and Nils answer sales
	f.at(time.Second)
	f.chat("s-support-1")
	f.at(time.Second)
	f.chatIn("x-sales-2", sales)

	tests := []struct {
		agent AgentID
		want  SessionID
	}{
		{C, "x-sales-1"},   // Cleo answers both: the oldest of all
		{A, "s-support-1"}, // Anna answers support only
		{N, "x-sales-2"},   // Nils answers sales only
	}
	for _, tc := range tests {
		fx, got, err := f.d.Next(f.now, tc.agent)
		f.ok(fx, err)
		if got != tc.want {
			t.Errorf("Next for %s = %s, want %s", f.d.name(tc.agent), got, tc.want)
		}
		if s := f.session(got); s.State != Active || s.Owner != tc.agent {
			t.Errorf("%s: %v owned by %d", got, s.State, s.Owner)
		}
	}
	for _, a := range []AgentID{B, L, M} {
		before := dump(f.d)
		fx, id, err := f.d.Next(f.now, a)
		if err == nil || err.Code != protocol.CodeQueueEmpty || fx != nil || id != "" {
			t.Errorf("Next for %s on empty queues: %v %q", f.d.name(a), err, id)
		}
		unchanged(t, before, f.d)
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.chat("s1")
	f.at(90 * time.Second)
	fx := f.ok(f.d.Pick(f.now, A, "s1"))
	s := f.session("s1")
	if s.State != Active || s.Owner != A || !s.AnsweredAt.Equal(f.now) || f.d.Load(A) != 1 {
		t.Errorf("after pick: %+v, load %d", s, f.d.Load(A))
	}
	if sub := one[Subscribed](t, fx); sub.Agent != A {
		t.Errorf("Subscribed %+v", sub)
	}
	if public, _ := notes(fx); !slices.Equal(public, []string{"joined agent=Anna"}) {
		t.Errorf("public notes %q", public)
	}
	sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A})
	if ac := one[AgentChanged](t, fx); ac.Agent != A || ac.Load != 1 {
		t.Errorf("AgentChanged %+v", ac)
	}

	f.chat("s2")
	refused := []struct {
		name  string
		agent AgentID
		id    SessionID
		code  protocol.Code
	}{
		{"listen-only agent", L, "s2", protocol.CodeForbidden},
		{"supervisor without respond", M, "s2", protocol.CodeForbidden},
		{"agent of another channel", N, "s2", protocol.CodeForbidden},
		{"unknown agent", 99, "s2", protocol.CodeForbidden},
		{"an active chat", B, "s1", protocol.CodeInvalidState},
		{"an unknown chat", B, "nope", protocol.CodeNotFound},
	}
	for _, tc := range refused {
		before := dump(f.d)
		fx, err := f.d.Pick(f.now, tc.agent, tc.id)
		if err == nil || err.Code != tc.code || fx != nil {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.code)
		}
		unchanged(t, before, f.d)
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A) // seq 1: question, seq 2: "Anna has joined"

	fx, seq, dup, err := f.d.VisitorSend(f.now, "s1", "v1", "Hi  \n")
	f.ok(fx, err)
	e := one[EntryAdded](t, fx).Entry
	if seq != 3 || dup || e.Seq != 3 || e.Text != "Hi" || e.AuthorKind != ByVisitor || e.ClientID != "v1" {
		t.Errorf("visitor send: seq %d dup %v entry %+v", seq, dup, e)
	}
	fx, seq, dup, err = f.d.Send(f.now, A, "s1", "a1", "Hello Vera")
	f.ok(fx, err)
	e = one[EntryAdded](t, fx).Entry
	if seq != 4 || dup || e.Author != A || e.AuthorName != "Anna" || e.AuthorKind != ByAgent {
		t.Errorf("agent send: seq %d dup %v entry %+v", seq, dup, e)
	}

	// A resend with the same client id is stored once.
	before := dump(f.d)
	fx, seq, dup, err = f.d.VisitorSend(f.now, "s1", "v1", "Hi")
	if err != nil || seq != 3 || !dup || fx != nil {
		t.Errorf("visitor resend: %v seq %d dup %v %s", err, seq, dup, describe(fx))
	}
	fx, seq, dup, err = f.d.Send(f.now, A, "s1", "a1", "Hello Vera")
	if err != nil || seq != 4 || !dup || fx != nil {
		t.Errorf("agent resend: %v seq %d dup %v %s", err, seq, dup, describe(fx))
	}
	unchanged(t, before, f.d)

	// Client ids are per sender: the visitor's "a1" is a new message.
	_, seq, dup, err = f.d.VisitorSend(f.now, "s1", "a1", "Another")
	if err != nil || seq != 5 || dup {
		t.Errorf("same id, other sender: %v seq %d dup %v", err, seq, dup)
	}

	refused := []struct {
		name     string
		agent    AgentID // 0 = the visitor
		clientID string
		text     string
		code     protocol.Code
	}{
		{"empty text", A, "e1", "", protocol.CodeBadRequest},
		{"blank text", 0, "e2", " \n\t ", protocol.CodeBadRequest},
		{"text too long", A, "e3", strings.Repeat("x", MaxText+1), protocol.CodeTooLarge},
		{"no client id", A, "", "hi", protocol.CodeBadRequest},
		{"client id too long", 0, strings.Repeat("c", 129), "hi", protocol.CodeBadRequest},
		{"non-participant", B, "e4", "hi", protocol.CodeNotParticipant},
		{"unknown agent", 99, "e5", "hi", protocol.CodeForbidden},
	}
	for _, tc := range refused {
		before := dump(f.d)
		var err *Error
		var fx []Effect
		if tc.agent == 0 {
			fx, _, _, err = f.d.VisitorSend(f.now, "s1", tc.clientID, tc.text)
		} else {
			fx, _, _, err = f.d.Send(f.now, tc.agent, "s1", tc.clientID, tc.text)
		}
		if err == nil || err.Code != tc.code || fx != nil {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.code)
		}
		unchanged(t, before, f.d)
	}
	// Exactly MaxText bytes is fine.
	if _, seq, _, err := f.d.Send(f.now, A, "s1", "max", strings.Repeat("x", MaxText)); err != nil || seq != 6 {
		t.Errorf("a message of MaxText bytes: %v seq %d", err, seq)
	}
}

// A sender whose first attempt was stored but not acknowledged (the link
// dropped) resends it; meanwhile they may have lost the right to write. The
// resend must still be recognised, not refused: it was stored.
func TestResendAfterLosingTheRightToWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A)
	_, seqA, _, err := f.d.Send(f.now, A, "s1", "a1", "One moment, I'll pass you on")
	f.ok(nil, err)
	_, seqV, _, err := f.d.VisitorSend(f.now, "s1", "v1", "Thanks, bye")
	f.ok(nil, err)
	tid := f.transfer(A, "s1", B)
	f.ok(f.d.Accept(f.now, B, tid)) // Anna now only listens
	f.ok(f.d.End(f.now, B, "s1"))   // and the chat is over

	before := dump(f.d)
	fx, seq, dup, err := f.d.Send(f.now, A, "s1", "a1", "One moment, I'll pass you on")
	if err != nil || seq != seqA || !dup || fx != nil {
		t.Errorf("former owner's resend: %v seq %d dup %v, want seq %d dup", err, seq, dup, seqA)
	}
	fx, seq, dup, err = f.d.VisitorSend(f.now, "s1", "v1", "Thanks, bye")
	if err != nil || seq != seqV || !dup || fx != nil {
		t.Errorf("visitor's resend into the ended chat: %v seq %d dup %v, want seq %d dup", err, seq, dup, seqV)
	}
	unchanged(t, before, f.d)
	// Anything new is still refused.
	if code := f.send(A, "s1", "a2"); code != protocol.CodeInvalidState {
		t.Errorf("a new message into the ended chat: %q", code)
	}
}

func TestDedupWindowIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A)
	_, first, _, err := f.d.VisitorSend(f.now, "s1", "m0", "x")
	f.ok(nil, err)
	for i := 1; i < DedupWindow; i++ {
		_, _, _, err := f.d.VisitorSend(f.now, "s1", "m"+itoa(int64(i)), "x")
		f.ok(nil, err)
	}
	if _, seq, dup, _ := f.d.VisitorSend(f.now, "s1", "m0", "x"); !dup || seq != first {
		t.Fatalf("m0 forgotten within the window")
	}
	f.d.VisitorSend(f.now, "s1", "overflow", "x")
	if _, _, dup, _ := f.d.VisitorSend(f.now, "s1", "m0", "x"); dup {
		t.Errorf("the oldest id is still remembered past the window")
	}
	if _, _, dup, _ := f.d.VisitorSend(f.now, "s1", "m5", "x"); !dup {
		t.Errorf("a recent id was forgotten")
	}
	if n := f.d.sessions["s1"].recent.len(); n != DedupWindow {
		t.Errorf("dedup holds %d ids, want %d", n, DedupWindow)
	}
}

func TestOwnerOffline(t *testing.T) {
	t.Parallel()
	grace := testConfig().Grace
	tests := []struct {
		name      string
		steps     func(f *fixture) // after s1 is active with Anna and s2 waits
		requeued  bool
		stillOnes bool
	}{
		{"Offline past grace: back at the head of the queue", func(f *fixture) {
			f.d.Disconnect(f.now, A)
			f.at(grace)
		}, true, false},
		{"Offline, tick just before grace: still hers", func(f *fixture) {
			f.d.Disconnect(f.now, A)
			f.at(grace - time.Second)
		}, false, false},
		{"reconnects within grace: stays hers", func(f *fixture) {
			f.d.Disconnect(f.now, A)
			f.at(grace / 2)
			f.ok(f.d.Connect(f.now, A))
			f.at(2 * grace)
		}, false, false},
		{"one of two connections closes: still online", func(f *fixture) {
			f.ok(f.d.Connect(f.now, A)) // the dashboard window
			f.d.Disconnect(f.now, A)
			f.at(2 * grace)
		}, false, true},
		{"both of two connections close: Offline", func(f *fixture) {
			f.ok(f.d.Connect(f.now, A))
			f.d.Disconnect(f.now, A)
			f.d.Disconnect(f.now, A)
			f.at(grace)
		}, true, false},
		{"Away is not Offline", func(f *fixture) {
			f.ok(f.d.SetStatus(f.now, A, Away))
			f.at(2 * grace)
		}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.active("s1", A)
			f.at(time.Minute)
			f.chat("s2") // waits; s1 must come back ahead of it
			f.at(time.Second)
			tc.steps(f)
			if tc.stillOnes {
				if st := f.d.agents[A].Status(); st != Present {
					t.Errorf("status with one connection left = %v", st)
				}
			}
			fx := f.d.Tick(f.now)
			s := f.session("s1")
			if !tc.requeued {
				if s.State != Active || s.Owner != A || f.d.Load(A) != 1 || len(all[EntryAdded](fx)) != 0 {
					t.Errorf("s1 %v owner %d load %d; tick %s", s.State, s.Owner, f.d.Load(A), describe(fx))
				}
				return
			}
			if s.State != Queued || s.Owner != 0 || f.d.Load(A) != 0 {
				t.Errorf("s1 %v owner %d, Anna's load %d", s.State, s.Owner, f.d.Load(A))
			}
			if q := f.d.Waiting(support); !slices.Equal(q, []SessionID{"s1", "s2"}) {
				t.Errorf("queue = %v, want s1 at the head", q)
			}
			public, staff := notes(fx)
			if len(staff) != 0 || !slices.Equal(public, []string{"requeued agent=Anna"}) {
				t.Errorf("notes: public %q staff %q", public, staff)
			}
			sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A})
			if one[QueueChanged](t, fx).Channel != support {
				t.Errorf("no QueueChanged for support")
			}
			// Nothing is lost: the log continues and the next agent gets it first.
			_, got, err := f.d.Next(f.now, B)
			f.ok(nil, err)
			if got != "s1" || f.session("s1").Seq != s.Seq+1 {
				t.Errorf("Next = %s, seq %d after %d", got, f.session("s1").Seq, s.Seq)
			}
		})
	}
}

func TestPresence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := func() *Agent { return f.d.agents[A] }
	if a().Status() != Present || a().Conns != 1 {
		t.Fatalf("after one connect: %v with %d", a().Status(), a().Conns)
	}
	if fx := f.ok(f.d.Connect(f.now, A)); len(fx) != 0 {
		t.Errorf("a second connection announced: %s", describe(fx))
	}
	if fx := f.d.Disconnect(f.now, A); len(fx) != 0 || a().Status() != Present {
		t.Errorf("closing one of two: %s, %v", describe(fx), a().Status())
	}
	fx := f.d.Disconnect(f.at(time.Second), A)
	if ac := one[AgentChanged](t, fx); ac.Status != Offline || ac.Chosen != Present || !a().OfflineSince.Equal(f.now) {
		t.Errorf("last connection closed: %+v since %v", ac, a().OfflineSince)
	}
	if fx := f.d.Disconnect(f.now, A); fx != nil || a().Conns != 0 {
		t.Errorf("a spurious disconnect: %s conns %d", describe(fx), a().Conns)
	}
	// The chosen status survives going Offline.
	f.ok(f.d.SetStatus(f.now, B, Away))
	f.d.Disconnect(f.now, B)
	f.ok(f.d.Connect(f.now, B))
	if b, _ := f.d.Agent(B); b.Status() != Away {
		t.Errorf("Bo came back %v, want Away", b.Status())
	}
	if fx := f.ok(f.d.SetStatus(f.now, B, Away)); len(fx) != 0 {
		t.Errorf("setting the same status: %s", describe(fx))
	}
	if _, err := f.d.SetStatus(f.now, B, Offline); err == nil || err.Code != protocol.CodeBadRequest {
		t.Errorf("choosing Offline: %v", err)
	}
	f.d.agents[C].Disabled = true
	if _, err := f.d.Connect(f.now, C); err == nil || err.Code != protocol.CodeForbidden {
		t.Errorf("a disabled agent connects: %v", err)
	}
}

func TestVisitorLeavesTheQueue(t *testing.T) {
	t.Parallel()
	leave := testConfig().QueueLeave
	tests := []struct {
		name  string
		steps func(f *fixture)
		ended bool
	}{
		{"gone past QueueLeave", func(f *fixture) { f.d.VisitorDetach(f.now, "s1"); f.at(leave) }, true},
		{"gone, not yet QueueLeave", func(f *fixture) { f.d.VisitorDetach(f.now, "s1"); f.at(leave - time.Second) }, false},
		{"reloads the page", func(f *fixture) {
			f.d.VisitorDetach(f.now, "s1")
			f.at(time.Second)
			f.d.VisitorAttach(f.now, "s1")
			f.at(2 * leave)
		}, false},
		{"closes one of two tabs", func(f *fixture) {
			f.d.VisitorAttach(f.now, "s1")
			f.d.VisitorDetach(f.now, "s1")
			f.at(2 * leave)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.d.channels[support].WarnAfter, f.d.channels[support].ManagerWarnAfter = 0, 0
			f.chat("s1")
			tc.steps(f)
			fx := f.d.Tick(f.now)
			s := f.session("s1")
			if !tc.ended {
				if s.State != Queued || len(fx) != 0 {
					t.Errorf("s1 %v; tick %s", s.State, describe(fx))
				}
				return
			}
			if s.State != Ended || s.EndedBy != ByVisitor || len(f.d.Waiting(support)) != 0 {
				t.Errorf("s1 %v by %q, queue %v", s.State, s.EndedBy, f.d.Waiting(support))
			}
			if public, _ := notes(fx); !slices.Equal(public, []string{"left_queue"}) {
				t.Errorf("notes %q", public)
			}
			one[QueueChanged](t, fx)
		})
	}
}

func TestIdleEnd(t *testing.T) {
	t.Parallel()
	idle := testConfig().IdleEnd
	f := newFixture(t)
	f.active("s1", A)
	f.at(idle - time.Minute)
	if fx := f.d.Tick(f.now); len(fx) != 0 {
		t.Fatalf("ended early: %s", describe(fx))
	}
	f.d.VisitorSend(f.now, "s1", "v1", "still there?") // the clock restarts
	f.at(idle - time.Second)
	if f.d.Tick(f.now); f.session("s1").State != Active {
		t.Fatalf("ended before idle since the last message")
	}
	f.at(time.Second)
	fx := f.d.Tick(f.now)
	s := f.session("s1")
	if s.State != Ended || s.EndedBy != "idle" || f.d.Load(A) != 0 || s.Owner != A {
		t.Errorf("after idle: %v by %q, owner %d load %d", s.State, s.EndedBy, s.Owner, f.d.Load(A))
	}
	sameIDs(t, "Notify", one[SessionChanged](t, fx).Notify, []AgentID{A})
	// Ended chats leave the desk after KeepEnded.
	f.at(testConfig().KeepEnded)
	f.d.Tick(f.now)
	if _, ok := f.d.Session("s1"); ok {
		t.Errorf("ended chat still held after KeepEnded")
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	warned := func(fx []Effect) []Warned { return all[Warned](fx) }
	t.Run("once per level, to the right people", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ok(f.d.SetStatus(f.now, B, Away)) // Away: no waiting warnings
		f.chat("s1")
		if w := warned(f.d.Tick(f.at(2*time.Minute - time.Second))); len(w) != 0 {
			t.Fatalf("warned early: %+v", w)
		}
		w := warned(f.d.Tick(f.at(time.Second)))
		// Present with notify: Anna only (Bo is Away, Cleo has no notify).
		if len(w) != 1 || w[0].Level != WarnWaiting || !slices.Equal(w[0].Recipients, []AgentID{A}) || w[0].Waited != 2*time.Minute {
			t.Fatalf("waiting warning = %+v", w)
		}
		if w := warned(f.d.Tick(f.at(time.Minute))); len(w) != 0 {
			t.Errorf("waiting warning twice: %+v", w)
		}
		w = warned(f.d.Tick(f.at(2 * time.Minute)))
		if len(w) != 1 || w[0].Level != WarnManager || !slices.Equal(w[0].Recipients, []AgentID{M}) {
			t.Fatalf("manager warning = %+v", w)
		}
		if w := warned(f.d.Tick(f.at(time.Hour))); len(w) != 0 {
			t.Errorf("manager warning twice: %+v", w)
		}
		if s := f.session("s1"); s.Warned != WarnManager {
			t.Errorf("Warned = %v", s.Warned)
		}
		// Answering resets the level; back in the queue it starts over.
		f.ok(f.d.Pick(f.now, A, "s1"))
		if s := f.session("s1"); s.Warned != WarnNone {
			t.Errorf("Warned after pick = %v", s.Warned)
		}
	})
	t.Run("a late tick still sends every level", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.chat("s1")
		w := warned(f.d.Tick(f.at(10 * time.Minute)))
		if len(w) != 2 || w[0].Level != WarnWaiting || w[1].Level != WarnManager {
			t.Fatalf("warnings = %+v, want waiting then manager", w)
		}
		sameIDs(t, "waiting recipients", w[0].Recipients, []AgentID{A, B})
	})
	t.Run("a late tick skips a disabled level", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.d.channels[support].WarnAfter = 0
		f.chat("s1")
		w := warned(f.d.Tick(f.at(10 * time.Minute)))
		if len(w) != 1 || w[0].Level != WarnManager {
			t.Fatalf("warnings = %+v, want the manager's only", w)
		}
	})
	t.Run("zero delays disable warnings", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.d.channels[support].WarnAfter, f.d.channels[support].ManagerWarnAfter = 0, 0
		f.chat("s1")
		if w := warned(f.d.Tick(f.at(time.Minute))); len(w) != 0 {
			t.Errorf("warned with delays off: %+v", w)
		}
	})
}

func TestEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prep    func(f *fixture)
		end     func(f *fixture) ([]Effect, *Error)
		code    protocol.Code // "" = accepted
		endedBy string
		note    string
	}{
		{"by the owner", nil, func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, A, "s1") }, "", ByAgent, "ended_agent agent=Anna"},
		{"by a supervisor", nil, func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, M, "s1") }, "", ByAgent, "ended_agent agent=Mia"},
		{"by the visitor", nil, func(f *fixture) ([]Effect, *Error) { return f.d.VisitorEnd(f.now, "s1") }, "", ByVisitor, "visitor_left"},
		{"by the visitor from the queue", func(f *fixture) { f.chat("q1") },
			func(f *fixture) ([]Effect, *Error) { return f.d.VisitorEnd(f.now, "q1") }, "", ByVisitor, "visitor_left"},
		{"by a listener", func(f *fixture) { f.ok(f.d.Listen(f.now, L, "s1")) },
			func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, L, "s1") }, protocol.CodeListenOnly, "", ""},
		{"by a non-participant", nil, func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, B, "s1") }, protocol.CodeNotParticipant, "", ""},
		{"a queued chat by an agent", func(f *fixture) { f.chat("q1") },
			func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, A, "q1") }, protocol.CodeNotParticipant, "", ""},
		{"twice by the owner", func(f *fixture) { f.ok(f.d.End(f.now, A, "s1")) },
			func(f *fixture) ([]Effect, *Error) { return f.d.End(f.now, A, "s1") }, protocol.CodeInvalidState, "", ""},
		{"twice by the visitor", func(f *fixture) { f.ok(f.d.End(f.now, A, "s1")) },
			func(f *fixture) ([]Effect, *Error) { return f.d.VisitorEnd(f.now, "s1") }, protocol.CodeInvalidState, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.active("s1", A)
			if tc.prep != nil {
				tc.prep(f)
			}
			before := dump(f.d)
			fx, err := tc.end(f)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				unchanged(t, before, f.d)
				return
			}
			f.ok(fx, err)
			id := one[SessionChanged](t, fx).Session.ID
			s := f.session(id)
			if s.State != Ended || s.EndedBy != tc.endedBy || !s.EndedAt.Equal(f.now) {
				t.Errorf("%s: %v by %q at %v", id, s.State, s.EndedBy, s.EndedAt)
			}
			if public, _ := notes(fx); !slices.Equal(public, []string{tc.note}) {
				t.Errorf("notes %q, want %q", public, tc.note)
			}
			if f.d.Load(A) != 0 && id == "s1" {
				t.Errorf("Anna's load = %d after the end", f.d.Load(A))
			}
			if id == "q1" && (len(f.d.Waiting(support)) != 0 || len(all[QueueChanged](fx)) != 1) {
				t.Errorf("queue after ending from it: %v; %s", f.d.Waiting(support), describe(fx))
			}
			if code := f.send(A, id, "late"); code != protocol.CodeInvalidState {
				t.Errorf("send into the ended chat: %q", code)
			}
			if _, _, _, err := f.d.VisitorSend(f.now, id, "late", "hello?"); err == nil || err.Code != protocol.CodeInvalidState {
				t.Errorf("visitor send into the ended chat: %v", err)
			}
		})
	}
}

func TestCreateRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A)
	f.ok(f.d.Listen(f.now, L, "s1"))
	fx, n, err := f.d.CreateRequest(f.now, A, "s1", "  Refund for order 42 ")
	f.ok(fx, err)
	r := one[RequestCreated](t, fx).Request
	if r.Number != n || r.Session != "s1" || r.Title != "Refund for order 42" || r.CreatedBy != A ||
		r.Channel != support || r.Visitor.Name != "Vera s1" || r.Question != "Where is my parcel?" {
		t.Errorf("request = %+v", r)
	}
	tests := []struct {
		name  string
		agent AgentID
		title string
		code  protocol.Code
	}{
		{"by a listener", L, "Follow up", ""},
		{"by a colleague who may only answer", B, "Follow up", protocol.CodeForbidden},
		{"by an agent of another channel", N, "Follow up", protocol.CodeForbidden},
		{"empty title", A, "  ", protocol.CodeBadRequest},
		{"title too long", A, strings.Repeat("t", MaxTitle+1), protocol.CodeTooLarge},
	}
	for _, tc := range tests {
		before := dump(f.d)
		_, got, err := f.d.CreateRequest(f.now, tc.agent, "s1", tc.title)
		if tc.code == "" {
			if err != nil || got != n+1 {
				t.Errorf("%s: %v number %d", tc.name, err, got)
			}
			n = got
			continue
		}
		if err == nil || err.Code != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
		unchanged(t, before, f.d)
	}
}

func TestNewFromSnapshot(t *testing.T) {
	t.Parallel()
	later := t0.Add(time.Hour)
	snap := testSnapshot()
	snap.Sessions = []Session{
		{ID: "q1", Channel: support, State: Queued, Rank: 20, Seq: 1, QueuedAt: t0},
		{ID: "q2", Channel: support, State: Queued, Rank: 10, Seq: 1, QueuedAt: t0},
		{ID: "a1", Channel: support, State: Active, Owner: A, Seq: 5, Pending: 7, AnsweredAt: t0},
	}
	snap.Transfers = []Transfer{
		{ID: 7, Session: "a1", Channel: support, Kind: KindTransfer, From: A, To: B, By: A, State: TransferPending, Started: t0},
		{ID: 3, Session: "a0", Channel: support, Kind: KindTransfer, From: A, To: C, By: A, State: TransferRejected, Started: t0, Ended: later},
	}
	snap.Recent = map[SessionID][]RecentID{"a1": {{AuthorKind: ByAgent, Author: A, ClientID: "c1", Seq: 4}}}
	snap.NextRequest = 41
	snap.ChatsToday = map[ChannelID]int{support: 9}
	d := New(testConfig(), snap, later)

	if q := d.Waiting(support); !slices.Equal(q, []SessionID{"q2", "q1"}) {
		t.Errorf("queue = %v, want by rank", q)
	}
	if d.Load(A) != 1 {
		t.Errorf("load = %d", d.Load(A))
	}
	if a, _ := d.Agent(A); a.Status() != Offline || !a.OfflineSince.Equal(later) {
		t.Errorf("agents start Offline as of now: %v since %v", a.Status(), a.OfflineSince)
	}
	// The receiver of the pending transfer is Offline too, from now.
	if tr, _ := d.Transfer(7); !tr.ReceiverGoneAt.Equal(later) {
		t.Errorf("ReceiverGoneAt = %v", tr.ReceiverGoneAt)
	}
	// Nobody is connected yet: the offline form is open.
	fx, n, err := d.SubmitOffline(later, support, "Vera", "vera@example.com", "Hi")
	if err != nil || n != 41 || fx == nil {
		t.Errorf("request number after restart: %v %d", err, n)
	}
	d.Connect(later, A)
	d.Connect(later, B)
	if _, seq, dup, err := d.Send(later, A, "a1", "c1", "again"); err != nil || !dup || seq != 4 {
		t.Errorf("resend of a stored id after restart: %v %d %v", err, seq, dup)
	}
	if _, seq, _, err := d.Send(later, A, "a1", "c2", "new"); err != nil || seq != 6 {
		t.Errorf("next seq after restart: %v %d", err, seq)
	}
	// Ids keep increasing past the snapshot's transfers.
	_, tid, err := d.TakeOver(later, M, "a1")
	if err != nil || tid != 8 {
		t.Errorf("take-over id %d: %v", tid, err)
	}
	if f := d.Dashboard(later, M).Channels[0]; f.ChatsToday != 9 || f.Transfers["rejected"] != 1 || f.Transfers["voided"] != 1 {
		t.Errorf("figures after restart = %+v", f.Figures)
	}
	// Within grace of the restart nothing moves but the waiting warnings.
	d.Tick(later.Add(time.Second))
	if s, _ := d.Session("a1"); s.State != Active || s.Owner != M {
		t.Errorf("a1 after a tick: %v owned by %d", s.State, s.Owner)
	}
	if q := d.Waiting(support); len(q) != 2 {
		t.Errorf("queue after a tick: %v", q)
	}
}

func TestPermsAndStatusNames(t *testing.T) {
	t.Parallel()
	p, ok := ParsePerms([]string{"notify", "respond"})
	if !ok || p != PermRespond|PermNotify || !slices.Equal(p.Names(), []string{"respond", "notify"}) {
		t.Errorf("ParsePerms = %v %v %v", p, ok, p.Names())
	}
	if _, ok := ParsePerms([]string{"respond", "admin"}); ok {
		t.Errorf("an unknown permission was accepted")
	}
	for _, s := range []Status{Present, Away} {
		if got, ok := ParseStatus(s.String()); !ok || got != s {
			t.Errorf("ParseStatus(%q) = %v %v", s, got, ok)
		}
	}
	if _, ok := ParseStatus("offline"); ok {
		t.Errorf("Offline can be chosen")
	}
}
