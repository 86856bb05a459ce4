// Package widget serves the visitor chat widget and a demo page that embeds
// it. The files are embedded in the relay binary.
package widget

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Handler serves /widget.js (and its assets) and /demo, a page embedding the
// widget for the channel named by ?channel= (default "support").
func Handler(publicURL string) http.Handler {
	static, _ := fs.Sub(files, "static")
	fileServer := http.FileServer(http.FS(static))
	mux := http.NewServeMux()
	mux.HandleFunc("/demo", func(w http.ResponseWriter, r *http.Request) {
		channel := r.URL.Query().Get("channel")
		if channel == "" {
			channel = "support"
		}
		lang := r.URL.Query().Get("lang")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = demoPage.Execute(w, map[string]string{"Channel": channel, "Lang": lang, "Base": strings.TrimRight(publicURL, "/")})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/demo", http.StatusFound)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
	return mux
}

// Snippet is the one line a website adds to embed the widget for a channel.
func Snippet(publicURL, channel string) string {
	return `<script src="` + strings.TrimRight(publicURL, "/") + `/widget.js" data-channel="` + template.HTMLEscapeString(channel) + `" async></script>`
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="{{if .Lang}}{{.Lang}}{{else}}en{{end}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard demo shop</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#f4f1ea;color:#222}
header{background:#2d3a4a;color:#fff;padding:1.2rem 2rem}main{padding:2rem;max-width:48rem}</style></head>
<body><header><h1>Demo shop</h1></header>
<main><p>This page embeds the Switchboard chat widget for the channel <code>{{.Channel}}</code>.
Open the chat from the button in the corner.</p></main>
<script src="/widget.js" data-channel="{{.Channel}}"{{if .Lang}} data-lang="{{.Lang}}"{{end}} async></script>
</body></html>
`))
