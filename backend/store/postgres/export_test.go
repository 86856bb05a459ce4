package postgres

import (
	"context"
	"testing"
)

// SynchronousCommit is the setting on one of the store's connections.
func (s *Store) SynchronousCommit(ctx context.Context, t testing.TB) string {
	t.Helper()
	var v string
	if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
