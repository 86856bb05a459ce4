package postgres_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"switchboard/backend/store"
	"switchboard/backend/store/pgtest"
	"switchboard/backend/store/postgres"
	"switchboard/backend/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestConformance runs the store suite on PostgreSQL, a database per test.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Opener{
		Open: func(t testing.TB) (store.Store, storetest.Reopen) {
			dsn := pgtest.Start(t)
			reopen := func(t testing.TB) store.Store { return open(t, dsn) }
			return reopen(t), reopen
		},
		Restore: func(t testing.TB, path string) store.Store {
			dsn := pgtest.Start(t)
			out, err := exec.Command(filepath.Join(pgtest.BinDir(), "pg_restore"), "--no-owner", "--exit-on-error",
				"--dbname="+dsn, path).CombinedOutput()
			if err != nil {
				t.Fatalf("pg_restore: %v\n%s", err, out)
			}
			return open(t, dsn)
		},
	})
}

// open opens a store on dsn, closed when the test ends.
func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
