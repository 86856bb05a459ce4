package main

import (
	"encoding/json"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// The hand readers of payloads must read the relay's frames exactly as
// encoding/json does.
func TestFastPayloadsMatchJSON(t *testing.T) {
	at := time.Unix(0, 1764312345678901234)
	entry, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: "s-AbC_9", Seq: 42, Data: protocol.Entry{
		Seq: 42, At: time.Now(), Kind: protocol.EntryMessage, From: protocol.Author{Kind: protocol.AuthorVisitor, Name: `Vera "V" <x>`},
		ClientID: "m1234", Text: "t1764312345678901234 xxxx"}})
	note, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: "s-AbC_9", Seq: 43, Data: protocol.Entry{
		Seq: 43, Kind: protocol.EntryNote, From: protocol.Author{Kind: protocol.AuthorSystem}, Text: "Anna has joined the chat.", Staff: true}})
	foreign, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: "s-1", Seq: 44, Data: protocol.Entry{
		Seq: 44, Kind: protocol.EntryMessage, ClientID: "m12x", Text: "t5 x"}})
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"entry", entry}, {"note", note}, {"foreign client id", foreign}} {
		var f protocol.ServerFrame
		var e protocol.Entry
		if json.Unmarshal(tc.b, &f) != nil || json.Unmarshal(f.Data, &e) != nil {
			t.Fatalf("%s: %s", tc.name, tc.b)
		}
		n, sent := messageIn(f.Data)
		wn, wsent := messageOf(e.ClientID, e.Text)
		if n != wn || !sent.Equal(wsent) {
			t.Errorf("%s: fast %d %v, slow %d %v", tc.name, n, sent, wn, wsent)
		}
	}
	if n, sent := messageIn(mustData(t, entry)); n != 1234 || !sent.Equal(at) {
		t.Errorf("entry: %d %v", n, sent)
	}
	ack, _ := json.Marshal(protocol.Reply{Re: "1234", OK: true, Data: protocol.MessageAck{Seq: 42}})
	dup, _ := json.Marshal(protocol.Reply{Re: "77", OK: true, Data: protocol.MessageAck{Seq: 9, Duplicate: true}})
	if s := ackSeq(mustData(t, ack)); s != 42 {
		t.Errorf("ack seq %d", s)
	}
	if s := ackSeq(mustData(t, dup)); s != 9 {
		t.Errorf("duplicate ack seq %d", s)
	}
	if s := ackSeq([]byte(`{"duplicate":true,"seq":5}`)); s != 5 {
		t.Errorf("reordered ack seq %d", s)
	}
	for id, want := range map[string]uint64{"17": 17, "x1": 0, "": 0} {
		if n, ok := msgNumber(id); n != want || ok != (want != 0) {
			t.Errorf("msgNumber(%q) = %d %v", id, n, ok)
		}
	}
}

func mustData(t *testing.T, b []byte) []byte {
	var f protocol.ServerFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Data
}

func TestSendFrameIsAValidCommand(t *testing.T) {
	b := appendSend(nil, "s-x", 17, time.Unix(0, 5), 40)
	var cmd protocol.Command
	if err := json.Unmarshal(b, &cmd); err != nil || cmd.ID != "17" || cmd.Cmd != protocol.CmdMessageSend {
		t.Fatalf("%s: %v %+v", b, err, cmd)
	}
	var m protocol.MessageSend
	if err := json.Unmarshal(cmd.Data, &m); err != nil || m.ClientID != "m17" || m.Session != "s-x" || len(m.Text) != 40 {
		t.Fatalf("%s: %v %+v", b, err, m)
	}
	if n, at := messageOf(m.ClientID, m.Text); n != 17 || at.UnixNano() != 5 {
		t.Fatalf("messageOf: %d %v", n, at)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	s := h.snap()
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := s.quantile(c.q)
		if got > c.want || got < c.want*97/100 {
			t.Errorf("q%.2f = %v, want about %v", c.q, got, c.want)
		}
	}
	if s.max != time.Millisecond {
		t.Errorf("max %v", s.max)
	}
	for _, v := range []int64{0, 1, 127, 128, 129, 1 << 20, 1<<40 + 12345} {
		if f := bucketFloor(bucketOf(v)); f > v || float64(v-f) > float64(v)/60 {
			t.Errorf("bucket of %d has floor %d", v, f)
		}
	}
}
