package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// logWriter appends to sessions the way the desk does and remembers what
// it wrote.
type logWriter struct {
	seqs map[chat.SessionID]uint64
	all  map[chat.SessionID][]chat.Entry
}

func newLogWriter() *logWriter {
	return &logWriter{seqs: map[chat.SessionID]uint64{}, all: map[chat.SessionID][]chat.Entry{}}
}

func (w *logWriter) next(sid chat.SessionID, clientID string) chat.EntryAdded {
	w.seqs[sid]++
	seq := w.seqs[sid]
	e := chat.Entry{Seq: seq, At: at(time.Duration(seq) * time.Second), Kind: chat.KindMessage,
		AuthorKind: chat.ByVisitor, AuthorName: "Vera", ClientID: clientID, Text: fmt.Sprintf("%s #%d", sid, seq)}
	if clientID == "" {
		e.Kind, e.AuthorKind, e.AuthorName, e.Note = chat.KindNote, chat.BySystem, "Anna", chat.NoteJoined
	} else if seq%3 == 0 {
		e.AuthorKind, e.Author, e.AuthorName = chat.ByAgent, 7, "Anna"
	}
	w.all[sid] = append(w.all[sid], e)
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: e}
}

// check compares every window of a session's log with what was written.
func (w *logWriter) check(t *testing.T, s *SQLite, sid chat.SessionID) {
	t.Helper()
	ctx := context.Background()
	want := w.all[sid]
	for _, after := range []int{0, 1, chunkAt - 1, chunkAt, chunkAt + 1, len(want) - 3, len(want), len(want) + 5} {
		for _, limit := range []int{0, 1, 5, chunkAt + 3} {
			if after < 0 {
				continue
			}
			got, err := s.Entries(ctx, sid, uint64(after), limit)
			must(t, err)
			var exp []chat.Entry
			if after < len(want) {
				exp = want[after:]
			}
			if limit > 0 && len(exp) > limit {
				exp = exp[:limit]
			}
			if len(got) != len(exp) || (len(exp) > 0 && !reflect.DeepEqual(got, exp)) {
				t.Fatalf("Entries(%s, after %d, limit %d): got %d entries, want %d\n got %+v\nwant %+v",
					sid, after, limit, len(got), len(exp), head(got), head(exp))
			}
		}
	}
}

func head(es []chat.Entry) []chat.Entry { return es[:min(len(es), 3)] }

// TestRecentIDsAcrossChunks writes logs in batches of every size, across
// sealed chunks, and reads the recent client ids back in windows of every
// size, before and after a reopen. (What every store must do with such
// logs, reads and transcripts, is storetest's LogWindows, run on SQLite
// from conformance_test.go; this reads SQLite's own index of recent ids.)
func TestRecentIDsAcrossChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	fixture(t, s)
	w := newLogWriter()
	sids := []chat.SessionID{"a", "b", "c"}
	for _, sid := range sids {
		must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued(sid, at(0))}}))
	}
	// Batches of 1, 2, 3, ... entries spread over the sessions; every
	// seventh entry is a system line without a client id.
	n := 0
	for size := 1; size <= 40; size++ {
		var fx []chat.Effect
		for range size {
			sid := sids[n%len(sids)]
			if n%5 == 4 {
				sid = "a" // a runs ahead of the others
			}
			client := fmt.Sprint("c", n)
			if n%7 == 6 {
				client = ""
			}
			fx = append(fx, w.next(sid, client))
			n++
		}
		must(t, s.Apply(ctx, fx))
	}
	if len(w.all["a"]) < 3*chunkAt {
		t.Fatalf("test too small: %d entries in a", len(w.all["a"]))
	}
	w.check(t, s, "a")
	checkRecent(t, s, w, "a")

	// After a reopen (no cache), the log and its ids go on where they were.
	must(t, s.Close())
	s2, err := OpenSQLite(path)
	must(t, err)
	defer s2.Close()
	for range chunkAt + 1 {
		must(t, s2.Apply(ctx, []chat.Effect{w.next("a", fmt.Sprint("x", w.seqs["a"])), w.next("b", "")}))
	}
	w.check(t, s2, "a")
	checkRecent(t, s2, w, "a")
	checkRecent(t, s2, w, "b")
}

// checkRecent compares the recent client ids of a session, for several
// window sizes, with the log written.
func checkRecent(t *testing.T, s *SQLite, w *logWriter, sid chat.SessionID) {
	t.Helper()
	ctx := context.Background()
	var all []chat.RecentID
	for _, e := range w.all[sid] {
		if e.ClientID != "" {
			all = append(all, chat.RecentID{AuthorKind: e.AuthorKind, Author: e.Author, ClientID: e.ClientID, Seq: e.Seq})
		}
	}
	for _, n := range []int{1, 10, chunkAt, chunkAt + 10, len(all), len(all) + 10} {
		tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		must(t, err)
		got, err := recentIDs(ctx, tx, sid, n)
		tx.Rollback()
		must(t, err)
		want := all[max(len(all)-n, 0):]
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("recent %d of %s:\n got %d %+v\nwant %d %+v", n, sid, len(got), got, len(want), want)
		}
	}
}

// twoStores opens one file twice (two connections, as two processes would)
// with session "s" queued.
func twoStores(t *testing.T) (*SQLite, *SQLite) {
	s1, path := openTest(t)
	fixture(t, s1)
	s2, err := OpenSQLite(path)
	must(t, err)
	t.Cleanup(func() { s2.Close() })
	must(t, s1.Apply(context.Background(), []chat.Effect{chat.SessionChanged{Session: queued("s", at(0))}}))
	return s1, s2
}

// TestTwoWriters: another connection (another process) writing the same
// file is noticed; each sees the other's entries, also those the session
// rows do not hold yet, and either one's flush writes the other's too.
func TestTwoWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s1, s2 := twoStores(t)
	w := newLogWriter()
	for i := range flushAt + 3*chunkAt {
		st := s1
		if i/10%2 == 1 {
			st = s2
		}
		must(t, st.Apply(ctx, []chat.Effect{w.next("s", fmt.Sprint(i))}))
	}
	w.check(t, s1, "s")
	w.check(t, s2, "s")
}

// TestMigrateLogs: a database of schema 2 (one entries table keyed by
// session and seq) comes up with its logs readable and writable.
func TestMigrateLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	must(t, err)
	for _, step := range migrations[:2] {
		_, err := db.Exec(step)
		must(t, err)
	}
	_, err = db.Exec(`PRAGMA user_version = 2;
INSERT INTO sessions (id, channel, state, seq, created_at, last_visitor) VALUES ('old', 'support', 'active', 3, 1, 30);
INSERT INTO entries (session, seq, at, kind, author_kind, client_id, text) VALUES
	('old', 2, 20, 'message', 'visitor', 'c2', 'two'),
	('old', 1, 10, 'message', 'visitor', 'c1', 'one'),
	('old', 3, 30, 'message', 'visitor', 'c3', 'three')`)
	must(t, err)
	// And a longer one, over several chunks, stored out of order.
	_, err = db.Exec(`INSERT INTO sessions (id, channel, state, seq) VALUES ('long', 'support', 'ended', 150)`)
	must(t, err)
	for _, seq := range []int{150, 1, 149, 2} {
		_, err = db.Exec(`INSERT INTO entries (session, seq, at, kind, author_kind, text) VALUES ('long', ?, ?, 'note', 'system', ?)`,
			seq, seq, fmt.Sprint(seq))
		must(t, err)
	}
	for seq := 3; seq <= 148; seq++ {
		_, err = db.Exec(`INSERT INTO entries (session, seq, at, kind, author_kind, text) VALUES ('long', ?, ?, 'note', 'system', ?)`,
			seq, seq, fmt.Sprint(seq))
		must(t, err)
	}
	must(t, db.Close())

	s, err := OpenSQLite(path)
	must(t, err)
	defer s.Close()
	es, err := s.Entries(ctx, "old", 0, 0)
	must(t, err)
	var texts []string
	for _, e := range es {
		texts = append(texts, fmt.Sprint(e.Seq, e.Text, e.ClientID))
	}
	if strings.Join(texts, " ") != "1onec1 2twoc2 3threec3" {
		t.Fatalf("migrated log: %v", texts)
	}
	if err := s.Apply(ctx, []chat.Effect{msg("old", 3, at(0), chat.ByVisitor, 0, "V", "x", "taken")}); err == nil {
		t.Fatal("seq 3 accepted again after the migration")
	}
	must(t, s.Apply(ctx, []chat.Effect{msg("old", 4, at(0), chat.ByVisitor, 0, "V", "c4", "four")}))
	es, err = s.Entries(ctx, "old", 2, 0)
	must(t, err)
	if len(es) != 2 || es[0].Text != "three" || es[1].Text != "four" {
		t.Fatalf("after the migration: %+v", es)
	}
	for _, after := range []uint64{0, 63, 64, 100, 149} {
		es, err := s.Entries(ctx, "long", after, 0)
		must(t, err)
		if len(es) != int(150-after) || es[0].Seq != after+1 || es[len(es)-1].Text != "150" {
			t.Fatalf("long log after %d: %d entries", after, len(es))
		}
	}
	snap, err := s.Load(ctx, at(0), time.Time{})
	must(t, err)
	if old, _ := findSession(snap, "old"); len(snap.Recent["old"]) != 4 || old.Seq != 4 {
		t.Fatalf("recent %+v, sessions %+v", snap.Recent, snap.Sessions)
	}
}

func TestTailEncoding(t *testing.T) {
	t.Parallel()
	for _, pairs := range [][]tailPair{nil, {{1, 1}}, {{1, 5}, {2, 300}, {70000, 1 << 40}, {70001, 1<<40 + 1}}} {
		got, err := decodeTail(encodeTail(pairs))
		must(t, err)
		if len(got) != len(pairs) || (len(pairs) > 0 && !reflect.DeepEqual(got, pairs)) {
			t.Fatalf("%v -> %v", pairs, got)
		}
	}
	if _, err := decodeTail([]byte{0x80}); err == nil {
		t.Fatal("corrupt tail decoded")
	}
}

// TestBackgroundCheckpoint: the checkpoint loop runs, and Close stops it.
func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	w := newLogWriter()
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s", at(0))}}))
	deadline := time.Now().Add(10 * time.Second)
	for s.checkpoints.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoints")
		}
		must(t, s.Apply(ctx, []chat.Effect{w.next("s", fmt.Sprint(len(w.all["s"])))}))
		time.Sleep(checkpointEvery / 4)
	}
	must(t, s.Close())
	n := s.checkpoints.Load()
	time.Sleep(2 * checkpointEvery)
	if s.checkpoints.Load() != n {
		t.Fatal("checkpoints after Close")
	}
	if _, err := s.Entries(ctx, "s", 0, 0); err == nil {
		t.Fatal("Entries after Close")
	}
}

// TestRecentSkipsSystemLines: client ids are found however many lines
// without one (system lines) come after them.
func TestRecentSkipsSystemLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	w := newLogWriter()
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s", at(0))}}))
	var fx []chat.Effect
	for i := range 6 * chunkAt {
		client := ""
		if i < 2*chunkAt && i%2 == 0 {
			client = fmt.Sprint("c", i)
		}
		fx = append(fx, w.next("s", client))
		if len(fx) == chunkAt/2 { // several chunks
			must(t, s.Apply(ctx, fx))
			fx = fx[:0]
		}
	}
	checkRecent(t, s, w, "s")
	w.check(t, s, "s")
}

// TestReconnectForgetsTheCache: after the write probe's reconnect the
// writer's new connection counts data_version afresh, so it cannot tell
// whether another connection wrote meanwhile; the log states and the next
// entry id are read again, and nothing collides.
func TestReconnectForgetsTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s1, s2 := twoStores(t)
	w := newLogWriter()
	must(t, s1.Apply(ctx, []chat.Effect{w.next("s", "a")}))
	for i := range 3 {
		s1.applyMu.Lock()
		s1.reconnect()
		s1.applyMu.Unlock()
		must(t, s2.Apply(ctx, []chat.Effect{w.next("s", fmt.Sprint("b", i))}))
		must(t, s1.Apply(ctx, []chat.Effect{w.next("s", fmt.Sprint("c", i))}))
	}
	w.check(t, s1, "s")
	w.check(t, s2, "s")
}
