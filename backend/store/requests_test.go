package store

import (
	"context"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// TestRequestFollowUpIsStoredWithItsOutbox: every step lands in the history,
// an answer by e-mail and every handed-off change queue an outbox item in
// the same commit, and a closed request leaves the desk's snapshot.
func TestRequestFollowUpIsStoredWithItsOutbox(t *testing.T) {
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	ctx := context.Background()
	r := chat.Request{Number: 1001, Channel: "support", Title: "Paket", Visitor: chat.Visitor{Name: "Åsa", Email: "asa@example.com"},
		Question: "Var är mitt paket?", CreatedAt: at(0)}
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestCreated{Request: r, HandOff: true}}))
	r.State, r.Assignee, r.UpdatedAt = chat.RequestAnswered, anna, at(time.Minute)
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestChanged{Request: r, HandOff: true, Step: chat.RequestStep{
		Request: 1001, At: at(time.Minute), Action: chat.StepAnswered, By: anna, Text: "Det är på väg.", Mail: true, State: chat.RequestAnswered}}}))

	snap, err := s.Load(ctx, at(time.Hour), at(-time.Hour))
	must(t, err)
	if len(snap.Requests) != 1 || snap.Requests[0].State != chat.RequestAnswered || snap.Requests[0].Assignee != anna {
		t.Fatalf("snapshot requests = %+v", snap.Requests)
	}
	steps, err := s.RequestSteps(ctx, 1001)
	must(t, err)
	if len(steps) != 2 || steps[0].Action != chat.StepCreated || steps[0].State != chat.RequestOpen ||
		steps[1].Action != chat.StepAnswered || steps[1].Text != "Det är på väg." || !steps[1].Mail || steps[1].By != anna {
		t.Fatalf("steps = %+v", steps)
	}
	mails, err := s.DueOutbox(ctx, OutboxMail, at(time.Hour), 10)
	must(t, err)
	hooks, err := s.DueOutbox(ctx, OutboxWebhook, at(time.Hour), 10)
	must(t, err)
	if len(mails) != 1 || len(hooks) != 2 || hooks[0].ID >= hooks[1].ID {
		t.Fatalf("outbox: mails %+v, webhooks %+v", mails, hooks)
	}
	if st, err := s.RequestStep(ctx, mails[0].Step); err != nil || st.Text != "Det är på väg." {
		t.Fatalf("the mail's step: %+v %v", st, err)
	}

	// A failed attempt waits; a finished one is done and noted.
	must(t, s.RetryOutbox(ctx, mails[0].ID, at(2*time.Hour), "connection refused"))
	if due, _ := s.DueOutbox(ctx, OutboxMail, at(time.Hour), 10); len(due) != 0 {
		t.Fatalf("retried too early: %+v", due)
	}
	due, _ := s.DueOutbox(ctx, OutboxMail, at(2*time.Hour), 10)
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("due after the back-off: %+v", due)
	}
	must(t, s.FinishOutbox(ctx, due[0].ID, at(2*time.Hour), "", &chat.RequestStep{Request: 1001, At: at(2 * time.Hour),
		Action: chat.StepMailSent, State: chat.RequestAnswered}))
	if n, _ := s.PendingOutbox(ctx, OutboxMail); n != 0 {
		t.Errorf("mail still pending: %d", n)
	}
	if steps, _ := s.RequestSteps(ctx, 1001); len(steps) != 3 || steps[2].Action != chat.StepMailSent {
		t.Errorf("steps after sending = %+v", steps)
	}

	r.State = chat.RequestClosed
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestChanged{Request: r, Step: chat.RequestStep{
		Request: 1001, At: at(3 * time.Hour), Action: chat.StepClosed, By: anna, State: chat.RequestClosed}}}))
	snap, err = s.Load(ctx, at(4*time.Hour), at(-time.Hour))
	must(t, err)
	if len(snap.Requests) != 0 || snap.NextRequest != 1002 {
		t.Errorf("after close: requests %+v, next %d", snap.Requests, snap.NextRequest)
	}
	list, err := s.ListRequests(ctx, RequestFilter{Channel: "support", States: []chat.RequestState{chat.RequestClosed}})
	must(t, err)
	if len(list) != 1 || list[0].State != chat.RequestClosed {
		t.Errorf("closed list = %+v", list)
	}
	if n, _ := s.PendingOutbox(ctx, OutboxWebhook); n != 2 {
		t.Errorf("the close was handed off though not asked: %d webhook items", n)
	}
}

// TestRequestChangeOfUnknownRequestFails: a change to a request the store
// never saw fails the commit instead of writing a history without a request.
func TestRequestChangeOfUnknownRequestFails(t *testing.T) {
	s, _ := openTest(t)
	err := s.Apply(context.Background(), []chat.Effect{chat.RequestChanged{Request: chat.Request{Number: 7, State: chat.RequestClaimed},
		Step: chat.RequestStep{Request: 7, Action: chat.StepClaimed, State: chat.RequestClaimed}}})
	if err == nil {
		t.Fatal("applied a change to an unknown request")
	}
}
