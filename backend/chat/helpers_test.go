package chat

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// The cast every test works with. Channel "support" is the main stage;
// "sales" exists to check that figures and queues stay per channel.
const (
	A AgentID = 1 // Anna: respond, notify in support; the usual owner
	B AgentID = 2 // Bo: respond, notify in support; the usual receiver
	C AgentID = 3 // Cleo: respond in support and sales, no notify
	M AgentID = 4 // Mia: manage in support (which lets her listen too); the supervisor
	L AgentID = 5 // Leo: listen only in support
	N AgentID = 6 // Nils: nothing in support, respond in sales

	support ChannelID = "support"
	sales   ChannelID = "sales"
)

// t0 is a Monday morning, within any office hours.
var t0 = time.Date(2025, time.March, 3, 10, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{Grace: 60 * time.Second, IdleEnd: 30 * time.Minute, QueueLeave: 2 * time.Minute, KeepEnded: 8 * time.Hour}
}

func testSnapshot() Snapshot {
	return Snapshot{
		Channels: []Channel{
			{ID: support, Name: "Support", OfflineForm: true, WarnAfter: 2 * time.Minute,
				ManagerWarnAfter: 5 * time.Minute, TransferTimeout: DefaultTransferTimeout},
			{ID: sales, Name: "Sales", TransferTimeout: 0},
		},
		Agents: []Agent{
			{ID: A, Login: "anna", Name: "Anna", Perms: map[ChannelID]Perm{support: PermRespond | PermNotify}},
			{ID: B, Login: "bo", Name: "Bo", Perms: map[ChannelID]Perm{support: PermRespond | PermNotify}},
			{ID: C, Login: "cleo", Name: "Cleo", Perms: map[ChannelID]Perm{support: PermRespond, sales: PermRespond}},
			{ID: M, Login: "mia", Name: "Mia", Perms: map[ChannelID]Perm{support: PermManage}},
			{ID: L, Login: "leo", Name: "Leo", Perms: map[ChannelID]Perm{support: PermListen}},
			{ID: N, Login: "nils", Name: "Nils", Perms: map[ChannelID]Perm{sales: PermRespond}},
		},
	}
}

// fixture is a desk, a clock and the test it reports to. Every agent of the
// cast is connected and Present at t0.
type fixture struct {
	t   *testing.T
	d   *Desk
	now time.Time
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith lets a test change the snapshot before the desk comes up.
func newFixtureWith(t *testing.T, edit func(*Snapshot)) *fixture {
	t.Helper()
	snap := testSnapshot()
	if edit != nil {
		edit(&snap)
	}
	f := &fixture{t: t, d: New(testConfig(), snap, t0), now: t0}
	for _, a := range snap.Agents {
		if !a.Disabled {
			f.ok(f.d.Connect(f.now, a.ID))
		}
	}
	return f
}

// at moves the clock forward by d and returns the new time.
func (f *fixture) at(d time.Duration) time.Time {
	f.now = f.now.Add(d)
	return f.now
}

// ok fails the test on a refusal and returns the effects.
func (f *fixture) ok(fx []Effect, err *Error) []Effect {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("refused: %v", err)
	}
	return fx
}

// chat starts a chat in support with a question; the visitor is connected.
func (f *fixture) chat(id SessionID) {
	f.t.Helper()
	f.chatIn(id, support)
}

func (f *fixture) chatIn(id SessionID, c ChannelID) {
	f.t.Helper()
	f.ok(f.d.StartChat(f.now, id, c, "Vera "+string(id), "vera@example.com", "Where is my parcel?", "hash-"+string(id)))
}

// active starts a chat and lets owner pick it.
func (f *fixture) active(id SessionID, owner AgentID) {
	f.t.Helper()
	f.chat(id)
	f.ok(f.d.Pick(f.now, owner, id))
}

// transfer starts a transfer of id by `by` to agent `to` and returns its id.
func (f *fixture) transfer(by AgentID, id SessionID, to AgentID) TransferID {
	f.t.Helper()
	fx, tid, err := f.d.StartTransfer(f.now, by, id, to, false, "")
	f.ok(fx, err)
	return tid
}

func (f *fixture) session(id SessionID) Session {
	f.t.Helper()
	s, ok := f.d.Session(id)
	if !ok {
		f.t.Fatalf("no session %q", id)
	}
	return s
}

func (f *fixture) xfer(id TransferID) Transfer {
	f.t.Helper()
	tr, ok := f.d.Transfer(id)
	if !ok {
		f.t.Fatalf("no transfer %d", id)
	}
	return tr
}

// send has an agent write; it returns the refusal code, or "" when stored.
func (f *fixture) send(a AgentID, id SessionID, clientID string) protocol.Code {
	f.t.Helper()
	_, _, _, err := f.d.Send(f.now, a, id, clientID, "hello from "+f.d.name(a))
	if err != nil {
		return err.Code
	}
	return ""
}

// --- effects ---------------------------------------------------------------

// all returns the effects of type T, in order.
func all[T Effect](fx []Effect) []T {
	var out []T
	for _, e := range fx {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// one returns the only effect of type T, failing when there are none or more.
func one[T Effect](t *testing.T, fx []Effect) T {
	t.Helper()
	got := all[T](fx)
	if len(got) != 1 {
		var zero T
		t.Fatalf("want exactly one %T, got %d in %s", zero, len(got), describe(fx))
	}
	return got[0]
}

// describe names effects compactly, for failure messages.
func describe(fx []Effect) string {
	var parts []string
	for _, e := range fx {
		switch x := e.(type) {
		case EntryAdded:
			parts = append(parts, "EntryAdded("+line(x.Entry)+")")
		case TransferChanged:
			parts = append(parts, "TransferChanged("+x.Transfer.State.String()+")")
		default:
			parts = append(parts, reflect.TypeOf(e).Name())
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// notes returns the log lines added (line), split by who may see them.
func notes(fx []Effect) (public, staff []string) {
	for _, e := range all[EntryAdded](fx) {
		if e.Entry.Staff {
			staff = append(staff, line(e.Entry))
		} else {
			public = append(public, line(e.Entry))
		}
	}
	return public, staff
}

// line writes an entry compactly: a message's text, or a system line's
// code and params, "joined agent=Anna" or "transfer_offered by=Anna#1
// to=Bo#2 from=Anna#1". A system line carries no sentence: that is checked
// here, once for every line a test looks at.
func line(e Entry) string {
	if e.Note == "" {
		return e.Text
	}
	if e.Text != "" {
		return "system line " + e.Note + " with text " + strconv.Quote(e.Text)
	}
	out := e.Note
	party := func(key string, p Party) {
		if p != (Party{}) {
			out += " " + key + "=" + p.Name
			if p.ID != 0 {
				out += "#" + itoa(int64(p.ID))
			}
		}
	}
	p := e.Params
	party("agent", p.Agent)
	party("by", p.By)
	party("to", p.To)
	party("from", p.From)
	if p.Reason != "" {
		out += " reason=" + p.Reason
	}
	if p.Comment != "" {
		out += " comment=" + strconv.Quote(p.Comment)
	}
	return out
}

// sameIDs compares two agent lists as sets.
func sameIDs(t *testing.T, what string, got, want []AgentID) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s = %v, want %v", what, g, w)
	}
}

func wantCode(t *testing.T, err *Error, code protocol.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want refusal %q", code)
	}
	if err.Code != code {
		t.Fatalf("refused with %q (%s), want %q", err.Code, err.Message, code)
	}
}

// --- deep snapshot ---------------------------------------------------------

// deskDump is a deep copy of everything a Desk holds, so a test can check that
// a refused command changed nothing at all.
type deskDump struct {
	Cfg          Config
	Channels     map[ChannelID]Channel
	Agents       map[AgentID]Agent
	Sessions     map[SessionID]sessionDump
	Transfers    map[TransferID]Transfer
	Queues       map[ChannelID][]SessionID
	Load         map[AgentID]int
	Stats        map[ChannelID]statsDump
	Recent       []TransferID
	LastRank     int64
	NextTransfer TransferID
	NextRequest  int64
}

type sessionDump struct {
	Session  Session   // recent cleared by Clone
	DedupIDs []dedupID // oldest first
}

type statsDump struct {
	Day       string
	Chats     int
	Transfers map[TransferState]int
	Waits     []time.Duration
}

func dump(d *Desk) deskDump {
	x := deskDump{
		Cfg: d.cfg, Channels: map[ChannelID]Channel{}, Agents: map[AgentID]Agent{},
		Sessions: map[SessionID]sessionDump{}, Transfers: map[TransferID]Transfer{},
		Queues: map[ChannelID][]SessionID{}, Load: maps.Clone(d.load), Stats: map[ChannelID]statsDump{},
		Recent: slices.Clone(d.recent), LastRank: d.lastRank, NextTransfer: d.nextTransfer, NextRequest: d.nextRequest,
	}
	for id, c := range d.channels {
		x.Channels[id] = *c
	}
	for id, a := range d.agents {
		ac := *a
		ac.Perms = maps.Clone(a.Perms)
		x.Agents[id] = ac
	}
	for id, s := range d.sessions {
		x.Sessions[id] = sessionDump{Session: s.Clone(), DedupIDs: s.recent.ids()}
	}
	for id, t := range d.transfers {
		x.Transfers[id] = *t
	}
	for c, q := range d.queues {
		if len(q) > 0 {
			x.Queues[c] = d.Waiting(c)
		}
	}
	for c, st := range d.stats {
		x.Stats[c] = statsDump{Day: st.day, Chats: st.chats, Transfers: maps.Clone(st.transfers), Waits: slices.Clone(st.waits)}
	}
	return x
}

// unchanged fails when the desk differs from the dump taken before.
func unchanged(t *testing.T, before deskDump, d *Desk) {
	t.Helper()
	after := dump(d)
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := range b.NumField() {
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			t.Errorf("the desk changed: %s\nbefore %+v\nafter  %+v", b.Type().Field(i).Name, b.Field(i), a.Field(i))
		}
	}
}
