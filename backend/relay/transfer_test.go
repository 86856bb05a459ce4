package relay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// desk is a relay with anna owning one chat, bertil Present, cecilia a
// supervisor and lars a listener.
type desk struct {
	h                           *relaytest.Harness
	anna, bertil, cecilia, lars *relaytest.Client
	visitor                     *relaytest.Client
	sid                         string
}

func newDesk(t *testing.T, opts relaytest.Options) *desk {
	t.Helper()
	h := relaytest.Start(t, opts)
	d := &desk{h: h}
	d.anna, _ = h.Agent("anna", nil)
	d.bertil, _ = h.Agent("bertil", nil)
	d.cecilia, _ = h.Agent("cecilia", nil)
	d.lars, _ = h.Agent("lars", nil)
	var st protocol.ChatStarted
	d.visitor, st = h.Visitor("Vera", "Where is my parcel?")
	d.sid = st.Session
	d.anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: d.sid}, nil)
	send(t, d.visitor, d.sid, "v1", "It was due Monday")
	return d
}

func transferEvent(t *testing.T, c *relaytest.Client, from int, state string) (protocol.TransferInfo, int) {
	t.Helper()
	var ti protocol.TransferInfo
	_, i := c.Event(protocol.EvTransfer, from, func(f protocol.ServerFrame) bool {
		_ = json.Unmarshal(f.Data, &ti)
		return ti.State == state
	})
	return ti, i
}

func (d *desk) start(t *testing.T, by *relaytest.Client, to string, comment string) protocol.TransferInfo {
	t.Helper()
	var ti protocol.TransferInfo
	by.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: d.sid, To: d.h.ID(to), Comment: comment}, &ti)
	if ti.State != protocol.TransferPending {
		t.Fatalf("started: %+v", ti)
	}
	return ti
}

func visitorTexts(c *relaytest.Client, sid string) string {
	return strings.Join(texts(c.Entries(sid)), "|")
}

func TestTransferAccepted(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	// The transfer list: Present agents with respond, minus the owner, with load.
	var targets []protocol.AgentInfo
	d.anna.OK(protocol.CmdTransferTargets, protocol.SessionRef{Session: d.sid}, &targets)
	if len(targets) != 2 || targets[0].Login != "bertil" || targets[1].Login != "cecilia" {
		t.Fatalf("targets: %+v", targets)
	}
	ti := d.start(t, d.anna, "bertil", "Knows the courier")

	// The receiver gets the offer, with comment and sender, and the whole log.
	offer, _ := transferEvent(t, d.bertil, 0, protocol.TransferPending)
	if offer.From.Login != "anna" || offer.Comment != "Knows the courier" || offer.Deadline == nil {
		t.Fatalf("offer: %+v", offer)
	}
	log := d.bertil.WaitEntries(d.sid, 4)
	if log[0].Text != "Where is my parcel?" || log[2].Text != "It was due Monday" || !log[3].Staff {
		t.Fatalf("receiver's log: %q", texts(log))
	}
	// Pending: the owner keeps chatting; the receiver reads only; the visitor is told nothing.
	send(t, d.anna, d.sid, "a1", "One moment please")
	d.bertil.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: d.sid, ClientID: "b0", Text: "hi"}, protocol.CodeListenOnly)
	d.bertil.WaitEntries(d.sid, 5)
	// A second transfer is refused.
	d.anna.Refused(protocol.CmdTransferStart, protocol.TransferStart{Session: d.sid, To: d.h.ID("cecilia")}, protocol.CodeTransferPending)

	var accepted protocol.TransferInfo
	d.bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, &accepted)
	if accepted.State != protocol.TransferAccepted {
		t.Fatalf("accept reply: %+v", accepted)
	}
	transferEvent(t, d.anna, 0, protocol.TransferAccepted)
	transferEvent(t, d.bertil, 0, protocol.TransferAccepted)
	// Accepting twice is refused.
	d.bertil.Refused(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeInvalidState)

	// The former owner listens: sees the chat, cannot write, can close the window.
	d.anna.Event(protocol.EvSession, 0, func(f protocol.ServerFrame) bool {
		var s protocol.SessionInfo
		_ = json.Unmarshal(f.Data, &s)
		return s.Role == protocol.ViewListener && s.Owner != nil && s.Owner.Login == "bertil"
	})
	d.anna.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: d.sid, ClientID: "a2", Text: "x"}, protocol.CodeListenOnly)
	send(t, d.bertil, d.sid, "b1", "Hi Vera, I have news about your parcel")
	es := d.anna.WaitEntries(d.sid, d.seqOf(t, d.bertil, "Hi Vera, I have news about your parcel"))
	if es[len(es)-1].Text != "Hi Vera, I have news about your parcel" {
		t.Fatalf("listener did not get the new owner's line: %q", texts(es))
	}
	d.anna.OK(protocol.CmdSessionLeave, protocol.SessionRef{Session: d.sid}, nil)

	// The visitor saw no transfer chatter, only "Bertil has joined".
	vis := d.visitor.WaitEntries(d.sid, d.seqOf(t, d.bertil, "Hi Vera, I have news about your parcel"))
	got := strings.Join(texts(vis), "|")
	want := "Where is my parcel?|joined agent=Anna|It was due Monday|One moment please|joined agent=Bertil|Hi Vera, I have news about your parcel"
	if got != want {
		t.Fatalf("visitor saw\n %s\nwant\n %s", got, want)
	}
	for _, e := range vis {
		if e.Staff {
			t.Fatalf("staff line reached the visitor: %q", e.Text)
		}
	}

	// History per session and per agent.
	var hist []protocol.TransferInfo
	d.bertil.OK(protocol.CmdTransferHistory, protocol.TransferHistory{Session: d.sid}, &hist)
	if len(hist) != 1 || hist[0].State != protocol.TransferAccepted || hist[0].Comment != "Knows the courier" || hist[0].EndedAt == nil {
		t.Fatalf("history: %+v", hist)
	}
	d.anna.OK(protocol.CmdTransferHistory, protocol.TransferHistory{}, &hist)
	if len(hist) != 1 || hist[0].From.Login != "anna" {
		t.Fatalf("anna's history: %+v", hist)
	}
}

// seqOf finds the seq a client holds for a line of text (waiting for it).
func (d *desk) seqOf(t *testing.T, c *relaytest.Client, text string) uint64 {
	t.Helper()
	deadline := time.Now().Add(relaytest.Timeout)
	for time.Now().Before(deadline) {
		for _, e := range c.Entries(d.sid) {
			if e.Text == text {
				return e.Seq
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%q never arrived", text)
	return 0
}

func TestTransferRejected(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	ti := d.start(t, d.anna, "bertil", "")
	transferEvent(t, d.bertil, 0, protocol.TransferPending)
	d.cecilia.Refused(protocol.CmdTransferReject, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeForbidden)
	d.bertil.OK(protocol.CmdTransferReject, protocol.TransferRef{Transfer: ti.ID}, nil)
	transferEvent(t, d.anna, 0, protocol.TransferRejected)
	transferEvent(t, d.bertil, 0, protocol.TransferRejected)
	// Owner unchanged and writing; the receiver is out.
	send(t, d.anna, d.sid, "a1", "Let me create a request for you")
	d.bertil.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: d.sid, ClientID: "b1", Text: "x"}, protocol.CodeNotParticipant)
	d.bertil.Refused(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeInvalidState)
	var r protocol.RequestCreated
	d.anna.OK(protocol.CmdRequestCreate, protocol.RequestCreate{Session: d.sid, Title: "Lost parcel"}, &r)
	if r.Number == 0 {
		t.Fatal("no request number")
	}
}

func TestTransferCancelled(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	ti := d.start(t, d.anna, "bertil", "")
	transferEvent(t, d.bertil, 0, protocol.TransferPending)
	// Only the starter may cancel.
	d.bertil.Refused(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeForbidden)
	d.cecilia.Refused(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeForbidden)
	d.anna.OK(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: ti.ID}, nil)
	transferEvent(t, d.anna, 0, protocol.TransferCancelled)
	transferEvent(t, d.bertil, 0, protocol.TransferCancelled)
	d.bertil.Refused(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeInvalidState)
	send(t, d.anna, d.sid, "a1", "I am still here")
	// A new transfer may start after the cancel.
	d.start(t, d.anna, "cecilia", "second try")
}

func TestTransferExpires(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{Channel: store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC",
		TransferTimeout: 400 * time.Millisecond}})
	ti := d.start(t, d.anna, "bertil", "")
	if ti.Deadline == nil || ti.Deadline.Sub(ti.StartedAt) != 400*time.Millisecond {
		t.Fatalf("deadline: %+v", ti)
	}
	expired, _ := transferEvent(t, d.anna, 0, protocol.TransferExpired)
	transferEvent(t, d.bertil, 0, protocol.TransferExpired)
	if expired.EndedAt.Before(*ti.Deadline) {
		t.Fatalf("expired at %v before its deadline %v", expired.EndedAt, ti.Deadline)
	}
	d.bertil.Refused(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeInvalidState)
	send(t, d.anna, d.sid, "a1", "still mine")
}

func TestTransferVoidedWhenSessionEndsOrReceiverGoesOffline(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.Grace = 200 * time.Millisecond }})
	ti := d.start(t, d.anna, "bertil", "")
	transferEvent(t, d.bertil, 0, protocol.TransferPending)
	d.visitor.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: d.sid}, nil)
	v, _ := transferEvent(t, d.anna, 0, protocol.TransferVoided)
	transferEvent(t, d.bertil, 0, protocol.TransferVoided)
	if !strings.Contains(v.Reason, "ended") {
		t.Fatalf("reason %q", v.Reason)
	}
	d.bertil.Refused(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeInvalidState)

	// Second chat: the receiver goes Offline past the grace period.
	_, st := d.h.Visitor("Walter", "hello")
	d.anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	var t2 protocol.TransferInfo
	d.anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: st.Session, To: d.h.ID("bertil")}, &t2)
	d.bertil.Close()
	v2, i := transferEvent(t, d.anna, 0, protocol.TransferVoided)
	for v2.ID != t2.ID {
		v2, i = transferEvent(t, d.anna, i+1, protocol.TransferVoided)
	}
	if !strings.Contains(v2.Reason, "offline") {
		t.Fatalf("reason %q", v2.Reason)
	}
}

func TestTakeOverAndListen(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	// Listening is silent and read-only.
	var info protocol.SessionInfo
	d.lars.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: d.sid}, &info)
	if info.Role != protocol.ViewListener {
		t.Fatalf("listen: %+v", info)
	}
	d.lars.WaitEntries(d.sid, 3)
	d.lars.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: d.sid, ClientID: "l1", Text: "psst"}, protocol.CodeListenOnly)
	d.lars.Refused(protocol.CmdSessionTakeover, protocol.SessionRef{Session: d.sid}, protocol.CodeForbidden)
	d.bertil.Refused(protocol.CmdSessionTakeover, protocol.SessionRef{Session: d.sid}, protocol.CodeForbidden)
	send(t, d.anna, d.sid, "a1", "Checking the courier")
	d.lars.WaitEntries(d.sid, 4)
	d.h.Agent("nils", nil) // a stranger exists
	for _, f := range append(d.anna.Events(), d.visitor.Events()...) {
		if f.Ev != protocol.EvPresence && strings.Contains(strings.ToLower(string(f.Data)), "lars") {
			t.Fatalf("the listener was revealed: %s %s", f.Ev, f.Data)
		}
	}

	// Take-over: cecilia owns it at once, anna listens and is told.
	d.cecilia.OK(protocol.CmdSessionTakeover, protocol.SessionRef{Session: d.sid}, &info)
	if info.Role != protocol.ViewOwner {
		t.Fatalf("take-over: %+v", info)
	}
	tk, _ := transferEvent(t, d.anna, 0, protocol.TransferAccepted)
	if tk.Kind != chat.KindTakeover || tk.To.Login != "cecilia" {
		t.Fatalf("anna told: %+v", tk)
	}
	d.anna.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: d.sid, ClientID: "a2", Text: "x"}, protocol.CodeListenOnly)
	send(t, d.cecilia, d.sid, "c1", "Hello, I am the team lead")
	d.visitor.WaitEntries(d.sid, d.seqOf(t, d.cecilia, "Hello, I am the team lead"))
	if vis := visitorTexts(d.visitor, d.sid); !strings.Contains(vis, "joined agent=Cecilia") || strings.Contains(vis, "took_over") {
		t.Fatalf("visitor: %s", vis)
	}
	var hist []protocol.TransferInfo
	d.cecilia.OK(protocol.CmdTransferHistory, protocol.TransferHistory{Session: d.sid}, &hist)
	if len(hist) != 1 || hist[0].Kind != chat.KindTakeover {
		t.Fatalf("history: %+v", hist)
	}
}

func TestTransferOnBehalfAndToQueue(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	// lars may listen but not manage: refused.
	d.lars.Refused(protocol.CmdTransferStart, protocol.TransferStart{Session: d.sid, To: d.h.ID("bertil")}, protocol.CodeNotParticipant)
	ti := d.start(t, d.cecilia, "bertil", "Anna is off at three")
	if ti.By.Login != "cecilia" || ti.From.Login != "anna" {
		t.Fatalf("on behalf: %+v", ti)
	}
	// The owner is told, and may not cancel someone else's transfer.
	transferEvent(t, d.anna, 0, protocol.TransferPending)
	d.anna.Refused(protocol.CmdTransferCancel, protocol.TransferRef{Transfer: ti.ID}, protocol.CodeForbidden)
	d.bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, nil)
	for _, c := range []*relaytest.Client{d.anna, d.bertil, d.cecilia} {
		transferEvent(t, c, 0, protocol.TransferAccepted)
	}

	// To the queue: the least-loaded Present agent is offered it. Bertil now
	// owns one chat, anna none (she listens), cecilia none: anna is Present,
	// but she is not the owner any more, so the lowest load wins (anna, id order).
	var q protocol.TransferInfo
	d.bertil.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: d.sid, Queue: true}, &q)
	if !q.ToQueue || q.To.Login == "bertil" || q.To.Load != 0 {
		t.Fatalf("queue transfer offered to %+v", q.To)
	}
}

func TestPendingTransferSurvivesRestartAndExpiresAtItsDeadline(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{Channel: store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC",
		TransferTimeout: 1500 * time.Millisecond}})
	ti := d.start(t, d.anna, "bertil", "before restart")
	d.h.Restart()
	anna, w := d.h.Agent("anna", nil)
	bertil, wb := d.h.Agent("bertil", nil)
	if len(wb.Transfers) != 1 || wb.Transfers[0].ID != ti.ID || wb.Transfers[0].State != protocol.TransferPending {
		t.Fatalf("after restart bertil sees %+v", wb.Transfers)
	}
	if len(w.Sessions) != 1 || w.Sessions[0].Transfer == nil || w.Sessions[0].Transfer.ID != ti.ID {
		t.Fatalf("after restart anna sees %+v", w.Sessions)
	}
	exp, _ := transferEvent(t, anna, 0, protocol.TransferExpired)
	transferEvent(t, bertil, 0, protocol.TransferExpired)
	late := exp.EndedAt.Sub(*ti.Deadline)
	if late < 0 || late > time.Second {
		t.Fatalf("expired %v after its deadline", late)
	}
	rows, err := d.h.Store.Transfers(context.Background(), chat.SessionID(d.sid), 0, 10)
	if err != nil || len(rows) != 1 || rows[0].State != chat.TransferExpired {
		t.Fatalf("stored: %+v %v", rows, err)
	}
}

func TestDashboardFeed(t *testing.T) {
	t.Parallel()
	d := newDesk(t, relaytest.Options{})
	var db protocol.Dashboard
	d.cecilia.OK(protocol.CmdDashboardWatch, nil, &db)
	if db.Overall.Active != 1 || db.Overall.Present != 3 || db.Overall.ChatsToday != 1 || len(db.Sessions) != 1 {
		t.Fatalf("dashboard: %+v", db.Overall)
	}
	_, _ = d.h.Visitor("Walter", "waiting")
	_, i := d.cecilia.Event(protocol.EvDashboard, 0, func(f protocol.ServerFrame) bool {
		var x protocol.Dashboard
		_ = json.Unmarshal(f.Data, &x)
		return x.Overall.Waiting == 1 && x.Overall.ChatsToday == 2
	})
	ti := d.start(t, d.anna, "bertil", "")
	d.bertil.OK(protocol.CmdTransferReject, protocol.TransferRef{Transfer: ti.ID}, nil)
	d.cecilia.Event(protocol.EvDashboard, i, func(f protocol.ServerFrame) bool {
		var x protocol.Dashboard
		_ = json.Unmarshal(f.Data, &x)
		return x.Overall.Transfers["rejected"] == 1 && len(x.Transfers) == 1
	})
}

func TestWaitingWarnings(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Channel: store.ChannelRow{Key: "support", Name: "Support", TimeZone: "UTC",
		WarnAfter: 200 * time.Millisecond, ManagerWarnAfter: 500 * time.Millisecond}})
	anna, _ := h.Agent("anna", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	lars, _ := h.Agent("lars", nil)
	_, st := h.Visitor("Vera", "anyone?")
	level := func(c *relaytest.Client, want string) {
		c.Event(protocol.EvWarning, 0, func(f protocol.ServerFrame) bool {
			var w protocol.WarningEvent
			_ = json.Unmarshal(f.Data, &w)
			return w.Session == st.Session && w.Level == want
		})
	}
	level(anna, "waiting")
	level(cecilia, "waiting")
	level(cecilia, "manager")
	time.Sleep(100 * time.Millisecond)
	for _, f := range lars.Events() {
		if f.Ev == protocol.EvWarning {
			t.Fatalf("lars (no notify, no manage) was warned: %s", f.Data)
		}
	}
	n := 0
	for _, f := range anna.Events() {
		if f.Ev == protocol.EvWarning {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("anna warned %d times, want once", n)
	}
}
