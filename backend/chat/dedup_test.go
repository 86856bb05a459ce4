package chat

import (
	"math/rand"
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
	if per > 24<<10 {
		t.Errorf("a full window takes %.1f KiB, want at most 24", float64(per)/1024)
	}
	for c := range ds {
		if seq, ok := ds[c].get(senderKey(ByVisitor, 0, "m"+strconv.Itoa(c*DedupWindow+7))); !ok || seq != 8 {
			t.Fatalf("chat %d: id 7 gives %d, %v", c, seq, ok)
		}
	}
	runtime.KeepAlive(ds)
}

// Whatever the order of sends, resends and shrinks, the window answers as a
// plain list of the newest DedupWindow ids would: every id in it with its
// seq, none that fell out.
func TestDedupWindowAgreesWithAList(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		var d dedup
		type kept struct {
			id  string
			seq uint64
		}
		var list []kept // oldest first
		known := map[string]bool{}
		var seq uint64
		for step := 0; step < 8000; step++ {
			switch op := rnd.Intn(100); {
			case op < 70 || len(list) == 0: // a new id
				seq++
				id := "m" + strconv.Itoa(step)
				d.put(id, seq)
				known[id] = true
				list = append(list, kept{id, seq})
				if len(list) > DedupWindow {
					list = list[1:]
				}
			case op < 80: // an id put again: takes the new seq, keeps its place
				seq++
				i := rnd.Intn(len(list))
				d.put(list[i].id, seq)
				list[i].seq = seq
			case op < 81 && rnd.Intn(20) == 0: // rare, so that full windows evict between them
				n := rnd.Intn(len(list) + 1)
				d.shrink(n)
				list = list[len(list)-min(n, len(list)):]
			}
			if step%97 != 0 && step < 7990 {
				continue
			}
			if d.len() != len(list) {
				t.Fatalf("seed %d step %d: %d ids, want %d", seed, step, d.len(), len(list))
			}
			in := map[string]uint64{}
			for _, k := range list {
				in[k.id] = k.seq
			}
			for id := range known {
				got, ok := d.get(id)
				if want, should := in[id]; ok != should || got != want {
					t.Fatalf("seed %d step %d: %s gives %d, %v; want %d, %v", seed, step, id, got, ok, want, should)
				}
			}
			for i, x := range d.ids() {
				if x.seq != list[i].seq {
					t.Fatalf("seed %d step %d: id %d of the window has seq %d, want %d", seed, step, i, x.seq, list[i].seq)
				}
			}
		}
	}
}
