package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// base is a fixed instant with nanoseconds, to show they survive.
var base = time.Date(2026, 11, 28, 9, 2, 3, 123456789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func openTest(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// fixture creates a channel in Stockholm time and two agents.
func fixture(t testing.TB, s *SQLite) (anna, bert chat.AgentID) {
	t.Helper()
	ctx := context.Background()
	must(t, s.PutChannel(ctx, ChannelRow{
		Key: "support", Name: "Support", Hours: "mon-fri 08:00-17:00", TimeZone: "Europe/Stockholm",
		OfflineForm: true, WarnAfter: 90 * time.Second, ManagerWarnAfter: 5 * time.Minute,
		TransferTimeout: chat.DefaultTransferTimeout, Templates: []string{"Hello!", "Bye."},
	}))
	var err error
	if anna, err = s.CreateAgent(ctx, "anna", "Anna", []byte("hash-a")); err != nil {
		t.Fatal(err)
	}
	if bert, err = s.CreateAgent(ctx, "bert", "Bert", []byte("hash-b")); err != nil {
		t.Fatal(err)
	}
	must(t, s.Grant(ctx, "anna", "support", chat.PermRespond|chat.PermNotify))
	must(t, s.Grant(ctx, "bert", "support", chat.PermRespond|chat.PermManage|chat.PermListen))
	return anna, bert
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func msg(sid chat.SessionID, seq uint64, when time.Time, kind string, author chat.AgentID, name, client, text string) chat.EntryAdded {
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: chat.Entry{
		Seq: seq, At: when, Kind: chat.KindMessage, AuthorKind: kind, Author: author, AuthorName: name,
		ClientID: client, Text: text,
	}}
}

func note(sid chat.SessionID, seq uint64, when time.Time, text string, staff bool) chat.EntryAdded {
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: chat.Entry{
		Seq: seq, At: when, Kind: chat.KindNote, AuthorKind: chat.BySystem, Text: text, Staff: staff,
	}}
}

func queued(id chat.SessionID, created time.Time) chat.Session {
	return chat.Session{
		ID: id, Channel: "support", State: chat.Queued, Visitor: chat.Visitor{Name: "Vera", Email: "vera@example.com"},
		Question: "Where is my parcel?", TokenHash: "vt-" + string(id), Rank: created.UnixNano(),
		CreatedAt: created, QueuedAt: created,
	}
}

func findSession(snap chat.Snapshot, id chat.SessionID) (chat.Session, bool) {
	for _, s := range snap.Sessions {
		if s.ID == id {
			return s, true
		}
	}
	return chat.Session{}, false
}

// TestApplyRoundTrip sends every kind of effect through Apply and reads it
// back through Load, Entries, SessionRow, Transfers and Request.
func TestApplyRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, bert := fixture(t, s)

	sess := queued("s1", at(0))
	active := sess
	active.State, active.Owner, active.AnsweredAt, active.Warned = chat.Active, anna, at(time.Minute), chat.WarnWaiting
	active.Listeners = []chat.AgentID{bert}
	active.Pending = 7
	active.Seq = 2 // cloned before the "joined" note and the messages below
	tr := chat.Transfer{
		ID: 7, Session: "s1", Channel: "support", Kind: chat.KindTransfer, From: anna, To: bert, By: anna,
		Comment: "billing question", State: chat.TransferPending, Started: at(3 * time.Minute),
		Deadline: at(5 * time.Minute),
	}
	req := chat.Request{Number: 1001, Channel: "support", Session: "s1", Title: "Parcel lost",
		Visitor: sess.Visitor, Question: sess.Question, CreatedBy: anna, CreatedAt: at(4 * time.Minute)}
	offline := chat.Request{Number: 1002, Channel: "support", Title: "Call me", Visitor: chat.Visitor{Name: "Olle"},
		Question: "Call me\nplease", CreatedAt: at(6 * time.Minute)}

	must(t, s.Apply(ctx, []chat.Effect{
		chat.SessionChanged{Session: sess},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "", "Where is my parcel?"),
		chat.QueueChanged{Channel: "support"},
		chat.Warned{Session: "s1", Channel: "support", Level: chat.WarnWaiting},
	}))
	must(t, s.Apply(ctx, []chat.Effect{
		chat.SessionChanged{Session: active},
		note("s1", 2, at(time.Minute), "Anna has joined the chat.", false),
		chat.Subscribed{Agent: anna, Session: "s1"},
		msg("s1", 3, at(2*time.Minute), chat.ByAgent, anna, "Anna", "c-1", "Let me check.\nOne moment."),
		msg("s1", 4, at(2*time.Minute+time.Second), chat.ByVisitor, 0, "Vera", "v-1", "Thanks"),
		chat.TransferChanged{Transfer: tr},
		note("s1", 5, at(3*time.Minute), "Anna offers the chat to Bert.", true),
		chat.RequestCreated{Request: req},
		chat.RequestCreated{Request: offline},
		chat.AgentChanged{Agent: anna, Status: chat.Away, Chosen: chat.Away, Load: 1},
		chat.AgentChanged{Agent: bert, Status: chat.Offline, Chosen: chat.Offline},
	}))

	now := at(10 * time.Minute)
	snap, err := s.Load(ctx, now, now.Add(-8*time.Hour))
	must(t, err)

	want := active
	want.Seq, want.LastVisitor, want.LastAgent = 5, at(2*time.Minute+time.Second), at(2*time.Minute)
	got, ok := findSession(snap, "s1")
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("session:\n got %+v\nwant %+v", got, want)
	}
	row, err := s.SessionRow(ctx, "s1")
	must(t, err)
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("SessionRow:\n got %+v\nwant %+v", row, want)
	}

	if len(snap.Transfers) != 1 || !reflect.DeepEqual(snap.Transfers[0], tr) {
		t.Fatalf("transfers: %+v", snap.Transfers)
	}
	if snap.NextTransfer != 8 || snap.NextRequest != 1003 {
		t.Fatalf("counters: transfer %d request %d", snap.NextTransfer, snap.NextRequest)
	}
	wantRecent := []chat.RecentID{
		{AuthorKind: chat.ByAgent, Author: anna, ClientID: "c-1", Seq: 3},
		{AuthorKind: chat.ByVisitor, ClientID: "v-1", Seq: 4},
	}
	if !reflect.DeepEqual(snap.Recent["s1"], wantRecent) {
		t.Fatalf("recent: %+v", snap.Recent)
	}
	if snap.ChatsToday["support"] != 1 {
		t.Fatalf("chats today: %v", snap.ChatsToday)
	}

	// Channels and agents.
	if len(snap.Channels) != 1 {
		t.Fatalf("channels: %+v", snap.Channels)
	}
	ch := snap.Channels[0]
	if ch.ID != "support" || ch.Hours.Loc == nil || ch.Hours.Loc.String() != "Europe/Stockholm" ||
		ch.Hours.String() != "mon 08:00-17:00; tue 08:00-17:00; wed 08:00-17:00; thu 08:00-17:00; fri 08:00-17:00" ||
		!ch.OfflineForm || ch.WarnAfter != 90*time.Second || ch.ManagerWarnAfter != 5*time.Minute ||
		ch.TransferTimeout != chat.DefaultTransferTimeout || !reflect.DeepEqual(ch.Templates, []string{"Hello!", "Bye."}) {
		t.Fatalf("channel: %+v", ch)
	}
	if len(snap.Agents) != 2 {
		t.Fatalf("agents: %+v", snap.Agents)
	}
	for _, a := range snap.Agents {
		switch a.ID {
		case anna:
			if a.Chosen != chat.Away || a.Perms["support"] != chat.PermRespond|chat.PermNotify || a.Login != "anna" {
				t.Fatalf("anna: %+v", a)
			}
		case bert:
			if a.Chosen != chat.Present || a.Perms["support"] != chat.PermRespond|chat.PermManage|chat.PermListen {
				t.Fatalf("bert: %+v", a)
			}
		}
	}

	// The log, whole and in pages.
	entries, err := s.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(entries) != 5 {
		t.Fatalf("entries: %+v", entries)
	}
	wantEntry := chat.Entry{Seq: 3, At: at(2 * time.Minute), Kind: chat.KindMessage, AuthorKind: chat.ByAgent,
		Author: anna, AuthorName: "Anna", ClientID: "c-1", Text: "Let me check.\nOne moment."}
	if !reflect.DeepEqual(entries[2], wantEntry) {
		t.Fatalf("entry 3:\n got %+v\nwant %+v", entries[2], wantEntry)
	}
	if !entries[4].Staff || entries[4].AuthorKind != chat.BySystem {
		t.Fatalf("staff note: %+v", entries[4])
	}
	page, err := s.Entries(ctx, "s1", 2, 2)
	must(t, err)
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Fatalf("page: %+v", page)
	}
	if none, err := s.Entries(ctx, "nope", 0, 0); err != nil || len(none) != 0 {
		t.Fatalf("unknown session entries: %v %v", none, err)
	}

	// Transfers by session and by agent.
	for _, q := range []struct {
		sid   chat.SessionID
		agent chat.AgentID
		n     int
	}{{"s1", 0, 1}, {"", bert, 1}, {"", anna, 1}, {"s1", bert, 1}, {"s2", 0, 0}, {"", 99, 0}} {
		list, err := s.Transfers(ctx, q.sid, q.agent, 10)
		must(t, err)
		if len(list) != q.n {
			t.Fatalf("Transfers(%q, %d) = %+v", q.sid, q.agent, list)
		}
	}

	// Requests: from a chat with the whole log in Stockholm time (UTC+1 in
	// November), and from the offline form with the question.
	r, err := s.Request(ctx, 1001)
	must(t, err)
	req.State, req.UpdatedAt = chat.RequestOpen, req.CreatedAt // a new request is open
	wantTranscript := "2026-11-28 10:02 Vera: Where is my parcel?\n" +
		"2026-11-28 10:03 System: Anna has joined the chat.\n" +
		"2026-11-28 10:04 Anna: Let me check.\n    One moment.\n" +
		"2026-11-28 10:04 Vera: Thanks\n" +
		"2026-11-28 10:05 System (staff): Anna offers the chat to Bert.\n"
	if !reflect.DeepEqual(r.Request, req) || r.Transcript != wantTranscript {
		t.Fatalf("request:\n got %+v\n%s\nwant %+v\n%s", r.Request, r.Transcript, req, wantTranscript)
	}
	r, err = s.Request(ctx, 1002)
	must(t, err)
	offline.State, offline.UpdatedAt = chat.RequestOpen, offline.CreatedAt
	if !reflect.DeepEqual(r.Request, offline) || r.Transcript != offline.Question {
		t.Fatalf("offline request: %+v", r)
	}
	if _, err := s.Request(ctx, 1); err != ErrNotFound {
		t.Fatalf("unknown request: %v", err)
	}
	if _, err := s.SessionRow(ctx, "nope"); err != ErrNotFound {
		t.Fatalf("unknown session: %v", err)
	}
}

// TestApplyOrderDoesNotMoveSeqBack: a session snapshot taken before later
// entries of the same batch must not lower the stored seq.
func TestApplyOrderDoesNotMoveSeqBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	sess := queued("s1", at(0))
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess},
		msg("s1", 1, at(time.Second), chat.ByVisitor, 0, "Vera", "a", "one"),
		msg("s1", 2, at(2*time.Second), chat.ByVisitor, 0, "Vera", "b", "two")}))
	stale := sess
	stale.Warned = chat.WarnManager // Seq 0, LastVisitor zero
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: stale}}))
	row, err := s.SessionRow(ctx, "s1")
	must(t, err)
	if row.Seq != 2 || !row.LastVisitor.Equal(at(2*time.Second)) || row.Warned != chat.WarnManager {
		t.Fatalf("row: %+v", row)
	}
}

// TestApplyAtomic: a batch that fails half-way leaves nothing behind.
func TestApplyAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s1", at(0))},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "v1", "hi")}))

	bad := []chat.Effect{
		chat.SessionChanged{Session: queued("s2", at(time.Second))},
		msg("s2", 1, at(time.Second), chat.ByVisitor, 0, "Vera", "x", "hello"),
		msg("s1", 2, at(time.Second), chat.ByVisitor, 0, "Vera", "v2", "again"),
		chat.TransferChanged{Transfer: chat.Transfer{ID: 1, Session: "s1", Channel: "support", Kind: chat.KindTakeover,
			State: chat.TransferAccepted, Started: at(time.Second)}},
		chat.AgentChanged{Agent: anna, Chosen: chat.Away},
		chat.RequestCreated{Request: chat.Request{Number: 1001, Channel: "support", Title: "t", CreatedAt: at(0)}},
		msg("s1", 1, at(time.Second), chat.ByVisitor, 0, "Vera", "dup", "duplicate seq"),
	}
	if err := s.Apply(ctx, bad); err == nil {
		t.Fatal("a batch with a duplicate (session, seq) was accepted")
	}
	snap, err := s.Load(ctx, at(time.Minute), time.Time{})
	must(t, err)
	if len(snap.Sessions) != 1 || snap.Sessions[0].ID != "s1" || snap.Sessions[0].Seq != 1 {
		t.Fatalf("sessions after failed batch: %+v", snap.Sessions)
	}
	if len(snap.Transfers) != 0 || snap.NextTransfer != 1 || snap.NextRequest != 1001 {
		t.Fatalf("transfers %+v, counters %d %d", snap.Transfers, snap.NextTransfer, snap.NextRequest)
	}
	for _, a := range snap.Agents {
		if a.Chosen != chat.Present {
			t.Fatalf("agent changed by failed batch: %+v", a)
		}
	}
	for _, sid := range []chat.SessionID{"s1", "s2"} {
		es, err := s.Entries(ctx, sid, 0, 0)
		must(t, err)
		if sid == "s1" && (len(es) != 1 || es[0].Text != "hi") || sid == "s2" && len(es) != 0 {
			t.Fatalf("entries of %s: %+v", sid, es)
		}
	}
	// The store is still usable after the failure.
	must(t, s.Apply(ctx, []chat.Effect{msg("s1", 2, at(time.Second), chat.ByVisitor, 0, "Vera", "v2", "again")}))
}

type unknownEffect struct{ chat.Effect }

func TestApplyUnknownEffect(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	if err := s.Apply(context.Background(), []chat.Effect{unknownEffect{}}); err == nil {
		t.Fatal("unknown effect accepted")
	}
	// Delivery-only effects alone do not even open a transaction.
	must(t, s.Apply(context.Background(), []chat.Effect{chat.QueueChanged{}, chat.Subscribed{}, chat.Warned{}}))
	must(t, s.Apply(context.Background(), nil))
}

// TestReopen: migrations are idempotent and Close loses nothing.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	anna, _ := fixture(t, s)
	v, err := s.SchemaVersion(ctx)
	must(t, err)
	if v != len(migrations) {
		t.Fatalf("schema version %d, want %d", v, len(migrations))
	}
	sess := queued("s1", at(0))
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "v1", "hi"),
		chat.TransferChanged{Transfer: chat.Transfer{ID: 3, Session: "s1", Channel: "support", Kind: chat.KindTransfer,
			From: anna, To: 2, By: anna, State: chat.TransferPending, Started: at(0)}},
		chat.AgentChanged{Agent: anna, Chosen: chat.Away}}))
	must(t, s.CreateToken(ctx, anna, "tok", time.Time{}))
	dv, err := s.DirectoryVersion(ctx)
	must(t, err)
	now := at(time.Hour)
	before, err := s.Load(ctx, now, time.Time{})
	must(t, err)
	must(t, s.Close())

	for range 2 {
		s2, err := OpenSQLite(path)
		must(t, err)
		v, err := s2.SchemaVersion(ctx)
		must(t, err)
		after, err := s2.Load(ctx, now, time.Time{})
		must(t, err)
		dv2, err := s2.DirectoryVersion(ctx)
		must(t, err)
		id, err := s2.TokenAgent(ctx, "tok", now)
		must(t, err)
		must(t, s2.Close())
		if v != len(migrations) || dv2 != dv || id != anna {
			t.Fatalf("after reopen: schema %d, directory %d (was %d), token agent %d", v, dv2, dv, id)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("snapshot changed across reopen:\nbefore %+v\nafter  %+v", before, after)
		}
	}
}

func TestSchemaNewerRefused(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	_, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
	must(t, err)
	must(t, s.Close())
	if s2, err := OpenSQLite(path); err == nil {
		s2.Close()
		t.Fatal("a newer schema was opened")
	}
}

// TestLoadFilters: what Load leaves out.
func TestLoadFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	now := at(48 * time.Hour)
	endedSince := now.Add(-8 * time.Hour)

	ended := func(id chat.SessionID, when time.Time) chat.Session {
		x := queued(id, when.Add(-time.Hour))
		x.State, x.EndedAt, x.EndedBy = chat.Ended, when, "visitor"
		return x
	}
	transfer := func(id chat.TransferID, state chat.TransferState, started time.Time) chat.Transfer {
		return chat.Transfer{ID: id, Session: "open", Channel: "support", Kind: chat.KindTransfer, From: 1, To: 2, By: 1,
			State: state, Started: started}
	}
	active := queued("open", at(0))
	active.State, active.Owner = chat.Active, 1
	fx := []chat.Effect{
		chat.SessionChanged{Session: active},
		chat.SessionChanged{Session: queued("waiting", now.Add(-time.Minute))},
		chat.SessionChanged{Session: ended("old", endedSince.Add(-time.Nanosecond))},
		chat.SessionChanged{Session: ended("edge", endedSince)},
		chat.SessionChanged{Session: ended("new", now.Add(-time.Minute))},
		chat.TransferChanged{Transfer: transfer(1, chat.TransferPending, now.Add(-40*time.Hour))},
		chat.TransferChanged{Transfer: transfer(2, chat.TransferRejected, now.Add(-25*time.Hour))},
		chat.TransferChanged{Transfer: transfer(3, chat.TransferAccepted, now.Add(-23*time.Hour))},
	}
	// More client ids than the dedup window, interleaved with notes, and an
	// ended session's ids, which are not needed.
	var seq uint64
	for i := range chat.DedupWindow + 10 {
		seq++
		fx = append(fx, msg("open", seq, at(time.Duration(i)), chat.ByVisitor, 0, "Vera", fmt.Sprint("v", seq), "m"))
		if i%100 == 0 {
			seq++
			fx = append(fx, note("open", seq, at(time.Duration(i)), "note", false))
		}
	}
	fx = append(fx, msg("new", 1, now.Add(-2*time.Minute), chat.ByVisitor, 0, "Vera", "x", "bye"))
	must(t, s.Apply(ctx, fx))

	snap, err := s.Load(ctx, now, endedSince)
	must(t, err)
	var ids []string
	for _, x := range snap.Sessions {
		ids = append(ids, string(x.ID))
	}
	if got := strings.Join(ids, ","); got != "open,edge,new,waiting" {
		t.Fatalf("sessions loaded: %s", got)
	}
	var tids []chat.TransferID
	for _, x := range snap.Transfers {
		tids = append(tids, x.ID)
	}
	if !reflect.DeepEqual(tids, []chat.TransferID{1, 3}) {
		t.Fatalf("transfers loaded: %v", tids)
	}
	if snap.NextTransfer != 4 {
		t.Fatalf("next transfer %d", snap.NextTransfer)
	}
	rec := snap.Recent["open"]
	if len(rec) != chat.DedupWindow || rec[len(rec)-1].Seq != seq || rec[len(rec)-1].ClientID != fmt.Sprint("v", seq) {
		t.Fatalf("recent: %d ids, last %+v (want seq %d)", len(rec), rec[len(rec)-1], seq)
	}
	for i := 1; i < len(rec); i++ {
		if rec[i].Seq <= rec[i-1].Seq {
			t.Fatalf("recent not oldest first at %d", i)
		}
	}
	if _, ok := snap.Recent["new"]; ok || len(snap.Recent) != 1 {
		t.Fatalf("recent ids of closed sessions loaded: %v", len(snap.Recent))
	}
	if row, err := s.SessionRow(ctx, "old"); err != nil || row.State != chat.Ended {
		t.Fatalf("old session row: %+v %v", row, err)
	}
}

// TestChatsToday counts from local midnight in each channel's zone.
func TestChatsToday(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	must(t, s.PutChannel(ctx, ChannelRow{Key: "nz", Name: "NZ", TimeZone: "Pacific/Auckland"}))
	must(t, s.PutChannel(ctx, ChannelRow{Key: "utc", Name: "UTC"}))
	must(t, s.PutChannel(ctx, ChannelRow{Key: "quiet", Name: "Quiet", TimeZone: "America/New_York"}))
	// 2026-11-28 12:00 UTC is 01:00 on the 29th in Auckland (UTC+13).
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mk := func(id chat.SessionID, ch chat.ChannelID, created time.Time) chat.Effect {
		x := queued(id, created)
		x.Channel = ch
		return chat.SessionChanged{Session: x}
	}
	must(t, s.Apply(ctx, []chat.Effect{
		mk("a", "nz", now.Add(-30*time.Minute)), // 00:30 on the 29th: today
		mk("b", "nz", now.Add(-90*time.Minute)), // 23:30 on the 28th: yesterday
		mk("c", "utc", now.Add(-11*time.Hour)),
		mk("d", "utc", now.Add(-13*time.Hour)),
		mk("e", "utc", now.Add(-time.Minute)),
	}))
	snap, err := s.Load(ctx, now, time.Time{})
	must(t, err)
	want := map[chat.ChannelID]int{"nz": 1, "utc": 2}
	if !reflect.DeepEqual(snap.ChatsToday, want) {
		t.Fatalf("chats today %v, want %v", snap.ChatsToday, want)
	}
}

func TestTransfersNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	var fx []chat.Effect
	for i := 1; i <= 5; i++ {
		fx = append(fx, chat.TransferChanged{Transfer: chat.Transfer{ID: chat.TransferID(i), Session: "s",
			Channel: "c", Kind: chat.KindTransfer, From: 1, To: chat.AgentID(i), By: 1,
			State: chat.TransferRejected, Started: at(time.Duration(i) * time.Minute), Ended: at(time.Hour)}})
	}
	must(t, s.Apply(ctx, fx))
	list, err := s.Transfers(ctx, "s", 0, 3)
	must(t, err)
	if len(list) != 3 || list[0].ID != 5 || list[2].ID != 3 {
		t.Fatalf("newest first, 3: %+v", list)
	}
	list, err = s.Transfers(ctx, "", 4, 0)
	must(t, err)
	if len(list) != 1 || list[0].ID != 4 {
		t.Fatalf("by receiver: %+v", list)
	}
	list, err = s.Transfers(ctx, "", 1, 0)
	must(t, err)
	if len(list) != 5 {
		t.Fatalf("by starter: %+v", list)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, bert := fixture(t, s)
	now := time.Now()

	must(t, s.CreateToken(ctx, anna, "forever", time.Time{}))
	must(t, s.CreateToken(ctx, anna, "hour", now.Add(time.Hour)))
	must(t, s.CreateToken(ctx, bert, "bert", now.Add(time.Hour)))
	if err := s.CreateToken(ctx, anna, "hour", now.Add(time.Hour)); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate token: %v", err)
	}
	if err := s.CreateToken(ctx, 999, "ghost", time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token of unknown agent: %v", err)
	}
	for _, c := range []struct {
		hash string
		at   time.Time
		want chat.AgentID
	}{
		{"forever", now.Add(1000 * time.Hour), anna},
		{"hour", now.Add(59 * time.Minute), anna},
		{"hour", now.Add(time.Hour), 0}, // expired at its deadline
		{"bert", now, bert},
		{"nope", now, 0},
	} {
		id, err := s.TokenAgent(ctx, c.hash, c.at)
		if c.want == 0 && err != ErrNotFound || c.want != 0 && (err != nil || id != c.want) {
			t.Fatalf("TokenAgent(%s) = %d, %v; want %d", c.hash, id, err, c.want)
		}
	}
	must(t, s.RevokeToken(ctx, "forever"))
	if _, err := s.TokenAgent(ctx, "forever", now); err != ErrNotFound {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.RevokeToken(ctx, "nope"); err != ErrNotFound {
		t.Fatalf("revoke unknown: %v", err)
	}

	// Disabling revokes; enabling again does not bring tokens back.
	must(t, s.SetAgentDisabled(ctx, "bert", true))
	if _, err := s.TokenAgent(ctx, "bert", now); err != ErrNotFound {
		t.Fatalf("disabled agent's token: %v", err)
	}
	must(t, s.SetAgentDisabled(ctx, "bert", false))
	if _, err := s.TokenAgent(ctx, "bert", now); err != ErrNotFound {
		t.Fatalf("token of re-enabled agent: %v", err)
	}
	must(t, s.CreateToken(ctx, bert, "bert2", time.Time{}))
	if id, err := s.TokenAgent(ctx, "bert2", now); err != nil || id != bert {
		t.Fatalf("new token: %d %v", id, err)
	}
	if id, err := s.TokenAgent(ctx, "hour", now); err != nil || id != anna {
		t.Fatalf("live token pruned: %d %v", id, err)
	}
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	version := func() int64 {
		t.Helper()
		v, err := s.DirectoryVersion(ctx)
		must(t, err)
		return v
	}
	v := version()
	bumped := func(what string) {
		t.Helper()
		if nv := version(); nv != v+1 {
			t.Fatalf("%s: directory version %d -> %d", what, v, nv)
		}
		v++
	}
	same := func(what string) {
		t.Helper()
		if nv := version(); nv != v {
			t.Fatalf("%s: directory version %d -> %d", what, v, nv)
		}
	}

	anna, err := s.CreateAgent(ctx, "anna", "Anna", []byte{1, 2, 3})
	must(t, err)
	bumped("create agent")
	if _, err := s.CreateAgent(ctx, "anna", "Other", []byte{9}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate login: %v", err)
	}
	same("failed create")
	must(t, s.SetPassword(ctx, "anna", []byte{4, 5}))
	bumped("set password")
	if err := s.SetPassword(ctx, "nobody", []byte{1}); err != ErrNotFound {
		t.Fatalf("password of unknown: %v", err)
	}
	if err := s.SetAgentDisabled(ctx, "nobody", true); err != ErrNotFound {
		t.Fatalf("disable unknown: %v", err)
	}
	if _, err := s.AgentByLogin(ctx, "nobody"); err != ErrNotFound {
		t.Fatalf("unknown login: %v", err)
	}
	same("failed writes")

	ch := ChannelRow{Key: "sales", Name: "Sales", Hours: "mon-fri 09:00-17:00", TimeZone: "Europe/Berlin",
		TransferTimeout: 2 * time.Minute}
	must(t, s.PutChannel(ctx, ch))
	bumped("put channel")
	ch.Name, ch.OfflineForm, ch.Templates, ch.Language = "Sales team", true, []string{"Hi"}, "sv"
	must(t, s.PutChannel(ctx, ch))
	bumped("update channel")
	if err := s.PutChannel(ctx, ChannelRow{Key: "x", Name: "X", TimeZone: "Mars/Olympus"}); err == nil {
		t.Fatal("bad time zone accepted")
	}
	if err := s.PutChannel(ctx, ChannelRow{Key: "x", Name: "X", Hours: "someday"}); err == nil {
		t.Fatal("bad hours accepted")
	}
	same("refused channels")
	chans, err := s.ListChannels(ctx)
	must(t, err)
	if len(chans) != 1 || !reflect.DeepEqual(chans[0], ch) {
		t.Fatalf("channels: %+v", chans)
	}

	must(t, s.Grant(ctx, "anna", "sales", chat.PermRespond|chat.PermListen))
	bumped("grant")
	if err := s.Grant(ctx, "anna", "nowhere", chat.PermRespond); err != ErrNotFound {
		t.Fatalf("grant in unknown channel: %v", err)
	}
	if err := s.Grant(ctx, "nobody", "sales", chat.PermRespond); err != ErrNotFound {
		t.Fatalf("grant to unknown: %v", err)
	}
	a, err := s.AgentByLogin(ctx, "anna")
	must(t, err)
	want := AgentRow{ID: anna, Login: "anna", Name: "Anna", PasswordHash: []byte{4, 5},
		Perms: map[chat.ChannelID]chat.Perm{"sales": chat.PermRespond | chat.PermListen}}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("agent:\n got %+v\nwant %+v", a, want)
	}
	must(t, s.Grant(ctx, "anna", "sales", chat.PermManage))
	bumped("regrant")
	must(t, s.Grant(ctx, "anna", "sales", 0))
	bumped("revoke grant")
	must(t, s.SetAgentDisabled(ctx, "anna", true))
	bumped("disable")
	list, err := s.ListAgents(ctx)
	must(t, err)
	if len(list) != 1 || !list[0].Disabled || len(list[0].Perms) != 0 {
		t.Fatalf("agents: %+v", list)
	}

	// Relay writes are not directory changes.
	must(t, s.CreateToken(ctx, anna, "t", time.Time{}))
	must(t, s.Apply(ctx, []chat.Effect{chat.AgentChanged{Agent: anna, Chosen: chat.Away}}))
	same("token and apply")
}

func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	anna, _ := fixture(t, s)
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s1", at(0))},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "v1", "hi")}))
	path := filepath.Join(t.TempDir(), "backup.db")
	must(t, s.Backup(ctx, path))
	if err := s.Backup(ctx, path); !errors.Is(err, ErrExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	// The original goes on working.
	must(t, s.Apply(ctx, []chat.Effect{msg("s1", 2, at(time.Second), chat.ByVisitor, 0, "Vera", "v2", "later")}))

	b, err := OpenSQLite(path)
	must(t, err)
	defer b.Close()
	es, err := b.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(es) != 1 || es[0].Text != "hi" {
		t.Fatalf("backup entries: %+v", es)
	}
	a, err := b.AgentByLogin(ctx, "anna")
	must(t, err)
	if a.ID != anna || a.Perms["support"] == 0 {
		t.Fatalf("backup agent: %+v", a)
	}
	v, err := b.SchemaVersion(ctx)
	must(t, err)
	if v != len(migrations) {
		t.Fatalf("backup schema version %d", v)
	}
}

// TestReadsDuringWrite: readers get answers while a long batch is being
// written, and see either none or all of it.
func TestReadsDuringWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	fixture(t, s)
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s1", at(0))},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "v1", "hi")}))

	const n = 5000
	big := make([]chat.Effect, 0, n)
	for i := range n {
		big = append(big, msg("s1", uint64(i+2), at(time.Duration(i)), chat.ByVisitor, 0, "Vera", fmt.Sprint("c", i), "text"))
	}
	var writing atomic.Bool
	writing.Store(true)
	done := make(chan error, 1)
	go func() {
		done <- s.Apply(ctx, big)
		writing.Store(false)
	}()

	var (
		wg           sync.WaitGroup
		duringWrites atomic.Int64
		errs         = make(chan error, 4)
	)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for writing.Load() {
				var err error
				var got int
				switch r % 3 {
				case 0:
					var es []chat.Entry
					es, err = s.Entries(ctx, "s1", 0, 0)
					got = len(es)
				case 1:
					var snap chat.Snapshot
					snap, err = s.Load(ctx, at(time.Hour), time.Time{})
					// Recent holds at most DedupWindow ids: 1 before, all after.
					if got = len(snap.Recent["s1"]); got == chat.DedupWindow {
						got = n + 1
					}
				default:
					_, err = s.DirectoryVersion(ctx)
					got = 1
				}
				if err != nil {
					errs <- err
					return
				}
				if got != 1 && got != n+1 {
					errs <- fmt.Errorf("reader %d saw %d entries: a partial batch", r, got)
					return
				}
				if writing.Load() {
					duringWrites.Add(1)
				}
			}
		}()
	}
	must(t, <-done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d reads completed while the batch was being written", duringWrites.Load())
	es, err := s.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(es) != n+1 {
		t.Fatalf("%d entries after the batch", len(es))
	}
}

// TestConcurrentApply: callers may Apply from several goroutines; the
// writer connection serialises them.
func TestConcurrentApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := chat.SessionID(fmt.Sprint("s", g))
			if err := s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued(sid, at(0))}}); err != nil {
				t.Error(err)
				return
			}
			for i := range 50 {
				if err := s.Apply(ctx, []chat.Effect{msg(sid, uint64(i+1), at(time.Duration(i)), chat.ByAgent, 1, "A", "", "x")}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for g := range 4 {
		row, err := s.SessionRow(ctx, chat.SessionID(fmt.Sprint("s", g)))
		must(t, err)
		if row.Seq != 50 || !row.LastAgent.Equal(at(49)) {
			t.Fatalf("session %d: %+v", g, row)
		}
	}
}

func TestZeroTimeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{{}, base, base.In(time.FixedZone("x", 3600)), time.Unix(0, 1)} {
		if got := fromNanos(nanos(tm)); !got.Equal(tm) || got.IsZero() != tm.IsZero() {
			t.Fatalf("%v -> %v", tm, got)
		}
	}
}
