package audit_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The page that draws the login form is what every start waits for: its
// script and style (frontend/dist, as the app embeds it) hold the form and
// not the desk or the dashboard, which load after the form is drawn; and its
// style names no font family beyond the system's, each of which WebKitGTK
// looks up (fontconfig) before the first frame (docs/performance.md,
// "Desktop app").
func TestLoginPageLoadsWithoutTheDesk(t *testing.T) {
	dist := filepath.Join(root(t), "frontend", "dist")
	html, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		t.Skipf("the UI is not built (%v): make frontend", err)
	}
	entry := func(re string) string {
		m := regexp.MustCompile(re).FindSubmatch(html)
		if m == nil {
			t.Fatalf("index.html has no %s:\n%s", re, html)
		}
		b, err := os.ReadFile(filepath.Join(dist, string(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	script := entry(`<script type="module"[^>]*src="\./([^"]+)"`)
	style := entry(`<link rel="stylesheet"[^>]*href="\./([^"]+)"`)

	if !strings.Contains(script, `data-testid="login-submit"`) {
		t.Errorf("the entry script does not draw the login form")
	}
	for what, marker := range map[string]string{"the desk": `data-testid="session-item"`, "the chat's composer": `data-testid="composer"`,
		"the dashboard": `data-testid="dashboard"`} {
		if strings.Contains(script, marker) {
			t.Errorf("the entry script holds %s (%s): it should load after the form is drawn", what, marker)
		}
	}
	if strings.Contains(string(html), "modulepreload") {
		t.Errorf("index.html preloads modules before the form: %s", html)
	}
	for _, m := range regexp.MustCompile(`font-family:([^;}]+)`).FindAllStringSubmatch(style, -1) {
		for _, family := range strings.Split(m[1], ",") {
			switch strings.TrimSpace(family) {
			case "system-ui", "sans-serif", "monospace", "inherit":
			default:
				t.Errorf("the entry style names the font %s (%s): each one is looked up before the first frame", family, m[0])
			}
		}
	}
}
