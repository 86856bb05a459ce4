package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// These tests put the relay's database on a real, small filesystem and take
// its space (or its writability) away while a visitor and an agent chat.
// Mounting needs root, which CI has; elsewhere they skip and say why.

// smallTmpfs mounts a tmpfs of kib KiB on a new temporary directory, for the
// test's length.
func smallTmpfs(t *testing.T, kib int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small filesystem for the database needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dk,mode=0700", kib), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file until the filesystem has no byte left, and returns
// its path: removing it gives the space back.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fillMore(t, path)
	return path
}

// fillMore appends to the filler until the filesystem is full again.
func fillMore(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for size := len(buf); size >= 512; {
		if _, err := f.Write(buf[:size]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			size /= 2
		}
	}
}

// health fetches /healthz.
func health(t *testing.T, h *relaytest.Harness) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(h.HTTP.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("/healthz %d: not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

func metricsText(t *testing.T, h *relaytest.Harness) string {
	t.Helper()
	resp, err := http.Get(h.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// chatLedger sends messages from both sides of one chat and remembers what
// was acknowledged, to check the store against it.
type chatLedger struct {
	t       *testing.T
	session string
	token   string               // the visitor's
	sides   [2]*relaytest.Client // visitor, agent
	n       int
	acked   []ackedMsg
}

type ackedMsg struct {
	clientID string
	seq      uint64
}

// highest is the highest seq acknowledged so far.
func (l *chatLedger) highest() uint64 {
	var top uint64
	for _, a := range l.acked {
		top = max(top, a.seq)
	}
	return top
}

// send sends one message with a fresh client id from alternating sides;
// it returns the reply.
func (l *chatLedger) send() (string, protocol.ServerFrame) {
	l.n++
	id := fmt.Sprintf("m%d", l.n)
	return id, l.sendAs(l.sides[l.n%2], id)
}

func (l *chatLedger) sendAs(c *relaytest.Client, clientID string) protocol.ServerFrame {
	r := c.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: l.session, ClientID: clientID, Text: "text of " + clientID})
	if r.OK {
		var ack protocol.MessageAck
		if err := json.Unmarshal(r.Data, &ack); err != nil || ack.Seq == 0 {
			l.t.Fatalf("ack of %s: %s", clientID, r.Data)
		}
		if !ack.Duplicate {
			l.acked = append(l.acked, ackedMsg{clientID, ack.Seq})
		}
	}
	return r
}

// check reads the session's log from the store: every acknowledged message
// is there exactly once, under the seq it was acknowledged with, and the log
// has no gap.
func (l *chatLedger) check(st store.Store) {
	l.t.Helper()
	entries, err := st.Entries(context.Background(), chat.SessionID(l.session), 0, 0)
	if err != nil {
		l.t.Fatal(err)
	}
	count := map[string]int{}
	bySeq := map[uint64]string{}
	for i, e := range entries {
		if e.Seq != uint64(i+1) {
			l.t.Fatalf("store log has a gap or duplicate seq at %d: seq %d", i, e.Seq)
		}
		if e.ClientID != "" {
			count[e.ClientID]++
			bySeq[e.Seq] = e.ClientID
		}
	}
	for _, m := range l.acked {
		if count[m.clientID] != 1 {
			l.t.Errorf("acknowledged message %s is stored %d times", m.clientID, count[m.clientID])
		}
		if bySeq[m.seq] != m.clientID {
			l.t.Errorf("acknowledged message %s (seq %d): the store has %q at that seq", m.clientID, m.seq, bySeq[m.seq])
		}
	}
}

// startFaultChat starts a relay whose database is dbPath, a visitor's chat
// and the agent answering it.
func startFaultChat(t *testing.T, dbPath string) (*relaytest.Harness, *chatLedger) {
	relaytest.SQLiteOnly(t)
	h := relaytest.Start(t, relaytest.Options{DBPath: dbPath, Config: func(c *relay.Config) {
		// A probe may pass while commits still fail (a small write can reuse
		// space in the WAL file): no probe runs while the test checks that
		// writes are refused, within a second of the first failure.
		c.StoreRetry, c.StoreRetryMax = time.Second, time.Second
	}})
	anna, _ := h.Agent("anna", nil)
	vera, started := h.Visitor("Vera", "My order is late")
	anna.OK(protocol.CmdQueueNext, nil, nil)
	return h, &chatLedger{t: t, session: started.Session, token: started.Token, sides: [2]*relaytest.Client{vera, anna}}
}

// burst sends n messages from each side without waiting, then collects the
// replies: acknowledged ones go to the ledger, refusals must be
// "unavailable" naming why. It returns the refused client ids.
func (l *chatLedger) burst(n int, why string) []string {
	l.t.Helper()
	type sent struct {
		c        *relaytest.Client
		cmdID    string
		clientID string
	}
	var all []sent
	for range n {
		for _, c := range l.sides {
			l.n++
			s := sent{c, fmt.Sprintf("b%d", l.n), fmt.Sprintf("m%d", l.n)}
			data, _ := json.Marshal(protocol.MessageSend{Session: l.session, ClientID: s.clientID, Text: "text of " + s.clientID})
			frame, _ := json.Marshal(protocol.Command{ID: s.cmdID, Cmd: protocol.CmdMessageSend, Data: data})
			if err := c.Send(string(frame)); err != nil {
				l.t.Fatal(err)
			}
			all = append(all, s)
		}
	}
	var refused []string
	last := map[*relaytest.Client]uint64{}
	for _, s := range all {
		r := s.c.Reply(s.cmdID)
		if !r.OK {
			if r.Error == nil || r.Error.Code != protocol.CodeUnavailable || !strings.Contains(r.Error.Message, why) {
				l.t.Fatalf("send %s refused with %+v, want %s naming %q", s.clientID, r.Error, protocol.CodeUnavailable, why)
			}
			refused = append(refused, s.clientID)
			continue
		}
		var ack protocol.MessageAck
		if err := json.Unmarshal(r.Data, &ack); err != nil || ack.Seq == 0 {
			l.t.Fatalf("ack of %s: %s", s.clientID, r.Data)
		}
		// One connection's commands are decided in the order it sent them,
		// so its acks rise; the two sides' interleave as their read pumps go.
		if ack.Seq <= last[s.c] {
			l.t.Fatalf("ack of %s: seq %d after %d on the same connection", s.clientID, ack.Seq, last[s.c])
		}
		last[s.c] = ack.Seq
		l.acked = append(l.acked, ackedMsg{s.clientID, ack.Seq})
	}
	return refused
}

// writeUntilRefused sends bursts from both sides until writes are refused,
// which must be with "unavailable" naming why; it returns a refused client id.
func (l *chatLedger) writeUntilRefused(why string) string {
	l.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if refused := l.burst(16, why); len(refused) > 0 {
			return refused[0]
		}
	}
	l.t.Fatalf("writes never failed (%d acknowledged)", len(l.acked))
	return ""
}

// checkDegraded: while writes fail, connections stay, reads and pings work,
// writes are refused at once, and /healthz and /metrics say so.
func checkDegraded(t *testing.T, h *relaytest.Harness, l *chatLedger, why string) {
	t.Helper()
	for _, c := range l.sides {
		c.OK(protocol.CmdPing, nil, nil)
		r := c.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: l.session, ClientID: "while-degraded", Text: "x"})
		if r.OK || r.Error.Code != protocol.CodeUnavailable {
			t.Fatalf("send while degraded: %+v", r)
		}
	}
	var log relay.SessionLogReply
	l.sides[1].OK(protocol.CmdSessionLog, protocol.SessionLog{Session: l.session}, &log)
	if len(log.Entries) < len(l.acked) {
		t.Fatalf("session.log while degraded: %d entries, %d acknowledged", len(log.Entries), len(l.acked))
	}
	code, body := health(t, h)
	if code != http.StatusServiceUnavailable || body["status"] != "unavailable" || !strings.Contains(fmt.Sprint(body["reason"]), why) {
		t.Fatalf("/healthz while degraded: %d %v", code, body)
	}
	if m := metricsText(t, h); !strings.Contains(m, "\nswitchboard_store_degraded 1\n") {
		t.Fatalf("/metrics while degraded:\n%s", m)
	}
}

// waitRecovered resends the refused message until it is taken, then checks
// /healthz is ok again.
func waitRecovered(t *testing.T, h *relaytest.Harness, l *chatLedger, refused string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		r := l.sendAs(l.sides[0], refused)
		if r.OK {
			break
		}
		if r.Error.Code != protocol.CodeUnavailable {
			t.Fatalf("resend of %s: %+v", refused, r.Error)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("writes still refused %v after the fault was removed: %v", time.Since(start), r.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	if code, body := health(t, h); code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("/healthz after recovery: %d %v", code, body)
	}
	return took
}

func TestStoreFullDiskRefusesWritesKeepsClientsAndRecovers(t *testing.T) {
	dir := smallTmpfs(t, 2048)
	h, l := startFaultChat(t, filepath.Join(dir, "relay.db"))
	for range 10 {
		if _, r := l.send(); !r.OK {
			t.Fatalf("send before the disk filled: %+v", r.Error)
		}
	}
	filler := fillDisk(t, dir)
	refused := l.writeUntilRefused("disk full")
	checkDegraded(t, h, l, "disk full")
	// A write outside the committer (a token) is refused the same way, at
	// once, even when there would be room for it (some space freed, and
	// taken again before the probe can see it).
	st, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, max(0, st.Size()-256<<10)); err != nil {
		t.Fatal(err)
	}
	anna := l.sides[1]
	r := anna.Do(protocol.CmdTokenHandover, nil)
	fillMore(t, filler)
	if r.OK || r.Error.Code != protocol.CodeUnavailable || !strings.Contains(r.Error.Message, "disk full") {
		t.Fatalf("token.handover while degraded: %+v", r)
	}
	// Still refused half a second on: not one command at a time.
	time.Sleep(500 * time.Millisecond)
	checkDegraded(t, h, l, "disk full")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	took := waitRecovered(t, h, l, refused)
	t.Logf("%d messages acknowledged before the disk was full; writes back %v after space returned", len(l.acked)-1, took.Round(time.Millisecond))
	for range 10 {
		if _, r := l.send(); !r.OK {
			t.Fatalf("send after recovery: %+v", r.Error)
		}
	}
	// Both sides hold the whole log live, without gap or duplicate.
	last := l.highest()
	for _, c := range l.sides {
		checkSeqs(t, c.WaitEntries(l.session, last), true)
	}
	l.check(h.Store)
	m := metricsText(t, h)
	if !strings.Contains(m, "\nswitchboard_store_degraded 0\n") || strings.Contains(m, "\nswitchboard_store_write_failures_total 0\n") {
		t.Fatalf("/metrics after recovery:\n%s", m)
	}
}

// smallExt4 makes an ext4 image of mib MiB, loop-mounts it on a new
// temporary directory (errors=remount-ro, as Debian mounts its disks) and
// returns the directory and the loop device's name.
func smallExt4(t *testing.T, mib int, opts string) (dir, image string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: loop-mounting a filesystem for the database needs root (CI runs as root)")
	}
	image = filepath.Join(t.TempDir(), "fs.ext4")
	if err := os.WriteFile(image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(image, int64(mib)<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", image).CombinedOutput(); err != nil {
		t.Skipf("skipped: mkfs.ext4: %v: %s", err, out)
	}
	dir = t.TempDir()
	mountImage(t, image, dir, opts)
	return dir, image
}

// mountImage loop-mounts image on dir until the test ends (or unmount).
func mountImage(t *testing.T, image, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "loop,"+opts, image, dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot loop-mount an ext4 image: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

func unmount(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v: %s", dir, err, out)
	}
}

// loopDevice names the block device mounted on dir ("loop3").
func loopDevice(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("findmnt", "-n", "-o", "SOURCE", dir).Output()
	if err != nil {
		t.Fatalf("findmnt %s: %v", dir, err)
	}
	return filepath.Base(strings.TrimSpace(string(out)))
}

func TestStoreReadOnlyFilesystemRefusesWritesKeepsClients(t *testing.T) {
	dir, image := smallExt4(t, 16, "errors=remount-ro")
	dbPath := filepath.Join(dir, "relay.db")
	h, l := startFaultChat(t, dbPath)
	for range 10 {
		if _, r := l.send(); !r.OK {
			t.Fatalf("send before the filesystem went read-only: %+v", r.Error)
		}
	}
	// An ext4 error makes the kernel remount the filesystem read-only under
	// the open database, as a failing disk does.
	trigger := filepath.Join("/sys/fs/ext4", loopDevice(t, dir), "trigger_fs_error")
	if err := os.WriteFile(trigger, []byte("1"), 0); err != nil {
		t.Skipf("skipped: cannot trigger an ext4 error (%v)", err)
	}
	const why = "read-only"
	l.writeUntilRefused(why)
	checkDegraded(t, h, l, why)
	time.Sleep(300 * time.Millisecond)
	checkDegraded(t, h, l, why)
	t.Logf("%d messages acknowledged before the filesystem went read-only", len(l.acked))
	h.Stop()
	unmount(t, dir)

	// Restarted while the filesystem is still read-only, the relay comes up
	// degraded and says so, rather than "ok" until its first write.
	mountImage(t, image, dir, "errors=remount-ro")
	remount(t, dir, "ro")
	var vera *relaytest.Client
	if st, err := store.OpenSQLite(dbPath); err != nil {
		// Without the -wal and -shm files of the last run (a kernel that let
		// the relay remove them), SQLite cannot open the database on a
		// read-only filesystem at all: the error must say why.
		t.Logf("opening the database on a read-only filesystem: %v", err)
		if !strings.Contains(err.Error(), why) {
			t.Fatal("the error does not say the filesystem is read-only")
		}
		remount(t, dir, "rw")
		h.Restart()
		vera, _ = h.ResumeVisitor(l.token, l.session, 0)
	} else {
		st.Close()
		h.Restart()
		code, body := health(t, h)
		if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body["reason"]), why) {
			t.Fatalf("/healthz of a relay started on a read-only filesystem: %d %v", code, body)
		}
		vera, _ = h.ResumeVisitor(l.token, l.session, 0)
		r := vera.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: l.session, ClientID: "ro", Text: "x"})
		if r.OK || r.Error.Code != protocol.CodeUnavailable || !strings.Contains(r.Error.Message, why) {
			t.Fatalf("send on a relay started read-only: %+v", r)
		}
		r = relaytest.Dial(t, h.URL(), "").Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: relaytest.Password})
		if r.OK || r.Error.Code != protocol.CodeUnavailable {
			t.Fatalf("agent sign-in on a relay that cannot write: %+v", r)
		}
		// Writable again: the relay takes writes by itself.
		remount(t, dir, "rw")
	}

	// Everything acknowledged is there, once, and the chat goes on.
	anna := waitAgent(t, h, "anna")
	l.sides = [2]*relaytest.Client{vera, anna}
	waitRecovered(t, h, l, "after-remount")
	for range 5 {
		if _, r := l.send(); !r.OK {
			t.Fatalf("send after recovery: %+v", r.Error)
		}
	}
	last := l.highest()
	for _, c := range l.sides {
		checkSeqs(t, c.WaitEntries(l.session, last), true)
	}
	l.check(h.Store)
}

// waitAgent signs an agent in once the relay takes writes again.
func waitAgent(t *testing.T, h *relaytest.Harness, login string) *relaytest.Client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := relaytest.Dial(t, h.URL(), "")
		r := c.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: login, Password: relaytest.Password})
		if r.OK {
			return c
		}
		c.Close()
		if r.Error.Code != protocol.CodeUnavailable || time.Now().After(deadline) {
			t.Fatalf("agent sign-in after the filesystem came back: %+v", r.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, opts, err, out)
	}
}

// The database holds every chat and token hash: its files, and backups,
// are the relay user's alone, whatever the umask.
func TestStoreFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0)) // the most permissive umask
	dir := t.TempDir()
	h, l := startFaultChat(t, filepath.Join(dir, "relay.db"))
	if _, r := l.send(); !r.OK {
		t.Fatalf("send: %+v", r.Error)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := h.Store.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"relay.db", "relay.db-wal", "relay.db-shm", "backup.db"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", name, mode)
		}
	}
}

// A relay restarted on a disk that is still full must not come up "ok"
// until its first write: it cannot even open the database (SQLite needs
// room for its shared-memory file), and says why.
func TestStoreRestartOnFullDiskSaysWhy(t *testing.T) {
	dir := smallTmpfs(t, 2048)
	dbPath := filepath.Join(dir, "relay.db")
	h, l := startFaultChat(t, dbPath)
	for range 5 {
		if _, r := l.send(); !r.OK {
			t.Fatalf("send: %+v", r.Error)
		}
	}
	h.Stop()
	filler := fillDisk(t, dir)
	st, err := store.OpenSQLite(dbPath)
	if err == nil {
		// Opened after all: then the relay must come up degraded. Opening
		// may have freed a little (a checkpoint of the old log): fill again.
		fillMore(t, filler)
		srv, err := relay.New(relay.DefaultConfig(), st, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		_ = srv.Shutdown(context.Background())
		st.Close()
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "disk full") {
			t.Fatalf("/healthz of a relay started on a full disk: %d %s", rec.Code, rec.Body)
		}
	} else {
		t.Logf("opening the database on a full disk: %v", err)
		if !strings.Contains(err.Error(), "disk full") {
			t.Fatal("the error does not say the disk is full")
		}
	}
	// With space again it starts, and everything acknowledged is there.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	if code, body := health(t, h); code != http.StatusOK {
		t.Fatalf("/healthz after the space came back: %d %v", code, body)
	}
	l.check(h.Store)
}
