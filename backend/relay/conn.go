package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// conn is one websocket client: an agent's window or a visitor's widget.
// It has one read pump (this goroutine handles its commands) and one write
// pump draining a bounded queue.
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	send chan []byte
	// inflight bounds this connection's commands waiting for their commit.
	inflight chan struct{}

	closeOnce sync.Once
	closed    chan struct{}

	// Set by hello; read by the read pump only, or under srv.mu.
	role    string
	agent   chat.AgentID
	session chat.SessionID // a visitor's session, once started or resumed
	channel chat.ChannelID // a visitor's channel
	token   string         // agent token hash, for logout

	// Guarded by srv.mu: per session, the highest seq queued to this client,
	// and sessions being caught up from the store.
	seen     map[chat.SessionID]uint64
	catching map[chat.SessionID]*catchup
}

type catchup struct {
	buf []pendingEntry // live entries that arrived meanwhile
}

type pendingEntry struct {
	seq   uint64
	staff bool
	frame []byte
}

func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser: the desktop app, the load generator
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	// A page served by the relay itself (the demo page) is same-origin.
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "relay is shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.checkOrigin(r) {
		s.metrics.originRefused.Add(1)
		s.log.Warn("websocket refused: origin not allowed", "origin", r.Header.Get("Origin"))
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{
		srv: s, ws: ws,
		send:     make(chan []byte, s.cfg.SendQueue),
		inflight: make(chan struct{}, s.cfg.InFlight),
		closed:   make(chan struct{}),
		seen:     make(map[chat.SessionID]uint64),
		catching: make(map[chat.SessionID]*catchup),
	}
	s.conns.Add(1)
	s.live.Add(1)
	go c.writePump()
	c.readPump()
}

// enqueue hands a frame to the write pump. A client whose queue is full is
// too slow: it is cut off rather than allowed to hold anyone else up. It
// reconnects and resumes what it missed.
func (c *conn) enqueue(frame []byte) {
	select {
	case <-c.closed:
	case c.send <- frame:
	default:
		c.srv.metrics.slowKilled.Add(1)
		go c.closeWith(websocket.ClosePolicyViolation, "too slow: send queue full")
	}
}

func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(c.closed)
		_ = c.ws.Close()
	})
}

func (c *conn) writePump() {
	ping := time.NewTicker(c.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.closed:
			return
		case frame := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "write failed")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "ping failed")
				return
			}
		}
	}
}

// maxRefusals: a client refused this many times in a row by the rate limit
// is flooding and is disconnected.
const maxRefusals = 200

func (c *conn) readPump() {
	s := c.srv
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		s.unregister(c)
		s.live.Add(-1)
		s.conns.Done()
	}()
	c.ws.SetReadLimit(s.cfg.MaxFrameBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(s.cfg.HelloTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
	})
	limiter := rate.NewLimiter(rate.Limit(s.cfg.RatePerSecond), s.cfg.RateBurst)
	refusals := 0
	failedHellos := 0
	for {
		mt, frame, err := c.ws.ReadMessage()
		if err != nil {
			if err == websocket.ErrReadLimit {
				s.metrics.errors.inc(protocol.CodeTooLarge)
				c.closeWith(websocket.CloseMessageTooBig, "frame exceeds the size limit")
			}
			return
		}
		if c.role != "" {
			_ = c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
		}
		// Decode first so that even a refusal names the command it refuses.
		var cmd protocol.Command
		var perr *protocol.Error
		if mt == websocket.TextMessage {
			cmd, perr = protocol.DecodeCommand(frame)
		} else {
			perr = protocol.Errorf(protocol.CodeMalformed, "frames must be JSON text")
		}
		if !limiter.Allow() {
			refusals++
			s.metrics.rateLimited.Add(1)
			if refusals >= maxRefusals {
				c.closeWith(websocket.ClosePolicyViolation, "too many frames")
				return
			}
			c.reply(cmd.ID, nil, protocol.Errorf(protocol.CodeRateLimited, "slow down: at most %.0f commands per second", s.cfg.RatePerSecond))
			continue
		}
		refusals = 0
		if perr != nil {
			c.reply(cmd.ID, nil, perr)
			continue
		}
		if c.role == "" {
			if cmd.Cmd != protocol.CmdHello {
				c.reply(cmd.ID, nil, protocol.Errorf(protocol.CodeHelloFirst, "say hello first"))
				continue
			}
			if perr := c.hello(cmd); perr != nil {
				c.reply(cmd.ID, nil, perr)
				failedHellos++
				if failedHellos >= 5 {
					c.closeWith(websocket.ClosePolicyViolation, "too many failed logins")
					return
				}
				continue
			}
			_ = c.ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
			continue
		}
		// Bound what this connection has waiting for the committer.
		select {
		case c.inflight <- struct{}{}:
		case <-c.closed:
			return
		}
		c.handle(cmd)
	}
}

// reply sends an answer now (for refusals and reads, which change nothing).
func (c *conn) reply(id string, data any, perr *protocol.Error) {
	if perr != nil {
		c.srv.metrics.errors.inc(perr.Code)
	}
	c.enqueue(encodeReply(id, data, perr))
}

func encodeReply(id string, data any, perr *protocol.Error) []byte {
	r := protocol.Reply{Re: id, OK: perr == nil, Data: data, Error: perr}
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(protocol.Reply{Re: id, Error: protocol.Errorf(protocol.CodeInternal, "reply could not be encoded")})
	}
	return b
}

func encodeEvent(ev string, session chat.SessionID, seq uint64, data any) []byte {
	b, _ := json.Marshal(protocol.Event{Ev: ev, Session: string(session), Seq: seq, Data: data})
	return b
}

// done releases one in-flight slot.
func (c *conn) done() {
	select {
	case <-c.inflight:
	default:
	}
}

// --- log delivery: no gap, no duplicate -----------------------------------

// deliverEntry queues one log entry to this client, in seq order. A seq that
// is not the next one it expects starts a catch-up from the store; entries
// arriving meanwhile wait in order. Caller holds srv.mu.
func (c *conn) deliverEntry(sid chat.SessionID, seq uint64, staff bool, frame []byte) {
	if cu := c.catching[sid]; cu != nil {
		cu.buf = append(cu.buf, pendingEntry{seq, staff, frame})
		return
	}
	last := c.seen[sid]
	switch {
	case seq <= last:
		return // already has it
	case seq == last+1:
		c.seen[sid] = seq
		if !(staff && c.role == protocol.RoleVisitor) {
			c.enqueue(frame)
		}
	default:
		c.catching[sid] = &catchup{buf: []pendingEntry{{seq, staff, frame}}}
		go c.srv.catchUp(c, sid, last, seq-1)
	}
}

// sync brings this client up to the session's durable seq. Caller holds srv.mu.
func (c *conn) sync(sid chat.SessionID) {
	if c.catching[sid] != nil {
		return
	}
	last, upto := c.seen[sid], c.srv.committed[sid]
	if upto > last {
		c.catching[sid] = &catchup{}
		go c.srv.catchUp(c, sid, last, upto)
	}
}

// catchUp reads (after, upto] from the store and queues it, then what arrived
// live meanwhile.
func (s *Server) catchUp(c *conn, sid chat.SessionID, after, upto uint64) {
	entries, err := s.store.Entries(context.Background(), sid, after, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := c.catching[sid]
	delete(c.catching, sid)
	if err != nil {
		s.log.Warn("catch-up read failed; client will resume on reconnect", "session", sid, "err", err)
		go c.closeWith(websocket.CloseInternalServerErr, "catch-up failed")
		return
	}
	for _, e := range entries {
		if e.Seq > upto {
			break
		}
		c.deliverEntry(sid, e.Seq, e.Staff, encodeEvent(protocol.EvEntry, sid, e.Seq, chat.EntryInfo(e)))
	}
	if cu != nil {
		for _, p := range cu.buf {
			c.deliverEntry(sid, p.seq, p.staff, p.frame)
		}
	}
}
