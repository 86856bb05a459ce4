package relay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// A writer's batch arrives whole and in order, frames of every header size,
// in several chunks.
func TestWrittenFramesArriveInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var frames [][]byte
	for i := 0; i < 3000; i++ {
		n := []int{0, 1, 125, 126, 300, 65535, 65536, 70000}[i%8]
		if i > 100 && n > 300 {
			n = i % 200 // keep the test small past the first sizes
		}
		frames = append(frames, bytes.Repeat([]byte{byte(i)}, n))
	}
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		errc <- writeCopied(c, frames)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i, want := range frames {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if h[0] != 0x81 {
			t.Fatalf("frame %d: first byte %#x, want a final text frame", i, h[0])
		}
		n := int(h[1])
		switch n {
		case 126:
			var x [2]byte
			_, _ = io.ReadFull(r, x[:])
			n = int(binary.BigEndian.Uint16(x[:]))
		case 127:
			var x [8]byte
			_, _ = io.ReadFull(r, x[:])
			n = int(binary.BigEndian.Uint64(x[:]))
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// A busy writer's batches fill whole chunks; the buffer they grew stays in
// the pool, so the next batch allocates nothing.
func TestWriterReusesItsBufferForFullChunks(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are the race detector's under -race; make test-go runs this again without it")
	}
	a, b := net.Pipe()
	defer a.Close()
	go func() { _, _ = io.Copy(io.Discard, b) }()
	frames := make([][]byte, 256)
	for i := range frames {
		frames[i] = bytes.Repeat([]byte("x"), 280)
	}
	if err := writeCopied(a, frames); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := writeCopied(a, frames); err != nil {
			t.Fatal(err)
		}
	})
	if allocs >= 1 {
		t.Errorf("%.1f allocations per batch of %d frames, want none", allocs, len(frames))
	}
}
