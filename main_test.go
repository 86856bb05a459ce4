package main

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"switchboard/app"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		want    config
		wantErr bool
	}{
		{nil, config{window: app.WindowMain}, false},
		{[]string{"--hidden"}, config{hidden: true, window: app.WindowMain}, false},
		{[]string{"--window=dashboard"}, config{window: app.WindowDashboard}, false},
		{[]string{"--window=dashboard", "--handover-stdin", "--server=ws://127.0.0.1:1/ws"}, config{window: app.WindowDashboard, handover: true, server: "ws://127.0.0.1:1/ws"}, false},
		{[]string{"--handover-stdin"}, config{}, true}, // the desk window signs in itself
		{[]string{"-window", "main", "-version"}, config{window: app.WindowMain, showVersion: true}, false},
		{[]string{"--server", "relay.example.com", "--language=sv"}, config{window: app.WindowMain, server: "relay.example.com", language: "sv"}, false},
		{[]string{"--window=tray"}, config{}, true},
		{[]string{"--nope"}, config{}, true},
		{[]string{"extra"}, config{}, true},
	} {
		got, err := parseFlags(tc.args, new(bytes.Buffer))
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("parseFlags(%q) = %+v, %v; want %+v, error %v", tc.args, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSettingsOnlyWhereGiven(t *testing.T) {
	t.Parallel()
	if got := (config{}).settings(); len(got) != 0 {
		t.Fatalf("settings() = %v, want none", got)
	}
	got := config{server: "wss://x", language: "en"}.settings()
	if got["server"] != "wss://x" || got["language"] != "en" || len(got) != 2 {
		t.Fatalf("settings() = %v", got)
	}
}

func TestRunVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if got, want := out.String(), "switchboard "+app.Version+"\n"; got != want {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
}

func TestRunBadFlagExitsTwo(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run([]string{"--window=nope"}, nil, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "unknown window") {
		t.Fatalf("stderr = %q, want it to name the problem", errOut.String())
	}
}

func TestEmbeddedDistIsPresent(t *testing.T) {
	t.Parallel()
	// The placeholder is always there; index.html only after a frontend build.
	if _, err := fs.Stat(dist, "frontend/dist/.gitkeep"); err != nil {
		t.Fatalf("frontend/dist placeholder missing from the embed: %v", err)
	}
}
