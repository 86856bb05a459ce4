package relay_test

// Security suite: what an anonymous visitor can make the relay hold or do is
// bounded (docs/deploy.md, "Limits and abuse"). Each test drives a real relay
// on a real SQLite file through real websockets and HTTP.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

// forwarded is a request header naming a client behind a proxy.
func forwarded(xff string) http.Header {
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	return h
}

// dialRefused dials and fails the test unless the handshake is refused with
// 429 and a body that says why.
func dialRefused(t *testing.T, h *relaytest.Harness, hdr http.Header) {
	t.Helper()
	c, resp, err := relaytest.DialHeader(t, h.URL(), hdr)
	if err == nil {
		c.Close()
		t.Fatalf("connection accepted past the limit (X-Forwarded-For %q)", hdr.Get("X-Forwarded-For"))
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("refusal: %v, response %+v; want 429", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "too many connections from your address") {
		t.Fatalf("refusal body %q does not say why", body)
	}
}

func dialOK(t *testing.T, h *relaytest.Harness, hdr http.Header) *relaytest.Client {
	t.Helper()
	c, resp, err := relaytest.DialHeader(t, h.URL(), hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial (X-Forwarded-For %q): %v (HTTP %d)", hdr.Get("X-Forwarded-For"), err, status)
	}
	return c
}

// eventually polls cond for a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func visitorHello(t *testing.T, c *relaytest.Client) protocol.VisitorWelcome {
	t.Helper()
	var w protocol.VisitorWelcome
	c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, &w)
	return w
}

func form(name string) protocol.ChatStart {
	return protocol.ChatStart{Name: name, Email: strings.ToLower(name) + "@example.com", Question: "Hello from " + name}
}

func TestSecurityConnectionsPerAddressAreCapped(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.ConnsPerIP = 3 }})
	var open []*relaytest.Client
	for i := 0; i < 3; i++ {
		open = append(open, dialOK(t, h, nil))
	}
	dialRefused(t, h, nil)
	if n := h.Metric("switchboard_address_refused_total"); n != 1 {
		t.Errorf("refusals counted: %d", n)
	}
	// Counted live: a closed connection frees its place.
	open[0].Close()
	eventually(t, "a place freed by a close", func() bool {
		c, _, err := relaytest.DialHeader(t, h.URL(), nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	// An agent at the same address is within the same cap; it works once
	// there is room.
	open[1].Close()
	eventually(t, "room for the agent", func() bool { return h.Metric("switchboard_connections") <= 2 })
	anna, _ := h.Agent("anna", nil)
	anna.OK(protocol.CmdPing, struct{}{}, nil)
}

func TestSecurityForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	t.Run("untrusted peer: the header is ignored", func(t *testing.T) {
		t.Parallel()
		h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.ConnsPerIP = 1 }})
		dialOK(t, h, forwarded("198.51.100.1"))
		// A spoofed header does not make a new client: the socket's peer is one.
		dialRefused(t, h, forwarded("198.51.100.2"))
		dialRefused(t, h, nil)
	})
	t.Run("trusted proxy: the right-most untrusted address", func(t *testing.T) {
		t.Parallel()
		h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
			c.ConnsPerIP = 1
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
		}})
		dialOK(t, h, forwarded("198.51.100.1"))
		// Two proxies in a row (10.0.0.5 is trusted): the client is the one before them.
		dialOK(t, h, forwarded("198.51.100.2, 10.0.0.5"))
		// The same clients again are over their cap ...
		dialRefused(t, h, forwarded("198.51.100.1"))
		dialRefused(t, h, forwarded("198.51.100.2"))
		// ... however much they write to the left of what the proxy appended.
		dialRefused(t, h, forwarded("203.0.113.77, 198.51.100.1"))
		h2 := http.Header{}
		h2.Add("X-Forwarded-For", "203.0.113.78")
		h2.Add("X-Forwarded-For", "198.51.100.1")
		dialRefused(t, h, h2)
		// No header through a trusted proxy: the proxy is the client.
		dialOK(t, h, nil)
		dialRefused(t, h, nil)
		// IPv6 clients count by their /64.
		dialOK(t, h, forwarded("2001:db8:1:2::1"))
		dialRefused(t, h, forwarded("2001:db8:1:2:ffff::9"))
		dialOK(t, h, forwarded("2001:db8:1:3::1"))
	})
}

func TestSecurityChatStartsAndOfflineMessagesPerAddressAreRateLimited(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.StartsPerMinute = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}})
	anna, _ := h.Agent("anna", nil)
	from := func(ip string) *relaytest.Client {
		c := dialOK(t, h, forwarded(ip))
		visitorHello(t, c)
		return c
	}
	for i := 0; i < 3; i++ {
		c := from("198.51.100.1")
		c.OK(protocol.CmdChatStart, form(fmt.Sprintf("Vera%d", i)), nil)
	}
	c := from("198.51.100.1")
	r := c.Do(protocol.CmdChatStart, form("Vera"))
	if r.OK || r.Error == nil || r.Error.Code != protocol.CodeRateLimited || !strings.Contains(r.Error.Message, "wait a minute") {
		t.Fatalf("4th chat start in a minute: ok=%v %v; want rate_limited with a message", r.OK, r.Error)
	}
	// Another address is not held up by the first.
	from("198.51.100.2").OK(protocol.CmdChatStart, form("Walt"), nil)

	// Offline messages count in the same bucket: nobody Present now.
	anna.Close()
	eventually(t, "support closed", func() bool { return !visitorHello(t, dialOK(t, h, forwarded("198.51.100.3"))).Channel.Open })
	for i := 0; i < 3; i++ {
		from("198.51.100.4").OK(protocol.CmdOfflineSubmit, form(fmt.Sprintf("Olle%d", i)), nil)
	}
	from("198.51.100.4").Refused(protocol.CmdOfflineSubmit, form("Olle"), protocol.CodeRateLimited)
	from("198.51.100.1").Refused(protocol.CmdOfflineSubmit, form("Vera"), protocol.CodeRateLimited)
}

func TestSecurityWaitingChatsPerChannelAreCapped(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.MaxWaiting = 2 }})
	anna, _ := h.Agent("anna", nil)
	h.Visitor("Vera", "one")
	h.Visitor("Walt", "two")
	// The channel is full: a new visitor is told it is not open (the widget
	// then shows the offline form) and may not queue.
	c := relaytest.Dial(t, h.URL(), "")
	w := visitorHello(t, c)
	if w.Channel.Open || !w.Channel.OfflineForm {
		t.Fatalf("full channel seen as %+v; want not open, with the offline form", w.Channel)
	}
	r := c.Do(protocol.CmdChatStart, form("Xena"))
	if r.OK || r.Error == nil || r.Error.Code != protocol.CodeChannelClosed || !strings.Contains(r.Error.Message, "leave a message") {
		t.Fatalf("chat.start past the cap: ok=%v %v; want channel_closed", r.OK, r.Error)
	}
	// The offline form is what a visitor of a full channel may use.
	var req protocol.RequestCreated
	c.OK(protocol.CmdOfflineSubmit, form("Xena"), &req)
	if req.Number == 0 {
		t.Fatal("no request number")
	}
	// Once a chat is answered there is room again.
	anna.OK(protocol.CmdQueueNext, struct{}{}, nil)
	c2 := relaytest.Dial(t, h.URL(), "")
	if w := visitorHello(t, c2); !w.Channel.Open {
		t.Fatalf("channel with room: %+v", w.Channel)
	}
	c2.OK(protocol.CmdChatStart, form("Yngve"), nil)
}

func TestSecurityOfflineFormRefusedWhileAChatCanStart(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	c := relaytest.Dial(t, h.URL(), "")
	if w := visitorHello(t, c); !w.Channel.Open {
		t.Fatalf("channel: %+v", w.Channel)
	}
	r := c.Do(protocol.CmdOfflineSubmit, form("Vera"))
	if r.OK || r.Error == nil || r.Error.Code != protocol.CodeInvalidState || !strings.Contains(r.Error.Message, "start a chat") {
		t.Fatalf("offline.submit while open: ok=%v %v; want invalid_state", r.OK, r.Error)
	}
	// Nothing was stored: once the channel closes, the first request made
	// gets the first number.
	anna.Close()
	eventually(t, "support closed", func() bool { return !visitorHello(t, relaytest.Dial(t, h.URL(), "")).Channel.Open })
	var req protocol.RequestCreated
	c.OK(protocol.CmdOfflineSubmit, form("Vera"), &req)
	if _, err := h.Store.Request(context.Background(), req.Number-1); err == nil {
		t.Fatalf("request %d was stored while the channel was open", req.Number-1)
	}
}

func TestSecurityEndedChatsLeaveMemory(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.MaxEnded = 2 }})
	anna, _ := h.Agent("anna", nil)

	// Chats that end unanswered are on nobody's list: they leave memory at once.
	var tokens []protocol.ChatStarted
	v := relaytest.Dial(t, h.URL(), "")
	visitorHello(t, v)
	for i := 0; i < 30; i++ {
		var st protocol.ChatStarted
		v.OK(protocol.CmdChatStart, form(fmt.Sprintf("Loop%d", i)), &st)
		v.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: st.Session}, nil)
		tokens = append(tokens, st)
	}
	eventually(t, "unanswered ended chats forgotten", func() bool {
		return h.Metric("switchboard_sessions_held") == 0 && h.Metric("switchboard_visitor_tokens_held") == 0
	})
	// Their logs are in the store, and a reload gets a clear answer.
	if es, err := h.Store.Entries(context.Background(), chat.SessionID(tokens[0].Session), 0, 10); err != nil || len(es) < 2 {
		t.Fatalf("log of a forgotten chat: %d entries, %v", len(es), err)
	}
	gone := relaytest.Dial(t, h.URL(), "")
	r := gone.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: tokens[0].Token})
	if r.OK || r.Error.Code != protocol.CodeBadCredentials || !strings.Contains(r.Error.Message, "start a new one") {
		t.Fatalf("reload of a forgotten chat: ok=%v %v", r.OK, r.Error)
	}

	// Answered chats stay on the agent's list, at most MaxEnded of them,
	// the oldest dropped first.
	var answered []protocol.ChatStarted
	for i := 0; i < 4; i++ {
		_, st := h.Visitor(fmt.Sprintf("Kept%d", i), "question")
		anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
		anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: st.Session}, nil)
		answered = append(answered, st)
	}
	eventually(t, "ended chats capped", func() bool { return h.Metric("switchboard_sessions_held") == 2 })
	_, w := h.Agent("anna", nil)
	var listed []string
	for _, s := range w.Sessions {
		listed = append(listed, s.ID)
	}
	if want := []string{answered[3].Session, answered[2].Session}; strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Fatalf("anna's recent list %v; want the two newest %v", listed, want)
	}
	// A kept chat still reloads with its transcript; a dropped one is told it is gone.
	_, vw := h.ResumeVisitor(answered[3].Token, answered[3].Session, 0)
	if vw.Chat == nil || vw.Chat.State != "ended" {
		t.Fatalf("reload of a kept chat: %+v", vw.Chat)
	}
	old := relaytest.Dial(t, h.URL(), "")
	old.Refused(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: answered[0].Token}, protocol.CodeBadCredentials)

	// A restart keeps within the cap too. (Connections that never said a
	// successful hello are not closed by a shutdown: close them here.)
	gone.Close()
	old.Close()
	h.Restart()
	if n := h.Metric("switchboard_sessions_held"); n != 2 {
		t.Fatalf("after a restart %d chats held; want 2", n)
	}
}

func TestSecurityVisitorWithoutChatIsClosed(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.VisitorIdle = 300 * time.Millisecond
		c.HelloTimeout = 300 * time.Millisecond
	}})
	anna, _ := h.Agent("anna", nil)
	// Says hello, starts no chat: closed, with a code that says why.
	idle := relaytest.Dial(t, h.URL(), "")
	visitorHello(t, idle)
	var ce *websocket.CloseError
	if err := idle.Closed(); !errors.As(err, &ce) || ce.Code != protocol.CloseNoChat {
		t.Fatalf("idle visitor closed with %v; want close code %d", err, protocol.CloseNoChat)
	}
	// Says nothing at all: closed after HelloTimeout.
	mute := relaytest.Dial(t, h.URL(), "")
	if err := mute.Closed(); err == nil {
		t.Fatal("a connection that never said hello stays open")
	}
	// A visitor in a chat and an agent stay.
	v, st := h.Visitor("Vera", "still here")
	time.Sleep(600 * time.Millisecond)
	send(t, v, st.Session, "v1", "hello?")
	anna.OK(protocol.CmdPing, struct{}{}, nil)
}

func TestSecurityHTTPTimeoutsBoundRequestsNotWebsockets(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.IdleTimeout = 300 * time.Millisecond
		c.ReadTimeout = 300 * time.Millisecond
		c.ReadHeaderTimeout = 300 * time.Millisecond
		c.MaxHeaderBytes = 8 << 10
	}})
	addr := strings.TrimPrefix(h.HTTP.URL, "http://")

	// A keep-alive connection left idle after a request is closed.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive request: %v %+v", err, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle keep-alive connection: %v; want closed by the server", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("idle keep-alive connection closed after %v", d)
	}

	// A request that trickles in is cut off.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHost: relay\r\n")
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(slow); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("slow request: %v (read %q)", err, b)
	}

	// Oversized headers are refused.
	req, _ := http.NewRequest("GET", h.HTTP.URL+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB header: HTTP %d", resp.StatusCode)
		}
	}

	// A websocket is hijacked out of the HTTP server: it outlives every one
	// of those timeouts.
	anna, _ := h.Agent("anna", nil)
	time.Sleep(time.Second)
	anna.OK(protocol.CmdPing, struct{}{}, nil)
}
