package relay

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/files"
	"switchboard/backend/mail"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Server is one relay: the desk, its connections and its committer.
type Server struct {
	cfg   Config
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	// mu guards the desk and every routing table below, and each conn's
	// subscription state. It is never held across I/O.
	mu            sync.Mutex
	desk          *chat.Desk
	agentConns    map[chat.AgentID]map[*conn]struct{}
	visitorConns  map[chat.SessionID]map[*conn]struct{}
	visitorTokens map[string]chat.SessionID // token hash -> session
	committed     map[chat.SessionID]uint64 // highest seq durable and delivered
	recipients    []chat.AgentID            // deliver's, reused from entry to entry
	watchers      map[*conn]struct{}        // dashboard subscribers
	open          map[*conn]struct{}        // every connection, also before hello: Shutdown closes them all
	dashDirty     bool
	history       queueHistory // per-minute queue samples for the dashboard chart
	closing       bool
	// fan holds what queue and presence news need between deliveries (fanout.go).
	fan   fanout
	fault *writeFault // the store does not take writes (see storefault.go); nil: it does

	// quickMu serialises saves of quick replies, so that the events telling
	// an agent's other connections go out in the order the store took them.
	quickMu sync.Mutex

	// Password sign-ins: throttled per address and login, checked in
	// bounded slots (login.go).
	throttle  *loginThrottle
	passwords *passwordChecker
	perAddr   addrConns   // live connections per client address
	starts    addrBuckets // chat starts and offline submissions per address

	pipe    pipeline
	gate    *Gate
	metrics metrics
	dirVer  int64 // the directory version the directory loop last applied
	// deskDir is the directory version the desk reflects (guarded by mu): a
	// desk restored from the store may be newer than a directory read
	// before it, which then must not be applied over it.
	deskDir int64
	// tokenChecks counts re-checks of live connections' tokens (see
	// closeRevoked); a hello that authenticated before one began checks its
	// own token again once it is routed.
	tokenChecks atomic.Int64

	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
	conns    sync.WaitGroup
	live     atomic.Int64
	// out sends e-mails and webhook calls from the store's outbox;
	// mailer is nil when no SMTP server is configured.
	out    outbox
	mailer *mail.Sender
}

// New loads the desk from the store and returns a relay ready to serve.
func New(cfg Config, st store.Store, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg.applyMemoryLimit()
	s := &Server{
		cfg: cfg, store: st, log: log, now: time.Now,
		agentConns:    make(map[chat.AgentID]map[*conn]struct{}),
		visitorConns:  make(map[chat.SessionID]map[*conn]struct{}),
		visitorTokens: make(map[string]chat.SessionID),
		committed:     make(map[chat.SessionID]uint64),
		watchers:      make(map[*conn]struct{}),
		open:          make(map[*conn]struct{}),
		stop:          make(chan struct{}),
		throttle:      newLoginThrottle(cfg),
		passwords:     newPasswordChecker(passwordWorkers(cfg), cfg.PasswordQueue),
	}
	s.starts.perMinute = cfg.StartsPerMinute
	if err := s.initOutbox(); err != nil {
		return nil, err
	}
	if err := s.loadDesk(context.Background()); err != nil {
		return nil, err
	}
	s.pipe.init()
	s.gate = NewGate(cfg)
	return s, nil
}

func (s *Server) loadDesk(ctx context.Context) error {
	snap, ver, err := s.readDesk(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installDesk(snap, ver)
	s.dirVer = ver
	return nil
}

// readDesk reads what a desk is made of, and the directory version it
// reflects. The version is read first: an admin change that lands during
// the load moves it on, and the directory loop applies that change again.
func (s *Server) readDesk(ctx context.Context) (chat.Snapshot, int64, error) {
	now := s.now()
	ver, err := s.store.DirectoryVersion(ctx)
	if err != nil {
		return chat.Snapshot{}, 0, err
	}
	snap, err := s.store.Load(ctx, now, now.Add(-s.cfg.Desk.KeepEnded))
	return snap, ver, err
}

// installDesk makes a desk of snap the relay's, with the routing tables
// that follow from it. Caller holds s.mu.
func (s *Server) installDesk(snap chat.Snapshot, dirVersion int64) {
	desk := chat.New(s.cfg.Desk, snap, s.now())
	s.desk = desk
	s.deskDir = dirVersion
	for _, sess := range snap.Sessions {
		if _, kept := desk.Session(sess.ID); !kept {
			continue // an ended chat the desk does not hold (see chat.Config.MaxEnded)
		}
		s.committed[sess.ID] = sess.Seq
		if sess.TokenHash != "" {
			s.visitorTokens[sess.TokenHash] = sess.ID
		}
	}
	s.prune() // routes of chats the new desk does not hold
}

// Start runs the committer and the timers. Serve the Handler afterwards.
func (s *Server) Start() {
	s.wg.Add(4)
	// A relay started on a full disk or a read-only database learns it now,
	// and says so on /healthz, rather than at its first command.
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	if err := s.store.WriteProbe(ctx); err != nil {
		s.mu.Lock()
		s.degrade(err)
		s.mu.Unlock()
	}
	cancel()
	s.reconcile()
	go func() { defer s.wg.Done(); s.commitLoop() }()
	go func() { defer s.wg.Done(); s.tickLoop() }()
	go func() { defer s.wg.Done(); s.dashboardLoop() }()
	go func() { defer s.wg.Done(); s.directoryLoop() }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.outboxLoop() }()
	if s.cfg.GCFloor > 0 {
		if base := s.cfg.gcBase(); base > 0 { // GOGC=off stays off
			s.wg.Add(1)
			go func() { defer s.wg.Done(); gcFloorLoop(s.cfg.GCFloor, base, 100*time.Millisecond, s.stop) }()
		}
	}
}

// Handler serves the websocket endpoint, health and metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/healthz", s.serveHealth)
	mux.HandleFunc("/metrics", s.serveMetrics)
	if s.cfg.Files != nil {
		mux.Handle(files.Prefix, s.cfg.Files.Handler())
	}
	return mux
}

// Shutdown stops taking commands, commits what was decided, and closes every
// client with "going away" so it reconnects (elsewhere, or after a restart).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	all := make([]*conn, 0, len(s.open))
	for c := range s.open {
		all = append(all, c)
	}
	s.mu.Unlock()
	// Flush: everything decided so far is committed and delivered.
	s.pipe.drain()
	// In parallel: an orderly close lets each client's queue drain for up
	// to a second, and a thousand clients must not take a thousand seconds.
	var closing sync.WaitGroup
	for _, c := range all {
		closing.Go(func() { c.closeWith(websocket.CloseGoingAway, "relay restarting") })
	}
	closing.Wait()
	s.stopOnce.Do(func() { close(s.stop) })
	s.pipe.close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) tickLoop() {
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	lastPrune := s.now()
	var out lazySends
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if !s.closing {
				now := s.now()
				// Timers wait while the store cannot write: what they decide
				// could not be committed. They fire late, on recovery.
				if fx := s.tick(now); len(fx) > 0 {
					s.pipe.push(&job{fx: fx})
				}
				s.flushPresence(&out)
				if now.Sub(lastPrune) > time.Minute {
					s.prune()
					lastPrune = now
				}
			}
			s.mu.Unlock()
			out.flush()
		}
	}
}

// directoryLoop reloads agents and channels when an admin command changed them.
func (s *Server) directoryLoop() {
	if s.cfg.DirectoryPoll <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.DirectoryPoll)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			v, err := s.store.DirectoryVersion(context.Background())
			if err != nil || v == s.dirVer {
				continue
			}
			applied, err := s.reloadDirectory(context.Background())
			if err != nil {
				s.log.Warn("reload of agents and channels failed", "err", err)
				continue
			}
			s.dirVer = applied
		}
	}
}

// reloadDirectory applies admin changes to the running desk in place (see
// chat.Desk.ApplyDirectory): sessions, queues, presence and every decision
// on its way to the store stay as they are. Rebuilding the desk from a
// store snapshot instead would miss what was decided but not yet committed,
// and reuse its seq. Then it stops the dashboard feed of those who may no
// longer watch, and closes the connections whose credentials the change
// revoked. It returns the directory version applied.
func (s *Server) reloadDirectory(ctx context.Context) (int64, error) {
	dir, err := s.store.Directory(ctx)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return dir.Version, nil
	}
	if dir.Version < s.deskDir {
		// The desk was restored from the store after this was read: it
		// already holds a newer directory.
		s.mu.Unlock()
		return s.deskDir, nil
	}
	s.deskDir = dir.Version
	before := make(map[chat.AgentID]map[chat.ChannelID]chat.Perm, len(s.agentConns))
	for a := range s.agentConns {
		if ag, ok := s.desk.Agent(a); ok {
			before[a] = maps.Clone(ag.Perms)
		}
	}
	if fx := s.desk.ApplyDirectory(s.now(), dir.Channels, dir.Agents); len(fx) > 0 {
		s.pipe.push(&job{fx: fx})
	}
	// An agent whose permissions changed sees other channels, queues and
	// actions now: their windows get them as in a welcome, in the pipeline's
	// order, so queue changes decided after this one follow it.
	for a, perms := range before {
		if ag, ok := s.desk.Agent(a); ok && !ag.Disabled && !maps.Equal(perms, ag.Perms) {
			s.tellChannels(a)
		}
	}
	for c := range s.watchers {
		if !s.desk.CanWatchAny(c.agent) {
			delete(s.watchers, c)
		}
	}
	s.dashDirty = true
	s.mu.Unlock()
	s.closeRevoked(ctx, 0, nil)
	s.log.Info("agents and channels applied", "version", dir.Version)
	return dir.Version, nil
}

// tellChannels sends an agent's connections their channels and the queues
// they see, as a welcome would, in the pipeline's order: queue changes
// decided after this follow it. Caller holds s.mu.
func (s *Server) tellChannels(a chat.AgentID) {
	now := s.now()
	frame := encodeEvent(protocol.EvChannels, "", 0, protocol.ChannelsEvent{
		Channels: nonNil(s.desk.ChannelsFor(a, now)), Queue: nonNil(s.desk.QueueFor(a))})
	s.pipe.push(&job{pre: func() { s.toAgent(a, frame) }})
}

// reconcile holds the desk just loaded (at start, or restored after a
// failed write) to the rights in the directory it was loaded with, and
// commits what follows (see chat.Desk.Reconcile).
func (s *Server) reconcile() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fx := s.desk.Reconcile(s.now()); len(fx) > 0 {
		s.pipe.push(&job{fx: fx})
	}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// closeRevoked checks the token of every live agent connection (of agent
// only, when not 0; but except) against the store, and closes those whose
// token no longer holds: revoked (password change, disable, the logout of
// the session that minted it), expired, or of a disabled agent.
func (s *Server) closeRevoked(ctx context.Context, only chat.AgentID, except *conn) {
	s.mu.Lock()
	s.tokenChecks.Add(1)
	var list []*conn
	for a, set := range s.agentConns {
		if only != 0 && a != only {
			continue
		}
		for c := range set {
			if c != except {
				list = append(list, c)
			}
		}
	}
	s.mu.Unlock()
	s.checkTokens(ctx, list)
}

// checkTokens closes, with protocol.CloseRevoked, the connections whose
// token the store no longer honours. It reads the store, so it runs off the
// lock; a connection's agent and token are set once, by its hello.
func (s *Server) checkTokens(ctx context.Context, list []*conn) {
	now := s.now()
	valid := map[string]bool{}
	for _, c := range list {
		ok, known := valid[c.token]
		if !known {
			id, err := s.store.TokenAgent(ctx, c.token, now)
			switch {
			case err == nil:
				ok = id == c.agent
			case errors.Is(err, store.ErrNotFound):
				ok = false
			default:
				// Cannot tell: keep it; the next directory change checks again.
				s.log.Warn("token check failed", "agent", c.agent, "err", err)
				ok = true
			}
			valid[c.token] = ok
		}
		if !ok {
			s.log.Info("agent connection closed: credentials revoked", "agent", c.agent)
			go c.closeWith(protocol.CloseRevoked, "signed out: credentials revoked")
		}
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.serveDegraded(w) {
		return
	}
	if _, err := s.store.DirectoryVersion(ctx); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.isClosing() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	h := health{Status: "ok", Version: s.cfg.Version, Role: s.cfg.Role, Term: s.cfg.Term}
	if s.cfg.Role != "" {
		h.Database = "ok" // read just above
	}
	if s.cfg.NATS != nil {
		h.NATS = s.cfg.NATS()
	}
	_ = json.NewEncoder(w).Encode(h)
}

// health is /healthz's answer when the relay takes work.
type health struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	Role     string `json:"role,omitempty"`
	Term     int64  `json:"term,omitempty"`
	Database string `json:"database,omitempty"`
	NATS     string `json:"nats,omitempty"`
}

// errClosing refuses work during shutdown.
var errClosing = errors.New("relay is shutting down")

// isClosing says whether Shutdown has begun.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// mayStillRead reports whether an agent may go on receiving a session the
// desk holds (one it no longer holds was readable when the catch-up began).
// Caller holds s.mu.
func (s *Server) mayStillRead(a chat.AgentID, sid chat.SessionID) bool {
	if _, ok := s.desk.Session(sid); !ok {
		return true
	}
	return s.desk.MayRead(a, sid)
}
