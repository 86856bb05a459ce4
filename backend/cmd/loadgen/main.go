// Command loadgen puts the Switchboard relay under a chat-shaped load over
// real websockets and reports what it took: deliveries per second,
// publish-to-deliver latency, transfer offer latency, errors by code,
// messages lost or duplicated, and the relay's memory and CPU. It can run two
// minimal fan-out hubs (the baselines: in memory, and committing to SQLite
// before the ack) under the same load in the same run, so every figure is
// also a ratio to those limits.
//
// The load: V visitors each in a chat, A agents who pick their share of the
// chats, S supervisors who listen to theirs. Visitors publish (as fast as the
// target acknowledges, with a fixed number in flight per chat, or at a set
// rate); each message is delivered to its agent and its listener (and echoed
// to the visitor). Transfers are offered at a set rate and then accepted,
// rejected or cancelled.
//
//	loadgen --relay-bin build/bin/switchboard-relay --baseline memory,durable --duration 20s
//	loadgen --relay-bin build/bin/switchboard-relay --baseline durable --latency-rate 6250 --latency-transfers 5
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
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/relay"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
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
	baselines  baselineFlag
	baseDB     string
	latRate    float64
	latTransf  float64
	markdown   string
	scenario   string // of the round being measured: names its profile files
	relayFlags string
	cluster    int
	nats       string
	storm      bool
	inProcess  bool
	rounds     int
	idle       int
	jsonOut    string
	pprofOut   string
	heapOut    string
	traceOut   string
	slowOut    string
	slowOver   time.Duration
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
	fs.StringVar(&o.url, "url", "", "measure a relay already running at this websocket URL (ws://127.0.0.1:8080/ws); several, comma-separated, are the nodes of a cluster")
	fs.IntVar(&o.relayPID, "relay-pid", 0, "with --url: the relay's pid, for RSS and CPU")
	fs.StringVar(&o.database, "database", "", "database for --relay-bin (seeded if new), or for --setup")
	fs.BoolVar(&o.setupOnly, "setup", false, "seed --database with the load test's channel, agents and supervisors, then exit")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the relay inside this process (for --pprof); figures then include the load generator")
	fs.Var(&o.baselines, "baseline", "also measure baseline hubs under the same load, each as a separate process: memory (alone: --baseline), durable, or memory,durable")
	fs.StringVar(&o.baseDB, "baseline-db", "", "with --serve-baseline: commit to this SQLite file (the durable hub)")
	fs.Float64Var(&o.latRate, "latency-rate", 0, "then the latency scenario: every target again at this many messages/s (0: none)")
	fs.Float64Var(&o.latTransf, "latency-transfers", 5, "transfer offers per second in the latency scenario")
	fs.StringVar(&o.markdown, "markdown", "", "write the medians as markdown tables to this file")
	fs.BoolVar(&o.storm, "storm", false, "desk scale: the agents and visitors in their chats, then the relay killed and restarted; time until all resumed, frames and bytes per agent, relay CPU (with --relay-bin)")
	fs.IntVar(&o.cluster, "cluster", 0, "with --relay-bin and a postgres:// --database: start this many relay nodes (connected by --nats, if given) and spread the clients over them; figures add up the nodes")
	fs.StringVar(&o.nats, "nats", "", "with --cluster: the NATS server the nodes share (nats://host:port)")
	fs.StringVar(&o.relayFlags, "relay-flags", "", "more flags for the relay binary, space-separated (e.g. \"--memory-limit-mib 64\")")
	fs.IntVar(&o.rounds, "rounds", 1, "repeat the measurement, alternating relay and baselines; medians are reported")
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
	fs.StringVar(&o.pprofOut, "pprof", "", "write a CPU profile of this process over each measured window, to FILE.<target>.<round>")
	fs.StringVar(&o.heapOut, "heap-profile", "", "write a heap profile of this process at the end of the measured window (with --in-process: the relay's too)")
	fs.StringVar(&o.traceOut, "trace", "", "write an execution trace of this process over 2s of the measured window (with --in-process: the relay's too)")
	fs.StringVar(&o.slowOut, "slow-log", "", "write every measured delivery slower than --slow-over to FILE.<target>.<round>: its send time (Unix µs) and latency (µs), a line each, to find when the tail happens")
	fs.DurationVar(&o.slowOver, "slow-over", 4*time.Millisecond, "with --slow-log: the latency from which a delivery is written")
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
	_ = fs.Parse(joinBaselineArg(os.Args[1:]))

	if o.serveBase != "" {
		serveBaseline(o.serveBase, o.baseDB, o.pprofOut)
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

// report is the JSON output.
type report struct {
	Started   time.Time     `json:"started"`
	Host      hostInfo      `json:"host"`
	Shape     shape         `json:"shape"`
	Runs      []result      `json:"runs"`
	Summary   *summary      `json:"summary,omitempty"`
	Idle      *idleResult   `json:"idle,omitempty"`
	Storm     *stormResult  `json:"storm,omitempty"`
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
	// The latency scenario, measured after the throughput one in each round.
	LatencyRate      float64 `json:"latency_rate_msgs_per_s,omitempty"`
	LatencyTransfers float64 `json:"latency_transfers_per_s,omitempty"`
}

type latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

type result struct {
	Target          string           `json:"target"`
	Scenario        string           `json:"scenario"`
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
	if targets == 0 && len(o.baselines) == 0 {
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
	if o.latRate > 0 {
		rep.Shape.LatencyRate, rep.Shape.LatencyTransfers = o.latRate, o.latTransf
	}

	if o.cfg.Duration > 0 {
		scenarios := []string{scenThroughput}
		if o.latRate > 0 {
			scenarios = append(scenarios, scenLatency)
		}
		for round := 1; round <= o.rounds; round++ {
			for _, sc := range scenarios {
				so := o
				so.scenario = sc
				if sc == scenLatency {
					so.cfg.Rate, so.cfg.Transfers = o.latRate, o.latTransf
				}
				if targets > 0 {
					res, err := so.relayRound(dir, round, logf)
					if err != nil {
						return err
					}
					res.Scenario = sc
					rep.Runs = append(rep.Runs, res)
					logf("%s %s", sc, res.line())
				}
				for _, kind := range o.baselines {
					res, err := so.baselineRound(dir, round, kind, logf)
					if err != nil {
						return err
					}
					res.Scenario = sc
					rep.Runs = append(rep.Runs, res)
					logf("%s %s", sc, res.line())
				}
			}
		}
		rep.Summary = summarize(rep.Runs)
	}
	if o.storm {
		sr, err := o.stormRun(dir, logf)
		if err != nil {
			return err
		}
		rep.Storm = sr
		sr.print(func(f string, a ...any) { fmt.Printf(f+"\n", a...) })
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
	if o.markdown != "" && rep.Summary != nil {
		if err := writeMarkdownFile(o.markdown, &rep); err != nil {
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
	more []int // a cluster's other nodes
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
		// A file per scenario and round, as each baseline round gets: the
		// latency scenario on the file the throughput scenario just filled
		// would start with its 500 chats open and measure their catch-up.
		db = filepath.Join(dir, fmt.Sprintf("relay-%s%d.db", o.scenarioTag(), round))
	}
	if open.IsPostgres(db) {
		// Each round on a database of its own, as each round on SQLite gets a
		// fresh file: chats left open by a round would be every later
		// round's catch-up.
		var err error
		if db, err = freshDatabase(db, fmt.Sprintf("loadgen_%d_%s_%d", os.Getpid(), o.scenario, round)); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) || open.IsPostgres(db) {
		if err := seed(db, o.cfg); err != nil { // adds only what is missing
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	if o.cluster > 0 {
		return o.startCluster(dir, db)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startRelay(relayArgs{Bin: o.relayBin, DB: db, Addr: addr, LogFile: filepath.Join(dir, "relay.log"),
		Rate: o.rate, Burst: o.burst, InFlight: o.inflight, Queue: o.sendQueue, Extra: strings.Fields(o.relayFlags)})
	if err != nil {
		return nil, err
	}
	return &target{url: "ws://" + addr + "/ws", pid: p.pid(), stop: func() error { return p.stop(20 * time.Second) }}, nil
}

// freshDatabase creates the database name on the server of dsn and returns
// its address.
func freshDatabase(dsn, name string) (string, error) {
	ctx, cancel := contextTimeout(30 * time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// startCluster starts o.cluster relay nodes on the PostgreSQL database db
// and waits until one leads and (with NATS) every node takes clients.
func (o options) startCluster(dir, db string) (*target, error) {
	if !open.IsPostgres(db) {
		return nil, errors.New("--cluster needs a postgres:// --database")
	}
	var procs []*process
	stopAll := func() error {
		var errs []error
		for _, p := range procs {
			errs = append(errs, p.stop(20*time.Second))
		}
		return errors.Join(errs...)
	}
	var urls []string
	for i := range o.cluster {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		extra := append(strings.Fields(o.relayFlags), "--cluster-node", fmt.Sprintf("load-%d", i+1))
		if o.nats != "" {
			extra = append(extra, "--nats", o.nats)
		}
		p, err := startRelay(relayArgs{Bin: o.relayBin, DB: db, Addr: addr, Standby: true,
			LogFile: filepath.Join(dir, fmt.Sprintf("node-%d.log", i+1)),
			Rate:    o.rate, Burst: o.burst, InFlight: o.inflight, Queue: o.sendQueue, Extra: extra})
		if err != nil {
			_ = stopAll()
			return nil, err
		}
		procs = append(procs, p)
		urls = append(urls, "ws://"+addr+"/ws")
	}
	// Ready: every node answers 200 (a standby without NATS never does:
	// then one leader is enough).
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := 0
		for _, p := range procs {
			if p.healthStatus() == http.StatusOK {
				ok++
			}
		}
		if ok == len(procs) || o.nats == "" && ok == 1 {
			break
		}
		if time.Now().After(deadline) {
			_ = stopAll()
			return nil, fmt.Errorf("the cluster's nodes did not all become ready (%d of %d)", ok, len(procs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t := &target{url: strings.Join(urls, ","), pid: procs[0].pid(), stop: stopAll}
	for _, p := range procs[1:] {
		t.more = append(t.more, p.pid())
	}
	return t, nil
}

// startInProcess runs the relay in this process, so that --pprof sees it.
func (o options) startInProcess(dir string, round int) (*target, error) {
	db := filepath.Join(dir, fmt.Sprintf("inproc-%s%d.db", o.scenarioTag(), round))
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
	r.pid, r.morePIDs, r.logf = t.pid, t.more, logf
	res, err := o.measure(r, round)
	if serr := t.stop(); serr != nil && err == nil {
		logf("relay stop: %v", serr)
	}
	return res, err
}

// scenarioTag prefixes profile file names in the latency scenario.
func (o options) scenarioTag() string {
	if o.scenario == scenLatency {
		return "latency."
	}
	return ""
}

func (o options) measure(r *run, round int) (result, error) {
	if o.traceOut != "" {
		r.traceTo = fmt.Sprintf("%s.%s%s.%d", o.traceOut, o.scenarioTag(), r.name, round)
	}
	if o.pprofOut != "" {
		r.cpuTo = fmt.Sprintf("%s.%s%s.%d", o.pprofOut, o.scenarioTag(), r.name, round)
	}
	if o.slowOut != "" {
		sl, err := newSlowLog(fmt.Sprintf("%s.%s%s.%d", o.slowOut, o.scenarioTag(), r.name, round), o.slowOver)
		if err != nil {
			return result{}, err
		}
		r.slow = sl
		defer sl.close()
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
		if f, err := os.Create(fmt.Sprintf("%s.%s%s.%d", o.heapOut, o.scenarioTag(), r.name, round)); err == nil {
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
