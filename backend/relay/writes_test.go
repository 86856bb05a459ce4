package relay_test

import (
	"fmt"
	"runtime"
	"testing"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// /metrics counts the frames written and the writes they took, which tells
// how well frames are batched (docs/performance.md): a visitor's message is
// three frames (the ack and the echo to the visitor, the entry to Anna).
func TestMetricsCountFramesAndWrites(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, visitor, sid, _ := activeChat(t, h)
	frames0, writes0 := h.Metric("switchboard_frames_written_total"), h.Metric("switchboard_frame_writes_total")
	if frames0 <= 0 || writes0 <= 0 || writes0 > frames0 {
		t.Fatalf("after sign-in and a chat: %d frames in %d writes", frames0, writes0)
	}
	const n = 10
	for i := range n {
		var ack protocol.MessageAck
		visitor.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprintf("m-%d", i), Text: "Still there?"}, &ack)
		visitor.WaitEntries(sid, ack.Seq)
		anna.WaitEntries(sid, ack.Seq)
	}
	frames := h.Metric("switchboard_frames_written_total") - frames0
	writes := h.Metric("switchboard_frame_writes_total") - writes0
	if frames < 3*n || writes < 2*n || writes > frames {
		t.Fatalf("%d messages: %d frames in %d writes; want at least %d frames, in at least %d writes (two clients) and at most one each", n, frames, writes, 3*n, 2*n)
	}
}

// /metrics reports what the relay allocates and how often it collects: the
// figures docs/performance.md divides by the entries delivered.
func TestMetricsCountAllocations(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	_, visitor, sid, _ := activeChat(t, h)
	bytes0, objects0 := h.Metric("switchboard_heap_allocated_bytes_total"), h.Metric("switchboard_heap_allocations_total")
	if bytes0 <= 0 || objects0 <= 0 || objects0 > bytes0 {
		t.Fatalf("after sign-in and a chat: %d bytes in %d objects", bytes0, objects0)
	}
	cycles0 := h.Metric("switchboard_gc_cycles_total")
	for i := range 10 {
		var ack protocol.MessageAck
		visitor.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprintf("m-%d", i), Text: "Still there?"}, &ack)
	}
	runtime.GC() // the harness's relay runs in this process
	if b, o := h.Metric("switchboard_heap_allocated_bytes_total"), h.Metric("switchboard_heap_allocations_total"); b <= bytes0 || o <= objects0 {
		t.Fatalf("ten messages later: %d bytes (from %d), %d objects (from %d)", b, bytes0, o, objects0)
	}
	if c := h.Metric("switchboard_gc_cycles_total"); c <= cycles0 {
		t.Fatalf("a collection later: %d cycles (from %d)", c, cycles0)
	}
}
