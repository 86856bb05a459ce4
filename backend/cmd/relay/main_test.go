package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/relay"
	"switchboard/backend/store/pgtest"
)

// run executes the command line in-process and returns its output.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestMain stops the PostgreSQL server the tests started.
func TestMain(m *testing.M) { pgtest.Main(m) }

// The admin commands work alike on a SQLite file and on a cluster's
// PostgreSQL database.
func TestAdminCommands(t *testing.T) {
	relay.PasswordCost = bcrypt.MinCost
	t.Run("sqlite", func(t *testing.T) { testAdminCommands(t, filepath.Join(t.TempDir(), "admin.db")) })
	t.Run("postgres", func(t *testing.T) {
		// A password in the address (the test server trusts anyone) must
		// never be shown.
		db := strings.Replace(pgtest.Start(t), "postgres@", "postgres:hunter2@", 1)
		testAdminCommands(t, db)
		out, err := run(t, "", "check-config", "--database", db)
		if err != nil || !strings.Contains(out, "database reachable: PostgreSQL ") || strings.Contains(out, "hunter2") {
			t.Fatalf("check-config on PostgreSQL: %v\n%s", err, out)
		}
		out, err = run(t, "", "agent", "list", "--database", db)
		if err != nil || strings.Contains(out, "hunter2") || !strings.Contains(out, "dora") {
			t.Fatalf("agent list on PostgreSQL: %v\n%s", err, out)
		}
		down := strings.Replace(db, "127.0.0.1:", "127.0.0.1:1", 1) // no server there
		if out, err := run(t, "", "check-config", "--database", down); err == nil || strings.Contains(err.Error()+out, "hunter2") {
			t.Fatalf("check-config with an unreachable database: %v\n%s", err, out)
		}
	})
}

// The node configuration shipped for a cluster is valid (with a database
// the test can reach in place of the example's).
func TestClusterNodeConfigIsValid(t *testing.T) {
	out, err := run(t, "", "check-config", "--config", filepath.Join("..", "..", "..", "build", "cluster", "relay-node.yaml"),
		"--database", pgtest.Start(t))
	if err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	for _, want := range []string{"cluster.node         relay1", "nats                 nats://nats1.internal:4222", "configuration is valid"} {
		if !strings.Contains(out, want) {
			t.Fatalf("check-config lacks %q:\n%s", want, out)
		}
	}
}

func testAdminCommands(t *testing.T, db string) {
	if _, err := run(t, "demo-password\n", "seed-demo", "--database", db); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "agent", "add", "dora", "--name", "Dora Dahl", "--database", db)
	if err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("agent add without a password: %v %s", err, out)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret-enough\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "agent", "add", "dora", "--name", "Dora Dahl", "--password-file", pwFile, "--database", db); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "again-password\n", "agent", "add", "dora", "--database", db); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate agent: %v", err)
	}
	if _, err := run(t, "", "channel", "set", "sales", "--name", "Sales", "--hours", "mon-fri 09:00-17:00", "--timezone", "Europe/Stockholm",
		"--transfer-timeout", "90s", "--database", db); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "channel", "set", "bad", "--hours", "someday 9-5", "--database", db); err == nil {
		t.Fatal("bad hours accepted")
	}
	if _, err := run(t, "", "grant", "dora", "sales", "respond,listen", "--database", db); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "grant", "dora", "sales", "respond,fly", "--database", db); err == nil {
		t.Fatal("unknown permission accepted")
	}
	if _, err := run(t, "", "grant", "nobody", "sales", "respond", "--database", db); err == nil {
		t.Fatal("grant to an unknown agent accepted")
	}
	if _, err := run(t, "", "agent", "disable", "dora", "--database", db); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "snippet", "sales", "--public-url", "https://chat.example.com")
	if err != nil || !strings.Contains(out, `<script src="https://chat.example.com/widget.js" data-channel="sales" async></script>`) {
		t.Fatalf("snippet: %q %v", out, err)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if _, err := run(t, "", "backup", backup, "--database", db); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "backup", backup, "--database", db); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:9001\nlimits:\n  rate: 7\ntimers:\n  grace: 90s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SWITCHBOARD_LIMITS_RATE", "11")
	out, err := run(t, "", "check-config", "--config", cfg, "--timers-grace", "2m")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen               127.0.0.1:9001", "limits.rate          11", "timers.grace         2m", "configuration is valid"} {
		if !strings.Contains(out, want) {
			t.Fatalf("check-config lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "", "check-config", "--timers-ping", "1m", "--timers-pong-wait", "30s"); err == nil {
		t.Fatal("pong_wait below ping accepted")
	}
	if _, err := run(t, "", "check-config", "--config", filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("an explicit missing config file was accepted")
	}
}

// Without --config the relay reads relay.yaml (or relay.yml) from the
// working directory, and nothing else: not its own binary called relay.
func TestConfigFileSearch(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("relay", []byte("\x7fELF\x02\x01\x01\x00 not yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "check-config")
	if err != nil || !strings.Contains(out, "config file: none") {
		t.Fatalf("with only a binary called relay here: %v\n%s", err, out)
	}
	if err := os.WriteFile("relay.yml", []byte("listen: 127.0.0.1:9002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "check-config")
	if err != nil || !strings.Contains(out, "listen               127.0.0.1:9002") {
		t.Fatalf("relay.yml here: %v\n%s", err, out)
	}
}

func TestServeAnswersHealthAndStopsOnCancel(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := rootCmd()
	cmd.SetArgs([]string{"serve", "--database", db, "--listen", addr, "--log-format", "text"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var body string
	for i := 0; i < 100 && !strings.Contains(body, `"status":"ok"`); i++ {
		time.Sleep(50 * time.Millisecond)
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		}
	}
	if !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz never answered ok: %q", body)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "switchboard_connections 0") {
		t.Fatalf("metrics: %s", m)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

// An existing channel changes only in what is passed, and every admin
// command names the database it used.
func TestChannelSetUpdatesOnlyWhatIsPassed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "admin.db")
	out, err := run(t, "", "channel", "set", "sales", "--name", "Sales", "--hours", "mon-fri 09:00-17:00",
		"--timezone", "Europe/Stockholm", "--transfer-timeout", "90s", "--database", db)
	if err != nil || !strings.Contains(out, "channel sales created") || !strings.Contains(out, "database: "+db) {
		t.Fatalf("create: %v %q", err, out)
	}
	out, err = run(t, "", "channel", "set", "sales", "--warn-after", "30s", "--database", db)
	if err != nil || !strings.Contains(out, "channel sales updated") {
		t.Fatalf("update: %v %q", err, out)
	}
	out, err = run(t, "", "channel", "list", "--database", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Sales", "mon-fri 09:00-17:00", "Europe/Stockholm", "30s", "1m30s"} {
		if !strings.Contains(out, want) {
			t.Errorf("after --warn-after alone, %q is gone from the channel:\n%s", want, out)
		}
	}
	// A bad value in an update is refused and changes nothing.
	if _, err := run(t, "", "channel", "set", "sales", "--timezone", "Mars/Olympus", "--database", db); err == nil {
		t.Fatal("unknown time zone accepted")
	}
}
