package relay

import (
	"runtime/debug"

	"switchboard/backend/store"
)

// applyMemoryLimit sets the runtime's soft memory limit when one is
// configured. With it the collector runs sooner as the process nears the
// limit instead of letting the heap double its live size (GOGC=100); that is
// where most of the relay's RSS beyond the live heap went under load.
func (c Config) applyMemoryLimit() {
	if c.MemoryLimit > 0 {
		debug.SetMemoryLimit(c.MemoryLimit)
	}
}

// StoreOptions are the store's memory settings of this configuration.
func (c Config) StoreOptions() store.Options {
	return store.Options{CacheKiB: c.StoreCacheKiB, ReaderCacheKiB: c.StoreReaderCacheKiB}
}
