package files

import (
	"context"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// Purge deletes the files of a channel ("": all) made before a time: their
// rows are marked purged first (no URL serves them from then on), then
// their bytes are deleted. It returns how many.
func Purge(ctx context.Context, st store.Files, blobs Blobs, channel chat.ChannelID, before time.Time) (int, error) {
	rows, err := st.PurgeFiles(ctx, channel, before)
	if err != nil {
		return 0, err
	}
	return len(rows), deleteBlobs(ctx, blobs, rows)
}

// SweepUnsent deletes files nobody sent (or whose upload broke off) made
// before a time.
func SweepUnsent(ctx context.Context, st store.Files, blobs Blobs, before time.Time) (int, error) {
	rows, err := st.PurgeUnsent(ctx, before)
	if err != nil {
		return 0, err
	}
	return len(rows), deleteBlobs(ctx, blobs, rows)
}

func deleteBlobs(ctx context.Context, blobs Blobs, rows []store.FileRow) error {
	var first error
	for _, f := range rows {
		if err := blobs.Delete(ctx, f.ID); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Sweep runs SweepUnsent every hour until ctx ends.
func (s *Service) Sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := SweepUnsent(ctx, s.st, s.blobs, s.opt.Now().Add(-UnsentAge)); err != nil {
			s.opt.Log.Warn("files: sweep unsent files", "err", err)
		} else if n > 0 {
			s.opt.Log.Info("files: deleted unsent files", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
