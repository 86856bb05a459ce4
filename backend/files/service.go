// Package files keeps chat attachments: the bytes behind a small Blobs
// interface (a directory, PostgreSQL or an S3-compatible store), their rows
// in the relay's store, and the HTTP endpoints that take uploads and serve
// downloads on signed, expiring URLs. Any relay of a cluster serves them:
// the signing key and the rows are in the shared database.
package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Prefix is the path the endpoints are served under: PUT and GET
// Prefix+token.
const Prefix = "/files/"

// Defaults of Options.
const (
	DefaultUploadTTL   = 15 * time.Minute
	DefaultDownloadTTL = 10 * time.Minute
	// UnsentAge: a file nobody sent within it is deleted.
	UnsentAge = 24 * time.Hour
)

// Options configure a Service.
type Options struct {
	UploadTTL   time.Duration // an upload URL's life
	DownloadTTL time.Duration // a download URL's life
	TempDir     string        // where uploads are spooled ("": the system's)
	// CheckOrigin says whether a browser's origin may upload (the relay's
	// websocket allowlist); nil allows none that sends an Origin.
	CheckOrigin func(*http.Request) bool
	Log         *slog.Logger
	Now         func() time.Time
}

// Service issues file URLs and serves them.
type Service struct {
	st    store.Files
	blobs Blobs
	sign  signer
	opt   Options
}

// New reads (or makes) the signing key from the store.
func New(ctx context.Context, st store.Files, blobs Blobs, opt Options) (*Service, error) {
	key, err := st.FileKey(ctx)
	if err != nil {
		return nil, err
	}
	if opt.UploadTTL <= 0 {
		opt.UploadTTL = DefaultUploadTTL
	}
	if opt.DownloadTTL <= 0 {
		opt.DownloadTTL = DefaultDownloadTTL
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, blobs: blobs, sign: signer{key: key}, opt: opt}, nil
}

// Blobs is where the service keeps bytes.
func (s *Service) Blobs() Blobs { return s.blobs }

// Uploader names who uploads or reads in a token: a visitor, or an agent.
func Uploader(agent chat.AgentID) string {
	if agent == 0 {
		return chat.ByVisitor
	}
	return fmt.Sprintf("agent:%d", agent)
}

// UploadSlot issues a one-time upload URL for a new file, with the limits
// the desk found (it checked that by may write in the session).
func (s *Service) UploadSlot(session chat.SessionID, channel chat.ChannelID, by, name string, rules chat.FileRules) protocol.FileSlot {
	exp := s.opt.Now().Add(s.opt.UploadTTL).Truncate(time.Second)
	id := NewID()
	tok := s.sign.sign(Claims{Kind: kindUpload, File: id, Session: string(session), Channel: string(channel), By: by,
		Name: truncate(name, protocol.MaxFileName), Max: rules.MaxBytes, Types: rules.Types, Expires: exp.Unix()})
	return protocol.FileSlot{File: id, UploadURL: Prefix + tok, ExpiresAt: exp.UTC(), MaxBytes: rules.MaxBytes}
}

// DownloadURLs issues a reader's short-lived URLs of a stored file (the
// desk checked that they may read its chat).
func (s *Service) DownloadURLs(f store.FileRow, by string) protocol.FileURL {
	exp := s.opt.Now().Add(s.opt.DownloadTTL).Truncate(time.Second)
	tok := s.sign.sign(Claims{Kind: kindDownload, File: f.ID, Session: string(f.Session), By: by, Expires: exp.Unix()})
	out := protocol.FileURL{URL: Prefix + tok, ExpiresAt: exp.UTC()}
	if inline(f.Type) {
		out.PreviewURL = out.URL + "?inline=1"
	}
	return out
}

// inline: the only types ever shown in the page rather than downloaded.
func inline(t string) bool { return t == "image/png" || t == "image/jpeg" || t == "image/gif" }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Handler serves PUT (upload) and GET (download) under Prefix.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.URL.Path, Prefix)
		switch r.Method {
		case http.MethodOptions:
			s.preflight(w, r)
		case http.MethodPut:
			if !s.cors(w, r) {
				writeError(w, http.StatusForbidden, protocol.CodeForbidden, "this origin may not upload")
				return
			}
			s.upload(w, r, token)
		case http.MethodGet, http.MethodHead:
			s.download(w, r, token)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, protocol.CodeBadRequest, "use PUT to upload, GET to download")
		}
	})
}

// cors allows a browser's upload from an origin the relay accepts
// websockets from; requests without an Origin (the desktop app) pass.
func (s *Service) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	w.Header().Add("Vary", "Origin")
	if s.opt.CheckOrigin == nil || !s.opt.CheckOrigin(r) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func (s *Service) preflight(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "PUT")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// writeError answers an HTTP refusal with a protocol code both clients
// translate.
func writeError(w http.ResponseWriter, status int, code protocol.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(protocol.Error{Code: code, Message: msg})
}

func tokenError(w http.ResponseWriter, err error) {
	if errors.Is(err, errExpired) {
		writeError(w, http.StatusGone, protocol.CodeURLExpired, err.Error())
		return
	}
	writeError(w, http.StatusForbidden, protocol.CodeForbidden, err.Error())
}

// upload takes a PUT: one-time, bounded, sniffed, re-encoded, durable
// before the 201.
func (s *Service) upload(w http.ResponseWriter, r *http.Request, token string) {
	c, err := s.sign.verify(token, kindUpload, s.opt.Now())
	if err != nil {
		tokenError(w, err)
		return
	}
	if r.ContentLength > c.Max {
		writeError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge,
			fmt.Sprintf("a file of %d bytes exceeds this channel's limit of %d", r.ContentLength, c.Max))
		return
	}
	ctx := r.Context()
	row := store.FileRow{ID: c.File, Session: chat.SessionID(c.Session), Channel: chat.ChannelID(c.Channel), Uploader: c.By,
		Name: CleanName(c.Name, ""), Created: s.opt.Now()}
	switch err := s.st.BeginFile(ctx, row); {
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, protocol.CodeUploadUsed, "this upload URL was used already; ask for a new one")
		return
	case err != nil:
		s.opt.Log.Error("files: begin upload", "err", err)
		writeError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "the relay cannot take files now; try again shortly")
		return
	}
	info, status, perr := s.store(ctx, r.Body, c, row)
	if perr != nil {
		row.State = store.FileFailed
		if err := s.st.FinishFile(context.WithoutCancel(ctx), row); err != nil {
			s.opt.Log.Warn("files: record a failed upload", "file", row.ID, "err", err)
		}
		writeError(w, status, perr.Code, perr.Message)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(info)
}

// store spools, checks and keeps an upload's bytes, then marks its row
// stored. A refusal says with what HTTP status and code.
func (s *Service) store(ctx context.Context, body io.Reader, c Claims, row store.FileRow) (protocol.FileInfo, int, *protocol.Error) {
	spool, err := os.CreateTemp(s.opt.TempDir, "upload-*")
	if err != nil {
		s.opt.Log.Error("files: spool", "err", err)
		return protocol.FileInfo{}, http.StatusServiceUnavailable, protocol.Errorf(protocol.CodeUnavailable, "the relay cannot take files now")
	}
	defer func() { spool.Close(); os.Remove(spool.Name()) }()
	n, err := io.Copy(spool, io.LimitReader(body, c.Max+1))
	switch {
	case err != nil:
		return protocol.FileInfo{}, http.StatusBadRequest, protocol.Errorf(protocol.CodeBadRequest, "the upload broke off: %v", err)
	case n > c.Max:
		return protocol.FileInfo{}, http.StatusRequestEntityTooLarge,
			protocol.Errorf(protocol.CodeTooLarge, "the file exceeds this channel's limit of %d bytes", c.Max)
	case n == 0:
		return protocol.FileInfo{}, http.StatusBadRequest, protocol.Errorf(protocol.CodeBadRequest, "the file is empty")
	}
	p, err := process(spool, n, c.Types, s.opt.TempDir)
	if err != nil {
		var ref *refusal
		if errors.As(err, &ref) {
			status := http.StatusUnsupportedMediaType
			if ref.code == protocol.CodeTooLarge {
				status = http.StatusRequestEntityTooLarge
			}
			return protocol.FileInfo{}, status, protocol.Errorf(ref.code, "%s", ref.msg)
		}
		s.opt.Log.Error("files: process", "err", err)
		return protocol.FileInfo{}, http.StatusInternalServerError, protocol.Errorf(protocol.CodeInternal, "the file could not be processed")
	}
	if p.file != spool {
		defer func() { p.file.Close(); os.Remove(p.file.Name()) }()
	}
	sum := sha256.New()
	if _, err := p.file.Seek(0, io.SeekStart); err == nil {
		_, err = io.Copy(sum, p.file)
	}
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return protocol.FileInfo{}, http.StatusInternalServerError, protocol.Errorf(protocol.CodeInternal, "the file could not be processed")
	}
	if err := s.blobs.Put(ctx, row.ID, p.file, p.size); err != nil {
		s.opt.Log.Error("files: store bytes", "file", row.ID, "err", err)
		return protocol.FileInfo{}, http.StatusServiceUnavailable, protocol.Errorf(protocol.CodeUnavailable, "the file could not be stored; try again")
	}
	row.State, row.Type, row.Size, row.Width, row.Height = store.FileStored, p.mime, p.size, p.width, p.height
	row.Name, row.SHA256, row.Stored = CleanName(c.Name, p.mime), hex.EncodeToString(sum.Sum(nil)), s.opt.Now()
	if err := s.st.FinishFile(ctx, row); err != nil {
		s.opt.Log.Error("files: finish upload", "file", row.ID, "err", err)
		s.blobs.Delete(context.WithoutCancel(ctx), row.ID)
		return protocol.FileInfo{}, http.StatusServiceUnavailable, protocol.Errorf(protocol.CodeUnavailable, "the file could not be stored; try again")
	}
	return Info(row), 0, nil
}

// Info is a stored file as the protocol shows it.
func Info(f store.FileRow) protocol.FileInfo {
	return protocol.FileInfo{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Width: f.Width, Height: f.Height}
}

// Attachment is a stored file as an entry carries it.
func Attachment(f store.FileRow) *chat.Attachment {
	return &chat.Attachment{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Width: f.Width, Height: f.Height}
}

// download serves a file on a valid download URL: as an attachment, with
// nosniff, unless it is a PNG, JPEG or GIF asked for inline.
func (s *Service) download(w http.ResponseWriter, r *http.Request, token string) {
	c, err := s.sign.verify(token, kindDownload, s.opt.Now())
	if err != nil {
		tokenError(w, err)
		return
	}
	ctx := r.Context()
	f, err := s.st.File(ctx, c.File)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no such file")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "the file cannot be read now")
		return
	case f.State == store.FilePurged:
		writeError(w, http.StatusGone, protocol.CodeFileGone, "this file was deleted")
		return
	case f.State != store.FileStored || f.Seq == 0 || string(f.Session) != c.Session:
		writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no such file")
		return
	}
	body, err := s.read(ctx, f)
	if err != nil {
		s.opt.Log.Error("files: read", "file", f.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "the file cannot be read now")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Content-Disposition", disposition(r.URL.Query().Get("inline") == "1" && inline(f.Type), f.Name))
	h.Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", f.Stored, strings.NewReader(string(body)))
}

// read reads a file's bytes and checks them against their checksum.
func (s *Service) read(ctx context.Context, f store.FileRow) ([]byte, error) {
	rc, err := s.blobs.Get(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, f.Size+1))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("checksum mismatch: the stored bytes of %s are damaged", f.ID)
	}
	return b, nil
}

func disposition(inline bool, name string) string {
	kind := "attachment"
	if inline {
		kind = "inline"
	}
	return mimeDisposition(kind, name)
}
