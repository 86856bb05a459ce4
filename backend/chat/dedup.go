package chat

import "hash/maphash"

// DedupWindow is how many recent client message ids a session remembers. A
// client resends only what it has not seen acknowledged, which is far fewer.
const DedupWindow = 1024

// dedup maps recent client ids (scoped by sender) to the seq they got, and
// forgets the oldest once the window is full, so memory stays bounded however
// long a chat runs.
//
// It keeps a 64-bit keyed hash of each id rather than the id, and holds no
// pointers, so the collector never scans it. The key is random per process
// and the desk rebuilds the windows from the store at start, so nobody can
// aim for a collision; by chance one new id in 10^16 would be taken for a
// resend.
//
// The ids are a ring in arrival order, found through an open-addressing
// index of ring positions: a full window is 20 KiB (16 for the ring, 4 for
// the index). A Go map of hash to seq beside the ring took 45 KiB, and with
// hundreds of busy chats these windows were half of the relay's live heap,
// which sets how far the heap grows (docs/performance.md, "Memory").
type dedup struct {
	ring  []dedupID // oldest at next once full
	next  int
	index []uint16 // 1 + a ring position, 0 = empty; a power of two, over twice the ring
}

type dedupID struct{ key, seq uint64 }

// Ring positions are kept in uint16.
var _ [1<<16 - 1 - DedupWindow]struct{}

// dedupSeed keys the hash; per process, like the windows it fills.
var dedupSeed = maphash.MakeSeed()

func dedupKey(key string) uint64 { return maphash.String(dedupSeed, key) }

func (d *dedup) get(key string) (uint64, bool) {
	if i, ok := d.find(dedupKey(key)); ok {
		return d.ring[d.index[i]-1].seq, true
	}
	return 0, false
}

// len is the number of ids remembered.
func (d *dedup) len() int { return len(d.ring) }

// find gives the index slot holding key, or the empty slot where it would go.
func (d *dedup) find(key uint64) (int, bool) {
	if len(d.index) == 0 {
		return 0, false
	}
	mask := len(d.index) - 1
	for i := int(key) & mask; ; i = (i + 1) & mask {
		p := d.index[i]
		if p == 0 {
			return i, false
		}
		if d.ring[p-1].key == key {
			return i, true
		}
	}
}

func (d *dedup) put(id string, seq uint64) {
	key := dedupKey(id)
	if i, ok := d.find(key); ok {
		d.ring[d.index[i]-1].seq = seq
		return
	}
	if len(d.ring) < DedupWindow {
		if len(d.ring) == cap(d.ring) { // doubling from 8 ends at the window exactly
			d.ring = append(make([]dedupID, 0, min(DedupWindow, max(8, 2*cap(d.ring)))), d.ring...)
		}
		d.ring = append(d.ring, dedupID{key, seq})
		if 2*len(d.ring) > len(d.index) {
			d.reindex()
			return
		}
		i, _ := d.find(key)
		d.index[i] = uint16(len(d.ring))
		return
	}
	old, _ := d.find(d.ring[d.next].key)
	d.unindex(old)
	d.ring[d.next] = dedupID{key, seq}
	i, _ := d.find(key)
	d.index[i] = uint16(d.next + 1)
	d.next = (d.next + 1) % DedupWindow
}

// unindex empties slot i, moving later entries of its probe run back so
// that every entry stays reachable from its home slot.
func (d *dedup) unindex(i int) {
	mask := len(d.index) - 1
	for j := i; ; {
		j = (j + 1) & mask
		p := d.index[j]
		if p == 0 {
			break
		}
		home := int(d.ring[p-1].key) & mask
		// The entry at j stays if its home is cyclically in (i, j].
		if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
			continue
		}
		d.index[i] = p
		i = j
	}
	d.index[i] = 0
}

// reindex sizes the index for the ring and fills it again.
func (d *dedup) reindex() {
	n := 8
	for n < 2*len(d.ring)+2 {
		n *= 2
	}
	if cap(d.index) >= n {
		d.index = d.index[:n]
		clear(d.index)
	} else {
		d.index = make([]uint16, n)
	}
	for p, x := range d.ring {
		i, _ := d.find(x.key)
		d.index[i] = uint16(p + 1)
	}
}

// senderKey scopes a client id to its sender: two senders may pick the same id.
func senderKey(authorKind string, author AgentID, clientID string) string {
	if authorKind == ByVisitor {
		return "v:" + clientID
	}
	return "a" + itoa(int64(author)) + ":" + clientID
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// shrink keeps only the newest n ids.
func (d *dedup) shrink(n int) {
	if len(d.ring) <= n {
		return
	}
	chron := d.ids()
	// A copy, so that an ended chat does not keep the whole window's array.
	d.ring, d.next, d.index = append([]dedupID(nil), chron[len(chron)-n:]...), 0, nil
	d.reindex()
}

// ids lists the remembered (hash, seq) pairs, oldest first.
func (d *dedup) ids() []dedupID {
	return append(append(make([]dedupID, 0, len(d.ring)), d.ring[d.next:]...), d.ring[:d.next]...)
}
