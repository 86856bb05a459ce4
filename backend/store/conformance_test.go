package store_test

import (
	"path/filepath"
	"testing"

	"switchboard/backend/store"
	"switchboard/backend/store/storetest"
)

// TestConformance runs the store suite on SQLite files.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Opener{
		Open: func(t testing.TB) (store.Store, storetest.Reopen) {
			path := filepath.Join(t.TempDir(), "switchboard.db")
			reopen := func(t testing.TB) store.Store { return openSQLite(t, path) }
			return reopen(t), reopen
		},
		Restore: func(t testing.TB, path string) store.Store { return openSQLite(t, path) },
	})
}

func openSQLite(t testing.TB, path string) store.Store {
	t.Helper()
	s, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
