package relay

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/mail"
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
	watchers      map[*conn]struct{}        // dashboard subscribers
	open          map[*conn]struct{}        // every connection, also before hello: Shutdown closes them all
	dashDirty     bool
	history       queueHistory // per-minute queue samples for the dashboard chart
	closing       bool

	// quickMu serialises saves of quick replies, so that the events telling
	// an agent's other connections go out in the order the store took them.
	quickMu sync.Mutex

	pipe     pipeline
	upgrader websocket.Upgrader
	metrics  metrics
	dirVer   int64

	wg       sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
	conns    sync.WaitGroup
	live     atomic.Int64
	// out sends e-mails and webhook calls from the store's outbox;
	// mailer is nil when no SMTP server is configured.
	out    outbox
	mailer *mail.Sender
	// fatal is called when the store fails to commit; the default exits the
	// process (the store is the truth and memory may no longer match it).
	fatal func(error)
}

// New loads the desk from the store and returns a relay ready to serve.
func New(cfg Config, st store.Store, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg: cfg, store: st, log: log, now: time.Now,
		agentConns:    make(map[chat.AgentID]map[*conn]struct{}),
		visitorConns:  make(map[chat.SessionID]map[*conn]struct{}),
		visitorTokens: make(map[string]chat.SessionID),
		committed:     make(map[chat.SessionID]uint64),
		watchers:      make(map[*conn]struct{}),
		open:          make(map[*conn]struct{}),
		stop:          make(chan struct{}),
	}
	s.fatal = func(err error) {
		log.Error("store commit failed; stopping so that memory never runs ahead of the database", "err", err)
		panic(err)
	}
	if err := s.initOutbox(); err != nil {
		return nil, err
	}
	if err := s.loadDesk(context.Background()); err != nil {
		return nil, err
	}
	s.pipe.init()
	s.upgrader = websocket.Upgrader{
		// Commands are small; a larger frame is read through the buffer in
		// pieces. Every connection holds this buffer for its whole life.
		ReadBufferSize: 1024,
		// The writer frames and writes data itself (see writeLoop), so
		// gorilla's write buffer only serves the rare NextWriter: pooled,
		// an idle connection holds none.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	return s, nil
}

func (s *Server) loadDesk(ctx context.Context) error {
	now := s.now()
	snap, err := s.store.Load(ctx, now, now.Add(-s.cfg.Desk.KeepEnded))
	if err != nil {
		return err
	}
	desk := chat.New(s.cfg.Desk, snap, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.desk = desk
	for _, sess := range snap.Sessions {
		s.committed[sess.ID] = sess.Seq
		if sess.TokenHash != "" {
			s.visitorTokens[sess.TokenHash] = sess.ID
		}
	}
	if v, err := s.store.DirectoryVersion(ctx); err == nil {
		s.dirVer = v
	}
	return nil
}

// Start runs the committer and the timers. Serve the Handler afterwards.
func (s *Server) Start() {
	s.wg.Add(4)
	go func() { defer s.wg.Done(); s.commitLoop() }()
	go func() { defer s.wg.Done(); s.tickLoop() }()
	go func() { defer s.wg.Done(); s.dashboardLoop() }()
	go func() { defer s.wg.Done(); s.directoryLoop() }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.outboxLoop() }()
}

// Handler serves the websocket endpoint, health and metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/healthz", s.serveHealth)
	mux.HandleFunc("/metrics", s.serveMetrics)
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
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if !s.closing {
				now := s.now()
				if fx := s.desk.Tick(now); len(fx) > 0 {
					s.pipe.push(&job{fx: fx})
				}
				if now.Sub(lastPrune) > time.Minute {
					s.prune()
					lastPrune = now
				}
			}
			s.mu.Unlock()
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
			if err := s.reloadDirectory(context.Background()); err != nil {
				s.log.Warn("reload of agents and channels failed", "err", err)
				continue
			}
			s.dirVer = v
		}
	}
}

// reloadDirectory applies admin changes to the running desk: it commits what
// is in flight, then rebuilds the desk from the store, keeping presence.
func (s *Server) reloadDirectory(ctx context.Context) error {
	s.pipe.drain()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	snap, err := s.store.Load(ctx, now, now.Add(-s.cfg.Desk.KeepEnded))
	if err != nil {
		return err
	}
	old := s.desk
	s.desk = chat.New(s.cfg.Desk, snap, now)
	for id, set := range s.agentConns {
		for range set {
			s.desk.Connect(now, id)
		}
		if a, ok := old.Agent(id); ok {
			s.desk.SetStatus(now, id, a.Chosen)
		}
	}
	for id, set := range s.visitorConns {
		for range set {
			s.desk.VisitorAttach(now, id)
		}
	}
	s.log.Info("agents and channels reloaded")
	return nil
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.DirectoryVersion(ctx); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.isClosing() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok","version":"` + s.cfg.Version + `"}`))
}

// errClosing refuses work during shutdown.
var errClosing = errors.New("relay is shutting down")

// isClosing says whether Shutdown has begun.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
