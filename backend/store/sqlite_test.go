package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// base is a fixed instant with nanoseconds, to show they survive.
var base = time.Date(2026, 11, 28, 9, 2, 3, 123456789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func openTest(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// fixture creates a channel in Stockholm time and two agents.
func fixture(t testing.TB, s *SQLite) (anna, bert chat.AgentID) {
	t.Helper()
	ctx := context.Background()
	must(t, s.PutChannel(ctx, ChannelRow{
		Key: "support", Name: "Support", Hours: "mon-fri 08:00-17:00", TimeZone: "Europe/Stockholm",
		OfflineForm: true, WarnAfter: 90 * time.Second, ManagerWarnAfter: 5 * time.Minute,
		TransferTimeout: chat.DefaultTransferTimeout, Templates: []string{"Hello!", "Bye."},
	}))
	var err error
	if anna, err = s.CreateAgent(ctx, "anna", "Anna", []byte("hash-a")); err != nil {
		t.Fatal(err)
	}
	if bert, err = s.CreateAgent(ctx, "bert", "Bert", []byte("hash-b")); err != nil {
		t.Fatal(err)
	}
	must(t, s.Grant(ctx, "anna", "support", chat.PermRespond|chat.PermNotify))
	must(t, s.Grant(ctx, "bert", "support", chat.PermRespond|chat.PermManage|chat.PermListen))
	return anna, bert
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func msg(sid chat.SessionID, seq uint64, when time.Time, kind string, author chat.AgentID, name, client, text string) chat.EntryAdded {
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: chat.Entry{
		Seq: seq, At: when, Kind: chat.KindMessage, AuthorKind: kind, Author: author, AuthorName: name,
		ClientID: client, Text: text,
	}}
}

func note(sid chat.SessionID, seq uint64, when time.Time, text string, staff bool) chat.EntryAdded {
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: chat.Entry{
		Seq: seq, At: when, Kind: chat.KindNote, AuthorKind: chat.BySystem, Text: text, Staff: staff,
	}}
}

func queued(id chat.SessionID, created time.Time) chat.Session {
	return chat.Session{
		ID: id, Channel: "support", State: chat.Queued, Visitor: chat.Visitor{Name: "Vera", Email: "vera@example.com"},
		Question: "Where is my parcel?", TokenHash: "vt-" + string(id), Rank: created.UnixNano(),
		CreatedAt: created, QueuedAt: created,
	}
}

func findSession(snap chat.Snapshot, id chat.SessionID) (chat.Session, bool) {
	for _, s := range snap.Sessions {
		if s.ID == id {
			return s, true
		}
	}
	return chat.Session{}, false
}

func TestSchemaNewerRefused(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	_, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
	must(t, err)
	must(t, s.Close())
	if s2, err := OpenSQLite(path); err == nil {
		s2.Close()
		t.Fatal("a newer schema was opened")
	}
}

func TestZeroTimeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{{}, base, base.In(time.FixedZone("x", 3600)), time.Unix(0, 1)} {
		if got := fromNanos(nanos(tm)); !got.Equal(tm) || got.IsZero() != tm.IsZero() {
			t.Fatalf("%v -> %v", tm, got)
		}
	}
}

// TestSchemaVersionIsLatest: a new file, and the same file reopened, are at
// the last migration step.
func TestSchemaVersionIsLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	for range 2 {
		v, err := s.SchemaVersion(ctx)
		must(t, err)
		if v != len(migrations) {
			t.Fatalf("schema version %d, want %d", v, len(migrations))
		}
		must(t, s.Close())
		if s, err = OpenSQLite(path); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.Close())
}

// TestClosedWithItsStatements: Apply's statements live on the writer's
// driver connection; a connection closed with any of them still open stays
// open in SQLite, and with it the files (a read-only one after the probe's
// reconnect, say). Closed properly, the last connection removes the WAL.
func TestClosedWithItsStatements(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := OpenSQLite(path)
	must(t, err)
	w := newLogWriter()
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s", at(0))}, w.next("s", "a")}))
	s.reconnect() // what WriteProbe does when a write failed
	must(t, s.Apply(ctx, []chat.Effect{w.next("s", "b")}))
	s.reconnect()
	must(t, s.Apply(ctx, []chat.Effect{w.next("s", "c")}))
	w.check(t, s, "s")
	must(t, s.Close())
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Close the WAL is still there (%v): a connection stayed open", err)
	}
	s, err = OpenSQLite(path)
	must(t, err)
	defer s.Close()
	w.check(t, s, "s")
}
