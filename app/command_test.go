package app

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// Desk.Command forwards a registry command to the relay and takes its reply
// into the app's view at once, as the per-command methods did: the tray
// counts a picked chat, Send refuses a chat just listened to, the status set
// is the tray's.
func TestCommandForwardsAndTakesTheReply(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, lars := newTestDesk(t, deskOpts{}), newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	lars.login(h.URL(), "lars", false)
	desk := newDesk(anna.c)
	_, st := h.Visitor("Vera", "Where is my parcel?")

	raw := anna.ok("pick", desk.Command(protocol.CmdSessionPick, json.RawMessage(`{"session":"`+st.Session+`"}`)))
	var s protocol.SessionInfo
	if json.Unmarshal(raw, &s) != nil || s.ID != st.Session || s.Role != protocol.ViewOwner {
		t.Fatalf("pick answered %s", raw)
	}
	if got := anna.c.trayState().Chats; got != 1 {
		t.Fatalf("tray chats right after the pick = %d, want 1", got)
	}

	lars.ok("listen", newDesk(lars.c).Command(protocol.CmdSessionListen, asJSON(t, ref(st.Session))))
	lars.refused("send right after listening", lars.c.send(st.Session, "hi"), protocol.CodeListenOnly)

	anna.ok("status", desk.Command(protocol.CmdStatusSet, json.RawMessage(`{"status":"away"}`)))
	if got := anna.c.trayState().Status; got != protocol.StatusAway {
		t.Fatalf("tray status right after status.set = %q", got)
	}

	// A reply whose type has no place in the view passes through as-is.
	var log protocol.SessionLogReply
	if err := json.Unmarshal(anna.ok("log", desk.Command(protocol.CmdSessionLog, asJSON(t, protocol.SessionLog{Session: st.Session}))), &log); err != nil || len(log.Entries) == 0 {
		t.Fatalf("log %+v %v", log, err)
	}
}

// Names the desk may not send and data of the wrong shape are refused with
// a clear error before reaching the relay; the connection goes on.
func TestCommandRefusesWhatItMayNotSend(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna := newTestDesk(t, deskOpts{})
	anna.login(h.URL(), "anna", false)
	desk := newDesk(anna.c)

	for _, tc := range []struct {
		name, data string
		code       protocol.Code
		says       string
	}{
		{"session.teleport", `{}`, protocol.CodeUnknownCommand, `unknown command "session.teleport"`},
		{"", ``, protocol.CodeUnknownCommand, "unknown command"},
		{protocol.CmdChatStart, `{"name":"Vera"}`, protocol.CodeForbidden, "visitor"},
		{protocol.CmdOfflineSubmit, `{}`, protocol.CodeForbidden, "visitor"},
		{protocol.CmdHello, `{"v":1,"role":"agent"}`, protocol.CodeForbidden, "Login"},
		{protocol.CmdTokenHandover, ``, protocol.CodeForbidden, "OpenDashboard"},
		{protocol.CmdLogout, ``, protocol.CodeForbidden, "Logout"},
		{protocol.CmdMessageSend, `{"session":"s","text":"hi"}`, protocol.CodeForbidden, "Send"},
		{protocol.CmdDashboardWatch, ``, protocol.CodeForbidden, "dashboard"},
		// Garbage as data: none of it reaches the relay.
		{protocol.CmdSessionPick, `{not json`, protocol.CodeMalformed, "SessionRef"},
		{protocol.CmdSessionPick, `[1,2]`, protocol.CodeMalformed, "SessionRef"},
		{protocol.CmdSessionPick, `"s-1"`, protocol.CodeMalformed, "SessionRef"},
		{protocol.CmdSessionPick, `{"session":5}`, protocol.CodeMalformed, "SessionRef"},
		{protocol.CmdSessionPick, `{"sesion":"s-1"}`, protocol.CodeMalformed, `unknown field "sesion"`},
		{protocol.CmdSessionPick, `{"session":"a"} {"session":"b"}`, protocol.CodeMalformed, "more than one"},
		{protocol.CmdQueueNext, `{"channel":"support"}`, protocol.CodeMalformed, "takes no data"},
		{protocol.CmdQuickRepliesSet, `{"replies":[{"title":"x"}]}`, protocol.CodeBadRequest, "no text"},
	} {
		res := desk.Command(tc.name, json.RawMessage(tc.data))
		if res.OK || res.Error == nil || res.Error.Code != tc.code || !strings.Contains(res.Error.Message, tc.says) {
			t.Errorf("Command(%q, %s) = %v, want %s saying %q", tc.name, tc.data, res, tc.code, tc.says)
		}
	}
	// Missing data is the relay's to judge, as for any client.
	anna.refused("pick without data", desk.Command(protocol.CmdSessionPick, nil), protocol.CodeNotFound)
	anna.refused("pick of null", desk.Command(protocol.CmdSessionPick, json.RawMessage("null")), protocol.CodeNotFound)
	// No data where none is taken: nil, null and {} alike.
	for _, data := range []string{"", "null", "{}"} {
		anna.refused("queue.next with "+data, desk.Command(protocol.CmdQueueNext, json.RawMessage(data)), protocol.CodeQueueEmpty)
	}
	anna.ok("ping after it all", desk.Command(protocol.CmdPing, nil))
	if anna.c.current() == nil || anna.c.trayState().Conn != "connected" {
		t.Fatalf("the connection did not live through the refusals: %+v", anna.c.trayState())
	}
}

// Every agent command of the registry is either sent by name or run by the
// app itself, and the UI's type of sendable names leaves out the same ones.
func TestEveryAgentCommandIsBoundOrAppOwned(t *testing.T) {
	t.Parallel()
	for name := range appOwned {
		if !protocol.Known(name) {
			t.Errorf("appOwned names %q, which the registry does not know", name)
		}
		if _, ok := boundCommands[name]; ok {
			t.Errorf("%s is both bound and app-owned", name)
		}
	}
	for _, c := range protocol.Commands {
		_, bound := boundCommands[c.Name]
		agent := c.Role == protocol.RoleAgent || c.Role == ""
		if agent && !bound && appOwned[c.Name] == "" {
			t.Errorf("agent command %s is neither bound nor app-owned", c.Name)
		}
	}
}

// The UI's list of commands it may not send by name (frontend/src/lib/
// bridge.ts, appOwnedCommands) is the app's: a command the app took over
// and the UI still sends would fail at run time, not at the type check.
func TestUIKnowsTheAppOwnedCommands(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../frontend/src/lib/bridge.ts")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`appOwnedCommands = \[([^\]]*)\] as const`).FindSubmatch(src)
	if m == nil {
		t.Fatal("bridge.ts declares no appOwnedCommands")
	}
	var ui []string
	for _, q := range regexp.MustCompile(`'([^']+)'`).FindAllSubmatch(m[1], -1) {
		ui = append(ui, string(q[1]))
	}
	var app []string
	for name := range appOwned {
		app = append(app, name)
	}
	slices.Sort(ui)
	slices.Sort(app)
	if !slices.Equal(ui, app) {
		t.Fatalf("bridge.ts appOwnedCommands = %q, app.appOwned = %q", ui, app)
	}
}
