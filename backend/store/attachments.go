package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// Files are attachments: their bytes live in a blob store (backend/files),
// their rows here. A row is made when an upload begins (which makes the
// upload URL one-time), marked stored once the bytes are durable, and tied
// to the entry that carries it when that message commits (Seq). A file
// never sent (Seq 0) is shown to nobody and purged after a day.

// File states.
const (
	FilePending = "pending" // an upload began; the bytes are not durable yet
	FileStored  = "stored"  // durable, may be sent and read
	FileFailed  = "failed"  // the upload was refused or broke off
	FilePurged  = "purged"  // the bytes were deleted
)

// FileRow is one attachment as stored.
type FileRow struct {
	ID       string
	Session  chat.SessionID
	Channel  chat.ChannelID
	Uploader string // "visitor" or "agent:<id>"
	Name     string
	Type     string
	Size     int64
	Width    int
	Height   int
	SHA256   string // hex of the stored bytes
	State    string
	Seq      uint64 // the entry that carries it; 0: not sent
	Created  time.Time
	Stored   time.Time
}

// Files is what a Store keeps about attachments. Writes are not fenced by
// a cluster term: any node takes uploads, and none of it is the desk's.
type Files interface {
	// FileKey is the secret upload and download URLs are signed with, made
	// once and shared by every relay on the database.
	FileKey(ctx context.Context) ([]byte, error)
	// BeginFile records that an upload began; ErrExists if the id was used.
	BeginFile(ctx context.Context, f FileRow) error
	// FinishFile sets a begun file's outcome (FileStored with its type,
	// size and checksum, or FileFailed); ErrNotFound if it was not begun.
	FinishFile(ctx context.Context, f FileRow) error
	// File reads one file; ErrNotFound if unknown.
	File(ctx context.Context, id string) (FileRow, error)
	// PurgeFiles marks purged the files of a channel ("": every channel)
	// made before a time, and returns them so their bytes can be deleted.
	PurgeFiles(ctx context.Context, channel chat.ChannelID, before time.Time) ([]FileRow, error)
	// PurgeUnsent does so for files never sent (or never stored) made
	// before a time.
	PurgeUnsent(ctx context.Context, before time.Time) ([]FileRow, error)
}

// NewFileKey makes a key for FileKey.
func NewFileKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// fileRow is the params column's attachment (see params.go).
type fileRow struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Width  int    `json:"w,omitempty"`
	Height int    `json:"h,omitempty"`
}

// An entry's params column holds a system line's params or, for a message
// with an attachment, {"file":{…}}: one column for what a line names.
type entryParamsRow struct {
	paramsRow
	File *fileRow `json:"file,omitempty"`
}

// EncodeEntryParams writes an entry's params and attachment as stored.
func EncodeEntryParams(e *chat.Entry) string {
	if e.File == nil {
		return encodeParams(e.Params)
	}
	f := e.File
	r := entryParamsRow{File: &fileRow{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Width: f.Width, Height: f.Height}}
	if s := encodeParams(e.Params); s != "" {
		if err := json.Unmarshal([]byte(s), &r.paramsRow); err != nil {
			return s
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return ""
	}
	return string(b)
}

// DecodeEntryParams reads EncodeEntryParams' output into e.
func DecodeEntryParams(s string, e *chat.Entry) error {
	p, err := decodeParams(s)
	if err != nil {
		return err
	}
	e.Params = p
	if s == "" || e.Kind != chat.KindMessage {
		return nil
	}
	var r struct {
		File *fileRow `json:"file"`
	}
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return fmt.Errorf("params %q: %w", s, err)
	}
	if f := r.File; f != nil {
		e.File = &chat.Attachment{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size, Width: f.Width, Height: f.Height}
	}
	return nil
}

// attachSQL ties a stored file to the entry that carries it, once.
const attachSQL = `UPDATE files SET seq = ? WHERE id = ? AND session = ? AND seq = 0`

// --- SQLite ------------------------------------------------------------------

// FileKey reads the signing key.
func (s *SQLite) FileKey(ctx context.Context) ([]byte, error) {
	var k []byte
	err := s.r.QueryRowContext(ctx, `SELECT key FROM file_key WHERE id = 1`).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.write(ctx, false, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO file_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, NewFileKey())
			return err
		})
		if err == nil {
			err = s.r.QueryRowContext(ctx, `SELECT key FROM file_key WHERE id = 1`).Scan(&k)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: file key: %w", err)
	}
	return k, nil
}

// BeginFile records a begun upload.
func (s *SQLite) BeginFile(ctx context.Context, f FileRow) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO files (id, session, channel, uploader, name, state, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
			f.ID, string(f.Session), string(f.Channel), f.Uploader, f.Name, nanos(f.Created))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrExists
		}
		return nil
	})
}

// FinishFile sets a begun upload's outcome.
func (s *SQLite) FinishFile(ctx context.Context, f FileRow) error {
	return s.write(ctx, false, func(tx *sql.Tx) error {
		return mustChange(tx.ExecContext(ctx, `UPDATE files SET state = ?, name = ?, type = ?, size = ?, width = ?, height = ?,
	sha256 = ?, stored_at = ? WHERE id = ? AND state = 'pending'`,
			f.State, f.Name, f.Type, f.Size, f.Width, f.Height, f.SHA256, nanos(f.Stored), f.ID))
	})
}

const fileCols = `id, session, channel, uploader, name, type, size, width, height, sha256, state, seq, created_at, stored_at`

func scanFile(sc interface{ Scan(...any) error }) (FileRow, error) {
	var (
		f                FileRow
		sid, ch          string
		seq, made, saved int64
	)
	err := sc.Scan(&f.ID, &sid, &ch, &f.Uploader, &f.Name, &f.Type, &f.Size, &f.Width, &f.Height, &f.SHA256, &f.State, &seq,
		&made, &saved)
	f.Session, f.Channel, f.Seq, f.Created, f.Stored = chat.SessionID(sid), chat.ChannelID(ch), uint64(seq), fromNanos(made), fromNanos(saved)
	return f, err
}

// File reads one file.
func (s *SQLite) File(ctx context.Context, id string) (FileRow, error) {
	f, err := scanFile(s.r.QueryRowContext(ctx, `SELECT `+fileCols+` FROM files WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("store: file: %w", err)
	}
	return f, nil
}

// PurgeFiles marks a channel's older files purged.
func (s *SQLite) PurgeFiles(ctx context.Context, channel chat.ChannelID, before time.Time) ([]FileRow, error) {
	return s.purgeFiles(ctx, `state != 'purged' AND created_at < ? AND (? = '' OR channel = ?)`,
		nanos(before), string(channel), string(channel))
}

// PurgeUnsent marks older files nobody sent purged.
func (s *SQLite) PurgeUnsent(ctx context.Context, before time.Time) ([]FileRow, error) {
	return s.purgeFiles(ctx, `state != 'purged' AND seq = 0 AND created_at < ?`, nanos(before))
}

func (s *SQLite) purgeFiles(ctx context.Context, where string, args ...any) ([]FileRow, error) {
	var out []FileRow
	err := s.write(ctx, false, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE files SET state = 'purged' WHERE `+where+` RETURNING `+fileCols, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFile(rows)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	return out, err
}

// SplitFileTypes reads the stored list of a channel's file types.
func SplitFileTypes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// JoinFileTypes is what SplitFileTypes reads.
func JoinFileTypes(types []string) string { return strings.Join(types, ",") }

// fileRules are the channel's limits as the desk applies them.
func (c ChannelRow) fileRules() chat.FileRules {
	r := chat.FileRules{MaxBytes: c.FileMaxBytes}
	if r.MaxBytes == 0 {
		r.MaxBytes = protocol.DefaultFileMaxBytes
	}
	if r.MaxBytes < 0 {
		r.MaxBytes = 0
	}
	r.Types, _ = protocol.ExpandFileTypes(c.FileTypes) // checked by PutChannel
	if r.Types == nil {
		r.Types = []string{}
	}
	return r
}

// checkFiles refuses file types a channel may not take.
func (c ChannelRow) checkFiles() error {
	_, err := protocol.ExpandFileTypes(c.FileTypes)
	return err
}

// CheckFiles is checkFiles for other stores.
func (c ChannelRow) CheckFiles() error { return c.checkFiles() }
