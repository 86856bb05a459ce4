package protocol

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Attachments travel over HTTP, never through the websocket:
//
//  1. file.upload asks for a slot: the relay checks that the sender may
//     write in the chat and that the declared size fits the channel, and
//     answers a one-time upload URL (a path on the relay) and the file's id.
//  2. The client PUTs the bytes to that URL. The relay sniffs the type
//     (never trusting the name or the client's type), refuses what the
//     channel does not allow, re-encodes images (which strips EXIF and other
//     metadata), stores the file durably and answers 201 with a FileInfo.
//  3. message.send with file set to the id commits the message that carries
//     it (text may then be empty). A resend with the same client_id stays
//     idempotent. A file nobody sent is visible to nobody.
//  4. Readers (the owner, listeners, the offered receiver, the participant
//     visitor) ask file.url for short-lived signed URLs and GET them.

// Command names.
const (
	CmdFileUpload = "file.upload" // ask for a one-time upload URL
	CmdFileURL    = "file.url"    // ask for short-lived download URLs
)

// Error codes of attachments. HTTP answers of the file endpoints carry the
// same codes in a JSON body {"code":…,"message":…}.
const (
	CodeFileType   Code = "file_type"   // the file's type (sniffed from its bytes) is not allowed in the channel
	CodeURLExpired Code = "url_expired" // an upload or download URL past its expiry: ask for a new one
	CodeUploadUsed Code = "upload_used" // the one-time upload URL was used already: ask for a new slot
	CodeFileGone   Code = "file_gone"   // the file was purged (older than the channel keeps files)
)

// Limits of attachments.
const (
	// DefaultFileMaxBytes is a channel's size limit unless set otherwise.
	DefaultFileMaxBytes = 10 << 20
	MaxFileName         = 255 // bytes in a file's name; longer names are shortened
)

// FileUpload asks for an upload slot in a chat.
type FileUpload struct {
	Session string `json:"session"`
	Name    string `json:"name"` // the file's name as the user chose it; only shown, never trusted
	Size    int64  `json:"size"` // bytes the client will PUT
}

// FileSlot answers file.upload: PUT the bytes to UploadURL (a path on the
// relay's HTTP address) once, before ExpiresAt.
type FileSlot struct {
	File      string    `json:"file"`       // the id to send in message.send's file
	UploadURL string    `json:"upload_url"` // e.g. /files/<token>; resolve against the relay's http(s) address
	ExpiresAt time.Time `json:"expires_at"`
	MaxBytes  int64     `json:"max_bytes"` // the most the PUT may carry
}

// FileInfo is a stored file: the 201 answer of an upload, and the file an
// entry carries.
type FileInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"` // the MIME type sniffed on the relay
	Size   int64  `json:"size"` // bytes as stored (after re-encoding)
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// FileURLRequest asks for a file's download URLs.
type FileURLRequest struct {
	Session string `json:"session"`
	File    string `json:"file"`
}

// FileURL answers file.url. URL downloads the file as an attachment;
// PreviewURL (images only: PNG, JPEG, GIF) shows it inline, for a
// thumbnail. Both are paths on the relay, valid until ExpiresAt.
type FileURL struct {
	URL        string    `json:"url"`
	PreviewURL string    `json:"preview_url,omitempty"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// FileRules are a channel's limits on attachments.
type FileRules struct {
	MaxBytes int64    `json:"max_bytes"` // 0: attachments are off
	Types    []string `json:"types"`     // MIME types accepted, as sniffed
}

// FileTypeClasses are the names a channel's allowed types may be given by
// (channel set --file-types image,pdf). WebP is accepted and stored as PNG.
var FileTypeClasses = map[string][]string{
	"image": {"image/png", "image/jpeg", "image/gif", "image/webp"},
	"pdf":   {"application/pdf"},
	"text":  {"text/plain", "text/csv"},
	"office": {
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.oasis.opendocument.text",
		"application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.presentation",
		"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
		"text/rtf",
	},
}

// DefaultFileTypes are the classes a channel accepts unless set otherwise.
var DefaultFileTypes = []string{"image", "pdf", "text", "office"}

// neverAllowed are types no channel may accept: browsers run them.
var neverAllowed = []string{"text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/javascript", "text/xml", "application/xml"}

// ExpandFileTypes turns class names and MIME types into a sorted list of
// MIME types; none gives the default classes'. Active content (HTML, SVG,
// scripts) is refused.
func ExpandFileTypes(names []string) ([]string, error) {
	if len(names) == 0 {
		names = DefaultFileTypes
	}
	var out []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if ts, ok := FileTypeClasses[n]; ok {
			out = append(out, ts...)
			continue
		}
		if !strings.Contains(n, "/") {
			return nil, fmt.Errorf("file type %q: use a MIME type or one of image, pdf, text, office", n)
		}
		if slices.Contains(neverAllowed, n) {
			return nil, fmt.Errorf("file type %q is never allowed: browsers run it", n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (r FileRules) MarshalJSON() ([]byte, error) {
	type plain FileRules
	r.Types = orEmpty(r.Types)
	return json.Marshal(plain(r))
}
