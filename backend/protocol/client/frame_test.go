package client

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// The envelope read by hand must be what encoding/json reads, for every
// shape the relay writes and for the ones it falls back on.
func TestScanMatchesJSON(t *testing.T) {
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	frames := map[string][]byte{
		"entry": mustJSON(protocol.Event{Ev: protocol.EvEntry, Session: "s-AbC_9", Seq: 42, Data: protocol.Entry{
			Seq: 42, At: time.Now(), Kind: protocol.EntryMessage, From: protocol.Author{Kind: protocol.AuthorVisitor, Name: `Vera "V" <x>`},
			ClientID: "m1", Text: "}{\"],"}}),
		"event without session": mustJSON(protocol.Event{Ev: protocol.EvPresence, Data: protocol.PresenceEvent{}}),
		"event without data":    mustJSON(protocol.Event{Ev: protocol.EvTyping, Session: "s-1"}),
		"unknown event":         mustJSON(protocol.Event{Ev: "weather", Data: map[string]bool{"sunny": true}}),
		"escaped session":       []byte(`{"ev":"entry","session":"s-\u0041","seq":3,"data":{}}`),
		"ack":                   mustJSON(protocol.Reply{Re: "c1", OK: true, Data: protocol.MessageAck{Seq: 7, Duplicate: true}}),
		"ok without data":       mustJSON(protocol.Reply{Re: "c2", OK: true}),
		"refusal":               mustJSON(protocol.Reply{Re: "c3", Error: protocol.Errorf(protocol.CodeForbidden, "no")}),
		"refusal without id":    mustJSON(protocol.Reply{Error: protocol.Errorf(protocol.CodeRateLimited, "slow down")}),
		"reordered":             []byte(`{"ok":true,"re":"c4","data":[1,2]}`),
		"spaced":                []byte(`{ "ev" : "entry", "session":"s", "seq": 2 }`),
	}
	for name, b := range frames {
		var fast Frame
		if !scan(b, &fast, func(s []byte) string { return string(s) }) {
			t.Errorf("%s: not read", name)
			continue
		}
		var want protocol.ServerFrame
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got := fast.ServerFrame()
		if len(got.Data) == 0 {
			got.Data = nil
		}
		if len(want.Data) == 0 {
			want.Data = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v %s\nwant %+v %s", name, got, got.Data, want, want.Data)
		}
	}
	var f Frame
	if scan([]byte(`not json`), &f, nil) || scan([]byte(`[1]`), &f, nil) {
		t.Error("garbage was read as a frame")
	}
}

func TestTrackerVerdicts(t *testing.T) {
	tr := NewTracker()
	if tr.Resume() != nil {
		t.Fatal("an empty tracker resumes something")
	}
	for i, c := range []struct {
		seq  uint64
		want Verdict
	}{{1, Fresh}, {2, Fresh}, {2, Duplicate}, {1, Duplicate}, {5, Gap}, {6, Fresh}, {4, Duplicate}} {
		if got := tr.Note("s", c.seq); got != c.want {
			t.Errorf("%d: seq %d is %v, want %v", i, c.seq, got, c.want)
		}
	}
	tr.Watch("t")
	tr.Watch("s") // keeps what it holds
	if r := tr.Resume(); len(r) != 2 || r["s"] != 6 || r["t"] != 0 {
		t.Fatalf("resume %v", r)
	}
	tr.Keep([]string{"t"})
	if r := tr.Resume(); len(r) != 1 || tr.Last("s") != 0 {
		t.Fatalf("after Keep: %v", r)
	}
	if s := tr.intern([]byte("t")); s != "t" {
		t.Fatal(s)
	}
}

// Reading an entry or an ack allocates nothing but what the handler keeps.
func TestScanOfHotFramesDoesNotAllocate(t *testing.T) {
	tr := NewTracker()
	tr.Watch("s-1")
	entry := []byte(`{"ev":"entry","session":"s-1","seq":9,"data":{"seq":9,"kind":"message","client_id":"m1","text":"t1 x"}}`)
	var f Frame
	if n := testing.AllocsPerRun(100, func() { scan(entry, &f, tr.intern) }); n != 0 {
		t.Errorf("an entry costs %v allocations", n)
	}
}
