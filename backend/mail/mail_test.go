package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/backend/mail"
	"switchboard/backend/mail/mailtest"
)

func TestSendOverStartTLSKeepsSwedishLetters(t *testing.T) {
	t.Parallel()
	sink := mailtest.Start(t)
	s, err := mail.New(sink.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	subject, body := mail.Compose("sv", mail.Answer{Number: 1001, Title: "Var är mitt paket?", Visitor: "Åsa Öberg",
		Question: "Var är mitt paket?\nDet skulle komma i måndags.", Text: "Hej! Paketet är på väg, det når dig på fredag.", Channel: "Kundtjänst"})
	err = s.Send(context.Background(), mail.Message{To: "asa@example.com", ToName: "Åsa Öberg", Subject: subject, Body: body,
		Headers: map[string]string{"X-Switchboard-Request": "1001"}})
	if err != nil {
		t.Fatal(err)
	}
	m := sink.Wait(t, 1, 10*time.Second)[0]
	if !m.TLS || m.User != mailtest.User || m.From != "support@example.com" || len(m.To) != 1 || m.To[0] != "asa@example.com" {
		t.Errorf("envelope: TLS %v, user %q, from %q, to %v", m.TLS, m.User, m.From, m.To)
	}
	if got := m.Header("Subject"); got != "[#1001] Svar på ditt ärende: Var är mitt paket?" {
		t.Errorf("subject %q", got)
	}
	if got := m.Header("To"); !strings.Contains(got, "Åsa Öberg") {
		t.Errorf("to %q", got)
	}
	if got := m.Header("X-Switchboard-Request"); got != "1001" {
		t.Errorf("request header %q", got)
	}
	if ct := m.Header("Content-Type"); !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
		t.Errorf("content type %q", ct)
	}
	b := m.Body()
	for _, want := range []string{"Hej Åsa Öberg,", "Paketet är på väg, det når dig på fredag.", "Vänliga hälsningar\nKundtjänst",
		"Ditt ärendenummer är 1001.", "> Det skulle komma i måndags."} {
		if !strings.Contains(b, want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
	// On the wire the body is 7-bit quoted-printable: no raw åäö.
	for _, c := range string(m.Data) {
		if c > 127 {
			t.Fatalf("raw non-ASCII %q on the wire", c)
		}
	}
}

func TestSendFailsClearlyWithoutTheServersCertificate(t *testing.T) {
	t.Parallel()
	sink := mailtest.Start(t)
	cfg := sink.Config(t)
	cfg.CAFile = ""
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("sent over a certificate nobody trusts")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

func TestNewChecksTheConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []mail.Config{
		{},
		{Host: "smtp.example.com", From: "not an address"},
		{Host: "smtp.example.com", From: "a@example.com", Security: "ssl"},
		{Host: "smtp.example.com", From: "a@example.com", User: "u"},
		{Host: "smtp.example.com", From: "a@example.com", User: "u", PasswordFile: "/nonexistent/pw"},
	} {
		if _, err := mail.New(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func TestComposeInEnglish(t *testing.T) {
	t.Parallel()
	subject, body := mail.Compose("de", mail.Answer{Number: 7, Title: "Where\nis it", Visitor: "Walt", Text: "On its way.", Channel: "Support"})
	if subject != "[#7] Answer to your request: Where is it" {
		t.Errorf("subject %q", subject)
	}
	if !strings.HasPrefix(body, "Hello Walt,\n\nOn its way.\n\nKind regards,\nSupport\n") || strings.Contains(body, "You wrote") {
		t.Errorf("body:\n%s", body)
	}
}
