package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// Attachments' rows (see store.Files). Their writes are not fenced: every
// node takes uploads, whichever leads the desk.

// FileKey reads the signing key, made by the first relay that asks.
func (s *Store) FileKey(ctx context.Context) ([]byte, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO file_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, store.NewFileKey()); err != nil {
		return nil, fmt.Errorf("postgres: file key: %w", named(err))
	}
	var k []byte
	if err := s.pool.QueryRow(ctx, `SELECT key FROM file_key WHERE id = 1`).Scan(&k); err != nil {
		return nil, fmt.Errorf("postgres: file key: %w", err)
	}
	return k, nil
}

// BeginFile records a begun upload.
func (s *Store) BeginFile(ctx context.Context, f store.FileRow) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO files (id, session, channel, uploader, name, state, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (id) DO NOTHING`,
		f.ID, string(f.Session), string(f.Channel), f.Uploader, encText(f.Name), nanos(f.Created))
	if err != nil {
		return fmt.Errorf("postgres: begin file: %w", named(err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	return nil
}

// FinishFile sets a begun upload's outcome.
func (s *Store) FinishFile(ctx context.Context, f store.FileRow) error {
	tag, err := s.pool.Exec(ctx, `UPDATE files SET state = $1, name = $2, type = $3, size = $4, width = $5, height = $6,
	sha256 = $7, stored_at = $8 WHERE id = $9 AND state = 'pending'`,
		f.State, encText(f.Name), f.Type, f.Size, f.Width, f.Height, f.SHA256, nanos(f.Stored), f.ID)
	if err != nil {
		return fmt.Errorf("postgres: finish file: %w", named(err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

const fileCols = `id, session, channel, uploader, name, type, size, width, height, sha256, state, seq, created_at, stored_at`

func scanFile(sc pgx.Row) (store.FileRow, error) {
	var (
		f                store.FileRow
		sid, ch          string
		seq, made, saved int64
	)
	err := sc.Scan(&f.ID, &sid, &ch, &f.Uploader, &f.Name, &f.Type, &f.Size, &f.Width, &f.Height, &f.SHA256, &f.State, &seq,
		&made, &saved)
	f.Name = decText(f.Name)
	f.Session, f.Channel, f.Seq, f.Created, f.Stored = chat.SessionID(sid), chat.ChannelID(ch), uint64(seq), fromNanos(made), fromNanos(saved)
	return f, err
}

// File reads one file.
func (s *Store) File(ctx context.Context, id string) (store.FileRow, error) {
	f, err := scanFile(s.pool.QueryRow(ctx, `SELECT `+fileCols+` FROM files WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, store.ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("postgres: file: %w", err)
	}
	return f, nil
}

// PurgeFiles marks a channel's older files purged.
func (s *Store) PurgeFiles(ctx context.Context, channel chat.ChannelID, before time.Time) ([]store.FileRow, error) {
	return s.purgeFiles(ctx, `state <> 'purged' AND created_at < $1 AND ($2 = '' OR channel = $2)`, nanos(before), string(channel))
}

// PurgeUnsent marks older files nobody sent purged.
func (s *Store) PurgeUnsent(ctx context.Context, before time.Time) ([]store.FileRow, error) {
	return s.purgeFiles(ctx, `state <> 'purged' AND seq = 0 AND created_at < $1`, nanos(before))
}

func (s *Store) purgeFiles(ctx context.Context, where string, args ...any) ([]store.FileRow, error) {
	rows, err := s.pool.Query(ctx, `UPDATE files SET state = 'purged' WHERE `+where+` RETURNING `+fileCols, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: purge files: %w", named(err))
	}
	defer rows.Close()
	var out []store.FileRow
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
