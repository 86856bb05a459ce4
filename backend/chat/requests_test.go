package chat

import (
	"strings"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// offline files a request in support from the offline form.
func (f *fixture) offline() int64 {
	f.t.Helper()
	fx, n, err := submitOffline(f.t, f.d, f.now, "Åsa Öberg", "asa@example.com", "Var är mitt paket?")
	f.ok(fx, err)
	return n
}

// submitOffline sends support's offline form as a visitor would outside
// opening hours (the form is refused while a chat can start): the channel
// is closed for the submission, with its agents still Present.
func submitOffline(t *testing.T, d *Desk, now time.Time, name, email, question string) ([]Effect, int64, *Error) {
	t.Helper()
	ch := d.channels[support]
	open := ch.Hours
	closed, err := ParseHours(strings.ToLower(now.AddDate(0, 0, 3).Weekday().String()[:3])+" 09:00-17:00", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	ch.Hours = closed
	defer func() { ch.Hours = open }()
	return d.SubmitOffline(now, support, name, email, question)
}

func TestRequestIsFollowedFromCreationToClose(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n := f.offline()
	if r, ok := f.d.Request(n); !ok || r.State != RequestOpen || r.Assignee != 0 || !r.UpdatedAt.Equal(t0) {
		t.Fatalf("new request = %+v, %v", r, ok)
	}
	if got := f.d.OpenRequests(support); len(got) != 1 || got[0].Number != n {
		t.Fatalf("open requests = %+v", got)
	}
	f.at(time.Minute)
	fx := f.ok(f.d.ClaimRequest(f.now, A, n))
	c := one[RequestChanged](t, fx)
	if c.Request.State != RequestClaimed || c.Request.Assignee != A || c.Step.Action != StepClaimed || c.Step.By != A ||
		c.Step.State != RequestClaimed || !c.Step.At.Equal(f.now) || c.Step.Request != n {
		t.Errorf("claim = %+v", c)
	}
	fx = f.ok(f.d.AnswerRequest(f.now, A, n, "  Det är på väg.\n", true))
	c = one[RequestChanged](t, fx)
	if c.Request.State != RequestAnswered || c.Step.Action != StepAnswered || c.Step.Text != "Det är på väg." || !c.Step.Mail {
		t.Errorf("answer = %+v", c)
	}
	// A follow-up answer is allowed, recorded by hand this time.
	c = one[RequestChanged](t, f.ok(f.d.AnswerRequest(f.now, A, n, "Also: tracking 42", false)))
	if c.Step.Mail || c.Request.State != RequestAnswered {
		t.Errorf("second answer = %+v", c)
	}
	c = one[RequestChanged](t, f.ok(f.d.CloseRequest(f.now, A, n)))
	if c.Request.State != RequestClosed || c.Step.Action != StepClosed {
		t.Errorf("close = %+v", c)
	}
	if _, ok := f.d.Request(n); ok || len(f.d.OpenRequests("")) != 0 {
		t.Error("a closed request is still held by the desk")
	}
	if _, err := f.d.ClaimRequest(f.now, B, n); err == nil || err.Code != protocol.CodeNotFound {
		t.Errorf("claim of a closed request: %v", err)
	}
}

func TestRequestPermissions(t *testing.T) {
	t.Parallel()
	type act func(f *fixture, a AgentID, n int64) *Error
	claim := func(f *fixture, a AgentID, n int64) *Error { _, err := f.d.ClaimRequest(f.now, a, n); return err }
	answer := func(f *fixture, a AgentID, n int64) *Error {
		_, err := f.d.AnswerRequest(f.now, a, n, "Hello", true)
		return err
	}
	closeIt := func(f *fixture, a AgentID, n int64) *Error { _, err := f.d.CloseRequest(f.now, a, n); return err }
	assignToB := func(f *fixture, a AgentID, n int64) *Error { _, err := f.d.AssignRequest(f.now, a, n, B); return err }
	tests := []struct {
		name    string
		claimBy AgentID // claimed first by this agent (0: left open)
		agent   AgentID
		do      act
		code    protocol.Code
	}{
		{"respond claims an open request", 0, A, claim, ""},
		{"respond without notify claims", 0, C, claim, ""},
		{"listen only may not claim", 0, L, claim, protocol.CodeListenOnly},
		{"another channel's agent may not claim", 0, N, claim, protocol.CodeForbidden},
		{"a manager without respond may not claim", 0, M, claim, protocol.CodeListenOnly},
		{"claimed by someone else", A, B, claim, protocol.CodeInvalidState},
		{"claimed by me already", A, A, claim, protocol.CodeInvalidState},
		{"answering an open request claims it", 0, B, answer, ""},
		{"the assignee answers", A, A, answer, ""},
		{"a colleague may not answer another's request", A, B, answer, protocol.CodeNotParticipant},
		{"listen may not answer", 0, L, answer, protocol.CodeListenOnly},
		{"the assignee closes", A, A, closeIt, ""},
		{"a colleague may not close another's request", A, B, closeIt, protocol.CodeNotParticipant},
		{"an open request may be closed by any responder", 0, C, closeIt, ""},
		{"a manager assigns", 0, M, assignToB, ""},
		{"a manager reassigns a claimed request", A, M, assignToB, ""},
		{"a responder may not assign", 0, A, assignToB, protocol.CodeForbidden},
		{"listen may not assign", 0, L, assignToB, protocol.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			n := f.offline()
			if tc.claimBy != 0 {
				f.ok(f.d.ClaimRequest(f.now, tc.claimBy, n))
			}
			before, _ := f.d.Request(n)
			err := tc.do(f, tc.agent, n)
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code != "" && (err == nil || err.Code != tc.code):
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if after, _ := f.d.Request(n); tc.code != "" && after != before {
				t.Errorf("a refusal changed the request: %+v -> %+v", before, after)
			}
		})
	}
}

func TestAssignRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n := f.offline()
	c := one[RequestChanged](t, f.ok(f.d.AssignRequest(f.now, M, n, C)))
	if c.Request.Assignee != C || c.Request.State != RequestClaimed || c.Step.Action != StepAssigned || c.Step.By != M || c.Step.To != C {
		t.Errorf("assign = %+v", c)
	}
	for _, tc := range []struct {
		name string
		to   AgentID
		code protocol.Code
	}{
		{"to the one who has it", C, protocol.CodeInvalidState},
		{"to a listener", L, protocol.CodeInvalidTarget},
		{"to an agent of another channel", N, protocol.CodeInvalidTarget},
		{"to nobody known", 99, protocol.CodeInvalidTarget},
	} {
		if _, err := f.d.AssignRequest(f.now, M, n, tc.to); err == nil || err.Code != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	// An answered request keeps its state when reassigned.
	f.ok(f.d.AnswerRequest(f.now, C, n, "Done", false))
	c = one[RequestChanged](t, f.ok(f.d.AssignRequest(f.now, M, n, A)))
	if c.Request.State != RequestAnswered || c.Request.Assignee != A {
		t.Errorf("reassigned answered request = %+v", c.Request)
	}
}

func TestAnswerRequestChecksTheText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n := f.offline()
	for _, tc := range []struct {
		text string
		code protocol.Code
	}{
		{"", protocol.CodeBadRequest},
		{" \n\t ", protocol.CodeBadRequest},
	} {
		if _, err := f.d.AnswerRequest(f.now, A, n, tc.text, true); err == nil || err.Code != tc.code {
			t.Errorf("answer %q: %v, want %s", tc.text, err, tc.code)
		}
	}
	long := make([]byte, MaxAnswer+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := f.d.AnswerRequest(f.now, A, n, string(long), true); err == nil || err.Code != protocol.CodeTooLarge {
		t.Errorf("long answer: %v", err)
	}
	if r, _ := f.d.Request(n); r.State != RequestOpen {
		t.Errorf("refused answers changed the request: %+v", r)
	}
}

func TestRequestsHandOffWhenConfigured(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.HandOff = true
	d := New(cfg, testSnapshot(), t0)
	d.Connect(t0, A)
	fx, n, err := submitOffline(t, d, t0, "Vera", "vera@example.com", "Hi")
	if err != nil || !one[RequestCreated](t, fx).HandOff {
		t.Fatalf("created: %v %+v", err, fx)
	}
	fx, err = d.ClaimRequest(t0, A, n)
	if err != nil || !one[RequestChanged](t, fx).HandOff {
		t.Errorf("claimed: %v %+v", err, fx)
	}
	f := newFixture(t)
	if one[RequestCreated](t, f.ok2(submitOffline(t, f.d, f.now, "Vera", "vera@example.com", "Hi"))).HandOff {
		t.Error("handed off without a webhook")
	}
}

func (f *fixture) ok2(fx []Effect, _ int64, err *Error) []Effect { return f.ok(fx, err) }

func TestRequestsSurviveARestart(t *testing.T) {
	t.Parallel()
	snap := testSnapshot()
	snap.NextRequest = 1001
	snap.Requests = []Request{
		{Number: 1001, Channel: support, State: RequestClaimed, Assignee: A, CreatedAt: t0, Visitor: Visitor{Email: "v@example.com"}},
		{Number: 1005, Channel: support, State: RequestOpen, CreatedAt: t0},
		{Number: 1003, Channel: support, State: RequestClosed, CreatedAt: t0},
	}
	d := New(testConfig(), snap, t0)
	if got := d.OpenRequests(support); len(got) != 2 || got[0].Number != 1001 || got[1].Number != 1005 {
		t.Errorf("open requests = %+v", got)
	}
	if got := d.OpenRequestCounts(); got[support] != 2 {
		t.Errorf("counts = %v", got)
	}
	_, n, _ := submitOffline(t, d, t0, "Vera", "vera@example.com", "Hi")
	if n != 1006 {
		t.Errorf("next number = %d, want 1006", n)
	}
}

func TestUnclaimedRequestWarnsPresentManagersOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ok(f.d.SetStatus(f.now, M, Away))
	n := f.offline()
	claimed := f.offline()
	f.ok(f.d.ClaimRequest(f.now, A, claimed))
	if w := all[RequestWarned](f.d.Tick(f.at(4 * time.Minute))); len(w) != 0 {
		t.Fatalf("warned before the manager delay: %+v", w)
	}
	// Past the delay with no manager Present, the warning waits for one.
	if w := all[RequestWarned](f.d.Tick(f.at(2 * time.Minute))); len(w) != 0 {
		t.Fatalf("warned nobody: %+v", w)
	}
	f.ok(f.d.SetStatus(f.now, M, Present))
	w := all[RequestWarned](f.d.Tick(f.at(time.Second)))
	if len(w) != 1 || w[0].Request.Number != n || len(w[0].Recipients) != 1 || w[0].Recipients[0] != M || w[0].Waited < 6*time.Minute {
		t.Fatalf("warnings = %+v", w)
	}
	if w := all[RequestWarned](f.d.Tick(f.at(time.Minute))); len(w) != 0 {
		t.Errorf("warned twice: %+v", w)
	}
}

func TestRequestReaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	got := f.d.RequestReaders(support)
	want := []AgentID{A, B, C, M, L}
	if len(got) != len(want) {
		t.Fatalf("readers = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("readers = %v, want %v", got, want)
		}
	}
	f.ok(f.d.SetStatus(f.now, B, Away))
	if got := f.d.NotifyOfRequest(support); len(got) != 1 || got[0] != A {
		t.Errorf("notified = %v, want only Anna (Present, notify)", got)
	}
}

func TestParseRequestState(t *testing.T) {
	t.Parallel()
	for st := RequestOpen; st <= RequestClosed; st++ {
		if got, ok := ParseRequestState(st.String()); !ok || got != st {
			t.Errorf("%v does not round-trip", st)
		}
	}
	if _, ok := ParseRequestState("pending"); ok {
		t.Error("pending parsed")
	}
}
