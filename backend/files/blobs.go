package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Blobs keep files' bytes. Put returns once they are durable; Get of an
// unknown id is ErrNoBlob; Delete of one is not an error.
type Blobs interface {
	Put(ctx context.Context, id string, r io.Reader, size int64) error
	Get(ctx context.Context, id string) (io.ReadCloser, error)
	Delete(ctx context.Context, id string) error
}

// ErrNoBlob: no bytes stored under that id.
var ErrNoBlob = errors.New("no such file")

// Disk keeps each file in its own file under Dir (two-level by id),
// written to a temporary file, fsynced, renamed into place, and the
// directory fsynced, before Put returns.
type Disk struct{ Dir string }

// NewDisk makes the directory and removes what an interrupted Put left.
func NewDisk(dir string) (*Disk, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		os.Remove(filepath.Join(tmp, e.Name()))
	}
	return &Disk{Dir: dir}, nil
}

func (d *Disk) path(id string) string { return filepath.Join(d.Dir, id[:2], id) }

// Put writes a file durably.
func (d *Disk) Put(ctx context.Context, id string, r io.Reader, size int64) error {
	if !validID(id) {
		return fmt.Errorf("files: bad id %q", id)
	}
	f, err := os.CreateTemp(filepath.Join(d.Dir, "tmp"), id+"-*")
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, r)
	if err != nil {
		return fmt.Errorf("files: write: %w", err)
	}
	if n != size {
		return fmt.Errorf("files: wrote %d bytes, expected %d", n, size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("files: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	sub := filepath.Dir(d.path(id))
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	if err := os.Rename(f.Name(), d.path(id)); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	done = true
	// The rename is durable once its directory is (and a new directory
	// once its parent is).
	return errors.Join(syncDir(sub), syncDir(d.Dir))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("files: fsync %s: %w", dir, err)
	}
	return nil
}

// Get opens a file.
func (d *Disk) Get(ctx context.Context, id string) (io.ReadCloser, error) {
	if !validID(id) {
		return nil, ErrNoBlob
	}
	f, err := os.Open(d.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoBlob
	}
	return f, err
}

// Delete removes a file.
func (d *Disk) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	err := os.Remove(d.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// DirFor is the default files directory of a SQLite database: next to it.
func DirFor(database string) string {
	return strings.TrimSuffix(database, filepath.Ext(database)) + "-files"
}
