package relay

import (
	"net/netip"
	"sync"
	"time"

	"switchboard/backend/protocol"
)

// Limits per client address: what one anonymous source can make the relay
// hold or do. An IPv6 client usually holds a whole /64, so IPv6 addresses
// count by their /64; IPv4 addresses count one by one.

// addrKey is the unit limits and sign-in throttling count by: counting each
// IPv6 address alone would let one host (which holds a whole /64) guess or
// connect freely.
func addrKey(a netip.Addr) netip.Prefix {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p
	}
	p, _ := a.Prefix(a.BitLen())
	return p
}

// addrConns counts live websocket connections per address.
type addrConns struct {
	mu sync.Mutex
	n  map[netip.Prefix]int
}

// acquire counts one more connection of a, unless it already has limit
// (0: no limit).
func (c *addrConns) acquire(a netip.Addr, limit int) bool {
	k := addrKey(a)
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit > 0 && c.n[k] >= limit {
		return false
	}
	if c.n == nil {
		c.n = make(map[netip.Prefix]int)
	}
	c.n[k]++
	return true
}

func (c *addrConns) release(a netip.Addr) {
	k := addrKey(a)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k]--; c.n[k] <= 0 {
		delete(c.n, k)
	}
}

// maxTrackedAddrs bounds the buckets held at once. It is reached only when
// that many addresses started chats within the refill time; new addresses
// are then refused until old buckets refill and are forgotten.
const maxTrackedAddrs = 100_000

// addrBuckets is a token bucket per address: perMinute tokens a minute, at
// most perMinute saved up. A bucket that has refilled is the same as none,
// so idle addresses are forgotten and memory follows the addresses active
// within the last minute.
type addrBuckets struct {
	mu        sync.Mutex
	perMinute float64
	m         map[netip.Prefix]*bucket
	swept     time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes a token of a's bucket; false when it is empty. A zero rate
// allows everything.
func (b *addrBuckets) allow(a netip.Addr, now time.Time) bool {
	if b.perMinute <= 0 {
		return true
	}
	k := addrKey(a)
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) >= time.Minute || len(b.m) >= maxTrackedAddrs {
		b.sweep(now)
	}
	bk := b.m[k]
	if bk == nil {
		if len(b.m) >= maxTrackedAddrs {
			return false
		}
		if b.m == nil {
			b.m = make(map[netip.Prefix]*bucket)
		}
		bk = &bucket{tokens: b.perMinute, at: now}
		b.m[k] = bk
	}
	bk.tokens = min(b.perMinute, bk.tokens+now.Sub(bk.at).Minutes()*b.perMinute)
	bk.at = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// sweep forgets the buckets that have refilled. Caller holds b.mu.
func (b *addrBuckets) sweep(now time.Time) {
	b.swept = now
	for k, bk := range b.m {
		if bk.tokens+now.Sub(bk.at).Minutes()*b.perMinute >= b.perMinute {
			delete(b.m, k)
		}
	}
}

func (b *addrBuckets) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// allowStart checks a visitor's chat start or offline submission against
// the per-address rate; the refusal says what to do.
func (c *conn) allowStart() *protocol.Error {
	if c.srv.starts.allow(c.ip, c.srv.now()) {
		return nil
	}
	return rateLimited(time.Duration(float64(time.Minute)/max(c.srv.cfg.StartsPerMinute, 1)),
		"too many chats or messages from your address; wait a minute and try again")
}

// closeIfNoChat closes a visitor connection that has not started or resumed
// a chat within VisitorIdle of connecting: an open widget costs a
// connection, and an address's connections are capped, but idle ones must
// not pile up forever. The widget reconnects when the visitor comes back.
func (c *conn) closeIfNoChat() {
	s := c.srv
	s.mu.Lock()
	idle := c.role == protocol.RoleVisitor && c.session == ""
	s.mu.Unlock()
	if idle {
		c.closeWith(protocol.CloseNoChat, "no chat started")
	}
}
