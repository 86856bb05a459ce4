package postgres_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/store"
	"switchboard/backend/store/pgtest"
	"switchboard/backend/store/postgres"
)

func startDB(t testing.TB) string { return pgtest.Start(t) }

// execSQL runs SQL on dsn directly, as an operator or another program would.
func execSQL(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	must(t, err)
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

// TestNodesStartingAtOnceMigrateOnce: several nodes opening a fresh
// database at the same moment all come up on the same, complete schema.
func TestNodesStartingAtOnceMigrateOnce(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	const nodes = 6
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(ctx, dsn)
		}()
	}
	wg.Wait()
	var want int
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		defer s.Close()
		v, err := s.SchemaVersion(ctx)
		must(t, err)
		if i == 0 {
			want = v
		}
		if v != want || v == 0 {
			t.Fatalf("node %d sees schema %d, node 0 %d", i, v, want)
		}
	}
	if v, err := stores[0].DirectoryVersion(ctx); err != nil || v != 1 {
		t.Fatalf("directory version %d %v: the first step ran more than once?", v, err)
	}
}

// TestSchemaNewerRefused: a database migrated by a newer program is not
// opened by an older one.
func TestSchemaNewerRefused(t *testing.T) {
	dsn := startDB(t)
	s := open(t, dsn)
	v, err := s.SchemaVersion(context.Background())
	must(t, err)
	s.Close()
	execSQL(t, dsn, `UPDATE schema_version SET version = version + 1`)
	s2, err := postgres.Open(context.Background(), dsn)
	if err == nil {
		s2.Close()
		t.Fatal("a newer schema was opened")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error does not say why: %v", err)
	}
	_ = v
}

// TestCommitsStayDurable: a database set to synchronous_commit = off (to
// go faster) still gets durable commits from the store.
func TestCommitsStayDurable(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	name := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
	execSQL(t, dsn, `ALTER DATABASE `+name+` SET synchronous_commit = off`)
	s := open(t, dsn)
	if got := s.SynchronousCommit(ctx, t); got != "on" {
		t.Fatalf("synchronous_commit %q on the store's connections", got)
	}
}

// TestBadAddresses: an address that is not one, or a server that is not
// there, is a clear error, not a panic or a hang.
func TestBadAddresses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, dsn := range []string{"", "postgres://%zz", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"} {
		s, err := postgres.Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Fatalf("%q opened", dsn)
		}
		if !strings.HasPrefix(err.Error(), "postgres: ") {
			t.Errorf("%q: %v", dsn, err)
		}
	}
}

// TestCrashLosesNothingCommitted: what Apply returned for survives the
// server's crash (pg_ctl stop -m immediate) and restart, and the store
// works again once the server is back.
func TestCrashLosesNothingCommitted(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	s := open(t, dsn)
	must(t, s.Apply(ctx, []chat.Effect{session("s"), line("s", 1), line("s", 2)}))
	pgtest.Stop(t)
	// Both the connections the pool holds (broken now) and new ones fail,
	// with a cause the relay can show instead of server addresses.
	for range 3 {
		err := s.Apply(ctx, []chat.Effect{line("s", 3)})
		if err == nil {
			t.Fatal("an apply succeeded with the server down")
		}
		if why := store.WriteFailure(err); why != "cannot reach the database server" {
			t.Fatalf("failure named %q: %v", why, err)
		}
		err = s.WriteProbe(ctx)
		if why := store.WriteFailure(err); why != "cannot reach the database server" {
			t.Fatalf("write probe: failure named %q: %v", why, err)
		}
	}
	pgtest.Resume(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.WriteProbe(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	es, err := open(t, dsn).Entries(ctx, "s", 0, 0)
	must(t, err)
	if len(es) != 2 {
		t.Fatalf("entries after the crash: %+v", es)
	}
	must(t, s.Apply(ctx, []chat.Effect{line("s", 3)}))
	if _, err := s.Entries(ctx, "s", 0, 0); errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestBackupTakesPgxAddresses: an address with a password and pgx's own
// parameters (which pg_dump refuses) still backs up.
func TestBackupTakesPgxAddresses(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	dsn = strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:s3cret@", 1) + "&pool_max_conns=3&statement_cache_capacity=64"
	s := open(t, dsn)
	must(t, s.Apply(ctx, []chat.Effect{session("s"), line("s", 1)}))
	path := filepath.Join(t.TempDir(), "dump")
	must(t, s.Backup(ctx, path))
	if st, err := os.Stat(path); err != nil || st.Size() == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("dump: %v %v", st, err)
	}
}
