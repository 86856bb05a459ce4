package relay

import (
	"runtime/debug"

	"switchboard/backend/store"
)

// applyMemoryLimit sets the runtime's soft memory limit and GC percent when
// configured. The heap growing to twice its live size (GOGC=100) is where
// most of the relay's RSS beyond the live heap went under load; a lower GC
// percent trades collector CPU for memory in proportion, a limit only near
// it (and at a high price when the process sits at the limit).
func (c Config) applyMemoryLimit() {
	if c.MemoryLimit > 0 {
		debug.SetMemoryLimit(c.MemoryLimit)
	}
	if c.GCPercent > 0 {
		debug.SetGCPercent(c.GCPercent)
	}
}

// StoreOptions are the store's memory settings of this configuration.
func (c Config) StoreOptions() store.Options {
	return store.Options{CacheKiB: c.StoreCacheKiB, ReaderCacheKiB: c.StoreReaderCacheKiB}
}
