// Package widget serves the visitor chat widget and a demo page that embeds
// it. The files are embedded in the relay binary.
//
// A website embeds the widget with one line (see Snippet):
//
//	<script src="https://relay.example/widget.js" data-channel="support" async></script>
//
// The script derives the relay's websocket address from its own src (the
// same directory, path "ws"), so the relay serves both. Browsers on other
// origins must be in the relay's AllowedOrigins.
package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed static
var files embed.FS

// asset is one embedded file, ready to serve: its bytes, gzipped once, and
// an ETag so that browsers revalidate cheaply.
type asset struct {
	body, gz    []byte
	etag, ctype string
}

var assets = loadAssets()

func loadAssets() map[string]*asset {
	out := map[string]*asset{}
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		if path.Ext(name) == ".js" {
			body = compactJS(body)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out["/"+name] = &asset{body: body, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// compactJS drops the indentation and the whole-line // comments of a
// script, which every visitor would download for nothing. It relies on the
// widget's own style: no template literal line starts with // and none needs
// its indentation (CSS and HTML do not).
func compactJS(src []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(src, []byte("\n")) {
		line = bytes.TrimLeft(line, " \t")
		if bytes.HasPrefix(line, []byte("//")) || len(line) == 0 {
			continue
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// Handler serves /widget.js (and its assets) and, with demo on, /demo, a
// page embedding the widget for the channel named by ?channel= (default
// "support") in the language named by ?lang= (en or sv; default: the
// widget's own choice). publicURL is the relay's address as websites see
// it; it is only used to show the embed snippet on the demo page. The demo
// is off in production: its origin may open websockets only while it is
// served (see relay.Config.DemoOrigin).
func Handler(publicURL string, demo bool) http.Handler {
	mux := http.NewServeMux()
	if demo {
		mux.HandleFunc("/demo", demoHandler(publicURL))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && demo {
			http.Redirect(w, r, "/demo", http.StatusFound)
			return
		}
		serveAsset(w, r)
	})
	return mux
}

func demoHandler(publicURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		channel := q.Get("channel")
		if channel == "" {
			channel = "support"
		}
		lang := q.Get("lang")
		if !langRE.MatchString(lang) {
			lang = ""
		}
		base := strings.TrimRight(publicURL, "/")
		if base == "" {
			base = "http://" + r.Host
			if r.TLS != nil {
				base = "https://" + r.Host
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_ = demoPage.Execute(w, map[string]string{"Channel": channel, "Lang": lang, "Snippet": Snippet(base, channel)})
	}
}

// serveAsset serves one embedded file.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	// Short-lived: a new widget reaches every site within minutes; the
	// ETag makes the revalidation a 304.
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	// Loaded by <script> from other sites, also those that send COEP.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// Snippet is the one line a website adds to embed the widget for a channel.
func Snippet(publicURL, channel string) string {
	return `<script src="` + template.HTMLEscapeString(strings.TrimRight(publicURL, "/")) + `/widget.js" data-channel="` + template.HTMLEscapeString(channel) + `" async></script>`
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="{{if .Lang}}{{.Lang}}{{else}}en{{end}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard demo shop</title>
<style>body{font-family:Georgia,serif;margin:0;background:#f4f1ea;color:#222;line-height:1.5}
header{background:#2d3a4a;color:#fff;padding:1.2rem 2rem}header h1{margin:0;font-size:1.6rem}
main{padding:2rem;max-width:48rem}code,pre{font-size:.9rem}pre{background:#fff;border:1px solid #ddd;padding:.8rem;
white-space:pre-wrap;word-break:break-all}a{color:#2d3a4a}</style></head>
<body><header><h1>Demo shop</h1></header>
<main><p>This page embeds the Switchboard chat widget for the channel <code>{{.Channel}}</code>.
Open the chat from the button in the corner.</p>
<p>Language: <a href="?channel={{.Channel}}&amp;lang=en">English</a> · <a href="?channel={{.Channel}}&amp;lang=sv">svenska</a></p>
<p>To put the widget on your own site, add this line to its pages (and the site's origin to the relay's allowed origins):</p>
<pre>{{.Snippet}}</pre></main>
<script src="/widget.js" data-channel="{{.Channel}}"{{if .Lang}} data-lang="{{.Lang}}"{{end}} async></script>
</body></html>
`))
