package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"switchboard/backend/chat"

	// Channel time zones must resolve on minimal systems without
	// /usr/share/zoneinfo (containers, Windows).
	_ "time/tzdata"
)

// SQLite is the Store on one SQLite file (pure Go, WAL).
//
// Two database/sql handles share the file: w has exactly one connection and
// takes every write, so writes are serialised in this process without lock
// contention and Apply's statements stay prepared on that one connection
// (writeconn.go); r is a pool for reads, which in WAL mode never wait for
// the writer. Another process (an admin command) may write to the same file
// at the same time: writes begin IMMEDIATE and wait up to busyTimeout for
// each other.
//
// Times are stored as Unix nanoseconds in INTEGER columns, the zero time as
// 0, so every time.Time within years 1678..2262 comes back Equal to what was
// stored (in UTC, without monotonic reading). Durations of channels are
// stored in whole milliseconds, as the column names say.
//
// Session logs are laid out for group commits over many chats: see log.go.
type SQLite struct {
	w    *sql.DB
	r    *sql.DB
	path string
	st   *writeStmts

	applyMu sync.Mutex
	logs    logCache // under applyMu
	applier applier  // under applyMu: buffers reused by each Apply

	stop      chan struct{} // closed by Close: the checkpoint loop ends
	stopped   chan struct{} // closed by the checkpoint loop when it ends
	closeOnce sync.Once
	// checkpoints counts the background checkpoints done, for tests.
	checkpoints atomic.Int64
}

var _ Store = (*SQLite)(nil)

var useFdatasync sync.Once

// busyTimeout is how long a connection waits for another one's lock (another
// process writing, or a checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the database at path and brings its
// schema up to date, with the default memory settings.
func OpenSQLite(path string) (*SQLite, error) { return OpenSQLiteWith(path, Options{}) }

// OpenSQLiteWith is OpenSQLite with memory settings.
func OpenSQLiteWith(path string, o Options) (*SQLite, error) {
	o = o.withDefaults()
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	useFdatasync.Do(func() {
		// fdatasync is as durable as fsync for SQLite's files and skips the
		// timestamp update, which on ext4 is often what a commit waits for.
		// Native SQLite builds on Linux use it; the switch is process-wide.
		sqlite.Fdatasync(true) // unavailable on some systems: fsync stays
	})
	if strings.ContainsAny(path, "?#") {
		// The driver splits its DSN at the first '?'.
		return nil, fmt.Errorf("store: database path %q must not contain '?' or '#'", path)
	}
	if err := createPrivate(path, false); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	// synchronous=FULL: a commit has reached the disk when Apply returns, and
	// the relay acknowledges messages only after that.
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(FULL)")
	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	wq.Add("_pragma", fmt.Sprintf("cache_size(-%d)", o.CacheKiB))
	wq.Add("_pragma", "temp_store(memory)")
	wq.Set("_txlock", "immediate")

	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	ctx := context.Background()
	// WAL mode is kept in the file, so readers opened later find it on.
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		if err == nil {
			err = fmt.Errorf("journal mode is %q", mode)
		}
		return nil, diagnose(path, fmt.Errorf("store: WAL mode: %w", err))
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, diagnose(path, err)
	}

	rq := url.Values{}
	for k, v := range common {
		rq[k] = append([]string(nil), v...)
	}
	rq.Add("_pragma", fmt.Sprintf("cache_size(-%d)", o.ReaderCacheKiB))
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(readers())
	r.SetMaxIdleConns(readers())

	s := &SQLite{w: w, r: r, path: path, st: newWriteStmts(), logs: logCache{states: make(map[chat.SessionID]*logState)},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.st.prepare(ctx, w); err != nil {
		close(s.stopped)
		s.Close()
		return nil, diagnose(path, err)
	}
	go s.checkpointLoop()
	return s, nil
}

// readers is the size of the pool of read connections.
func readers() int { return max(4, runtime.NumCPU()) }

// Checkpoints copy committed pages from the WAL into the database file.
// SQLite has the writer do it after the commit that takes the WAL past 1000
// pages: that commit's Apply then waits for the copy and an fsync of the
// database. A passive checkpoint on a reader connection every so often does
// most of that copying without holding up commits, so the writer's own
// checkpoint finds little left to do (it still restarts the WAL from its
// beginning, which only the writer can).
const checkpointEvery = 100 * time.Millisecond

func (s *SQLite) checkpointLoop() {
	defer close(s.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// A failure (the database busy, say) is retried next tick; the
			// writer's own checkpoints keep the WAL bounded meanwhile.
			var busy, frames, copied int
			if err := s.r.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err == nil {
				s.checkpoints.Add(1)
			}
		}
	}
}

// Close closes both handles. The writer goes last: the last connection to
// close checkpoints the WAL into the main file.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.stopped
	s.st.close(s.w)
	return errors.Join(s.r.Close(), s.w.Close())
}

// --- conversions ---------------------------------------------------------

// nanos stores a time; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is nanos' inverse: 0 is the zero time, others are UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func parseState(s string) chat.State {
	switch s {
	case "queued":
		return chat.Queued
	case "active":
		return chat.Active
	case "ended":
		return chat.Ended
	}
	return 0
}

func parseTransferState(s string) chat.TransferState {
	for st := chat.TransferPending; st <= chat.TransferVoided; st++ {
		if st.String() == s {
			return st
		}
	}
	return 0
}

// isUnique reports a violated UNIQUE or PRIMARY KEY constraint.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports a violated FOREIGN KEY constraint.
func isForeignKey(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
