package relay

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Password sign-ins are the one thing a stranger can make the relay spend
// real CPU on: a bcrypt comparison takes tens of milliseconds. Two guards
// keep that bounded. The throttle makes repeated failures from one address,
// or against one login, wait ever longer; the checker runs every bcrypt
// comparison in a bounded number of slots (PasswordWorkers), so sign-ins
// take at most that many cores from the chats in progress, and it refuses
// at once when too many wait.

// loginThrottle counts failed sign-ins per client address and per login.
// After LoginFreeFailures failures, each further attempt for that key must
// wait a delay that doubles with every failure, up to LoginMaxDelay; an
// attempt during the wait is refused without a password check. A success
// forgets the login's failures (not the address's: one good account must
// not reset a guesser). Records idle for LoginForget are forgotten, and at
// most LoginTrack records are kept per kind, so memory stays bounded.
type loginThrottle struct {
	free      int
	base, max time.Duration
	forget    time.Duration
	track     int

	mu     sync.Mutex
	byAddr map[string]*failures
	byName map[string]*failures
}

// failures is one address's or login's record.
type failures struct {
	n       int       // failed attempts counted
	pending int       // attempts admitted and not yet judged
	next    time.Time // no attempt before this
	last    time.Time // last seen, to forget idle records
}

func newLoginThrottle(cfg Config) *loginThrottle {
	return &loginThrottle{
		free: cfg.LoginFreeFailures, base: cfg.LoginDelay, max: cfg.LoginMaxDelay,
		forget: cfg.LoginForget, track: cfg.LoginTrack,
		byAddr: make(map[string]*failures), byName: make(map[string]*failures),
	}
}

// nameKey: logins are compared as the store would, ignoring case.
func nameKey(login string) string { return strings.ToLower(login) }

// admit says whether an attempt may go to the password check now, or how
// long it must wait. For a login, attempts still being checked count as
// failures until judged, and one past the free failures takes its next
// slot, so that guesses at one password on many connections get no more
// tries than one connection in turn. For an address they do not: an office
// behind one address signs many agents in at once, each with their own
// login. Every admitted attempt ends in exactly one of failed, succeeded
// or released.
func (t *loginThrottle) admit(now time.Time, addr, login string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, l := t.fresh(t.byAddr, addr, now), t.fresh(t.byName, login, now)
	var wait time.Duration
	for _, f := range []*failures{a, l} {
		if f != nil && now.Before(f.next) {
			wait = max(wait, f.next.Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range []struct {
		f        *failures
		inFlight bool // attempts being checked count
	}{{t.record(t.byAddr, addr, now), false}, {t.record(t.byName, login, now), true}} {
		seen := k.f.n
		if k.inFlight {
			seen += k.f.pending
		}
		if seen >= t.free {
			k.f.next = now.Add(t.delay(seen + 1))
		}
		k.f.pending++
		k.f.last = now
	}
	return 0, true
}

// addrWait is how long an address must wait before its next attempt is
// checked (0: it may try now).
func (t *loginThrottle) addrWait(now time.Time, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.byAddr[addr]; f != nil && now.Before(f.next) {
		return f.next.Sub(now)
	}
	return 0
}

// failed counts a wrong password (or unknown login) for both keys.
func (t *loginThrottle) failed(now time.Time, addr, login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range []*failures{t.record(t.byAddr, addr, now), t.record(t.byName, login, now)} {
		f.pending = max(0, f.pending-1)
		f.n++
		f.last = now
		if f.n >= t.free {
			f.next = later(f.next, now.Add(t.delay(f.n)))
		}
	}
}

// succeeded forgets a login's failures after its right password; the
// address keeps its own (one good account must not reset a guesser).
func (t *loginThrottle) succeeded(addr, login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.settle(t.byAddr, addr)
	delete(t.byName, login)
}

// released ends an admitted attempt that was not judged (the checker was
// busy, the store did not answer).
func (t *loginThrottle) released(addr, login string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.settle(t.byAddr, addr)
	t.settle(t.byName, login)
}

// settle drops one pending attempt, and the record once it holds nothing.
// Caller holds t.mu.
func (t *loginThrottle) settle(m map[string]*failures, key string) {
	if f := m[key]; f != nil {
		f.pending = max(0, f.pending-1)
		if f.n == 0 && f.pending == 0 {
			delete(m, key)
		}
	}
}

// record is a key's fresh record, made (room permitting) if it has none.
// Caller holds t.mu.
func (t *loginThrottle) record(m map[string]*failures, key string, now time.Time) *failures {
	f := t.fresh(m, key, now)
	if f == nil {
		f = &failures{}
		t.makeRoom(m, now)
		m[key] = f
	}
	return f
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// delay is the wait after the nth failure: LoginDelay at the free limit,
// doubling with each failure after it, capped.
func (t *loginThrottle) delay(n int) time.Duration {
	d := t.base
	for i := t.free; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// makeRoom keeps a map under the tracking limit: idle records go first;
// if all are fresh, an arbitrary one does (map order), which an attacker
// cannot aim. Caller holds t.mu.
func (t *loginThrottle) makeRoom(m map[string]*failures, now time.Time) {
	if len(m) < t.track {
		return
	}
	for k, f := range m {
		if now.Sub(f.last) > t.forget && now.After(f.next) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < t.track {
			return
		}
		delete(m, k)
	}
}

// fresh returns a key's record, nil if it has none or it went idle long
// enough to be forgotten. Caller holds t.mu.
func (t *loginThrottle) fresh(m map[string]*failures, key string, now time.Time) *failures {
	f := m[key]
	if f != nil && now.Sub(f.last) > t.forget && now.After(f.next) {
		delete(m, key)
		return nil
	}
	return f
}

// errBusy: every password-check slot is taken and the queue is full.
var errBusy = errors.New("too many sign-ins at once")

// passwordChecker bounds the bcrypt work: at most `slots` comparisons run
// at once, at most `queue` more wait for a slot, and anything beyond is
// refused at once. It runs the work on the caller's goroutine (the read
// pump of a connection that is not signed in yet, which has nothing else
// to do) and never under the server lock.
type passwordChecker struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
	runs    atomic.Int64 // comparisons and hashes done, for /metrics
}

func newPasswordChecker(slots, queue int) *passwordChecker {
	return &passwordChecker{slots: make(chan struct{}, max(1, slots)), queue: int64(max(0, queue))}
}

// run does f in a slot, waiting for one while the queue has room.
func (p *passwordChecker) run(ctx context.Context, f func()) error {
	if p.waiting.Add(1) > p.queue+int64(cap(p.slots)) {
		p.waiting.Add(-1)
		return errBusy
	}
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return errBusy
	}
	defer func() { <-p.slots }()
	p.runs.Add(1)
	f()
	return nil
}
