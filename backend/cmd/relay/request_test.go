package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

func TestRequestCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "requests.db")
	s, err := store.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	anna, err := s.CreateAgent(ctx, "anna", "Anna", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	open := chat.Request{Number: 1001, Channel: "support", Title: "Var är mitt paket?", Visitor: chat.Visitor{Name: "Åsa", Email: "asa@example.com"},
		Question: "Var är mitt paket?", CreatedAt: at}
	done := chat.Request{Number: 1002, Channel: "support", Title: "Invoice", Visitor: chat.Visitor{Name: "Walt", Email: "walt@example.com"},
		Question: "Invoice", CreatedAt: at}
	fx := []chat.Effect{chat.RequestCreated{Request: open}, chat.RequestCreated{Request: done}}
	done.State, done.Assignee, done.UpdatedAt = chat.RequestAnswered, anna, at.Add(time.Minute)
	fx = append(fx, chat.RequestChanged{Request: done, Step: chat.RequestStep{Request: 1002, At: at.Add(time.Minute),
		Action: chat.StepAnswered, By: anna, Text: "Paid, thanks.\nSee you.", Mail: true, State: chat.RequestAnswered}})
	done.State = chat.RequestClosed
	fx = append(fx, chat.RequestChanged{Request: done, Step: chat.RequestStep{Request: 1002, At: at.Add(2 * time.Minute),
		Action: chat.StepClosed, By: anna, State: chat.RequestClosed}})
	if err := s.Apply(ctx, fx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	out, err := run(t, "", "request", "list", "--database", db)
	if err != nil || !strings.Contains(out, "1001") || strings.Contains(out, "1002") || !strings.Contains(out, "Åsa <asa@example.com>") ||
		!strings.Contains(out, "offline form") {
		t.Fatalf("request list: %v\n%s", err, out)
	}
	out, err = run(t, "", "request", "list", "--state", "closed", "--channel", "support", "--database", db)
	if err != nil || strings.Contains(out, "1001") || !strings.Contains(out, "1002") || !strings.Contains(out, "anna") {
		t.Fatalf("request list --state closed: %v\n%s", err, out)
	}
	if _, err := run(t, "", "request", "list", "--state", "lost", "--database", db); err == nil {
		t.Error("an unknown state was accepted")
	}
	out, err = run(t, "", "request", "show", "1002", "--database", db)
	for _, want := range []string{"Request 1002: Invoice", "State:    closed", "Assignee: anna", "answered    anna (by e-mail)",
		"      Paid, thanks.\n      See you.", "closed      anna"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("request show lacks %q: %v\n%s", want, err, out)
		}
	}
	if _, err := run(t, "", "request", "show", "999", "--database", db); err == nil || !strings.Contains(err.Error(), "no request 999") {
		t.Errorf("unknown request: %v", err)
	}

	// The channel's language words its e-mails; only known ones are taken.
	if _, err := run(t, "", "channel", "set", "support", "--language", "sv", "--database", db); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "channel", "set", "support", "--language", "de", "--database", db); err == nil {
		t.Error("language de accepted")
	}
	out, _ = run(t, "", "channel", "list", "--database", db)
	if !strings.Contains(out, "LANGUAGE") || !strings.Contains(out, " sv") {
		t.Errorf("channel list:\n%s", out)
	}
	// Other flags keep the language.
	run(t, "", "channel", "set", "support", "--warn-after", "30s", "--database", db)
	if out, _ = run(t, "", "channel", "list", "--database", db); !strings.Contains(out, " sv") {
		t.Errorf("channel set without --language reset it:\n%s", out)
	}
}

func TestMailAndWebhookSettingsAreChecked(t *testing.T) {
	db := filepath.Join(t.TempDir(), "c.db")
	for _, args := range [][]string{
		{"--mail-host", "smtp.example.com"},
		{"--mail-host", "smtp.example.com", "--mail-from", "a@example.com", "--mail-security", "ssl"},
		{"--mail-host", "smtp.example.com", "--mail-from", "a@example.com", "--mail-user", "u"},
		{"--webhook-url", "ftp://example.com/x", "--webhook-secret-file", "/x"},
		{"--webhook-url", "https://example.com/x"},
		{"--outbox-retry-min", "0s"},
	} {
		if _, err := run(t, "", append([]string{"check-config", "--database", db}, args...)...); err == nil {
			t.Errorf("check-config %v accepted", args)
		}
	}
	out, err := run(t, "", "check-config", "--database", db, "--mail-host", "smtp.example.com", "--mail-from", "Support <s@example.com>",
		"--webhook-url", "https://helpdesk.example.com/hooks/switchboard", "--webhook-secret-file", "/etc/switchboard/webhook-secret")
	if err != nil || !strings.Contains(out, "smtp.example.com") {
		t.Errorf("check-config: %v\n%s", err, out)
	}
	var st Settings
	v := newViper()
	v.Set("mail.host", "smtp.example.com")
	v.Set("mail.from", "s@example.com")
	if st, err = loadSettings(v, ""); err != nil {
		t.Fatal(err)
	}
	c := st.relayConfig("test")
	if c.Mail.Host != "smtp.example.com" || c.Mail.Security != "starttls" || c.OutboxRetryMax != 10*time.Minute || c.MailAttempts != 10 {
		t.Errorf("relay config: %+v", c)
	}
}
