package chat

import (
	"maps"
	"slices"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// S (Sol) watches both channels, to see figures summed over channels.
const S AgentID = 7

func withSol(snap *Snapshot) {
	snap.Agents = append(snap.Agents, Agent{ID: S, Login: "sol", Name: "Sol",
		Perms: map[ChannelID]Perm{support: PermListen, sales: PermListen}})
}

// busyDay builds a desk with every transfer outcome in support, some chats
// waiting in both channels, and returns the time to look at it.
//
//	s1: Anna -> Bo accepted          s2: Anna; -> Cleo rejected, -> Cleo cancelled, -> Bo pending
//	s3: Cleo; -> Anna expired, then -> Bo pending
//	s4: Anna; -> Cleo voided when the visitor left (ended)
//	w1, w2: waiting in support since +2m and +3m
//	x1 waiting in sales since +2m, x2 answered by Nils
func busyDay(t *testing.T) *fixture {
	f := newFixtureWith(t, withSol)
	f.d.cfg.IdleEnd = 0
	f.active("s1", A)
	f.active("s2", A)
	f.active("s3", C)
	f.active("s4", A)
	f.ok(f.d.Accept(f.now, B, f.transfer(A, "s1", B)))
	f.ok(f.d.Reject(f.now, C, f.transfer(A, "s2", C)))
	f.ok(f.d.Cancel(f.now, A, f.transfer(A, "s2", C)))
	f.transfer(C, "s3", A)
	f.transfer(A, "s4", C)
	f.ok(f.d.VisitorEnd(f.now, "s4"))
	f.d.Tick(f.at(DefaultTransferTimeout)) // s3's offer to Anna expires
	f.transfer(C, "s3", B)
	f.transfer(A, "s2", B)
	f.chat("w1")
	f.chatIn("x1", sales)
	f.at(time.Minute)
	f.chat("w2")
	f.chatIn("x2", sales)
	f.ok(f.d.Pick(f.now, N, "x2"))
	f.at(4 * time.Minute) // w1 has waited 5 minutes, w2 4
	return f
}

func TestDashboardFigures(t *testing.T) {
	t.Parallel()
	f := busyDay(t)
	supportFigures := protocol.Figures{
		Waiting: 2, LongestWait: 300, Present: 3, Active: 3, ChatsToday: 6,
		Transfers: map[string]int{"accepted": 1, "rejected": 1, "cancelled": 1, "expired": 1, "voided": 1, "takeover": 0},
	}
	salesFigures := protocol.Figures{
		Waiting: 1, LongestWait: 300, Present: 2, Active: 1, ChatsToday: 2,
		Transfers: map[string]int{"accepted": 0, "rejected": 0, "cancelled": 0, "expired": 0, "voided": 0, "takeover": 0},
	}
	tests := []struct {
		viewer   AgentID
		channels map[string]protocol.Figures
		overall  protocol.Figures
	}{
		{M, map[string]protocol.Figures{"support": supportFigures}, supportFigures},
		{L, map[string]protocol.Figures{"support": supportFigures}, supportFigures},
		{S, map[string]protocol.Figures{"support": supportFigures, "sales": salesFigures}, protocol.Figures{
			// Cleo answers both channels and counts once.
			Waiting: 3, LongestWait: 300, Present: 4, Active: 4, ChatsToday: 8,
			Transfers: map[string]int{"accepted": 1, "rejected": 1, "cancelled": 1, "expired": 1, "voided": 1, "takeover": 0},
		}},
		{A, map[string]protocol.Figures{}, protocol.Figures{Transfers: map[string]int{}}}, // no listen, no manage
	}
	for _, tc := range tests {
		db := f.d.Dashboard(f.now, tc.viewer)
		got := map[string]protocol.Figures{}
		for _, c := range db.Channels {
			got[c.Channel] = c.Figures
		}
		if !maps.EqualFunc(got, tc.channels, figuresEqual) {
			t.Errorf("%s's channels:\n got %+v\nwant %+v", f.d.name(tc.viewer), got, tc.channels)
		}
		if !figuresEqual(db.Overall, tc.overall) {
			t.Errorf("%s's overall:\n got %+v\nwant %+v", f.d.name(tc.viewer), db.Overall, tc.overall)
		}
	}
}

func figuresEqual(a, b protocol.Figures) bool {
	return a.Waiting == b.Waiting && a.LongestWait == b.LongestWait && a.Present == b.Present &&
		a.Active == b.Active && a.ChatsToday == b.ChatsToday && maps.Equal(a.Transfers, b.Transfers)
}

func TestDashboardLists(t *testing.T) {
	t.Parallel()
	f := busyDay(t)
	db := f.d.Dashboard(f.now, M)

	// Ongoing sessions of support only, by id; ended s4 and sales' x1, x2 are not shown.
	var ids []string
	byID := map[string]protocol.DashSession{}
	for _, s := range db.Sessions {
		ids = append(ids, s.ID)
		byID[s.ID] = s
	}
	if !slices.Equal(ids, []string{"s1", "s2", "s3", "w1", "w2"}) {
		t.Errorf("sessions = %v", ids)
	}
	if s := byID["s1"]; s.State != "active" || s.Owner == nil || s.Owner.ID != int64(B) {
		t.Errorf("s1 = %+v", s)
	}
	if s := byID["s3"]; s.Transfer != "pending" {
		t.Errorf("s3 transfer = %q", s.Transfer)
	}
	if s := byID["w1"]; s.State != "queued" || s.Owner != nil || s.Warning != "" {
		t.Errorf("w1 = %+v", s)
	}

	// The pending transfer first, then the resolved ones, newest first.
	var states []string
	for _, tr := range db.Transfers {
		states = append(states, tr.State)
		if tr.Channel != "support" {
			t.Errorf("a transfer of %s on Mia's dashboard", tr.Channel)
		}
	}
	if !slices.Equal(states, []string{"pending", "pending", "expired", "voided", "cancelled", "rejected", "accepted"}) {
		t.Errorf("transfers = %v", states)
	}
	if len(db.Transfers) > 1 && !(db.Transfers[0].ID > db.Transfers[1].ID) {
		t.Errorf("pending transfers not newest first: %d, %d", db.Transfers[0].ID, db.Transfers[1].ID)
	}

	// Agents who answer the watched channels, by name.
	var names []string
	for _, a := range db.Agents {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"Anna", "Bo", "Cleo"}) {
		t.Errorf("agents = %v", names)
	}
	if db := f.d.Dashboard(f.now, S); len(db.Agents) != 4 || len(db.Sessions) != 7 {
		t.Errorf("Sol sees %d agents, %d sessions; want 4, 7", len(db.Agents), len(db.Sessions))
	}
}

// Figures are per day, on the channel's clock.
func TestDashboardDayRollover(t *testing.T) {
	t.Parallel()
	f := busyDay(t)
	tomorrow := time.Date(2025, time.March, 4, 0, 0, 1, 0, time.UTC)
	db := f.d.Dashboard(tomorrow, M)
	if c := db.Channels[0]; c.ChatsToday != 0 || c.Transfers["accepted"] != 0 || c.Waiting != 2 {
		t.Errorf("figures the next day = %+v", c.Figures)
	}
	// New York is still on Monday at midnight UTC.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	f.d.channels[support].Hours.Loc = ny
	if c := f.d.Dashboard(tomorrow, M).Channels[0]; c.ChatsToday != 6 {
		t.Errorf("chats today in New York = %d, want 6", c.ChatsToday)
	}
}

// Views read; they never change the desk, so a relay may call them under a
// read lock while nothing else runs.
func TestViewsDoNotChangeTheDesk(t *testing.T) {
	t.Parallel()
	f := busyDay(t)
	f.d.VisitorSend(f.now, "w1", "v1", "hello?")
	tomorrow := f.now.Add(24 * time.Hour)
	for _, at := range []time.Time{f.now, tomorrow} {
		before := dump(f.d)
		for _, a := range []AgentID{A, B, C, M, L, N, S, 99} {
			f.d.Dashboard(at, a)
			f.d.SessionsFor(a)
			f.d.QueueFor(a)
			f.d.ChannelsFor(a, at)
			f.d.CanWatchAny(a)
			f.d.PendingFor(a)
			f.d.AgentInfo(a)
			for _, id := range []SessionID{"s1", "s3", "w1", "x1", "nope"} {
				f.d.MayRead(a, id)
				f.d.Position(id, at)
				f.d.TransferTargets(a, id)
			}
		}
		f.d.Agents()
		f.d.QueueItems(support)
		f.d.QueueWatchers(support)
		f.d.ChannelInfo(support, at)
		f.d.ChannelInfo("nope", at)
		unchanged(t, before, f.d)
	}
}

func TestPositionEstimate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.chat("w1")
	f.chat("w2")
	// No history: a minute per chat ahead, shared by the 3 Present responders.
	if pos, est := f.d.Position("w2", f.now); pos != 2 || est != 40*time.Second {
		t.Errorf("w2: position %d, estimate %v; want 2, 40s", pos, est)
	}
	f.at(3 * time.Minute)
	f.ok(f.d.Pick(f.now, A, "w1")) // waited 3 minutes
	if pos, est := f.d.Position("w2", f.now); pos != 1 || est != time.Minute {
		t.Errorf("w2: position %d, estimate %v; want 1, 1m", pos, est)
	}
}

func TestQueueForFollowsServiceOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.d.cfg.IdleEnd = 0
	f.active("s1", A) // will come back to the head of support's queue
	f.at(time.Minute)
	f.chatIn("x1", sales)
	f.at(time.Minute)
	f.chat("w1")
	f.d.Disconnect(f.now, A)
	f.d.Tick(f.at(testConfig().Grace))
	// Cleo answers both channels: her list must be in the order Next serves.
	var listed []string
	for _, it := range f.d.QueueFor(C) {
		listed = append(listed, it.Session)
	}
	var served []string
	for range 3 {
		_, id, err := f.d.Next(f.now, C)
		f.ok(nil, err)
		served = append(served, string(id))
	}
	if !slices.Equal(listed, served) {
		t.Errorf("QueueFor lists %v, Next serves %v", listed, served)
	}
	// s1 is back at the head of support, ahead of w1; x1 in sales is older still.
	if !slices.Equal(served, []string{"x1", "s1", "w1"}) {
		t.Errorf("served %v, want x1, s1, w1", served)
	}
}

func TestSessionsFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A) // Anna owns
	f.active("s0", A) // and this one, started at the same instant
	f.at(time.Second)
	f.active("s2", C) // offered to Anna
	f.transfer(C, "s2", A)
	f.at(time.Second)
	f.active("s3", A) // Anna handed it to Bo and listens
	f.ok(f.d.Accept(f.now, B, f.transfer(A, "s3", B)))
	f.at(time.Second)
	f.active("s4", A)
	f.active("s5", A)
	f.ok(f.d.End(f.at(time.Minute), A, "s4"))
	f.ok(f.d.End(f.at(time.Minute), A, "s5"))
	f.active("other", B) // not Anna's business
	f.chat("waiting")

	type row struct{ id, role, state string }
	var got []row
	for _, si := range f.d.SessionsFor(A) {
		got = append(got, row{si.ID, si.Role, si.State})
	}
	want := []row{
		{"s0", protocol.ViewOwner, "active"}, // same start: by id
		{"s1", protocol.ViewOwner, "active"},
		{"s2", protocol.ViewOffered, "active"},
		{"s3", protocol.ViewListener, "active"},
		{"s5", protocol.ViewOwner, "ended"}, // ended: newest first
		{"s4", protocol.ViewOwner, "ended"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("SessionsFor(Anna) =\n %v\nwant\n %v", got, want)
	}
	// Cleo started the transfer of s2: she sees it with the transfer attached.
	for _, si := range f.d.SessionsFor(C) {
		if si.ID == "s2" && (si.Role != protocol.ViewOwner || si.Transfer == nil || si.Transfer.State != "pending") {
			t.Errorf("Cleo's s2 = %+v", si)
		}
	}
	// The visitor sees the owner's name only, and nothing of a pending transfer.
	s2 := f.d.sessions["s2"]
	vi := f.d.SessionInfo(s2, 0)
	if vi.Role != protocol.ViewVisitor || vi.Transfer != nil || vi.Owner == nil || *vi.Owner != (protocol.AgentInfo{ID: int64(C), Name: "Cleo"}) {
		t.Errorf("visitor's view = %+v owner %+v", vi, vi.Owner)
	}
}

func TestMayRead(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, withSol)
	f.active("s1", A)
	f.active("s2", A)
	f.ok(f.d.Accept(f.now, B, f.transfer(A, "s2", B))) // Anna listens to s2
	f.active("s3", A)
	f.transfer(A, "s3", C) // offered to Cleo
	f.active("s4", A)
	f.ok(f.d.End(f.now, A, "s4"))
	f.chat("w1")
	f.chatIn("x1", sales)

	tests := []struct {
		agent AgentID
		id    SessionID
		want  bool
		why   string
	}{
		{A, "s1", true, "owner"},
		{A, "s2", true, "former owner, listening"},
		{A, "s4", true, "owner of an ended chat"},
		{C, "s3", true, "receiver of a pending transfer"},
		{L, "s1", true, "listen permission"},
		{M, "s1", true, "manage permission"},
		{S, "x1", true, "listen permission in sales"},
		{B, "w1", true, "may answer this waiting chat"},
		{N, "x1", true, "may answer this waiting chat"},
		{B, "s1", false, "a colleague's chat without listen"},
		{C, "s1", false, "a colleague's chat without listen"},
		{B, "s4", false, "an ended chat of a colleague"},
		{N, "s1", false, "no permission in support"},
		{N, "w1", false, "no permission in support"},
		{L, "x1", false, "listens in support only"},
		{99, "s1", false, "unknown agent"},
		{A, "nope", false, "unknown session"},
	}
	for _, tc := range tests {
		if got := f.d.MayRead(tc.agent, tc.id); got != tc.want {
			t.Errorf("MayRead(%s, %s) = %v, want %v (%s)", f.d.name(tc.agent), tc.id, got, tc.want, tc.why)
		}
	}
	f.d.agents[A].Disabled = true
	if f.d.MayRead(A, "s1") {
		t.Errorf("a disabled agent may read")
	}
}

func TestChannelsFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	got := f.d.ChannelsFor(C, f.now)
	if len(got) != 2 || got[0].Key != "sales" || got[1].Key != "support" || !got[1].Open ||
		!slices.Equal(got[1].Perms, []string{"respond"}) || got[1].TransferTTL != 120 || !got[1].OfflineForm {
		t.Errorf("ChannelsFor(Cleo) = %+v", got)
	}
	if got := f.d.ChannelsFor(M, f.now); len(got) != 1 || !slices.Equal(got[0].Perms, []string{"manage"}) {
		t.Errorf("ChannelsFor(Mia) = %+v", got)
	}
	if !f.d.CanWatchAny(M) || !f.d.CanWatchAny(L) || f.d.CanWatchAny(A) || f.d.CanWatchAny(99) {
		t.Errorf("CanWatchAny: Mia %v Leo %v Anna %v", f.d.CanWatchAny(M), f.d.CanWatchAny(L), f.d.CanWatchAny(A))
	}
	if ci := f.d.ChannelInfo(sales, f.now); !ci.Open || ci.TransferTTL != 0 {
		t.Errorf("sales = %+v", ci)
	}
	f.d.Disconnect(f.now, C)
	f.d.Disconnect(f.now, N)
	if ci := f.d.ChannelInfo(sales, f.now); ci.Open {
		t.Errorf("sales open with nobody there")
	}
}

// A take-over counts in the day's figures and stands in the recent
// transfers, live and after a restart (a desk made from the store's
// snapshot), so the dashboard says the same before and after.
func TestTakeOverCountsAcrossARestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.active("s1", A)
	f.active("s2", A)
	f.ok(f.d.Accept(f.now, B, f.transfer(A, "s1", B)))
	fx, _, err := f.d.TakeOver(f.now, M, "s2")
	f.ok(fx, err)
	before := f.d.Dashboard(f.now, M)
	if got := before.Overall.Transfers; got["takeover"] != 1 || got["accepted"] != 1 {
		t.Fatalf("live figures %v", got)
	}
	if len(before.Transfers) != 2 {
		t.Fatalf("live recent transfers %+v", before.Transfers)
	}
	// What the store would hand a new desk: the transfers of the day.
	snap := testSnapshot()
	for _, tr := range f.d.transfers {
		snap.Transfers = append(snap.Transfers, *tr)
	}
	after := New(testConfig(), snap, f.now).Dashboard(f.now, M)
	if got, want := after.Overall.Transfers, before.Overall.Transfers; !maps.Equal(got, want) {
		t.Errorf("figures after a restart %v, before %v", got, want)
	}
	ids := func(l []protocol.TransferInfo) (out []int64) {
		for _, tr := range l {
			out = append(out, tr.ID)
		}
		return out
	}
	if !slices.Equal(ids(after.Transfers), ids(before.Transfers)) {
		t.Errorf("recent transfers after a restart %v, before %v", ids(after.Transfers), ids(before.Transfers))
	}
}
