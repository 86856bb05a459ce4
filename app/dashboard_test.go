package app

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// go test ./app -run TestDashboardEventsFollowTheRelay -args -dashboard-fixtures=$PWD/frontend/src/lib/dashboard/fixtures
// writes the payloads this test sees, as the UI gets them, for the UI's tests.
var fixturesDir = flag.String("dashboard-fixtures", "", "write the dashboard payloads of TestDashboardEventsFollowTheRelay into this directory")

// waitDash waits for a dashboard picture emitted to the UI (from index
// from on) that satisfies pred; it returns the picture, its raw payload and
// its index.
func waitDash(d *testDesk, from int, what string, pred func(protocol.Dashboard) bool) (protocol.Dashboard, json.RawMessage, int) {
	d.t.Helper()
	var got protocol.Dashboard
	var raw json.RawMessage
	_, i := d.waitEvent(EventRelay, from, func(a any) bool {
		p := a.(EventPayload)
		var db protocol.Dashboard
		if p.Ev != protocol.EvDashboard || json.Unmarshal(p.Data, &db) != nil || !pred(db) {
			return false
		}
		got, raw = db, p.Data
		return true
	})
	if i < 0 {
		d.t.Fatalf("no dashboard with %s", what)
	}
	return got, raw, i
}

func record(t *testing.T, name string, raw json.RawMessage) {
	t.Helper()
	if *fixturesDir == "" {
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(filepath.Join(*fixturesDir, name+".json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dashSession(db protocol.Dashboard, id string) (protocol.DashSession, bool) {
	for _, s := range db.Sessions {
		if s.ID == id {
			return s, true
		}
	}
	return protocol.DashSession{}, false
}

// The dashboard window's core against a real relay: it is signed in by a
// handed-over token, watches the dashboard, and passes each picture to the
// UI as the relay's figures move: a visitor arrives, a chat is picked, a
// transfer is rejected, another (started by the supervisor on the owner's
// behalf) accepted, and the supervisor listens and takes over.
func TestDashboardEventsFollowTheRelay(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, bertil := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	bertil.login(h.URL(), "bertil", false)

	// Cecilia's desk asks for the handover; her dashboard window signs in with it.
	desk, _ := h.Agent("cecilia", nil)
	var ho protocol.Handover
	desk.OK(protocol.CmdTokenHandover, nil, &ho)
	if ho.Token == "" || ho.ExpiresIn != 60 {
		t.Fatalf("handover %+v", ho)
	}
	dash := newTestDesk(t, deskOpts{window: WindowDashboard, handover: ho.Token, server: h.URL()})
	w, ok := dash.c.resume().Data.(protocol.AgentWelcome)
	if !ok || w.Agent.Login != "cecilia" {
		t.Fatalf("dashboard sign-in: %+v", w)
	}

	db, raw, i := waitDash(dash, 0, "the first picture", func(protocol.Dashboard) bool { return true })
	if db.Overall.Waiting != 0 || db.Overall.Active != 0 || len(db.Channels) != 1 || db.Channels[0].Channel != "support" {
		t.Fatalf("first picture: %s", raw)
	}
	if db.Overall.Present != 3 { // anna, bertil and cecilia answer in support and are Present
		t.Fatalf("present = %d: %s", db.Overall.Present, raw)
	}
	record(t, "empty", raw)

	// A visitor arrives: waiting 0 -> 1.
	_, st := h.Visitor("Vera", "My invoice is wrong")
	id := st.Session
	db, raw, i = waitDash(dash, i, "a visitor waiting", func(d protocol.Dashboard) bool { return d.Overall.Waiting == 1 })
	if db.Channels[0].Waiting != 1 {
		t.Fatalf("channel figures: %s", raw)
	}
	if s, ok := dashSession(db, id); !ok || s.State != protocol.StateQueued || s.Visitor != "Vera" || s.Owner != nil || s.Since.IsZero() {
		t.Fatalf("queued session: %s", raw)
	}
	record(t, "queued", raw)

	// Anna picks it: active 1, waiting 0, her load 1.
	anna.ok("pick", anna.c.pick(id))
	db, raw, i = waitDash(dash, i, "the chat active", func(d protocol.Dashboard) bool { return d.Overall.Active == 1 && d.Overall.Waiting == 0 })
	if s, _ := dashSession(db, id); s.State != protocol.StateActive || s.Owner == nil || s.Owner.Login != "anna" {
		t.Fatalf("active session: %s", raw)
	}
	if db.Overall.ChatsToday != 1 {
		t.Fatalf("chats today: %s", raw)
	}
	if k := slices.IndexFunc(db.Agents, func(a protocol.AgentInfo) bool { return a.Login == "anna" }); k < 0 || db.Agents[k].Load != 1 {
		t.Fatalf("anna's load: %s", raw)
	}
	// The queue's history remembers the minute Vera waited.
	if n := len(db.History); n == 0 || db.History[n-1].Waiting != 1 {
		t.Fatalf("history: %+v", db.History)
	}
	if n := len(db.Channels[0].History); n == 0 || db.Channels[0].History[n-1].Waiting != 1 {
		t.Fatalf("channel history: %+v", db.Channels[0].History)
	}

	// Anna offers it to Bertil: the transfer is pending on the dashboard.
	var tr protocol.TransferInfo
	_ = json.Unmarshal(anna.ok("transfer", anna.c.transfer(protocol.TransferStart{Session: id, To: h.ID("bertil"), Comment: "billing"})), &tr)
	db, raw, i = waitDash(dash, i, "the pending transfer", func(d protocol.Dashboard) bool {
		s, _ := dashSession(d, id)
		return s.Transfer == protocol.TransferPending
	})
	if len(db.Transfers) == 0 || db.Transfers[0].ID != tr.ID || db.Transfers[0].State != protocol.TransferPending ||
		db.Transfers[0].From.Login != "anna" || db.Transfers[0].To.Login != "bertil" {
		t.Fatalf("pending transfer: %s", raw)
	}
	record(t, "pending", raw)

	// Bertil rejects: transfers_today.rejected 1, the mark gone.
	bertil.ok("reject", bertil.c.reject(tr.ID))
	db, raw, i = waitDash(dash, i, "the rejection counted", func(d protocol.Dashboard) bool { return d.Overall.Transfers["rejected"] == 1 })
	if s, _ := dashSession(db, id); s.Transfer != "" || s.Owner.Login != "anna" {
		t.Fatalf("after the rejection: %s", raw)
	}
	if db.Channels[0].Transfers["rejected"] != 1 {
		t.Fatalf("channel transfers: %s", raw)
	}
	record(t, "rejected", raw)

	// The supervisor transfers it on Anna's behalf, to an agent the relay lists.
	var targets []protocol.AgentInfo
	_ = json.Unmarshal(dash.ok("targets", dash.c.targets(id)), &targets)
	if !slices.ContainsFunc(targets, func(a protocol.AgentInfo) bool { return a.Login == "bertil" }) ||
		slices.ContainsFunc(targets, func(a protocol.AgentInfo) bool { return a.Login == "anna" }) {
		t.Fatalf("targets %+v", targets)
	}
	_ = json.Unmarshal(dash.ok("transfer on behalf", dash.c.transfer(protocol.TransferStart{Session: id, To: h.ID("bertil")})), &tr)
	if tr.By.Login != "cecilia" || tr.From.Login != "anna" {
		t.Fatalf("transfer on behalf: %+v", tr)
	}
	wait(t, "the offer at bertil's", func() bool { return len(bertil.c.trayState().Transfers) == 1 })
	bertil.ok("accept", bertil.c.accept(tr.ID))
	db, raw, i = waitDash(dash, i, "the acceptance", func(d protocol.Dashboard) bool { return d.Overall.Transfers["accepted"] == 1 })
	if s, _ := dashSession(db, id); s.Owner == nil || s.Owner.Login != "bertil" {
		t.Fatalf("after the acceptance: %s", raw)
	}

	// Silent listening from the dashboard: the log arrives, writing is refused.
	dash.ok("listen", dash.c.listen(id))
	dash.ok("log", dash.c.readLog(id, 0))
	bertil.ok("send", bertil.c.send(id, "Hello Vera, Bertil here."))
	waitRelay(dash, protocol.EvEntry, 0, func(e protocol.Entry) bool { return e.Text == "Hello Vera, Bertil here." })
	dash.refused("listener send", dash.c.send(id, "psst"), protocol.CodeListenOnly)

	// Take over: the supervisor owns the chat, Bertil listens.
	dash.ok("take over", dash.c.takeOver(id))
	db, raw, _ = waitDash(dash, i, "the take-over", func(d protocol.Dashboard) bool {
		s, _ := dashSession(d, id)
		return s.Owner != nil && s.Owner.Login == "cecilia"
	})
	waitRelay(bertil, protocol.EvSession, 0, func(s protocol.SessionInfo) bool { return s.ID == id && s.Role == protocol.ViewListener })
	record(t, "takeover", raw)
	if db.Overall.Active != 1 {
		t.Fatalf("after the take-over: %s", raw)
	}
}

// Only agents with listen or manage may watch; the window says so.
func TestDashboardRefusedWithoutPermission(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	desk, _ := h.Agent("anna", nil)
	var ho protocol.Handover
	desk.OK(protocol.CmdTokenHandover, nil, &ho)
	dash := newTestDesk(t, deskOpts{window: WindowDashboard, handover: ho.Token, server: h.URL()})
	dash.ok("resume", dash.c.resume())
	n, _ := dash.waitEvent(EventNotice, 0, nil)
	if np := n.(NoticePayload); np.Kind != "error" {
		t.Fatalf("notice %+v", np)
	}
	for _, e := range dash.rec.Events() {
		if p, ok := e.Data[0].(EventPayload); ok && p.Ev == protocol.EvDashboard {
			t.Fatal("a dashboard reached an agent without listen or manage")
		}
	}
}
