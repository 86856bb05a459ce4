package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"switchboard/backend/protocol"
	"switchboard/backend/store/pgtest"
)

// node is one relay process of a cluster test.
type node struct {
	name   string
	args   relayArgs
	proc   *process
	link   *link // to NATS, when the cluster has it
	dbLink *link // to PostgreSQL, likewise
}

// health is a node's /healthz answer; status is the HTTP status (0: none).
func (n *node) health() (status int, role string) {
	status, h := n.healthz()
	return status, h.Role
}

// nodeHealth is what /healthz says about a node.
type nodeHealth struct {
	Role, NATS, Database string
}

func (n *node) healthz() (int, nodeHealth) {
	var h nodeHealth
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + n.args.Addr + "/healthz")
	if err != nil {
		return 0, h
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h
}

// cluster is relay processes on one PostgreSQL database, connected by a
// NATS server (in this process) when the test wants one.
type cluster struct {
	t     *testing.T
	dsn   string
	nodes []*node
}

func newCluster(t *testing.T, cfg config, n int, withNATS bool) *cluster {
	t.Helper()
	c := &cluster{t: t, dsn: pgtest.Start(t)}
	var natsURL string
	if withNATS {
		natsURL = startNATS(t)
	}
	if err := seed(c.dsn, cfg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range n {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("node-%d", i+1)
		nd := &node{name: name, args: relayArgs{Bin: relayBinary(t), DB: c.dsn, Addr: addr, Standby: true,
			LogFile: filepath.Join(dir, name+".log"), Extra: []string{"--cluster-node", name,
				"--limits-rate", "100000", "--limits-burst", "100000", "--log-level", "info"}}}
		if withNATS {
			// Each node reaches NATS, and PostgreSQL, through links the
			// test can cut.
			nd.link = newLink(t, natsURL)
			nd.args.Extra = append(nd.args.Extra, "--nats", "nats://"+nd.link.addr())
			u, err := url.Parse(c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			nd.dbLink = newLink(t, u.Host)
			u.Host = nd.dbLink.addr()
			nd.args.DB = u.String()
		}
		c.nodes = append(c.nodes, nd)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			if nd.proc != nil {
				nd.proc.kill()
			}
			if t.Failed() {
				t.Logf("%s log (tail):\n%s", nd.name, readTail(nd.args.LogFile, 3000))
			}
		}
	})
	for _, nd := range c.nodes {
		c.start(nd)
	}
	return c
}

func (c *cluster) start(nd *node) {
	c.t.Helper()
	p, err := startRelay(nd.args)
	if err != nil {
		c.t.Fatal(err)
	}
	nd.proc = p
}

// urls is every node's websocket address, as clients are configured.
func (c *cluster) urls() string {
	var u []string
	for _, nd := range c.nodes {
		u = append(u, "ws://"+nd.args.Addr+"/ws")
	}
	return strings.Join(u, ",")
}

// leader waits until exactly one running node says it leads.
func (c *cluster) leader(within time.Duration) *node { return c.leaderOtherThan(nil, within) }

// leaderOtherThan waits until exactly one running node other than old says
// it leads (and old does not).
func (c *cluster) leaderOtherThan(old *node, within time.Duration) *node {
	var found *node
	waitFor(within, func() bool {
		found = nil
		for _, nd := range c.nodes {
			if nd.proc == nil {
				continue
			}
			if status, role := nd.health(); status == http.StatusOK && role == "leader" {
				if found != nil {
					c.t.Errorf("two nodes say they lead: %s and %s", found.name, nd.name)
				}
				found = nd
			}
		}
		return found != nil && found != old
	})
	if found == old {
		return nil
	}
	return found
}

// terms reads the lease's term and holder from the database.
func (c *cluster) term() (int64, string) {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var term int64
	var holder string
	if err := conn.QueryRow(context.Background(), "SELECT term, holder FROM cluster_term WHERE id = 1").Scan(&term, &holder); err != nil {
		c.t.Fatal(err)
	}
	return term, holder
}

// TestClusterFailoverUnderLoad runs three relays on one PostgreSQL database;
// the clients know all three addresses. The leader is killed with SIGKILL
// while visitors publish and transfers are pending, then the next leader
// too: each time another node takes the lease, loads the desk and serves,
// every client is back within 5 s of the kill, no acknowledged message is
// lost or doubled (in the clients and in the database), and the pending
// transfers are still pending.
func TestClusterFailoverUnderLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(40, 300), scale(6, 30), scale(2, 10)
	cfg.Rate = 0
	cfg.HoldOffers = true
	cfg.TransferTimeout = time.Hour
	c := newCluster(t, cfg, 3, false)
	first := c.leader(15 * time.Second)
	if first == nil {
		t.Fatal("no node took the lease")
	}
	term0, holder := c.term()
	if holder != first.name {
		t.Fatalf("the database names %s as holder; %s says it leads", holder, first.name)
	}
	r := startRun(t, "cluster", c.urls(), cfg)
	defer r.stop()
	deadlines := holdOffers(t, r, scale(3, 10))
	r.startSenders()
	kills := scale(2, 6)
	for k := range kills {
		time.Sleep(scale(time.Second, 10*time.Second))
		old := c.leader(5 * time.Second)
		if old == nil {
			t.Fatal("no leader before the kill")
		}
		before := r.acked.Load()
		old.proc.kill()
		old.proc = nil
		killedAt := time.Now()
		next := c.leader(10 * time.Second)
		if next == nil {
			t.Fatalf("kill %d: no node took over from %s", k+1, old.name)
		}
		t.Logf("kill %d: %s killed with %d acked; %s leads after %s", k+1, old.name, before, next.name,
			time.Since(killedAt).Round(time.Millisecond))
		slowest, ok := backAfter(r, killedAt, 15*time.Second)
		t.Logf("kill %d: every client resumed on %s; the last %s after the kill", k+1, next.name, slowest.Round(time.Millisecond))
		if !ok || slowest > budget(5*time.Second) {
			t.Errorf("kill %d: clients took %s to resume (budget %s; all back: %v)", k+1, slowest, budget(5*time.Second), ok)
		}
		checkOffers(t, fmt.Sprintf("kill %d", k+1), r, deadlines)
		// The killed node comes back, as a standby.
		c.start(old)
		if status, role := old.health(); status != http.StatusServiceUnavailable || role != "follower" {
			t.Errorf("kill %d: the restarted %s answers %d %q; want a standby (503, follower)", k+1, old.name, status, role)
		}
	}
	time.Sleep(scale(time.Second, 10*time.Second))
	r.finish(15 * time.Second)
	res := verify(t, r)
	if res.Unacked > 0 {
		t.Errorf("%d messages were never acknowledged (resends after the failover should be)", res.Unacked)
	}
	term, holder := c.term()
	if term != term0+int64(kills) {
		t.Errorf("term went from %d to %d over %d failovers; want one new term each", term0, term, kills)
	}
	if last := c.leader(time.Second); last == nil || last.name != holder {
		t.Errorf("the database names %s as holder, the nodes say %v", holder, last)
	}
	verifyStore(t, r, c.dsn)
	c.checkTerms(t)
}

func readTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(b, n)
}

// startNATS runs a NATS server in this process for the test.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns.Addr().String()
}

// link is a TCP path from a node to the NATS server that the test can cut
// (every connection dropped, new ones refused) and heal: a network
// partition between that node and NATS, nothing else.
type link struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newLink(t *testing.T, target string) *link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); l.setCut(true) })
	go l.serve()
	return l
}

func (l *link) addr() string { return l.ln.Addr().String() }

func (l *link) serve() {
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.cut {
			l.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", l.target)
		if err != nil {
			l.mu.Unlock()
			in.Close()
			continue
		}
		l.conns[in], l.conns[out] = struct{}{}, struct{}{}
		l.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close(); in.Close() }()
		go func() { _, _ = io.Copy(in, out); out.Close(); in.Close() }()
	}
}

func (l *link) setCut(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = cut
	if cut {
		for c := range l.conns {
			c.Close()
		}
		clear(l.conns)
	}
}

// waitAllOK waits until every running node answers /healthz with 200: a
// follower does once it hears the leader over NATS.
func (c *cluster) waitAllOK(within time.Duration) bool {
	return waitFor(within, func() bool {
		for _, nd := range c.nodes {
			if nd.proc != nil {
				if status, _ := nd.health(); status != http.StatusOK {
					return false
				}
			}
		}
		return true
	})
}

// spread counts the clients connected through each node.
func (c *cluster) spread(r *run) map[string]int {
	n := map[string]int{}
	for _, p := range r.allPeers() {
		if u := p.on.Load(); u != nil {
			for _, nd := range c.nodes {
				if strings.Contains(*u, nd.args.Addr) {
					n[nd.name]++
				}
			}
		}
	}
	return n
}

// backAfter waits until every client is connected again after at, and
// returns how long the slowest of those that lost their connection took.
func backAfter(r *run, at time.Time, within time.Duration) (time.Duration, bool) {
	all := r.allPeers()
	ok := waitFor(within, func() bool {
		for _, p := range all {
			if p.downAt.Load() >= p.upAt.Load() {
				return false
			}
		}
		return true
	})
	var slowest time.Duration
	for _, p := range all {
		if down := p.downAt.Load(); down >= at.UnixNano() {
			slowest = max(slowest, time.Duration(p.upAt.Load()-at.UnixNano()))
		}
	}
	return slowest, ok
}

// TestClusterOverNATSUnderLoad runs three relays on one PostgreSQL database
// and one NATS server, with the clients spread over all three (each knows
// every address, starting at a different one): followers tunnel their
// clients to the leader. Under load, with transfers pending, the leader is
// killed with SIGKILL, then a follower, then the leader is cut off from
// NATS. Each time every client is back within 5 s, another node leads when
// the leader was hit, no acknowledged message is lost or doubled (in the
// clients and in the database), the pending transfers are still pending,
// and no two nodes ever say they lead at once. Last the leader is cut off
// from PostgreSQL: it can commit nothing more, steps down, and another node
// leads.
func TestClusterOverNATSUnderLoad(t *testing.T) {
	cfg := defaultConfig()
	cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(45, 300), scale(6, 30), scale(3, 12)
	cfg.Rate = 0
	cfg.HoldOffers = true
	cfg.TransferTimeout = time.Hour
	c := newCluster(t, cfg, 3, true)
	if c.leader(15*time.Second) == nil {
		t.Fatal("no node took the lease")
	}
	if !c.waitAllOK(10 * time.Second) {
		t.Fatal("the followers do not hear the leader")
	}
	term0, _ := c.term()
	r := startRun(t, "nats", c.urls(), cfg)
	defer r.stop()
	spread := c.spread(r)
	t.Logf("clients per node: %v", spread)
	if len(spread) != 3 {
		t.Fatalf("clients are not spread over the three nodes: %v", spread)
	}
	deadlines := holdOffers(t, r, scale(3, 10))
	r.startSenders()

	faults := []struct {
		name   string
		leader bool
		hit    func(nd *node)
		mend   func(nd *node)
	}{
		{"kill the leader", true, func(nd *node) { nd.proc.kill(); nd.proc = nil }, c.start},
		{"kill a follower", false, func(nd *node) { nd.proc.kill(); nd.proc = nil }, c.start},
		{"cut the leader off from NATS", true, func(nd *node) { nd.link.setCut(true) }, func(nd *node) { nd.link.setCut(false) }},
		{"cut the leader off from PostgreSQL", true, func(nd *node) { nd.dbLink.setCut(true) }, func(nd *node) { nd.dbLink.setCut(false) }},
	}
	for _, f := range faults {
		time.Sleep(scale(time.Second, 10*time.Second))
		lead := c.leader(5 * time.Second)
		if lead == nil {
			t.Fatalf("%s: no leader before", f.name)
		}
		target := lead
		if !f.leader {
			// The follower holding the most clients.
			spread := c.spread(r)
			for _, nd := range c.nodes {
				if nd != lead && nd.proc != nil && (target == lead || spread[nd.name] > spread[target.name]) {
					target = nd
				}
			}
		}
		before := r.acked.Load()
		at := time.Now()
		f.hit(target)
		if f.leader {
			next := c.leaderOtherThan(target, 10*time.Second)
			if next == nil {
				t.Fatalf("%s: no other node took over from %s (now %v)", f.name, target.name, next)
			}
			t.Logf("%s: %s hit with %d acked; %s leads after %s", f.name, target.name, before, next.name, time.Since(at).Round(time.Millisecond))
		}
		slowest, ok := backAfter(r, at, 15*time.Second)
		t.Logf("%s: every client back; the slowest %s after the fault; clients per node now %v", f.name, slowest.Round(time.Millisecond), c.spread(r))
		if !ok || slowest > budget(5*time.Second) {
			t.Errorf("%s: clients took %s to come back (budget %s; all back: %v)", f.name, slowest, budget(5*time.Second), ok)
		}
		checkOffers(t, f.name, r, deadlines)
		// What /healthz says of the node hit: cut off, it takes no clients
		// and says from what.
		var st int
		var h nodeHealth
		cut := map[string]func() bool{
			"cut the leader off from NATS":       func() bool { return h.NATS == "unreachable" },
			"cut the leader off from PostgreSQL": func() bool { return h.Database != "ok" && h.Database != "" },
		}[f.name]
		if cut != nil && !waitFor(5*time.Second, func() bool { st, h = target.healthz(); return st == 503 && h.Role == "follower" && cut() }) {
			t.Errorf("%s: its /healthz says %d %+v; want 503, a follower, and what it cannot reach", f.name, st, h)
		}
		if next := c.leader(time.Second); next != nil {
			if st, h = next.healthz(); h.Database != "ok" || h.NATS != "ok" {
				t.Errorf("%s: the leader's /healthz says %d %+v; want database and NATS ok", f.name, st, h)
			}
		}
		f.mend(target)
		if !c.waitAllOK(15 * time.Second) {
			t.Errorf("%s: the cluster did not heal", f.name)
		}
	}
	time.Sleep(scale(time.Second, 10*time.Second))
	r.finish(15 * time.Second)
	res := verify(t, r)
	if res.Unacked > 0 {
		t.Errorf("%d messages were never acknowledged", res.Unacked)
	}
	if term, _ := c.term(); term != term0+3 {
		t.Errorf("term went from %d to %d over three changes of leader; want one new term each", term0, term)
	}
	verifyStore(t, r, c.dsn)
	c.checkTerms(t)
}

// offerDeadlines is the deadline of every held offer, as offered.
func offerDeadlines(t *testing.T, r *run) map[int64]time.Time {
	t.Helper()
	d := map[int64]time.Time{}
	for _, h := range r.heldOffers() {
		if h.deadline == nil {
			t.Fatalf("offer %d to %s has no deadline", h.id, h.to.login)
		}
		d[h.id] = *h.deadline
	}
	return d
}

// checkOffers fails unless every held offer is still pending, in its
// receiver's welcome after the fault, with the deadline it had before.
func checkOffers(t *testing.T, what string, r *run, deadlines map[int64]time.Time) {
	t.Helper()
	for _, h := range r.heldOffers() {
		h.to.mu.Lock()
		transfers := h.to.transfers
		h.to.mu.Unlock()
		found := false
		for _, tr := range transfers {
			if tr.ID == h.id && tr.State == protocol.TransferPending {
				found = true
				if tr.Deadline == nil || !tr.Deadline.Equal(deadlines[h.id]) {
					t.Errorf("%s: transfer %d to %s has deadline %v; it had %v", what, h.id, h.to.login, tr.Deadline, deadlines[h.id])
				}
			}
		}
		if !found {
			t.Errorf("%s: transfer %d to %s is not pending: %+v", what, h.id, h.to.login, transfers)
		}
	}
}

// checkTerms reads from the database which leader committed each entry:
// along every chat's log the term never goes back (a leader that lost the
// lease committed nothing after its successor), and every entry was
// committed under a term (no unfenced write).
func (c *cluster) checkTerms(t *testing.T) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT session, seq, term FROM entries ORDER BY session, seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perTerm := map[int64]int{}
	var last string
	var lastTerm int64
	for rows.Next() {
		var sid string
		var seq, term int64
		if err := rows.Scan(&sid, &seq, &term); err != nil {
			t.Fatal(err)
		}
		perTerm[term]++
		if sid == last && term < lastTerm {
			t.Errorf("chat %s: entry %d committed under term %d after one under term %d", sid, seq, term, lastTerm)
		}
		last, lastTerm = sid, term
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("entries committed per term: %v", perTerm)
	if perTerm[0] > 0 {
		t.Errorf("%d entries were committed without a term", perTerm[0])
	}
}

// startRun connects a load run's clients (which reconnect and resume) to
// the nodes at urls.
func startRun(t *testing.T, name, urls string, cfg config) *run {
	t.Helper()
	r := newRun(name, true, urls, cfg)
	r.reconnect, r.logf = true, t.Logf
	if err := r.setup(); err != nil {
		r.stop()
		t.Fatal(err)
	}
	return r
}

// holdOffers starts n transfers that their receivers hold (neither accept
// nor reject) and returns their deadlines.
func holdOffers(t *testing.T, r *run, n int) map[int64]time.Time {
	t.Helper()
	for range n {
		if !r.offerOne() {
			t.Fatal("could not start a transfer")
		}
	}
	if !waitFor(10*time.Second, func() bool { return r.heldCount() == n }) {
		t.Fatalf("offers did not reach their receivers: %d", r.heldCount())
	}
	return offerDeadlines(t, r)
}
