// Package pgtest gives tests a real PostgreSQL: one throw-away cluster per
// test process (initdb in a temporary directory, pg_ctl on a free port of
// 127.0.0.1), started on first use, and a fresh database per caller.
//
// A test package uses it as
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) { dsn := pgtest.Start(t); ... }
//
// Without the PostgreSQL server binaries the tests that ask for one are
// skipped, unless SWITCHBOARD_REQUIRE_POSTGRES=1 (CI), which fails them.
//
// Main stops the cluster and removes its directory when the tests end. The
// cluster of a test process killed before that (or of a package without
// Main) is stopped and removed by the next process that starts one.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv names the variable that turns a missing PostgreSQL into a failure.
const RequireEnv = "SWITCHBOARD_REQUIRE_POSTGRES"

// superuser is the role initdb creates; it logs in without a password
// (trust), over TCP on 127.0.0.1 and the socket in the cluster's directory.
const superuser = "postgres"

// cluster is the process's server, made on first use.
type cluster struct {
	bin     string // directory of initdb, pg_ctl, postgres
	dir     string // holds data/, the socket and server.log
	port    int
	runAs   string // "postgres" when the test runs as root, else ""
	running bool
}

var (
	mu      sync.Mutex
	shared  *cluster
	initErr error
	skip    string // why there is no PostgreSQL here, when there is none
	dbSeq   atomic.Int64
)

// Start returns the DSN (postgres://…) of a new, empty database on the
// process's cluster, starting the cluster if needed. The database is left
// for the cluster's removal at the end of the process.
func Start(t testing.TB) string {
	t.Helper()
	c := get(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return c.dsn(name)
}

// SuperuserDSN is the DSN of the cluster's "postgres" database as its
// superuser, for tests that look at or change the server itself.
func SuperuserDSN(t testing.TB) string {
	t.Helper()
	return get(t).dsn("postgres")
}

// Stop cuts the server off as a crash would (pg_ctl stop -m immediate): every
// connection breaks, and what was committed is recovered on Resume.
func Stop(t testing.TB) {
	t.Helper()
	c := get(t)
	mu.Lock()
	defer mu.Unlock()
	if !c.running {
		return
	}
	if out, err := c.run("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w"); err != nil {
		t.Fatalf("pgtest: stop: %v\n%s", err, out)
	}
	c.running = false
}

// Resume starts the server again after Stop, on the same port and data.
func Resume(t testing.TB) {
	t.Helper()
	c := get(t)
	mu.Lock()
	defer mu.Unlock()
	if c.running {
		return
	}
	if err := c.start(); err != nil {
		t.Fatalf("pgtest: resume: %v", err)
	}
}

// Restart is Stop, then Resume.
func Restart(t testing.TB) {
	t.Helper()
	Stop(t)
	Resume(t)
}

// Main runs the package's tests, then stops the cluster (if one was
// started) and removes its directory. Use it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// get returns the running cluster, skipping or failing t when there is none.
func get(t testing.TB) *cluster {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && initErr == nil && skip == "" {
		shared, initErr, skip = newCluster()
	}
	switch {
	case skip != "" && os.Getenv(RequireEnv) == "1":
		t.Fatalf("pgtest: %s (%s=1 requires it)", skip, RequireEnv)
	case skip != "":
		t.Skipf("pgtest: %s; install the postgresql package, or set %s=1 to make this a failure", skip, RequireEnv)
	case initErr != nil:
		t.Fatalf("pgtest: %v", initErr)
	}
	return shared
}

// newCluster makes and starts a cluster; skip says why it cannot be made
// here at all (no binaries), err why making it failed.
func newCluster() (c *cluster, err error, skip string) {
	bin := binDir()
	if bin == "" {
		return nil, nil, "PostgreSQL server binaries (initdb, pg_ctl) not found"
	}
	c = &cluster{bin: bin}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if _, err := user.Lookup(superuser); err != nil {
			return nil, nil, "running as root and there is no postgres user to run the server as"
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, nil, "running as root and runuser is missing"
		}
		c.runAs = superuser
	}
	c.reapOrphans()
	if c.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err, ""
	}
	// Whose cluster it is, for reapOrphans of a later run.
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(c.dir)
		return nil, err, ""
	}
	if c.runAs != "" {
		u, _ := user.Lookup(c.runAs)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			os.RemoveAll(c.dir)
			return nil, err, ""
		}
	}
	// fsync stays on: durability is part of what the tests check.
	if out, err := c.run("initdb", "-D", c.data(), "-U", superuser, "--auth=trust", "--encoding=UTF8",
		"--no-locale", "--no-instructions"); err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out), ""
	}
	if err := c.start(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err, ""
	}
	return c, nil, ""
}

// binDir finds the server binaries: pg_config's bindir, else the newest
// Debian /usr/lib/postgresql/N/bin, else initdb on PATH.
func binDir() string {
	has := func(dir string) bool {
		_, e1 := os.Stat(filepath.Join(dir, "initdb"))
		_, e2 := os.Stat(filepath.Join(dir, "pg_ctl"))
		return e1 == nil && e2 == nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestV := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && v > bestV && has(d) {
			best, bestV = d, v
		}
	}
	if best != "" {
		return best
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	return ""
}

// BinDir is the directory of the PostgreSQL binaries the cluster runs, for
// tests that want pg_dump or pg_restore of the same version ("" if none).
func BinDir() string { return binDir() }

// ownerFile holds the pid of the test process a cluster belongs to.
const ownerFile = "owner.pid"

// reapOrphans stops and removes the clusters of test processes that died
// without Main's clean-up (killed, or a go test timeout), so that they do
// not pile up on a shared machine. Clusters of live processes are left.
func (c *cluster) reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being made right now
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		orphan := &cluster{bin: c.bin, dir: dir, runAs: c.runAs}
		orphan.run("pg_ctl", "stop", "-D", orphan.data(), "-m", "immediate", "-w")
		os.RemoveAll(dir)
	}
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }
func (c *cluster) log() string  { return filepath.Join(c.dir, "server.log") }

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, db)
}

// start runs pg_ctl start on a free port (chosen again if taken meanwhile).
func (c *cluster) start() error {
	var last error
	for range 5 {
		if c.port == 0 || last != nil {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
		}
		// Many parallel tests each hold a small pool.
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "+
			"-c max_connections=300 -c shared_buffers=32MB -c fsync=on -c synchronous_commit=on", c.port, c.dir)
		out, err := c.run("pg_ctl", "start", "-D", c.data(), "-l", c.log(), "-w", "-t", "60", "-o", opts)
		if err == nil {
			c.running = true
			return nil
		}
		logText, _ := os.ReadFile(c.log())
		last = fmt.Errorf("pg_ctl start: %v\n%s\nserver log:\n%s", err, out, logText)
		if !bytes.Contains(logText, []byte("already in use")) {
			return last
		}
	}
	return last
}

// run runs one of the cluster's binaries, as the postgres user when root.
func (c *cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	// pg_ctl start leaves the server running with our stdout: give it none,
	// or the go tool waits for the pipe to close.
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if name == "pg_ctl" && len(args) > 0 && args[0] == "start" {
		cmd.Stdout, cmd.Stderr = nil, nil
	}
	err := cmd.Run()
	return out.Bytes(), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	a, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("no TCP port")
	}
	return a.Port, nil
}
