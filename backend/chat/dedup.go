package chat

// DedupWindow is how many recent client message ids a session remembers. A
// client resends only what it has not seen acknowledged, which is far fewer.
const DedupWindow = 1024

// dedup maps recent client ids (scoped by sender) to the seq they got, and
// forgets the oldest once the window is full, so memory stays bounded however
// long a chat runs.
type dedup struct {
	seqs  map[string]uint64
	order []string
	next  int
}

func (d *dedup) get(key string) (uint64, bool) {
	s, ok := d.seqs[key]
	return s, ok
}

func (d *dedup) put(key string, seq uint64) {
	if d.seqs == nil {
		d.seqs = make(map[string]uint64)
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
	chron := make([]string, 0, len(d.order))
	chron = append(append(chron, d.order[d.next:]...), d.order[:d.next]...)
	keep := append([]string(nil), chron[len(chron)-n:]...)
	seqs := make(map[string]uint64, n)
	for _, k := range keep {
		seqs[k] = d.seqs[k]
	}
	d.order, d.seqs, d.next = keep, seqs, 0
}
