package files

import (
	"mime"
	"net/url"
	"strings"
)

// mimeDisposition writes a Content-Disposition with an ASCII fallback name
// and the UTF-8 one (RFC 6266).
func mimeDisposition(kind, name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	if v := mime.FormatMediaType(kind, map[string]string{"filename": ascii}); v != "" && ascii == name {
		return v
	}
	return kind + `; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}
