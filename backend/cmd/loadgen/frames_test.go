package main

import (
	"encoding/json"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// The hand scanner must read the relay's frames exactly as encoding/json does.
func TestFastFramesMatchJSON(t *testing.T) {
	at := time.Unix(0, 1764312345678901234)
	entry, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: "s-AbC_9", Seq: 42, Data: protocol.Entry{
		Seq: 42, At: time.Now(), Kind: protocol.EntryMessage, From: protocol.Author{Kind: protocol.AuthorVisitor, Name: `Vera "V" <x>`},
		ClientID: "m1234", Text: "t1764312345678901234 xxxx"}})
	note, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: "s-AbC_9", Seq: 43, Data: protocol.Entry{
		Seq: 43, Kind: protocol.EntryNote, From: protocol.Author{Kind: protocol.AuthorSystem}, Text: "Anna has joined the chat.", Staff: true}})
	ack, _ := json.Marshal(protocol.Reply{Re: "1234", OK: true, Data: protocol.MessageAck{Seq: 42}})
	dup, _ := json.Marshal(protocol.Reply{Re: "77", OK: true, Data: protocol.MessageAck{Seq: 9, Duplicate: true}})
	refused, _ := json.Marshal(protocol.Reply{Re: "12", Error: protocol.Errorf(protocol.CodeRateLimited, "slow down")})
	transfer, _ := json.Marshal(protocol.Event{Ev: protocol.EvTransfer, Session: "s-1", Data: protocol.TransferInfo{ID: 3, State: "pending"}})
	queue, _ := json.Marshal(protocol.Event{Ev: protocol.EvQueue, Data: protocol.QueueEvent{Channel: "load"}})

	for _, tc := range []struct {
		name string
		b    []byte
	}{{"entry", entry}, {"note", note}, {"ack", ack}, {"duplicate ack", dup}, {"refusal", refused}, {"transfer", transfer}, {"queue", queue}} {
		fast, slow := parseFrame(tc.b), slowFrame(tc.b)
		if fast.kind != slow.kind || string(fast.re) != string(slow.re) || fast.ok != slow.ok || fast.seq != slow.seq ||
			fast.code != slow.code && fast.kind != fkReply || string(fast.session) != string(slow.session) || fast.msg != slow.msg ||
			!fast.sentAt.Equal(slow.sentAt) {
			t.Errorf("%s: fast %+v, slow %+v", tc.name, fast, slow)
		}
	}
	f := parseFrame(entry)
	if f.msg != 1234 || !f.sentAt.Equal(at) || f.seq != 42 || string(f.session) != "s-AbC_9" {
		t.Errorf("entry: %+v", f)
	}
	if f := parseFrame(refused); f.ok || slowFrame(refused).code != string(protocol.CodeRateLimited) {
		t.Errorf("refusal: %+v", f)
	}
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
