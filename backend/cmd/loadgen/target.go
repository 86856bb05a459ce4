package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/chat"
	"switchboard/backend/store"
	"switchboard/backend/store/open"
)

// seed creates the load test's channel, agents (<prefix>a1..) with respond
// and supervisors (<prefix>s1..) with listen in a database, the way the
// relay's admin commands do (`channel set`, `agent add`, `grant`), through
// the same store code. Passwords are hashed at bcrypt's minimum cost so that
// a thousand logins do not dominate the setup; the relay checks any cost.
func seed(database string, cfg config) error {
	ctx := context.Background()
	db, err := open.Store(ctx, database, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	timeout := chat.DefaultTransferTimeout
	if cfg.TransferTimeout != 0 {
		timeout = cfg.TransferTimeout
	}
	if err := db.PutChannel(ctx, store.ChannelRow{Key: chat.ChannelID(cfg.Channel), Name: "Load test", TimeZone: "UTC",
		TransferTimeout: timeout}); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	add := func(login string, perm chat.Perm) error {
		if _, err := db.CreateAgent(ctx, login, login, hash); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("agent %s: %w", login, err)
		}
		return db.Grant(ctx, login, chat.ChannelID(cfg.Channel), perm)
	}
	for i := 1; i <= cfg.Agents; i++ {
		if err := add(fmt.Sprintf("%sa%d", cfg.Prefix, i), chat.PermRespond); err != nil {
			return err
		}
	}
	for i := 1; i <= cfg.Supervisors; i++ {
		if err := add(fmt.Sprintf("%ss%d", cfg.Prefix, i), chat.PermListen); err != nil {
			return err
		}
	}
	return nil
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// process is a server the load generator started: the relay binary, or the
// baseline hub (this binary with --serve-baseline).
type process struct {
	cmd  *exec.Cmd
	addr string
	log  string
	done chan struct{}
	err  error
}

// relayArgs are the relay's serve flags for a load run: limits high enough
// that the load, not the per-connection rate limit, sets the pace.
type relayArgs struct {
	Bin, DB, Addr, LogFile string
	Rate                   float64
	Burst, InFlight, Queue int
	Extra                  []string
	// Standby: a node of a cluster, which may come up as a standby.
	Standby bool
}

// benchLimits lift the limits per client address and per channel queue:
// every simulated visitor comes from 127.0.0.1, and a run starts hundreds
// of chats at once (docs/performance.md names them).
var benchLimits = []string{"--limits-conns-per-ip", "0", "--limits-starts-per-minute", "0", "--limits-waiting-per-channel", "0"}

func startRelay(a relayArgs) (*process, error) {
	args := []string{"serve", "--database", a.DB, "--listen", a.Addr, "--log-format", "text", "--log-level", "warn"}
	args = append(args, benchLimits...)
	if a.Rate > 0 {
		args = append(args, "--limits-rate", strconv.FormatFloat(a.Rate, 'f', -1, 64))
	}
	if a.Burst > 0 {
		args = append(args, "--limits-burst", strconv.Itoa(a.Burst))
	}
	if a.InFlight > 0 {
		args = append(args, "--limits-inflight", strconv.Itoa(a.InFlight))
	}
	if a.Queue > 0 {
		args = append(args, "--limits-send-queue", strconv.Itoa(a.Queue))
	}
	args = append(args, a.Extra...)
	// A cluster's standby answers /healthz with 503 until it leads.
	ready := func(status int) bool {
		return status == http.StatusOK || a.Standby && status == http.StatusServiceUnavailable
	}
	return startProcess(a.Bin, args, a.Addr, a.LogFile, ready)
}

// startProcess starts a server and waits until ready says its /healthz
// status is (nil: 200 OK).
func startProcess(bin string, args []string, addr, logFile string, ready func(status int) bool) (*process, error) {
	if ready == nil {
		ready = func(status int) bool { return status == http.StatusOK }
	}
	if abs, err := filepath.Abs(bin); err == nil && filepath.Base(bin) != bin {
		bin = abs
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(logFile)
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: a Ctrl+C aimed at the load generator reaches
	// it through us, in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &process{cmd: cmd, addr: addr, log: logFile, done: make(chan struct{})}
	children.Store(p, struct{}{})
	go func() { p.err = cmd.Wait(); out.Close(); children.Delete(p); close(p.done) }()
	if err := p.waitHealthy(15*time.Second, ready); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// children are the processes started and still running: an interrupted
// load generator takes them down with it.
var children sync.Map

func killChildren() {
	children.Range(func(k, _ any) bool {
		_ = k.(*process).cmd.Process.Signal(syscall.SIGKILL)
		return true
	})
}

func (p *process) waitHealthy(d time.Duration, ready func(status int) bool) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			log, _ := os.ReadFile(p.log)
			return fmt.Errorf("%s exited: %v\n%s", filepath.Base(p.cmd.Path), p.err, tail(log, 2000))
		default:
		}
		if resp, err := client.Get("http://" + p.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if ready(resp.StatusCode) {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer /healthz on %s within %s", filepath.Base(p.cmd.Path), p.addr, d)
}

// healthStatus is the HTTP status of the server's /healthz (0: no answer).
func (p *process) healthStatus() int {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + p.addr + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stop asks for a graceful shutdown (SIGTERM) and kills after d.
func (p *process) stop(d time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		return fmt.Errorf("did not stop within %s; killed", d)
	}
}

// kill is kill -9.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
