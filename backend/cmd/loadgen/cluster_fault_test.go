package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/protocol"
	"switchboard/backend/store/pgtest"
)

// node is one relay process of a cluster test.
type node struct {
	name string
	args relayArgs
	proc *process
}

// health is a node's /healthz answer; status is the HTTP status (0: none).
func (n *node) health() (status int, role string) {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + n.args.Addr + "/healthz")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var h struct {
		Role string `json:"role"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h.Role
}

// cluster is three relay processes on one PostgreSQL database.
type cluster struct {
	t     *testing.T
	dsn   string
	nodes []*node
}

func newCluster(t *testing.T, cfg config, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, dsn: pgtest.Start(t)}
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
				"--limits-rate", "100000", "--limits-burst", "100000"}}}
		c.start(nd)
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
func (c *cluster) leader(within time.Duration) *node {
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
		return found != nil
	})
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
	c := newCluster(t, cfg, 3)
	first := c.leader(15 * time.Second)
	if first == nil {
		t.Fatal("no node took the lease")
	}
	term0, holder := c.term()
	if holder != first.name {
		t.Fatalf("the database names %s as holder; %s says it leads", holder, first.name)
	}
	r := newRun("cluster", true, c.urls(), cfg)
	r.pid, r.reconnect, r.logf = first.proc.pid(), true, t.Logf
	if err := r.setup(); err != nil {
		r.stop()
		t.Fatal(err)
	}
	defer r.stop()
	offers := scale(3, 10)
	for range offers {
		if !r.offerOne() {
			t.Fatal("could not start a transfer")
		}
	}
	if !waitFor(10*time.Second, func() bool { return r.heldCount() == offers }) {
		t.Fatalf("offers did not reach their receivers: %d", r.heldCount())
	}
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
		all := r.allPeers()
		ok := waitFor(15*time.Second, func() bool {
			for _, p := range all {
				if p.upAt.Load() < killedAt.UnixNano() {
					return false
				}
			}
			return true
		})
		var slowest time.Duration
		for _, p := range all {
			slowest = max(slowest, time.Duration(p.upAt.Load()-killedAt.UnixNano()))
		}
		t.Logf("kill %d: %d clients resumed on %s; the last %s after the kill", k+1, len(all), next.name, slowest.Round(time.Millisecond))
		if !ok || slowest > budget(5*time.Second) {
			t.Errorf("kill %d: clients took %s to resume (budget %s; all back: %v)", k+1, slowest, budget(5*time.Second), ok)
		}
		for _, h := range r.heldOffers() {
			h.to.mu.Lock()
			transfers := h.to.transfers
			h.to.mu.Unlock()
			found := false
			for _, tr := range transfers {
				found = found || tr.ID == h.id && tr.State == protocol.TransferPending
			}
			if !found {
				t.Errorf("kill %d: transfer %d to %s is not pending on the new leader: %+v", k+1, h.id, h.to.login, transfers)
			}
		}
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
}

func readTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(b, n)
}
