package app

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Window
		wantErr bool
	}{
		{"main", WindowMain, false},
		{"dashboard", WindowDashboard, false},
		{"", "", true},
		{"Main", "", true},
		{"tray", "", true},
	} {
		got, err := ParseWindow(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseWindow(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestNormalizeServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{"relay.example.com", "wss://relay.example.com", false},
		{"  relay.example.com:8443 ", "wss://relay.example.com:8443", false},
		{"https://relay.example.com/", "wss://relay.example.com", false},
		{"http://127.0.0.1:8080/desk/?x=1", "ws://127.0.0.1:8080/desk", false},
		{"ws://localhost:8080", "ws://localhost:8080", false},
		{"", "", true},
		{"ftp://relay.example.com", "", true},
		{"https://", "", true},
	} {
		got, err := NormalizeServer(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSessionServiceFacts(t *testing.T) {
	t.Parallel()
	s := NewSessionService(&Recorder{}, "")
	if got := s.Version(); got != Version || got == "" {
		t.Errorf("Version() = %q, want %q", got, Version)
	}
	if got := s.Window(); got != "main" {
		t.Errorf("Window() = %q, want main by default", got)
	}
	if got := NewSessionService(&Recorder{}, WindowDashboard).Window(); got != "dashboard" {
		t.Errorf("Window() = %q, want dashboard", got)
	}
}

func TestLoginValidatesBeforeReporting(t *testing.T) {
	t.Parallel()
	rec := &Recorder{}
	s := NewSessionService(rec, WindowMain)

	for _, req := range []LoginRequest{
		{Server: "", Login: "ana", Password: "pw"},
		{Server: "relay.example.com", Login: "  ", Password: "pw"},
		{Server: "relay.example.com", Login: "ana", Password: ""},
	} {
		err := s.Login(req)
		if err == nil || errors.Is(err, ErrSignInUnavailable) {
			t.Errorf("Login(%+v) = %v, want a validation error", req, err)
		}
	}
	if n := len(rec.Events()); n != 0 {
		t.Fatalf("invalid forms emitted %d events, want none", n)
	}

	err := s.Login(LoginRequest{Server: "relay.example.com", Login: "ana", Password: "pw", Remember: true})
	if !errors.Is(err, ErrSignInUnavailable) {
		t.Fatalf("Login(valid) = %v, want ErrSignInUnavailable", err)
	}
	got := rec.Events()
	if len(got) != 1 || got[0].Name != EventStatus || len(got[0].Data) != 1 || got[0].Data[0] != ErrSignInUnavailable.Error() {
		t.Fatalf("events = %+v, want one %s with the reason", got, EventStatus)
	}
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var rec Recorder
	var e Emitter = &rec
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				e.Emit("tick", i)
			}
		})
	}
	wg.Wait()
	names := rec.Names()
	if len(names) != 800 {
		t.Fatalf("recorded %d events, want 800", len(names))
	}
	if i := slices.IndexFunc(names, func(n string) bool { return n != "tick" }); i >= 0 {
		t.Fatalf("unexpected event %q", names[i])
	}
}

func TestRecorderCopiesData(t *testing.T) {
	t.Parallel()
	var rec Recorder
	data := []any{"a", "b"}
	rec.Emit("x", data...)
	data[0] = "changed"
	if got := rec.Events()[0].Data[0]; got != "a" {
		t.Fatalf("recorded data aliased the caller's slice: got %v", got)
	}
}
