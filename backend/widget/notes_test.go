package widget_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"switchboard/backend/chat"
)

// The widget words every system line a visitor can get, by its code, in
// both its languages: the relay sends codes, not sentences, so a code
// missing here would show the visitor an empty line.
func TestWidgetWordsEveryVisitorNote(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("static/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	// const N = sv ? { ...sv... } : { ...en... };
	m := regexp.MustCompile(`(?s)const N = sv \? \{(.*?)\} : \{(.*?)\};`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("widget.js: no table of system lines (const N = sv ? {...} : {...})")
	}
	for i, lang := range []string{"sv", "en"} {
		table := m[i+1]
		for _, code := range chat.VisitorNotes {
			if !regexp.MustCompile(`\b` + code + `: "[^"]+"`).MatchString(table) {
				t.Errorf("%s: no wording for %q", lang, code)
			}
		}
		for _, code := range chat.StaffNotes {
			if strings.Contains(table, code+":") {
				t.Errorf("%s: the visitor's widget words staff line %q", lang, code)
			}
		}
	}
}
