package relay

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestDeliveriesKeepCommitOrder pins down the two ways a committed batch
// reaches its clients: delivered by the committer itself when nothing else
// waits, queued for the deliverer otherwise, and never overtaking a batch
// committed before it.
func TestDeliveriesKeepCommitOrder(t *testing.T) {
	var mu sync.Mutex
	var order []int
	gate := make(chan struct{})
	d := &deliveries{ch: make(chan []*job, 1)}
	d.deliver = func(b []*job) { // a batch of n jobs is batch number n
		if len(b) == 1 {
			select { // the first batch is slow to fan out
			case <-gate:
			case <-time.After(2 * time.Second):
			}
		}
		mu.Lock()
		order = append(order, len(b))
		mu.Unlock()
	}
	done := make(chan struct{})
	go func() { defer close(done); d.run() }()
	batch := func(n int) []*job { return make([]*job, n) }

	// The committer has more to commit: batch 1 goes to the deliverer,
	// which is held at the gate.
	d.handOff(batch(1), true)
	// Nothing waits now, but batch 1 is not delivered: batch 2 must queue
	// behind it rather than be delivered at once by the committer.
	d.handOff(batch(2), false)
	mu.Lock()
	early := slices.Clone(order)
	mu.Unlock()
	if len(early) != 0 {
		t.Fatalf("delivered %v while batch 1 was still being fanned out", early)
	}
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for d.pending.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the deliverer did not finish batches 1 and 2")
		}
		time.Sleep(time.Millisecond)
	}
	// Idle and nothing waiting: the committer delivers batch 3 itself, so
	// it is delivered when handOff returns.
	d.handOff(batch(3), false)
	mu.Lock()
	got := slices.Clone(order)
	mu.Unlock()
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("delivered %v by the time batch 3 was handed off, want 1, 2, 3", got)
	}
	// Busy committer, idle deliverer: batch 4 is queued.
	d.handOff(batch(4), true)
	for d.pending.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the deliverer did not deliver batch 4")
		}
		time.Sleep(time.Millisecond)
	}
	close(d.ch)
	<-done
	if !slices.Equal(order, []int{1, 2, 3, 4}) {
		t.Fatalf("delivered in the order %v, want 1, 2, 3, 4", order)
	}
}
