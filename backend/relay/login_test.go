package relay

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// The throttle's arithmetic and its memory bound, without a relay.
func TestLoginThrottleDelaysAndMemory(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LoginFreeFailures, cfg.LoginDelay, cfg.LoginMaxDelay = 3, time.Second, 10*time.Second
	cfg.LoginForget, cfg.LoginTrack = time.Minute, 100
	th := newLoginThrottle(cfg)
	now := time.Unix(1_000_000, 0)

	// Free failures, then waits of 1, 2, 4, 8, 10, 10 s.
	for i, want := range []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if wait, ok := th.admit(now, "198.51.100.7", "anna"); !ok {
			t.Fatalf("attempt %d refused, wait %v", i+1, wait)
		}
		th.failed(now, "198.51.100.7", "anna")
		wait, ok := th.admit(now, "203.0.113.1", "anna") // another address: the login waits
		if ok {
			th.released("203.0.113.1", "anna")
		}
		if got := map[bool]time.Duration{true: 0, false: wait}[ok]; got != want {
			t.Fatalf("after failure %d: wait %v, want %v", i+1, got, want)
		}
		now = now.Add(want)
	}
	// A success clears the login, not the address.
	th.succeeded("192.0.2.1", "anna")
	if _, ok := th.admit(now, "203.0.113.1", "anna"); !ok {
		t.Fatal("the login still waits after a success")
	}
	th.released("203.0.113.1", "anna")
	th.failed(now, "198.51.100.7", "bob")
	if _, ok := th.admit(now, "198.51.100.7", "carl"); ok {
		t.Fatal("the guessing address got a free attempt")
	}
	// Idle records are forgotten.
	now = now.Add(2 * time.Minute)
	if _, ok := th.admit(now, "198.51.100.7", "bob"); !ok {
		t.Fatal("an idle address is still throttled")
	}
	th.released("198.51.100.7", "bob")
	// Many addresses and logins: never more than LoginTrack of each.
	for i := range 1000 {
		th.failed(now, fmt.Sprintf("10.0.%d.%d", i/256, i%256), fmt.Sprint("login", i))
	}
	if len(th.byAddr) > cfg.LoginTrack || len(th.byName) > cfg.LoginTrack {
		t.Fatalf("%d addresses and %d logins remembered; at most %d", len(th.byAddr), len(th.byName), cfg.LoginTrack)
	}
	// Attempts in flight count for a login: of many at once at one login
	// (from many addresses), only the free ones and one more get to the
	// password check.
	admitted := 0
	for i := range 50 {
		if _, ok := th.admit(now, fmt.Sprintf("192.0.2.%d", i), "dora"); ok {
			admitted++
		}
	}
	if admitted != cfg.LoginFreeFailures+1 {
		t.Fatalf("%d concurrent attempts at one login admitted; want %d", admitted, cfg.LoginFreeFailures+1)
	}
	// Not for an address: an office signs many agents in at once.
	for i := range 50 {
		if _, ok := th.admit(now, "198.18.0.1", fmt.Sprint("agent", i)); !ok {
			t.Fatalf("sign-in %d of an office's agents at once refused", i+1)
		}
	}
	// A settled record leaves memory.
	th.released("192.0.2.98", "x")
	if _, ok := th.admit(now, "192.0.2.98", "solo"); !ok {
		t.Fatal("a fresh address refused")
	}
	th.succeeded("192.0.2.98", "solo")
	if _, kept := th.byAddr["192.0.2.98"]; kept {
		t.Fatal("an address with no failure is still remembered after its success")
	}

	// IPv6 counts by /64.
	if addrKey(netip.MustParseAddr("2001:db8::1")) != addrKey(netip.MustParseAddr("2001:db8::ffff:1")) {
		t.Fatal("one /64 counted as two clients")
	}
}
