package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"switchboard/backend/store"
)

// Backup writes a consistent copy of the database to path with pg_dump
// (--format=custom: pg_restore reads it), while the store stays in use:
// pg_dump reads one snapshot and writers go on. It refuses to overwrite: an
// existing path is an error wrapping ErrExists. pg_dump is found on PATH or
// beside the server binaries (pg_config --bindir, /usr/lib/postgresql/N/bin);
// it must be at least the server's major version.
func (s *Store) Backup(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("postgres: backup: empty path")
	}
	pgDump := findPgDump()
	if pgDump == "" {
		return errors.New("postgres: backup: pg_dump not found (install the PostgreSQL client, e.g. the Debian postgresql-client package)")
	}
	// Private from the start: the copy holds every chat and token hash.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("postgres: backup %s: %w", path, store.ErrExists)
	case err != nil:
		return fmt.Errorf("postgres: backup: %w", err)
	}
	f.Close()
	dsn, password := dumpAddress(s.dsn)
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--file="+path, "--dbname="+dsn)
	// The password goes by the environment, not the command line others see.
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.Remove(path)
		return fmt.Errorf("postgres: backup %s: pg_dump: %v: %s", path, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// findPgDump finds pg_dump: on PATH, else beside the server binaries,
// newest version first.
func findPgDump() string {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if p := filepath.Join(strings.TrimSpace(string(out)), "pg_dump"); isFile(p) {
			return p
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestV := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if p := filepath.Join(d, "pg_dump"); err == nil && v > bestV && isFile(p) {
			best, bestV = p, v
		}
	}
	return best
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// dumpAddress is dsn as pg_dump takes it, and its password apart: a
// postgres:// address loses the password and the parameters only pgx knows
// (pool_max_conns and the like), which libpq refuses. Other forms are
// passed as they are.
func dumpAddress(dsn string) (string, string) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn, ""
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") || pgxOnly[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	var password string
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	return u.String(), password
}

// pgxOnly are the connection parameters pgx reads and libpq does not know.
var pgxOnly = map[string]bool{
	"statement_cache_capacity": true, "description_cache_capacity": true, "default_query_exec_mode": true,
	"min_read_buffer_size": true,
}
