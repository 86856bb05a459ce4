// Package postgres is the Store on PostgreSQL, for several relays sharing
// one database (cluster mode). It keeps what the SQLite store keeps, with
// the same meaning: times are BIGINT Unix nanoseconds (0 for the zero
// time), durations BIGINT milliseconds, agent ids 0 for nobody, so that
// values round-trip Equal whichever store holds them.
//
// Every write is one transaction that has committed durably when the call
// returns (synchronous_commit is never off on our connections). A store
// fenced with a term (see Fence) checks the term inside each write
// transaction.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"switchboard/backend/store"

	// Channel time zones must resolve on minimal systems.
	_ "time/tzdata"
)

// Store is store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	dsn  string
	// term is the lease term this store's writes are fenced with; 0: none.
	term atomic.Int64
	// applyMu makes this process's Applies take turns, as the SQLite
	// store's single writer does: batches that lock sessions rows in
	// different orders cannot deadlock, and they commit in call order.
	applyMu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (postgres://… or key=value) and
// brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("postgres: empty database address")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: database address: %w", err)
	}
	cfg.AfterConnect = durableCommits
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, dsn: dsn}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// durableCommits makes a connection's commits wait for the WAL flush: a
// server or role configured with synchronous_commit = off would otherwise
// acknowledge commits a crash can lose. Stronger settings (remote_write,
// remote_apply) are kept.
func durableCommits(ctx context.Context, c *pgx.Conn) error {
	var v string
	if err := c.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&v); err != nil {
		return err
	}
	if v == "off" {
		_, err := c.Exec(ctx, `SET synchronous_commit = on`)
		return err
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// --- the term ------------------------------------------------------------

// TakeTerm starts a new term of the cluster lease for holder and returns
// it: the stored term goes up by one, so every store fenced with an older
// term has its writes refused from now on. The caller (the node that just
// took the lease) then fences its own store with the result.
func (s *Store) TakeTerm(ctx context.Context, holder string) (int64, error) {
	var term int64
	err := s.pool.QueryRow(ctx, `UPDATE cluster_term SET term = term + 1, holder = $1, since = $2 WHERE id = 1 RETURNING term`,
		encText(holder), time.Now().UnixNano()).Scan(&term)
	if err != nil {
		return 0, fmt.Errorf("postgres: take term: %w", err)
	}
	return term, nil
}

// Fence makes every later write of this store (Apply, WriteProbe, tokens,
// quick replies, outbox, administration) check, inside its transaction,
// that term is still the stored one, else fail with store.ErrFenced and
// keep nothing. Term 0 lifts the fence (a single node).
func (s *Store) Fence(term int64) { s.term.Store(term) }

// Term is the stored term and its holder, as of now.
func (s *Store) Term(ctx context.Context) (term int64, holder string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT term, holder FROM cluster_term WHERE id = 1`).Scan(&term, &holder)
	return term, decText(holder), err
}

// checkFence is the fence inside a write transaction. FOR SHARE makes a
// concurrent TakeTerm (an UPDATE of the row) wait for this transaction, and
// this one wait for a TakeTerm under way and then read its new term: no
// write of an old term commits after the term moved on.
func (s *Store) checkFence(ctx context.Context, tx pgx.Tx) error {
	want := s.term.Load()
	if want == 0 {
		return nil
	}
	var term int64
	if err := tx.QueryRow(ctx, sqlFence).Scan(&term); err != nil {
		return err
	}
	return fenced(term, want)
}

const sqlFence = `SELECT term FROM cluster_term WHERE id = 1 FOR SHARE`

func fenced(term, want int64) error {
	if term != want {
		return fmt.Errorf("%w (term %d, this store's %d)", store.ErrFenced, term, want)
	}
	return nil
}

// --- transactions ----------------------------------------------------------

// write runs f in a transaction behind the fence; directory writes also
// move the directory version in the same transaction.
func (s *Store) write(ctx context.Context, directory bool, f func(tx pgx.Tx) error) error {
	return named(s.writeTx(ctx, directory, f))
}

func (s *Store) writeTx(ctx context.Context, directory bool, f func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := s.checkFence(ctx, tx); err != nil {
		return keep(err)
	}
	if err := f(tx); err != nil {
		return keep(err)
	}
	if directory {
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'directory_version'`); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// keep returns the store's own errors as they are and prefixes others.
func keep(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrFenced) {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

// readTx runs f in a read-only transaction that sees one snapshot.
func (s *Store) readTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// --- conversions -----------------------------------------------------------

// nanos and fromNanos store times as the SQLite store does, so that both
// give back what they were given.
var nanos, fromNanos = store.Nanos, store.FromNanos

// PostgreSQL's text holds valid UTF-8 without NUL; a Go string may hold
// any bytes, and JSON lets a client send NUL. Text that people write is
// stored escaped, reversibly, behind U+FFFF (a noncharacter, which nobody
// types): "0" stands for NUL, "1" for U+FFFF itself, "2" and two hex
// digits for a byte that is not UTF-8. Other text is stored as it is.
const escapeRune = '\uffff'

// encText is text as stored.
func encText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && !strings.ContainsRune(s, escapeRune) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(escapeRune)
			b.WriteString("2" + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == 0:
			b.WriteRune(escapeRune)
			b.WriteByte('0')
		case r == escapeRune:
			b.WriteRune(escapeRune)
			b.WriteByte('1')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// decText is encText's inverse. What encText cannot have written is kept
// as it is.
func decText(s string) string {
	if !strings.ContainsRune(s, escapeRune) {
		return s
	}
	const esc = string(escapeRune)
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, esc)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+len(esc):]
		switch {
		case strings.HasPrefix(s, "0"):
			b.WriteByte(0)
			s = s[1:]
		case strings.HasPrefix(s, "1"):
			b.WriteString(esc)
			s = s[1:]
		case len(s) >= 3 && s[0] == '2':
			if v, err := strconv.ParseUint(s[1:3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				s = s[3:]
				continue
			}
			b.WriteString(esc)
		default:
			b.WriteString(esc)
		}
	}
}

// isCode reports a PostgreSQL error of the given SQLSTATE.
func isCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// noLimit turns the interface's "0 (or less) = all" into SQL's LIMIT NULL.
func noLimit(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	n := int64(limit)
	return &n
}
