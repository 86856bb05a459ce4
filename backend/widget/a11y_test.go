package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// Accessibility: axe-core over every state of the widget, and what axe
// cannot see: where the focus goes, what a screen reader is told, the panel
// being modal on a phone.

// --- what a screen reader is told ---------------------------------------------

// listen records what the widget's live regions announce from now on, the way
// screen readers hear them: a change inside a live region (aria-live, or role
// status, alert or log) that was already rendered before the change. A region
// that appears already filled, or a line taken out and put back, is heard
// wrongly (not at all, or twice), and the record shows it.
func (p *page) listen() {
	p.t.Helper()
	eval[bool](p, sr(`
		window.heard = [];
		const region = (n) => {
			for (let e = n.nodeType === 1 ? n : n.parentNode; e && e !== R; e = e.parentNode) {
				if (e.nodeType !== 1) continue;
				const live = e.getAttribute("aria-live"), role = e.getAttribute("role");
				if (live === "off") return null;
				if (live || role === "status" || role === "alert" || role === "log") return e;
			}
			return null;
		};
		let shown = new Set();
		const scan = () => {
			shown = new Set();
			for (const e of R.querySelectorAll("[aria-live],[role=status],[role=alert],[role=log]")) if (e.getClientRects().length) shown.add(e);
		};
		scan();
		new MutationObserver((ms) => {
			for (const m of ms) {
				const r = region(m.target);
				if (!r) continue;
				// An alert is read when it appears; anything else only when it changes while shown.
				if (!shown.has(r) && !(r.getAttribute("role") === "alert" && r.getClientRects().length)) continue;
				const nodes = m.type === "childList" ? [...m.addedNodes] : m.type === "attributes" && !m.target.hidden ? [m.target] : [];
				for (const n of nodes) {
					const s = (n.textContent || "").trim();
					if (s && (n.nodeType !== 1 || n.getClientRects().length)) window.heard.push(s);
				}
			}
			scan();
		}).observe(R, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden"] });
		setInterval(scan, 25);
		return true`))
}

func (p *page) heard() []string {
	p.t.Helper()
	return eval[[]string](p, `window.heard || []`)
}

// waitHeard waits until something announced contains want.
func (p *page) waitHeard(want string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	for {
		if slices.ContainsFunc(p.heard(), func(s string) bool { return strings.Contains(s, want) }) {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("a screen reader was never told %q; it heard %q", want, p.heard())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestStatusMessagesAreAnnounced(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.listen()
	p.startChat("Vera", "vera@example.com", "Where is my parcel?")

	// The chat's state in the header and the place in the queue are status
	// messages (WCAG 4.1.3): announced, not only shown.
	p.waitHeard("Waiting for someone to answer…")
	p.waitHeard("You are number 1 in the queue, estimated wait about 1 min")
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	p.waitHeard("You are chatting with Anna")
	p.waitHeard("Anna has joined the chat.")

	// The visitor's own line is read once, not again when the relay confirms it.
	p.keys("msg", "It was due on Monday\n")
	p.waitLines("v:Where is my parcel?|s:Anna has joined the chat.|v:It was due on Monday")
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, s := range p.heard() {
		if strings.Contains(s, "It was due on Monday") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the visitor's line was announced %d times; heard %q", n, p.heard())
	}

	// Minimised: what the agent writes is still announced.
	p.click("x")
	p.wait("the panel to close", sr(`return !vis("p")`))
	say(t, anna, sid, "a1", "It left our warehouse today.")
	p.waitHeard("New message from Anna: It left our warehouse today.")
	anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, nil)
	p.waitHeard("Anna ended the chat.")
}

func TestThankYouIsAnnouncedInSwedish(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil) // nobody is Present: the offline form
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support&lang=sv")
	p.click("l")
	p.listen()
	p.keys("fn", "Åsa")
	p.keys("fm", "asa@example.com")
	p.keys("fq", "Var är mitt paket?")
	p.click("fs")
	p.waitHeard("Tack, ditt ärendenummer är")
	p.waitHeard("Svaret kommer med e-post till asa@example.com.")
}

// --- the focus -------------------------------------------------------------------

// focusedID waits until the focus is on a rendered element of the widget and
// returns its id; focus dropped to the page's <body> fails (WCAG 2.4.3).
func (p *page) focusedID(what string) string {
	p.t.Helper()
	p.wait(what, sr(`const a = R.activeElement; return document.activeElement === host && !!a && a.getClientRects().length > 0`))
	return eval[string](p, sr(`return R.activeElement.id`))
}

func TestFocusStaysWhenTheAgentEndsTheChat(t *testing.T) {
	t.Parallel()
	_, anna, p, sid := chatWithAnna(t, "Where is my parcel?")
	p.keys("msg", "I was about to wri") // typing when the agent ends it
	anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, nil)
	p.wait("the end of the chat", sr(`return vis("done") && !vis("msg")`))
	if id := p.focusedID("the focus to stay in the widget"); id != "dl" {
		t.Fatalf("after the agent ended the chat the focus is on #%s, want the transcript link", id)
	}
}

func TestFocusMovesToTheThankYou(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil) // nobody is Present: the offline form
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.keys("fn", "Vera")
	p.keys("fm", "vera@example.com")
	p.keys("fq", "Please call me.\n") // a textarea: a new line, not a submit
	p.do(chromedp.Focus(node("fs")), chromedp.KeyEvent(kb.Enter))
	p.wait("the thank-you", sr(`return vis("ty")`))
	if id := p.focusedID("the focus to stay in the widget"); id != "tyn" {
		t.Fatalf("after the thank-you the focus is on #%s, want its text", id)
	}
}

// --- the keyboard ------------------------------------------------------------------

func (p *page) pressTab(shift bool) string {
	p.t.Helper()
	var opts []chromedp.KeyOption
	if shift {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	p.do(chromedp.KeyEvent(kb.Tab, opts...))
	return eval[string](p, sr(`return document.activeElement === host && R.activeElement ? R.activeElement.id : "page:" + document.activeElement.tagName`))
}

func TestPanelIsModalOnAPhone(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	d.Agent("anna", nil)
	p := newBrowser(t, 375, 740, true)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.wait("the pre-chat form", sr(`return vis("f") && $("fs").textContent !== ""`))
	if got := eval[string](p, sr(`return $("p").getAttribute("aria-modal")`)); got != "true" {
		t.Fatalf("the full-screen panel's aria-modal = %q", got)
	}
	// Tab past the last control comes back to the first, and Shift+Tab the
	// other way: the focus never goes to the page hidden under the panel.
	p.do(chromedp.Focus(node("fs")))
	if got := p.pressTab(false); got != "x" {
		t.Fatalf("Tab from the last control went to %s, want the panel's first (#x)", got)
	}
	if got := p.pressTab(true); got != "fs" {
		t.Fatalf("Shift+Tab from the first control went to %s, want the last (#fs)", got)
	}
	for i := 0; i < 8; i++ {
		if got := p.pressTab(false); strings.HasPrefix(got, "page:") {
			t.Fatalf("Tab %d left the panel for the page (%s)", i+1, got)
		}
	}

	// Wider than a phone the panel is a dialog beside the page, not modal.
	p.viewport(1100, 760, false)
	p.wait("the panel not modal beside the page", sr(`return $("p").getAttribute("aria-modal") === "false"`))
}

func TestEscapeOnTheLauncherClosesThePanel(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.wait("the panel", sr(`return vis("p")`))
	p.do(chromedp.Focus(node("l")), chromedp.KeyEvent(kb.Escape))
	p.wait("Escape on the launcher to close the panel", sr(`return !vis("p") && $("l").getAttribute("aria-expanded") === "false" && R.activeElement && R.activeElement.id === "l"`))
}

// axNode is what the browser's accessibility tree says of element id.
func (p *page) axNode(id string) *accessibility.Node {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(node(id)))
	if err != nil || len(nodes) == 0 {
		p.t.Fatalf("node #%s: %v", id, err)
	}
	var ax *accessibility.Node
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		no := false
		r, err := cdp.Call(ctx, t, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{BackendNodeID: nodes[0].BackendNodeID, FetchRelatives: &no})
		if err == nil && len(r.Nodes) > 0 {
			ax = r.Nodes[0]
		}
		return err
	}))
	if err != nil || ax == nil {
		p.t.Fatalf("accessibility node of #%s: %v", id, err)
	}
	return ax
}

func axString(v *accessibility.Value) string {
	if v == nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(v.Value, &s)
	return s
}

func TestEndQuestionIsTiedToItsButtons(t *testing.T) {
	t.Parallel()
	d := newDesk(t, nil, nil)
	d.Agent("anna", nil)
	p := newBrowser(t, 1100, 760, false)
	p.open(d.HTTP.URL + "/demo?channel=support")
	p.click("l")
	p.startChat("Vera", "vera@example.com", "Where is my parcel?")
	p.click("end")
	p.wait("the question", sr(`return vis("cf") && R.activeElement.id === "cy"`))
	for id, name := range map[string]string{"cy": "End chat", "cn": "Cancel"} {
		ax := p.axNode(id)
		if got, desc := axString(ax.Name), axString(ax.Description); got != name || desc != "End this chat?" {
			t.Errorf("#%s is read as %q, described %q; want %q described by the question", id, got, desc, name)
		}
	}
	if ax := p.axNode("cf"); axString(ax.Role) != "group" || axString(ax.Name) != "End this chat?" {
		t.Errorf("the confirmation is a %q named %q, want a group named by its question", axString(ax.Role), axString(ax.Name))
	}
}

// --- axe-core over every state -------------------------------------------------------

// axeSource is axe-core's browser build from the UI's npm packages (make test
// installs them first).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "frontend", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Skipf("skipping the axe-core audit: %v (cd frontend && npm ci)", err)
	}
	return string(b)
}

// axe runs axe-core's WCAG 2.1 A and AA rules over the widget and fails the
// test on any violation, naming the state it was found in.
func (p *page) axe(src, state string) {
	p.t.Helper()
	// Colours are measured at rest, not half way through the panel's entrance.
	p.wait("the widget to settle", sr(`return R.getAnimations().length === 0`))
	if !eval[bool](p, `typeof window.axe === "object"`) {
		eval[bool](p, src+";true")
	}
	out := eval[string](p, `axe.run(document.querySelector("switchboard-widget"), {
			runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then((r) => JSON.stringify(r.violations.map((v) => v.id + " (" + v.help + "): " +
			v.nodes.map((n) => n.target.join(" > ") + " " + n.failureSummary.replace(/\s+/g, " ")).join("; "))))`)
	var vs []string
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		p.t.Fatalf("axe: %v: %s", err, out)
	}
	for _, v := range vs {
		p.t.Errorf("%s: %s", state, v)
	}
}

func TestAxeOverEveryState(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	for _, lang := range []string{"en", "sv"} {
		for _, width := range []int64{1280, 375} {
			t.Run(lang+"-"+strconv.FormatInt(width, 10), func(t *testing.T) {
				auditStates(t, src, lang, width)
			})
		}
	}
}

func auditStates(t *testing.T, src, lang string, width int64) {
	phone := width < 480
	at := func(t *testing.T, d *desk, channel string) *page {
		p := newBrowser(t, width, 760, phone)
		p.open(d.HTTP.URL + "/demo?channel=" + channel + "&lang=" + lang)
		return p
	}
	state := func(s string) string { return fmt.Sprintf("%s at %d px, %s", lang, width, s) }

	d := newDesk(t, nil, nil)
	anna, _ := d.Agent("anna", nil)
	p := at(t, d, "support")
	p.axe(src, state("launcher"))
	p.click("l")
	p.wait("the pre-chat form", sr(`return vis("f") && $("fs").textContent !== ""`))
	p.axe(src, state("pre-chat form"))
	p.click("fs")
	p.wait("the errors", sr(`return $("fne").textContent !== ""`))
	p.axe(src, state("pre-chat form with errors"))
	p.startChat("Vera", "vera@example.com", "Where is my parcel?")
	p.wait("the queue position", sr(`return vis("pos")`))
	p.axe(src, state("queue"))
	sid := queued(t, anna, "Vera")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	say(t, anna, sid, "a1", "Hi Vera, let me check: https://track.example/1")
	p.keys("msg", "Thanks\n")
	anna.OK(protocol.CmdTyping, protocol.SessionRef{Session: sid}, nil)
	p.wait("the chat", sr(`return $("log").children.length >= 4 && $("typ").textContent !== ""`))
	p.axe(src, state("active chat"))
	p.click("end")
	p.wait("the question", sr(`return vis("cf")`))
	p.axe(src, state("end confirmation"))
	p.click("cy")
	p.wait("the end", sr(`return vis("done")`))
	p.axe(src, state("ended"))
	p.click("x")
	p.wait("the launcher after a new line", sr(`return !vis("p")`))
	p.axe(src, state("launcher, minimised chat"))

	na := at(t, d, "no-such-channel")
	na.click("l")
	na.wait("not available", sr(`return vis("na")`))
	na.axe(src, state("not available"))

	closed := newDeskWith(t, relaytest.Options{}, nil) // nobody Present: the offline form
	o := at(t, closed, "support")
	o.click("l")
	o.wait("the offline form", sr(`return vis("f") && $("fs").textContent !== ""`))
	o.axe(src, state("offline form"))
	o.keys("fn", "Vera")
	o.keys("fm", "vera@example.com")
	o.keys("fq", "Please call me.")
	o.click("fs")
	o.wait("the thank-you", sr(`return vis("ty")`))
	o.axe(src, state("thank-you"))
}
