package chat

import (
	"runtime"
	"strconv"
	"testing"
)

// A full window of a chat stays small: hundreds of busy chats hold one
// each, all the time.
func TestDedupWindowIsCompact(t *testing.T) {
	const chats = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ds := make([]dedup, chats)
	for c := range ds {
		for i := 0; i < DedupWindow; i++ {
			ds[c].put(senderKey(ByVisitor, 0, "m"+strconv.Itoa(c*DedupWindow+i)), uint64(i+1))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (after.HeapAlloc - before.HeapAlloc) / chats
	t.Logf("a full window of %d ids: %.1f KiB", DedupWindow, float64(per)/1024)
	if per > 48<<10 {
		t.Errorf("a full window takes %.1f KiB, want at most 48", float64(per)/1024)
	}
	for c := range ds {
		if seq, ok := ds[c].get(senderKey(ByVisitor, 0, "m"+strconv.Itoa(c*DedupWindow+7))); !ok || seq != 8 {
			t.Fatalf("chat %d: id 7 gives %d, %v", c, seq, ok)
		}
	}
	runtime.KeepAlive(ds)
}
