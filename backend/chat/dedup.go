package chat

import "hash/maphash"

// DedupWindow is how many recent client message ids a session remembers. A
// client resends only what it has not seen acknowledged, which is far fewer.
const DedupWindow = 1024

// dedup maps recent client ids (scoped by sender) to the seq they got, and
// forgets the oldest once the window is full, so memory stays bounded however
// long a chat runs.
//
// It keeps a 64-bit keyed hash of each id rather than the id: a full window
// is then about 45 KiB instead of 90, and holds no pointers, so the
// collector never scans it (with hundreds of busy chats, these windows were
// most of the relay's live heap). The key is random per process and the
// desk rebuilds the windows from the store at start, so nobody can aim for
// a collision; by chance one new id in 10^16 would be taken for a resend.
type dedup struct {
	seqs  map[uint64]uint64
	order []uint64
	next  int
}

// dedupSeed keys the hash; per process, like the windows it fills.
var dedupSeed = maphash.MakeSeed()

func dedupKey(key string) uint64 { return maphash.String(dedupSeed, key) }

func (d *dedup) get(key string) (uint64, bool) {
	s, ok := d.seqs[dedupKey(key)]
	return s, ok
}

func (d *dedup) put(id string, seq uint64) {
	key := dedupKey(id)
	if d.seqs == nil {
		d.seqs = make(map[uint64]uint64)
	}
	if len(d.order) < DedupWindow {
		d.order = append(d.order, key)
	} else {
		delete(d.seqs, d.order[d.next])
		d.order[d.next] = key
		d.next = (d.next + 1) % DedupWindow
	}
	d.seqs[key] = seq
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
	if len(d.order) <= n {
		return
	}
	chron := make([]uint64, 0, len(d.order))
	chron = append(append(chron, d.order[d.next:]...), d.order[:d.next]...)
	keep := append([]uint64(nil), chron[len(chron)-n:]...)
	seqs := make(map[uint64]uint64, n)
	for _, k := range keep {
		seqs[k] = d.seqs[k]
	}
	d.order, d.seqs, d.next = keep, seqs, 0
}
