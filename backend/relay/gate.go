package relay

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// Gate admits websockets by the relay's rules: the browser origins allowed,
// the client's address behind trusted proxies, the upgrade. The relay's own
// endpoint uses it, and so does a node of a cluster that forwards its
// clients to the leader (package cluster), so a client is admitted alike
// whichever node it reaches.
type Gate struct {
	cfg      Config
	upgrader websocket.Upgrader
}

// NewGate is the gate of a relay configured by cfg.
func NewGate(cfg Config) *Gate {
	g := &Gate{cfg: cfg}
	g.upgrader = websocket.Upgrader{
		// Commands are small; a larger frame is read through the buffer in
		// pieces. Every connection holds this buffer for its whole life.
		ReadBufferSize: 1024,
		// The writer frames and writes data itself (see writeLoop), so
		// gorilla's write buffer only serves the rare NextWriter: pooled,
		// an idle connection holds none.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     g.checkOrigin,
	}
	return g
}

// ErrOrigin: the browser's origin is not allowed.
var ErrOrigin = errors.New("origin not allowed")

// Upgrade admits a websocket, answering the refusals itself: 403 for an
// origin not allowed, the upgrader's answer for a bad handshake. ip is the
// client's address.
func (g *Gate) Upgrade(w http.ResponseWriter, r *http.Request) (ws *websocket.Conn, ip netip.Addr, err error) {
	if !g.checkOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return nil, ip, ErrOrigin
	}
	ws, err = g.upgrader.Upgrade(w, r, nil)
	return ws, g.clientIP(r), err
}

// Config is the relay configuration the gate admits by.
func (g *Gate) Config() Config { return g.cfg }

func (g *Gate) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser: the desktop app, the load generator
	}
	for _, o := range g.cfg.AllowedOrigins {
		if o == "*" || sameOrigin(o, origin) {
			return true
		}
	}
	return g.cfg.DemoOrigin != "" && sameOrigin(g.cfg.DemoOrigin, origin)
}

// sameOrigin compares a configured origin with a browser's: scheme and host
// ignore case, and a configured trailing slash is forgiven.
func sameOrigin(configured, origin string) bool {
	return strings.EqualFold(strings.TrimRight(configured, "/"), origin)
}
