package app

import (
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/app/config"
	"switchboard/app/notify"
	"switchboard/app/secret"
	"switchboard/app/tray"
	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

func TestLoginEmitsConnectedWithWelcome(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	w := d.login(h.URL(), "anna", false)
	if w.Agent.Login != "anna" || w.Token != "" || len(w.Channels) != 1 || d.c.current().Token() == "" {
		t.Fatalf("welcome: %+v", w)
	}
	_, i := d.waitState("connecting", 0)
	st, _ := d.waitState("connected", i)
	if st.Welcome == nil || st.Welcome.Agent.Name != "Anna" || st.Welcome.Token != "" || st.Error != "" || st.NextAttempt != nil {
		t.Fatalf("connected state: %+v", st)
	}
	// The payload is what the UI gets: check its JSON names once.
	b, _ := json.Marshal(st)
	for _, k := range []string{`"state":"connected"`, `"attempt":0`, `"nextAttempt":null`, `"error":""`, `"welcome":{`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("relay:state JSON %s lacks %s", b, k)
		}
	}
	cfg := d.c.config().Data.(ConfigData)
	if cfg.Server != h.URL() || cfg.Login != "anna" || cfg.Remember || cfg.HasToken || cfg.Window != "main" || cfg.ServerLocked {
		t.Fatalf("config after login: %+v", cfg)
	}
	if _, err := os.Stat(filepath.Join(d.userDir, secret.FileName)); !os.IsNotExist(err) {
		t.Fatalf("a token was kept without remember: %v", err)
	}
	// Commands work and return the relay's data as-is.
	raw := d.ok("status away", d.c.setStatus("away"))
	var a protocol.AgentInfo
	if json.Unmarshal(raw, &a) != nil || a.Status != "away" {
		t.Fatalf("status.set data %s", raw)
	}
	if got := d.c.trayState(); got.Status != "away" || got.Conn != "connected" {
		t.Fatalf("tray state %+v", got)
	}
	d.refused("bad status", d.c.setStatus("busy"), protocol.CodeBadRequest)
	d.refused("queue empty", d.c.next(), protocol.CodeQueueEmpty)
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	d.refused("no login", d.c.login(LoginRequest{Server: h.URL(), Password: "x"}), protocol.CodeBadRequest)
	d.refused("no password", d.c.login(LoginRequest{Server: h.URL(), Login: "anna"}), protocol.CodeBadRequest)
	d.refused("no server", d.c.login(LoginRequest{Login: "anna", Password: "x"}), protocol.CodeBadRequest)
	if n := len(d.rec.Events()); n != 0 {
		t.Fatalf("invalid forms emitted %d events", n)
	}

	d.refused("wrong password", d.c.login(LoginRequest{Server: h.URL(), Login: "anna", Password: "nope"}), protocol.CodeBadCredentials)
	d.waitState("auth_failed", 0)
	if d.c.current() != nil {
		t.Fatal("a refused client is kept")
	}

	// A server nobody listens on: refused at once, not retried for ever.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String() + "/ws"
	_ = ln.Close()
	d.refused("unreachable", d.c.login(LoginRequest{Server: dead, Login: "anna", Password: relaytest.Password}), protocol.CodeUnavailable)
	d.refused("send offline", d.c.send("s-1", "hi"), CodeOffline)
	d.refused("command offline", d.c.pick("s-1"), CodeOffline)
}

func TestLockedServer(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	machine := filepath.Join(t.TempDir(), "machine")
	if err := os.MkdirAll(machine, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "server: " + h.URL() + "\nlocked: [server, muted]\n"
	if err := os.WriteFile(filepath.Join(machine, config.MachineFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newTestDesk(t, deskOpts{machineDir: machine})
	cfg := d.c.config().Data.(ConfigData)
	if !cfg.ServerLocked || cfg.Server != h.URL() {
		t.Fatalf("config: %+v", cfg)
	}
	d.refused("other server", d.c.login(LoginRequest{Server: "wss://evil.example", Login: "anna", Password: relaytest.Password}), CodeLocked)
	// The same address, or none, is fine.
	d.login("", "anna", false)
	d.login(h.URL(), "anna", false)
	d.refused("mute", d.c.setMuted(true), CodeLocked)
	d.ok("language", d.c.setLanguage("sv"))
	if got := labels(tray.Build(d.c.trayState())); got[0] != "Öppna Switchboard" {
		t.Fatalf("the tray did not follow the language: %q", got)
	}
	d.refused("language", d.c.setLanguage("de"), protocol.CodeBadRequest)
	if cfg := d.c.config().Data.(ConfigData); cfg.Language != "sv" || cfg.Muted {
		t.Fatalf("config: %+v", cfg)
	}
	b, _ := os.ReadFile(filepath.Join(d.userDir, config.UserFile))
	if strings.Contains(string(b), "server") {
		t.Fatalf("a locked server was written to the user file:\n%s", b)
	}
}

// A dropped link: the client reconnects and resumes, and a message typed
// meanwhile (or in flight when the link died) is stored exactly once.
func TestResumeAfterDropDeliversOutboxOnce(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	px := newProxy(t, h.HTTP.Listener.Addr().String())
	d := newTestDesk(t, deskOpts{})
	d.login(px.url(), "anna", false)
	visitor, st := h.Visitor("Vera", "Where is my parcel?")
	sid := st.Session
	d.ok("next", d.c.next())

	first := clientID(t, d.c.send(sid, "Hello Vera"))
	d.waitOutbox(first, "acked")

	_, from := d.waitState("connected", 0)
	// In flight when the link dies, and typed while it is down.
	inFlight := clientID(t, d.c.send(sid, "Let me check"))
	px.drop()
	typed := clientID(t, d.c.send(sid, "Found it"))
	_, i := d.waitState("reconnecting", from)
	d.waitState("connected", i)
	for _, id := range []string{inFlight, typed} {
		o := d.waitOutbox(id, "acked")
		if o.Seq == 0 || o.Session != sid {
			t.Fatalf("ack %+v", o)
		}
	}

	entries, err := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		if e.ClientID != "" {
			count[e.ClientID]++
		}
	}
	for _, id := range []string{first, inFlight, typed} {
		if count[id] != 1 {
			t.Fatalf("message %s stored %d times; entries %+v", id, count[id], entries)
		}
	}
	// The visitor reads them in the order typed.
	got := visitor.WaitEntries(sid, entries[len(entries)-1].Seq)
	var texts []string
	for _, e := range got {
		if e.From.Kind == protocol.AuthorAgent && e.Kind == protocol.EntryMessage {
			texts = append(texts, e.Text)
		}
	}
	if strings.Join(texts, "|") != "Hello Vera|Let me check|Found it" {
		t.Fatalf("visitor saw %q", texts)
	}
	// Entries reached the UI once each, in order, across the reconnect.
	var seqs []uint64
	for _, e := range d.rec.Events() {
		if p, ok := e.Data[0].(EventPayload); ok && e.Name == EventRelay && p.Ev == protocol.EvEntry && p.Session == sid {
			if len(seqs) > 0 && p.Seq <= seqs[len(seqs)-1] {
				t.Fatalf("entry seq %d after %v", p.Seq, seqs)
			}
			seqs = append(seqs, p.Seq)
		}
	}
}

// Anna transfers a chat to Bertil; Bertil hears it (event, tray, note),
// accepts from the notification, and Anna is left listening.
func TestTransferBetweenTwoCores(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	bertil.login(h.URL(), "bertil", false)
	_, st := h.Visitor("Vera", "Where is my parcel?")
	sid := st.Session
	anna.ok("pick", anna.c.pick(sid))

	var targets []protocol.AgentInfo
	if err := json.Unmarshal(anna.ok("targets", anna.c.targets(sid)), &targets); err != nil || len(targets) == 0 || targets[0].Login != "bertil" {
		t.Fatalf("targets %+v %v", targets, err)
	}
	raw := anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: sid, To: h.ID("bertil"), Comment: "Knows the courier"}))
	var ti protocol.TransferInfo
	if json.Unmarshal(raw, &ti) != nil || ti.State != protocol.TransferPending {
		t.Fatalf("transfer data %s", raw)
	}

	offer, _ := waitRelay(bertil, protocol.EvTransfer, 0, func(x protocol.TransferInfo) bool { return x.ID == ti.ID })
	if offer.From.Name != "Anna" || offer.Comment != "Knows the courier" {
		t.Fatalf("offer %+v", offer)
	}
	// The receiver reads along but cannot write yet.
	waitRelay(bertil, protocol.EvSession, 0, func(s protocol.SessionInfo) bool { return s.ID == sid && s.Role == protocol.ViewOffered })
	bertil.refused("send while offered", bertil.c.send(sid, "hi"), protocol.CodeListenOnly)

	menu := tray.Build(bertil.c.trayState())
	if menu.Icon != tray.IconTransfer || !strings.Contains(strings.Join(labels(menu), "|"), "Transfer from Anna: Vera (Knows the courier)") {
		t.Fatalf("tray %+v", menu)
	}
	// Bertil is Present with notify: he also heard of Vera waiting.
	var note, waiting notify.Note
	wait(t, "transfer note", func() bool {
		bertil.mu.Lock()
		defer bertil.mu.Unlock()
		for _, n := range bertil.notes {
			switch n.Kind {
			case notify.KindTransfer:
				note = n
			case notify.KindWaiting:
				waiting = n
			}
		}
		return note.Transfer != 0
	})
	if waiting.Session != sid || !strings.Contains(waiting.Body, "Vera") {
		t.Fatalf("waiting note %+v", waiting)
	}
	if note.Transfer != ti.ID || !strings.Contains(note.Title, "Anna") || !strings.Contains(note.Body, "Knows the courier") {
		t.Fatalf("note %+v", note)
	}

	// Accept, as the notification's button does.
	bertil.c.onNoteAction(note, "accept")
	open, _ := bertil.waitEvent(EventOpen, 0, nil)
	if open.(OpenPayload).Session != sid {
		t.Fatalf("app:open %+v", open)
	}
	if shows, _ := bertil.shell.counts(); shows == 0 {
		t.Fatal("the window was not shown")
	}
	waitRelay(anna, protocol.EvTransfer, 0, func(x protocol.TransferInfo) bool {
		return x.ID == ti.ID && x.State == protocol.TransferAccepted
	})
	if got := tray.Build(bertil.c.trayState()); got.Icon == tray.IconTransfer {
		t.Fatalf("tray still shows the transfer: %+v", got)
	}
	// Bertil owns it now (even before his session event lands).
	b := clientID(t, bertil.c.send(sid, "Hi Vera, Bertil here"))
	bertil.waitOutbox(b, "acked")

	// Anna listens: refused up front once she knows, and by the relay
	// through the outbox when she does not know yet.
	waitRelay(anna, protocol.EvSession, 0, func(s protocol.SessionInfo) bool { return s.ID == sid && s.Role == protocol.ViewListener })
	anna.refused("listener send", anna.c.send(sid, "still me"), protocol.CodeListenOnly)
	id := anna.c.current().Send(sid, "sneaky")
	o := anna.waitOutbox(id, "failed")
	if o.Error == nil || o.Error.Code != protocol.CodeListenOnly {
		t.Fatalf("outbox %+v", o)
	}
	anna.ok("leave", anna.c.leave(sid))

	var hist []protocol.TransferInfo
	if err := json.Unmarshal(bertil.ok("history", bertil.c.history(sid)), &hist); err != nil || len(hist) == 0 {
		t.Fatalf("history %v %v", hist, err)
	}
	var req protocol.RequestCreated
	if err := json.Unmarshal(bertil.ok("request", bertil.c.createRequest(sid, "Parcel lost")), &req); err != nil || req.Number == 0 {
		t.Fatalf("request %+v %v", req, err)
	}
	bertil.ok("typing", bertil.c.typing(sid))
	var log struct{ Entries []protocol.Entry }
	if err := json.Unmarshal(bertil.ok("log", bertil.c.readLog(sid, 0)), &log); err != nil || len(log.Entries) < 2 {
		t.Fatalf("log %+v %v", log, err)
	}
	bertil.ok("end", bertil.c.end(sid))
}

func TestRejectAndCancel(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	bertil.login(h.URL(), "bertil", false)
	_, st := h.Visitor("Vera", "?")
	sid := st.Session
	anna.ok("next", anna.c.next())
	start := func() int64 {
		var ti protocol.TransferInfo
		_ = json.Unmarshal(anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: sid, To: h.ID("bertil")})), &ti)
		return ti.ID
	}
	id := start()
	anna.refused("second transfer", anna.c.transfer(protocol.TransferStart{Session: sid, Queue: true}), protocol.CodeTransferPending)
	bertil.ok("reject", bertil.c.reject(id))
	id = start()
	anna.ok("cancel", anna.c.cancel(id))
	bertil.refused("accept cancelled", bertil.c.accept(id), protocol.CodeInvalidState)
	wait(t, "tray without transfers", func() bool { return len(bertil.c.trayState().Transfers) == 0 })
}

// Remember me keeps the relay's token in a 0600 file, never the password,
// and Resume signs in with it; Logout revokes and forgets it.
func TestRememberMeAndResume(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	user := filepath.Join(t.TempDir(), "user")
	first := newTestDesk(t, deskOpts{userDir: user})
	first.refused("resume before login", first.c.resume(), CodeNoToken)
	first.login(h.URL(), "anna", true)
	tokenFile := filepath.Join(user, secret.FileName)
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode().Perm())
	}
	// Nothing under the user's directory holds the password.
	_ = filepath.WalkDir(user, func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), relaytest.Password) {
				t.Errorf("%s holds the password", p)
			}
		}
		return nil
	})
	tok, err := secret.File{Path: tokenFile}.Load(h.URL(), "anna")
	if err != nil || tok == "" || tok != first.c.current().Token() {
		t.Fatalf("kept token %q, %v", tok, err)
	}
	first.c.shutdown() // the app quits without logging out

	second := newTestDesk(t, deskOpts{userDir: user})
	if cfg := second.c.config().Data.(ConfigData); !cfg.HasToken || !cfg.Remember || cfg.Login != "anna" || cfg.Server != h.URL() {
		t.Fatalf("config %+v", cfg)
	}
	res := second.c.resume()
	if !res.OK || res.Data.(protocol.AgentWelcome).Agent.Login != "anna" {
		t.Fatalf("resume: %v", res)
	}
	second.waitState("connected", 0)
	second.ok("logout", second.c.logout())
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Fatalf("token file after logout: %v", err)
	}
	second.refused("resume after logout", second.c.resume(), CodeNoToken)

	// A token the relay revoked is refused, and forgotten.
	if err := (secret.File{Path: tokenFile}).Save(h.URL(), "anna", tok); err != nil {
		t.Fatal(err)
	}
	third := newTestDesk(t, deskOpts{userDir: user})
	third.refused("revoked token", third.c.resume(), protocol.CodeBadCredentials)
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Fatalf("refused token kept: %v", err)
	}

	// Login without remember forgets an earlier token.
	third.login(h.URL(), "anna", true)
	third.login(h.URL(), "anna", false)
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Fatalf("token kept after a login without remember: %v", err)
	}
}

func TestOpenDashboard(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	lars, anna := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	lars.refused("before login", lars.c.openDashboard(), CodeOffline)
	lars.login(h.URL(), "lars", false)
	anna.login(h.URL(), "anna", false)
	lars.ok("dashboard", lars.c.openDashboard())
	if len(lars.spawned) != 1 || strings.Join(lars.spawned[0], " ") != "--window=dashboard --handover-stdin --server="+h.URL() {
		t.Fatalf("spawned %q", lars.spawned)
	}
	anna.refused("no permission", anna.c.openDashboard(), CodeNoDashboard)
	if !lars.c.trayState().CanDashboard || anna.c.trayState().CanDashboard {
		t.Fatal("tray dashboard item permission wrong")
	}
	// Listening: a listener may read, not write.
	_, st := h.Visitor("Vera", "?")
	anna.ok("next", anna.c.next())
	lars.ok("listen", lars.c.listen(st.Session))
	lars.refused("listener send", lars.c.send(st.Session, "hi"), protocol.CodeListenOnly)
}

func TestQuitClosesWithoutLogout(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	d.login(h.URL(), "anna", true)
	d.ok("quit", d.c.quit())
	wait(t, "quit", func() bool { _, q := d.shell.counts(); return q == 1 })
	d.waitState("offline", 0)
	if d.c.current() != nil {
		t.Fatal("client kept after quit")
	}
	if cfg := d.c.config().Data.(ConfigData); !cfg.HasToken {
		t.Fatal("quit forgot the remembered token")
	}
}

func TestTrayClicks(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	bertil.login(h.URL(), "bertil", false)

	bertil.c.onTrayClick(tray.IDOpen)
	if shows, _ := bertil.shell.counts(); shows != 1 {
		t.Fatalf("shows = %d", shows)
	}
	bertil.c.onTrayClick(tray.IDAway)
	if st := bertil.c.trayState(); st.Status != "away" {
		t.Fatalf("status %q", st.Status)
	}
	bertil.c.onTrayClick(tray.IDPresent)
	bertil.c.onTrayClick(tray.IDDashboard) // no listen or manage: told why
	n, _ := bertil.waitEvent(EventNotice, 0, nil)
	if np := n.(NoticePayload); np.Kind != "error" || !strings.Contains(np.Text, "listen or manage") {
		t.Fatalf("notice %+v", np)
	}

	_, st := h.Visitor("Vera", "?")
	anna.ok("pick", anna.c.pick(st.Session))
	var ti protocol.TransferInfo
	_ = json.Unmarshal(anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: st.Session, To: h.ID("bertil")})), &ti)
	wait(t, "offer", func() bool { return len(bertil.c.trayState().Transfers) == 1 })
	bertil.c.onTrayClick(tray.TransferID(ti.ID))
	open, _ := bertil.waitEvent(EventOpen, 0, nil)
	if open.(OpenPayload).Session != st.Session {
		t.Fatalf("app:open %+v", open)
	}

	bertil.c.onTrayClick(tray.IDQuit)
	wait(t, "quit", func() bool { _, q := bertil.shell.counts(); return q == 1 })
}

// Quit in the tray while answering chats does not quit at once: the window
// comes up and asks, saying how long the chats stay the agent's; the
// window's Quit then goes on.
func TestTrayQuitAsksWhileAnswering(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.Grace = 90 * time.Second }})
	anna := newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	_, st := h.Visitor("Vera", "?")
	anna.ok("pick", anna.c.pick(st.Session))
	wait(t, "the chat counted", func() bool { return anna.c.trayState().Chats == 1 })
	shows, _ := anna.shell.counts()

	anna.c.onTrayClick(tray.IDQuit)
	ask, _ := anna.waitEvent(EventConfirmQuit, 0, nil)
	if p := ask.(ConfirmQuitPayload); p.Chats != 1 || p.Grace != 90 {
		t.Fatalf("asked %+v; want 1 chat, 90 s", p)
	}
	if s, q := anna.shell.counts(); s != shows+1 || q != 0 {
		t.Fatalf("shows %d, quits %d: want the window up and no quit yet", s, q)
	}
	anna.ok("quit", anna.c.quit())
	wait(t, "quit", func() bool { _, q := anna.shell.counts(); return q == 1 })
}

// The tray's Dashboard item: offered to a supervisor (and not to an agent
// without listen or manage), and a click opens the dashboard the way the
// settings menu does: a second process signed in by a one-time token.
func TestTrayOpensTheDashboard(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	cecilia, anna := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	cecilia.login(h.URL(), "cecilia", false)
	anna.login(h.URL(), "anna", false)
	if !slices.Contains(labels(tray.Build(cecilia.c.trayState())), "Dashboard") {
		t.Fatalf("no Dashboard item for a supervisor: %q", labels(tray.Build(cecilia.c.trayState())))
	}
	if slices.Contains(labels(tray.Build(anna.c.trayState())), "Dashboard") {
		t.Fatal("Dashboard offered to an agent without listen or manage")
	}
	cecilia.c.onTrayClick(tray.IDDashboard)
	wait(t, "the dashboard started", func() bool {
		cecilia.mu.Lock()
		defer cecilia.mu.Unlock()
		return len(cecilia.spawned) == 1
	})
	cecilia.mu.Lock()
	args, cmd := cecilia.spawned[0], cecilia.cmds[0]
	cecilia.mu.Unlock()
	if strings.Join(args, " ") != "--window=dashboard --handover-stdin --server="+h.URL() {
		t.Fatalf("spawned %q", args)
	}
	if _, isPipe := cmd.Stdin.(*os.File); !isPipe {
		t.Fatalf("the dashboard's standard input is %T, not the pipe with the token", cmd.Stdin)
	}
	for _, e := range cecilia.rec.Events() {
		if e.Name == EventNotice {
			t.Fatalf("the tray click was refused: %+v", e.Data)
		}
	}
}

func TestNotifyLang(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "sv_SE.UTF-8")
	if notifyLang("auto") != "sv" || notifyLang("en") != "en" {
		t.Fatal("sv locale")
	}
	t.Setenv("LANG", "C.UTF-8")
	if notifyLang("auto") != "en" || notifyLang("sv") != "sv" {
		t.Fatal("C locale")
	}
}

// TestRevokedSignInReturnsToLogin: when the relay ends the sign-in (the
// password changed), the UI is told auth_failed with reason "revoked" (it
// shows the sign-in form with that message), and the remembered token is
// forgotten.
func TestRevokedSignInReturnsToLogin(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	user := filepath.Join(t.TempDir(), "user")
	d := newTestDesk(t, deskOpts{userDir: user})
	d.login(h.URL(), "anna", true)
	_, i := d.waitState("connected", 0)
	hash, err := relay.HashPassword("another password entirely")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SetPassword(context.Background(), "anna", hash); err != nil {
		t.Fatal(err)
	}
	st, _ := d.waitState("auth_failed", i)
	if st.Reason != ReasonRevoked {
		t.Errorf("auth_failed with reason %q (%s), want %q", st.Reason, st.Error, ReasonRevoked)
	}
	if _, err := os.Stat(filepath.Join(user, secret.FileName)); !os.IsNotExist(err) {
		t.Errorf("the token of a revoked sign-in is kept: %v", err)
	}
}
