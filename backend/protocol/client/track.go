package client

import "sync"

// Verdict is what a Tracker makes of an entry event.
type Verdict uint8

const (
	// Fresh: the entry follows the last one held.
	Fresh Verdict = iota
	// Gap: newer than the next one expected. An agent never sees one; a
	// visitor does whenever staff-only notes were skipped.
	Gap
	// Duplicate: at or below the last seq held, as when a replay overlaps
	// what the client already has. It is not new.
	Duplicate
)

func (v Verdict) String() string { return [...]string{"fresh", "gap", "duplicate"}[v] }

// Tracker holds, per session, the last seq a client has: what a hello
// resumes from, and what tells a new entry from a duplicate or a gap. One
// Tracker outlives the connections of one client. Safe for concurrent use.
type Tracker struct {
	mu   sync.Mutex
	seen map[string]*held
}

type held struct {
	id   string // the session id, kept once so entries need no new string
	last uint64
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{seen: map[string]*held{}} }

// Note records entry seq of session and says what it was. A duplicate
// leaves the last seq as it was.
func (t *Tracker) Note(session string, seq uint64) Verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.seen[session]
	if h == nil {
		h = &held{id: session}
		t.seen[session] = h
	}
	switch {
	case seq <= h.last:
		return Duplicate
	case seq != h.last+1:
		h.last = seq
		return Gap
	}
	h.last = seq
	return Fresh
}

// intern returns the tracker's string for a session id it knows, so that
// reading an entry allocates none.
func (t *Tracker) intern(b []byte) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.seen[string(b)]; h != nil {
		return h.id
	}
	return string(b)
}

// Watch makes the next hello resume session (from 0 if nothing is held):
// a visitor's chat before its first entry, say.
func (t *Tracker) Watch(session string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[session] == nil {
		t.seen[session] = &held{id: session}
	}
}

// Last is the last seq held of session (0: none).
func (t *Tracker) Last(session string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.seen[session]; h != nil {
		return h.last
	}
	return 0
}

// Resume is the hello's resume map: every session and its last seq; nil
// when there is none.
func (t *Tracker) Resume() map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.seen) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(t.seen))
	for id, h := range t.seen {
		out[id] = h.last
	}
	return out
}

// Keep forgets every session but these: the relay ignores sessions it no
// longer lists, and the resume map of a client left running for weeks must
// stay far below the hello's frame cap.
func (t *Tracker) Keep(sessions []string) {
	keep := make(map[string]bool, len(sessions))
	for _, s := range sessions {
		keep[s] = true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range t.seen {
		if !keep[id] {
			delete(t.seen, id)
		}
	}
}
