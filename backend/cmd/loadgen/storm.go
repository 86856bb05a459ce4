package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The desk-scale storm (--storm): A agents and V visitors hold their chats
// (V/A each); the relay is killed and restarted on the same database, and
// everybody reconnects and resumes at once. It reports how long until all
// are back, what each agent received meanwhile (frames and bytes: the
// welcome, colleagues' presence, queue and session news), and the relay's
// CPU. Run at two desk sizes it shows how each agent's share grows with the
// desk: linearly (each colleague's return told once, coalesced per tick),
// or with its square (everything told to everyone).

type stormResult struct {
	Agents   int `json:"agents"`
	Visitors int `json:"visitors"`
	// Seconds from the kill.
	Healthy     float64 `json:"restart_healthy_s"`
	HalfBack    float64 `json:"half_resumed_s"`
	P90Back     float64 `json:"p90_resumed_s"`
	AllBack     float64 `json:"all_resumed_s"`
	Quiet       float64 `json:"quiet_s"` // the last frame of the storm arrived
	NotBack     int     `json:"not_resumed"`
	SetupS      float64 `json:"setup_s"`
	SetupCPU    float64 `json:"setup_relay_cpu_s"` // the relay's CPU for the logins, chat starts and picks
	AgentFrames stats   `json:"frames_per_agent"`
	AgentBytes  stats   `json:"bytes_per_agent"`
	VisFrames   stats   `json:"frames_per_visitor"`
	RelayCPU    float64 `json:"relay_cpu_s"`       // the restarted relay, from its start to the quiet
	RelayCPUUp  float64 `json:"relay_cpu_ready_s"` // of which until it answered /healthz (loading the desk)
	RSS         int64   `json:"relay_rss_bytes"`
}

type stats struct {
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Total  float64 `json:"total"`
}

func statsOf(xs []float64) stats {
	if len(xs) == 0 {
		return stats{}
	}
	s := stats{Median: median(xs), Max: slices.Max(xs)}
	for _, x := range xs {
		s.Total += x
	}
	return s
}

func (o options) stormRun(dir string, logf func(string, ...any)) (*stormResult, error) {
	if o.relayBin == "" {
		return nil, fmt.Errorf("--storm needs --relay-bin: it kills and restarts the relay")
	}
	cfg := o.cfg
	cfg.SetupConc = max(cfg.SetupConc, 64)
	db := filepath.Join(dir, "storm.db")
	if err := seed(db, cfg); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := relayArgs{Bin: o.relayBin, DB: db, Addr: addr, LogFile: filepath.Join(dir, "relay.log"),
		Rate: o.rate, Burst: o.burst, InFlight: o.inflight, Queue: o.sendQueue, Extra: strings.Fields(o.relayFlags)}
	p, err := startRelay(args)
	if err != nil {
		return nil, err
	}
	r := newRun("storm", true, "ws://"+addr+"/ws", cfg)
	r.pid, r.reconnect, r.logf = p.pid(), true, logf
	defer r.stop()
	start := time.Now()
	if err := r.setup(); err != nil {
		p.kill()
		return nil, err
	}
	res := &stormResult{Agents: cfg.Agents, Visitors: cfg.Visitors, SetupS: time.Since(start).Seconds()}
	if ps, err := readProc(p.pid()); err == nil {
		res.SetupCPU = ps.CPU.Seconds()
	}
	logf("storm: %d agents and %d visitors in their chats (%.1fs); settling", cfg.Agents, cfg.Visitors, res.SetupS)
	time.Sleep(2 * time.Second) // presence and queue news of the setup have gone out

	all := r.allPeers()
	frames := func() []int64 {
		out := make([]int64, 2*len(all))
		for i, q := range all {
			out[2*i], out[2*i+1] = q.rxFrames.Load(), q.rxBytes.Load()
		}
		return out
	}
	before := frames()
	p.kill()
	killed := time.Now()
	time.Sleep(100 * time.Millisecond) // everyone notices and starts retrying
	p2, err := startRelay(args)
	if err != nil {
		return nil, err
	}
	defer func() { _ = p2.stop(20 * time.Second) }()
	res.Healthy = time.Since(killed).Seconds()
	up, _ := readProc(p2.pid())
	res.RelayCPUUp = up.CPU.Seconds()
	r.pid = p2.pid()
	back := func() int {
		n := 0
		for _, q := range all {
			if q.upAt.Load() > killed.UnixNano() {
				n++
			}
		}
		return n
	}
	waitFor(60*time.Second, func() bool { return back() == len(all) })
	res.NotBack = len(all) - back()
	var took []float64
	for _, q := range all {
		if at := q.upAt.Load(); at > killed.UnixNano() {
			took = append(took, time.Duration(at-killed.UnixNano()).Seconds())
		}
	}
	slices.Sort(took)
	if len(took) > 0 {
		res.HalfBack, res.P90Back, res.AllBack = took[len(took)/2], took[len(took)*9/10], took[len(took)-1]
	}
	// Quiet: nothing arrived for a second (at most 30 s more).
	last, lastAt := frames(), time.Now()
	for time.Since(lastAt) < time.Second && time.Since(killed) < 90*time.Second {
		time.Sleep(100 * time.Millisecond)
		if now := frames(); !slices.Equal(now, last) {
			last, lastAt = now, time.Now()
		}
	}
	res.Quiet = lastAt.Sub(killed).Seconds()
	if ps, err := readProc(p2.pid()); err == nil {
		res.RelayCPU, res.RSS = ps.CPU.Seconds(), ps.RSS
	}
	var af, ab, vf []float64
	for i, q := range all {
		df, db := float64(last[2*i]-before[2*i]), float64(last[2*i+1]-before[2*i+1])
		switch q.role {
		case roleAgent:
			af, ab = append(af, df), append(ab, db)
		case roleVisitor:
			vf = append(vf, df)
		}
	}
	res.AgentFrames, res.AgentBytes, res.VisFrames = statsOf(af), statsOf(ab), statsOf(vf)
	return res, nil
}

func (s *stormResult) print(w func(string, ...any)) {
	w("storm: %d agents, %d visitors (setup %.1fs, relay CPU %.2fs); relay killed and restarted: healthy after %.2fs; resumed: half %.2fs, 90%% %.2fs, all %.2fs (%d not back); quiet after %.2fs",
		s.Agents, s.Visitors, s.SetupS, s.SetupCPU, s.Healthy, s.HalfBack, s.P90Back, s.AllBack, s.NotBack, s.Quiet)
	w("storm: per agent %0.f frames (max %.0f), %.1f KiB (max %.1f KiB); per visitor %.0f frames; relay CPU %.2fs (%.2fs of it loading until healthy), RSS %s",
		s.AgentFrames.Median, s.AgentFrames.Max, s.AgentBytes.Median/1024, s.AgentBytes.Max/1024, s.VisFrames.Median, s.RelayCPU, s.RelayCPUUp, mib(s.RSS))
}
