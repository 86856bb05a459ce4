package relay

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// Frames read into pooled buffers arrive whole whatever their size, the
// limit is exact, and a frame over it is refused having read no more than
// one byte past it.
func TestReadFrameSizesAndLimit(t *testing.T) {
	const limit = 40000
	wires := make(chan *wsWire, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		wires <- &wsWire{ws: ws}
	}))
	defer srv.Close()
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	w := <-wires
	defer w.ws.Close()

	sizes := []int{0, 1, 511, 512, 513, 1500, 5000, limit, 3, 20000, 2}
	go func() {
		for i, n := range sizes {
			_ = client.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte{byte('a' + i)}, n))
		}
		_ = client.WriteMessage(websocket.BinaryMessage, []byte("bin"))
		_ = client.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte{'z'}, limit+1))
	}()
	for i, n := range sizes {
		text, frame, err := w.ReadFrame(limit)
		if err != nil || !text {
			t.Fatalf("frame %d: text %v, err %v", i, text, err)
		}
		if want := bytes.Repeat([]byte{byte('a' + i)}, n); !bytes.Equal(frame, want) {
			t.Fatalf("frame %d: %d bytes, want %d of %q", i, len(frame), n, rune('a'+i))
		}
	}
	if text, frame, err := w.ReadFrame(limit); err != nil || text || string(frame) != "bin" {
		t.Fatalf("binary frame: text %v, %q, err %v", text, frame, err)
	}
	if _, frame, err := w.ReadFrame(limit); err != errFrameTooLarge || len(frame) != limit+1 {
		t.Fatalf("frame over the limit: %d bytes read, err %v; want %d and errFrameTooLarge", len(frame), err, limit+1)
	}
}
