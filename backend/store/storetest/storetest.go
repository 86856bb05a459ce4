// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite, PostgreSQL) runs the same tests of what the relay
// relies on. Tests of one implementation's internals stay with it.
package storetest

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
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

// Opener makes the stores the suite tests.
type Opener struct {
	// Open returns a store on a new, empty database, closed when the test
	// ends, and a Reopen for the same database.
	Open func(t testing.TB) (store.Store, Reopen)
	// Restore opens a store on what Backup wrote to path (nil: the suite
	// checks only that Backup writes and refuses to overwrite).
	Restore func(t testing.TB, path string) store.Store
}

// Reopen opens another store on the same database, as a restarted process
// would; it is closed when the test ends (closing it earlier is fine).
type Reopen func(t testing.TB) store.Store

func (o Opener) open(t testing.TB) store.Store {
	s, _ := o.Open(t)
	return s
}

// Run runs the suite, each test in parallel on a database of its own.
func Run(t *testing.T, o Opener) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Opener)
	}{
		{"ApplyRoundTrip", testApplyRoundTrip},
		{"ApplyOrderDoesNotMoveSeqBack", testApplyOrderDoesNotMoveSeqBack},
		{"ApplyAtomic", testApplyAtomic},
		{"ApplyUnknownEffect", testApplyUnknownEffect},
		{"ApplyRefusesBadLogs", testApplyRefusesBadLogs},
		{"Reopen", testReopen},
		{"LoadFilters", testLoadFilters},
		{"ChatsToday", testChatsToday},
		{"TransfersNewestFirst", testTransfersNewestFirst},
		{"Tokens", testTokens},
		{"Admin", testAdmin},
		{"Backup", testBackup},
		{"ReadsDuringWrite", testReadsDuringWrite},
		{"ConcurrentApply", testConcurrentApply},
		{"ZeroTimeRoundTrip", testZeroTimeRoundTrip},
		{"TextRoundTrip", testTextRoundTrip},
		{"LogWindows", testLogWindows},
		{"Directory", testDirectory},
		{"DirectoryVersionSeesOtherProcesses", testDirectoryVersionSeesOtherProcesses},
		{"PasswordChangeRevokesTokens", testPasswordChangeRevokesTokens},
		{"HandoverTokensDieWithTheirParent", testHandoverTokensDieWithTheirParent},
		{"SystemLinesAsCodes", testSystemLinesAsCodes},
		{"QuickRepliesRoundTrip", testQuickRepliesRoundTrip},
		{"QuickRepliesUnknownAgent", testQuickRepliesUnknownAgent},
		{"QuickRepliesLargestList", testQuickRepliesLargestList},
		{"RequestFollowUpIsStoredWithItsOutbox", testRequestFollowUpIsStoredWithItsOutbox},
		{"RequestChangeOfUnknownRequestFails", testRequestChangeOfUnknownRequestFails},
		{"WriteProbe", testWriteProbe},
		{"FilesLifecycle", testFilesLifecycle},
		{"FilesPurge", testFilesPurge},
		{"ChannelFileRules", testChannelFileRules},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, o)
		})
	}
}

// base is a fixed instant with nanoseconds, to show they survive.
var base = time.Date(2026, 11, 28, 9, 2, 3, 123456789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// chunkAt is a run of entries: windows of the log are read around it (the
// SQLite store seals its logs in runs of this size).
const chunkAt = 64

// fixture creates a channel in Stockholm time and two agents.
func fixture(t testing.TB, s store.Store) (anna, bert chat.AgentID) {
	t.Helper()
	ctx := context.Background()
	must(t, s.PutChannel(ctx, store.ChannelRow{
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

// schemaVersion is the store's schema version, for stores that tell it
// (both do); 0 for others.
func schemaVersion(t testing.TB, s store.Store) int {
	t.Helper()
	sv, ok := s.(interface {
		SchemaVersion(context.Context) (int, error)
	})
	if !ok {
		return 0
	}
	v, err := sv.SchemaVersion(context.Background())
	must(t, err)
	if v <= 0 {
		t.Fatalf("schema version %d", v)
	}
	return v
}

type unknownEffect struct{ chat.Effect }

// logWriter appends to sessions the way the desk does and remembers what
// it wrote.
type logWriter struct {
	seqs map[chat.SessionID]uint64
	all  map[chat.SessionID][]chat.Entry
}

func newLogWriter() *logWriter {
	return &logWriter{seqs: map[chat.SessionID]uint64{}, all: map[chat.SessionID][]chat.Entry{}}
}

func (w *logWriter) next(sid chat.SessionID, clientID string) chat.EntryAdded {
	w.seqs[sid]++
	seq := w.seqs[sid]
	e := chat.Entry{Seq: seq, At: at(time.Duration(seq) * time.Second), Kind: chat.KindMessage,
		AuthorKind: chat.ByVisitor, AuthorName: "Vera", ClientID: clientID, Text: fmt.Sprintf("%s #%d", sid, seq)}
	if clientID == "" {
		e.Kind, e.AuthorKind, e.AuthorName, e.Note = chat.KindNote, chat.BySystem, "Anna", chat.NoteJoined
	} else if seq%3 == 0 {
		e.AuthorKind, e.Author, e.AuthorName = chat.ByAgent, 7, "Anna"
	}
	w.all[sid] = append(w.all[sid], e)
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: e}
}

// check compares every window of a session's log with what was written.
func (w *logWriter) check(t *testing.T, s store.Store, sid chat.SessionID) {
	t.Helper()
	ctx := context.Background()
	want := w.all[sid]
	for _, after := range []int{0, 1, chunkAt - 1, chunkAt, chunkAt + 1, len(want) - 3, len(want), len(want) + 5} {
		for _, limit := range []int{0, 1, 5, chunkAt + 3} {
			if after < 0 {
				continue
			}
			got, err := s.Entries(ctx, sid, uint64(after), limit)
			must(t, err)
			var exp []chat.Entry
			if after < len(want) {
				exp = want[after:]
			}
			if limit > 0 && len(exp) > limit {
				exp = exp[:limit]
			}
			if len(got) != len(exp) || (len(exp) > 0 && !reflect.DeepEqual(got, exp)) {
				t.Fatalf("Entries(%s, after %d, limit %d): got %d entries, want %d\n got %+v\nwant %+v",
					sid, after, limit, len(got), len(exp), head(got), head(exp))
			}
		}
	}
}

func head(es []chat.Entry) []chat.Entry { return es[:min(len(es), 3)] }

// checkRecent compares the recent client ids Load gives for an open session
// with the last chat.DedupWindow of those written.
func checkRecent(t *testing.T, s store.Store, w *logWriter, sid chat.SessionID) {
	t.Helper()
	var all []chat.RecentID
	for _, e := range w.all[sid] {
		if e.ClientID != "" {
			all = append(all, chat.RecentID{AuthorKind: e.AuthorKind, Author: e.Author, ClientID: e.ClientID, Seq: e.Seq})
		}
	}
	snap, err := s.Load(context.Background(), at(time.Hour), time.Time{})
	must(t, err)
	want := all[max(len(all)-chat.DedupWindow, 0):]
	if got := snap.Recent[sid]; !reflect.DeepEqual(got, want) {
		t.Fatalf("recent ids of %s:\n got %d %+v\nwant %d %+v", sid, len(got), got, len(want), want)
	}
}

// testApplyRoundTrip sends every kind of effect through Apply and reads it
// back through Load, Entries, SessionRow, Transfers and Request.
func testApplyRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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
	if _, err := s.Request(ctx, 1); err != store.ErrNotFound {
		t.Fatalf("unknown request: %v", err)
	}
	if _, err := s.SessionRow(ctx, "nope"); err != store.ErrNotFound {
		t.Fatalf("unknown session: %v", err)
	}
}

// testApplyOrderDoesNotMoveSeqBack: a session snapshot taken before later
// entries of the same batch must not lower the stored seq.
func testApplyOrderDoesNotMoveSeqBack(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

// testApplyAtomic: a batch that fails half-way leaves nothing behind.
func testApplyAtomic(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

func testApplyUnknownEffect(t *testing.T, o Opener) {
	s := o.open(t)
	if err := s.Apply(context.Background(), []chat.Effect{unknownEffect{}}); err == nil {
		t.Fatal("unknown effect accepted")
	}
	// Delivery-only effects alone do not even open a transaction.
	must(t, s.Apply(context.Background(), []chat.Effect{chat.QueueChanged{}, chat.Subscribed{}, chat.Warned{}}))
	must(t, s.Apply(context.Background(), nil))
}

// testReopen: migrations are idempotent and Close loses nothing.
func testReopen(t *testing.T, o Opener) {
	ctx := context.Background()
	s, reopen := o.Open(t)
	anna, _ := fixture(t, s)
	v := schemaVersion(t, s)
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
		s2 := reopen(t)
		v2 := schemaVersion(t, s2)
		after, err := s2.Load(ctx, now, time.Time{})
		must(t, err)
		dv2, err := s2.DirectoryVersion(ctx)
		must(t, err)
		id, err := s2.TokenAgent(ctx, "tok", now)
		must(t, err)
		must(t, s2.Close())
		if v2 != v || dv2 != dv || id != anna {
			t.Fatalf("after reopen: schema %d (was %d), directory %d (was %d), token agent %d", v2, v, dv2, dv, id)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("snapshot changed across reopen:\nbefore %+v\nafter  %+v", before, after)
		}
	}
}

// testLoadFilters: what Load leaves out.
func testLoadFilters(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

// testChatsToday counts from local midnight in each channel's zone.
func testChatsToday(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "nz", Name: "NZ", TimeZone: "Pacific/Auckland"}))
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "utc", Name: "UTC"}))
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "quiet", Name: "Quiet", TimeZone: "America/New_York"}))
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

func testTransfersNewestFirst(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

func testTokens(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, bert := fixture(t, s)
	now := time.Now()

	must(t, s.CreateToken(ctx, anna, "forever", time.Time{}))
	must(t, s.CreateToken(ctx, anna, "hour", now.Add(time.Hour)))
	must(t, s.CreateToken(ctx, bert, "bert", now.Add(time.Hour)))
	if err := s.CreateToken(ctx, anna, "hour", now.Add(time.Hour)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate token: %v", err)
	}
	if err := s.CreateToken(ctx, 999, "ghost", time.Time{}); !errors.Is(err, store.ErrNotFound) {
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
		if c.want == 0 && err != store.ErrNotFound || c.want != 0 && (err != nil || id != c.want) {
			t.Fatalf("TokenAgent(%s) = %d, %v; want %d", c.hash, id, err, c.want)
		}
	}
	must(t, s.RevokeToken(ctx, "forever"))
	if _, err := s.TokenAgent(ctx, "forever", now); err != store.ErrNotFound {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.RevokeToken(ctx, "nope"); err != store.ErrNotFound {
		t.Fatalf("revoke unknown: %v", err)
	}

	// Disabling revokes; enabling again does not bring tokens back.
	must(t, s.SetAgentDisabled(ctx, "bert", true))
	if _, err := s.TokenAgent(ctx, "bert", now); err != store.ErrNotFound {
		t.Fatalf("disabled agent's token: %v", err)
	}
	must(t, s.SetAgentDisabled(ctx, "bert", false))
	if _, err := s.TokenAgent(ctx, "bert", now); err != store.ErrNotFound {
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

func testAdmin(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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
	if _, err := s.CreateAgent(ctx, "anna", "Other", []byte{9}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate login: %v", err)
	}
	same("failed create")
	must(t, s.SetPassword(ctx, "anna", []byte{4, 5}))
	bumped("set password")
	if err := s.SetPassword(ctx, "nobody", []byte{1}); err != store.ErrNotFound {
		t.Fatalf("password of unknown: %v", err)
	}
	if err := s.SetAgentDisabled(ctx, "nobody", true); err != store.ErrNotFound {
		t.Fatalf("disable unknown: %v", err)
	}
	if _, err := s.AgentByLogin(ctx, "nobody"); err != store.ErrNotFound {
		t.Fatalf("unknown login: %v", err)
	}
	same("failed writes")

	ch := store.ChannelRow{Key: "sales", Name: "Sales", Hours: "mon-fri 09:00-17:00", TimeZone: "Europe/Berlin",
		TransferTimeout: 2 * time.Minute}
	must(t, s.PutChannel(ctx, ch))
	bumped("put channel")
	ch.Name, ch.OfflineForm, ch.Templates, ch.Language = "Sales team", true, []string{"Hi"}, "sv"
	must(t, s.PutChannel(ctx, ch))
	bumped("update channel")
	if err := s.PutChannel(ctx, store.ChannelRow{Key: "x", Name: "X", TimeZone: "Mars/Olympus"}); err == nil {
		t.Fatal("bad time zone accepted")
	}
	if err := s.PutChannel(ctx, store.ChannelRow{Key: "x", Name: "X", Hours: "someday"}); err == nil {
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
	if err := s.Grant(ctx, "anna", "nowhere", chat.PermRespond); err != store.ErrNotFound {
		t.Fatalf("grant in unknown channel: %v", err)
	}
	if err := s.Grant(ctx, "nobody", "sales", chat.PermRespond); err != store.ErrNotFound {
		t.Fatalf("grant to unknown: %v", err)
	}
	a, err := s.AgentByLogin(ctx, "anna")
	must(t, err)
	want := store.AgentRow{ID: anna, Login: "anna", Name: "Anna", PasswordHash: []byte{4, 5},
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

func testBackup(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, _ := fixture(t, s)
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s1", at(0))},
		msg("s1", 1, at(0), chat.ByVisitor, 0, "Vera", "v1", "hi")}))
	path := filepath.Join(t.TempDir(), "backup")
	must(t, s.Backup(ctx, path))
	if err := s.Backup(ctx, path); !errors.Is(err, store.ErrExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	// The original goes on working.
	must(t, s.Apply(ctx, []chat.Effect{msg("s1", 2, at(time.Second), chat.ByVisitor, 0, "Vera", "v2", "later")}))

	if o.Restore == nil {
		return
	}
	restored := o.Restore(t, path)
	es, err := restored.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(es) != 1 || es[0].Text != "hi" {
		t.Fatalf("backup entries: %+v", es)
	}
	a, err := restored.AgentByLogin(ctx, "anna")
	must(t, err)
	if a.ID != anna || a.Perms["support"] == 0 {
		t.Fatalf("backup agent: %+v", a)
	}
	if v, want := schemaVersion(t, restored), schemaVersion(t, s); v != want {
		t.Fatalf("backup schema version %d, want %d", v, want)
	}
}

// testReadsDuringWrite: readers get answers while a long batch is being
// written, and see either none or all of it.
func testReadsDuringWrite(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

// testConcurrentApply: callers may Apply from several goroutines; the
// writer connection serialises them.
func testConcurrentApply(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
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

func testDirectory(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, _ := fixture(t, s)
	must(t, s.Grant(ctx, "anna", "support", chat.PermRespond|chat.PermListen))
	must(t, s.SetAgentDisabled(ctx, "bert", true))
	d, err := s.Directory(ctx)
	must(t, err)
	v, err := s.DirectoryVersion(ctx)
	must(t, err)
	if d.Version != v {
		t.Errorf("version %d, want %d", d.Version, v)
	}
	if len(d.Channels) != 1 || d.Channels[0].ID != "support" || d.Channels[0].WarnAfter != 90*time.Second {
		t.Errorf("channels %+v", d.Channels)
	}
	if len(d.Agents) != 2 {
		t.Fatalf("agents %+v", d.Agents)
	}
	for _, a := range d.Agents {
		switch a.Login {
		case "anna":
			if a.ID != anna || a.Disabled || a.Perms["support"] != chat.PermRespond|chat.PermListen {
				t.Errorf("anna %+v", a)
			}
		case "bert":
			if !a.Disabled {
				t.Errorf("bert %+v", a)
			}
		}
	}
}

// testPasswordChangeRevokesTokens: whoever held the old password (or a token
// got with it) is out once it changes.
func testPasswordChangeRevokesTokens(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, bert := fixture(t, s)
	now := time.Now()
	must(t, s.CreateToken(ctx, anna, "anna-1", time.Time{}))
	must(t, s.CreateToken(ctx, bert, "bert-1", time.Time{}))
	v0, _ := s.DirectoryVersion(ctx)
	must(t, s.SetPassword(ctx, "anna", []byte("new-hash")))
	if _, err := s.TokenAgent(ctx, "anna-1", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("anna's old token after passwd: %v", err)
	}
	if id, err := s.TokenAgent(ctx, "bert-1", now); err != nil || id != bert {
		t.Errorf("bert's token: %d %v", id, err)
	}
	if v1, _ := s.DirectoryVersion(ctx); v1 == v0 {
		t.Error("a password change does not move the directory version; a relay would not notice")
	}
	if err := s.SetPassword(ctx, "nobody", []byte("x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown login: %v", err)
	}
}

// testHandoverTokensDieWithTheirParent: a token minted by a session (and the
// one its redemption issues, and further down) is revoked with it.
func testHandoverTokensDieWithTheirParent(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, _ := fixture(t, s)
	now := time.Now()
	later := now.Add(time.Hour)
	must(t, s.CreateToken(ctx, anna, "main", later))
	must(t, s.CreateToken(ctx, anna, "other", later))
	must(t, s.CreateHandoverToken(ctx, "main", "h1", now, now.Add(time.Minute)))
	id, err := s.RedeemToken(ctx, "h1", "dash", now, later)
	if err != nil || id != anna {
		t.Fatalf("redeem: %d %v", id, err)
	}
	if _, err := s.RedeemToken(ctx, "h1", "dash-again", now, later); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second redeem: %v", err)
	}
	// The dashboard hands on again: a grandchild.
	must(t, s.CreateHandoverToken(ctx, "dash", "h2", now, now.Add(time.Minute)))
	if _, err := s.RedeemToken(ctx, "h2", "dash2", now, later); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateHandoverToken(ctx, "h1", "h3", now, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("minting from a used one-time token: %v", err)
	}
	must(t, s.RevokeToken(ctx, "main"))
	for _, h := range []string{"main", "dash", "dash2"} {
		if _, err := s.TokenAgent(ctx, h, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s still valid after its parent's logout: %v", h, err)
		}
	}
	if _, err := s.TokenAgent(ctx, "other", now); err != nil {
		t.Errorf("an unrelated session was revoked: %v", err)
	}
	if err := s.CreateHandoverToken(ctx, "main", "h4", now, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("minting from a revoked token: %v", err)
	}
}

func testQuickRepliesRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	s, reopen := o.Open(t)
	anna, bert := fixture(t, s)

	got, err := s.QuickReplies(ctx, anna)
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("before any save: %#v, want an empty list", got)
	}

	first := []protocol.QuickReply{
		{Title: "Greeting", Text: "Hello! How can I help you?"},
		{Text: "  Two lines,\nspacing kept.  "},
		{Title: "Bye", Text: "Anything else I can do?"},
	}
	must(t, s.SetQuickReplies(ctx, anna, first))
	got, err = s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("read back %+v, want %+v", got, first)
	}

	// Each agent has their own.
	other, err := s.QuickReplies(ctx, bert)
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("bert sees %+v", other)
	}
	must(t, s.SetQuickReplies(ctx, bert, []protocol.QuickReply{{Text: "Bert's"}}))

	// A save replaces the whole list, in its new order.
	second := []protocol.QuickReply{first[2], first[0]}
	must(t, s.SetQuickReplies(ctx, anna, second))
	got, err = s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, second) {
		t.Fatalf("after replacing: %+v, want %+v", got, second)
	}

	// Durable: a new process on the same file reads the same lists.
	must(t, s.Close())
	s2 := reopen(t)
	got, err = s2.QuickReplies(ctx, anna)
	must(t, err)
	other, err = s2.QuickReplies(ctx, bert)
	must(t, err)
	if !reflect.DeepEqual(got, second) || len(other) != 1 || other[0].Text != "Bert's" {
		t.Fatalf("after reopen: anna %+v, bert %+v", got, other)
	}

	// An empty list clears them.
	must(t, s2.SetQuickReplies(ctx, anna, nil))
	got, err = s2.QuickReplies(ctx, anna)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("after clearing: %+v", got)
	}
}

func testQuickRepliesUnknownAgent(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	fixture(t, s)
	err := s.SetQuickReplies(ctx, 999, []protocol.QuickReply{{Text: "x"}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown agent: %v, want store.ErrNotFound", err)
	}
	if got, err := s.QuickReplies(ctx, 999); err != nil || len(got) != 0 {
		t.Fatalf("replies stored for an unknown agent: %+v %v", got, err)
	}
}

// The largest list the protocol allows is stored and read back whole.
func testQuickRepliesLargestList(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, _ := fixture(t, s)
	list := make([]protocol.QuickReply, protocol.MaxQuickReplies)
	for i := range list {
		list[i] = protocol.QuickReply{Title: "t", Text: string(rune('a' + i%26))}
	}
	list, perr := protocol.CheckQuickReplies(list)
	if perr != nil {
		t.Fatal(perr)
	}
	must(t, s.SetQuickReplies(ctx, anna, list))
	got, err := s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, list) {
		t.Fatalf("read back %d replies, want %d in order", len(got), len(list))
	}
}

// testRequestFollowUpIsStoredWithItsOutbox: every step lands in the history,
// an answer by e-mail and every handed-off change queue an outbox item in
// the same commit, and a closed request leaves the desk's snapshot.
func testRequestFollowUpIsStoredWithItsOutbox(t *testing.T, o Opener) {
	s := o.open(t)
	anna, _ := fixture(t, s)
	ctx := context.Background()
	r := chat.Request{Number: 1001, Channel: "support", Title: "Paket", Visitor: chat.Visitor{Name: "Åsa", Email: "asa@example.com"},
		Question: "Var är mitt paket?", CreatedAt: at(0)}
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestCreated{Request: r, HandOff: true}}))
	r.State, r.Assignee, r.UpdatedAt = chat.RequestAnswered, anna, at(time.Minute)
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestChanged{Request: r, HandOff: true, Step: chat.RequestStep{
		Request: 1001, At: at(time.Minute), Action: chat.StepAnswered, By: anna, Text: "Det är på väg.", Mail: true, State: chat.RequestAnswered}}}))

	snap, err := s.Load(ctx, at(time.Hour), at(-time.Hour))
	must(t, err)
	if len(snap.Requests) != 1 || snap.Requests[0].State != chat.RequestAnswered || snap.Requests[0].Assignee != anna {
		t.Fatalf("snapshot requests = %+v", snap.Requests)
	}
	steps, err := s.RequestSteps(ctx, 1001)
	must(t, err)
	if len(steps) != 2 || steps[0].Action != chat.StepCreated || steps[0].State != chat.RequestOpen ||
		steps[1].Action != chat.StepAnswered || steps[1].Text != "Det är på väg." || !steps[1].Mail || steps[1].By != anna {
		t.Fatalf("steps = %+v", steps)
	}
	mails, err := s.DueOutbox(ctx, store.OutboxMail, at(time.Hour), 10)
	must(t, err)
	hooks, err := s.DueOutbox(ctx, store.OutboxWebhook, at(time.Hour), 10)
	must(t, err)
	if len(mails) != 1 || len(hooks) != 2 || hooks[0].ID >= hooks[1].ID {
		t.Fatalf("outbox: mails %+v, webhooks %+v", mails, hooks)
	}
	if st, err := s.RequestStep(ctx, mails[0].Step); err != nil || st.Text != "Det är på väg." {
		t.Fatalf("the mail's step: %+v %v", st, err)
	}

	// A failed attempt waits; a finished one is done and noted.
	must(t, s.RetryOutbox(ctx, mails[0].ID, at(2*time.Hour), "connection refused"))
	if due, _ := s.DueOutbox(ctx, store.OutboxMail, at(time.Hour), 10); len(due) != 0 {
		t.Fatalf("retried too early: %+v", due)
	}
	due, _ := s.DueOutbox(ctx, store.OutboxMail, at(2*time.Hour), 10)
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("due after the back-off: %+v", due)
	}
	must(t, s.FinishOutbox(ctx, due[0].ID, at(2*time.Hour), "", &chat.RequestStep{Request: 1001, At: at(2 * time.Hour),
		Action: chat.StepMailSent, State: chat.RequestAnswered}))
	if n, _ := s.PendingOutbox(ctx, store.OutboxMail); n != 0 {
		t.Errorf("mail still pending: %d", n)
	}
	if steps, _ := s.RequestSteps(ctx, 1001); len(steps) != 3 || steps[2].Action != chat.StepMailSent {
		t.Errorf("steps after sending = %+v", steps)
	}

	r.State = chat.RequestClosed
	must(t, s.Apply(ctx, []chat.Effect{chat.RequestChanged{Request: r, Step: chat.RequestStep{
		Request: 1001, At: at(3 * time.Hour), Action: chat.StepClosed, By: anna, State: chat.RequestClosed}}}))
	snap, err = s.Load(ctx, at(4*time.Hour), at(-time.Hour))
	must(t, err)
	if len(snap.Requests) != 0 || snap.NextRequest != 1002 {
		t.Errorf("after close: requests %+v, next %d", snap.Requests, snap.NextRequest)
	}
	list, err := s.ListRequests(ctx, store.RequestFilter{Channel: "support", States: []chat.RequestState{chat.RequestClosed}})
	must(t, err)
	if len(list) != 1 || list[0].State != chat.RequestClosed {
		t.Errorf("closed list = %+v", list)
	}
	if n, _ := s.PendingOutbox(ctx, store.OutboxWebhook); n != 2 {
		t.Errorf("the close was handed off though not asked: %d webhook items", n)
	}
}

// testRequestChangeOfUnknownRequestFails: a change to a request the store
// never saw fails the commit instead of writing a history without a request.
func testRequestChangeOfUnknownRequestFails(t *testing.T, o Opener) {
	s := o.open(t)
	err := s.Apply(context.Background(), []chat.Effect{chat.RequestChanged{Request: chat.Request{Number: 7, State: chat.RequestClaimed},
		Step: chat.RequestStep{Request: 7, Action: chat.StepClaimed, State: chat.RequestClaimed}}})
	if err == nil {
		t.Fatal("applied a change to an unknown request")
	}
}

// testApplyRefusesBadLogs: entries must belong to a stored session and
// follow its seq; a refused batch leaves nothing and the store goes on.
func testApplyRefusesBadLogs(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	fixture(t, s)
	w := newLogWriter()
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("s", at(0))}, w.next("s", "a"), w.next("s", "b")}))
	for _, bad := range [][]chat.Effect{
		{msg("nope", 1, at(0), chat.ByVisitor, 0, "V", "x", "no session")},
		{msg("s", 2, at(0), chat.ByVisitor, 0, "V", "x", "seq taken")},
		{msg("s", 3, at(0), chat.ByVisitor, 0, "V", "x", "ok"), msg("s", 3, at(0), chat.ByVisitor, 0, "V", "y", "again")},
		{msg("s", 4, at(0), chat.ByVisitor, 0, "V", "x", "ahead"), msg("s", 3, at(0), chat.ByVisitor, 0, "V", "y", "behind")},
		{msg("s", 0, at(0), chat.ByVisitor, 0, "V", "x", "no seq")},
		// A session made after its first entry.
		{msg("late", 1, at(0), chat.ByVisitor, 0, "V", "x", "early"), chat.SessionChanged{Session: queued("late", at(0))}},
	} {
		if err := s.Apply(ctx, bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
		w.check(t, s, "s")
	}
	// Made and written in one batch: fine.
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued("new", at(0))}, w.next("new", "a")}))
	must(t, s.Apply(ctx, []chat.Effect{w.next("s", "c")}))
	w.check(t, s, "s")
	w.check(t, s, "new")
	if _, err := s.SessionRow(ctx, "late"); err != store.ErrNotFound {
		t.Fatalf("session of a refused batch: %v", err)
	}
}

// testLogWindows writes logs in batches of every size and reads every
// window back, before and after a reopen.
func testLogWindows(t *testing.T, o Opener) {
	ctx := context.Background()
	s, reopen := o.Open(t)
	fixture(t, s)
	w := newLogWriter()
	sids := []chat.SessionID{"a", "b", "c"}
	for _, sid := range sids {
		must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: queued(sid, at(0))}}))
	}
	// Batches of 1, 2, 3, ... entries spread over the sessions; every
	// seventh entry is a system line without a client id.
	n := 0
	for size := 1; size <= 40; size++ {
		var fx []chat.Effect
		for range size {
			sid := sids[n%len(sids)]
			if n%5 == 4 {
				sid = "a" // a runs ahead of the others
			}
			client := fmt.Sprint("c", n)
			if n%7 == 6 {
				client = ""
			}
			fx = append(fx, w.next(sid, client))
			n++
		}
		must(t, s.Apply(ctx, fx))
	}
	if len(w.all["a"]) < 3*chunkAt {
		t.Fatalf("test too small: %d entries in a", len(w.all["a"]))
	}
	for _, sid := range sids {
		w.check(t, s, sid)
	}
	checkRecent(t, s, w, "a")

	// After a reopen (no cache), the log goes on where it was.
	must(t, s.Close())
	s2 := reopen(t)
	if err := s2.Apply(ctx, []chat.Effect{msg("a", w.seqs["a"], at(0), chat.ByVisitor, 0, "Vera", "dup", "again")}); err == nil {
		t.Fatal("a seq already stored was accepted after a reopen")
	}
	for range chunkAt + 1 {
		must(t, s2.Apply(ctx, []chat.Effect{w.next("a", fmt.Sprint("x", w.seqs["a"])), w.next("b", "")}))
	}
	for _, sid := range sids {
		w.check(t, s2, sid)
	}
	checkRecent(t, s2, w, "a")
	// A transcript made in the batch that also extends the log has it all.
	must(t, s2.Apply(ctx, []chat.Effect{w.next("a", "t1"),
		chat.RequestCreated{Request: chat.Request{Number: 5000, Channel: "support", Session: "a", Title: "t", CreatedAt: at(0)}},
		w.next("a", "t2")}))
	r, err := s2.Request(ctx, 5000)
	must(t, err)
	lines := strings.Split(strings.TrimSuffix(r.Transcript, "\n"), "\n")
	system := 0
	for _, e := range w.all["a"][:len(lines)] {
		if e.AuthorKind == chat.BySystem {
			system++
		}
	}
	if len(lines) != len(w.all["a"])-1 || !strings.HasSuffix(lines[len(lines)-1], fmt.Sprintf("a #%d", len(lines))) ||
		strings.Count(r.Transcript, " System: ") != system || system == 0 {
		t.Fatalf("transcript of %d entries: %d lines, ending %q", len(w.all["a"])-1, len(lines), lines[len(lines)-1])
	}
	row, err := s2.SessionRow(ctx, "a")
	must(t, err)
	last := w.all["a"][len(w.all["a"])-1]
	if row.Seq != last.Seq || !row.LastVisitor.Equal(last.At) && !row.LastAgent.Equal(last.At) {
		t.Fatalf("session a: seq %d, last visitor %v, last agent %v; last entry %+v", row.Seq, row.LastVisitor, row.LastAgent, last)
	}
}

// testZeroTimeRoundTrip: times come back Equal to what was stored (in UTC,
// nanoseconds kept), and the zero time stays zero.
func testZeroTimeRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	times := []time.Time{{}, base, base.In(time.FixedZone("x", 3600)), time.Unix(0, 1)}
	var fx []chat.Effect
	for i, tm := range times {
		x := queued(chat.SessionID(fmt.Sprint("z", i)), tm)
		x.AnsweredAt = tm
		fx = append(fx, chat.SessionChanged{Session: x})
	}
	must(t, s.Apply(ctx, fx))
	for i, tm := range times {
		row, err := s.SessionRow(ctx, chat.SessionID(fmt.Sprint("z", i)))
		must(t, err)
		for _, got := range []time.Time{row.CreatedAt, row.AnsweredAt, row.EndedAt} {
			want := tm
			if got == row.EndedAt {
				want = time.Time{}
			}
			if !got.Equal(want) || got.IsZero() != want.IsZero() {
				t.Fatalf("%v -> %v", want, got)
			}
		}
	}
}

// testTextRoundTrip: whatever text a client may send (JSON decoding lets
// NUL through), and any bytes a Go string holds, is stored and read back
// unchanged, in a log line, a visitor's name and question, a transfer
// comment and a quick reply; a store must not fail a commit of many chats
// over one line.
func testTextRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	anna, bert := fixture(t, s)
	texts := []string{"nul \x00 inside", "\x00", "emoji 😀 and \u2028 separator", "\uffff non-character", "\uffff0 and \uffff\x00",
		"tab\tand\r\nnewlines", strings.Repeat("long ", 2000), "'; DROP TABLE entries; --", "not UTF-8: \xff\xfe \xc3"}
	sess := queued("t", at(0))
	sess.Visitor.Name, sess.Question = texts[0], texts[4]
	fx := []chat.Effect{chat.SessionChanged{Session: sess}}
	for i, text := range texts {
		fx = append(fx, msg("t", uint64(i+1), at(time.Duration(i)), chat.ByVisitor, 0, text, text, text))
	}
	fx = append(fx, chat.TransferChanged{Transfer: chat.Transfer{ID: 1, Session: "t", Channel: "support",
		Kind: chat.KindTransfer, From: anna, To: bert, By: anna, Comment: texts[0], State: chat.TransferPending, Started: at(0)}})
	must(t, s.Apply(ctx, fx))
	es, err := s.Entries(ctx, "t", 0, 0)
	must(t, err)
	if len(es) != len(texts) {
		t.Fatalf("%d entries", len(es))
	}
	for i, e := range es {
		if e.Text != texts[i] || e.AuthorName != texts[i] || e.ClientID != texts[i] {
			t.Fatalf("entry %d: %q %q %q, want %q", i, e.Text, e.AuthorName, e.ClientID, texts[i])
		}
	}
	row, err := s.SessionRow(ctx, "t")
	must(t, err)
	if row.Visitor.Name != texts[0] || row.Question != texts[4] {
		t.Fatalf("session: %q %q", row.Visitor.Name, row.Question)
	}
	trs, err := s.Transfers(ctx, "t", 0, 0)
	must(t, err)
	if len(trs) != 1 || trs[0].Comment != texts[0] {
		t.Fatalf("transfer: %+v", trs)
	}
	replies := []protocol.QuickReply{{Title: texts[2], Text: texts[0]}}
	must(t, s.SetQuickReplies(ctx, anna, replies))
	got, err := s.QuickReplies(ctx, anna)
	must(t, err)
	if !reflect.DeepEqual(got, replies) {
		t.Fatalf("quick replies: %q", got)
	}
}

// testDirectoryVersionSeesOtherProcesses: an admin command is another
// process with a store of its own; the relay's store sees its changes.
func testDirectoryVersionSeesOtherProcesses(t *testing.T, o Opener) {
	ctx := context.Background()
	relay, reopen := o.Open(t)
	fixture(t, relay)
	v0, err := relay.DirectoryVersion(ctx)
	must(t, err)
	admin := reopen(t)
	must(t, admin.Grant(ctx, "anna", "support", chat.PermRespond))
	v1, err := relay.DirectoryVersion(ctx)
	must(t, err)
	if v1 == v0 {
		t.Fatalf("directory version stayed %d after another process granted", v0)
	}
	d, err := relay.Directory(ctx)
	must(t, err)
	for _, a := range d.Agents {
		if a.Login == "anna" && a.Perms["support"] != chat.PermRespond {
			t.Fatalf("anna's grant as the relay reads it: %v", a.Perms)
		}
	}
	if d.Version != v1 {
		t.Fatalf("directory version %d, want %d", d.Version, v1)
	}
}

// testSystemLinesAsCodes: a system line is stored as its code and params
// and read back as such, with no text; a line with English text and no
// code (as stored before codes existed) keeps its text; and the transcript
// kept with a request is worded in its channel's language.
func testSystemLinesAsCodes(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	must(t, s.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Kundtjänst", TimeZone: "Europe/Stockholm", Language: "sv"}))
	old := note("s1", 1, at(0), "Anna asked Bo to take over the chat.", true)
	sess := queued("s1", at(0))
	sess.State = chat.Active
	must(t, s.Apply(ctx, []chat.Effect{chat.SessionChanged{Session: sess}, old}))

	anna, bo, mia := chat.Party{ID: 1, Name: "Anna"}, chat.Party{ID: 2, Name: "Bo"}, chat.Party{ID: 4, Name: "Mia"}
	lines := []chat.Entry{
		{Seq: 2, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Staff: true, Note: chat.NoteTransferVoided,
			Params: chat.NoteParams{Agent: mia, From: anna, To: bo, By: anna, Reason: chat.VoidTakenOver}},
		{Seq: 3, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Staff: true, Note: chat.NoteTransferOffered,
			Params: chat.NoteParams{From: anna, To: bo, By: mia, Comment: `VIP "gold", {to}`}},
		{Seq: 4, At: at(time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, AuthorName: "Mia", Note: chat.NoteJoined,
			Params: chat.NoteParams{Agent: chat.Party{Name: "Mia"}}},
		{Seq: 5, At: at(2 * time.Minute), Kind: chat.KindNote, AuthorKind: chat.BySystem, Note: chat.NoteVisitorLeft},
	}
	var fx []chat.Effect
	for _, e := range lines {
		fx = append(fx, chat.EntryAdded{Session: "s1", Channel: "support", Entry: e})
	}
	fx = append(fx, chat.RequestCreated{Request: chat.Request{Number: 1001, Channel: "support", Session: "s1", Title: "Paket",
		CreatedBy: 1, CreatedAt: at(3 * time.Minute)}})
	must(t, s.Apply(ctx, fx))

	got, err := s.Entries(ctx, "s1", 0, 0)
	must(t, err)
	if len(got) != 5 || !reflect.DeepEqual(got[0], old.Entry) || !reflect.DeepEqual(got[1:], lines) {
		t.Fatalf("system lines read back:\n got %+v\nwant %+v then %+v", got, old.Entry, lines)
	}
	r, err := s.Request(ctx, 1001)
	must(t, err)
	want := "2026-11-28 10:02 System (internt): Anna asked Bo to take over the chat.\n" +
		"2026-11-28 10:03 System (internt): Överföringen till Bo upphävdes: övertagen av Mia.\n" +
		"2026-11-28 10:03 System (internt): Mia bad Bo ta över chatten från Anna. Kommentar: VIP \"gold\", {to}\n" +
		"2026-11-28 10:03 System: Mia har anslutit till chatten.\n" +
		"2026-11-28 10:04 System: Besökaren lämnade chatten.\n"
	if r.Transcript != want {
		t.Errorf("transcript in a Swedish channel:\n%s\nwant:\n%s", r.Transcript, want)
	}
}

// testWriteProbe: a probe writes and succeeds on a working database, again
// and again, and fails once the store is closed.
func testWriteProbe(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.open(t)
	for range 3 {
		must(t, s.WriteProbe(ctx))
	}
	must(t, s.Close())
	if err := s.WriteProbe(ctx); err == nil {
		t.Fatal("a closed store took a write probe")
	}
}
