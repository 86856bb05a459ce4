package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// The cluster's deployment files in build/cluster are the ones the tests
// run: HAProxy and nginx in front of three relay nodes, a three-server
// NATS configuration.

// requireProxies: CI installs HAProxy and nginx, so there a missing one
// fails the test rather than skipping it.
func requireProxies() bool { return os.Getenv("SWITCHBOARD_REQUIRE_PROXIES") == "1" }

func lookTool(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{name, "/usr/sbin/" + name} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if requireProxies() {
		t.Fatalf("%s is not installed (make deps installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

func clusterFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleDir(t), "build", "cluster", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func moduleDir(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for dir != filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("go.mod not found")
	return ""
}

// balancerConfig is a shipped configuration with the example node
// addresses (10.0.0.11-13:8080) replaced by the test's nodes, and the
// listening port by listen's.
func balancerConfig(t *testing.T, name string, c *cluster, listen string) string {
	t.Helper()
	conf := clusterFile(t, name)
	for i, nd := range c.nodes {
		conf = strings.ReplaceAll(conf, fmt.Sprintf("10.0.0.1%d:8080", i+1), nd.args.Addr)
	}
	conf = regexp.MustCompile(`bind 0\.0\.0\.0:8080`).ReplaceAllString(conf, "bind "+listen)
	conf = regexp.MustCompile(`listen 8080;`).ReplaceAllString(conf, "listen "+listen+";")
	if strings.Contains(conf, "10.0.0.1") {
		t.Fatalf("%s: an example node address is left", name)
	}
	return conf
}

// startBalancer runs HAProxy or nginx with the shipped configuration in
// front of the cluster and returns its websocket URL.
func startBalancer(t *testing.T, kind string, c *cluster) string {
	t.Helper()
	dir := t.TempDir()
	listen, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch kind {
	case "haproxy":
		conf := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(conf, []byte(balancerConfig(t, "haproxy.cfg", c, listen)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(lookTool(t, "haproxy"), "-db", "-f", conf)
	case "nginx":
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(balancerConfig(t, "nginx.conf", c, listen)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(lookTool(t, "nginx"), "-p", dir, "-c", conf,
			"-g", "daemon off; pid "+filepath.Join(dir, "nginx.pid")+"; error_log stderr;")
	}
	logFile, err := os.Create(filepath.Join(dir, kind+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", kind, readTail(logFile.Name(), 3000))
		}
	})
	if !waitFor(10*time.Second, func() bool {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + listen + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("%s does not pass /healthz through", kind)
	}
	return "ws://" + listen + "/ws"
}

// TestClusterBehindBalancers runs the cluster behind HAProxy and behind
// nginx, each with its shipped configuration: the clients know one address;
// the leader is killed under load; every client is back within 5 s through
// the balancer, and nothing acknowledged is lost or doubled.
func TestClusterBehindBalancers(t *testing.T) {
	for _, kind := range []string{"haproxy", "nginx"} {
		t.Run(kind, func(t *testing.T) {
			lookTool(t, kind)
			cfg := defaultConfig()
			cfg.Visitors, cfg.Agents, cfg.Supervisors = scale(24, 200), scale(4, 20), scale(2, 6)
			cfg.Rate = 0
			c := newCluster(t, cfg, 3, true)
			if c.leader(15*time.Second) == nil || !c.waitAllOK(10*time.Second) {
				t.Fatal("the cluster did not come up")
			}
			r := startRun(t, kind, startBalancer(t, kind, c), cfg)
			defer r.stop()
			r.startSenders()
			time.Sleep(scale(time.Second, 10*time.Second))
			old := c.leader(5 * time.Second)
			at := time.Now()
			old.proc.kill()
			old.proc = nil
			if c.leaderOtherThan(old, 10*time.Second) == nil {
				t.Fatal("no node took over")
			}
			slowest, ok := backAfter(r, at, 15*time.Second)
			t.Logf("every client back through %s; the slowest %s after the kill", kind, slowest.Round(time.Millisecond))
			if !ok || slowest > budget(5*time.Second) {
				t.Errorf("clients took %s to come back (budget %s; all back: %v)", slowest, budget(5*time.Second), ok)
			}
			time.Sleep(scale(time.Second, 5*time.Second))
			r.finish(15 * time.Second)
			if res := verify(t, r); res.Unacked > 0 {
				t.Errorf("%d messages were never acknowledged", res.Unacked)
			}
			verifyStore(t, r, c.dsn)
		})
	}
}

// The shipped NATS configuration is one nats-server accepts.
func TestNATSClusterConfigParses(t *testing.T) {
	opts, err := natsserver.ProcessConfigFile(filepath.Join(moduleDir(t), "build", "cluster", "nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Cluster.Name != "switchboard" || len(opts.Routes) != 3 || opts.ServerName == "" {
		t.Fatalf("cluster %q, %d routes, server name %q", opts.Cluster.Name, len(opts.Routes), opts.ServerName)
	}
}
