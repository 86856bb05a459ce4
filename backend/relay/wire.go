package relay

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
)

// Wire carries one client's frames: a websocket this relay accepted, or a
// websocket another node of a cluster holds and forwards (package cluster).
// The relay reads from it on one goroutine and writes from another; Close
// may come from any.
type Wire interface {
	// ReadFrame reads the next data frame; text says whether it is a text
	// frame. A frame longer than limit is errFrameTooLarge (ErrFrameTooLarge
	// outside this package), read no further than one byte past it. The
	// frame may be overwritten by the next ReadFrame: keep a copy of what
	// must outlive it.
	ReadFrame(limit int64) (text bool, frame []byte, err error)
	// SetReadDeadline makes a ReadFrame waiting past t fail with a timeout
	// (a net.Error whose Timeout is true).
	SetReadDeadline(t time.Time) error
	// OnPong sets what happens when the client answers a ping.
	OnPong(func())
	// WriteFrames writes text frames in order, within deadline.
	WriteFrames(frames [][]byte, deadline time.Time) error
	// Ping asks the client for a pong.
	Ping(deadline time.Time) error
	// Close says goodbye with a close code and reason (the close frame is
	// given until deadline to go out) and drops the connection.
	Close(code int, reason string, deadline time.Time)
}

// ErrFrameTooLarge is what a Wire's ReadFrame returns for a frame over its
// limit.
var ErrFrameTooLarge = errFrameTooLarge

// wsWire is a websocket this relay accepted.
type wsWire struct {
	ws *websocket.Conn
	// read holds the last frame read; it goes back to framePool when the
	// next read begins, so a connection waiting for its next frame holds no
	// buffer. A buffer per frame was a tenth of what the relay allocated at
	// 12,500 deliveries/s (docs/performance.md, "The tail").
	read *bytes.Buffer
	lim  io.LimitedReader // reused, so that limiting a read allocates nothing
}

// framePool holds read buffers; ones grown past keepFrameBuffer by a large
// frame are left to the collector.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const keepFrameBuffer = 16 << 10

func (w *wsWire) ReadFrame(limit int64) (bool, []byte, error) {
	if w.read != nil {
		if w.read.Cap() <= keepFrameBuffer {
			framePool.Put(w.read)
		}
		w.read = nil
	}
	mt, r, err := w.ws.NextReader()
	if err != nil {
		return false, nil, err
	}
	w.read = framePool.Get().(*bytes.Buffer)
	w.read.Reset()
	w.lim = io.LimitedReader{R: r, N: limit + 1}
	_, err = w.read.ReadFrom(&w.lim)
	w.lim.R = nil
	frame := w.read.Bytes()
	if err == nil && int64(len(frame)) > limit {
		err = errFrameTooLarge
	}
	return mt == websocket.TextMessage, frame, err
}

func (w *wsWire) SetReadDeadline(t time.Time) error { return w.ws.SetReadDeadline(t) }

func (w *wsWire) OnPong(f func()) {
	w.ws.SetPongHandler(func(string) error { f(); return nil })
}

// WriteFrames frames the messages itself (a server frame is a 2-10 byte
// header and the payload, unmasked and uncompressed) and writes straight to
// the socket; gorilla still writes control frames (ping, pong, close), and
// the socket serialises each whole write, so frames never interleave.
func (w *wsWire) WriteFrames(frames [][]byte, deadline time.Time) error {
	nc := w.ws.NetConn()
	_ = nc.SetWriteDeadline(deadline)
	return writeCopied(nc, frames)
}

func (w *wsWire) Ping(deadline time.Time) error {
	return w.ws.WriteControl(websocket.PingMessage, nil, deadline)
}

func (w *wsWire) Close(code int, reason string, deadline time.Time) {
	_ = w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	_ = w.ws.Close()
}

// Attach serves a client whose websocket another node holds (see Wire): as
// a websocket accepted here, after the origin was checked there. ip is the
// client's address as that node found it. It returns false, having closed
// w, when the relay is shutting down or the address has too many
// connections.
func (s *Server) Attach(w Wire, ip netip.Addr) bool {
	if s.isClosing() {
		w.Close(websocket.CloseGoingAway, "relay restarting", time.Now().Add(time.Second))
		return false
	}
	if !s.perAddr.acquire(ip, s.cfg.ConnsPerIP) {
		s.metrics.addrRefused.Add(1)
		w.Close(websocket.CloseTryAgainLater, "too many connections from your address", time.Now().Add(time.Second))
		return false
	}
	return s.serveWire(w, ip)
}

// serveWire runs a client's connection on w; the caller holds an
// address slot for ip, which the connection releases when it ends.
func (s *Server) serveWire(w Wire, ip netip.Addr) bool {
	c := &conn{
		srv: s, wire: w, ip: ip,
		inflight: make(chan struct{}, s.cfg.InFlight),
		closed:   make(chan struct{}),
		seen:     make(map[chat.SessionID]uint64),
	}
	c.q.init()
	// Pings are due every PingInterval; the timer's goroutine exists only
	// while it fires.
	c.pinger = time.AfterFunc(s.cfg.PingInterval, c.pingDue)
	if s.cfg.VisitorIdle > 0 {
		c.idle = time.AfterFunc(s.cfg.VisitorIdle, c.closeIfNoChat)
	}
	// Counted under the lock that Shutdown sets closing under, so that no
	// connection is added once Shutdown waits for them all.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.closeWith(websocket.CloseGoingAway, "relay restarting")
		s.perAddr.release(ip)
		return false
	}
	s.open[c] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	s.live.Add(1)
	// The read pump gets a goroutine of its own and the handler returns, so
	// that net/http's per-request state (its buffered reader and writer, the
	// handler goroutine's grown stack) is freed rather than held for the
	// connection's life. A writer runs only while there is something to write.
	go c.readPump()
	return true
}

// WriteFrames writes text frames to a websocket as the relay does, in one
// system call per batch (a cluster's gateway writes what the leader sent).
func WriteFrames(ws *websocket.Conn, frames [][]byte, deadline time.Time) error {
	return (&wsWire{ws: ws}).WriteFrames(frames, deadline)
}
