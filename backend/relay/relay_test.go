package relay_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

func send(t *testing.T, c *relaytest.Client, session, clientID, text string) protocol.MessageAck {
	t.Helper()
	var ack protocol.MessageAck
	c.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: session, ClientID: clientID, Text: text}, &ack)
	return ack
}

// texts are the entries' texts; a system line's is its code and params
// (noteLine).
func texts(es []protocol.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Text
		if e.Kind == protocol.EntryNote {
			out[i] = noteLine(e)
		}
	}
	return out
}

// checkSeqs fails unless the entries are numbered without gap or duplicate
// (visitors skip staff-only entries, so only strictly increasing is required
// where staff is true).
func checkSeqs(t *testing.T, es []protocol.Entry, contiguous bool) {
	t.Helper()
	for i := 1; i < len(es); i++ {
		if es[i].Seq <= es[i-1].Seq || (contiguous && es[i].Seq != es[i-1].Seq+1) {
			t.Fatalf("seqs out of order at %d: %v", i, seqList(es))
		}
	}
}

func seqList(es []protocol.Entry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestFullChat(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, welcome := h.Agent("anna", nil)
	if welcome.Token == "" || welcome.Agent.Name != "Anna" || welcome.Agent.Status != protocol.StatusPresent {
		t.Fatalf("welcome: %+v", welcome)
	}
	visitor, started := h.Visitor("Vera", "My order has not arrived")
	sid := started.Session
	if started.Token == "" || started.Chat.State != protocol.StateQueued || started.Position.Position != 1 {
		t.Fatalf("started: %+v", started)
	}
	// The agent hears of the waiting chat.
	anna.WaitQueue(welcome.Queue, "support", sid)
	var picked protocol.SessionInfo
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, &picked)
	if picked.State != protocol.StateActive || picked.Role != protocol.ViewOwner {
		t.Fatalf("picked: %+v", picked)
	}
	send(t, anna, sid, "a1", "Hello Vera, let me check.")
	send(t, visitor, sid, "v1", "Thanks!")
	send(t, anna, sid, "a2", "It ships today.")
	var ended struct{}
	anna.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, &ended)

	want := []string{"My order has not arrived", "joined agent=Anna", "Hello Vera, let me check.", "Thanks!", "It ships today.", "ended_agent agent=Anna"}
	for _, c := range []*relaytest.Client{anna, visitor} {
		es := c.WaitEntries(sid, 6)
		checkSeqs(t, es, true)
		if got := texts(es); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("log:\n got %q\nwant %q", got, want)
		}
	}
	visitor.Event(protocol.EvSession, 0, func(f protocol.ServerFrame) bool {
		var s protocol.SessionInfo
		_ = json.Unmarshal(f.Data, &s)
		return s.State == protocol.StateEnded && s.EndedBy == "agent"
	})
	// System lines carry a code and the agent's name, so clients can
	// translate them; the code survives the store (read back by resume).
	ves := visitor.Entries(sid)
	if ves[1].Note != chat.NoteJoined || ves[1].From.Name != "Anna" || ves[5].Note != chat.NoteEndedByAgent {
		t.Fatalf("notes: %+v %+v", ves[1], ves[5])
	}
	// Durable: the store has the same log.
	stored, err := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
	if err != nil || len(stored) != 6 || stored[1].Note != chat.NoteJoined || stored[1].AuthorName != "Anna" {
		t.Fatalf("stored %d entries, err %v", len(stored), err)
	}
	// After the end nobody writes.
	visitor.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v2", Text: "hello?"}, protocol.CodeInvalidState)
}

func TestResumeGetsExactlyTheMissingEntries(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	visitor, started := h.Visitor("Vera", "Hi")
	sid := started.Session
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	send(t, anna, sid, "a1", "one")
	es := visitor.WaitEntries(sid, 3)
	last := es[len(es)-1].Seq
	visitor.Close()

	for i, txt := range []string{"two", "three", "four"} {
		send(t, anna, sid, "b"+string(rune('0'+i)), txt)
	}
	again, welcome := h.ResumeVisitor(started.Token, sid, last)
	if welcome.Chat == nil || welcome.Chat.ID != sid {
		t.Fatalf("resume welcome: %+v", welcome)
	}
	got := again.WaitEntries(sid, last+3)
	if len(got) != 3 || strings.Join(texts(got), ",") != "two,three,four" || got[0].Seq != last+1 {
		t.Fatalf("resumed with %v %q, want exactly two,three,four after %d", seqList(got), texts(got), last)
	}
	// Live again, no duplicate of what was replayed.
	send(t, anna, sid, "a5", "five")
	got = again.WaitEntries(sid, last+4)
	checkSeqs(t, got, true)
	if len(got) != 4 {
		t.Fatalf("after live message: %v", seqList(got))
	}

	// The agent resumes the same way.
	anna.Close()
	send(t, again, sid, "v9", "are you there?")
	anna2, w2 := h.Agent("anna", map[string]uint64{sid: last + 4})
	if len(w2.Sessions) != 1 || w2.Sessions[0].Role != protocol.ViewOwner {
		t.Fatalf("agent welcome sessions: %+v", w2.Sessions)
	}
	ag := anna2.WaitEntries(sid, last+5)
	if len(ag) != 1 || ag[0].Text != "are you there?" {
		t.Fatalf("agent resumed with %q", texts(ag))
	}
}

func TestRestartKeepsAcknowledgedState(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	v1, s1 := h.Visitor("First", "one")
	v2, s2 := h.Visitor("Second", "two")
	_, s3 := h.Visitor("Third", "three")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: s1.Session}, nil)
	acks := map[string]uint64{}
	for i := 0; i < 20; i++ {
		id := "m" + string(rune('a'+i))
		acks[id] = send(t, v1, s1.Session, id, "message "+id).Seq
	}
	_ = v2
	h.Restart()

	// Ownership kept: anna's welcome lists the chat as hers.
	anna2, w := h.Agent("anna", nil)
	if len(w.Sessions) != 1 || w.Sessions[0].ID != s1.Session || w.Sessions[0].Role != protocol.ViewOwner {
		t.Fatalf("after restart anna has %+v", w.Sessions)
	}
	// Queue order kept.
	if len(w.Queue) != 2 || w.Queue[0].Session != s2.Session || w.Queue[1].Session != s3.Session {
		t.Fatalf("queue after restart: %+v", w.Queue)
	}
	// Every acknowledged message is there, once, at its seq.
	es := anna2.WaitEntries(s1.Session, w.Sessions[0].Seq)
	checkSeqs(t, es, true)
	bySeq := map[uint64]string{}
	for _, e := range es {
		bySeq[e.Seq] = e.ClientID
	}
	for id, seq := range acks {
		if bySeq[seq] != id {
			t.Fatalf("ack %s at seq %d lost after restart (have %q)", id, seq, bySeq[seq])
		}
	}
	// A resend of an acknowledged message after the restart is still stored once.
	v1b, _ := h.ResumeVisitor(s1.Token, s1.Session, es[len(es)-1].Seq)
	again := send(t, v1b, s1.Session, "ma", "message ma")
	if !again.Duplicate || again.Seq != acks["ma"] {
		t.Fatalf("resend after restart: %+v want seq %d duplicate", again, acks["ma"])
	}
}

func TestDuplicateSendStoredOnce(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	v, st := h.Visitor("Vera", "")
	sid := st.Session
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	first := send(t, v, sid, "same-id", "hello")
	second := send(t, v, sid, "same-id", "hello")
	if first.Duplicate || !second.Duplicate || first.Seq != second.Seq {
		t.Fatalf("first %+v second %+v", first, second)
	}
	// Another sender may use the same client id.
	other := send(t, anna, sid, "same-id", "hi")
	if other.Duplicate || other.Seq == first.Seq {
		t.Fatalf("agent's message with the visitor's id: %+v", other)
	}
	stored, _ := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
	n := 0
	for _, e := range stored {
		if e.ClientID == "same-id" && e.AuthorKind == chat.ByVisitor {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("visitor's message stored %d times", n)
	}
}

func TestBadInputGetsErrorsAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	v, st := h.Visitor("Vera", "question")
	sid := st.Session
	count := func() int {
		es, err := h.Store.Entries(context.Background(), chat.SessionID(sid), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := count()

	// Malformed JSON: an error, the connection lives on.
	// Truncated JSON has no readable id: the reply names none.
	if err := v.Send(`{"id":"x0","cmd":"message.send","data":`); err != nil {
		t.Fatal(err)
	}
	if r := v.Reply(""); r.OK || r.Error.Code != protocol.CodeMalformed {
		t.Fatalf("truncated: %+v", r)
	}
	// A payload of the wrong shape keeps its id.
	if err := v.Send(`{"id":"x1","cmd":"message.send","data":"just text"}`); err != nil {
		t.Fatal(err)
	}
	if r := v.Reply("x1"); r.OK || r.Error.Code != protocol.CodeMalformed {
		t.Fatalf("malformed: %+v", r)
	}
	v.Refused("transfer.steal", nil, protocol.CodeUnknownCommand)
	v.Refused(protocol.CmdMessageSend, map[string]any{"session": 42}, protocol.CodeMalformed)
	v.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "e", Text: "   "}, protocol.CodeBadRequest)
	v.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "big", Text: strings.Repeat("x", chat.MaxText+1)}, protocol.CodeTooLarge)
	v.Refused(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, protocol.CodeForbidden)
	v.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "visitor"}, protocol.CodeAlreadyHello)

	// A visitor's token cannot reach another session.
	_, other := h.Visitor("Otto", "other question")
	v.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: other.Session, ClientID: "o1", Text: "hi"}, protocol.CodeForbidden)

	// An agent without respond cannot pick; a stranger cannot write.
	nils, _ := h.Agent("nils", nil)
	nils.Refused(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, protocol.CodeForbidden)
	nils.Refused(protocol.CmdQueueNext, nil, protocol.CodeQueueEmpty)
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	nils.Refused(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "n1", Text: "hi"}, protocol.CodeNotParticipant)
	nils.Refused(protocol.CmdSessionLog, protocol.SessionLog{Session: sid}, protocol.CodeForbidden)
	nils.Refused(protocol.CmdDashboardWatch, nil, protocol.CodeForbidden)

	if got := count(); got != before+1 { // only the pick's join note
		t.Fatalf("entries %d, want %d", got, before+1)
	}

	// Wrong password and unknown login: the same error; no token.
	c := relaytest.Dial(t, h.URL(), "")
	c.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Login: "anna", Password: "wrong password"}, protocol.CodeBadCredentials)
	c.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Login: "nobody", Password: "wrong password"}, protocol.CodeBadCredentials)
	c.Refused(protocol.CmdHello, protocol.Hello{V: 2, Role: "agent", Login: "anna", Password: relaytest.Password}, protocol.CodeVersion)
	c.Refused(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, protocol.CodeHelloFirst)
	c.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "visitor", Token: "forged"}, protocol.CodeBadCredentials)

	// An oversized frame closes that connection with 1009; the relay lives on.
	big := relaytest.Dial(t, h.URL(), "")
	_ = big.Send(`{"id":"b","cmd":"ping","data":"` + strings.Repeat("x", protocol.MaxFrameBytes+10) + `"}`)
	if err := big.Closed(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("oversized frame: %v", err)
	}
	anna.OK(protocol.CmdPing, nil, nil)
	send(t, anna, sid, "after", "still here")
}

func TestTokenLoginAndLogout(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	_, w := h.Agent("bertil", nil)
	c := relaytest.Dial(t, h.URL(), "")
	var w2 protocol.AgentWelcome
	c.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: w.Token}, &w2)
	if w2.Agent.Login != "bertil" || w2.Token != "" {
		t.Fatalf("token login: %+v", w2.Agent)
	}
	c.OK(protocol.CmdLogout, nil, nil)
	c.Closed()
	d := relaytest.Dial(t, h.URL(), "")
	d.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: w.Token}, protocol.CodeBadCredentials)
}

func TestOriginAllowlist(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.AllowedOrigins = []string{"https://shop.example"}
	}})
	if _, resp, err := relaytest.DialErr(t, h.URL(), "https://evil.example"); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("disallowed origin: err %v resp %v", err, resp)
	}
	ok := relaytest.Dial(t, h.URL(), "https://shop.example")
	ok.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "visitor", Channel: "support"}, nil)
}

func TestOwnerOfflinePastGraceReturnsChatToHeadOfQueue(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.Grace = 300 * time.Millisecond }})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	v1, s1 := h.Visitor("First", "one")
	_, s2 := h.Visitor("Second", "two")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: s1.Session}, nil)
	send(t, v1, s1.Session, "v1", "still waiting for my answer")
	anna.Close()
	// Back at the head of the queue, ahead of the older waiting chat.
	bertil.WaitQueue(nil, "support", s1.Session, s2.Session)
	es := v1.WaitEntries(s1.Session, 4)
	if got := noteLine(es[len(es)-1]); got != "requeued agent=Anna" {
		t.Fatalf("last line %q", got)
	}
	var info protocol.SessionInfo
	bertil.OK(protocol.CmdQueueNext, nil, &info)
	if info.ID != s1.Session {
		t.Fatalf("next gave %s, want the returned chat", info.ID)
	}
	// Nothing lost: bertil gets the whole log.
	got := bertil.WaitEntries(s1.Session, 5)
	if len(got) != 5 || got[2].Text != "still waiting for my answer" {
		t.Fatalf("bertil sees %q", texts(got))
	}
}

func TestOfflineFormCreatesRequest(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	// Nobody is Present: the channel is closed to chats.
	c := relaytest.Dial(t, h.URL(), "")
	var w protocol.VisitorWelcome
	c.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "visitor", Channel: "support"}, &w)
	if w.Channel.Open || !w.Channel.OfflineForm {
		t.Fatalf("channel: %+v", w.Channel)
	}
	c.Refused(protocol.CmdChatStart, protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Hello?"}, protocol.CodeChannelClosed)
	var r protocol.RequestCreated
	c.OK(protocol.CmdOfflineSubmit, protocol.ChatStart{Name: "Vera", Email: "vera@example.com", Question: "Please call me back"}, &r)
	row, err := h.Store.Request(context.Background(), r.Number)
	if err != nil || row.Visitor.Email != "vera@example.com" || !strings.Contains(row.Transcript, "Please call me back") {
		t.Fatalf("request %d: %+v %v", r.Number, row, err)
	}
	c.Refused(protocol.CmdOfflineSubmit, protocol.ChatStart{Name: "Vera", Email: "not-an-address", Question: "x"}, protocol.CodeBadRequest)
}

func TestCreateRequestFromChat(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	v, st := h.Visitor("Vera", "Broken charger")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	send(t, v, st.Session, "v1", "It sparks when plugged in")
	var r protocol.RequestCreated
	anna.OK(protocol.CmdRequestCreate, protocol.RequestCreate{Session: st.Session, Title: "Charger replacement"}, &r)
	if r.Number == 0 {
		t.Fatalf("request: %+v", r)
	}
	row, err := h.Store.Request(context.Background(), r.Number)
	if err != nil || row.Title != "Charger replacement" || row.CreatedBy != chat.AgentID(h.ID("anna")) ||
		!strings.Contains(row.Transcript, "It sparks when plugged in") {
		t.Fatalf("stored request: %+v %v", row, err)
	}
}

func TestGracefulShutdownSaysGoingAway(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	v, st := h.Visitor("Vera", "q")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	ack := send(t, v, st.Session, "v1", "last words")
	h.Stop()
	for _, c := range []*relaytest.Client{anna, v} {
		if err := c.Closed(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("close: %v", err)
		}
	}
	h.Restart()
	es, err := h.Store.Entries(context.Background(), chat.SessionID(st.Session), ack.Seq-1, 0)
	if err != nil || len(es) == 0 || es[0].Text != "last words" {
		t.Fatalf("after shutdown: %+v %v", es, err)
	}
}

// Shutdown closes every connection at once, also those that have not said
// hello or started a chat yet: it used to wait for them until its deadline.
func TestShutdownClosesConnectionsWithoutASession(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	silent := relaytest.Dial(t, h.URL(), "")
	browsing := relaytest.Dial(t, h.URL(), "")
	browsing.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Server.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, c := range []*relaytest.Client{silent, browsing} {
		if err := c.Closed(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("close: %v", err)
		}
	}
}

func TestPresenceCountsConnections(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	watcher, _ := h.Agent("cecilia", nil)
	one, _ := h.Agent("anna", nil)
	two, _ := h.Agent("anna", nil)
	id := h.ID("anna")
	status := func(want string, from int) int {
		_, i := watcher.Event(protocol.EvPresence, from, func(f protocol.ServerFrame) bool {
			var p protocol.PresenceEvent
			_ = json.Unmarshal(f.Data, &p)
			return len(p.Agents) == 1 && p.Agents[0].ID == id && p.Agents[0].Status == want
		})
		return i
	}
	i := status(protocol.StatusPresent, 0)
	one.OK(protocol.CmdStatusSet, protocol.StatusSet{Status: "away"}, nil)
	i = status(protocol.StatusAway, i)
	one.Close()
	two.OK(protocol.CmdPing, nil, nil) // the second window keeps anna online
	two.OK(protocol.CmdStatusSet, protocol.StatusSet{Status: "present"}, nil)
	i = status(protocol.StatusPresent, i)
	two.Close()
	status(protocol.StatusOffline, i)
}

func TestHandoverTokenWorksOnce(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	main, _ := h.Agent("cecilia", nil)
	var ho protocol.Handover
	main.OK(protocol.CmdTokenHandover, nil, &ho)
	if ho.Token == "" || ho.ExpiresIn <= 0 || ho.ExpiresIn > 120 {
		t.Fatalf("handover: %+v", ho)
	}
	dash := relaytest.Dial(t, h.URL(), "")
	var w protocol.AgentWelcome
	dash.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: ho.Token, Client: "dashboard"}, &w)
	if w.Agent.Login != "cecilia" {
		t.Fatalf("handover login as %+v", w.Agent)
	}
	again := relaytest.Dial(t, h.URL(), "")
	again.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: ho.Token}, protocol.CodeBadCredentials)
}

// A handover sign-in is answered with a session token of the same agent, so
// that the second window can come back after its connection drops or the
// relay restarts; the one-time token stays spent, and logging out of the
// second window revokes its session token.
func TestHandoverSignInGetsASessionToken(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	main, mw := h.Agent("cecilia", nil)
	var ho protocol.Handover
	main.OK(protocol.CmdTokenHandover, nil, &ho)
	dash := relaytest.Dial(t, h.URL(), "")
	var w protocol.AgentWelcome
	dash.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: ho.Token, Client: "dashboard"}, &w)
	if w.Agent.Login != "cecilia" || w.Token == "" || w.Token == ho.Token || w.Token == mw.Token ||
		strings.HasPrefix(w.Token, "h1.") {
		t.Fatalf("handover welcome: agent %+v, token %q", w.Agent, w.Token)
	}
	session := w.Token

	// The connection drops: the session token signs in again, silently (no
	// new token), and watches the dashboard as before.
	dash.Close()
	back := relaytest.Dial(t, h.URL(), "")
	var w2 protocol.AgentWelcome
	back.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: session}, &w2)
	if w2.Agent.Login != "cecilia" || w2.Token != "" {
		t.Fatalf("welcome on the session token: %+v", w2)
	}
	back.OK(protocol.CmdDashboardWatch, nil, nil)
	back.Close()

	// The relay restarts on the same database: the session token still
	// works, the one-time token still does not.
	h.Restart()
	spent := relaytest.Dial(t, h.URL(), "")
	spent.Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: ho.Token}, protocol.CodeBadCredentials)
	after := relaytest.Dial(t, h.URL(), "")
	after.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: session}, &w2)
	if w2.Agent.Login != "cecilia" {
		t.Fatalf("after the restart: %+v", w2.Agent)
	}

	// Logout revokes the session token; the desk's own token is untouched.
	after.OK(protocol.CmdLogout, nil, nil)
	relaytest.Dial(t, h.URL(), "").Refused(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: session}, protocol.CodeBadCredentials)
	desk := relaytest.Dial(t, h.URL(), "")
	desk.OK(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: mw.Token}, &w2)
}

// Two hellos racing with the same one-time token: exactly one gets in.
func TestHandoverTokenRace(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	main, _ := h.Agent("cecilia", nil)
	for round := 0; round < 5; round++ {
		var ho protocol.Handover
		main.OK(protocol.CmdTokenHandover, nil, &ho)
		const n = 4
		oks := make(chan bool, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			c := relaytest.Dial(t, h.URL(), "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := c.Do(protocol.CmdHello, protocol.Hello{V: 1, Role: "agent", Token: ho.Token})
				oks <- f.OK
			}()
		}
		wg.Wait()
		close(oks)
		got := 0
		for ok := range oks {
			if ok {
				got++
			}
		}
		if got != 1 {
			t.Fatalf("round %d: %d of %d hellos got in with one handover token", round, got, n)
		}
	}
}

// TestDashboardSameAfterRestart: the day's transfer figures and the recent
// transfers (a take-over among them) read the same after a relay restart.
func TestDashboardSameAfterRestart(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	_, s1 := h.Visitor("Vera", "one")
	_, s2 := h.Visitor("Vic", "two")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: s1.Session}, nil)
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: s2.Session}, nil)
	var tr protocol.TransferInfo
	anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: s1.Session, To: h.ID("bertil")}, &tr)
	bertil.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: tr.ID}, nil)
	cecilia.OK(protocol.CmdSessionTakeover, protocol.SessionRef{Session: s2.Session}, nil)

	read := func() protocol.Dashboard {
		c, _ := h.Agent("cecilia", nil)
		defer c.Close()
		var db protocol.Dashboard
		c.OK(protocol.CmdDashboardWatch, nil, &db)
		return db
	}
	ids := func(db protocol.Dashboard) (out []int64) {
		for _, t := range db.Transfers {
			out = append(out, t.ID)
		}
		return out
	}
	before := read()
	if before.Overall.Transfers["accepted"] != 1 || before.Overall.Transfers["takeover"] != 1 || len(before.Transfers) != 2 {
		t.Fatalf("before the restart: %v, %v", before.Overall.Transfers, ids(before))
	}
	h.Restart()
	after := read()
	if !maps.Equal(after.Overall.Transfers, before.Overall.Transfers) || !slices.Equal(ids(after), ids(before)) {
		t.Fatalf("after the restart %v %v; before %v %v", after.Overall.Transfers, ids(after), before.Overall.Transfers, ids(before))
	}
}
