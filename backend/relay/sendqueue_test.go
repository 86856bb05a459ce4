package relay

import "testing"

// At moderate load a writer starts and ends with nearly every frame: the
// batch it empties goes back to the queue, so the next frame is queued
// without growing a new slice.
func TestSendQueueReusesTheWritersBatch(t *testing.T) {
	var q sendQueue
	q.init()
	frame := []byte("x")
	var batch [][]byte
	cycle := func() {
		if r := q.push(frame, 8); r != pushedWake {
			t.Fatalf("push: %v, want the writer started", r)
		}
		var ok bool
		if batch, _, ok = q.take(batch); !ok || len(batch) != 1 {
			t.Fatalf("take: %d frames, %v", len(batch), ok)
		}
		clear(batch)
		if batch, _, ok = q.take(batch); ok {
			t.Fatal("take of an empty queue kept the writer")
		}
		batch = nil // the writer ends
	}
	cycle()
	if n := testing.AllocsPerRun(50, cycle); n != 0 {
		t.Fatalf("%.0f allocations a frame", n)
	}
}
