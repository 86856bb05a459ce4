package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTextEscape: every Go string comes back from encText and decText as it
// was, and what is stored is text PostgreSQL takes (valid UTF-8, no NUL).
func FuzzTextEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00", "\uffff", "\uffff0", "\uffff1\x00", "\xff\xfe", "a\xc3", "\uffff2zz", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := encText(s)
		if !utf8.ValidString(enc) || strings.IndexByte(enc, 0) >= 0 {
			t.Fatalf("%q stored as %q", s, enc)
		}
		if got := decText(enc); got != s {
			t.Fatalf("%q -> %q -> %q", s, enc, got)
		}
	})
}
