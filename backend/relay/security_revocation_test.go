package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"golang.org/x/crypto/bcrypt"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
)

// Revocation reaches live connections: what an administrator takes away
// (password, account, grant) and what a logout ends stops at once, not when
// the client next reconnects.

// closeCode waits for c to be closed by the relay and returns the code.
func closeCode(t *testing.T, c *relaytest.Client) int {
	t.Helper()
	err := c.Closed()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("closed without a close frame: %v", err)
	}
	return ce.Code
}

// tokenHello dials and says hello with a token; it returns the reply.
func tokenHello(t *testing.T, h *relaytest.Harness, token string) protocol.ServerFrame {
	t.Helper()
	c := relaytest.Dial(t, h.URL(), "")
	defer c.Close()
	return c.Do(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: token})
}

func wantRefusedToken(t *testing.T, h *relaytest.Harness, token, what string) {
	t.Helper()
	if r := tokenHello(t, h, token); r.OK || r.Error == nil || r.Error.Code != protocol.CodeBadCredentials {
		t.Errorf("%s: hello with the token: ok=%v %v, want bad_credentials", what, r.OK, r.Error)
	}
}

// TestSecurityPasswordChangeRevokesTokens: `agent passwd` revokes the
// agent's tokens (a hello with an old one fails) and closes their live
// connections with CloseRevoked.
func TestSecurityPasswordChangeRevokesTokens(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	anna, w := h.Agent("anna", nil)
	second := relaytest.Dial(t, h.URL(), "")
	second.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: w.Token}, nil)
	bertil, _ := h.Agent("bertil", nil)

	hash, err := relay.HashPassword("a brand new password")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SetPassword(context.Background(), "anna", hash); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*relaytest.Client{anna, second} {
		if code := closeCode(t, c); code != protocol.CloseRevoked {
			t.Errorf("connection %d closed with %d, want %d", i, code, protocol.CloseRevoked)
		}
	}
	wantRefusedToken(t, h, w.Token, "after passwd")
	bertil.OK(protocol.CmdPing, nil, nil) // others stay
}

// TestSecurityPasswordChangeDuringSignIn: a sign-in whose password check
// began before `agent passwd` committed must not come out with a token that
// outlives the change (the change revoked every token there was, not one
// made after it).
func TestSecurityPasswordChangeDuringSignIn(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	// A slow hash, so that the change commits while the check runs.
	slow, err := bcrypt.GenerateFromPassword([]byte(relaytest.Password), 12)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Store.SetPassword(ctx, "anna", slow); err != nil {
		t.Fatal(err)
	}
	c := relaytest.Dial(t, h.URL(), "")
	hello, _ := json.Marshal(protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: "anna", Password: relaytest.Password})
	if err := c.Send(`{"id":"h","cmd":"hello","data":` + string(hello) + `}`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the check has begun
	fresh, err := relay.HashPassword("a brand new password")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.SetPassword(ctx, "anna", fresh); err != nil {
		t.Fatal(err)
	}
	if r := c.Reply("h"); r.OK {
		var w protocol.AgentWelcome
		_ = json.Unmarshal(r.Data, &w)
		wantRefusedToken(t, h, w.Token, "a token issued across the password change")
	}
}

// TestSecurityDisableClosesConnections: `agent disable` closes the agent's
// connections with CloseRevoked: no more live chat, no more quick-replies
// saves, and the token is refused.
func TestSecurityDisableClosesConnections(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	anna, w := h.Agent("anna", nil)
	vis, st := h.Visitor("Vera", "Hello?")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	anna.WaitEntries(st.Session, 2)
	before, err := h.Store.QuickReplies(context.Background(), chatID(h, "anna"))
	if err != nil {
		t.Fatal(err)
	}

	if err := h.Store.SetAgentDisabled(context.Background(), "anna", true); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, anna); code != protocol.CloseRevoked {
		t.Fatalf("closed with %d, want %d", code, protocol.CloseRevoked)
	}
	// Nothing more reaches her, and she can save nothing.
	vis.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: st.Session, ClientID: "v2", Text: "anyone there?"}, nil)
	raw, _ := json.Marshal(protocol.QuickReplies{Replies: []protocol.QuickReply{{Title: "x", Text: "saved after disable"}}})
	_ = anna.Send(`{"id":"q","cmd":"` + protocol.CmdQuickRepliesSet + `","data":` + string(raw) + `}`)
	time.Sleep(100 * time.Millisecond)
	after, err := h.Store.QuickReplies(context.Background(), chatID(h, "anna"))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("quick replies saved after disable: %+v", after)
	}
	for _, e := range anna.Entries(st.Session) {
		if e.Seq > 2 {
			t.Errorf("entry %d reached the disabled agent", e.Seq)
		}
	}
	wantRefusedToken(t, h, w.Token, "after disable")
}

// TestSecurityGrantRemovalStopsListening: an agent whose listen permission
// is removed stops receiving the chat they listen to, is told (a session
// event without a role), may no longer read its log, and stops getting
// dashboard frames.
func TestSecurityGrantRemovalStopsListening(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	lars, _ := h.Agent("lars", nil)
	cecilia, _ := h.Agent("cecilia", nil)
	vis, st := h.Visitor("Vera", "Hello?")
	sid := st.Session
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	lars.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: sid}, nil)
	lars.OK(protocol.CmdDashboardWatch, nil, nil)
	cecilia.OK(protocol.CmdDashboardWatch, nil, nil)
	vis.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v1", Text: "one"}, nil)
	lars.WaitEntries(sid, 3)

	mark := len(lars.Events())
	if err := h.Store.Grant(context.Background(), "lars", "support", 0); err != nil {
		t.Fatal(err)
	}
	lars.Event(protocol.EvSession, mark, func(f protocol.ServerFrame) bool {
		var si protocol.SessionInfo
		return f.Session == sid && json.Unmarshal(f.Data, &si) == nil && si.Role == ""
	})
	lars.OK(protocol.CmdPing, nil, nil) // the dashboard frame of the change, if any, is in
	dashBefore := count(lars.Events(), protocol.EvDashboard)
	cecBefore := len(cecilia.Events())

	var ack protocol.MessageAck
	vis.OK(protocol.CmdMessageSend, protocol.MessageSend{Session: sid, ClientID: "v2", Text: "two"}, &ack)
	anna.WaitEntries(sid, ack.Seq)
	anna.OK(protocol.CmdStatusSet, protocol.StatusSet{Status: "away"}, nil) // the dashboard moves
	cecilia.Event(protocol.EvDashboard, cecBefore, nil)
	time.Sleep(3 * h.Config.DashboardInterval)
	lars.OK(protocol.CmdPing, nil, nil)

	for _, e := range lars.Entries(sid) {
		if e.Seq >= ack.Seq {
			t.Errorf("entry %d reached the agent whose listen grant was removed", e.Seq)
		}
	}
	lars.Refused(protocol.CmdSessionLog, protocol.SessionLog{Session: sid}, protocol.CodeForbidden)
	if n := count(lars.Events(), protocol.EvDashboard); n != dashBefore {
		t.Errorf("%d dashboard frames after the grant was removed", n-dashBefore)
	}
}

// TestSecurityLogoutEndsHandedOverSignIns: the dashboard window signed in
// with a handover token dies with the session that minted it: its
// connection is closed and its token refused.
func TestSecurityLogoutEndsHandedOverSignIns(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	main, _ := h.Agent("cecilia", nil)
	other, otherW := h.Agent("cecilia", nil) // another sign-in of hers, not handed over
	var ho protocol.Handover
	main.OK(protocol.CmdTokenHandover, nil, &ho)
	dash := relaytest.Dial(t, h.URL(), "")
	var dw protocol.AgentWelcome
	dash.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Token: ho.Token}, &dw)
	dash.OK(protocol.CmdDashboardWatch, nil, nil)

	main.OK(protocol.CmdLogout, nil, nil)
	if code := closeCode(t, main); code != protocol.CloseLoggedOut {
		t.Errorf("the window that logged out closed with %d", code)
	}
	if code := closeCode(t, dash); code != protocol.CloseRevoked {
		t.Errorf("the handed-over window closed with %d, want %d", code, protocol.CloseRevoked)
	}
	wantRefusedToken(t, h, dw.Token, "the handed-over session token after logout")
	other.OK(protocol.CmdPing, nil, nil)
	if r := tokenHello(t, h, otherW.Token); !r.OK {
		t.Errorf("an unrelated sign-in was revoked: %v", r.Error)
	}
}

func count(frames []protocol.ServerFrame, ev string) int {
	n := 0
	for _, f := range frames {
		if f.Ev == ev {
			n++
		}
	}
	return n
}

func chatID(h *relaytest.Harness, login string) chat.AgentID { return chat.AgentID(h.ID(login)) }
