package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"switchboard/backend/protocol"
)

// Attachments go over HTTP, not the websocket (see backend/protocol/files.go),
// and the window talks only to the Go side: so the app asks the relay for a
// slot, PUTs the bytes, and sends the message through the outbox; and it
// fetches a file's bytes for a thumbnail or to save it.

// EventUpload reports an upload's progress: UploadProgress.
const EventUpload = "app:upload"

// EventDrop: files were dropped on the window: DropPayload. The UI attaches
// them if they fell on a chat the agent writes in (UploadPath).
const EventDrop = "app:drop"

// DropPayload says where files were dropped, in the window's pixels.
type DropPayload struct {
	X     int      `json:"x"`
	Y     int      `json:"y"`
	Paths []string `json:"paths"`
}

// fileDrop passes a drop on to the UI, which knows what lies at (x, y).
func (c *core) fileDrop(x, y int, paths []string) {
	if len(paths) > 0 {
		c.emit.Emit(EventDrop, DropPayload{X: x, Y: y, Paths: paths})
	}
}

// CodeCancelled: the agent cancelled the upload; nothing was sent.
const CodeCancelled protocol.Code = "cancelled"

// CodeNoPreview: the file is not an image the relay shows inline.
const CodeNoPreview protocol.Code = "no_preview"

// fileTimeout bounds one upload or download over HTTP.
const fileTimeout = 5 * time.Minute

// progressEvery is the least gap between two progress events of an upload.
const progressEvery = 50 * time.Millisecond

// UploadRequest is a file the agent attaches to a chat.
type UploadRequest struct {
	ID      string `json:"id"` // the UI's name for this upload: its progress events carry it, CancelUpload takes it
	Session string `json:"session"`
	Name    string `json:"name"`
	Data    string `json:"data"` // the file's bytes, base64
	Text    string `json:"text"` // a message to go with it; may be empty
}

// UploadData answers Upload: the message is queued in the outbox.
type UploadData struct {
	ClientID string            `json:"clientId"`
	File     protocol.FileInfo `json:"file"`
}

// UploadProgress is one step of an upload.
type UploadProgress struct {
	ID      string `json:"id"`
	Session string `json:"session"`
	Sent    int64  `json:"sent"`
	Total   int64  `json:"total"`
}

// PreviewData answers Preview: the image as a data: URL.
type PreviewData struct {
	URL  string `json:"url"`
	Type string `json:"type"`
}

// SavedData answers SaveFile.
type SavedData struct {
	Path string `json:"path"`
}

// uploads are the uploads under way, by the UI's id, to cancel them.
type uploads struct {
	mu     sync.Mutex
	cancel map[string]context.CancelFunc
}

func (u *uploads) add(id string, cancel context.CancelFunc) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cancel == nil {
		u.cancel = map[string]context.CancelFunc{}
	}
	if _, dup := u.cancel[id]; dup {
		return false
	}
	u.cancel[id] = cancel
	return true
}

func (u *uploads) done(id string) {
	u.mu.Lock()
	delete(u.cancel, id)
	u.mu.Unlock()
}

func (u *uploads) stop(id string) bool {
	u.mu.Lock()
	cancel, ok := u.cancel[id]
	u.mu.Unlock()
	if ok {
		cancel()
	}
	return ok
}

// httpBase is the relay's HTTP address behind a websocket address: the
// same relay serves /files/ beside /ws.
func httpBase(ws string) string {
	base := strings.TrimSuffix(ws, "/ws")
	switch {
	case strings.HasPrefix(base, "wss://"):
		return "https://" + strings.TrimPrefix(base, "wss://")
	case strings.HasPrefix(base, "ws://"):
		return "http://" + strings.TrimPrefix(base, "ws://")
	}
	return base
}

// upload stores a file on the relay and queues the message that carries it.
// It returns once the message is in the outbox (its fate comes as
// relay:outbox), or with the relay's refusal, or cancelled.
func (c *core) upload(req UploadRequest) Result {
	body, err := base64.StdEncoding.DecodeString(req.Data)
	if err != nil {
		return failResult(protocol.CodeBadRequest, "the file's data is not base64: %v", err)
	}
	return c.uploadBytes(req.ID, req.Session, req.Name, req.Text, body)
}

// UploadPathRequest is a file the agent dropped from a file manager: the
// web view hands over its path, not its bytes.
type UploadPathRequest struct {
	ID      string `json:"id"`
	Session string `json:"session"`
	Path    string `json:"path"` // absolute
	Text    string `json:"text"`
}

// maxDropped bounds what is read from disk for one dropped file; the
// channel's own limit (at most this) is the relay's to apply.
const maxDropped = 256 << 20

// uploadPath uploads a dropped file from disk, as upload does.
func (c *core) uploadPath(req UploadPathRequest) Result {
	if !filepath.IsAbs(req.Path) {
		return failResult(protocol.CodeBadRequest, "the dropped file's path is not absolute: %q", req.Path)
	}
	st, err := os.Stat(req.Path)
	if err != nil {
		return failResult(protocol.CodeBadRequest, "cannot read the dropped file: %v", err)
	}
	if !st.Mode().IsRegular() {
		return failResult(protocol.CodeBadRequest, "%s is not a file", filepath.Base(req.Path))
	}
	if st.Size() > maxDropped {
		return failResult(protocol.CodeTooLarge, "%s is %d bytes", filepath.Base(req.Path), st.Size())
	}
	body, err := os.ReadFile(req.Path)
	if err != nil {
		return failResult(protocol.CodeBadRequest, "cannot read the dropped file: %v", err)
	}
	return c.uploadBytes(req.ID, req.Session, filepath.Base(req.Path), req.Text, body)
}

func (c *core) uploadBytes(id, session, name, text string, body []byte) Result {
	if id == "" {
		return failResult(protocol.CodeBadRequest, "id is required")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return failResult(protocol.CodeBadRequest, "the file has no name")
	}
	cl, perr := c.writer(session)
	if perr != nil {
		return Result{Error: perr}
	}
	ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
	defer cancel()
	if !c.files.add(id, cancel) {
		return failResult(protocol.CodeBadRequest, "upload %s is already under way", id)
	}
	defer c.files.done(id)

	var slot protocol.FileSlot
	if err := cl.Do(ctx, protocol.CmdFileUpload, protocol.FileUpload{Session: session, Name: name, Size: int64(len(body))}, &slot); err != nil {
		return c.uploadErr(ctx, err)
	}
	info, err := c.put(ctx, httpBase(cl.Address())+slot.UploadURL, body, func(sent int64) {
		c.emit.Emit(EventUpload, UploadProgress{ID: id, Session: session, Sent: sent, Total: int64(len(body))})
	})
	if err != nil {
		return c.uploadErr(ctx, err)
	}
	if ctx.Err() != nil { // cancelled as the last byte went: the file stays unsent, so nobody sees it
		return c.uploadErr(ctx, ctx.Err())
	}
	return okResult(UploadData{ClientID: cl.SendFile(session, text, info.ID), File: info})
}

func (c *core) uploadErr(ctx context.Context, err error) Result {
	if errors.Is(ctx.Err(), context.Canceled) {
		return failResult(CodeCancelled, "the upload was cancelled")
	}
	return errResult(err)
}

// cancelUpload stops an upload under way; its message is not sent.
func (c *core) cancelUpload(id string) Result {
	if !c.files.stop(id) {
		return failResult(protocol.CodeNotFound, "no upload %s under way", id)
	}
	return okResult(nil)
}

// put PUTs body to url, reporting the bytes sent, and reads the FileInfo.
func (c *core) put(ctx context.Context, url string, body []byte, progress func(int64)) (protocol.FileInfo, error) {
	r := &progressReader{ctx: ctx, data: body, report: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, r)
	if err != nil {
		return protocol.FileInfo{}, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return protocol.FileInfo{}, fileNetErr(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return protocol.FileInfo{}, fileNetErr(err)
	}
	if resp.StatusCode != http.StatusCreated {
		return protocol.FileInfo{}, httpRefusal(resp.StatusCode, raw)
	}
	var info protocol.FileInfo
	if err := json.Unmarshal(raw, &info); err != nil || info.ID == "" {
		return protocol.FileInfo{}, protocol.Errorf(protocol.CodeInternal, "the relay's answer to the upload is unreadable: %q", raw)
	}
	return info, nil
}

// httpRefusal reads the relay's {code, message} of a refused request.
func httpRefusal(status int, raw []byte) error {
	var pe protocol.Error
	if json.Unmarshal(raw, &pe) == nil && pe.Code != "" {
		return &pe
	}
	return protocol.Errorf(protocol.CodeUnavailable, "the relay answered %d %s", status, http.StatusText(status))
}

func fileNetErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return protocol.Errorf(protocol.CodeUnavailable, "could not reach the relay: %v", err)
}

// progressReader hands out body in chunks and reports how far it got,
// at most every progressEvery (and once at the end).
type progressReader struct {
	// ctx ends the body as soon as the upload is cancelled: no more bytes
	// go out, whatever the transport has buffered.
	ctx    context.Context
	data   []byte
	off    int
	last   time.Time
	report func(int64)
}

const uploadChunk = 32 << 10

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	if p.off >= len(p.data) {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), uploadChunk)], p.data[p.off:])
	p.off += n
	if now := time.Now(); now.Sub(p.last) >= progressEvery || p.off == len(p.data) {
		p.last = now
		p.report(int64(p.off))
	}
	return n, nil
}

// fetch asks file.url for a file of session and GETs it: its preview
// (images only) or its download.
func (c *core) fetch(session, file string, preview bool) ([]byte, string, error) {
	if session == "" || file == "" {
		return nil, "", protocol.Errorf(protocol.CodeBadRequest, "session and file are required")
	}
	cl := c.current()
	if cl == nil {
		return nil, "", protocol.Errorf(CodeOffline, "not signed in")
	}
	ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
	defer cancel()
	var u protocol.FileURL
	if err := cl.Do(ctx, protocol.CmdFileURL, protocol.FileURLRequest{Session: session, File: file}, &u); err != nil {
		return nil, "", err
	}
	path := u.URL
	if preview {
		if u.PreviewURL == "" {
			return nil, "", protocol.Errorf(CodeNoPreview, "the file is not an image shown inline")
		}
		path = u.PreviewURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, httpBase(cl.Address())+path, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fileNetErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fileNetErr(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", httpRefusal(resp.StatusCode, body)
	}
	typ, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return body, typ, nil
}

// preview fetches an image for a thumbnail or the full-size view.
func (c *core) preview(session, file string) Result {
	body, typ, err := c.fetch(session, file, true)
	if err != nil {
		return errResult(err)
	}
	if !strings.HasPrefix(typ, "image/") || typ == "image/svg+xml" {
		return failResult(CodeNoPreview, "the relay served %q as a preview", typ)
	}
	return okResult(PreviewData{URL: "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(body), Type: typ})
}

// saveFile downloads a file into path, whole or not at all: a temporary file
// beside it is renamed into place once every byte is written.
func (c *core) saveFile(session, file, path string) Result {
	if path == "" {
		return failResult(protocol.CodeBadRequest, "no place to save the file")
	}
	body, _, err := c.fetch(session, file, false)
	if err != nil {
		return errResult(err)
	}
	if err := writeWhole(path, body); err != nil {
		return failResult(CodeSaveFailed, "could not save the file: %v", err)
	}
	return okResult(SavedData{Path: path})
}

// CodeSaveFailed: the file came but could not be written on this computer.
const CodeSaveFailed protocol.Code = "save_failed"

func writeWhole(path string, body []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// FileDialogs is what the window system offers for files; the desktop
// shell implements it. Without it (headless) SaveFile has nowhere to ask.
type FileDialogs interface {
	// SaveFileAs asks where to save a file named name; "" means cancelled.
	SaveFileAs(name string) (string, error)
}

// saveAs asks where to save, then saves there.
func (c *core) saveAs(session, file, name string) Result {
	dlg, ok := c.shell.(FileDialogs)
	if !ok || dlg == nil {
		return failResult(CodeNoDesk, "this window cannot ask where to save")
	}
	path, err := dlg.SaveFileAs(filepath.Base(name))
	if err != nil {
		return failResult(CodeSaveFailed, "the save dialog failed: %v", err)
	}
	if path == "" {
		return failResult(CodeCancelled, "saving was cancelled")
	}
	return c.saveFile(session, file, path)
}
