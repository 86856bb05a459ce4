package main

import (
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// hist is a concurrent latency histogram: log-linear buckets (64 per power
// of two, so any value is within 1.6% of its bucket's floor), updated with
// atomics by every receiver at once.
type hist struct {
	b   [histBuckets]atomic.Int64
	n   atomic.Int64
	max atomic.Int64
}

const histBuckets = 64 * 40

func bucketOf(ns int64) int {
	v := uint64(max(ns, 0))
	if v < 128 {
		return int(v)
	}
	e := bits.Len64(v) - 7 // v>>e is in [64, 128)
	return min(e*64+int(v>>e), histBuckets-1)
}

func bucketFloor(i int) int64 {
	if i < 128 {
		return int64(i)
	}
	e := (i - 64) / 64
	m := i - e*64
	return int64(m) << e
}

func (h *hist) record(d time.Duration) {
	ns := int64(d)
	h.b[bucketOf(ns)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// histSnap is a point-in-time copy, for windows (progress lines) and summaries.
type histSnap struct {
	b   []int64
	n   int64
	max time.Duration
}

func (h *hist) snap() histSnap {
	s := histSnap{b: make([]int64, histBuckets), n: h.n.Load(), max: time.Duration(h.max.Load())}
	for i := range s.b {
		s.b[i] = h.b[i].Load()
	}
	return s
}

// sub is what was recorded between an earlier snapshot and this one (its max
// is the whole run's).
func (s histSnap) sub(old histSnap) histSnap {
	out := histSnap{b: make([]int64, histBuckets), n: s.n - old.n, max: s.max}
	for i := range s.b {
		out.b[i] = s.b[i] - old.b[i]
	}
	return out
}

func (s histSnap) quantile(q float64) time.Duration {
	var total int64
	for _, c := range s.b {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := int64(q*float64(total-1)) + 1
	var seen int64
	for i, c := range s.b {
		seen += c
		if seen >= rank {
			return time.Duration(bucketFloor(i))
		}
	}
	return s.max
}

// codes counts errors by code (relay error codes and the client's own:
// dial, closed, timeout, ...).
type codes struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *codes) add(code string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[code]++
	c.mu.Unlock()
}

func (c *codes) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

func (c *codes) total() int64 {
	var n int64
	for _, v := range c.snapshot() {
		n += v
	}
	return n
}

// bitset records which message numbers of a chat something has seen. Each is
// written by one goroutine (a peer's reader) and read after the run.
type bitset struct{ w []uint64 }

// set marks n and reports whether it was already marked.
func (b *bitset) set(n uint64) bool {
	i := n / 64
	for uint64(len(b.w)) <= i {
		b.w = append(b.w, 0)
	}
	m := uint64(1) << (n % 64)
	was := b.w[i]&m != 0
	b.w[i] |= m
	return was
}

func (b *bitset) has(n uint64) bool {
	i := n / 64
	return i < uint64(len(b.w)) && b.w[i]&(1<<(n%64)) != 0
}

// each calls f for every marked number.
func (b *bitset) each(f func(n uint64)) {
	for i, w := range b.w {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			f(uint64(i*64 + t))
			w &^= 1 << t
		}
	}
}

func (b *bitset) count() int {
	n := 0
	for _, w := range b.w {
		n += bits.OnesCount64(w)
	}
	return n
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
