package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/mail"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// The outbox sends what request changes committed for the outside world:
// answers by e-mail and, when a webhook is set, every change to it. Items
// are rows written in the change's own transaction; this loop sends them
// after the commit, off the server lock, marks each done once sent, and
// retries failures with back-off. A crash between a send and its mark sends
// that item again on restart: e-mails at least once, webhook calls at least
// once with a stable event id the receiver deduplicates by.

// outboxBatch bounds the items one round sends.
const outboxBatch = 20

// outbox is the sender's state.
type outbox struct {
	wake    chan struct{}
	hook    *http.Client // nil: no webhook
	counts  outboxCounts
	farAway time.Time
}

type outboxCounts struct {
	mailSent, mailFailed, mailRetried atomic.Int64
	hookSent, hookFailed, hookRetried atomic.Int64
}

// initOutbox reads the mail and webhook settings. It runs before the desk
// loads, since the desk hands changes off only when a webhook is set.
func (s *Server) initOutbox() error {
	s.out.wake = make(chan struct{}, 1)
	s.out.farAway = time.Unix(0, 1<<62) // every item, due or not (year 2116; UnixNano must not overflow)
	if s.cfg.Mail.Enabled() {
		m, err := mail.New(s.cfg.Mail)
		if err != nil {
			return err
		}
		s.mailer = m
	}
	if s.cfg.WebhookURL != "" {
		if s.cfg.WebhookSecret == "" && s.cfg.WebhookSecretFile != "" {
			b, err := os.ReadFile(s.cfg.WebhookSecretFile)
			if err != nil {
				return fmt.Errorf("webhook: secret: %w", err)
			}
			line, _, _ := strings.Cut(string(b), "\n")
			s.cfg.WebhookSecret = strings.TrimRight(line, "\r")
		}
		if s.cfg.WebhookSecret == "" {
			return fmt.Errorf("webhook: a URL needs a secret to sign with")
		}
		s.out.hook = &http.Client{Timeout: s.cfg.WebhookTimeout}
		s.cfg.Desk.HandOff = true
	}
	return nil
}

// wakeOutbox starts a round soon. Never blocks.
func (s *Server) wakeOutbox() {
	select {
	case s.out.wake <- struct{}{}:
	default:
	}
}

func (s *Server) outboxLoop() {
	if s.mailer == nil && s.out.hook == nil {
		return // nothing to send; items queued meanwhile wait for a configured relay
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-s.stop; cancel() }()
	t := time.NewTicker(s.cfg.OutboxPoll)
	defer t.Stop()
	for {
		if s.mailer != nil {
			s.sendMails(ctx)
		}
		if s.out.hook != nil {
			s.sendHooks(ctx)
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.out.wake:
		}
	}
}

// backoff is the wait after the n-th failed attempt: doubling from
// OutboxRetryMin up to OutboxRetryMax.
func (s *Server) backoff(n int) time.Duration {
	d := s.cfg.OutboxRetryMin
	for i := 1; i < n && d < s.cfg.OutboxRetryMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.OutboxRetryMax)
}

func (s *Server) sendMails(ctx context.Context) {
	items, err := s.store.DueOutbox(ctx, store.OutboxMail, s.now(), outboxBatch)
	if err != nil {
		s.log.Warn("outbox: read failed", "err", err)
		return
	}
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		s.sendMail(ctx, it)
	}
}

func (s *Server) sendMail(ctx context.Context, it store.OutboxItem) {
	row, err := s.store.Request(ctx, it.Request)
	if err != nil {
		s.log.Warn("outbox: request missing", "request", it.Request, "err", err)
		return
	}
	step, err := s.store.RequestStep(ctx, it.Step)
	if err != nil {
		s.log.Warn("outbox: step missing", "request", it.Request, "err", err)
		return
	}
	s.mu.Lock()
	ch, _ := s.desk.Channel(row.Channel)
	s.mu.Unlock()
	name := ch.Name
	if name == "" {
		name = string(row.Channel)
	}
	subject, body := mail.Compose(ch.Language, mail.Answer{Number: row.Number, Title: row.Title, Visitor: row.Visitor.Name,
		Question: row.Question, Text: step.Text, Channel: name})
	sendErr := s.mailer.Send(ctx, mail.Message{To: row.Visitor.Email, ToName: row.Visitor.Name, Subject: subject, Body: body,
		Headers: map[string]string{"X-Switchboard-Request": strconv.FormatInt(row.Number, 10)}})
	if ctx.Err() != nil {
		return // shutting down: the item stays due
	}
	now := s.now()
	note := &chat.RequestStep{Request: row.Number, At: now, Action: chat.StepMailSent, State: row.State}
	switch {
	case sendErr == nil:
		s.out.counts.mailSent.Add(1)
	case it.Attempts+1 >= s.cfg.MailAttempts:
		s.out.counts.mailFailed.Add(1)
		note.Action, note.Text = chat.StepMailFailed, sendErr.Error()
		s.log.Error("outbox: e-mail given up", "request", row.Number, "attempts", it.Attempts+1, "err", sendErr)
	default:
		s.out.counts.mailRetried.Add(1)
		s.log.Warn("outbox: e-mail failed; will retry", "request", row.Number, "attempt", it.Attempts+1, "err", sendErr)
		if err := s.store.RetryOutbox(ctx, it.ID, now.Add(s.backoff(it.Attempts+1)), sendErr.Error()); err != nil {
			s.log.Warn("outbox: could not record the attempt", "err", err)
		}
		return
	}
	lastErr := ""
	if sendErr != nil {
		lastErr = sendErr.Error()
	}
	if err := s.store.FinishOutbox(ctx, it.ID, now, lastErr, note); err != nil {
		s.log.Warn("outbox: could not record the e-mail's fate", "request", row.Number, "err", err)
		return
	}
	s.mu.Lock()
	r := row.Request
	if live, ok := s.desk.Request(r.Number); ok {
		r = live
	}
	frame := encodeEvent(protocol.EvRequest, "", 0, protocol.RequestEvent{Request: s.requestInfo(r), Action: note.Action})
	for _, a := range s.desk.RequestReaders(r.Channel) {
		s.toAgent(a, frame)
	}
	s.mu.Unlock()
}

// sendHooks posts due webhook events in order; one that fails holds back
// those after it, so a receiver sees a request's changes in order.
func (s *Server) sendHooks(ctx context.Context) {
	items, err := s.store.DueOutbox(ctx, store.OutboxWebhook, s.out.farAway, outboxBatch)
	if err != nil {
		s.log.Warn("outbox: read failed", "err", err)
		return
	}
	for _, it := range items {
		now := s.now()
		if ctx.Err() != nil || it.NextAt.After(now) {
			return
		}
		body, event, err := s.hookPayload(ctx, it)
		if err != nil {
			s.log.Warn("outbox: webhook event unreadable", "id", it.ID, "err", err)
			return
		}
		sendErr := s.postHook(ctx, body, event, hookID(it.ID))
		if ctx.Err() != nil {
			return
		}
		now = s.now()
		switch {
		case sendErr == nil:
			s.out.counts.hookSent.Add(1)
			err = s.store.FinishOutbox(ctx, it.ID, now, "", nil)
		case it.Attempts+1 >= s.cfg.WebhookAttempts:
			s.out.counts.hookFailed.Add(1)
			s.log.Error("outbox: webhook event given up", "id", hookID(it.ID), "attempts", it.Attempts+1, "err", sendErr)
			err = s.store.FinishOutbox(ctx, it.ID, now, sendErr.Error(), nil)
		default:
			s.out.counts.hookRetried.Add(1)
			s.log.Warn("outbox: webhook failed; will retry", "id", hookID(it.ID), "attempt", it.Attempts+1, "err", sendErr)
			if err := s.store.RetryOutbox(ctx, it.ID, now.Add(s.backoff(it.Attempts+1)), sendErr.Error()); err != nil {
				s.log.Warn("outbox: could not record the attempt", "err", err)
			}
			return
		}
		if err != nil {
			s.log.Warn("outbox: could not mark a webhook event sent", "id", hookID(it.ID), "err", err)
			return
		}
	}
}

// hookID is an event's id: its outbox row, stable across retries and restarts.
func hookID(id int64) string { return "evt-" + strconv.FormatInt(id, 10) }

// HookEvent is the JSON body of a webhook call (documented in docs/deploy.md).
type HookEvent struct {
	ID      string      `json:"id"`   // unique per event; the same on every retry
	Type    string      `json:"type"` // request.created, .claimed, .assigned, .answered, .closed
	At      time.Time   `json:"at"`
	Request HookRequest `json:"request"`
	Step    HookStep    `json:"step"`
}

// HookRequest is the request as of the event.
type HookRequest struct {
	Number    int64                `json:"number"`
	Channel   string               `json:"channel"`
	Title     string               `json:"title"`
	State     string               `json:"state"` // after this event
	Origin    string               `json:"origin"`
	Session   string               `json:"session,omitempty"`
	Visitor   protocol.VisitorInfo `json:"visitor"`
	Question  string               `json:"question,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
	CreatedBy *HookAgent           `json:"created_by,omitempty"`
	Assignee  *HookAgent           `json:"assignee,omitempty"`
}

// HookStep is what happened.
type HookStep struct {
	Action string     `json:"action"`
	By     *HookAgent `json:"by,omitempty"`
	To     *HookAgent `json:"to,omitempty"`
	Text   string     `json:"text,omitempty"`
	Mail   bool       `json:"mail,omitempty"`
}

// HookAgent names an agent.
type HookAgent struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
}

func (s *Server) hookPayload(ctx context.Context, it store.OutboxItem) ([]byte, string, error) {
	row, err := s.store.Request(ctx, it.Request)
	if err != nil {
		return nil, "", err
	}
	step, err := s.store.RequestStep(ctx, it.Step)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	agent := func(id chat.AgentID) *HookAgent {
		if id == 0 {
			return nil
		}
		a := s.desk.AgentInfo(id)
		return &HookAgent{ID: a.ID, Login: a.Login, Name: a.Name}
	}
	// The assignee as of the step: a later reassignment must not rewrite
	// what an earlier event said. Steps before an assignment had none.
	assignee := row.Assignee
	if step.State == chat.RequestOpen {
		assignee = 0
	} else if step.Action == chat.StepAssigned {
		assignee = step.To
	} else if step.Action == chat.StepClaimed {
		assignee = step.By
	}
	ev := HookEvent{ID: hookID(it.ID), Type: "request." + step.Action, At: step.At,
		Request: HookRequest{Number: row.Number, Channel: string(row.Channel), Title: row.Title, State: step.State.String(),
			Origin: protocol.OriginOffline, Session: string(row.Session),
			Visitor:  protocol.VisitorInfo{Name: row.Visitor.Name, Email: row.Visitor.Email},
			Question: row.Question, CreatedAt: row.CreatedAt, CreatedBy: agent(row.CreatedBy), Assignee: agent(assignee)},
		Step: HookStep{Action: step.Action, By: agent(step.By), To: agent(step.To), Text: step.Text, Mail: step.Mail},
	}
	s.mu.Unlock()
	if row.Session != "" {
		ev.Request.Origin = protocol.OriginChat
	}
	b, err := json.Marshal(ev)
	return b, ev.Type, err
}

// Webhook headers.
const (
	HeaderHookID        = "X-Switchboard-Event-Id"
	HeaderHookEvent     = "X-Switchboard-Event"
	HeaderHookSignature = "X-Switchboard-Signature-256"
)

// SignHook is the signature header's value for a body: "sha256=" and the
// hex HMAC-SHA256 of the body under the secret.
func SignHook(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Server) postHook(ctx context.Context, body []byte, event, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "switchboard-relay/"+s.cfg.Version)
	req.Header.Set(HeaderHookID, id)
	req.Header.Set(HeaderHookEvent, event)
	req.Header.Set(HeaderHookSignature, SignHook(s.cfg.WebhookSecret, body))
	resp, err := s.out.hook.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// writeRequestMetrics adds the requests' and the outbox's figures to /metrics.
func (s *Server) writeRequestMetrics(b *strings.Builder) {
	s.mu.Lock()
	open := s.desk.OpenRequestCounts()
	var chans []string
	for _, c := range s.desk.ChannelKeys() {
		chans = append(chans, string(c))
	}
	s.mu.Unlock()
	b.WriteString("# HELP switchboard_requests_open Requests not closed, per channel.\n# TYPE switchboard_requests_open gauge\n")
	for _, c := range chans {
		fmt.Fprintf(b, "switchboard_requests_open{channel=%q} %d\n", c, open[chat.ChannelID(c)])
	}
	n := &s.out.counts
	b.WriteString("# HELP switchboard_outbox_total E-mails and webhook calls by outcome (retried counts failed attempts).\n# TYPE switchboard_outbox_total counter\n")
	for _, x := range []struct {
		kind, outcome string
		v             int64
	}{
		{"mail", "sent", n.mailSent.Load()}, {"mail", "failed", n.mailFailed.Load()}, {"mail", "retried", n.mailRetried.Load()},
		{"webhook", "sent", n.hookSent.Load()}, {"webhook", "failed", n.hookFailed.Load()}, {"webhook", "retried", n.hookRetried.Load()},
	} {
		fmt.Fprintf(b, "switchboard_outbox_total{kind=%q,outcome=%q} %d\n", x.kind, x.outcome, x.v)
	}
}
