package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/cluster"
	"switchboard/backend/store"
	"switchboard/backend/store/pgtest"
	"switchboard/backend/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fast are lease settings for tests: quick tries, quick loss.
var fast = cluster.LeaseOptions{Poll: 50 * time.Millisecond, Check: 100 * time.Millisecond,
	CheckTimeout: time.Second, KeepAlive: time.Second}

func openStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func acquire(t *testing.T, dsn, name string, s *postgres.Store, within time.Duration) (*cluster.Lease, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	l, err := cluster.Acquire(ctx, dsn, name, s, fast)
	if l != nil {
		t.Cleanup(l.Release)
	}
	return l, err
}

// terminateLeaseSessions ends the database sessions that hold leases, as
// PostgreSQL does when a node's connection dies.
func terminateLeaseSessions(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name LIKE 'switchboard lease %' AND datname = current_database()`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLeaseIsHeldOnceAndPassesOn(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	la, err := acquire(t, dsn, "node-a", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var seen []error
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	o := fast
	o.OnWait = func(err error) { seen = append(seen, err) }
	if lb, err := cluster.Acquire(ctx, dsn, "node-b", b, o); lb != nil || err == nil {
		cancel()
		t.Fatalf("a second node took a held lease: %v", err)
	}
	cancel()
	var held *cluster.HeldError
	if len(seen) == 0 || !errors.As(seen[len(seen)-1], &held) || held.Holder != "node-a" || held.Term != la.Term() {
		t.Fatalf("a waiting node was told %v; want held by node-a in term %d", seen, la.Term())
	}
	la.Release()
	start := time.Now()
	lb, err := acquire(t, dsn, "node-b", b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("released lease taken over in %s", time.Since(start).Round(time.Millisecond))
	if lb.Term() <= la.Term() {
		t.Fatalf("terms %d then %d: a new leader must have a newer term", la.Term(), lb.Term())
	}
}

// A leader whose lock session dies (its node vanished from the database's
// view) learns it, and its store commits nothing more: the next leader's
// term fences it, even before it noticed.
func TestLostLeaseFencesTheOldLeader(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	ctx := context.Background()
	if _, err := a.CreateAgent(ctx, "anna", "Anna", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := a.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	la, err := acquire(t, dsn, "node-a", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	sess := chat.Session{ID: "s1", Channel: "support", State: chat.Queued, Visitor: chat.Visitor{Name: "Vera"},
		CreatedAt: now, QueuedAt: now, Rank: 1}
	if err := a.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess}}); err != nil {
		t.Fatalf("the leader's commit: %v", err)
	}
	if n := terminateLeaseSessions(t, dsn); n != 1 {
		t.Fatalf("%d lease sessions ended; want 1", n)
	}
	lb, err := acquire(t, dsn, "node-b", b, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// node-a has not necessarily noticed yet; its commits fail anyway.
	late := sess
	late.ID, late.Visitor.Name = "s2", "Otto"
	if err := a.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: late}}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("the old leader's commit after the new term: %v; want store.ErrFenced", err)
	}
	if _, err := b.SessionRow(ctx, "s2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the fenced commit left its session: %v", err)
	}
	if _, err := b.SessionRow(ctx, "s1"); err != nil {
		t.Fatalf("the commit made under the old term is gone: %v", err)
	}
	select {
	case <-la.Lost():
		t.Logf("old leader told: %v", la.Err())
	case <-time.After(5 * time.Second):
		t.Fatal("the old leader was not told that its lease is gone")
	}
	if err := b.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: late}}); err != nil {
		t.Fatalf("the new leader's commit (term %d): %v", lb.Term(), err)
	}
}

// A node waiting for a held lease asks on one connection, not on a new
// one (a new PostgreSQL server process) at every try.
func TestWaitingForTheLeaseKeepsOneConnection(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := openStore(t, dsn), openStore(t, dsn)
	if _, err := acquire(t, dsn, "node-a", a, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tries := 0
	o := fast
	o.OnWait = func(error) { tries++ }
	done := make(chan struct{})
	go func() { defer close(done); _, _ = cluster.Acquire(ctx, dsn, "node-b", b, o) }()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pids, seen := map[int32]bool{}, 0
	time.Sleep(100 * time.Millisecond) // connected
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		var pid int32
		if conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
WHERE application_name = 'switchboard lease node-b' AND datname = current_database()`).Scan(&pid) == nil {
			pids[pid] = true
			seen++
		}
	}
	cancel()
	<-done
	if tries < 5 || seen != 10 || len(pids) != 1 {
		t.Fatalf("%d tries; the waiting node's connection seen %d times of 10, over %d server processes; want one connection, always there",
			tries, seen, len(pids))
	}
}
