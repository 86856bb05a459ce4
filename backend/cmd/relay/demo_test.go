package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// serveFor runs `serve` with extra arguments on a free port until the test
// ends, and returns its address once /healthz answers.
func serveFor(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := rootCmd()
	cmd.SetArgs(append([]string{"serve", "--database", filepath.Join(t.TempDir(), "demo.db"), "--listen", addr, "--log-format", "text"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the relay did not start")
	return ""
}

// handshake opens a websocket with an Origin (and a Host, if given) and
// returns the HTTP status of the answer.
func handshake(t *testing.T, addr, origin, host string) int {
	t.Helper()
	hdr := http.Header{"Origin": {origin}}
	if host != "" {
		hdr.Set("Host", host)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", hdr)
	if err == nil {
		ws.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("handshake: %v", err)
	}
	return resp.StatusCode
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDemoIsOptIn: by default the relay serves no demo page and lets no
// browser origin in but the configured ones; the Host header, which DNS
// rebinding lets a hostile page choose, grants nothing. With --demo the
// page is served and its origin (the public URL's) may connect.
func TestDemoIsOptIn(t *testing.T) {
	off := serveFor(t, "--origins", "https://shop.example")
	if got := status(t, "http://"+off+"/demo"); got != http.StatusNotFound {
		t.Fatalf("demo off: /demo answered %d", got)
	}
	if got := status(t, "http://"+off+"/widget.js"); got != http.StatusOK {
		t.Fatalf("demo off: /widget.js answered %d", got)
	}
	for _, c := range []struct{ origin, host string }{
		{"http://" + off, ""}, // the relay's own address, no demo
		{"http://rebind.example:8080", "rebind.example:8080"}, // Origin matching a forged Host
	} {
		if got := handshake(t, off, c.origin, c.host); got != http.StatusForbidden {
			t.Fatalf("demo off: origin %s (host %q) answered %d", c.origin, c.host, got)
		}
	}
	if got := handshake(t, off, "https://shop.example", ""); got != http.StatusSwitchingProtocols {
		t.Fatalf("a configured origin answered %d", got)
	}

	on := serveFor(t, "--demo")
	if got := status(t, "http://"+on+"/demo"); got != http.StatusOK {
		t.Fatalf("demo on: /demo answered %d", got)
	}
	if got := handshake(t, on, "http://"+on, ""); got != http.StatusSwitchingProtocols {
		t.Fatalf("demo on: the demo page's origin answered %d", got)
	}
	if got := handshake(t, on, "http://rebind.example:8080", "rebind.example:8080"); got != http.StatusForbidden {
		t.Fatalf("demo on: a forged Host answered %d", got)
	}
}

// TestLoginSettings: the sign-in throttle's settings reach the relay.
func TestLoginSettings(t *testing.T) {
	v := newViper()
	fl := rootCmd().PersistentFlags()
	if err := fl.Parse([]string{"--login-free-failures", "3", "--login-delay", "2s", "--login-max-delay", "30s",
		"--login-forget", "5m", "--login-track", "500", "--login-workers", "2", "--login-queue", "9", "--demo",
		"--public-url", "https://Chat.Example.com/"}); err != nil {
		t.Fatal(err)
	}
	if err := bindFlags(v, fl); err != nil {
		t.Fatal(err)
	}
	st, err := loadSettings(v, "")
	if err != nil {
		t.Fatal(err)
	}
	c := st.relayConfig("test")
	if c.LoginFreeFailures != 3 || c.LoginDelay != 2*time.Second || c.LoginMaxDelay != 30*time.Second ||
		c.LoginForget != 5*time.Minute || c.LoginTrack != 500 || c.PasswordWorkers != 2 || c.PasswordQueue != 9 ||
		c.DemoOrigin != "https://chat.example.com" {
		t.Fatalf("relay config: %+v", c)
	}
	if _, err := run(t, "", "check-config", "--login-delay", "1m", "--login-max-delay", "1s"); err == nil || !strings.Contains(err.Error(), "login") {
		t.Fatalf("a delay above the cap was accepted: %v", err)
	}
}
