package relay

import (
	"runtime/debug"
	"testing"
)

// A configured memory limit becomes the runtime's; none leaves it alone.
func TestMemoryLimitIsApplied(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	Config{}.applyMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != old {
		t.Fatalf("no limit configured, but the runtime's changed to %d", got)
	}
	Config{MemoryLimit: 80 << 20}.applyMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 80<<20 {
		t.Fatalf("runtime limit %d, want %d", got, 80<<20)
	}
}
