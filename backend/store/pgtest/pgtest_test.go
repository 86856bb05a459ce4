package pgtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestStartGivesFreshDatabases: each call is a database of its own, empty,
// with fsync on; after Restart the cluster serves again and keeps what was
// committed.
func TestStartGivesFreshDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("the same database twice: %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Exec(ctx, `CREATE TABLE x (v int); INSERT INTO x VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := ca.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "on" {
		t.Fatalf("fsync %q %v", fsync, err)
	}
	ca.Close(ctx)
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'x'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("second database not empty: %d %v", n, err)
	}
	cb.Close(ctx)

	Restart(t)
	ca, err = pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	var v int
	if err := ca.QueryRow(ctx, `SELECT v FROM x`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("after restart: %d %v", v, err)
	}
}

// TestOrphansAreReaped: the cluster of a test process that died without
// Main's clean-up is stopped and removed by the next one.
func TestOrphansAreReaped(t *testing.T) {
	if get(t) == nil {
		t.Skip()
	}
	// A process that has exited: its pid is free.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := &cluster{bin: shared.bin, runAs: shared.runAs}
	c, err, _ := newCluster()
	if err != nil {
		t.Fatal(err)
	}
	dead.dir = c.dir
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.reapOrphans()
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Fatalf("orphan's directory left: %v", err)
	}
	if _, err := os.Stat(shared.dir); err != nil {
		t.Fatalf("the live cluster was reaped: %v", err)
	}
	if out, err := dead.run("pg_ctl", "status", "-D", dead.data()); err == nil {
		t.Fatalf("orphan's server still running: %s", out)
	}
}
