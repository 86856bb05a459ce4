package relay

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// conn is one websocket client: an agent's window or a visitor's widget.
// It has one read pump (this goroutine handles its commands) and a bounded
// queue of frames that a writer goroutine drains while it is not empty.
type conn struct {
	srv    *Server
	wire   Wire
	ip     netip.Addr // the client's address (see clientIP)
	q      sendQueue
	pinger *time.Timer
	idle   *time.Timer // closes a visitor who starts no chat (VisitorIdle)
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
	catching map[chat.SessionID]struct{}
	// told is the last session event a visitor was given (or the chat of
	// its welcome): a change it cannot see (a listener, a transfer) sends
	// nothing. Guarded by srv.mu.
	told []byte
}

// sendQueue holds the frames waiting to be written. It is a slice rather
// than a channel, and its writer is a goroutine that exists only while there
// is something to write: an idle connection holds no buffer and no writer
// stack, only its reader. Memory follows the backlog, which is bounded by
// the send-queue limit.
type sendQueue struct {
	mu      sync.Mutex
	frames  [][]byte
	ping    bool          // a ping is due
	writing bool          // a writer goroutine is running
	dead    bool          // full once, or stopping: nothing more is queued
	stopped bool          // stop was called: the writer ends once the queue is empty
	drained chan struct{} // closed once stopped and nothing is left to write
	once    sync.Once
}

type pushResult int

const (
	pushed     pushResult = iota
	pushedWake            // queued, and the caller must start the writer
	pushFull
	pushDropped
)

func (q *sendQueue) init() { q.drained = make(chan struct{}) }

func (q *sendQueue) push(frame []byte, limit int) pushResult { return q.add(frame, limit, true) }

// pushLazy queues a frame without starting the writer: it goes out with the
// next frame that does, or at wakeLazy.
func (q *sendQueue) pushLazy(frame []byte, limit int) pushResult { return q.add(frame, limit, false) }

func (q *sendQueue) add(frame []byte, limit int, wake bool) pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return pushDropped
	}
	if len(q.frames) >= limit {
		q.dead = true
		return pushFull
	}
	q.frames = append(q.frames, frame)
	if !wake {
		return pushed
	}
	return q.wake()
}

// wakeLazy starts the writer if frames wait and none is running.
func (q *sendQueue) wakeLazy() pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead || len(q.frames) == 0 {
		return pushed
	}
	return q.wake()
}

// pingDue asks the writer for a ping.
func (q *sendQueue) pingDue() pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return pushDropped
	}
	q.ping = true
	return q.wake()
}

// wake: caller holds q.mu.
func (q *sendQueue) wake() pushResult {
	if q.writing {
		return pushed
	}
	q.writing = true
	return pushedWake
}

// take swaps the queued frames for spare (emptied) and returns them with the
// ping flag; with nothing to write it marks the writer gone and returns
// false.
func (q *sendQueue) take(spare [][]byte) ([][]byte, bool, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 && !q.ping {
		q.writing = false
		if q.frames == nil {
			// The next push reuses the writer's emptied batch: a writer
			// starts and ends with nearly every frame at moderate load.
			q.frames = spare[:0]
		}
		if q.stopped {
			q.once.Do(func() { close(q.drained) })
		}
		return spare, false, false
	}
	out, ping := q.frames, q.ping
	q.frames, q.ping = spare[:0], false
	return out, ping, true
}

func (q *sendQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.frames)
}

// stop refuses further frames; drained closes once what is queued has been
// written (or the writer gave up).
func (q *sendQueue) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead, q.stopped = true, true
	if !q.writing {
		q.once.Do(func() { close(q.drained) })
	}
}

// abandon: the writer stops for good (the socket failed).
func (q *sendQueue) abandon() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead, q.writing = true, false
	q.frames = nil
	q.once.Do(func() { close(q.drained) })
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.isClosing() {
		http.Error(w, "relay is shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.gate.checkOrigin(r) {
		s.metrics.originRefused.Add(1)
		s.log.Warn("websocket refused: origin not allowed", "origin", r.Header.Get("Origin"))
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ip := s.gate.clientIP(r)
	if !s.perAddr.acquire(ip, s.cfg.ConnsPerIP) {
		s.metrics.addrRefused.Add(1)
		s.log.Debug("websocket refused: too many connections from one address", "ip", ip)
		http.Error(w, "too many connections from your address; close some and try again", http.StatusTooManyRequests)
		return
	}
	ws, err := s.gate.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.perAddr.release(ip)
		return // the upgrader has answered
	}
	s.serveWire(&wsWire{ws: ws}, ip)
}

// enqueue hands a frame to the writer. A client whose queue is full is too
// slow: it is cut off rather than allowed to hold anyone else up. It
// reconnects and resumes what it missed.
func (c *conn) enqueue(frame []byte) {
	c.afterPush(c.q.push(frame, c.srv.cfg.SendQueue))
}

// afterPush starts the writer or cuts off a client whose queue is full.
func (c *conn) afterPush(r pushResult) {
	switch r {
	case pushedWake:
		go c.writeLoop()
	case pushFull:
		c.srv.metrics.slowKilled.Add(1)
		go c.closeWith(websocket.ClosePolicyViolation, "too slow: send queue full")
	}
}

// enqueueLazy queues a frame that may wait for the client's next write, at
// most until wakeLazy (see pushLazy).
func (c *conn) enqueueLazy(frame []byte) {
	c.afterPush(c.q.pushLazy(frame, c.srv.cfg.SendQueue))
}

// wakeLazy starts the writer for frames left waiting by enqueueLazy.
func (c *conn) wakeLazy() { c.afterPush(c.q.wakeLazy()) }

func (c *conn) pingDue() {
	if c.q.pingDue() == pushedWake {
		go c.writeLoop()
	}
	select {
	case <-c.closed:
	default:
		c.pinger.Reset(c.srv.cfg.PingInterval)
	}
}

// closeWith says goodbye with a close code and closes the socket. For an
// orderly close (going away, logged out, the client left) the writer first
// sends what is queued, for at most a second. A client cut off for its own
// fault (too slow, flooding, a frame too large) gets nothing more but the
// close frame, and WriteWait to read its way to it: a client that stopped
// reading learns why it was closed if it reads again in time.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.pinger.Stop()
		if c.idle != nil {
			c.idle.Stop()
		}
		wait := time.Second
		switch code {
		case websocket.ClosePolicyViolation, websocket.CloseMessageTooBig:
			wait = c.srv.cfg.WriteWait
		case websocket.CloseAbnormalClosure, websocket.CloseInternalServerErr:
		default:
			c.q.stop()
			select {
			case <-c.q.drained:
			case <-time.After(time.Second):
			}
		}
		close(c.closed)
		c.q.abandon() // whatever is still queued is not sent
		c.wire.Close(code, reason, time.Now().Add(wait))
	})
}

// closeAfterReply closes a connection for its own fault, but only after
// the reply it was just sent has been written (for at most WriteWait):
// every command is answered exactly once, also the last one.
func (c *conn) closeAfterReply(code int, reason string) {
	c.q.stop()
	select {
	case <-c.q.drained:
	case <-time.After(c.srv.cfg.WriteWait):
	}
	c.closeWith(code, reason)
}

// writeChunk is how many bytes of frames the writer hands the kernel at
// most at once. Writing every queued frame in one system call rather than
// one call per frame is most of what fan-out costs. Buffers start small
// (most batches are a few frames) and grow up to it.
const writeChunk = 64 << 10

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// writeLoop writes queued frames as websocket text frames, all it finds
// waiting in one go, until the queue is empty; then it ends (the next frame
// starts another). It frames the messages itself (a server frame is a 2-10
// byte header and the payload, unmasked and uncompressed) and writes
// straight to the socket; gorilla still writes control frames (ping, pong,
// close), and the socket serialises each whole write, so frames never
// interleave. At most one writeLoop runs per connection.
func (c *conn) writeLoop() {
	var batch [][]byte
	for {
		var ping, ok bool
		batch, ping, ok = c.q.take(batch)
		if !ok {
			return
		}
		err := c.writeFrames(batch)
		clear(batch)
		if cap(batch) > 64 {
			batch = nil // a burst passed: do not keep its backing array
		}
		if err == nil && ping {
			err = c.wire.Ping(time.Now().Add(c.srv.cfg.WriteWait))
		}
		if err != nil {
			c.q.abandon()
			go c.closeWith(websocket.CloseAbnormalClosure, "write failed")
			return
		}
	}
}

func (c *conn) writeFrames(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	select {
	case <-c.closed:
		return nil
	default:
	}
	c.srv.metrics.frameWrites.Add(1)
	c.srv.metrics.framesWritten.Add(int64(len(frames)))
	return c.wire.WriteFrames(frames, time.Now().Add(c.srv.cfg.WriteWait))
}

// writeCopied frames the messages into one pooled buffer and writes it, in
// chunks of about writeChunk. Copying a batch of entry frames into one
// buffer is cheaper than handing the kernel a vector of them (writev), up
// to hundreds of frames (BenchmarkWriteFrames).
func writeCopied(nc net.Conn, frames [][]byte) error {
	bp := writeBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		// A full chunk's buffer has grown past writeChunk (append rounds
		// up): keep it, or every busy writer allocates its way up again.
		if cap(buf) <= 2*writeChunk {
			*bp = buf[:0]
			writeBufs.Put(bp)
		}
	}()
	for _, f := range frames {
		if len(buf) > 0 && len(buf)+len(f)+maxHeader > writeChunk {
			if _, err := nc.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		buf = appendFrame(buf, f)
	}
	_, err := nc.Write(buf)
	return err
}

// maxHeader is the longest server frame header: 2 bytes and a 64-bit length.
const maxHeader = 10

// appendHeader appends the header of one final, unmasked text frame of n
// bytes (RFC 6455, 5.2).
func appendHeader(b []byte, n int) []byte {
	const finText = 0x80 | websocket.TextMessage
	switch {
	case n <= 125:
		return append(b, finText, byte(n))
	case n <= 0xFFFF:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		b = append(b, finText, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

// appendFrame appends one final, unmasked text frame (RFC 6455, 5.2).
func appendFrame(b, payload []byte) []byte {
	return append(appendHeader(b, len(payload)), payload...)
}

// maxRefusals: a client refused this many times in a row by the rate limit
// is flooding and is disconnected.
const maxRefusals = 200

func (c *conn) readPump() {
	s := c.srv
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		s.unregister(c)
		s.perAddr.release(c.ip)
		s.live.Add(-1)
		s.conns.Done()
	}()
	_ = c.wire.SetReadDeadline(time.Now().Add(s.cfg.HelloTimeout))
	c.wire.OnPong(func() { _ = c.wire.SetReadDeadline(time.Now().Add(s.cfg.PongWait)) })
	limiter := rate.NewLimiter(rate.Limit(s.cfg.RatePerSecond), s.cfg.RateBurst)
	refusals := 0
	failedHellos := 0
	for {
		text, frame, err := c.wire.ReadFrame(s.cfg.MaxFrameBytes)
		if err != nil {
			if err == errFrameTooLarge {
				c.reply("", nil, c.frameTooLarge())
				c.closeAfterReply(websocket.CloseMessageTooBig, "frame exceeds the size limit")
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() && c.role == "" {
				c.closeWith(websocket.ClosePolicyViolation, "no hello in time")
			}
			return
		}
		if c.role != "" {
			_ = c.wire.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
		}
		// Decode first so that even a refusal names the command it refuses.
		var cmd protocol.Command
		var perr *protocol.Error
		if text {
			cmd, perr = protocol.DecodeCommand(frame)
		} else {
			perr = protocol.Errorf(protocol.CodeMalformed, "frames must be JSON text")
		}
		if !limiter.Allow() {
			refusals++
			s.metrics.rateLimited.Add(1)
			if refusals >= maxRefusals {
				c.reply(cmd.ID, nil, flooding(refusals))
				c.closeAfterReply(websocket.ClosePolicyViolation, "too many frames")
				return
			}
			c.reply(cmd.ID, nil, rateLimited(time.Second, "slow down: at most %.0f commands per second", s.cfg.RatePerSecond))
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
				failedHellos++
				if failedHellos >= maxFailedHellos {
					c.reply(cmd.ID, nil, c.tooManyHellos(perr))
					c.closeAfterReply(websocket.ClosePolicyViolation, "too many failed logins")
					return
				}
				c.reply(cmd.ID, nil, perr)
				continue
			}
			_ = c.wire.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
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

// errFrameTooLarge: a client frame over MaxFrameBytes. The cap is checked
// by the Wire rather than by gorilla's read limit, which closes the
// connection itself before the frame can be answered.
var errFrameTooLarge = errors.New("frame too large")

// reply sends an answer now (for refusals and reads, which change nothing).
func (c *conn) reply(id string, data any, perr *protocol.Error) {
	if perr != nil {
		c.srv.metrics.errors.inc(perr.Code)
	}
	c.enqueue(encodeReply(id, data, perr))
}

func encodeReply(id string, data any, perr *protocol.Error) []byte {
	if ack, ok := data.(protocol.MessageAck); ok && perr == nil {
		return appendAckReply(make([]byte, 0, ackReplySize+len(id)), id, ack)
	}
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

// The two frames of every message, its ack and its entry event, are written
// by hand: they are most of what the relay encodes, and encoding/json's
// reflection was a tenth of its time. The output is byte for byte what
// encoding/json writes for the same values (encode_test.go checks).

// ackReplySize is an ack's length without its id (at a seq of 20 digits):
// enough that the buffer is allocated once.
const ackReplySize = len(`{"re":"","ok":true,"data":{"seq":,"duplicate":false}}`) + 20

// appendAckReply is encodeReply of a MessageAck.
func appendAckReply(b []byte, id string, ack protocol.MessageAck) []byte {
	b = append(b, `{"re":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"ok":true,"data":{"seq":`...)
	b = strconv.AppendUint(b, ack.Seq, 10)
	b = append(b, `,"duplicate":`...)
	b = strconv.AppendBool(b, ack.Duplicate)
	return append(b, `}}`...)
}

// entryFrameSize is what encodeEntry writes besides the numbers and
// strings: every key, quote and brace, and the time at its longest.
const entryFrameSize = len(`{"ev":"entry","session":"","seq":,"data":{"seq":,"at":"","kind":"","from":{"kind":"","id":,"name":""},"client_id":"","text":"","staff":true,"note":""}}`) +
	len("2006-01-02T15:04:05.999999999-07:00")

func decimalLen(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// encodeEntry is encodeEvent(EvEntry, sid, e.Seq, chat.EntryInfo(e)).
func encodeEntry(sid chat.SessionID, e chat.Entry) []byte {
	if e.Params != (chat.NoteParams{}) || e.File != nil {
		// A system line with params, or a file: rarer, so encoding/json
		// writes them.
		return encodeEvent(protocol.EvEntry, sid, e.Seq, chat.EntryInfo(e))
	}
	// Sized to fit unless a string needs escapes: fewer bytes to collect.
	b := make([]byte, 0, entryFrameSize+2*decimalLen(e.Seq)+decimalLen(uint64(e.Author))+
		len(sid)+len(e.Kind)+len(e.AuthorKind)+len(e.AuthorName)+len(e.ClientID)+len(e.Text)+len(e.Note))
	b = append(b, `{"ev":"entry"`...)
	if sid != "" {
		b = append(b, `,"session":`...)
		b = appendJSONString(b, string(sid))
	}
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	b = append(b, `,"data":{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"at":"`...)
	b, err := e.At.AppendText(b) // what MarshalJSON writes, unquoted
	if err != nil {
		return encodeEvent(protocol.EvEntry, sid, e.Seq, chat.EntryInfo(e)) // a year past 9999: json says so
	}
	b = append(b, `","kind":`...)
	b = appendJSONString(b, e.Kind)
	b = append(b, `,"from":{"kind":`...)
	b = appendJSONString(b, e.AuthorKind)
	if e.Author != 0 {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, int64(e.Author), 10)
	}
	if e.AuthorName != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, e.AuthorName)
	}
	b = append(b, '}')
	if e.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b = appendJSONString(b, e.ClientID)
	}
	b = append(b, `,"text":`...)
	b = appendJSONString(b, e.Text)
	if e.Staff {
		b = append(b, `,"staff":true`...)
	}
	if e.Note != "" {
		b = append(b, `,"note":`...)
		b = appendJSONString(b, e.Note)
	}
	return append(b, `}}`...)
}

// jsonSafe: ASCII bytes encoding/json writes as they are (HTML-safe set).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString quotes s as encoding/json does (HTML-safe: <, > and &
// escaped; invalid UTF-8 as U+FFFD; U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
// is not the next one it expects starts a catch-up from the store; while it
// runs, live entries of that session are left to it (the store has them:
// everything delivered is committed first). Caller holds srv.mu.
func (c *conn) deliverEntry(sid chat.SessionID, seq uint64, staff bool, frame []byte) {
	if _, ok := c.catching[sid]; ok {
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
		c.startCatchUp(sid)
	}
}

// sync brings this client up to the session's durable seq. Caller holds srv.mu.
func (c *conn) sync(sid chat.SessionID) {
	if _, ok := c.catching[sid]; ok {
		return
	}
	if c.srv.committed[sid] > c.seen[sid] {
		c.startCatchUp(sid)
	}
}

// startCatchUp: caller holds srv.mu.
func (c *conn) startCatchUp(sid chat.SessionID) {
	if c.catching == nil {
		c.catching = make(map[chat.SessionID]struct{})
	}
	c.catching[sid] = struct{}{}
	go c.srv.catchUp(c, sid)
}

// catchUp reads what the client misses of a session from the store, a page
// at a time, until it holds everything committed; then live delivery takes
// over, under the same lock, so nothing falls between. It queues a page only
// when the client's queue is at most half full: a long log (the whole chat,
// for the receiver of a transfer) is paced by the client's reading instead
// of overflowing its queue.
func (s *Server) catchUp(c *conn, sid chat.SessionID) {
	page := min(256, max(s.cfg.SendQueue/4, 1))
	finish := func() {
		delete(c.catching, sid)
	}
	for {
		for c.q.len() > s.cfg.SendQueue/2 {
			select {
			case <-c.closed:
				s.mu.Lock()
				finish()
				s.mu.Unlock()
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		s.mu.Lock()
		after := c.seen[sid]
		s.mu.Unlock()
		entries, err := s.store.Entries(context.Background(), sid, after, page)
		s.mu.Lock()
		if err != nil {
			finish()
			s.mu.Unlock()
			s.log.Warn("catch-up read failed; client will resume on reconnect", "session", sid, "err", err)
			go c.closeWith(websocket.CloseInternalServerErr, "catch-up failed")
			return
		}
		if c.role == protocol.RoleAgent && !s.mayStillRead(c.agent, sid) {
			finish() // the right to read went away meanwhile (a grant removed)
			s.mu.Unlock()
			return
		}
		for _, e := range entries {
			if e.Seq != c.seen[sid]+1 {
				continue
			}
			c.seen[sid] = e.Seq
			if !(e.Staff && c.role == protocol.RoleVisitor) {
				c.enqueue(encodeEntry(sid, e))
			}
		}
		// Entries committed after the read went by live while we were
		// catching up: read again until nothing committed is missing.
		if len(entries) == 0 || c.seen[sid] >= s.committed[sid] {
			finish()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}
