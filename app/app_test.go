package app

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"switchboard/backend/protocol"
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
		{"relay-a.example.com, https://relay-b.example.com/ ws://10.0.0.3:8080", "wss://relay-a.example.com, wss://relay-b.example.com, ws://10.0.0.3:8080", false},
		{"relay-a.example.com, ftp://relay-b.example.com", "", true},
		{" , ", "", true},
	} {
		got, err := NormalizeServer(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestRelayURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"wss://relay.example.com":                     "wss://relay.example.com/ws",
		"ws://127.0.0.1:8080/ws":                      "ws://127.0.0.1:8080/ws",
		"wss://relay.example.com/desk":                "wss://relay.example.com/desk/ws",
		"wss://a.example.com, wss://b.example.com/ws": "wss://a.example.com/ws, wss://b.example.com/ws",
	} {
		if got := relayURL(in); got != want {
			t.Errorf("relayURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every bound method answers, and never panics, on a nil or empty Desk:
// Wails on Linux aborts the process on a nil dereference in a bound method.
func TestDeskIsNilSafe(t *testing.T) {
	t.Parallel()
	for _, d := range []*Desk{nil, {}} {
		if d.Version() != Version || Version == "" {
			t.Fatal("Version")
		}
		for name, res := range map[string]Result{
			"Config": d.Config(), "Login": d.Login(LoginRequest{}), "Resume": d.Resume(), "Logout": d.Logout(),
			"Send": d.Send("s", "t"), "SendFile": d.SendFile("s", "", "f"), "SetMuted": d.SetMuted(true), "SetLanguage": d.SetLanguage("en"),
			"OpenDashboard": d.OpenDashboard(), "Quit": d.Quit(),
			"Upload": d.Upload(UploadRequest{ID: "u"}), "CancelUpload": d.CancelUpload("u"),
			"UploadPath": d.UploadPath(UploadPathRequest{ID: "u"}),
			"Preview":    d.Preview("s", "f"), "SaveFile": d.SaveFile("s", "f", "a.pdf"),
			"Command":      d.Command(protocol.CmdSessionPick, json.RawMessage(`{"session":"s"}`)),
			"Command(nil)": d.Command("", nil),
		} {
			if res.OK || res.Error == nil || res.Error.Code != CodeNoDesk {
				t.Errorf("%s on %v = %v", name, d, res)
			}
		}
	}
}

// A Desk over a core that never signed in refuses politely.
func TestDeskBeforeLogin(t *testing.T) {
	t.Parallel()
	d := newTestDesk(t, deskOpts{window: WindowDashboard})
	desk := newDesk(d.c)
	cfg := desk.Config()
	if !cfg.OK || cfg.Data.(ConfigData).Window != "dashboard" || cfg.Data.(ConfigData).Language != "auto" {
		t.Fatalf("Config() = %+v", cfg)
	}
	for name, res := range map[string]Result{
		"Next": desk.Command(protocol.CmdQueueNext, nil), "Send": desk.Send("s", "hi"),
		"Accept": desk.Command(protocol.CmdTransferAccept, json.RawMessage(`{"transfer":1}`)), "Logout": desk.Logout(),
	} {
		if name == "Logout" {
			if !res.OK {
				t.Errorf("Logout before login = %v, want ok", res)
			}
			continue
		}
		if res.OK || res.Error.Code != CodeOffline {
			t.Errorf("%s = %v, want offline", name, res)
		}
	}
	if res := desk.Send("s", "  "); res.OK || res.Error.Code != "bad_request" {
		t.Errorf("empty Send = %v", res)
	}
	// Result JSON: ok, data and error as the UI reads them.
	b, _ := json.Marshal(desk.Command(protocol.CmdQueueNext, nil))
	if string(b) != `{"ok":false,"error":{"code":"offline","message":"not signed in"}}` {
		t.Errorf("Result JSON %s", b)
	}
	b, _ = json.Marshal(okResult(json.RawMessage(`{"seq":3}`)))
	if string(b) != `{"ok":true,"data":{"seq":3}}` {
		t.Errorf("Result JSON %s", b)
	}
}

func TestSettingFlags(t *testing.T) {
	t.Parallel()
	got := settingFlags(Options{Hidden: true, Settings: map[string]string{"server": "wss://x"}})
	if got["start_hidden"] != "true" || got["server"] != "wss://x" || len(got) != 2 {
		t.Fatalf("settingFlags = %v", got)
	}
	if got := settingFlags(Options{}); len(got) != 0 {
		t.Fatalf("settingFlags(empty) = %v", got)
	}
	if wailsInstanceName(InstanceMain) != "org.wails_app_com_switchboard_desk.SingleInstance" {
		t.Fatal("instance names")
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
