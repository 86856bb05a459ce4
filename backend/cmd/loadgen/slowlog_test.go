package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Only deliveries at or over the bound are written, with their send time
// and latency in microseconds; a run without a log notes nothing.
func TestSlowLogKeepsTheTail(t *testing.T) {
	var none *slowLog
	none.note(time.Now(), time.Hour) // no log: must not fail

	path := filepath.Join(t.TempDir(), "slow")
	l, err := newSlowLog(path, 4*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMicro(1_796_656_070_989_538)
	l.note(at, 3999*time.Microsecond)
	l.note(at, 4*time.Millisecond)
	l.note(at.Add(time.Second), 12500*time.Microsecond)
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1796656070989538 4000\n1796656071989538 12500\n"; string(got) != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
}
