package audit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// box is where one of the dashboard's sections lies, in CSS pixels.
type box struct {
	Name                     string
	Left, Top, Right, Bottom float64
}

// dashboardBoxes returns the window's size, which of the page and the
// dashboard's body scroll, and the box of every section: the figures, the
// ongoing chats, the agents, the recent transfers, the queue chart with the
// channels, and the chat open in the side panel.
func dashboardBoxes(p *page) (width, height float64, scrolls []string, boxes []box) {
	p.t.Helper()
	var r struct {
		Width, Height float64
		Scrolls       []string
		Boxes         []box
	}
	out := eval[string](p, `(() => {
		const scrolls = [];
		// The page, and the dashboard's body: neither may scroll; a list scrolls in its own box.
		for (const [name, el] of [["document", document.documentElement], ["dashboard body", document.querySelector("[data-testid=dashboard] > main")]]) {
			if (el && el.scrollHeight > el.clientHeight + 1) scrolls.push(name + " scrolls: " + el.scrollHeight + " > " + el.clientHeight);
		}
		// Each of the dashboard's boxes (the chart and the channels share one), and the chat's panel.
		const boxes = [...document.querySelectorAll("[data-testid=dashboard] .grid > *, [data-testid=listen-panel]")].map((el) => {
			const r = el.getBoundingClientRect();
			const h = el.querySelector("h2, figcaption");
			return { Name: h ? h.textContent.trim() : el.className, Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom };
		});
		return JSON.stringify({ Width: innerWidth, Height: innerHeight, Scrolls: scrolls, Boxes: boxes }) })()`)
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		p.t.Fatalf("layout: %v: %s", err, out)
	}
	return r.Width, r.Height, r.Scrolls, r.Boxes
}

// usesTheWindow fails when the page scrolls or a section lies (partly)
// outside the window or is squeezed to less than a row or two.
func usesTheWindow(p *page, view string, want int) {
	p.t.Helper()
	w, h, scrolls, boxes := dashboardBoxes(p)
	for _, s := range scrolls {
		p.t.Errorf("%s: the %s; each list should scroll inside its own box", view, s)
	}
	if len(boxes) < want {
		p.t.Errorf("%s: %d sections on the page, want %d: %+v", view, len(boxes), want, boxes)
	}
	// The chats' actions are in their box, not scrolled out sideways.
	if got := eval[string](p, `(() => { const box = document.querySelector("[data-testid=sessions-table]").parentElement.getBoundingClientRect();
		const b = [...document.querySelectorAll("[data-testid=session-row] .actions .btn")].find((el) => el.getBoundingClientRect().right > box.right + 0.5);
		return b ? b.textContent.trim() + " ends at " + b.getBoundingClientRect().right + ", its box at " + box.right : "" })()`); got != "" {
		p.t.Errorf("%s: a chat's action is cut off: %s", view, got)
	}
	for _, b := range boxes {
		if b.Left < -0.5 || b.Top < -0.5 || b.Right > w+0.5 || b.Bottom > h+0.5 {
			p.t.Errorf("%s: %q is not wholly in the %gx%g window: %+v", view, b.Name, w, h, b)
		}
		if b.Bottom-b.Top < 48 || b.Right-b.Left < 120 {
			p.t.Errorf("%s: %q is squeezed to %gx%g", view, b.Name, b.Right-b.Left, b.Bottom-b.Top)
		}
	}
}

// shot saves the page as a PNG into $AUDIT_SHOTS, when it is set, to look at.
func shot(p *page, name string) {
	p.t.Helper()
	dir := os.Getenv("AUDIT_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// openBusyDashboard shows the dashboard with more chats, agents and recent
// transfers than fit in the window.
func openBusyDashboard(p *page) {
	p.t.Helper()
	p.open("dashboard", "en")
	p.shows("dashboard")
	eval[bool](p, `window.audit.busyDashboard(), true`)
	p.shows("session-row")
	p.wait("the busy dashboard", `document.querySelectorAll("[data-testid=session-row]").length > 20`)
}

// At its default size (1100x720), with a chat open in the listen panel, and
// on a large screen, the dashboard uses the window: the page does not scroll,
// every section is on screen and its list scrolls inside it.
func TestDashboardUsesTheWindow(t *testing.T) {
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"1100x720", 1100, 720}, {"1920x1080", 1920, 1080}} {
		t.Run(size.name, func(t *testing.T) {
			p := newPage(t, size.width, size.height)
			openBusyDashboard(p)
			// The figures, the chats, the agents, the recent transfers, the chart with the channels.
			usesTheWindow(p, size.name, 5)
			shot(p, "dashboard-"+size.name)

			p.tap("dashboard-listen", 0)
			p.shows("dashboard-listen-banner")
			p.wait("the log in the panel", `document.querySelector("[data-testid=listen-panel]").innerText.includes("Let me look.")`)
			usesTheWindow(p, size.name+" listening", 6)
			shot(p, "dashboard-"+size.name+"-listening")

			// WebKit draws overlay scrollbars over everything, a dialog too:
			// while one is open, nothing under it may scroll.
			p.tap("panel-takeover", 0)
			p.shows("takeover-dialog")
			if got := eval[string](p, `[...document.querySelectorAll("body *")].filter((el) => !el.closest(".backdrop") &&
				["auto", "scroll"].some((v) => [getComputedStyle(el).overflowX, getComputedStyle(el).overflowY].includes(v)))
				.map((el) => el.tagName.toLowerCase() + "." + [...el.classList].join(".")).join(", ")`); got != "" {
				t.Errorf("%s, take-over dialog open: these scroll under it: %s", size.name, got)
			}
		})
	}
}

// At 800 px wide the dashboard still uses the window; with a chat open the
// boxes stack and the page scrolls, but nothing needs sideways scrolling,
// and the chats' actions are in view beside the chat's panel.
func TestDashboardAt800Wide(t *testing.T) {
	p := newPage(t, 800, 600)
	openBusyDashboard(p)
	usesTheWindow(p, "800x600", 5)
	shot(p, "dashboard-800x600")
	p.tap("dashboard-listen", 0)
	p.shows("dashboard-listen-banner")
	p.fits("800x600 listening")
	shot(p, "dashboard-800x600-listening")
	out := eval[string](p, `(() => {
		const panel = document.querySelector("[data-testid=listen-panel]").getBoundingClientRect();
		const bad = [];
		if (panel.width < 250 || panel.right > innerWidth + 0.5) bad.push("the panel " + panel.left + ".." + panel.right);
		for (const el of document.querySelectorAll("[data-testid=session-row] .actions .btn")) {
			const r = el.getBoundingClientRect();
			if (r.right > panel.left + 0.5) { bad.push(el.textContent.trim() + " ends at " + r.right + ", under the panel at " + panel.left); break }
		}
		return bad.join("; ") })()`)
	if out != "" {
		t.Errorf("800x600 listening: %s", out)
	}
}
