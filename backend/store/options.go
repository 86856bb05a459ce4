package store

// Options are the SQLite store's memory settings. SQLite's page caches live
// outside the Go heap (the pure-Go SQLite has its own allocator), so the
// relay's memory limit does not bound them: they count in its RSS on top.
type Options struct {
	// CacheKiB is the writer connection's page cache. Commits append to the
	// last pages of the log and update one small row per chat, so a few MiB
	// hold every page a commit touches.
	CacheKiB int
	// ReaderCacheKiB is each read connection's page cache (there are
	// max(4, cores) of them). Reads are catch-ups of one chat's log and the
	// startup load; the kernel's page cache serves what they miss.
	ReaderCacheKiB int
}

// Defaults, in KiB. SQLite's own default is 2,000 KiB per connection.
const (
	DefaultCacheKiB       = 4096
	DefaultReaderCacheKiB = 1024
)

// withDefaults fills what is unset (0).
func (o Options) withDefaults() Options {
	if o.CacheKiB <= 0 {
		o.CacheKiB = DefaultCacheKiB
	}
	if o.ReaderCacheKiB <= 0 {
		o.ReaderCacheKiB = DefaultReaderCacheKiB
	}
	return o
}
