package relay

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// writesWire records what each write carried; reading is never asked of it.
type writesWire struct {
	Wire
	mu     sync.Mutex
	writes [][]string
}

func (w *writesWire) WriteFrames(frames [][]byte, _ time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var got []string
	for _, f := range frames {
		got = append(got, string(f))
	}
	w.writes = append(w.writes, got)
	return nil
}

func (w *writesWire) seen() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]string(nil), w.writes...)
}

func (w *writesWire) waitFor(t *testing.T, n int) [][]string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if got := w.seen(); len(got) >= n {
			return got
		}
	}
	t.Fatalf("%d writes, want %d: %q", len(w.seen()), n, w.seen())
	return nil
}

func testConn(s *Server) (*conn, *writesWire) {
	w := &writesWire{}
	c := &conn{srv: s, wire: w, closed: make(chan struct{})}
	c.q.init()
	return c, w
}

// A presence flush starts no write of its own: each frame goes out with the
// next frame its connection gets, in order, or at the next flush when the
// connection got nothing in between.
func TestPresenceWaitsForTheNextWrite(t *testing.T) {
	s := &Server{cfg: DefaultConfig()}
	busy, busyWire := testConn(s)
	idle, idleWire := testConn(s)
	var out lazySends
	out.add(busy, []byte("presence 1"))
	out.add(idle, []byte("presence 1"))
	out.flush()
	time.Sleep(50 * time.Millisecond)
	if w := append(busyWire.seen(), idleWire.seen()...); len(w) != 0 {
		t.Fatalf("the flush wrote at once: %q", w)
	}

	busy.enqueue([]byte("message"))
	if got := busyWire.waitFor(t, 1); len(got) != 1 || !slices.Equal(got[0], []string{"presence 1", "message"}) {
		t.Fatalf("busy connection's writes: %q, want presence and message in one write", got)
	}

	// The next tick: the idle connection's frame goes now (the new flush's
	// may go with it, the writer just started), the busy one's waits again.
	out.add(busy, []byte("presence 2"))
	out.add(idle, []byte("presence 2"))
	out.flush()
	if got := idleWire.waitFor(t, 1); got[0][0] != "presence 1" {
		t.Fatalf("idle connection's writes: %q, want the first presence first", got)
	}
	time.Sleep(50 * time.Millisecond)
	if got := busyWire.seen(); len(got) != 1 {
		t.Fatalf("busy connection's writes after the second flush: %q, want none new", got)
	}
	out.flush() // a tick with nothing new
	if got := busyWire.waitFor(t, 2); !slices.Equal(got[1], []string{"presence 2"}) {
		t.Fatalf("busy connection's writes: %q", got)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if all := slices.Concat(idleWire.seen()...); slices.Equal(all, []string{"presence 1", "presence 2"}) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("idle connection got %q, want both presence frames in order", all)
		}
	}
}
