package store

import (
	"path/filepath"
	"testing"
)

// The page cache sizes reach the writer and every reader connection.
func TestOpenSQLiteWithCacheSizes(t *testing.T) {
	for _, tc := range []struct {
		o              Options
		writer, reader int
	}{{Options{}, DefaultCacheKiB, DefaultReaderCacheKiB}, {Options{CacheKiB: 2048, ReaderCacheKiB: 256}, 2048, 256}} {
		s, err := OpenSQLiteWith(filepath.Join(t.TempDir(), "c.db"), tc.o)
		if err != nil {
			t.Fatal(err)
		}
		var w, r int
		if err := s.w.QueryRow("PRAGMA cache_size").Scan(&w); err != nil {
			t.Fatal(err)
		}
		if err := s.r.QueryRow("PRAGMA cache_size").Scan(&r); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if w != -tc.writer || r != -tc.reader {
			t.Errorf("%+v: writer cache_size %d, reader %d; want -%d, -%d (KiB)", tc.o, w, r, tc.writer, tc.reader)
		}
	}
}
