package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// TestSystemLinesAsCodes: a system line is stored as its code and params
// and read back as such, with no text; a line stored before codes existed
// (schema 6: English text, no code) still loads with its text; and the
// transcript kept with a request is worded in its channel's language.
func TestSystemLinesAsCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	must(t, err)
	for _, step := range migrations[:6] {
		_, err := db.Exec(step)
		must(t, err)
	}
	_, err = db.Exec(`PRAGMA user_version = 6;
INSERT INTO channels (key, name, time_zone, language) VALUES ('support', 'Kundtjänst', 'Europe/Stockholm', 'sv');
INSERT INTO sessions (id, channel, state, seq, created_at) VALUES ('s1', 'support', 'active', 1, 1);
INSERT INTO entries (id, session, seq, at, kind, author_kind, text, staff) VALUES
	(1, 's1', 1, ?, 'note', 'system', 'Anna asked Bo to take over the chat.', 1);
INSERT INTO session_logs (session, seq, tail) VALUES ('s1', 1, x'0101')`, nanos(at(0)))
	must(t, err)
	must(t, db.Close())

	s, err := OpenSQLite(path)
	must(t, err)
	defer s.Close()
	old, err := s.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(old) != 1 || old[0].Text != "Anna asked Bo to take over the chat." || old[0].Note != "" || old[0].Params != (chat.NoteParams{}) {
		t.Fatalf("the line stored before codes: %+v", old)
	}

	anna, bo, mia := chat.Party{ID: 1, Name: "Anna"}, chat.Party{ID: 2, Name: "Bo"}, chat.Party{ID: 4, Name: "Mia"}
	lines := []chat.Entry{
		{Seq: 2, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Staff: true, Note: chat.NoteTransferVoided,
			Params: chat.NoteParams{Agent: mia, From: anna, To: bo, By: anna, Reason: chat.VoidTakenOver}},
		{Seq: 3, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Staff: true, Note: chat.NoteTransferOffered,
			Params: chat.NoteParams{From: anna, To: bo, By: mia, Comment: `VIP "gold", {to}`}},
		{Seq: 4, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, AuthorName: "Mia", Note: chat.NoteJoined,
			Params: chat.NoteParams{Agent: chat.Party{Name: "Mia"}}},
		{Seq: 5, At: at(2 * time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Note: chat.NoteVisitorLeft},
	}
	var fx []chat.Effect
	for _, e := range lines {
		fx = append(fx, chat.EntryAdded{Session: "s1", Channel: "support", Entry: e})
	}
	fx = append(fx, chat.RequestCreated{Request: chat.Request{Number: 1001, Channel: "support", Session: "s1", Title: "Paket",
		CreatedBy: 1, CreatedAt: at(3 * time.Minute)}})
	must(t, s.Apply(ctx, fx))

	got, err := s.Entries(ctx, "s1", 1, 0)
	must(t, err)
	if !reflect.DeepEqual(got, lines) {
		t.Fatalf("system lines read back:\n got %+v\nwant %+v", got, lines)
	}
	r, err := s.Request(ctx, 1001)
	must(t, err)
	want := "2026-11-28 10:02 System (internt): Anna asked Bo to take over the chat.\n" +
		"2026-11-28 10:03 System (internt): Överföringen till Bo upphävdes: övertagen av Mia.\n" +
		"2026-11-28 10:03 System (internt): Mia bad Bo ta över chatten från Anna. Kommentar: VIP \"gold\", {to}\n" +
		"2026-11-28 10:03 System: Mia har anslutit till chatten.\n" +
		"2026-11-28 10:04 System: Besökaren lämnade chatten.\n"
	if r.Transcript != want {
		t.Errorf("transcript in a Swedish channel:\n%s\nwant:\n%s", r.Transcript, want)
	}
}
