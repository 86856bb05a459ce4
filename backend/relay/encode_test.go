package relay

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// The hand-written encoders must write exactly what encoding/json writes.
func TestHandEncodersMatchJSON(t *testing.T) {
	texts := []string{"", "Hello", `quote " backslash \ slash /`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x01\x1f\x7f",
		"\b\f", "åäö 日本語 😀", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "x" + string(rune(0x10FFFF))}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		b := make([]byte, rng.IntN(40))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		texts = append(texts, string(b))
	}
	at := []time.Time{time.Date(2026, 11, 28, 10, 2, 3, 400500600, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Unix(0, 1764312345678901234), time.Date(2026, 6, 1, 12, 0, 0, 0, time.FixedZone("CEST", 7200)), {}}
	for i, text := range texts {
		e := chat.Entry{Seq: uint64(i), At: at[i%len(at)], Kind: chat.KindMessage, AuthorKind: chat.ByVisitor,
			AuthorName: texts[(i+3)%len(texts)], ClientID: texts[(i+7)%len(texts)], Text: text, Staff: i%3 == 0, Note: []string{"", chat.NoteJoined}[i%2]}
		if i%2 == 0 {
			e.Author, e.AuthorKind, e.Kind = chat.AgentID(i), chat.ByAgent, chat.KindNote
		}
		if i%4 == 0 {
			e.Params = chat.NoteParams{Agent: chat.Party{Name: text}, By: chat.Party{ID: chat.AgentID(i), Name: "Mia"}, Comment: text}
		}
		sid := chat.SessionID(texts[(i+11)%len(texts)])
		want, _ := json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: string(sid), Seq: e.Seq, Data: chat.EntryInfo(e)})
		if got := encodeEntry(sid, e); string(got) != string(want) {
			t.Fatalf("entry %d:\n got %s\nwant %s", i, got, want)
		}
		ack := protocol.MessageAck{Seq: uint64(i * 7), Duplicate: i%2 == 1}
		want, _ = json.Marshal(protocol.Reply{Re: text, OK: true, Data: ack})
		if got := encodeReply(text, ack, nil); string(got) != string(want) {
			t.Fatalf("ack %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// An entry or ack whose strings need no escape is written into the buffer
// first allocated: a buffer that grows is garbage twice over.
func TestHandEncodersAllocateOnce(t *testing.T) {
	at := time.Date(2026, 12, 7, 23, 59, 58, 123456789, time.FixedZone("", -12600))
	for _, e := range []chat.Entry{
		{Seq: 1, At: at, Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, ClientID: "m", Text: "hi"},
		{Seq: 1<<64 - 1, At: at, Kind: chat.KindNote, AuthorKind: chat.ByAgent, Author: 1<<63 - 1, AuthorName: "Mia Holm",
			ClientID: "c-123456789", Text: "a longer note", Staff: true, Note: chat.NoteJoined},
	} {
		if n := testing.AllocsPerRun(20, func() { encodeEntry("s-9fQabcdefghijklmn", e) }); n != 1 {
			t.Errorf("entry %d: %.0f allocations", e.Seq, n)
		}
	}
	if n := testing.AllocsPerRun(20, func() {
		encodeReply("lg-17-4711", protocol.MessageAck{Seq: 1<<64 - 1, Duplicate: false}, nil)
	}); n != 1 {
		t.Errorf("ack: %.0f allocations", n)
	}
}

func BenchmarkEncodeEntry(b *testing.B) {
	e := chat.Entry{Seq: 12, At: time.Now(), Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, AuthorName: "Vera",
		ClientID: "m-42", Text: "Hello, I have a question about my order number 12345."}
	b.Run("hand", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			encodeEntry("s-9fQabcdefghijklmn", e)
		}
	})
	b.Run("json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			encodeEvent(protocol.EvEntry, "s-9fQabcdefghijklmn", e.Seq, chat.EntryInfo(e))
		}
	})
}
