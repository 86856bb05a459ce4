package relay_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// picture is a small image with some structure, so a re-encoding is seen.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), 120, 255})
		}
	}
	return img
}

func pngBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, picture(40, 30)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithGPS is a JPEG carrying an EXIF block with a GPS position
// (59°19'N, the camera's "Exif" APP1 segment right after SOI).
func jpegWithGPS(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(64, 48), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	tiff := []byte("II*\x00")
	tiff = le.AppendUint32(tiff, 8)
	// IFD0: one entry, the GPS IFD pointer (0x8825) to offset 26.
	tiff = le.AppendUint16(tiff, 1)
	tiff = le.AppendUint16(tiff, 0x8825)
	tiff = le.AppendUint16(tiff, 4) // LONG
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint32(tiff, 26)
	tiff = le.AppendUint32(tiff, 0) // no next IFD
	// GPS IFD at 26: GPSLatitudeRef "N", GPSLatitude 59/1 19/1 0/1 (at 56).
	tiff = le.AppendUint16(tiff, 2)
	tiff = le.AppendUint16(tiff, 1)
	tiff = le.AppendUint16(tiff, 2) // ASCII
	tiff = le.AppendUint32(tiff, 2)
	tiff = append(tiff, 'N', 0, 0, 0)
	tiff = le.AppendUint16(tiff, 2)
	tiff = le.AppendUint16(tiff, 5) // RATIONAL
	tiff = le.AppendUint32(tiff, 3)
	tiff = le.AppendUint32(tiff, 56)
	tiff = le.AppendUint32(tiff, 0)
	for _, v := range []uint32{59, 1, 19, 1, 0, 1} {
		tiff = le.AppendUint32(tiff, v)
	}
	tiff = append(tiff, []byte("GPS-MARKER-STOCKHOLM")...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	src := b.Bytes()
	return append(append(append([]byte{}, src[:2]...), seg...), src[2:]...)
}

// activeChat: a visitor's chat that anna answers.
func activeChat(t *testing.T, h *relaytest.Harness) (anna, visitor *relaytest.Client, sid string, started protocol.ChatStarted) {
	t.Helper()
	anna, welcome := h.Agent("anna", nil)
	visitor, started = h.Visitor("Vera", "See my screenshot")
	sid = started.Session
	anna.WaitQueue(welcome.Queue, "support", sid)
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	return anna, visitor, sid, started
}

func sendFile(t *testing.T, c *relaytest.Client, sid, clientID, text, file string) protocol.MessageAck {
	t.Helper()
	var ack protocol.MessageAck
	c.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: clientID, Text: text, File: file}, &ack)
	return ack
}

func fileURL(t *testing.T, c *relaytest.Client, sid, file string) protocol.FileURL {
	t.Helper()
	var u protocol.FileURL
	c.OK(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: file}, &u)
	return u
}

func TestFileUploadSendAndDownload(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, visitor, sid, _ := activeChat(t, h)
	shot := pngBytes(t)

	slot, up := h.Attach(visitor, sid, "screenshot.png", shot)
	if up.Status != http.StatusCreated || up.File.ID != slot.File || up.File.Type != "image/png" ||
		up.File.Name != "screenshot.png" || up.File.Width != 40 || up.File.Height != 30 {
		t.Fatalf("upload: %+v (slot %+v)", up, slot)
	}
	if slot.MaxBytes != protocol.DefaultFileMaxBytes || !strings.HasPrefix(slot.UploadURL, files.Prefix) {
		t.Fatalf("slot %+v", slot)
	}
	ack := sendFile(t, visitor, sid, "v1", "", slot.File)
	if again := sendFile(t, visitor, sid, "v1", "", slot.File); !again.Duplicate || again.Seq != ack.Seq {
		t.Fatalf("resend: %+v, first %+v", again, ack)
	}
	es := anna.WaitEntries(sid, ack.Seq)
	e := es[len(es)-1]
	if e.File == nil || *e.File != up.File || e.Text != "" || e.From.Kind != protocol.AuthorVisitor {
		t.Fatalf("the agent's entry: %+v", e)
	}
	var log protocol.SessionLogReply
	anna.OK(protocol.CmdSessionLog, protocol.SessionLog{Session: sid}, &log)
	if n := len(log.Entries); n == 0 || log.Entries[n-1].File == nil || log.Entries[n-2].File != nil && log.Entries[n-2].Seq == ack.Seq {
		t.Fatalf("log: %+v", log.Entries)
	}

	u := fileURL(t, anna, sid, slot.File)
	resp, body := h.Get(u.URL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	if img, err := png.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx() != 40 {
		t.Fatalf("downloaded image: %v", err)
	}
	resp, _ = h.Get(u.PreviewURL)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline;") {
		t.Fatalf("preview: %d %v", resp.StatusCode, resp.Header)
	}
	// The visitor reads their own file, too.
	vu := fileURL(t, visitor, sid, slot.File)
	if resp, _ := h.Get(vu.URL); resp.StatusCode != 200 {
		t.Fatalf("visitor's download: %d", resp.StatusCode)
	}

	// The agent sends a PDF the visitor downloads: never inline.
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	slot, up = h.Attach(anna, sid, "Faktura maj.pdf", pdf)
	if up.Status != http.StatusCreated || up.File.Type != "application/pdf" {
		t.Fatalf("pdf upload: %+v", up)
	}
	ack = sendFile(t, anna, sid, "a1", "Your invoice", slot.File)
	got := visitor.WaitEntries(sid, ack.Seq)
	if last := got[len(got)-1]; last.File == nil || last.File.Name != "Faktura maj.pdf" || last.Text != "Your invoice" {
		t.Fatalf("the visitor's entry: %+v", last)
	}
	u = fileURL(t, visitor, sid, slot.File)
	if u.PreviewURL != "" {
		t.Fatalf("a PDF got a preview URL: %+v", u)
	}
	resp, body = h.Get(u.URL + "?inline=1")
	if resp.StatusCode != 200 || !bytes.Equal(body, pdf) || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "Faktura maj.pdf") {
		t.Fatalf("pdf download: %d %v", resp.StatusCode, resp.Header)
	}
	// And it survives a restart, as the chat log does.
	h.Restart()
	anna2, _ := h.Agent("anna", nil)
	u = fileURL(t, anna2, sid, slot.File)
	if resp, body := h.Get(u.URL); resp.StatusCode != 200 || !bytes.Equal(body, pdf) {
		t.Fatalf("after a restart: %d", resp.StatusCode)
	}
}

func TestFileAuthorization(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	h := relaytest.Start(t, relaytest.Options{Files: func(o *files.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}})
	anna, visitor, sid, _ := activeChat(t, h)
	slot, up := h.Attach(visitor, sid, "a.png", pngBytes(t))
	if up.Status != http.StatusCreated {
		t.Fatalf("upload: %+v", up)
	}
	// Before it is sent, nobody reads it: not even its uploader.
	visitor.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: slot.File}, protocol.CodeNotFound)
	anna.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: slot.File}, protocol.CodeNotFound)
	// The one-time URL is spent.
	if again := h.Put(slot.UploadURL, pngBytes(t)); again.Status != http.StatusConflict || again.Error.Code != protocol.CodeUploadUsed {
		t.Fatalf("second PUT: %+v", again)
	}
	// Nobody else sends it.
	anna.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "a1", File: slot.File}, protocol.CodeNotFound)
	sendFile(t, visitor, sid, "v1", "look", slot.File)

	// A listener reads but cannot upload.
	lars, _ := h.Agent("lars", nil)
	lars.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: sid}, nil)
	lars.Refused(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "x.png", Size: 10}, protocol.CodeListenOnly)
	if resp, _ := h.Get(fileURL(t, lars, sid, slot.File).URL); resp.StatusCode != 200 {
		t.Fatalf("listener's download: %d", resp.StatusCode)
	}
	// Another agent, not in the chat, gets no URL and cannot upload.
	bertil, _ := h.Agent("bertil", nil)
	bertil.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: slot.File}, protocol.CodeForbidden)
	bertil.Refused(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "x.png", Size: 10}, protocol.CodeNotParticipant)
	// Another visitor gets none for this chat, nor through their own.
	other, st2 := h.Visitor("Olle", "Hi")
	other.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: slot.File}, protocol.CodeForbidden)
	other.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: st2.Session, File: slot.File}, protocol.CodeNotFound)
	other.Refused(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "x.png", Size: 10}, protocol.CodeForbidden)

	// A URL altered to name another file is refused; an expired one too.
	u := fileURL(t, anna, sid, slot.File)
	tok := strings.TrimPrefix(u.URL, files.Prefix)
	forged := files.Prefix + strings.Replace(tok, tok[:10], "eyJrIjoiZC", 1) + "x"
	if resp, body := h.Get(forged); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"forbidden"`) {
		t.Fatalf("forged URL: %d %s", resp.StatusCode, body)
	}
	skew.Store(int64(files.DefaultDownloadTTL + time.Second))
	resp, body := h.Get(u.URL)
	var perr protocol.Error
	json.Unmarshal(body, &perr)
	if resp.StatusCode != http.StatusGone || perr.Code != protocol.CodeURLExpired {
		t.Fatalf("expired URL: %d %s", resp.StatusCode, body)
	}
	// So is an expired upload URL.
	skew.Store(0)
	var late protocol.FileSlot
	visitor.OK(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "b.png", Size: 100}, &late)
	skew.Store(int64(files.DefaultUploadTTL + time.Second))
	if up := h.Put(late.UploadURL, pngBytes(t)); up.Status != http.StatusGone || up.Error.Code != protocol.CodeURLExpired {
		t.Fatalf("expired upload URL: %+v", up)
	}
}

func TestFileLimits(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Channel: store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC",
		TransferTimeout: chat.DefaultTransferTimeout, FileMaxBytes: 2000, FileTypes: []string{"pdf"}}})
	anna, visitor, sid, _ := activeChat(t, h)
	_ = anna
	visitor.Refused(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "big.pdf", Size: 2001}, protocol.CodeTooLarge)
	visitor.Refused(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "none.pdf", Size: 0}, protocol.CodeBadRequest)
	// A PUT of more than the slot allows is cut off, whatever size was declared.
	var slot protocol.FileSlot
	visitor.OK(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "a.pdf", Size: 100}, &slot)
	if up := h.Put(slot.UploadURL, append([]byte("%PDF-1.4\n"), make([]byte, 3000)...)); up.Status != http.StatusRequestEntityTooLarge || up.Error.Code != protocol.CodeTooLarge {
		t.Fatalf("oversized PUT: %+v", up)
	}
	// A PNG where only PDFs are taken.
	if _, up := h.Attach(visitor, sid, "shot.png", pngBytes(t)); up.Status != http.StatusUnsupportedMediaType || up.Error.Code != protocol.CodeFileType {
		t.Fatalf("PNG in a PDF-only channel: %+v", up)
	}
	// Off: no slots at all.
	db := h.OpenStore()
	if err := db.PutChannel(t.Context(), store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC",
		TransferTimeout: chat.DefaultTransferTimeout, FileMaxBytes: -1}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := visitor.Do(protocol.CmdFileUpload, protocol.FileUpload{Session: sid, Name: "a.pdf", Size: 100})
		if !r.OK && r.Error.Code == protocol.CodeForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("attachments still taken after they were turned off: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFileTypeIsSniffed(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	_, visitor, sid, _ := activeChat(t, h)
	// A PNG named .pdf is a PNG, and is named so.
	_, up := h.Attach(visitor, sid, "report.pdf", pngBytes(t))
	if up.Status != http.StatusCreated || up.File.Type != "image/png" || up.File.Name != "report.png" {
		t.Fatalf("PNG named .pdf: %+v", up)
	}
	// HTML named .png, and SVG, are refused.
	for name, body := range map[string]string{
		"cat.png":  "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"logo.svg": `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
	} {
		if _, up := h.Attach(visitor, sid, name, []byte(body)); up.Status != http.StatusUnsupportedMediaType || up.Error.Code != protocol.CodeFileType {
			t.Fatalf("%s: %+v", name, up)
		}
	}
	// A text file keeps its name; one named .html does not.
	if _, up := h.Attach(visitor, sid, "notes.html", []byte("just words, no markup\n")); up.Status != http.StatusCreated ||
		up.File.Type != "text/plain" || up.File.Name != "notes.txt" {
		t.Fatalf("text named .html: %+v", up)
	}
}

func TestFileImageMetadataStripped(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, visitor, sid, _ := activeChat(t, h)
	photo := jpegWithGPS(t)
	if !bytes.Contains(photo, []byte("Exif\x00\x00")) || !bytes.Contains(photo, []byte("GPS-MARKER")) {
		t.Fatal("the test photo has no EXIF block")
	}
	if _, err := jpeg.Decode(bytes.NewReader(photo)); err != nil {
		t.Fatalf("the test photo is no JPEG: %v", err)
	}
	slot, up := h.Attach(visitor, sid, "IMG_0001.JPG", photo)
	if up.Status != http.StatusCreated || up.File.Type != "image/jpeg" || up.File.Width != 64 {
		t.Fatalf("upload: %+v", up)
	}
	sendFile(t, visitor, sid, "v1", "", slot.File)
	_, body := h.Get(fileURL(t, anna, sid, slot.File).URL)
	if bytes.Contains(body, []byte("Exif")) || bytes.Contains(body, []byte("GPS-MARKER")) {
		t.Fatal("the downloaded photo still carries its EXIF block")
	}
	img, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
		t.Fatalf("downloaded photo: %v", err)
	}
}

// TestFilesOnS3 keeps attachments in an S3-compatible store (gofakes3, an
// S3 server in this process, reached over HTTP by minio-go).
func TestFilesOnS3(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(fake.Close)
	var s3 *files.S3
	h := relaytest.Start(t, relaytest.Options{Blobs: func(h *relaytest.Harness) files.Blobs {
		if s3 == nil {
			var err error
			s3, err = files.NewS3(files.S3Config{Endpoint: strings.TrimPrefix(fake.URL, "http://"), Bucket: "chat-files",
				Prefix: "sb/", AccessKey: "key", SecretKey: "secret", Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s3.EnsureBucket(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		return s3
	}})
	anna, visitor, sid, _ := activeChat(t, h)
	shot := pngBytes(t)
	slot, up := h.Attach(visitor, sid, "shot.png", shot)
	if up.Status != http.StatusCreated {
		t.Fatalf("upload: %+v", up)
	}
	sendFile(t, visitor, sid, "v1", "", slot.File)
	rc, err := s3.Get(t.Context(), slot.File)
	if err != nil {
		t.Fatalf("the object is not in the bucket: %v", err)
	}
	rc.Close()
	resp, body := h.Get(fileURL(t, anna, sid, slot.File).URL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download from S3: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := png.Decode(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	// A purge deletes the object; the message stays, its file is gone.
	n, err := files.Purge(t.Context(), h.Store, s3, "support", time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := s3.Get(t.Context(), slot.File); err != files.ErrNoBlob {
		t.Fatalf("purged object: %v", err)
	}
	anna.Refused(protocol.CmdFileURL, protocol.FileURLRequest{Session: sid, File: slot.File}, protocol.CodeFileGone)
}
