// Package cluster lets several relays share one PostgreSQL database with
// exactly one of them running the desk at a time.
//
// The desk's leader holds a lease: a PostgreSQL session-level advisory lock
// on a connection of its own, which the database gives to one session at a
// time and releases when that session ends (the process died, the network
// dropped it, the node let go). On taking the lock a node bumps the term in
// the cluster_term row and fences its store with it: every commit checks the
// term inside its transaction, so a node that lost the lease without
// noticing yet cannot commit anything after its successor took over.
//
// The lock was chosen over a NATS JetStream KV entry with a TTL because the
// thing it guards is the PostgreSQL commit: the database that refuses a stale
// term is the same one that hands out the lock, so no clock or second system
// decides who may write.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaseKey is the advisory lock's key: a fixed number other programs on the
// same database are unlikely to use ("swld" in ASCII), and not the store's
// migration lock ("swbd").
const leaseKey int64 = 0x73776c64

// Fencer is the store side of the lease (postgres.Store): it bumps the term
// and refuses commits made under another one.
type Fencer interface {
	TakeTerm(ctx context.Context, holder string) (int64, error)
	Fence(term int64)
}

// LeaseOptions tune how fast a lease is taken and how fast its loss is seen.
type LeaseOptions struct {
	// Poll is how often a node waiting for the lease asks for it.
	Poll time.Duration
	// Check is how often the holder checks that its lock connection is alive
	// and the term is still its own; CheckTimeout bounds each check.
	Check        time.Duration
	CheckTimeout time.Duration
	// KeepAlive is the TCP keepalive of the lock connection on both ends: it
	// bounds how long PostgreSQL keeps the lock of a node that vanished from
	// the network without closing its connection.
	KeepAlive time.Duration
	// OnWait, if set, hears after each try that did not get the lease: a
	// *HeldError when another node holds it, else what went wrong (the
	// database is unreachable, say), for the node's health endpoint.
	OnWait func(err error)
}

func (o LeaseOptions) withDefaults() LeaseOptions {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Check <= 0 {
		o.Check = time.Second
	}
	if o.CheckTimeout <= 0 {
		// Generous: a check that times out ends the lock connection, and a
		// leader starved of CPU for a moment must not give the desk up.
		o.CheckTimeout = 5 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 2 * time.Second
	}
	return o
}

// Lease is a held lease. Lost is closed when it is gone; the holder must then
// stop acknowledging anything (its store is fenced already).
type Lease struct {
	conn   *pgx.Conn
	term   int64
	holder string
	opts   LeaseOptions
	lost   chan struct{}
	why    error
	stop   chan struct{}
	done   chan struct{}
}

// Acquire waits until this node holds the desk's lease or ctx ends, then
// takes the next term through f and fences f with it. It asks on one
// connection, kept between tries (each new connection is a server process
// on PostgreSQL's side), and connects afresh only after it broke.
func Acquire(ctx context.Context, dsn, holder string, f Fencer, o LeaseOptions) (*Lease, error) {
	o = o.withDefaults()
	cfg, err := leaseConfig(dsn, holder, o)
	if err != nil {
		return nil, err
	}
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		if conn == nil {
			conn, err = connect(ctx, cfg, o)
		}
		if conn != nil {
			var l *Lease
			if l, err = tryAcquire(ctx, conn, holder, f, o); l != nil {
				conn = nil // the lease's now
				return l, nil
			}
			if !errors.Is(err, errHeld) {
				conn.Close(context.Background())
				conn = nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if o.OnWait != nil {
			o.OnWait(err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(o.Poll):
		}
	}
}

// errHeld says that another node holds the lease.
var errHeld = errors.New("cluster: the lease is held by another node")

// HeldError names the node that holds the lease, as far as the database
// knows (the holder of the newest term).
type HeldError struct {
	Holder string
	Term   int64
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("cluster: the lease is held by %s (term %d)", e.Holder, e.Term)
}

func (e *HeldError) Unwrap() error { return errHeld }

// leaseConfig is the lock connection's configuration: TCP keepalives on
// both ends bound how long the server keeps the lock of a vanished node.
func leaseConfig(dsn, holder string, o LeaseOptions) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("cluster: database address: %w", err)
	}
	d := &net.Dialer{Timeout: o.CheckTimeout, KeepAlive: o.KeepAlive}
	cfg.DialFunc = d.DialContext
	secs := fmt.Sprint(max(1, int(o.KeepAlive/time.Second)))
	cfg.RuntimeParams["tcp_keepalives_idle"] = secs
	cfg.RuntimeParams["tcp_keepalives_interval"] = secs
	cfg.RuntimeParams["tcp_keepalives_count"] = "2"
	cfg.RuntimeParams["application_name"] = "switchboard lease " + holder
	return cfg, nil
}

func connect(ctx context.Context, cfg *pgx.ConnConfig, o LeaseOptions) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, o.CheckTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect for the lease: %w", err)
	}
	return conn, nil
}

// tryAcquire asks for the lock once on conn. With it, it takes a term and
// the returned Lease owns conn; a *HeldError leaves conn usable for the
// next try; any other error leaves it to be closed.
func tryAcquire(ctx context.Context, conn *pgx.Conn, holder string, f Fencer, o LeaseOptions) (*Lease, error) {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", leaseKey).Scan(&ok); err != nil {
		return nil, fmt.Errorf("cluster: ask for the lease: %w", err)
	}
	if !ok {
		held := &HeldError{}
		// Best effort: a database without the row yet names nobody.
		_ = conn.QueryRow(ctx, "SELECT holder, term FROM cluster_term WHERE id = 1").Scan(&held.Holder, &held.Term)
		return nil, held
	}
	term, err := f.TakeTerm(ctx, holder)
	if err != nil {
		// Not a HeldError: the caller closes conn, which releases the lock.
		return nil, fmt.Errorf("cluster: take a term: %w", err)
	}
	f.Fence(term)
	l := &Lease{conn: conn, term: term, holder: holder, opts: o,
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// Term is the term this lease fenced its store with.
func (l *Lease) Term() int64 { return l.term }

// Lost is closed when the lease is gone (Err says why) or released.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err says why the lease was lost; nil while it is held or after Release.
func (l *Lease) Err() error {
	select {
	case <-l.lost:
		return l.why
	default:
		return nil
	}
}

// Release gives the lease up: the next node may take it at once.
func (l *Lease) Release() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// watch checks the lock connection until it fails, the term moves on, or
// the lease is released; then it closes the connection (freeing the lock if
// the database still holds it) and Lost.
func (l *Lease) watch() {
	defer close(l.done)
	t := time.NewTicker(l.opts.Check)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.end(nil)
			return
		case <-t.C:
			if err := l.check(); err != nil {
				l.end(err)
				return
			}
		}
	}
}

func (l *Lease) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CheckTimeout)
	defer cancel()
	var term int64
	if err := l.conn.QueryRow(ctx, "SELECT term FROM cluster_term WHERE id = 1").Scan(&term); err != nil {
		return fmt.Errorf("cluster: lease connection: %w", err)
	}
	if term != l.term {
		return fmt.Errorf("cluster: term %d taken over by term %d", l.term, term)
	}
	return nil
}

func (l *Lease) end(why error) {
	l.why = why
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CheckTimeout)
	_ = l.conn.Close(ctx)
	cancel()
	close(l.lost)
}
