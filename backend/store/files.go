package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// fileMode is the mode of every file the store creates: the database holds
// every chat and token hash, and is nobody else's to read. SQLite creates
// the -wal and -shm files with the database file's mode, so creating that
// one private makes all three private.
const fileMode fs.FileMode = 0o600

// createPrivate creates path with fileMode if it does not exist yet. The
// mode is set by chmod after the create, so that it does not depend on the
// process umask. An existing file is left as it is (its owner chose its
// mode); exclusive refuses an existing file instead.
func createPrivate(path string, exclusive bool) error {
	flags := os.O_RDWR | os.O_CREATE | os.O_EXCL
	f, err := os.OpenFile(path, flags, fileMode)
	if errors.Is(err, fs.ErrExist) && !exclusive {
		return nil
	}
	if err != nil {
		return err
	}
	err = errors.Join(f.Chmod(fileMode), f.Close())
	if err != nil {
		os.Remove(path)
	}
	return err
}

// probeBytes is what one WriteProbe writes: about a busy group commit's
// worth, so that a probe does not pass on the few pages a nearly full disk
// still takes while the commits that follow fail.
const probeBytes = 32 << 10

// WriteProbe makes one durable write (a heartbeat row in meta, rewritten),
// so that the caller learns whether the database takes writes now: a full
// disk or a read-only file fails it as it fails a commit.
func (s *SQLite) WriteProbe(ctx context.Context) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	_, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('write_probe', zeroblob(?1))
ON CONFLICT (key) DO UPDATE SET value = zeroblob(?1)`, probeBytes)
	if err != nil {
		s.reconnect()
		return diagnose(s.path, fmt.Errorf("store: write probe: %w", err))
	}
	// The row may fit in log pages SQLite already holds on a disk with no
	// room for the commits that follow; new blocks beside it tell.
	if err := scratchWrite(filepath.Dir(s.path), probeBytes); err != nil {
		why := cause(err, filepath.Dir(s.path))
		if why == "" {
			why = "I/O error"
		}
		return &writeError{reason: why, err: fmt.Errorf("store: write probe: %w", err)}
	}
	return nil
}

// reconnect closes the idle connections, so that the next ones open the
// files afresh: SQLite opens a database read-only when its filesystem is,
// shares that among the process's connections, and stays read-only after
// the filesystem is remounted writable. Apply's statements are closed first:
// a connection with statements left open stays open after its Close, and
// with it the read-only file. The caller holds applyMu.
func (s *SQLite) reconnect() {
	s.st.close(s.w)
	// A new connection's data_version starts afresh: what Apply keeps
	// between batches is read again rather than trusted.
	s.logs.forget()
	s.w.SetMaxIdleConns(0)
	s.w.SetMaxIdleConns(1)
	s.r.SetMaxIdleConns(0)
	s.r.SetMaxIdleConns(readers())
}

// writeError is a failed write with what the store found to be its cause.
type writeError struct {
	reason string
	err    error
}

func (e *writeError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// diagnose wraps a failed write with its likely cause. SQLite reports a
// file that became read-only, or an I/O error, in general terms; creating a
// file beside the database tells a read-only filesystem, a full disk and a
// missing permission apart.
func diagnose(path string, err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
		if r := dirWritable(filepath.Dir(path)); r != "" {
			return &writeError{reason: r, err: err}
		}
	}
	return err
}

// dirWritable tries to create and write a small file in dir; "" if it
// can, else why not.
func dirWritable(dir string) string {
	// An empty file may fit on a full disk; a page of data does not.
	if err := scratchWrite(dir, 4096); err != nil {
		return cause(err, dir)
	}
	return ""
}

// scratchWrite writes n bytes to a new file in dir, syncs and removes it.
func scratchWrite(dir string, n int) error {
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, n))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// cause names why a write in dir failed, or "" when it is none of the
// usual ones.
func cause(err error, dir string) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "filesystem is read-only"
	case errors.Is(err, syscall.ENOSPC):
		return "disk full"
	case errors.Is(err, fs.ErrPermission):
		return "no permission to write in " + dir
	}
	return ""
}

// WriteFailure names, in a few words, why a write failed: what an operator
// should look at first. Errors it does not know are described by their text.
func WriteFailure(err error) string {
	var we *writeError
	if errors.As(err, &we) {
		return we.reason
	}
	// Other stores (PostgreSQL) name their own causes.
	var named interface{ WriteFailure() string }
	if errors.As(err, &named) {
		if r := named.WriteFailure(); r != "" {
			return r
		}
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff { // the primary code; extended codes add detail
		case sqlite3.SQLITE_FULL:
			return "disk full"
		case sqlite3.SQLITE_READONLY:
			return "database is read-only"
		case sqlite3.SQLITE_IOERR:
			return "I/O error"
		case sqlite3.SQLITE_CANTOPEN:
			return "cannot open the database file"
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "database is locked by another process"
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "write timed out"
	case err == nil:
		return ""
	}
	return err.Error()
}
