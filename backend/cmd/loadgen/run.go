package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/backend/protocol"
)

// config is one load shape.
type config struct {
	Visitors    int           // chats: one visitor each
	Agents      int           // each picks its share of the chats
	Supervisors int           // each listens to its share
	InFlight    int           // messages in flight per chat
	Rate        float64       // messages/s over all visitors; 0 = as fast as the target takes them
	Size        int           // message text bytes
	Duration    time.Duration // measured
	Warmup      time.Duration // before measuring
	Transfers   float64       // transfer offers started per second
	HoldOffers  bool          // leave offers pending (the restart test)
	// TransferTimeout of the seeded channel (0: the default, 120 s).
	TransferTimeout time.Duration
	Progress        time.Duration // progress line interval; 0 = none
	SetupConc       int           // connections set up at once

	Channel, Password, Prefix string
	ReconnectFor              time.Duration
}

func defaultConfig() config {
	return config{Visitors: 500, Agents: 500, Supervisors: 500, InFlight: 4, Size: 64,
		Duration: 20 * time.Second, Warmup: 3 * time.Second, SetupConc: 32,
		Channel: "load", Password: "loadgen-password", Prefix: "lg-", ReconnectFor: 30 * time.Second}
}

// run is one target (the relay or the baseline hub) under one load shape.
type run struct {
	cfg       config
	name      string
	relay     bool // the relay protocol (hello, auth); false: the baseline hub
	url       string
	pid       int   // the target's process, when known
	morePIDs  []int // the other nodes of a cluster target: their figures are added
	reconnect bool
	logf      func(format string, args ...any)
	traceTo   string // write an execution trace of 2s of the measured window here
	cpuTo     string // write a CPU profile of the measured window here
	// ackHook, when set, sees every first ack (visitor reader goroutines).
	ackHook atomic.Pointer[func(c *chatState, n, seq uint64)]

	chats      []*chatState
	smu        sync.RWMutex
	bySession  map[string]*chatState
	visitors   []*peer
	agents     []*peer
	sups       []*peer
	stopping   atomic.Bool
	done       chan struct{}
	stopSend   chan struct{}
	senders    sync.WaitGroup
	transferWG sync.WaitGroup

	measuring atomic.Bool
	lat       hist
	slow      *slowLog // deliveries over its bound, with their send times; nil: none kept
	offer     hist
	delivered atomic.Int64
	sent      atomic.Int64
	acked     atomic.Int64
	resent    atomic.Int64
	dupSeq    atomic.Int64 // an entry seq at or below one already received
	gaps      atomic.Int64 // an agent's seq not following the last
	dupMsg    atomic.Int64 // a message number received twice by one receiver
	conns     atomic.Int64
	errs      codes
	outcomes  codes

	hmu  sync.Mutex
	held []heldOffer // offers left pending (HoldOffers)
}

// heldOffer is a transfer offered and left pending.
type heldOffer struct {
	id       int64
	session  string
	to       *peer
	deadline *time.Time // as offered
}

func (r *run) heldOffers() []heldOffer {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	return append([]heldOffer(nil), r.held...)
}

func (r *run) heldCount() int { return len(r.heldOffers()) }

func (r *run) allPeers() []*peer {
	return append(append(append([]*peer(nil), r.agents...), r.sups...), r.visitors...)
}

func newRun(name string, relay bool, url string, cfg config) *run {
	return &run{cfg: cfg, name: name, relay: relay, url: url, bySession: map[string]*chatState{},
		done: make(chan struct{}), stopSend: make(chan struct{}),
		logf: func(string, ...any) {}}
}

func (r *run) chatOf(session string) *chatState {
	r.smu.RLock()
	defer r.smu.RUnlock()
	return r.bySession[session]
}

// parallel runs f(0..n-1) with at most conc at once and returns the first error.
func parallel(n, conc int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  atomic.Int64
	)
	for w := 0; w < min(conc, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func dialCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

// setup connects everybody and opens the chats: every agent and supervisor
// logs in; each visitor starts a chat that its agent picks at once (so the
// queue, which every agent is told about, stays short) and its supervisor
// listens to.
func (r *run) setup() error {
	cfg := r.cfg
	if cfg.Agents < 1 || cfg.Visitors < 1 {
		return fmt.Errorf("need at least one agent and one visitor")
	}
	r.chats = make([]*chatState, cfg.Visitors)
	for i := range r.chats {
		r.chats[i] = &chatState{idx: i, ackSeq: map[uint64]uint64{}}
	}
	r.agents = make([]*peer, cfg.Agents)
	r.sups = make([]*peer, cfg.Supervisors)
	r.visitors = make([]*peer, cfg.Visitors)
	for i := range r.agents {
		r.agents[i] = r.newPeer(roleAgent, i)
	}
	for i := range r.sups {
		r.sups[i] = r.newPeer(roleSup, i)
	}
	for i, c := range r.chats {
		c.agent = r.agents[i%cfg.Agents]
		c.owner = c.agent
		if cfg.Supervisors > 0 {
			c.sup = r.sups[i%cfg.Supervisors]
		}
		v := r.newPeer(roleVisitor, i)
		v.chat = c
		c.visitor = v
		r.visitors[i] = v
	}
	if !r.relay {
		return r.setupBaseline()
	}
	start := time.Now()
	login := func(p *peer) error {
		ctx, cancel := dialCtx()
		defer cancel()
		if err := p.connect(ctx); err != nil {
			return fmt.Errorf("%s %s: %w", p.role, p.login, err)
		}
		p.start()
		return nil
	}
	if err := parallel(len(r.agents), cfg.SetupConc, func(i int) error { return login(r.agents[i]) }); err != nil {
		return err
	}
	if err := parallel(len(r.sups), cfg.SetupConc, func(i int) error { return login(r.sups[i]) }); err != nil {
		return err
	}
	r.logf("%s: %d agents and %d supervisors logged in (%s)", r.name, len(r.agents), len(r.sups), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	err := parallel(len(r.chats), cfg.SetupConc, func(i int) error {
		c := r.chats[i]
		v := c.visitor
		ctx, cancel := dialCtx()
		defer cancel()
		if err := v.connect(ctx); err != nil {
			return fmt.Errorf("visitor %d: %w", i, err)
		}
		v.start()
		st, err := v.startChat(protocol.ChatStart{Name: fmt.Sprintf("Visitor %d", i+1),
			Email: fmt.Sprintf("v%d@example.com", i+1), Question: "Load test chat " + strconv.Itoa(i+1)})
		if err != nil {
			return fmt.Errorf("visitor %d: chat.start: %w", i, err)
		}
		c.session, c.vtoken = st.Session, st.Token
		r.smu.Lock()
		r.bySession[c.session] = c
		r.smu.Unlock()
		if rep := c.agent.call(protocol.CmdSessionPick, protocol.SessionRef{Session: c.session}, 20*time.Second); !rep.ok {
			return fmt.Errorf("chat %d: pick by %s: %s", i, c.agent.login, rep.code)
		}
		if c.sup != nil {
			if rep := c.sup.call(protocol.CmdSessionListen, protocol.SessionRef{Session: c.session}, 20*time.Second); !rep.ok {
				return fmt.Errorf("chat %d: listen by %s: %s", i, c.sup.login, rep.code)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.logf("%s: %d chats open (%s)", r.name, len(r.chats), time.Since(start).Round(time.Millisecond))
	return nil
}

// setupBaseline connects the same shape to the baseline hub.
func (r *run) setupBaseline() error {
	for i, c := range r.chats {
		c.session = strconv.Itoa(i)
		r.bySession[c.session] = c
	}
	chatsOf := func(p *peer) string {
		var ids []string
		for _, c := range r.chats {
			if c.agent == p || c.sup == p {
				ids = append(ids, c.session)
			}
		}
		return strings.Join(ids, ",")
	}
	conn := func(p *peer, chats, role string) error {
		p.url = r.url + "?chat=" + chats + "&role=" + role
		ctx, cancel := dialCtx()
		defer cancel()
		if err := p.connect(ctx); err != nil {
			return fmt.Errorf("%s %d: %w", p.role, p.idx, err)
		}
		p.start()
		return nil
	}
	if err := parallel(len(r.agents), r.cfg.SetupConc, func(i int) error { return conn(r.agents[i], chatsOf(r.agents[i]), "agent") }); err != nil {
		return err
	}
	if err := parallel(len(r.sups), r.cfg.SetupConc, func(i int) error { return conn(r.sups[i], chatsOf(r.sups[i]), "listener") }); err != nil {
		return err
	}
	return parallel(len(r.chats), r.cfg.SetupConc, func(i int) error {
		return conn(r.visitors[i], r.chats[i].session, "visitor")
	})
}

// startSenders starts every visitor's sender.
func (r *run) startSenders() {
	for _, v := range r.visitors {
		r.senders.Add(1)
		go v.sendLoop()
	}
}

// sendLoop publishes this visitor's messages: as fast as acks come back with
// InFlight outstanding, or at its share of Rate (still at most InFlight).
func (p *peer) sendLoop() {
	r := p.run
	defer r.senders.Done()
	var tick <-chan time.Time
	if r.cfg.Rate > 0 {
		every := time.Duration(float64(time.Second) * float64(len(r.visitors)) / r.cfg.Rate)
		// Spread the visitors' phases so the load is even.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(every)))):
		case <-r.stopSend:
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	var b []byte
	for {
		if tick != nil {
			select {
			case <-tick:
			case <-r.stopSend:
				return
			}
		}
		select {
		case p.slots <- struct{}{}:
		case <-r.stopSend:
			return
		}
		p.next++
		n := p.next
		b = appendSend(make([]byte, 0, 128+r.cfg.Size), p.chat.session, n, time.Now(), r.cfg.Size)
		p.mu.Lock()
		p.outbox[n] = b
		p.mu.Unlock()
		r.sent.Add(1)
		_ = p.write(b) // on failure it stays in the outbox and goes again after reconnecting
	}
}

// --- transfers -------------------------------------------------------------

func (r *run) transferLoop() {
	defer r.transferWG.Done()
	if !r.relay || r.cfg.Transfers <= 0 || len(r.agents) < 3 {
		return
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.Transfers))
	defer t.Stop()
	for {
		select {
		case <-r.stopSend:
			return
		case <-t.C:
		}
		r.offerOne()
	}
}

// offerOne starts a transfer of a random chat without one pending, from its
// owner to another agent (never the one who picked it, who listens after an
// accept). It reports whether one was started.
func (r *run) offerOne() bool {
	for try := 0; try < 20; try++ {
		c := r.chats[rand.IntN(len(r.chats))]
		c.mu.Lock()
		if c.busy {
			c.mu.Unlock()
			continue
		}
		owner := c.owner
		var to *peer
		for k := 0; k < 20 && to == nil; k++ {
			a := r.agents[rand.IntN(len(r.agents))]
			if a != owner && a != c.agent {
				to = a
			}
		}
		if to == nil {
			c.mu.Unlock()
			return false
		}
		c.busy = true
		c.offerAt = time.Now()
		c.mu.Unlock()
		r.transferWG.Add(1)
		go func() {
			defer r.transferWG.Done()
			rep := owner.call(protocol.CmdTransferStart, protocol.TransferStart{Session: c.session, To: to.agentID, Comment: "load test"}, 20*time.Second)
			if !rep.ok {
				c.mu.Lock()
				c.busy, c.offerAt = false, time.Time{}
				c.mu.Unlock()
			}
		}()
		return true
	}
	return false
}

// onTransfer: a transfer event reached an agent. The receiver of a new offer
// records how long it took, then answers (or the owner cancels) in a mix.
func (r *run) onTransfer(p *peer, t protocol.TransferInfo) {
	if t.State != protocol.TransferPending || t.To.ID != p.agentID {
		return
	}
	c := r.chatOf(t.Session)
	if c == nil {
		return
	}
	c.mu.Lock()
	at := c.offerAt
	c.offerAt = time.Time{}
	owner := c.owner
	c.mu.Unlock()
	if at.IsZero() {
		return // seen before (a resume replays pending offers in the welcome, not as events)
	}
	if r.measuring.Load() {
		r.offer.record(time.Since(at))
	}
	if r.cfg.HoldOffers {
		r.hmu.Lock()
		r.held = append(r.held, heldOffer{id: t.ID, session: t.Session, to: p, deadline: t.Deadline})
		r.hmu.Unlock()
		return
	}
	r.transferWG.Add(1)
	go func() {
		defer r.transferWG.Done()
		ref := protocol.TransferRef{Transfer: t.ID}
		var rep reply
		outcome := [...]string{"accepted", "rejected", "cancelled"}[rand.IntN(3)]
		switch outcome {
		case "accepted":
			rep = p.call(protocol.CmdTransferAccept, ref, 20*time.Second)
		case "rejected":
			rep = p.call(protocol.CmdTransferReject, ref, 20*time.Second)
		default:
			rep = owner.call(protocol.CmdTransferCancel, ref, 20*time.Second)
		}
		c.mu.Lock()
		if rep.ok {
			r.outcomes.add(outcome)
			if outcome == "accepted" {
				c.owner = p
			}
		}
		c.busy = false
		c.mu.Unlock()
	}()
}

// --- the measured phase ----------------------------------------------------

// sample is a moment of the run for windows and rates.
type sample struct {
	at        time.Time
	lat       histSnap
	offer     histSnap
	delivered int64
	acked     int64
	proc      procStat
	self      procStat
	host      time.Duration
}

func (r *run) sample() sample {
	s := sample{at: time.Now(), lat: r.lat.snap(), offer: r.offer.snap(), delivered: r.delivered.Load(), acked: r.acked.Load()}
	if r.pid > 0 {
		s.proc, _ = readProcs(append([]int{r.pid}, r.morePIDs...))
	}
	s.self, _ = readProc(0)
	s.host = hostBusy()
	return s
}

// load runs the senders (and transfers) for warm-up plus Duration and
// returns the measured window's first and last samples.
func (r *run) load() (sample, sample) {
	r.startSenders()
	r.transferWG.Add(1)
	go r.transferLoop()
	time.Sleep(r.cfg.Warmup)
	r.measuring.Store(true)
	if r.traceTo != "" {
		if f, err := os.Create(r.traceTo); err == nil {
			if trace.Start(f) == nil {
				time.AfterFunc(2*time.Second, func() { trace.Stop(); f.Close() })
			}
		}
	}
	if r.cpuTo != "" {
		if f, err := os.Create(r.cpuTo); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	first := r.sample()
	last := first
	end := first.at.Add(r.cfg.Duration)
	for {
		wait := time.Until(end)
		if r.cfg.Progress > 0 && wait > r.cfg.Progress {
			wait = r.cfg.Progress
		}
		if wait <= 0 {
			break
		}
		time.Sleep(wait)
		s := r.sample()
		if r.cfg.Progress > 0 && time.Until(end) > 0 {
			r.progress(last, s)
		}
		last = s
	}
	final := r.sample()
	r.measuring.Store(false)
	return first, final
}

func (r *run) progress(a, b sample) {
	w := b.lat.sub(a.lat)
	dt := b.at.Sub(a.at).Seconds()
	line := fmt.Sprintf("%-8s conns=%d delivered=%.0f/s p50=%s p99=%s errors=%d", r.name, r.conns.Load(),
		float64(b.delivered-a.delivered)/dt, ms(w.quantile(0.5)), ms(w.quantile(0.99)), r.errs.total())
	if r.pid > 0 {
		line += fmt.Sprintf(" rss=%s cpu=%.2f", mib(b.proc.RSS), cpuShare(a.proc, b.proc, b.at.Sub(a.at)))
	}
	r.logf("%s", line)
}

// finish stops the senders, waits for outstanding acks and deliveries, and
// stops every reader, so that the bitsets can be checked.
func (r *run) finish(settle time.Duration) {
	close(r.stopSend)
	r.senders.Wait()
	if !waitFor(settle, func() bool { return r.idle() }) {
		r.errs.add("settle_timeout") // what is still missing shows in check
	}
	r.transferWG.Wait()
	r.stop()
}

// idle: every visitor's outbox is empty and every receiver has every acked message.
func (r *run) idle() bool {
	for _, c := range r.chats {
		c.visitor.mu.Lock()
		out := len(c.visitor.outbox)
		c.visitor.mu.Unlock()
		if out > 0 {
			return false
		}
		n := c.nAcked.Load()
		if c.nGot[slotAgent].Load() < n || (c.sup != nil && c.nGot[slotSup].Load() < n) ||
			(r.relay && c.nGot[slotVisitor].Load() < n) {
			return false
		}
	}
	return true
}

// stop closes every connection and waits for the readers.
func (r *run) stop() {
	if r.stopping.Swap(true) {
		return
	}
	close(r.done)
	all := r.allPeers()
	for _, p := range all {
		p.closeConn()
	}
	for _, p := range all {
		p.readerWG.Wait()
	}
}

// check counts, after stop, acknowledged messages a receiver never got.
type checkResult struct {
	Lost       map[string]int64 `json:"lost"`       // by receiver: acked, never delivered
	Duplicated int64            `json:"duplicated"` // delivered twice (same seq or same client id)
	Gaps       int64            `json:"gaps"`       // an agent's entries skipped a seq
	Unacked    int64            `json:"unacked"`    // sent, never acknowledged
	Phantom    int64            `json:"phantom"`    // delivered though never acknowledged
}

func (r *run) check() checkResult {
	res := checkResult{Lost: map[string]int64{}, Duplicated: r.dupSeq.Load() + r.dupMsg.Load(), Gaps: r.gaps.Load()}
	names := [...]string{"agent", "supervisor", "visitor"}
	for _, c := range r.chats {
		for s := range c.got {
			if (s == slotSup && c.sup == nil) || (s == slotVisitor && !r.relay) {
				continue
			}
			got := &c.got[s]
			c.acked.each(func(n uint64) {
				if !got.has(n) {
					res.Lost[names[s]]++
				}
			})
			got.each(func(n uint64) {
				if !c.acked.has(n) {
					res.Phantom++
				}
			})
		}
		res.Unacked += int64(c.visitor.next) - int64(c.acked.count())
	}
	return res
}

func (c checkResult) lost() int64 {
	var n int64
	for _, v := range c.Lost {
		n += v
	}
	return n
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }
