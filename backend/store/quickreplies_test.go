package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

func TestQuickRepliesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	anna, bert := fixture(t, s)

	got, err := s.QuickReplies(ctx, anna)
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("before any save: %#v, want an empty list", got)
	}

	first := []protocol.QuickReply{
		{Title: "Greeting", Text: "Hello! How can I help you?"},
		{Text: "  Two lines,\nspacing kept.  "},
		{Title: "Bye", Text: "Anything else I can do?"},
	}
	must(t, s.SetQuickReplies(ctx, anna, first))
	got, err = s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("read back %+v, want %+v", got, first)
	}

	// Each agent has their own.
	other, err := s.QuickReplies(ctx, bert)
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("bert sees %+v", other)
	}
	must(t, s.SetQuickReplies(ctx, bert, []protocol.QuickReply{{Text: "Bert's"}}))

	// A save replaces the whole list, in its new order.
	second := []protocol.QuickReply{first[2], first[0]}
	must(t, s.SetQuickReplies(ctx, anna, second))
	got, err = s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, second) {
		t.Fatalf("after replacing: %+v, want %+v", got, second)
	}

	// Durable: a new process on the same file reads the same lists.
	must(t, s.Close())
	s2, err := OpenSQLite(path)
	must(t, err)
	defer s2.Close()
	got, err = s2.QuickReplies(ctx, anna)
	must(t, err)
	other, err = s2.QuickReplies(ctx, bert)
	must(t, err)
	if !reflect.DeepEqual(got, second) || len(other) != 1 || other[0].Text != "Bert's" {
		t.Fatalf("after reopen: anna %+v, bert %+v", got, other)
	}

	// An empty list clears them.
	must(t, s2.SetQuickReplies(ctx, anna, nil))
	got, err = s2.QuickReplies(ctx, anna)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("after clearing: %+v", got)
	}
}

func TestQuickRepliesUnknownAgent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	err := s.SetQuickReplies(ctx, 999, []protocol.QuickReply{{Text: "x"}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown agent: %v, want ErrNotFound", err)
	}
	var n int
	must(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM quick_replies`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d rows stored for an unknown agent", n)
	}
}

// The largest list the protocol allows is stored and read back whole.
func TestQuickRepliesLargestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	list := make([]protocol.QuickReply, protocol.MaxQuickReplies)
	for i := range list {
		list[i] = protocol.QuickReply{Title: "t", Text: string(rune('a' + i%26))}
	}
	list, perr := protocol.CheckQuickReplies(list)
	if perr != nil {
		t.Fatal(perr)
	}
	must(t, s.SetQuickReplies(ctx, anna, list))
	got, err := s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, list) {
		t.Fatalf("read back %d replies, want %d in order", len(got), len(list))
	}
}

// A database of schema 3 gains the table and keeps its agents.
func TestMigrateQuickReplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	must(t, err)
	for _, step := range migrations[:3] {
		_, err := db.Exec(step)
		must(t, err)
	}
	_, err = db.Exec(`PRAGMA user_version = 3;
INSERT INTO agents (id, login, name, password_hash) VALUES (7, 'anna', 'Anna', x'00')`)
	must(t, err)
	must(t, db.Close())

	s, err := OpenSQLite(path)
	must(t, err)
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	must(t, err)
	if v != len(migrations) {
		t.Fatalf("schema %d, want %d", v, len(migrations))
	}
	must(t, s.SetQuickReplies(ctx, chat.AgentID(7), []protocol.QuickReply{{Text: "kept"}}))
	got, err := s.QuickReplies(ctx, chat.AgentID(7))
	must(t, err)
	if len(got) != 1 || got[0].Text != "kept" {
		t.Fatalf("after migration: %+v", got)
	}
}
