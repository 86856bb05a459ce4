package widget_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/widget"
)

// These tests run the widget in a real headless Chromium against a real
// relay on a real SQLite file. The agents' side is driven over the protocol.
// Set SWITCHBOARD_SCREENSHOTS=docs/widget to also write screenshots of the
// widget's states (a relative path is taken from the module root).

const chromium = "/usr/bin/chromium"

// --- the relay, serving the widget ------------------------------------------

// desk is a relay that also serves the widget, its demo page and any extra
// pages a test adds, from the same origin.
type desk struct {
	*relaytest.Harness
	net *netSwitch
}

func newDesk(t *testing.T, cfg func(*relay.Config), pages map[string]string) *desk {
	t.Helper()
	return newDeskWith(t, relaytest.Options{Config: cfg}, pages)
}

// newDeskWith is newDesk with more harness options (its Handler is set here).
func newDeskWith(t *testing.T, opts relaytest.Options, pages map[string]string) *desk {
	t.Helper()
	sw := &netSwitch{}
	opts.OwnOrigin = true
	opts.Handler = func(rh http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/ws", sw.wrap(rh))
		mux.Handle("/metrics", rh)
		mux.Handle("/files/", slowUploads(rh))
		mux.Handle("/", widget.Handler("", true))
		for path, body := range pages {
			mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = io.WriteString(w, body)
			})
		}
		return mux
	}
	h := relaytest.Start(t, opts)
	return &desk{h, sw}
}

// netSwitch sits on the websocket path and plays a browser's network that
// drops: cut closes every open websocket of a browser (one that sends an
// Origin) and refuses new ones until restore. The agents' Go clients stay.
type netSwitch struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (n *netSwitch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		n.mu.Lock()
		down := n.down
		n.mu.Unlock()
		if down {
			http.Error(w, "network down", http.StatusBadGateway)
			return
		}
		next.ServeHTTP(hijackTracker{w, n}, r)
	})
}

func (n *netSwitch) cut() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = true
	for _, c := range n.conns {
		_ = c.Close()
	}
	n.conns = nil
}

func (n *netSwitch) restore() {
	n.mu.Lock()
	n.down = false
	n.mu.Unlock()
}

type hijackTracker struct {
	http.ResponseWriter
	n *netSwitch
}

func (h hijackTracker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.n.mu.Lock()
		h.n.conns = append(h.n.conns, c)
		h.n.mu.Unlock()
	}
	return c, rw, err
}

// queued waits until agent c sees the visitor named name in the queue and
// returns the session id.
func queued(t *testing.T, c *relaytest.Client, name string) string {
	t.Helper()
	var sid string
	c.Event(protocol.EvQueue, 0, func(f protocol.ServerFrame) bool {
		var q protocol.QueueEvent
		_ = json.Unmarshal(f.Data, &q)
		for _, it := range q.Added {
			if it.Visitor == name {
				sid = it.Session
				return true
			}
		}
		return false
	})
	return sid
}

func say(t *testing.T, c *relaytest.Client, sid, clientID, text string) {
	t.Helper()
	c.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: clientID, Text: text}, nil)
}

// --- the browser -------------------------------------------------------------

// page is one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts a headless Chromium with a fresh profile and returns its
// first tab, sized width x height (mobile: a phone's viewport).
func newBrowser(t *testing.T, width, height int64, mobile bool) *page {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("skipping the widget's browser tests: %s not found (install Debian's chromium package)", chromium)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	p := &page{t: t, ctx: ctx}
	p.viewport(width, height, mobile)
	return p
}

// tab opens another tab in the same browser (same storage).
func (p *page) tab() *page {
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("new tab: %v", err)
	}
	q := &page{t: p.t, ctx: ctx}
	q.viewport(1100, 760, false)
	return q
}

func (p *page) viewport(width, height int64, mobile bool) {
	if mobile {
		p.do(chromedp.EmulateViewport(width, height, chromedp.EmulateMobile))
	} else {
		p.do(chromedp.EmulateViewport(width, height))
	}
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v; the widget shows %q", err, p.shows())
	}
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript expression until it is truthy.
func (p *page) wait(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 12*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v; the widget shows %q", what, err, p.shows())
	}
}

// shows is the widget's visible text, for failure messages.
func (p *page) shows() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](sr(`return $("p").hidden ? "(closed) " + $("l").getAttribute("aria-label") : $("p").innerText`)))
	return s
}

func (p *page) open(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url))
	p.wait("the widget", sr(`return vis("l")`))
}

func (p *page) click(id string) { p.t.Helper(); p.do(chromedp.Click(node(id))) }

// keys types text into element id; a final "\n" presses Enter the way a
// keyboard does (keydown and keyup, the page decides what Enter means).
func (p *page) keys(id, text string) {
	p.t.Helper()
	if s, ok := strings.CutSuffix(text, "\n"); ok {
		p.do(chromedp.SendKeys(node(id), s), enter)
		return
	}
	p.do(chromedp.SendKeys(node(id), text))
}

var enter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		}); err != nil {
			return err
		}
	}
	return nil
})

func (p *page) text(id string) string {
	p.t.Helper()
	return eval[string](p, sr(`return $(`+strconv.Quote(id)+`).textContent`))
}

// waitText waits until element id shows want.
func (p *page) waitText(id, want string) {
	p.t.Helper()
	p.wait(fmt.Sprintf("#%s to show %q", id, want), sr(`return vis(`+strconv.Quote(id)+`) && $(`+strconv.Quote(id)+`).textContent.trim() === `+strconv.Quote(want)))
}

// line is one line of the conversation as the widget shows it.
type line struct {
	K string `json:"k"` // v (visitor), a (agent), s (system)
	X string `json:"x"`
	P bool   `json:"p"` // pending: not acknowledged yet
}

func (p *page) lines() []line {
	p.t.Helper()
	return eval[[]line](p, sr(`const a = [];
		for (const m of $("log").children) a.push({k: m.classList.contains("v") ? "v" : m.classList.contains("a") ? "a" : "s",
			x: m.querySelector(".b").textContent, p: m.classList.contains("p")});
		return a;`))
}

func texts(ls []line) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.K+":"+l.X)
	}
	return strings.Join(s, "|")
}

// waitLines waits until the conversation is exactly want (kind:text|...)
// with nothing pending.
func (p *page) waitLines(want string) {
	p.t.Helper()
	p.wait("the conversation "+want, sr(`const a = [];
		for (const m of $("log").children) {
			if (m.classList.contains("p")) return false;
			a.push((m.classList.contains("v") ? "v" : m.classList.contains("a") ? "a" : "s") + ":" + m.querySelector(".b").textContent);
		}
		return a.join("|") === `+strconv.Quote(want)))
}

// sr wraps a function body that reaches into the widget's shadow root: R is
// the root, $(id) an element, vis(id) whether it is rendered.
func sr(body string) string {
	return `(() => { const host = document.querySelector("switchboard-widget"); const R = host && host.shadowRoot;
		if (!R) return null; const $ = (id) => R.getElementById(id); const vis = (id) => $(id).getClientRects().length > 0;
		` + body + ` })()`
}

func node(id string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector("switchboard-widget").shadowRoot.getElementById(` + strconv.Quote(id) + `)`)
}

// shot writes a screenshot of the viewport when SWITCHBOARD_SCREENSHOTS is set.
func (p *page) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(p.t), dir)
	}
	// Let the panel's short entrance animation finish, and hide the caret.
	p.do(chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate[chromedp.Void](sr(`R.activeElement && R.activeElement.blur(); return 1`)))
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// startChat fills the pre-chat form and starts the chat.
func (p *page) startChat(name, email, question string) {
	p.t.Helper()
	p.wait("the pre-chat form", sr(`return vis("f") && $("fs").textContent !== ""`))
	p.keys("fn", name)
	p.keys("fm", email)
	p.keys("fq", question)
	p.click("fs")
	p.wait("the chat view", sr(`return vis("log") && vis("msg")`))
}

// --- the tests ---------------------------------------------------------------

func TestFullChat(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil) // Present before the visitor comes: the channel is open
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	if got := eval[string](p, `window.Switchboard.version`); got != "1.0.0" {
		t.Fatalf("window.Switchboard.version = %q", got)
	}
	p.shot("launcher")

	// Keyboard: the launcher is a button; Enter opens the panel and moves the
	// focus into the form; Escape closes it and gives the focus back.
	p.do(chromedp.Focus(node("l")), chromedp.KeyEvent(kb.Enter))
	p.wait("the panel to open with the focus on the name field", sr(`return vis("f") && R.activeElement && R.activeElement.id === "fn"`))
	if got := eval[string](p, sr(`return $("l").getAttribute("aria-expanded") + " " + $("log").getAttribute("role") + " " + $("log").getAttribute("aria-live") + " " + R.querySelector('label[for="fm"]').textContent`)); got != "true log polite E-mail *" {
		t.Fatalf("aria: %q", got)
	}
	// The pre-chat fields are required, said to assistive technology as well
	// as by the star; the widget's language is its own; its title bar is no
	// second banner landmark on the page.
	if got := eval[string](p, sr(`return ["fn", "fm", "fq"].map((id) => $(id).getAttribute("aria-required")).join(",") + " " + host.getAttribute("lang") + " " + R.querySelectorAll("header").length`)); got != "true,true,true en 0" {
		t.Fatalf("required, lang, landmarks: %q", got)
	}
	p.do(chromedp.KeyEvent(kb.Escape))
	p.wait("Escape to close the panel and focus the launcher", sr(`return !vis("p") && R.activeElement && R.activeElement.id === "l"`))
	p.click("l")
	p.waitText("fi", "Hi! Tell us who you are and what you need, and we will connect you with someone who can help.")
	p.waitText("fs", "Start chat")

	// The e-mail address is checked in the browser first.
	p.keys("fn", "Vera")
	p.keys("fm", "vera@")
	p.keys("fq", "Where is my parcel?")
	p.click("fs")
	p.waitText("fme", "Please enter a valid e-mail address.")
	if got := eval[string](p, sr(`return $("fm").getAttribute("aria-invalid")`)); got != "true" {
		t.Fatalf("aria-invalid = %q", got)
	}
	p.keys("fm", "example.com")
	if got := eval[string](p, sr(`return $("fme").textContent + "|" + $("fm").getAttribute("aria-invalid")`)); got != "|false" {
		t.Fatalf("the corrected e-mail still shows an error: %q", got)
	}
	p.shot("prechat")
	p.click("fs")

	// Waiting: the queue position.
	p.waitText("pos", "You are number 1 in the queue, estimated wait about 1 min")
	p.waitText("sub", "Waiting for someone to answer…")
	sid := queued(t, anna, "Vera")
	p.shot("waiting")

	// Anna answers: her name shows, and the system line.
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "You are chatting with Anna")
	p.wait("the position to go", sr(`return !vis("pos")`))

	// The visitor types: Anna sees it; Enter sends.
	p.keys("msg", "It was due on Monday\n")
	anna.Event(protocol.EvTyping, 0, func(f protocol.ServerFrame) bool {
		var te protocol.TypingEvent
		_ = json.Unmarshal(f.Data, &te)
		return f.Session == sid && te.Who == protocol.AuthorVisitor
	})
	es := anna.WaitEntries(sid, 3)
	if last := es[len(es)-1]; last.Text != "It was due on Monday" || last.From.Kind != protocol.AuthorVisitor || last.ClientID == "" {
		t.Fatalf("agent got %+v", last)
	}

	// Anna types, then answers.
	anna.OK(protocol.CmdTyping, protocol.SessionRef{Session: sid}, nil)
	p.waitText("typ", "Anna is typing…")
	say(t, anna, sid, "a1", "Let me check that for you.")
	say(t, anna, sid, "a2", "It left our warehouse today: https://track.example/123")
	p.waitLines("v:Where is my parcel?|s:Anna has joined the chat.|v:It was due on Monday|a:Let me check that for you.|a:It left our warehouse today: https://track.example/123")
	if got := p.text("typ"); got != "" {
		t.Fatalf("typing indicator still shown after Anna's line: %q", got)
	}
	if got := eval[string](p, sr(`const a = $("log").querySelector("a"); return a.href + " " + a.target + " " + a.rel`)); got != "https://track.example/123 _blank noopener noreferrer nofollow" {
		t.Fatalf("link: %q", got)
	}
	p.keys("msg", "Thank you!\n")
	p.waitLines("v:Where is my parcel?|s:Anna has joined the chat.|v:It was due on Monday|a:Let me check that for you.|a:It left our warehouse today: https://track.example/123|v:Thank you!")
	p.shot("chat")

	// Anna ends the chat: the composer goes, the transcript link comes.
	anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, nil)
	p.wait("the end of the chat", sr(`return vis("done") && !vis("msg") && !vis("end") && $("dl").href.startsWith("blob:")`))
	p.waitText("sub", "The chat has ended.")
	if got := eval[string](p, sr(`return $("dl").download`)); !regexp.MustCompile(`^chat-\d{4}-\d\d-\d\d\.txt$`).MatchString(got) {
		t.Fatalf("download name %q", got)
	}
	tr := eval[string](p, sr(`return fetch($("dl").href).then((r) => r.text())`))
	for _, want := range []string{"Chat transcript - Support", "You: Where is my parcel?", "* Anna has joined the chat.",
		"Anna: Let me check that for you.", "You: Thank you!"} {
		if !strings.Contains(tr, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, tr)
		}
	}
	p.shot("ended")
}

// Given a cluster's nodes in data-relays, the widget dials past one that
// does not answer and chats through the next.
func TestSeveralRelaysMoveOnToOneThatAnswers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	// The page and the script come from a web server of their own, which
	// serves no websocket: the widget must use the addresses it was given.
	var relayURL string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/widget.js" {
			widget.Handler("", false).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><html lang="en"><body><script src="/widget.js" data-channel="support" data-relays="`+
			down+`, `+relayURL+`"></script></body></html>`)
	}))
	t.Cleanup(site.Close)
	d := newDesk(t, func(c *relay.Config) { c.AllowedOrigins = []string{site.URL} }, nil)
	relayURL = d.HTTP.URL
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(site.URL + "/cluster")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "Which node am I on?")
	sid := queued(t, anna, "Vera")
	if sid == "" {
		t.Fatal("the chat did not reach the desk")
	}
}

func TestQueuePositionLive(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	_, first := d.Visitor("Otto", "First in line")
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "Second in line")
	p.waitText("pos", "You are number 2 in the queue, estimated wait about 2 min")

	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: first.Session}, nil)
	p.waitText("pos", "You are number 1 in the queue, estimated wait about 1 min")

	anna.OK(protocol.CmdQueueNext, nil, nil)
	p.waitText("sub", "You are chatting with Anna")
	p.wait("the position to go", sr(`return !vis("pos")`))
}

func TestResumeAfterReloadAndDrop(t *testing.T) {
	t.Parallel()
	d, anna, p, sid := chatWithAnna(t, "Where is my parcel?")
	p.keys("msg", "one\n")
	// The visitor's line is acknowledged before Anna answers, so the order is fixed.
	p.waitLines("v:Where is my parcel?|s:Anna has joined the chat.|v:one")
	say(t, anna, sid, "a1", "a-one")
	want := "v:Where is my parcel?|s:Anna has joined the chat.|v:one|a:a-one"
	p.waitLines(want)

	// A reload resumes the same chat, panel open, every line once.
	p.do(chromedp.Reload())
	p.waitLines(want)
	p.wait("the panel to reopen", sr(`return vis("msg")`))
	p.waitText("sub", "You are chatting with Anna")
	say(t, anna, sid, "a2", "a-two")
	say(t, anna, sid, "a3", "a-three")
	want += "|a:a-two|a:a-three"
	p.waitLines(want)

	// The network drops. What the visitor types waits, greyed, in the
	// outbox (in localStorage too), and survives a reload.
	d.net.cut()
	p.waitText("cs", "Connection lost. Reconnecting…")
	p.keys("msg", "typed offline\n")
	p.wait("a pending line", sr(`const m = $("log").lastChild; return m.classList.contains("p") && m.textContent.includes("typed offline")`))
	say(t, anna, sid, "a4", "a-four") // meanwhile
	out := eval[map[string]string](p, `(() => { for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i);
		if (k.endsWith(":support:out")) return JSON.parse(localStorage.getItem(k)); } return {}; })()`)
	if len(out) != 1 {
		t.Fatalf("outbox in localStorage: %v", out)
	}
	var clientID string
	for k, v := range out {
		if v != "typed offline" {
			t.Fatalf("outbox: %v", out)
		}
		clientID = k
	}
	p.do(chromedp.Reload())
	p.wait("the pending line after a reload", sr(`const m = $("log").lastChild; return m && m.classList.contains("p") && m.textContent.includes("typed offline")`))
	p.waitText("cs", "Connection lost. Reconnecting…")

	// The network comes back: the missed line arrives, the outbox is sent
	// with the same client id, once.
	d.net.restore()
	want += "|a:a-four|v:typed offline"
	p.waitLines(want)
	p.wait("the reconnecting notice to go", sr(`return !vis("cs")`))
	n := 0
	for _, e := range anna.Entries(sid) {
		if e.Text == "typed offline" {
			n++
			if e.ClientID != clientID {
				t.Fatalf("resent with client id %q, typed with %q", e.ClientID, clientID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("agent got %q %d times", "typed offline", n)
	}
	if left := eval[int](p, `localStorage.length`); left != 1 {
		t.Fatalf("localStorage keys after the outbox was sent: %d", left)
	}

	// A second tab resumes the same chat; what it sends shows in both.
	q := p.tab()
	q.open(d.HTTP.URL + "/demo")
	q.waitLines(want)
	q.wait("the panel, open as in the first tab", sr(`return vis("msg")`))
	q.keys("msg", "from the second tab\n")
	want += "|v:from the second tab"
	q.waitLines(want)
	p.waitLines(want)

	// The visitor ends the chat, after a confirmation.
	p.click("end")
	p.wait("the confirmation", sr(`return vis("cf") && R.activeElement.id === "cy"`))
	p.click("cn")
	p.wait("the confirmation to go", sr(`return !vis("cf") && vis("msg")`))
	p.click("end")
	p.click("cy")
	p.wait("the end of the chat", sr(`return vis("done") && vis("dl")`))
	anna.Event(protocol.EvSession, 0, func(f protocol.ServerFrame) bool {
		var s protocol.SessionInfo
		_ = json.Unmarshal(f.Data, &s)
		return s.ID == sid && s.State == protocol.StateEnded && s.EndedBy == "visitor"
	})
	q.wait("the second tab to see the end", sr(`return vis("done")`))
	// The visitor's own line says "You", as in Swedish, not the agents' wording.
	p.waitLines(want + "|s:You left the chat.")

	// Starting over clears the stored chat and shows the form again.
	p.click("again")
	p.wait("a fresh pre-chat form", sr(`return vis("f") && $("log").children.length === 0`))
}

func TestOfflineForm(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil) // nobody is Present: the channel is closed
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.waitText("fi", "We cannot chat right now. Leave a message and we will get back to you by e-mail.")
	p.waitText("fs", "Send message")
	p.keys("fn", "Vera")
	p.keys("fm", "vera@example.com")
	p.click("fs")
	p.waitText("fqe", "Please write your question.")
	p.keys("fq", "Please call me about my order 1234.")
	p.shot("offline-form")
	p.click("fs")
	p.wait("the request number", sr(`return vis("ty") && /^Thank you, your request number is \d+\.$/.test($("tyn").textContent)`))
	p.waitText("tym", "The answer will come by e-mail to vera@example.com.")
	num, _ := strconv.ParseInt(regexp.MustCompile(`\d+`).FindString(p.text("tyn")), 10, 64)
	r, err := d.Store.Request(context.Background(), num)
	if err != nil {
		t.Fatalf("request %d: %v", num, err)
	}
	if r.Visitor.Name != "Vera" || r.Visitor.Email != "vera@example.com" || r.Question != "Please call me about my order 1234." ||
		r.Channel != "support" || r.Session != "" {
		t.Fatalf("request %d: %+v", num, r.Request)
	}
	p.shot("offline-thanks")
}

// TestOfflineThanksInSwedish: the thank-you names the number and the
// address the answer will come to, in the visitor's language.
func TestOfflineThanksInSwedish(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil) // nobody is Present: the channel is closed
	p := newBrowser(t, 375, 740, true)
	p.open(d.HTTP.URL + "/demo?channel=support&lang=sv")
	p.click("l")
	p.keys("fn", "Åsa")
	p.keys("fm", "asa@example.com")
	p.keys("fq", "Var är mitt paket?")
	p.click("fs")
	p.wait("the request number", sr(`return vis("ty") && /^Tack, ditt ärendenummer är \d+\.$/.test($("tyn").textContent)`))
	p.waitText("tym", "Svaret kommer med e-post till asa@example.com.")
}

func TestChannelClosesWhileTyping(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.waitText("fs", "Start chat")
	p.keys("fn", "Vera")
	p.keys("fm", "vera@example.com")
	p.keys("fq", "Do you ship to Norway?")

	// Anna leaves before the visitor presses Start: chat.start is refused
	// with channel_closed, and the offline form takes over with the text.
	anna.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := relaytest.Dial(t, d.URL(), "")
		var w protocol.VisitorWelcome
		c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, &w)
		c.Close()
		if !w.Channel.Open {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the channel stayed open after the only agent left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.click("fs")
	p.waitText("fs", "Send message")
	p.waitText("fi", "We cannot chat right now. Leave a message and we will get back to you by e-mail.")
	if got := eval[string](p, sr(`return [$("fn").value, $("fm").value, $("fq").value].join("|")`)); got != "Vera|vera@example.com|Do you ship to Norway?" {
		t.Fatalf("the form lost what was typed: %q", got)
	}
	p.click("fs")
	p.wait("the request number", sr(`return /request number is \d+/.test($("tyn").textContent)`))
}

func TestTransferShowsNewAgent(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	bertil, _ := d.Agent("bertil", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "Where is my parcel?")
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "You are chatting with Anna")

	var ti protocol.TransferInfo
	anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: d.ID("bertil"), Comment: "Knows the courier"}, &ti)
	bertil.Event(protocol.EvTransfer, 0, func(f protocol.ServerFrame) bool {
		var x protocol.TransferInfo
		_ = json.Unmarshal(f.Data, &x)
		return x.ID == ti.ID && x.State == protocol.TransferPending
	})
	bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, nil)
	say(t, bertil, sid, "b1", "Hi Vera, I have news about your parcel.")

	// The visitor sees who joined, and none of the agents' transfer notes.
	p.waitLines("v:Where is my parcel?|s:Anna has joined the chat.|s:Bertil has joined the chat.|a:Hi Vera, I have news about your parcel.")
	p.waitText("sub", "You are chatting with Bertil")
}

func TestOriginNotAllowed(t *testing.T) {
	t.Parallel()
	d := newDesk(t, func(c *relay.Config) { c.AllowedOrigins = []string{"https://shop.example"} }, nil)
	// A shop on another origin, not in the allowlist, embeds the widget.
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other shop</title></head>
<body><h1>Another shop</h1>`+widget.Snippet(d.HTTP.URL, "support")+`</body></html>`)
	}))
	t.Cleanup(shop.Close)
	if _, resp, err := relaytest.DialErr(t, d.URL(), shop.URL); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("handshake from %s: err %v resp %v", shop.URL, err, resp)
	}
	before := originRefusals(t, d)

	p := newBrowser(t, 1100, 760, false)
	p.open(shop.URL + "/")
	p.click("l")
	p.waitText("nat", "Chat is not available on this page.")
	p.shot("not-available")
	after := originRefusals(t, d)
	if after < before+2 {
		t.Fatalf("origin refusals: %d before, %d after", before, after)
	}
	// It keeps trying, slowly: from the third try on, a second or more apart.
	next := func(n int) (int, time.Time) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if m := originRefusals(t, d); m > n {
				return m, time.Now()
			}
			if time.Now().After(deadline) {
				t.Fatal("the widget stopped trying")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	n, first := next(after)
	_, second := next(n)
	if gap := second.Sub(first); gap < 700*time.Millisecond {
		t.Fatalf("retried %v after the previous try", gap)
	}
}

func originRefusals(t *testing.T, d *desk) int {
	t.Helper()
	resp, err := http.Get(d.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^switchboard_origin_refused_total (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no origin refusal counter in\n%s", b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

const cleanPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clean</title>
<script>window.__before = Object.getOwnPropertyNames(window);</script></head>
<body><h1>A clean page</h1><script src="/widget.js" data-channel="support" async></script></body></html>`

// hostilePage restyles everything it can reach, and patches built-ins.
const hostilePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile</title>
<style>
* { all: unset !important; display: block !important; font-size: 40px !important; font-family: "Comic Sans MS", cursive !important;
    color: #f0f !important; background: #ff0 !important; line-height: 3 !important; border: 5px dashed red !important;
    padding: 20px !important; margin: 20px !important; box-sizing: content-box !important; width: 300px !important;
    height: 300px !important; letter-spacing: 4px !important; text-transform: uppercase !important; opacity: .8 !important; }
html { font-size: 40px !important; }
head, script, style, title { display: none !important; }
switchboard-widget { display: none !important; position: absolute !important; top: 0 !important; left: 0 !important;
    opacity: 0 !important; visibility: hidden !important; z-index: -1 !important; }
button, input, textarea, form, header, div, span, svg, a, label, p { all: unset !important; background: red !important; }
</style>
<script>
window.Switchboard = { version: "fake", open() { throw new Error("fake"); } };
Array.prototype.map = function () { throw new Error("hostile map"); };
Array.prototype.forEach = function () { throw new Error("hostile forEach"); };
Array.prototype.filter = function () { throw new Error("hostile filter"); };
Array.prototype.toJSON = function () { return "hostile"; };
Object.prototype.hostile = "yes";
</script></head>
<body><h1>A hostile page</h1><p>Everything here is restyled.</p>
<script src="/widget.js" data-channel="support" async></script></body></html>`

// looks measures the widget: computed styles inside the shadow root and
// where its parts sit on the screen.
const looks = `const out = {};
	const props = ["width", "height", "background-color", "color", "font-size", "font-family", "font-weight", "line-height",
		"border-radius", "border-top-width", "padding-top", "padding-left", "margin-top", "position", "box-sizing",
		"letter-spacing", "text-transform", "opacity", "display", "visibility"];
	const one = (name, el) => {
		const cs = getComputedStyle(el), r = el.getBoundingClientRect();
		for (const p of props) out[name + " " + p] = cs.getPropertyValue(p);
		out[name + " rect"] = Math.round(r.x) + "," + Math.round(r.y) + "," + Math.round(r.width) + "," + Math.round(r.height);
	};
	one("host", host);
	for (const id of ["l", "p", "ttl", "fi", "fn", "fq", "fs"]) one(id, $(id));
	one("header", R.querySelector(".head"));
	one("label", R.querySelector("label"));
	return out;`

func TestHostilePage(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, map[string]string{"/clean": cleanPage, "/hostile": hostilePage})
	p := newBrowser(t, 1100, 760, false)

	p.open(d.HTTP.URL + "/clean")
	if got := eval[[]string](p, `(() => { const b = new Set(window.__before); const a = [];
		for (const k of Object.getOwnPropertyNames(window)) if (!b.has(k) && k !== "__before") a.push(k); return a; })()`); strings.Join(got, ",") != "Switchboard" {
		t.Fatalf("globals added by the widget: %q", got)
	}
	if got := eval[string](p, `Object.keys(window.Switchboard).sort().join(",") + " " + window.Switchboard.version`); got != "close,open,version 1.0.0" {
		t.Fatalf("window.Switchboard: %q", got)
	}
	p.click("l")
	p.wait("the offline form", sr(`return vis("f") && $("fs").textContent === "Send message" && $("p").getAnimations().length === 0`))
	clean := eval[map[string]string](p, sr(looks))

	p.open(d.HTTP.URL + "/hostile")
	if got := eval[string](p, `window.Switchboard.version`); got != "1.0.0" {
		t.Fatalf("window.Switchboard.version on the hostile page: %q", got)
	}
	p.click("l")
	p.wait("the offline form", sr(`return vis("f") && $("fs").textContent === "Send message" && $("p").getAnimations().length === 0`))
	hostile := eval[map[string]string](p, sr(looks))
	if len(clean) < 100 {
		t.Fatalf("measured too little: %v", clean)
	}
	for k, v := range clean {
		if hostile[k] != v {
			t.Errorf("%s: %q on a clean page, %q on the hostile page", k, v, hostile[k])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	p.shot("hostile-page")

	// And it still works there: patched Array methods and an Array toJSON
	// break nothing.
	p.keys("fn", "Vera")
	p.keys("fm", "vera@example.com")
	p.keys("fq", "Is this page broken?")
	p.click("fs")
	p.wait("the request number", sr(`return /^Thank you, your request number is \d+\.$/.test($("tyn").textContent)`))
}

func TestSwedishOnAPhone(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 375, 740, true)
	p.open(d.HTTP.URL + "/demo?channel=support&lang=sv")
	if got := eval[string](p, sr(`return $("l").getAttribute("aria-label")`)); got != "Öppna chatten" {
		t.Fatalf("launcher label %q", got)
	}
	// A Swedish widget says so, whatever the page's language (WCAG 3.1.2).
	if got := eval[string](p, sr(`return host.getAttribute("lang")`)); got != "sv" {
		t.Fatalf("the widget's lang is %q", got)
	}
	p.click("l")
	p.waitText("fi", "Hej! Berätta vem du är och vad du behöver hjälp med, så kopplar vi dig till någon som kan hjälpa dig.")
	p.waitText("fs", "Starta chatten")
	if got := eval[string](p, sr(`const a = []; for (const l of R.querySelectorAll("label")) a.push(l.textContent); return a.join("|")`)); got != "Namn *|E-post *|Din fråga *|Skriv ett meddelande" {
		t.Fatalf("labels %q", got)
	}
	// Full screen under 480 px; the launcher hides behind it.
	p.wait("the panel to settle", sr(`return $("p").getAnimations().length === 0`))
	if got := eval[string](p, sr(`const r = $("p").getBoundingClientRect(); return [r.x, r.y, r.width, r.height, vis("l")].join(",")`)); got != "0,0,375,740,false" {
		t.Fatalf("panel on a phone: %s", got)
	}
	p.shot("sv-mobile-prechat")
	p.startChat("Vera", "vera@example.com", "Var är mitt paket?")
	p.waitText("pos", "Du är nummer 1 i kön, beräknad väntetid cirka 1 min")
	p.shot("sv-mobile-waiting")
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "Du chattar med Anna")
	say(t, anna, sid, "a1", "Hej Vera! Jag kollar upp det direkt.")
	p.keys("msg", "Tack!\n")
	p.waitLines("v:Var är mitt paket?|s:Anna har anslutit till chatten.|a:Hej Vera! Jag kollar upp det direkt.|v:Tack!")
	anna.OK(protocol.CmdTyping, protocol.SessionRef{Session: sid}, nil)
	p.waitText("typ", "Anna skriver…")
	p.shot("sv-mobile-chat")

	// The close button in the header leaves the full-screen panel.
	p.click("x")
	p.wait("the panel to close", sr(`return !vis("p") && vis("l")`))
}

func TestRefusalsKeepWhatWasTyped(t *testing.T) {
	// A tight rate limit: the relay refuses floods with an error that names no
	// command, so the widget resends what still waits for its ack.
	d := newDesk(t, func(c *relay.Config) { c.RatePerSecond, c.RateBurst = 2, 4 }, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "")
	sid := queued(t, anna, "Vera")
	time.Sleep(time.Second) // let the agent's bucket refill too
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "You are chatting with Anna")

	// Five lines at once: some are refused, shown politely, and resent.
	p.do(chromedp.Evaluate[chromedp.Void](sr(`const m = $("msg");
		for (let i = 1; i <= 5; i++) { m.value = "line " + i; m.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true})); }
		return 1`)))
	p.waitText("nt", "You are sending messages too fast; we will retry.")
	p.waitLines("s:Anna has joined the chat.|v:line 1|v:line 2|v:line 3|v:line 4|v:line 5")
	seen := map[string]int{}
	for _, e := range anna.WaitEntries(sid, 6) {
		seen[e.Text]++
	}
	for i := 1; i <= 5; i++ {
		if n := seen[fmt.Sprintf("line %d", i)]; n != 1 {
			t.Fatalf("agent got line %d %d times", i, n)
		}
	}

	// Too long: the text stays in the box.
	long := strings.Repeat("å", 4001) // 8002 bytes
	p.do(chromedp.Evaluate[chromedp.Void](sr(`$("msg").value = "` + long + `"; return 1`)))
	p.keys("msg", "\n")
	p.waitText("nt", "Your message is too long. Please shorten it.")
	if got := eval[int](p, sr(`return $("msg").value.length`)); got != 4001 {
		t.Fatalf("the box holds %d characters after the refusal", got)
	}
	if got := len(p.lines()); got != 6 {
		t.Fatalf("%d lines after a refused message", got)
	}
}

func TestTooManyChatsFromOneAddress(t *testing.T) {
	t.Parallel()
	d := newDesk(t, func(c *relay.Config) { c.StartsPerMinute = 1 }, nil)
	d.Agent("anna", nil)
	// Another visitor at the same address (every client here is 127.0.0.1)
	// used the minute's one start.
	d.Visitor("Walt", "first")
	p := newBrowser(t, 1100, 760, false)
	for _, tc := range []struct{ url, start, msg string }{
		{"/demo", "Start chat", "Too many chats were started from your network. Please wait a minute and try again."},
		{"/demo?channel=support&lang=sv", "Starta chatten", "För många chattar har startats från ditt nätverk. Vänta en minut och försök igen."},
	} {
		p.open(d.HTTP.URL + tc.url)
		p.click("l")
		p.waitText("fs", tc.start)
		p.keys("fn", "Vera")
		p.keys("fm", "vera@example.com")
		p.keys("fq", "Hello?")
		p.click("fs")
		p.waitText("fx", tc.msg)
		if got := eval[string](p, sr(`return [$("fn").value, $("fq").value, vis("f")].join("|")`)); got != "Vera|Hello?|true" {
			t.Fatalf("after the refusal the form shows %q", got)
		}
	}
}

func TestIdleVisitorIsClosedAndComesBack(t *testing.T) {
	t.Parallel()
	// Long enough that the visitor's return (connect, hello, chat.start: one
	// connection, timed from its start) fits within it on a loaded machine;
	// with half a second a busy run saw the new connection closed mid-start.
	d := newDesk(t, func(c *relay.Config) { c.VisitorIdle = 2 * time.Second }, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.waitText("fs", "Start chat")
	// The relay closes the idle connection; the widget does not call it a
	// lost connection, and does not reconnect on its own.
	deadline := time.Now().Add(10 * time.Second)
	for d.Metric("switchboard_connections") != 1 { // anna's only
		if time.Now().After(deadline) {
			t.Fatal("the idle visitor's connection stayed open")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if n := d.Metric("switchboard_connections"); n != 1 {
		t.Fatalf("the widget reconnected by itself: %d connections", n)
	}
	if eval[bool](p, sr(`return vis("cs")`)) {
		t.Fatalf("status shown after an idle close: %q", p.text("cs"))
	}
	// The visitor comes back and starts a chat: it goes through.
	p.startChat("Vera", "vera@example.com", "Back again")
	queued(t, anna, "Vera")
}

// TestHandler needs no browser: the files, their caching and the demo page.
func TestHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(widget.Handler("https://chat.example/", true))
	t.Cleanup(srv.Close)
	get := func(path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	plain, body := get("/widget.js", nil)
	if plain.StatusCode != 200 || !strings.HasPrefix(plain.Header.Get("Content-Type"), "text/javascript") ||
		plain.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" || !strings.Contains(body, "window.Switchboard") {
		t.Fatalf("widget.js: %d %v", plain.StatusCode, plain.Header)
	}
	gz, zbody := get("/widget.js", map[string]string{"Accept-Encoding": "gzip"})
	// What every visitor downloads stays small: 13.4 KiB with attachments
	// (11.6 without); the bound catches a change that doubles it.
	if gz.Header.Get("Content-Encoding") != "gzip" || len(zbody) >= len(body) || len(zbody) > 15*1024 {
		t.Fatalf("gzip: %q, %d bytes of %d", gz.Header.Get("Content-Encoding"), len(zbody), len(body))
	}
	t.Logf("widget.js: %d bytes, %d gzipped", len(body), len(zbody))
	if again, _ := get("/widget.js", map[string]string{"If-None-Match": plain.Header.Get("ETag")}); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", again.StatusCode)
	}
	if missing, _ := get("/nothing.js", nil); missing.StatusCode != http.StatusNotFound {
		t.Fatalf("missing file: %d", missing.StatusCode)
	}

	_, demo := get("/demo?channel=sales&lang=sv", nil)
	for _, want := range []string{`<html lang="sv">`, `<script src="/widget.js" data-channel="sales" data-lang="sv" async>`,
		`&lt;script src=&#34;https://chat.example/widget.js&#34; data-channel=&#34;sales&#34; async&gt;&lt;/script&gt;`} {
		if !strings.Contains(demo, want) {
			t.Fatalf("demo page lacks %s:\n%s", want, demo)
		}
	}
	if _, bad := get(`/demo?lang="><script>x</script>`, nil); strings.Contains(bad, "<script>x") || strings.Contains(bad, "data-lang") {
		t.Fatalf("demo page took a bad lang:\n%s", bad)
	}
	// The demo is opt-in: without it /demo and / are not found; the widget is served.
	off := httptest.NewServer(widget.Handler("https://chat.example/", false))
	t.Cleanup(off.Close)
	for path, want := range map[string]int{"/demo": http.StatusNotFound, "/": http.StatusNotFound, "/widget.js": http.StatusOK} {
		resp, err := http.Get(off.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("demo off: %s answered %d, want %d", path, resp.StatusCode, want)
		}
	}
	if got := widget.Snippet("https://chat.example/", `a"b`); got != `<script src="https://chat.example/widget.js" data-channel="a&#34;b" async></script>` {
		t.Fatalf("snippet %s", got)
	}
}

// TestMessageWaitsOutAFullDisk: while the relay's database cannot write,
// it refuses a visitor's message with "unavailable" and keeps the
// connection open. The widget keeps the line as sending and tries again
// until the relay takes it, without a reload or a reconnect.
func TestMessageWaitsOutAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small filesystem for the database needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2048k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	d := newDeskWith(t, relaytest.Options{DBPath: filepath.Join(dir, "relay.db"), Config: func(c *relay.Config) {
		// The relay stays degraded this long after the first refusal,
		// whatever the disk does, so that the widget's line is refused.
		c.StoreRetry, c.StoreRetryMax = 2*time.Second, 2*time.Second
	}}, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "")
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitText("sub", "You are chatting with Anna")

	// Fill the disk until the relay refuses writes.
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	for i := 0; ; i++ {
		r := anna.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprintf("fill-%d", i), Text: "x"})
		if !r.OK {
			if r.Error.Code != protocol.CodeUnavailable {
				t.Fatalf("refused with %v", r.Error)
			}
			break
		}
	}
	p.keys("msg", "kept for later\n")
	refused := func() bool {
		resp, err := http.Get(d.HTTP.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `switchboard_errors_total{code="unavailable"} 2`)
	}
	for deadline := time.Now().Add(5 * time.Second); !refused(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the widget's line was not refused")
		}
	}
	p.wait("the line kept as sending", sr(`const m = $("log").lastElementChild;
		return m.classList.contains("p") && m.querySelector(".b").textContent === "kept for later"`))
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	found := 0
	deadline := time.Now().Add(10 * time.Second)
	for found == 0 && time.Now().Before(deadline) {
		for _, e := range anna.Entries(sid) {
			if e.Text == "kept for later" {
				found++
			}
		}
		if found == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if found != 1 {
		t.Fatalf("the agent got the kept line %d times after the disk had space again", found)
	}
	p.wait("the line sent", sr(`const m = $("log").lastElementChild;
		return !m.classList.contains("p") && m.querySelector(".b").textContent === "kept for later"`))
}
