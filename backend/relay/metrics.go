package relay

import (
	"fmt"
	"net/http"
	rtmetrics "runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/backend/protocol"
)

// metrics are counters served in the Prometheus text format at /metrics.
type metrics struct {
	commits       atomic.Int64
	committedJobs atomic.Int64
	commitNanos   atomic.Int64
	delivered     atomic.Int64
	framesWritten atomic.Int64 // frames handed to sockets
	frameWrites   atomic.Int64 // the batches they went in (a system call each, up to 64 KiB)
	slowKilled    atomic.Int64
	rateLimited   atomic.Int64
	originRefused atomic.Int64
	loginFailed   atomic.Int64 // wrong password or unknown login
	loginThrottle atomic.Int64 // sign-ins refused unchecked: wait, or busy
	addrRefused   atomic.Int64
	errors        codeCounter
	// The store not taking writes (storefault.go): failed commits and
	// probes, time spent degraded in past outages, and the start of the
	// current one (Unix nanoseconds; 0: none).
	writeFailures atomic.Int64
	degradedNanos atomic.Int64
	degradedSince atomic.Int64
}

// degraded reports whether writes are refused now and the seconds spent so,
// the current outage included.
func (m *metrics) degraded(now time.Time) (bool, float64) {
	d := time.Duration(m.degradedNanos.Load())
	since := m.degradedSince.Load()
	if since != 0 {
		d += now.Sub(time.Unix(0, since))
	}
	return since != 0, d.Seconds()
}

func (m *metrics) commit(jobs int, d time.Duration) {
	m.commits.Add(1)
	m.committedJobs.Add(int64(jobs))
	m.commitNanos.Add(int64(d))
}

type codeCounter struct {
	mu sync.Mutex
	n  map[protocol.Code]int64
}

func (c *codeCounter) inc(code protocol.Code) {
	c.mu.Lock()
	if c.n == nil {
		c.n = make(map[protocol.Code]int64)
	}
	c.n[code]++
	c.mu.Unlock()
}

func (c *codeCounter) snapshot() map[protocol.Code]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[protocol.Code]int64, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	agents, visitors, watchers := 0, 0, len(s.watchers)
	held, tokens := s.desk.Held(), len(s.visitorTokens)
	for _, set := range s.agentConns {
		agents += len(set)
	}
	for _, set := range s.visitorConns {
		visitors += len(set)
	}
	s.mu.Unlock()
	m := &s.metrics
	var b strings.Builder
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge("switchboard_connections", "Open websocket connections.", s.live.Load())
	gauge("switchboard_agent_connections", "Connections of logged-in agents.", int64(agents))
	gauge("switchboard_visitor_connections", "Connections routed to a visitor's chat.", int64(visitors))
	gauge("switchboard_dashboard_watchers", "Connections watching the dashboard.", int64(watchers))
	gauge("switchboard_sessions_held", "Chats held in memory: waiting, active, and ended ones on agents' lists.", int64(held))
	gauge("switchboard_visitor_tokens_held", "Visitor tokens held in memory (one per chat held).", int64(tokens))
	counter("switchboard_commits_total", "Store transactions (group commits).", m.commits.Load())
	counter("switchboard_committed_jobs_total", "Decisions committed.", m.committedJobs.Load())
	fmt.Fprintf(&b, "# HELP switchboard_commit_seconds_total Time spent committing.\n# TYPE switchboard_commit_seconds_total counter\nswitchboard_commit_seconds_total %g\n", time.Duration(m.commitNanos.Load()).Seconds())
	counter("switchboard_entries_delivered_total", "Log entries committed and fanned out.", m.delivered.Load())
	counter("switchboard_frames_written_total", "Frames handed to client sockets.", m.framesWritten.Load())
	counter("switchboard_frame_writes_total", "Batches those frames were written in: one system call each up to 64 KiB, so fewer than frames when a client's frames are written together.", m.frameWrites.Load())
	counter("switchboard_slow_clients_disconnected_total", "Clients cut off because their send queue filled.", m.slowKilled.Load())
	counter("switchboard_rate_limited_total", "Frames refused by the per-connection rate limit.", m.rateLimited.Load())
	counter("switchboard_origin_refused_total", "Websocket handshakes refused for their Origin.", m.originRefused.Load())
	counter("switchboard_login_failures_total", "Password sign-ins refused for a wrong login or password.", m.loginFailed.Load())
	counter("switchboard_login_throttled_total", "Password sign-ins refused unchecked: too many failures, or too many at once.", m.loginThrottle.Load())
	counter("switchboard_password_checks_total", "bcrypt comparisons run for sign-ins.", s.passwords.runs.Load())
	degraded, degradedFor := m.degraded(s.now())
	gauge("switchboard_store_degraded", "1 while the database does not take writes and writes are refused.", boolGauge(degraded))
	counter("switchboard_store_write_failures_total", "Commits and probe writes the database refused (disk full, read-only, I/O error).", m.writeFailures.Load())
	fmt.Fprintf(&b, "# HELP switchboard_store_degraded_seconds_total Time spent refusing writes because the database did not take them.\n# TYPE switchboard_store_degraded_seconds_total counter\nswitchboard_store_degraded_seconds_total %g\n", degradedFor)
	counter("switchboard_address_refused_total", "Websocket handshakes refused: too many connections from the address.", m.addrRefused.Load())
	// The collector's work follows what is allocated: bytes allocated per
	// delivered entry is the figure to watch (docs/performance.md).
	rt := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}, {Name: "/gc/cycles/total:gc-cycles"}}
	rtmetrics.Read(rt)
	counter("switchboard_heap_allocated_bytes_total", "Bytes the relay has allocated on its heap.", int64(rt[0].Value.Uint64()))
	counter("switchboard_heap_allocations_total", "Objects the relay has allocated on its heap.", int64(rt[1].Value.Uint64()))
	counter("switchboard_gc_cycles_total", "Garbage collections completed.", int64(rt[2].Value.Uint64()))
	s.writeRequestMetrics(&b)
	codes := m.errors.snapshot()
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	b.WriteString("# HELP switchboard_errors_total Refusals sent, by error code.\n# TYPE switchboard_errors_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "switchboard_errors_total{code=%q} %d\n", k, codes[protocol.Code(k)])
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

func boolGauge(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
