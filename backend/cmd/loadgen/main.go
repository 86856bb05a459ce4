// Command loadgen puts the Switchboard relay under a chat-shaped load over
// real websockets and reports what it took: deliveries per second,
// publish-to-deliver latency, transfer offer latency, errors by code,
// messages lost or duplicated, and the relay's memory and CPU. It can run a
// minimal in-memory fan-out hub (the baseline) under the same load in the
// same run, so every figure is also a ratio to that limit.
//
// The load: V visitors each in a chat, A agents who pick their share of the
// chats, S supervisors who listen to theirs. Visitors publish (as fast as the
// target acknowledges, with a fixed number in flight per chat, or at a set
// rate); each message is delivered to its agent and its listener (and echoed
// to the visitor). Transfers are offered at a set rate and then accepted,
// rejected or cancelled.
//
//	loadgen --relay-bin build/bin/switchboard-relay --baseline --duration 20s
//	loadgen --relay-bin build/bin/switchboard-relay --rate 6250 --transfers 20
//	loadgen --relay-bin build/bin/switchboard-relay --duration 0 --idle 10000
//
// See docs/performance.md for the scenarios and the figures.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"switchboard/backend/cmd/loadgen/baseline"
	"switchboard/backend/relay"
	"switchboard/backend/store"
)

// scratchDir is the run's temporary directory, removed on an interrupt too.
var scratchDir atomic.Pointer[string]

type options struct {
	cfg        config
	relayBin   string
	url        string
	relayPID   int
	database   string
	setupOnly  bool
	baseline   bool
	inProcess  bool
	rounds     int
	idle       int
	jsonOut    string
	pprofOut   string
	heapOut    string
	traceOut   string
	keep       bool
	rate       float64
	burst      int
	inflight   int
	sendQueue  int
	serveBase  string
	quiet      bool
	settleWait time.Duration
}

func main() {
	o := options{cfg: defaultConfig()}
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	c := &o.cfg
	fs.StringVar(&o.relayBin, "relay-bin", "", "start this relay binary on a fresh seeded database (or --database) and measure it")
	fs.StringVar(&o.url, "url", "", "measure a relay already running at this websocket URL (ws://127.0.0.1:8080/ws)")
	fs.IntVar(&o.relayPID, "relay-pid", 0, "with --url: the relay's pid, for RSS and CPU")
	fs.StringVar(&o.database, "database", "", "database for --relay-bin (seeded if new), or for --setup")
	fs.BoolVar(&o.setupOnly, "setup", false, "seed --database with the load test's channel, agents and supervisors, then exit")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the relay inside this process (for --pprof); figures then include the load generator")
	fs.BoolVar(&o.baseline, "baseline", false, "also measure the baseline hub under the same load, as a separate process")
	fs.IntVar(&o.rounds, "rounds", 1, "repeat the measurement, alternating relay and baseline; medians are reported")
	fs.IntVar(&c.Visitors, "visitors", c.Visitors, "visitors, one chat each")
	fs.IntVar(&c.Agents, "agents", c.Agents, "agents; each picks its share of the chats")
	fs.IntVar(&c.Supervisors, "supervisors", c.Supervisors, "supervisors; each listens to its share of the chats")
	fs.IntVar(&c.InFlight, "inflight", c.InFlight, "messages in flight per chat")
	fs.Float64Var(&c.Rate, "rate", 0, "messages per second over all visitors (each is delivered twice); 0 = as fast as acknowledged")
	fs.IntVar(&c.Size, "size", c.Size, "message text bytes")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time per run (0: no load phase)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "load before measuring")
	fs.Float64Var(&c.Transfers, "transfers", 0, "transfer offers per second (accepted, rejected or cancelled at random)")
	fs.DurationVar(&c.Progress, "progress", 5*time.Second, "progress line interval on long runs (0 = none)")
	fs.IntVar(&o.idle, "idle", 0, "then open this many idle visitor connections and report relay memory per connection")
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file")
	fs.StringVar(&o.pprofOut, "pprof", "", "write a CPU profile of this process over the measured window")
	fs.StringVar(&o.heapOut, "heap-profile", "", "write a heap profile of this process at the end of the measured window (with --in-process: the relay's too)")
	fs.StringVar(&o.traceOut, "trace", "", "write an execution trace of this process over 2s of the measured window (with --in-process: the relay's too)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, relay log)")
	fs.Float64Var(&o.rate, "limits-rate", 1e6, "relay --limits-rate for the load run")
	fs.IntVar(&o.burst, "limits-burst", 1000000, "relay --limits-burst for the load run")
	fs.IntVar(&o.inflight, "limits-inflight", 0, "relay --limits-inflight (0: the relay's default)")
	fs.IntVar(&o.sendQueue, "limits-send-queue", 0, "relay --limits-send-queue (0: the relay's default)")
	fs.StringVar(&c.Password, "password", c.Password, "the agents' password (with a ready database)")
	fs.StringVar(&c.Prefix, "prefix", c.Prefix, "agent logins are <prefix>a1.., supervisors <prefix>s1..")
	fs.StringVar(&c.Channel, "channel", c.Channel, "channel key")
	fs.StringVar(&o.serveBase, "serve-baseline", "", "serve the baseline hub on this address and nothing else")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	fs.DurationVar(&o.settleWait, "settle", 15*time.Second, "after the load, wait at most this long for outstanding deliveries")
	_ = fs.Parse(os.Args[1:])

	if o.serveBase != "" {
		serveBaseline(o.serveBase)
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		killChildren()
		if d := scratchDir.Load(); d != nil && !o.keep {
			os.RemoveAll(*d)
		}
		fmt.Fprintln(os.Stderr, "loadgen: interrupted")
		os.Exit(130)
	}()
	if err := runMain(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func serveBaseline(addr string) {
	mux := http.NewServeMux()
	mux.Handle("/ws", baseline.New())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	ctx, stop := signal.NotifyContext(contextBG(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// report is the JSON output.
type report struct {
	Started   time.Time     `json:"started"`
	Host      hostInfo      `json:"host"`
	Shape     shape         `json:"shape"`
	Runs      []result      `json:"runs"`
	Summary   *summary      `json:"summary,omitempty"`
	Idle      *idleResult   `json:"idle,omitempty"`
	Failures  []string      `json:"failures,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	CommandLn string        `json:"command_line"`
}

type hostInfo struct {
	CPUs    int    `json:"cpus"`
	Load1   string `json:"loadavg_at_start"`
	Kernel  string `json:"kernel"`
	GoMaxPr int    `json:"gomaxprocs"`
}

type shape struct {
	Visitors    int     `json:"visitors"`
	Agents      int     `json:"agents"`
	Supervisors int     `json:"supervisors"`
	InFlight    int     `json:"inflight_per_chat"`
	Rate        float64 `json:"rate_msgs_per_s"`
	Size        int     `json:"message_bytes"`
	Duration    float64 `json:"duration_s"`
	Transfers   float64 `json:"transfers_per_s"`
}

type latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

type result struct {
	Target          string           `json:"target"`
	Round           int              `json:"round"`
	Connections     int64            `json:"connections"`
	Seconds         float64          `json:"seconds"`
	Sent            int64            `json:"sent"`
	Acked           int64            `json:"acked"`
	Resent          int64            `json:"resent"`
	Delivered       int64            `json:"delivered"`
	DeliveredPerSec float64          `json:"delivered_per_s"`
	Latency         latency          `json:"publish_to_deliver"`
	Offer           latency          `json:"transfer_offer"`
	Transfers       map[string]int64 `json:"transfers,omitempty"`
	Errors          map[string]int64 `json:"errors"`
	Check           checkResult      `json:"check"`
	RSS             int64            `json:"rss_bytes,omitempty"`
	PeakRSS         int64            `json:"peak_rss_bytes,omitempty"`
	CPU             float64          `json:"cpu_cores,omitempty"`
	LoadgenCPU      float64          `json:"loadgen_cpu_cores"`
	OtherCPU        float64          `json:"other_cpu_cores"` // the rest of the machine: noise
	SetupSeconds    float64          `json:"setup_s"`
}

type summary struct {
	RelayDeliveredPerSec    float64 `json:"relay_delivered_per_s"`
	BaselineDeliveredPerSec float64 `json:"baseline_delivered_per_s,omitempty"`
	ThroughputRatio         float64 `json:"throughput_ratio,omitempty"`
	RelayP50, RelayP99      float64 `json:"-"`
	RelayLatency            latency `json:"relay_publish_to_deliver"`
	BaselineLatency         latency `json:"baseline_publish_to_deliver"`
	RelayOffer              latency `json:"relay_transfer_offer"`
	RelayRSS                int64   `json:"relay_rss_bytes"`
	RelayCPU                float64 `json:"relay_cpu_cores"`
	BaselineRSS             int64   `json:"baseline_rss_bytes,omitempty"`
}

type idleResult struct {
	Connections int64   `json:"connections"`
	RSSBefore   int64   `json:"rss_before_bytes"`
	RSSAfter    int64   `json:"rss_after_bytes"`
	PerConn     float64 `json:"bytes_per_connection"`
	Seconds     float64 `json:"connect_s"`
}

func runMain(o options) error {
	startAll := time.Now()
	logf := func(format string, args ...any) {
		if !o.quiet {
			fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
	}
	if o.setupOnly {
		if o.database == "" {
			return errors.New("--setup needs --database")
		}
		if err := seed(o.database, o.cfg); err != nil {
			return err
		}
		logf("seeded %s: channel %s, %d agents, %d supervisors (password %q)", o.database, o.cfg.Channel, o.cfg.Agents, o.cfg.Supervisors, o.cfg.Password)
		return nil
	}
	targets := 0
	for _, b := range []bool{o.relayBin != "", o.url != "", o.inProcess} {
		if b {
			targets++
		}
	}
	if targets > 1 {
		return errors.New("give one of --relay-bin, --url, --in-process")
	}
	if targets == 0 && !o.baseline {
		return errors.New("nothing to measure: give --relay-bin, --url, --in-process or --baseline")
	}
	if o.rounds < 1 {
		o.rounds = 1
	}
	dir, err := os.MkdirTemp("", "switchboard-loadgen-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", dir)
	} else {
		scratchDir.Store(&dir)
		defer os.RemoveAll(dir)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	rep := report{Started: startAll, CommandLn: strings.Join(os.Args, " "),
		Host: hostInfo{CPUs: numCPU(), Load1: strings.TrimSpace(string(load)), Kernel: strings.TrimSpace(string(kernel)), GoMaxPr: gomaxprocs()},
		Shape: shape{Visitors: o.cfg.Visitors, Agents: o.cfg.Agents, Supervisors: o.cfg.Supervisors, InFlight: o.cfg.InFlight,
			Rate: o.cfg.Rate, Size: o.cfg.Size, Duration: o.cfg.Duration.Seconds(), Transfers: o.cfg.Transfers}}

	if o.pprofOut != "" {
		f, err := os.Create(o.pprofOut)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	if o.cfg.Duration > 0 {
		for round := 1; round <= o.rounds; round++ {
			if targets > 0 {
				res, err := o.relayRound(dir, round, logf)
				if err != nil {
					return err
				}
				rep.Runs = append(rep.Runs, res)
				logf("%s", res.line())
			}
			if o.baseline {
				res, err := o.baselineRound(dir, round, logf)
				if err != nil {
					return err
				}
				rep.Runs = append(rep.Runs, res)
				logf("%s", res.line())
			}
		}
		rep.Summary = summarize(rep.Runs)
	}
	if o.idle > 0 && targets > 0 {
		ir, err := o.idleRun(dir, logf)
		if err != nil {
			return err
		}
		rep.Idle = ir
	}
	rep.Elapsed = time.Since(startAll)
	for _, r := range rep.Runs {
		// Every message sent must be acknowledged once the run has settled
		// (the limits are set so that none is refused), and nothing may
		// arrive that was never acknowledged.
		if c := r.Check; c.lost() > 0 || c.Duplicated > 0 || c.Gaps > 0 || c.Unacked > 0 || c.Phantom > 0 {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s round %d: lost %v, duplicated %d, gaps %d, unacknowledged %d, delivered unacknowledged %d",
				r.Target, r.Round, c.Lost, c.Duplicated, c.Gaps, c.Unacked, c.Phantom))
		}
	}
	printSummary(os.Stdout, &rep)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d run(s) lost, duplicated or left unacknowledged messages", len(rep.Failures))
	}
	return nil
}

// target is a running relay for one round.
type target struct {
	url  string
	pid  int
	stop func() error
}

func (o options) startTarget(dir string, round int) (*target, error) {
	switch {
	case o.url != "":
		return &target{url: o.url, pid: o.relayPID, stop: func() error { return nil }}, nil
	case o.inProcess:
		return o.startInProcess(dir, round)
	}
	db := o.database
	if db == "" {
		db = filepath.Join(dir, fmt.Sprintf("relay-%d.db", round))
	}
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		if err := seed(db, o.cfg); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startRelay(relayArgs{Bin: o.relayBin, DB: db, Addr: addr, LogFile: filepath.Join(dir, "relay.log"),
		Rate: o.rate, Burst: o.burst, InFlight: o.inflight, Queue: o.sendQueue})
	if err != nil {
		return nil, err
	}
	return &target{url: "ws://" + addr + "/ws", pid: p.pid(), stop: func() error { return p.stop(20 * time.Second) }}, nil
}

// startInProcess runs the relay in this process, so that --pprof sees it.
func (o options) startInProcess(dir string, round int) (*target, error) {
	db := filepath.Join(dir, fmt.Sprintf("inproc-%d.db", round))
	if err := seed(db, o.cfg); err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(db)
	if err != nil {
		return nil, err
	}
	cfg := relay.DefaultConfig()
	cfg.RatePerSecond, cfg.RateBurst = o.rate, o.burst
	cfg.ConnsPerIP, cfg.StartsPerMinute, cfg.Desk.MaxWaiting = 0, 0, 0 // as benchLimits
	if o.inflight > 0 {
		cfg.InFlight = o.inflight
	}
	if o.sendQueue > 0 {
		cfg.SendQueue = o.sendQueue
	}
	srv, err := relay.New(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		st.Close()
		return nil, err
	}
	srv.Start()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &target{url: "ws://" + ln.Addr().String() + "/ws", pid: os.Getpid(), stop: func() error {
		ctx, cancel := contextTimeout(20 * time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		err := srv.Shutdown(ctx)
		return errors.Join(err, st.Close())
	}}, nil
}

func (o options) relayRound(dir string, round int, logf func(string, ...any)) (result, error) {
	t, err := o.startTarget(dir, round)
	if err != nil {
		return result{}, err
	}
	r := newRun("relay", true, t.url, o.cfg)
	r.pid, r.logf = t.pid, logf
	res, err := o.measure(r, round)
	if serr := t.stop(); serr != nil && err == nil {
		logf("relay stop: %v", serr)
	}
	return res, err
}

func (o options) baselineRound(dir string, round int, logf func(string, ...any)) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return result{}, err
	}
	p, err := startProcess(self, []string{"--serve-baseline", addr}, addr, filepath.Join(dir, "baseline.log"))
	if err != nil {
		return result{}, err
	}
	defer p.stop(10 * time.Second)
	r := newRun("baseline", false, "ws://"+addr+"/ws", o.cfg)
	r.pid, r.logf = p.pid(), logf
	return o.measure(r, round)
}

func (o options) measure(r *run, round int) (result, error) {
	if o.traceOut != "" {
		r.traceTo = fmt.Sprintf("%s.%s.%d", o.traceOut, r.name, round)
	}
	start := time.Now()
	if err := r.setup(); err != nil {
		r.stop()
		return result{}, fmt.Errorf("%s setup: %w", r.name, err)
	}
	setup := time.Since(start)
	first, last := r.load()
	held := r.conns.Load()
	if o.heapOut != "" {
		if f, err := os.Create(fmt.Sprintf("%s.%s.%d", o.heapOut, r.name, round)); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	r.finish(o.settleWait)
	chk := r.check()
	dt := last.at.Sub(first.at)
	lat := last.lat.sub(first.lat)
	off := last.offer.sub(first.offer)
	res := result{Target: r.name, Round: round, Connections: held, Seconds: dt.Seconds(),
		Sent: r.sent.Load(), Acked: r.acked.Load(), Resent: r.resent.Load(),
		Delivered: last.delivered - first.delivered, Latency: toLatency(lat), Offer: toLatency(off),
		Transfers: r.outcomes.snapshot(), Errors: r.errs.snapshot(), Check: chk,
		LoadgenCPU: cpuShare(first.self, last.self, dt), SetupSeconds: setup.Seconds()}
	res.DeliveredPerSec = float64(res.Delivered) / dt.Seconds()
	if r.pid > 0 {
		res.RSS, res.PeakRSS = last.proc.RSS, last.proc.HWM
		res.CPU = cpuShare(first.proc, last.proc, dt)
	}
	res.OtherCPU = float64(last.host-first.host)/float64(dt) - res.LoadgenCPU
	if r.pid > 0 && r.pid != os.Getpid() {
		res.OtherCPU -= res.CPU
	}
	return res, nil
}

func toLatency(s histSnap) latency {
	return latency{Count: s.n, P50: msf(s.quantile(0.5)), P99: msf(s.quantile(0.99)), Max: msf(s.max)}
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r result) line() string {
	s := fmt.Sprintf("%-8s round %d: %d conns, %.0f delivered/s, p50 %.2fms p99 %.2fms max %.1fms",
		r.Target, r.Round, r.Connections, r.DeliveredPerSec, r.Latency.P50, r.Latency.P99, r.Latency.Max)
	if r.Offer.Count > 0 {
		s += fmt.Sprintf(", offer p50 %.2fms p99 %.2fms (%d)", r.Offer.P50, r.Offer.P99, r.Offer.Count)
	}
	if r.RSS > 0 {
		s += fmt.Sprintf(", rss %s, cpu %.2f", mib(r.RSS), r.CPU)
	}
	s += fmt.Sprintf(", loadgen cpu %.2f, others %.2f, lost %d, dup %d", r.LoadgenCPU, r.OtherCPU, r.Check.lost(), r.Check.Duplicated)
	return s
}

func summarize(runs []result) *summary {
	var s summary
	pick := func(target string, f func(result) float64) float64 {
		var xs []float64
		for _, r := range runs {
			if r.Target == target {
				xs = append(xs, f(r))
			}
		}
		return median(xs)
	}
	s.RelayDeliveredPerSec = pick("relay", func(r result) float64 { return r.DeliveredPerSec })
	s.BaselineDeliveredPerSec = pick("baseline", func(r result) float64 { return r.DeliveredPerSec })
	if s.BaselineDeliveredPerSec > 0 {
		s.ThroughputRatio = s.RelayDeliveredPerSec / s.BaselineDeliveredPerSec
	}
	for _, t := range []struct {
		name string
		dst  *latency
		f    func(result) latency
	}{
		{"relay", &s.RelayLatency, func(r result) latency { return r.Latency }},
		{"baseline", &s.BaselineLatency, func(r result) latency { return r.Latency }},
		{"relay", &s.RelayOffer, func(r result) latency { return r.Offer }},
	} {
		t.dst.Count = int64(pick(t.name, func(r result) float64 { return float64(t.f(r).Count) }))
		t.dst.P50 = pick(t.name, func(r result) float64 { return t.f(r).P50 })
		t.dst.P99 = pick(t.name, func(r result) float64 { return t.f(r).P99 })
		t.dst.Max = pick(t.name, func(r result) float64 { return t.f(r).Max })
	}
	s.RelayRSS = int64(pick("relay", func(r result) float64 { return float64(r.RSS) }))
	s.RelayCPU = pick("relay", func(r result) float64 { return r.CPU })
	s.BaselineRSS = int64(pick("baseline", func(r result) float64 { return float64(r.RSS) }))
	return &s
}

func printSummary(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nswitchboard loadgen: %d visitors, %d agents, %d supervisors, %d in flight per chat, ",
		rep.Shape.Visitors, rep.Shape.Agents, rep.Shape.Supervisors, rep.Shape.InFlight)
	if rep.Shape.Rate > 0 {
		fmt.Fprintf(w, "%.0f msgs/s", rep.Shape.Rate)
	} else {
		fmt.Fprint(w, "as fast as acknowledged")
	}
	fmt.Fprintf(w, ", %d-byte texts, %.0fs measured", rep.Shape.Size, rep.Shape.Duration)
	if rep.Shape.Transfers > 0 {
		fmt.Fprintf(w, ", %.0f transfers/s", rep.Shape.Transfers)
	}
	fmt.Fprintf(w, "\nhost: %d CPUs, load average at start %s\n\n", rep.Host.CPUs, rep.Host.Load1)
	if len(rep.Runs) > 0 {
		fmt.Fprintf(w, "%-8s %5s %6s %12s %8s %8s %8s %9s %9s %9s %6s %7s %7s %5s %4s %6s\n", "target", "round", "conns",
			"delivered/s", "p50 ms", "p99 ms", "max ms", "offer p50", "offer p99", "rss MiB", "cpu", "lg cpu", "others", "lost", "dup", "errors")
		for _, r := range rep.Runs {
			var errs int64
			for _, v := range r.Errors {
				errs += v
			}
			fmt.Fprintf(w, "%-8s %5d %6d %12.0f %8.2f %8.2f %8.1f %9.2f %9.2f %9.1f %6.2f %7.2f %7.2f %5d %4d %6d\n",
				r.Target, r.Round, r.Connections, r.DeliveredPerSec, r.Latency.P50, r.Latency.P99, r.Latency.Max,
				r.Offer.P50, r.Offer.P99, float64(r.RSS)/(1<<20), r.CPU, r.LoadgenCPU, r.OtherCPU, r.Check.lost(), r.Check.Duplicated, errs)
		}
		for _, r := range rep.Runs {
			if len(r.Errors) > 0 {
				keys := make([]string, 0, len(r.Errors))
				for k := range r.Errors {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, fmt.Sprintf("%s=%d", k, r.Errors[k]))
				}
				fmt.Fprintf(w, "errors %s round %d: %s\n", r.Target, r.Round, strings.Join(parts, " "))
			}
			if len(r.Transfers) > 0 {
				fmt.Fprintf(w, "transfers %s round %d: %v\n", r.Target, r.Round, r.Transfers)
			}
		}
	}
	if s := rep.Summary; s != nil {
		fmt.Fprintf(w, "\nmedians: relay %.0f delivered/s, p50 %.2fms, p99 %.2fms", s.RelayDeliveredPerSec, s.RelayLatency.P50, s.RelayLatency.P99)
		if s.RelayOffer.Count > 0 {
			fmt.Fprintf(w, ", offer p99 %.2fms", s.RelayOffer.P99)
		}
		if s.RelayRSS > 0 {
			fmt.Fprintf(w, ", rss %s, cpu %.2f cores", mib(s.RelayRSS), s.RelayCPU)
		}
		fmt.Fprintln(w)
		if s.BaselineDeliveredPerSec > 0 {
			fmt.Fprintf(w, "         baseline %.0f delivered/s, p50 %.2fms, p99 %.2fms\n", s.BaselineDeliveredPerSec, s.BaselineLatency.P50, s.BaselineLatency.P99)
			if s.RelayDeliveredPerSec > 0 {
				fmt.Fprintf(w, "         relay/baseline throughput: %.2f\n", s.ThroughputRatio)
			}
		}
	}
	if id := rep.Idle; id != nil {
		fmt.Fprintf(w, "\nidle: %d connections, relay rss %s -> %s, %.1f KiB per connection (connected in %.1fs)\n",
			id.Connections, mib(id.RSSBefore), mib(id.RSSAfter), id.PerConn/1024, id.Seconds)
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "FAIL:", f)
	}
}
