// Package audit_test checks the desktop UI's accessibility in headless
// Chromium: axe-core's WCAG 2.1 A and AA rules over every desk and dashboard
// view in English and Swedish, at the window's size and at 200 % zoom, and a
// keyboard walk that reaches every control with a visible focus. The UI is
// the real App built with a stand-in for the Go side (frontend/audit, built
// into build/audit by `make audit-ui`).
package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const chromium = "/usr/bin/chromium"

type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	axe  string
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "..", "..")
}

// newPage serves the audit build and opens a headless Chromium on it.
func newPage(t *testing.T, width, height int64) *page {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("skipping the UI audit: %s not found (install Debian's chromium package)", chromium)
	}
	dir := filepath.Join(root(t), "build", "audit")
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Skipf("skipping the UI audit: %v (make audit-ui builds it)", err)
	}
	axe, err := os.ReadFile(filepath.Join(root(t), "frontend", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Skipf("skipping the UI audit: %v (cd frontend && npm ci)", err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // the browser lives as long as ctx, not the first step's timeout
		t.Fatalf("start %s: %v", chromium, err)
	}
	p := &page{t: t, ctx: ctx, base: srv.URL, axe: string(axe)}
	p.do(chromedp.EmulateViewport(width, height))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

func (p *page) wait(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 12*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		p.t.Fatalf("waiting for %s: %v; the page shows:\n%s", what, err, text)
	}
}

func (p *page) open(scene, lang string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + "/index.html?scene=" + scene + "&lang=" + lang))
}

func byTestID(id string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`document.querySelector('[data-testid=%q]')`, id))
}

// tap clicks the n-th (from 0) rendered element with data-testid id.
func (p *page) tap(id string, n int) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => { const el = [...document.querySelectorAll('[data-testid=%q]')].filter((e) => e.getClientRects().length)[%d];
		if (el) el.click(); return !!el })()`, id, n)) {
		p.t.Fatalf("no %s #%d to press", id, n)
	}
}

// chat opens the chat with the visitor named name from the side list.
func (p *page) chat(name string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => { const el = [...document.querySelectorAll('[data-testid=session-item]')].find((e) => e.textContent.includes(%q));
		if (el) el.click(); return !!el })()`, name)) {
		p.t.Fatalf("no chat with %s in the list", name)
	}
}

func (p *page) shows(id string) {
	p.t.Helper()
	p.wait(id, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=%q]')].some((e) => e.getClientRects().length > 0)`, id))
}

// audit runs axe-core's WCAG 2.1 A and AA rules over the page and fails on
// any violation, naming the view.
func (p *page) audit(view string) {
	p.t.Helper()
	p.wait("animations to end", `document.getAnimations().length === 0`)
	if !eval[bool](p, `typeof window.axe === "object"`) {
		eval[bool](p, p.axe+";true")
	}
	out := eval[string](p, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then((r) => JSON.stringify(r.violations.map((v) => v.id + " (" + v.help + "): " +
			v.nodes.slice(0, 6).map((n) => n.target.join(" > ") + " " + n.failureSummary.replace(/\s+/g, " ")).join("; "))))`)
	var vs []string
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		p.t.Fatalf("axe: %v: %s", err, out)
	}
	for _, v := range vs {
		p.t.Errorf("%s: %s", view, v)
	}
}

// contrastJS defines ratio(a, b) of two CSS colours and back(el), the colour
// an element is drawn on (its first ancestor with an opaque background).
const contrastJS = `
	const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = (c) => { const [r, g, b] = rgb(c).slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b };
	const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05) };
	const back = (el) => { for (let e = el.parentElement; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; const a = rgb(c)[3];
		if (a === undefined || a > 0.9) return c } return "rgb(255, 255, 255)" };`

// controls fails on a text field whose outline (its border) is under 3:1
// against what it is drawn on (WCAG 1.4.11): axe does not check this.
func (p *page) controls(view string) {
	p.t.Helper()
	out := eval[string](p, `(() => {`+contrastJS+`
		const bad = [];
		for (const el of document.querySelectorAll("input:not([type=checkbox]):not([type=radio]), textarea, select")) {
			if (!el.getClientRects().length) continue;
			const cs = getComputedStyle(el), bg = back(el);
			let best = 0;
			for (const side of ["Top", "Right", "Bottom", "Left"]) {
				if (parseFloat(cs["border" + side + "Width"]) > 0 && cs["border" + side + "Style"] !== "none") best = Math.max(best, ratio(cs["border" + side + "Color"], bg));
			}
			if (rgb(cs.backgroundColor)[3] !== 0) best = Math.max(best, ratio(cs.backgroundColor, bg));
			if (best < 3) bad.push((el.dataset.testid || el.name || el.tagName) + " " + best.toFixed(2) + ":1");
		}
		return bad.join(", ") })()`)
	if out != "" {
		p.t.Errorf("%s: text fields drawn under 3:1 against their background: %s", view, out)
	}
}

// fits fails when the page scrolls sideways (WCAG 1.4.10 at 200 % zoom).
func (p *page) fits(view string) {
	p.t.Helper()
	if w := eval[string](p, `document.documentElement.scrollWidth + " > " + innerWidth`); eval[bool](p, `document.documentElement.scrollWidth > innerWidth + 1`) {
		p.t.Errorf("%s scrolls sideways: %s", view, w)
	}
}

// deskViews walks the agent's desk: sign-in, the desk with a chat and an
// offer, the transfer dialog, the chat menu, listen mode, the settings menu,
// the requests, the reconnect state.
func deskViews(p *page, lang string, check func(view string)) {
	p.open("login", lang)
	p.shows("login-submit")
	check("sign-in")
	p.do(chromedp.SendKeys(byTestID("login-login"), "anna"), chromedp.SendKeys(byTestID("login-password"), "wrong"))
	p.tap("login-submit", 0)
	p.shows("login-error")
	check("sign-in refused")

	p.open("desk", lang)
	p.shows("offer-bar-item")
	p.chat("Vera")
	p.shows("composer")
	check("desk: a chat and an offer")
	p.shows("attachment-thumb")
	check("desk: a chat with an image and a PDF")
	p.tap("attachment-thumb", 0)
	p.shows("attachment-full")
	check("an image full size")
	p.do(chromedp.KeyEvent(kb.Escape))
	p.wait("the dialog to close", `!document.querySelector('[role=dialog]')`)
	eval[bool](p, `window.audit.attaching(), true`)
	p.wait("the upload's progress", `(document.querySelector('[data-testid=upload-progress]') || {}).value > 0`)
	check("the composer with an attachment uploading")
	p.tap("transfer-button", 0)
	p.wait("the transfer dialog", `!!document.querySelector('[role=dialog]')`)
	check("transfer dialog")
	p.do(chromedp.KeyEvent(kb.Escape))
	p.wait("the dialog to close", `!document.querySelector('[role=dialog]')`)
	p.tap("settings-menu", 0)
	p.shows("open-about")
	check("settings menu")
	p.tap("settings-menu", 0)
	p.chat("Otto") // listening to Bo's chat
	p.shows("listen-banner")
	check("listen mode")
	p.chat("Walter") // the offered chat itself
	p.shows("transfer-accept")
	check("an offered chat")
	p.tap("request-item", 0)
	p.wait("the request", `document.body.innerText.includes("1001")`)
	check("a request")
	eval[bool](p, `window.audit.reconnecting(), true`)
	p.wait("the reconnect state", `document.querySelector('[data-testid=connection-indicator]').dataset.state === "reconnecting"`)
	check("reconnecting")
}

// dashboardViews walks the supervisor's dashboard: the figures and tables,
// listening to a chat, the take-over question.
func dashboardViews(p *page, lang string, check func(view string)) {
	p.open("dashboard", lang)
	p.shows("dashboard")
	eval[bool](p, `window.audit.dashboard(), true`)
	p.shows("session-row")
	check("dashboard")
	p.tap("dashboard-listen", 0)
	p.shows("dashboard-listen-banner")
	check("dashboard: listening")
	p.tap("dashboard-takeover", 0)
	p.shows("takeover-dialog")
	check("dashboard: take over?")
}

func TestAxeOverEveryView(t *testing.T) {
	for _, lang := range []string{"en", "sv"} {
		t.Run(lang, func(t *testing.T) {
			p := newPage(t, 1280, 800)
			check := func(view string) { p.audit(lang + ", " + view); p.controls(lang + ", " + view) }
			deskViews(p, lang, check)
			dashboardViews(p, lang, check)
		})
	}
}

// At 200 % zoom a 1280 x 800 window is 640 x 400 CSS pixels: every view
// still passes and nothing needs sideways scrolling.
func TestUsableAt200PercentZoom(t *testing.T) {
	p := newPage(t, 640, 400)
	check := func(view string) { p.audit("200 %, " + view); p.fits("200 %, " + view) }
	deskViews(p, "en", check)
	dashboardViews(p, "en", check)
}

// tabWalk presses Tab until the focus comes round again and returns, for
// every control that is rendered and enabled, whether it got the focus and
// whether the focus was visible on it.
func tabWalk(p *page) (missed, unseen []string) {
	p.t.Helper()
	eval[bool](p, `(() => {
		window.walk = new Map();
		document.addEventListener("focusin", (e) => {
			const el = e.target, cs = getComputedStyle(el);
			const seen = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none";
			window.walk.set(el, seen);
		});
		document.activeElement && document.activeElement.blur();
		return true })()`)
	for i := 0; i < 120; i++ {
		p.do(chromedp.KeyEvent(kb.Tab))
	}
	var r struct{ Missed, Unseen []string }
	_ = json.Unmarshal([]byte(eval[string](p, `(() => {
		const name = (el) => el.tagName.toLowerCase() + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") + " " + JSON.stringify((el.getAttribute("aria-label") || el.textContent || el.value || "").trim().slice(0, 30));
		const all = [...document.querySelectorAll("button, a[href], input, select, textarea, [tabindex='0']")]
			.filter((el) => !el.disabled && el.getClientRects().length && !el.closest("[inert]"));
		return JSON.stringify({
			Missed: all.filter((el) => !window.walk.has(el)).map(name),
			Unseen: [...window.walk].filter(([, seen]) => !seen).map(([el]) => name(el)),
		}) })()`)), &r)
	return r.Missed, r.Unseen
}

func TestKeyboardReachesEveryControl(t *testing.T) {
	p := newPage(t, 1280, 800)
	walk := func(view string) {
		missed, unseen := tabWalk(p)
		if len(missed) > 0 {
			t.Errorf("%s: Tab never reaches %q", view, missed)
		}
		if len(unseen) > 0 {
			t.Errorf("%s: no visible focus on %q", view, unseen)
		}
	}
	p.open("desk", "en")
	p.shows("offer-bar-item")
	p.chat("Vera")
	p.shows("composer")
	walk("desk")

	// The offer: announced (an assertive live region that is rendered before
	// it fills) and one key away.
	if got := eval[string](p, `(() => { const r = document.querySelector("[data-testid=offer-bar]");
		return r.getAttribute("aria-live") + " " + (r.getClientRects().length > 0) })()`); got != "assertive true" {
		t.Errorf("offer bar live region: %s", got)
	}
	p.do(chromedp.KeyEvent(kb.F8))
	if got := eval[string](p, `document.activeElement.dataset.testid || ""`); got != "offer-bar-accept" {
		t.Errorf("F8 put the focus on %q, want the offer's Accept", got)
	}

	p.open("dashboard", "en")
	p.shows("dashboard")
	eval[bool](p, `window.audit.dashboard(), true`)
	p.shows("session-row")
	walk("dashboard")
	// The tables: real headers, and the sort order said where it applies.
	if got := eval[string](p, `(() => { const t = document.querySelector("[data-testid=sessions-table]");
		const cols = [...t.querySelectorAll("thead th")];
		return cols.filter((th) => th.getAttribute("scope") === "col").length + "/" + cols.length + " " +
			cols.filter((th) => th.hasAttribute("aria-sort")).length + " " + t.querySelectorAll("tbody th[scope=row]").length })()`); !validTable(got) {
		t.Errorf("sessions table headers: %s (want every column header scoped, sortable ones with aria-sort, a row header per row)", got)
	}
}

// validTable reads "scoped/all sorted rowheaders" from the check above.
func validTable(s string) bool {
	var scoped, all, sorted, rows int
	if _, err := fmt.Sscanf(s, "%d/%d %d %d", &scoped, &all, &sorted, &rows); err != nil {
		return false
	}
	return scoped == all && all > 0 && sorted > 0 && rows > 0
}
