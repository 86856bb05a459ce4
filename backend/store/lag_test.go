package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// logRow reads logs_through and a session's row straight from the file:
// what the rows hold, whatever readers add to it.
func logRow(t *testing.T, s *SQLite, sid chat.SessionID) (through, seq int64, tail int) {
	t.Helper()
	must(t, s.r.QueryRow(`SELECT value FROM meta WHERE key = 'logs_through'`).Scan(&through))
	var b []byte
	err := s.r.QueryRow(`SELECT seq, tail FROM session_logs WHERE session = ?`, string(sid)).Scan(&seq, &b)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	pairs, err := decodeTail(b)
	must(t, err)
	return through, seq, len(pairs)
}

// storeWithChats opens a store with the fixture and the chats sids queued.
func storeWithChats(t *testing.T, sids ...chat.SessionID) *SQLite {
	t.Helper()
	s, _ := openTest(t)
	fixture(t, s)
	var fx []chat.Effect
	for _, sid := range sids {
		fx = append(fx, chat.SessionChanged{Session: queued(sid, at(0))})
	}
	must(t, s.Apply(context.Background(), fx))
	return s
}

// lastTimes is the newest visitor and agent message times w wrote to sid.
func (w *logWriter) lastTimes(sid chat.SessionID) (visitor, agent time.Time) {
	for _, e := range w.all[sid] {
		switch e.AuthorKind {
		case chat.ByVisitor:
			visitor = e.At
		case chat.ByAgent:
			agent = e.At
		}
	}
	return visitor, agent
}

// checkSession compares what readers say of a session (its row, the desk's
// snapshot, the recent client ids) with what w wrote.
func (w *logWriter) checkSession(t *testing.T, s *SQLite, sid chat.SessionID) {
	t.Helper()
	ctx := context.Background()
	w.check(t, s, sid)
	wantV, wantA := w.lastTimes(sid)
	sess, err := s.SessionRow(ctx, sid)
	must(t, err)
	if sess.Seq != w.seqs[sid] || !sess.LastVisitor.Equal(wantV) || !sess.LastAgent.Equal(wantA) {
		t.Fatalf("session %s: seq %d, last visitor %v, last agent %v; want %d, %v, %v",
			sid, sess.Seq, sess.LastVisitor, sess.LastAgent, w.seqs[sid], wantV, wantA)
	}
	snap, err := s.Load(ctx, at(time.Hour), at(-time.Hour))
	must(t, err)
	got, ok := findSession(snap, sid)
	if !ok || got.Seq != w.seqs[sid] {
		t.Fatalf("session %s in the snapshot (%v): seq %d, want %d", sid, ok, got.Seq, w.seqs[sid])
	}
	if got.State == chat.Ended {
		return // the snapshot has recent ids of open chats only
	}
	recent := snap.Recent[sid]
	var want []string
	for _, e := range w.all[sid] {
		if e.ClientID != "" {
			want = append(want, e.ClientID)
		}
	}
	want = want[max(0, len(want)-chat.DedupWindow):]
	var ids []string
	for _, r := range recent {
		ids = append(ids, r.ClientID)
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("session %s: recent ids %v, want %v", sid, ids, want)
	}
}

// TestSessionRowsLag: a few messages leave the session rows as they were,
// yet every reader sees them (the log in every window, the session's seq
// and last message times, the snapshot's recent ids); once flushAt have
// gathered, the rows hold them.
func TestSessionRowsLag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storeWithChats(t, "a", "b")
	w := newLogWriter()
	n := 0
	write := func(sid chat.SessionID) {
		n++
		must(t, s.Apply(ctx, []chat.Effect{w.next(sid, fmt.Sprint("c", n))}))
	}
	for i := range 10 {
		write("a")
		if i%2 == 0 {
			write("b")
		}
	}
	if through, seq, tail := logRow(t, s, "a"); through != 0 || seq != 0 || tail != 0 {
		t.Fatalf("after 15 entries: logs_through %d, row of a: seq %d, %d pairs; want all 0", through, seq, tail)
	}
	w.checkSession(t, s, "a")
	w.checkSession(t, s, "b")

	for n < flushAt {
		write("a")
	}
	// Written with the row, a tail of chunkAt pairs or more became a chunk.
	through, seq, tail := logRow(t, s, "a")
	if through != int64(n) || seq != int64(w.seqs["a"]) || tail >= chunkAt {
		t.Fatalf("after %d entries: logs_through %d, row of a: seq %d, %d pairs in the tail; want %d, %d, under %d",
			n, through, seq, tail, n, w.seqs["a"], chunkAt)
	}
	w.checkSession(t, s, "a")
	w.checkSession(t, s, "b")
}

// TestUnflushedEntriesAfterARestart: entries the session rows do not hold
// yet, as a relay killed between two flushes leaves them, are where a new
// writer expects them: it continues their sessions' seqs (and refuses one
// taken), and its next flush writes every such row, that of a chat which
// ended meanwhile included.
func TestUnflushedEntriesAfterARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sids := []chat.SessionID{"a", "b", "c"}
	s1 := storeWithChats(t, sids...)
	path := s1.path
	w := newLogWriter()
	for i := range 40 {
		var batch []chat.Effect
		for _, sid := range sids[:1+i%3] {
			batch = append(batch, w.next(sid, fmt.Sprint("x", i)))
		}
		must(t, s1.Apply(ctx, batch))
	}
	ended := queued("c", at(0))
	ended.State, ended.EndedAt, ended.Seq = chat.Ended, at(time.Minute), w.seqs["c"]
	must(t, s1.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: ended}}))
	if through, seq, _ := logRow(t, s1, "c"); through != 0 || seq != 0 {
		t.Fatalf("before the restart: logs_through %d, row of c at seq %d; want both 0", through, seq)
	}
	must(t, s1.Close())

	s2, err := OpenSQLite(path)
	must(t, err)
	t.Cleanup(func() { s2.Close() })
	for _, sid := range sids {
		w.checkSession(t, s2, sid)
	}
	taken := msg("a", w.seqs["a"], at(time.Hour), chat.ByVisitor, 0, "Vera", "again", "taken")
	if err := s2.Apply(ctx, []chat.Effect{taken}); err == nil || !strings.Contains(err.Error(), "does not follow") {
		t.Fatalf("an entry at a seq taken before the restart: %v", err)
	}
	before := 0
	for _, sid := range sids {
		before += len(w.all[sid])
	}
	for i := 0; ; i++ {
		if through, _, _ := logRow(t, s2, "c"); through != 0 {
			// The rows hold every entry before the restart: those of
			// the ended chat c, which had none after it, are its whole log.
			if _, seq, _ := logRow(t, s2, "c"); through < int64(before) || seq != int64(w.seqs["c"]) {
				t.Fatalf("after the flush: logs_through %d (%d entries before the restart), row of c at seq %d, want %d",
					through, before, seq, w.seqs["c"])
			}
			break
		}
		if i > flushAt {
			t.Fatalf("%d entries and no flush", i)
		}
		must(t, s2.Apply(ctx, []chat.Effect{w.next(sids[i%2], fmt.Sprint("y", i))}))
	}
	for _, sid := range sids {
		w.checkSession(t, s2, sid)
	}
}

// TestEndedChatKeepsItsRow: a chat that ends before its row is written
// stays in the writer's cache until the next flush writes the row; read
// after that flush, its whole log comes from the rows.
func TestEndedChatKeepsItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storeWithChats(t, "a", "c")
	w := newLogWriter()
	for i := range 5 {
		must(t, s.Apply(ctx, []chat.Effect{w.next("c", fmt.Sprint("c", i))}))
	}
	ended := queued("c", at(0))
	ended.State, ended.EndedAt = chat.Ended, at(time.Minute)
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: ended}}))
	for i := 0; ; i++ {
		if through, seq, _ := logRow(t, s, "c"); through != 0 {
			if seq != int64(w.seqs["c"]) {
				t.Fatalf("after the flush: row of c at seq %d, want %d", seq, w.seqs["c"])
			}
			break
		}
		if i > flushAt {
			t.Fatalf("%d entries and no flush", i)
		}
		must(t, s.Apply(ctx, []chat.Effect{w.next("a", fmt.Sprint("a", i))}))
	}
	w.checkSession(t, s, "c")
	w.checkSession(t, s, "a")
}
