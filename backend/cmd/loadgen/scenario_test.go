package main

import (
	"strings"
	"testing"
)

// The latency scenario's relay starts on a database of its own, as each
// baseline round does: on the file the throughput scenario filled it would
// start with that scenario's chats open and measure their catch-up.
func TestEachScenarioStartsOnAFreshDatabase(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = 4, 2, 1
	o := options{relayBin: relayBinary(t), cfg: cfg}
	dir := t.TempDir()
	for _, sc := range []string{scenThroughput, scenLatency} {
		o.scenario = sc
		tg, err := o.startTarget(dir, 1)
		if err != nil {
			t.Fatal(err)
		}
		if held := sessionsHeld(t, tg.url); held != "0" {
			t.Errorf("%s scenario: the relay starts holding %s chats, want 0", sc, held)
		}
		r := newRun("relay", true, tg.url, cfg)
		r.pid, r.logf = tg.pid, t.Logf
		err = r.setup()
		r.stop()
		if held := sessionsHeld(t, tg.url); err == nil && held != "4" {
			t.Errorf("%s scenario: %s chats held after the setup, want 4", sc, held)
		}
		if serr := tg.stop(); serr != nil {
			t.Log(serr)
		}
		if err != nil {
			t.Fatalf("%s scenario: %v", sc, err)
		}
	}
}

// sessionsHeld reads the relay's switchboard_sessions_held gauge.
func sessionsHeld(t *testing.T, wsURL string) string {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/ws")
	v, ok := strings.CutPrefix(metricLine(addr, "switchboard_sessions_held"), "switchboard_sessions_held ")
	if !ok {
		t.Fatalf("no switchboard_sessions_held in the /metrics of %s", addr)
	}
	return v
}
