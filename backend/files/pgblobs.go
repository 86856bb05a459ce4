package files

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres keeps files' bytes in the relay's database (table file_chunks,
// made by the PostgreSQL store's migrations), in chunks, so that every
// node of a cluster reaches them. A commit is durable when it returns.
type Postgres struct{ Pool *pgxpool.Pool }

// chunkBytes is one row's share of a file.
const chunkBytes = 1 << 20

// Put writes a file's chunks in one transaction.
func (p *Postgres) Put(ctx context.Context, id string, r io.Reader, size int64) error {
	tx, err := p.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `DELETE FROM file_chunks WHERE id = $1`, id); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	buf := make([]byte, chunkBytes)
	var total int64
	for n := 0; ; n++ {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO file_chunks (id, n, data) VALUES ($1, $2, $3)`, id, n, buf[:k]); err != nil {
				return fmt.Errorf("files: %w", err)
			}
			total += int64(k)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("files: read: %w", err)
		}
	}
	if total != size {
		return fmt.Errorf("files: wrote %d bytes, expected %d", total, size)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("files: commit: %w", err)
	}
	return nil
}

// Get reads a file's chunks in order.
func (p *Postgres) Get(ctx context.Context, id string) (io.ReadCloser, error) {
	rows, err := p.Pool.Query(ctx, `SELECT data FROM file_chunks WHERE id = $1 ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	var b bytes.Buffer
	found := false
	var chunk []byte
	_, err = pgx.ForEachRow(rows, []any{&chunk}, func() error {
		found = true
		b.Write(chunk)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	if !found {
		return nil, ErrNoBlob
	}
	return io.NopCloser(&b), nil
}

// Delete removes a file's chunks.
func (p *Postgres) Delete(ctx context.Context, id string) error {
	_, err := p.Pool.Exec(ctx, `DELETE FROM file_chunks WHERE id = $1`, id)
	return err
}
