package relay

import (
	"net/netip"
	"testing"
	"time"
)

func TestAddrBucketsRefillAndForgetIdleAddresses(t *testing.T) {
	t.Parallel()
	b := addrBuckets{perMinute: 2}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	a := netip.MustParseAddr("198.51.100.1")
	if !b.allow(a, t0) || !b.allow(a, t0) || b.allow(a, t0) {
		t.Fatal("want two starts, then a refusal")
	}
	if !b.allow(a, t0.Add(30*time.Second)) || b.allow(a, t0.Add(30*time.Second)) {
		t.Fatal("half a minute refills one start")
	}
	// Memory follows the addresses active within the last minute.
	for i := 0; i < 1000; i++ {
		b.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0.Add(30*time.Second))
	}
	if n := b.len(); n != 1001 {
		t.Fatalf("%d buckets", n)
	}
	b.allow(netip.MustParseAddr("203.0.113.1"), t0.Add(2*time.Minute))
	if n := b.len(); n != 1 {
		t.Fatalf("%d buckets after every other address went idle; want 1", n)
	}
	// IPv6 addresses share their /64.
	x, y := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	b.allow(x, t0.Add(3*time.Minute))
	b.allow(x, t0.Add(3*time.Minute))
	if b.allow(y, t0.Add(3*time.Minute)) {
		t.Fatal("an address of the same /64 has its own bucket")
	}
}
