package relay

import (
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"testing"
	"time"
)

// A configured memory limit becomes the runtime's; none leaves it alone.
func TestMemoryLimitIsApplied(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	oldGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(oldGC)
	Config{}.applyMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != old {
		t.Fatalf("no limit configured, but the runtime's changed to %d", got)
	}
	Config{MemoryLimit: 80 << 20, GCPercent: 60}.applyMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 80<<20 {
		t.Fatalf("runtime limit %d, want %d", got, 80<<20)
	}
	if got := debug.SetGCPercent(100); got != 60 {
		t.Fatalf("GC percent %d, want 60", got)
	}
}

// The floor raises the GC percent just enough for the goal to reach it,
// never below the configured percent.
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		base, want  int
	}{
		{12 * mib, 40 * mib, 50, 234}, // 12 MiB * 3.34 >= 40 MiB
		{12 * mib, 32 * mib, 50, 167},
		{30 * mib, 40 * mib, 50, 50},   // 45 MiB is above the floor already
		{40 * mib, 40 * mib, 100, 100}, // the base percent stays
		{1, 40 * mib, 50, maxGCPercent},
		{0, 40 * mib, 50, maxGCPercent},
	} {
		if got := gcPercentFor(tc.live, tc.floor, tc.base); got != tc.want {
			t.Errorf("live %d, floor %d, base %d: %d %%, want %d", tc.live, tc.floor, tc.base, got, tc.want)
		}
		if p := gcPercentFor(tc.live, tc.floor, tc.base); tc.live > 0 && tc.live*uint64(100+p)/100 < min(tc.floor, tc.live*uint64(100+maxGCPercent)/100) {
			t.Errorf("live %d at %d %%: goal under the floor %d", tc.live, p, tc.floor)
		}
	}
}

// With a floor far above what this test process holds, the runtime's GC
// percent rises to the cap after the next collection; when the loop stops,
// the configured percent is back.
func TestGCFloorRaisesThePercent(t *testing.T) {
	old := debug.SetGCPercent(50)
	defer debug.SetGCPercent(old)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); gcFloorLoop(1<<40, 50, 5*time.Millisecond, stop) }()
	gogc := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		rtmetrics.Read(gogc)
		if gogc[0].Value.Uint64() == maxGCPercent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GC percent %d, want %d", gogc[0].Value.Uint64(), maxGCPercent)
		}
	}
	close(stop)
	<-done
	if got := debug.SetGCPercent(old); got != 50 {
		t.Fatalf("after the loop stopped: GC percent %d, want 50", got)
	}
}
