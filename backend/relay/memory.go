package relay

import (
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"

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

// gcFloorLoop keeps the collector's heap goal at or above floor bytes until
// stop closes. Paced by the GC percent alone, the goal follows the live
// heap: at 12,500 deliveries a second the relay holds about 12 MB, so with
// the default of 50 % it collected every 0.37 s, and on two cores a mark
// phase takes half a core for 5 to 20 ms; the slowest deliveries were the
// ones caught in one (docs/performance.md, "A floor under the heap goal").
// After each collection this sets the percent that puts the next goal at
// the larger of the usual one and floor. Under full load the live heap is
// large enough that the floor changes nothing, and neither does the RSS.
func gcFloorLoop(floor int64, base int, every time.Duration, stop <-chan struct{}) {
	samples := []rtmetrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	var cycles uint64
	percent := base
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rtmetrics.Read(samples)
		if n := samples[0].Value.Uint64(); n != cycles {
			cycles = n
			if p := gcPercentFor(samples[1].Value.Uint64(), uint64(floor), base); p != percent {
				percent = p
				debug.SetGCPercent(p)
			}
		}
		select {
		case <-stop:
			debug.SetGCPercent(base)
			return
		case <-t.C:
		}
	}
}

// maxGCPercent bounds what gcPercentFor returns: the percent set after one
// collection is the goal of the next one over whatever that one finds live,
// which after a burst of connections can be several times as much.
const maxGCPercent = 400

// gcPercentFor is the GC percent that puts the heap goal at the larger of
// live*(100+base)/100 and floor.
func gcPercentFor(live, floor uint64, base int) int {
	if live == 0 {
		return max(base, maxGCPercent)
	}
	p := int(min((floor*100+live-1)/live, maxGCPercent+100)) - 100 // ceil(floor/live), as a percent over live
	return max(p, base)
}

// gcBase is the GC percent the floor raises: the configured one, else the
// runtime's (GOGC); negative when collection is off.
func (c Config) gcBase() int {
	if c.GCPercent > 0 {
		return c.GCPercent
	}
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
