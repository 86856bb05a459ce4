package relay_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

// The protocol contract: what docs/protocol.md promises every client, checked
// on the frames as they travel (raw JSON, not Go structs that would paper
// over a missing field or a null).

// nulls lists the paths of every null in a JSON document.
func nulls(raw json.RawMessage) []string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			out = append(out, path)
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", v)
	return out
}

// object decodes a frame's data into a map, to look at fields as sent.
func object(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("data %s: %v", raw, err)
	}
	return m
}

// TestContractListsAreNeverNull: every list in every reply and event is an
// array, [] when empty. An agent with nothing pending gets "transfers": [].
func TestContractListsAreNeverNull(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna := relaytest.Dial(t, h.URL(), "")
	welcome := anna.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: relaytest.Password})
	if ts, ok := object(t, welcome.Data)["transfers"].([]any); !ok || len(ts) != 0 {
		t.Fatalf(`welcome of an agent with no transfer: "transfers" is %v, want []`, object(t, welcome.Data)["transfers"])
	}
	replies := map[string]protocol.ServerFrame{"anna hello": welcome}
	do := func(who string, c *relaytest.Client, cmd string, data any) protocol.ServerFrame {
		t.Helper()
		r := c.Do(cmd, data)
		if !r.OK {
			t.Fatalf("%s %s: %v", who, cmd, r.Error)
		}
		replies[who+" "+cmd] = r
		return r
	}
	cecilia := relaytest.Dial(t, h.URL(), "")
	do("cecilia", cecilia, protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "cecilia", Password: relaytest.Password})
	nils := relaytest.Dial(t, h.URL(), "") // no permission anywhere: empty channels and queue
	do("nils", nils, protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "nils", Password: relaytest.Password})
	do("cecilia", cecilia, protocol.CmdDashboardWatch, nil)
	do("anna", anna, protocol.CmdQuickRepliesGet, nil)
	do("anna", anna, protocol.CmdRequestList, protocol.RequestList{})
	do("anna", anna, protocol.CmdTransferHistory, protocol.TransferHistory{})

	vera := relaytest.Dial(t, h.URL(), "")
	do("vera", vera, protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"})
	var st protocol.ChatStarted
	r := do("vera", vera, protocol.CmdChatStart, protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Where is my parcel?"})
	_ = json.Unmarshal(r.Data, &st)
	do("anna", anna, protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session})
	do("anna", anna, protocol.CmdTransferTargets, protocol.SessionRef{Session: st.Session})
	do("anna", anna, protocol.CmdSessionLog, protocol.SessionLog{Session: st.Session})
	do("vera", vera, protocol.CmdMessageSend, protocol.MessageSend{Session: st.Session, ClientID: "v1", Text: "Hello?"})
	anna.WaitEntries(st.Session, 3)
	cecilia.Event(protocol.EvDashboard, 0, nil)

	for what, r := range replies {
		if n := nulls(r.Data); len(n) > 0 {
			t.Errorf("reply to %s: null at %v: %s", what, n, r.Data)
		}
	}
	for who, c := range map[string]*relaytest.Client{"anna": anna, "cecilia": cecilia, "nils": nils, "vera": vera} {
		for _, f := range c.Events() {
			if n := nulls(f.Data); len(n) > 0 {
				t.Errorf("%s's %s event: null at %v: %s", who, f.Ev, n, f.Data)
			}
		}
	}
	// A queue event lists both changes, the one that did not happen as [].
	ev, _ := anna.Event(protocol.EvQueue, 0, nil)
	if q := object(t, ev.Data); q["removed"] == nil || q["added"] == nil {
		t.Errorf("queue event without both lists: %s", ev.Data)
	}
}

// TestContractSessionIsAnID: "session" is a session id everywhere. The
// chat.start reply names the chat's id in session and the chat itself in
// chat; position, shaped as the position event, only while waiting; the
// visitor's welcome on a reload carries chat, and position only while
// waiting.
func TestContractSessionIsAnID(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	vera := relaytest.Dial(t, h.URL(), "")
	vera.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	r := vera.Do(protocol.CmdChatStart, protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Where is my parcel?"})
	started := object(t, r.Data)
	sid, ok := started["session"].(string)
	if !ok || !strings.HasPrefix(sid, "s-") {
		t.Fatalf(`chat.start reply: "session" is %v, want the chat's id: %s`, started["session"], r.Data)
	}
	chatObj, _ := started["chat"].(map[string]any)
	if chatObj == nil || chatObj["id"] != sid || chatObj["state"] != protocol.StateQueued || chatObj["role"] != protocol.ViewVisitor {
		t.Fatalf(`chat.start reply: "chat" is %v, want the waiting chat as the visitor sees it`, started["chat"])
	}
	pos, _ := started["position"].(map[string]any)
	if pos == nil || pos["position"] != 1.0 || pos["estimated_wait_s"] == nil || len(pos) != 2 {
		t.Fatalf(`chat.start reply: "position" is %v, want {"position": 1, "estimated_wait_s": …}`, started["position"])
	}
	token, _ := started["token"].(string)

	reload := func() map[string]any {
		t.Helper()
		c := relaytest.Dial(t, h.URL(), "")
		r := c.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: token, Resume: map[string]uint64{sid: 1}})
		if !r.OK {
			t.Fatalf("reload: %v", r.Error)
		}
		return object(t, r.Data)
	}
	w := reload()
	if c, _ := w["chat"].(map[string]any); c == nil || c["id"] != sid {
		t.Fatalf(`reload while waiting: "chat" is %v: %v`, w["chat"], w)
	}
	if _, has := w["session"]; has {
		t.Fatalf(`reload: the welcome has "session" besides "chat": %v`, w)
	}
	if p, _ := w["position"].(map[string]any); p == nil || p["position"] != 1.0 {
		t.Fatalf(`reload while waiting: "position" is %v`, w["position"])
	}
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	if w := reload(); w["position"] != nil {
		t.Fatalf(`reload of an answered chat: "position" is %v, want none`, w["position"])
	}
	// Every frame that names a session names it by its id.
	for _, c := range []*relaytest.Client{anna, vera} {
		for _, f := range c.Events() {
			var named struct {
				Session any `json:"session"`
			}
			_ = json.Unmarshal(f.Data, &named)
			if s, isString := named.Session.(string); named.Session != nil && (!isString || s == "") {
				t.Errorf("%s event: session is %v", f.Ev, named.Session)
			}
		}
	}
}

// TestContractDuplicateAlwaysSaid: every message.send reply says whether it
// was a duplicate, false included.
func TestContractDuplicateAlwaysSaid(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	vera, st := h.Visitor("Vera", "Where is my parcel?")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	for i, c := range []*relaytest.Client{vera, anna, vera} {
		r := c.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: st.Session, ClientID: "m1", Text: "Hello"})
		d := object(t, r.Data)
		want := i == 2 // the visitor's resend
		if dup, ok := d["duplicate"].(bool); !ok || dup != want {
			t.Fatalf("send %d: %s, want duplicate %v", i, r.Data, want)
		}
	}
}

// TestContractSilentListeningAndTransfersAreSilent: the visitor hears
// nothing of a supervisor who listens or stops listening, nor of a transfer
// until its outcome changes what they see (a new owner); and no seq the
// visitor gets names an entry it cannot read (staff notes).
func TestContractSilentListeningAndTransfersAreSilent(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	lars, _ := h.Agent("lars", nil)
	vera, st := h.Visitor("Vera", "Where is my parcel?")
	sid := st.Session
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	vera.WaitEntries(sid, 2) // "Anna has joined"
	n := 0
	// settle: a message of the visitor's, sent after what went before, is
	// acknowledged after every frame that went before it.
	settle := func() uint64 {
		t.Helper()
		n++
		var ack protocol.MessageAck
		vera.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: fmt.Sprint("v", n), Text: "still there?"}, &ack)
		return ack.Seq
	}
	sessionEvents := func() (out []protocol.SessionInfo) {
		for _, f := range vera.Events() {
			if f.Ev == protocol.EvSession {
				var si protocol.SessionInfo
				_ = json.Unmarshal(f.Data, &si)
				out = append(out, si)
			}
		}
		return out
	}
	settle()
	before := len(sessionEvents())

	lars.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: sid}, nil)
	cecilia.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: sid}, nil)
	cecilia.OK(protocol.CmdSessionLeave, protocol.SessionRef{Session: sid}, nil)
	settle()
	if got := sessionEvents(); len(got) != before {
		t.Fatalf("listening told the visitor: %+v", got[before:])
	}

	var ti protocol.TransferInfo
	anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: h.ID("bertil"), Comment: "parcel expert"}, &ti)
	settle()
	// A reload while the transfer is pending: the chat points at nothing the
	// visitor cannot read.
	reloaded, w := h.ResumeVisitor(st.Token, sid, 0)
	bertil.OK(protocol.CmdTransferReject, protocol.TransferRef{Transfer: ti.ID}, nil)
	settle()
	if got := sessionEvents(); len(got) != before {
		t.Fatalf("a pending or rejected transfer told the visitor: %+v", got[before:])
	}
	anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: h.ID("bertil")}, &ti)
	bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, nil)
	settle()
	got := sessionEvents()
	if len(got) != before+1 || got[before].Owner == nil || got[before].Owner.Name != "Bertil" {
		t.Fatalf("after the accept the visitor has session events %+v, want one with Bertil as owner", got[before:])
	}

	// What the visitor holds: entries it can read, and no seq of anything else.
	readable := map[uint64]bool{}
	for _, e := range vera.Entries(sid) {
		if e.Staff {
			t.Fatalf("the visitor got a staff entry: %+v", e)
		}
		readable[e.Seq] = true
	}
	var lastSeq uint64
	for seq := range readable {
		lastSeq = max(lastSeq, seq)
	}
	staff := 0
	for _, e := range bertil.WaitEntries(sid, lastSeq) {
		if e.Staff {
			staff++
			if readable[e.Seq] {
				t.Fatalf("seq %d is a staff note and the visitor's", e.Seq)
			}
		}
	}
	if staff == 0 {
		t.Fatal("no staff note in the log: the test proves nothing")
	}
	snapshots := append(got, *w.Chat)
	for _, f := range reloaded.Events() {
		if f.Ev == protocol.EvSession {
			var si protocol.SessionInfo
			_ = json.Unmarshal(f.Data, &si)
			snapshots = append(snapshots, si)
		}
	}
	for _, si := range snapshots {
		if si.Seq != 0 && !readable[si.Seq] {
			t.Fatalf("the visitor's snapshot names seq %d, which it cannot read: %+v", si.Seq, si)
		}
	}
	// The reloaded connection caught up with exactly the readable entries.
	last := settle()
	reloaded.WaitEntries(sid, last)
	for _, e := range vera.WaitEntries(sid, last) {
		readable[e.Seq] = true
	}
	for _, e := range reloaded.Entries(sid) {
		if !readable[e.Seq] {
			t.Fatalf("the reload got seq %d, which the live connection did not", e.Seq)
		}
	}
}

// TestContractFifthFailedHelloIsAnswered: the hello that closes the
// connection gets its reply first, rate_limited with the seconds to wait.
func TestContractFifthFailedHelloIsAnswered(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	c := relaytest.Dial(t, h.URL(), "")
	for i := 1; i <= 5; i++ {
		r := c.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Token: "no-such-token"})
		switch {
		case i < 5 && (r.Error == nil || r.Error.Code != protocol.CodeBadCredentials):
			t.Fatalf("hello %d: %+v", i, r.Error)
		case i == 5 && (r.Error == nil || r.Error.Code != protocol.CodeRateLimited || r.Error.RetryAfter < 1 ||
			!strings.Contains(r.Error.Message, "bad_credentials")):
			t.Fatalf("fifth hello: %+v, want rate_limited naming the cause, with retry_after_s", r.Error)
		}
	}
	if code := closeCode(t, c); code != websocket.ClosePolicyViolation {
		t.Fatalf("closed with %d, want 1008", code)
	}
}

// TestContractEveryClosingCommandIsAnswered: a flood is closed after the
// reply to its last command, and a frame over the limit is answered (it has
// no id that could be read) before the close 1009; a connection that says no
// hello in time is closed with 1008.
func TestContractEveryClosingCommandIsAnswered(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.RatePerSecond, c.RateBurst = 0.001, 1
		c.HelloTimeout = 300 * time.Millisecond
	}})
	flood := relaytest.Dial(t, h.URL(), "")
	const frames = 201 // one allowed, then 200 refusals in a row close it
	for i := 1; i <= frames; i++ {
		if err := flood.Send(fmt.Sprintf(`{"id":"p%d","cmd":"ping"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	last := flood.Reply(fmt.Sprint("p", frames))
	if last.Error == nil || last.Error.Code != protocol.CodeRateLimited || last.Error.RetryAfter < 1 {
		t.Fatalf("the command that ends a flood: %+v", last.Error)
	}
	if code := closeCode(t, flood); code != websocket.ClosePolicyViolation {
		t.Fatalf("flood closed with %d, want 1008", code)
	}

	big := relaytest.Dial(t, h.URL(), "")
	if err := big.Send(`{"id":"big","cmd":"hello","data":{"client":"` + strings.Repeat("x", protocol.MaxFrameBytes) + `"}}`); err != nil {
		t.Fatal(err)
	}
	if r := big.Reply(""); r.Error == nil || r.Error.Code != protocol.CodeTooLarge {
		t.Fatalf("a frame over the limit: %+v", r.Error)
	}
	if code := closeCode(t, big); code != websocket.CloseMessageTooBig {
		t.Fatalf("closed with %d, want 1009", code)
	}

	mute := relaytest.Dial(t, h.URL(), "")
	if code := closeCode(t, mute); code != websocket.ClosePolicyViolation {
		t.Fatalf("no hello: closed with %d, want 1008", code)
	}
}
