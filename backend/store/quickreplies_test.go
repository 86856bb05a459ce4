package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

func TestQuickRepliesUnknownAgentStoresNoRows(t *testing.T) {
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
