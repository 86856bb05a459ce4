package app

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// pdfBytes is a small PDF (the relay sniffs "%PDF-"), n bytes long.
func pdfBytes(n int) []byte {
	b := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")
	for len(b) < n-6 {
		b = append(b, "% fill\n"...)
	}
	return append(b[:n-6], "%%EOF\n"...)
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 9), uint8(y * 4), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// answering signs anna in on a desk and has her take a visitor's chat.
func answering(t *testing.T, h *relaytest.Harness, d *testDesk) (*relaytest.Client, string) {
	t.Helper()
	d.login(h.URL(), "anna", false)
	visitor, st := h.Visitor("Vera", "Here is my invoice")
	d.ok("next", d.c.next())
	return visitor, st.Session
}

func uploadReq(id, sid, name string, body []byte, text string) UploadRequest {
	return UploadRequest{ID: id, Session: sid, Name: name, Data: base64.StdEncoding.EncodeToString(body), Text: text}
}

func uploadEvents(d *testDesk, id string) []UploadProgress {
	var out []UploadProgress
	for _, e := range d.rec.Events() {
		if p, ok := e.Data[0].(UploadProgress); ok && e.Name == EventUpload && p.ID == id {
			out = append(out, p)
		}
	}
	return out
}

// The agent attaches a PDF: the desk uploads it, reports progress, sends
// the message through the outbox, and the visitor reads the entry and
// downloads the same bytes.
func TestUploadSendsTheFileToTheVisitor(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	visitor, sid := answering(t, h, d)
	body := pdfBytes(200 << 10)

	res := d.c.upload(uploadReq("u1", sid, "invoice.pdf", body, "Your invoice"))
	if !res.OK {
		t.Fatalf("upload: %v", res)
	}
	up := res.Data.(UploadData)
	if up.File.Type != "application/pdf" || up.File.Name != "invoice.pdf" || up.File.Size != int64(len(body)) {
		t.Fatalf("file %+v", up.File)
	}
	ack := d.waitOutbox(up.ClientID, "acked")
	if ack.File != up.File.ID {
		t.Fatalf("outbox %+v", ack)
	}
	prog := uploadEvents(d, "u1")
	if len(prog) == 0 || prog[len(prog)-1].Sent != int64(len(body)) || prog[0].Total != int64(len(body)) || prog[0].Session != sid {
		t.Fatalf("progress %+v", prog)
	}

	var got *protocol.Entry
	for _, e := range visitor.WaitEntries(sid, ack.Seq) {
		if e.Seq == ack.Seq {
			got = &e
		}
	}
	if got == nil || got.File == nil || got.File.ID != up.File.ID || got.Text != "Your invoice" || got.From.Kind != protocol.AuthorAgent {
		t.Fatalf("visitor's entry %+v", got)
	}
	var u protocol.FileURL
	visitor.OK(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: up.File.ID}, &u)
	if _, b := h.Get(u.URL); !bytes.Equal(b, body) {
		t.Fatalf("visitor downloaded %d bytes, want the %d sent", len(b), len(body))
	}
}

// A file of a type the channel refuses (HTML, whatever its name) comes
// back with the relay's code, and no message is queued.
func TestUploadRefusedTypeGivesTheCode(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	_, sid := answering(t, h, d)
	res := d.c.upload(uploadReq("u1", sid, "cat.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), ""))
	d.refused("html as png", res, protocol.CodeFileType)
	res = d.c.upload(uploadReq("u2", sid, "empty.pdf", nil, ""))
	if res.OK {
		t.Fatalf("an empty file was taken: %v", res)
	}
	d.refused("bad base64", d.c.upload(UploadRequest{ID: "u3", Session: sid, Name: "a.pdf", Data: "%%%"}), protocol.CodeBadRequest)
	for _, e := range d.rec.Events() {
		if e.Name == EventOutbox {
			t.Fatalf("a refused upload queued a message: %+v", e.Data)
		}
	}
}

// cancelOnProgress cancels an upload when its first progress comes: the
// agent pressing Cancel while the bytes are on their way.
type cancelOnProgress struct {
	*Recorder
	c    *core
	once sync.Once
}

func (e *cancelOnProgress) Emit(name string, data ...any) {
	e.Recorder.Emit(name, data...)
	if p, ok := data[0].(UploadProgress); ok && name == EventUpload {
		e.once.Do(func() {
			if res := e.c.cancelUpload(p.ID); !res.OK {
				panic(res.String())
			}
		})
	}
}

func TestCancelStopsTheUploadAndSendsNothing(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	d.c.emit = &cancelOnProgress{Recorder: d.rec, c: d.c}
	visitor, sid := answering(t, h, d)

	res := d.c.upload(uploadReq("u1", sid, "big.pdf", pdfBytes(4<<20), "Here"))
	d.refused("cancelled upload", res, CodeCancelled)
	if p := uploadEvents(d, "u1"); len(p) == 0 || p[len(p)-1].Sent == p[0].Total {
		t.Fatalf("progress %+v: the upload was not stopped midway", p)
	}
	d.refused("cancel again", d.c.cancelUpload("u1"), protocol.CodeNotFound)

	// A message sent after it is the next entry: nothing came in between.
	id := clientID(t, d.c.send(sid, "Sorry, wrong file"))
	ack := d.waitOutbox(id, "acked")
	for _, e := range visitor.WaitEntries(sid, ack.Seq) {
		if e.File != nil {
			t.Fatalf("the visitor got a file: %+v", e)
		}
	}
	for _, e := range d.rec.Events() {
		if o, ok := e.Data[0].(OutboxPayload); ok && o.ClientID != id {
			t.Fatalf("the cancelled upload queued %+v", o)
		}
	}
}

// The visitor sends a screenshot and a PDF: the desk shows the image from
// a data: URL and saves the PDF byte for byte.
func TestDownloadImageAndPDF(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	visitor, sid := answering(t, h, d)
	shot, doc := pngOf(t, 40, 30), pdfBytes(50<<10)
	var ids []string
	for i, f := range []struct {
		name string
		body []byte
	}{{"screenshot.png", shot}, {"invoice.pdf", doc}} {
		slot, up := h.Attach(visitor, sid, f.name, f.body)
		if up.Status != 201 {
			t.Fatalf("visitor's upload of %s: %+v", f.name, up)
		}
		visitor.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v" + string(rune('1'+i)), File: slot.File}, nil)
		ids = append(ids, slot.File)
	}

	res := d.c.preview(sid, ids[0])
	if !res.OK {
		t.Fatalf("preview: %v", res)
	}
	pv := res.Data.(PreviewData)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pv.URL, "data:image/png;base64,"))
	if pv.Type != "image/png" || err != nil {
		t.Fatalf("preview %q…: %v", pv.URL[:min(40, len(pv.URL))], err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
		t.Fatalf("preview image: %v %v", err, img)
	}
	d.refused("preview of a PDF", d.c.preview(sid, ids[1]), CodeNoPreview)

	path := filepath.Join(t.TempDir(), "invoice.pdf")
	saved := d.c.saveFile(sid, ids[1], path)
	if !saved.OK || saved.Data.(SavedData).Path != path {
		t.Fatalf("save: %v", saved)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("saved %d bytes (%v), want the %d sent", len(got), err, len(doc))
	}
	d.refused("unknown file", d.c.saveFile(sid, "nope", filepath.Join(t.TempDir(), "x")), protocol.CodeNotFound)
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "x")); err == nil {
		t.Fatal("a refused download left a file")
	}
	d.refused("no dialog headless", d.c.saveAs(sid, ids[1], "invoice.pdf"), CodeNoDesk)
}

func TestHTTPBase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/ws":          "http://127.0.0.1:8080",
		"wss://relay.example.com/desk/ws": "https://relay.example.com/desk",
		"wss://relay.example.com/ws":      "https://relay.example.com",
		"ws://[::1]:9/ws":                 "http://[::1]:9",
	} {
		if got := httpBase(in); got != want {
			t.Errorf("httpBase(%q) = %q, want %q", in, got, want)
		}
	}
}

// A PDF dropped from a file manager comes as a path: the desk reads it and
// sends it as any other; a relative path, a folder or a missing file is
// refused before anything reaches the relay.
func TestUploadPathSendsADroppedFile(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	visitor, sid := answering(t, h, d)
	dir := t.TempDir()
	path := filepath.Join(dir, "warranty terms.pdf")
	body := pdfBytes(70 << 10)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	res := d.c.uploadPath(UploadPathRequest{ID: "d1", Session: sid, Path: path})
	if !res.OK || res.Data.(UploadData).File.Name != "warranty terms.pdf" {
		t.Fatalf("upload of a path: %v", res)
	}
	ack := d.waitOutbox(res.Data.(UploadData).ClientID, "acked")
	var u protocol.FileURL
	visitor.WaitEntries(sid, ack.Seq)
	visitor.OK(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: ack.File}, &u)
	if _, b := h.Get(u.URL); !bytes.Equal(b, body) {
		t.Fatalf("visitor downloaded %d bytes, want %d", len(b), len(body))
	}
	for _, p := range []string{"warranty.pdf", dir, filepath.Join(dir, "gone.pdf")} {
		d.refused(p, d.c.uploadPath(UploadPathRequest{ID: "d2", Session: sid, Path: p}), protocol.CodeBadRequest)
	}
}

// A file already stored on the relay is sent again by its id (Retry of a
// failed line that carries one): through the outbox, without a new upload.
func TestSendFileSendsAStoredFile(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	visitor, sid := answering(t, h, d)
	anna, _ := h.Agent("anna", nil) // a second window of hers uploads it
	body := pdfBytes(4 << 10)
	slot, up := h.Attach(anna, sid, "terms.pdf", body)
	if up.Status != 201 {
		t.Fatalf("upload: %+v", up)
	}
	desk := newDesk(d.c)
	if res := desk.SendFile(sid, " ", ""); res.OK || res.Error.Code != protocol.CodeBadRequest {
		t.Fatalf("SendFile with neither text nor file = %v", res)
	}
	res := desk.SendFile(sid, "", slot.File)
	if !res.OK {
		t.Fatalf("SendFile: %v", res)
	}
	ack := d.waitOutbox(res.Data.(ClientIDData).ClientID, "acked")
	es := visitor.WaitEntries(sid, ack.Seq)
	if e := es[len(es)-1]; e.File == nil || e.File.ID != slot.File || e.File.Name != "terms.pdf" {
		t.Fatalf("the visitor got %+v", e)
	}
}
