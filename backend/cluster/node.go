package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"switchboard/backend/relay"
)

// Desk is a running desk (a relay.Server) as a node sees it.
type Desk interface {
	Handler() http.Handler
	Attach(w relay.Wire, ip netip.Addr) bool
	Shutdown(ctx context.Context) error
}

// Node runs one relay of a cluster. It serves /healthz from the start, and
// the desk's endpoints while it holds the lease. Without the lease, and with
// NATS, it is a gateway: it admits websockets and tunnels them to the
// leader. Without NATS it is a standby: it refuses websockets with 503 and
// Retry-After, so that clients and load balancers move on to the leader.
// When the lease is lost the desk is shut down (its clients are told to go
// away and reconnect) and the node waits for the lease again.
type Node struct {
	DSN    string
	Name   string // who holds the lease, in health and the database
	Fencer Fencer
	Lease  LeaseOptions
	// NATS, if set, connects the nodes; Gate admits websockets by the
	// relay's rules (relay.NewGate of the relay's configuration).
	NATS *nats.Conn
	Gate *relay.Gate
	// Lead starts the desk under the given term: it loads the desk from the
	// store (the restart path) and starts its loops.
	Lead func(term int64) (Desk, error)
	Log  *slog.Logger
	// ShutdownWait bounds a stepping-down desk's orderly close.
	ShutdownWait time.Duration

	mu      sync.Mutex
	desk    Desk
	term    int64
	since   time.Time
	reason  string // why this node cannot lead, for health
	leader  string // who leads, when known
	gateway *Gateway
}

// Status is what /healthz says about the node.
type Status struct {
	State    string `json:"status"` // ok, or standby, or unavailable
	Role     string `json:"role"`   // leader or follower
	Term     int64  `json:"term,omitempty"`
	Leader   string `json:"leader,omitempty"`
	Database string `json:"database"`       // ok, or why it cannot be reached
	NATS     string `json:"nats,omitempty"` // ok or unreachable; empty without NATS
	Since    string `json:"since,omitempty"`
}

// Status says what the node is now.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := Status{Database: "ok"}
	if n.NATS != nil {
		st.NATS = "ok"
		if !n.NATS.IsConnected() {
			st.NATS = "unreachable"
		}
	}
	if n.desk != nil {
		st.State, st.Role, st.Term, st.Leader = "ok", "leader", n.term, n.Name
		st.Since = n.since.UTC().Format(time.RFC3339)
		return st
	}
	st.Role, st.Leader = "follower", n.leader
	if n.reason != "" {
		st.Database = n.reason
	}
	switch {
	case n.gateway == nil:
		st.State = "standby"
	case st.NATS != "ok", st.Database != "ok":
		// Cut off from either, a node takes no clients (its files, its
		// catch-up of the leader need them): the balancer sends them on.
		st.State = "unavailable"
	default:
		if node, term, ok := n.gateway.Leader(); ok {
			st.State, st.Leader, st.Term = "ok", node, term
		} else {
			st.State = "unavailable"
		}
	}
	return st
}

// Handler serves /healthz itself, everything else through the desk while
// this node leads, and /ws through the gateway while another node does.
func (n *Node) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		d, gw := n.desk, n.gateway
		n.mu.Unlock()
		if d != nil {
			d.Handler().ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/healthz" {
			st := n.Status()
			w.Header().Set("Content-Type", "application/json")
			if st.State != "ok" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		if r.URL.Path == "/ws" && gw != nil && n.Status().State == "ok" {
			gw.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		http.Error(w, "this node is a standby: connect to the leader", http.StatusServiceUnavailable)
	})
}

// Run takes the lease whenever it can and leads until it is lost or ctx
// ends; it returns when ctx ends, with the desk shut down.
func (n *Node) Run(ctx context.Context) error {
	if n.NATS != nil {
		gw, err := StartGateway(n.NATS, n.Gate, n.Log)
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.gateway = gw
		n.mu.Unlock()
		defer gw.Stop()
	}
	opts := n.Lease
	opts.OnWait = n.waiting
	poll := opts.withDefaults().Poll
	for {
		// A node cut off from NATS could not reach the other nodes'
		// clients: it does not ask for the lease.
		if n.NATS != nil && !n.NATS.IsConnected() {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(poll):
			}
			continue
		}
		lease, err := Acquire(ctx, n.DSN, n.Name, n.Fencer, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := n.lead(ctx, lease); err != nil {
			n.Log.Error("cluster: the desk did not start", "err", err)
			n.waiting(err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(poll):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// lead runs the desk for one lease, until the lease is lost, NATS stays
// unreachable, or ctx ends.
func (n *Node) lead(ctx context.Context, lease *Lease) error {
	n.Log.Info("cluster: leading", "node", n.Name, "term", lease.Term())
	desk, err := n.Lead(lease.Term())
	if err != nil {
		lease.Release()
		return err
	}
	var tunnels *serveTunnels
	if n.NATS != nil {
		if tunnels, err = startTunnels(n.NATS, desk, lease.Term(), n.Name, n.Log); err != nil {
			n.stepDown(desk, nil, lease)
			return err
		}
	}
	n.mu.Lock()
	n.desk, n.term, n.since, n.reason, n.leader = desk, lease.Term(), time.Now(), "", n.Name
	n.mu.Unlock()
	check := time.NewTicker(beatEvery)
	defer check.Stop()
	var cutOff time.Time
	for {
		select {
		case <-ctx.Done():
			n.stepDown(desk, tunnels, lease)
			return nil
		case <-lease.Lost():
			n.Log.Warn("cluster: lease lost, stepping down", "node", n.Name, "term", lease.Term(), "err", lease.Err())
			n.stepDown(desk, tunnels, lease)
			return nil
		case <-check.C:
			// A leader cut off from NATS serves only the clients on its
			// own sockets while the other nodes' clients wait: it lets go,
			// so that a node that can reach everyone leads.
			if n.NATS == nil || n.NATS.IsConnected() {
				cutOff = time.Time{}
				continue
			}
			if cutOff.IsZero() {
				cutOff = time.Now()
			} else if time.Since(cutOff) > natsGrace {
				n.Log.Warn("cluster: NATS unreachable, stepping down", "node", n.Name, "term", lease.Term())
				n.stepDown(desk, tunnels, lease)
				return nil
			}
		}
	}
}

// stepDown stops serving the desk, then closes it and the lease. A desk
// whose store is fenced cannot commit what it still holds: clients resend
// what was not acknowledged to the next leader.
func (n *Node) stepDown(desk Desk, tunnels *serveTunnels, lease *Lease) {
	n.mu.Lock()
	n.desk, n.leader = nil, ""
	n.mu.Unlock()
	if tunnels != nil {
		tunnels.Stop()
	}
	wait := n.ShutdownWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	if err := desk.Shutdown(ctx); err != nil {
		n.Log.Warn("cluster: desk shutdown incomplete", "err", err)
	}
	cancel()
	lease.Release()
}

func (n *Node) waiting(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var held *HeldError
	switch {
	case errors.As(err, &held):
		n.reason, n.leader = "", held.Holder
	case err != nil:
		n.reason, n.leader = err.Error(), ""
	}
}
