package relay

import (
	"runtime/debug"
	"testing"
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
