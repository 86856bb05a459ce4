package relay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// Security suite: what an agent may read of chats and transfers that are
// not theirs.

// addChannel creates a second channel with grants and restarts the relay so
// that it is loaded.
func addChannel(t *testing.T, h *relaytest.Harness, key string, grants map[string]string) {
	t.Helper()
	ctx := context.Background()
	if err := h.Store.PutChannel(ctx, store.ChannelRow{Key: chat.ChannelID(key), Name: key, TimeZone: "UTC",
		TransferTimeout: chat.DefaultTransferTimeout}); err != nil {
		t.Fatal(err)
	}
	for login, perms := range grants {
		p, ok := chat.ParsePerms(strings.Split(perms, ","))
		if !ok {
			t.Fatalf("bad perms %q", perms)
		}
		if err := h.Store.Grant(ctx, login, chat.ChannelID(key), p); err != nil {
			t.Fatal(err)
		}
	}
	h.Restart()
}

// visitorIn starts a chat in a given channel.
func visitorIn(t *testing.T, h *relaytest.Harness, channel, name, question string) (*relaytest.Client, string) {
	t.Helper()
	c := relaytest.Dial(t, h.URL(), "")
	c.OK(protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: channel}, nil)
	var st protocol.ChatStarted
	c.OK(protocol.CmdChatStart, protocol.ChatStart{Name: name, Email: "v@example.com", Question: question}, &st)
	return c, st.Session
}

// transferTo hands a chat from one agent to another, who accepts.
func transferTo(t *testing.T, h *relaytest.Harness, from, to *relaytest.Client, sid, toLogin, comment string) {
	t.Helper()
	var ti protocol.TransferInfo
	from.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: h.ID(toLogin), Comment: comment}, &ti)
	to.OK(protocol.CmdTransferAccept, protocol.TransferRef{Transfer: ti.ID}, nil)
}

// TestSecurityTransferHistoryStaysInChannel: transfer.history of another
// agent shows only the transfers of channels the reader may watch. A
// listen-only agent of support must not read a sales transfer's visitor
// and staff comment.
func TestSecurityTransferHistoryStaysInChannel(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{Agents: []relaytest.Agent{
		{Login: "anna", Name: "Anna", Perms: "respond"}, {Login: "bertil", Name: "Bertil", Perms: "respond"},
		{Login: "lars", Name: "Lars", Perms: "listen"}, {Login: "sven", Name: "Sven", Perms: ""},
	}})
	addChannel(t, h, "sales", map[string]string{"anna": "respond", "bertil": "respond", "sven": "listen"})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	lars, _ := h.Agent("lars", nil)
	sven, _ := h.Agent("sven", nil)

	// One transfer in each channel, both from anna to bertil.
	_, salesChat := visitorIn(t, h, "sales", "Sally Secret", "a quote please")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: salesChat}, nil)
	transferTo(t, h, anna, bertil, salesChat, "bertil", "sales: discount agreed, 40%")
	_, supportChat := visitorIn(t, h, "support", "Vera", "parcel?")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: supportChat}, nil)
	transferTo(t, h, anna, bertil, supportChat, "bertil", "support: courier issue")

	history := func(c *relaytest.Client, agent string) map[string]protocol.TransferInfo {
		t.Helper()
		var list []protocol.TransferInfo
		c.OK(protocol.CmdTransferHistory, protocol.TransferHistory{Agent: h.ID(agent)}, &list)
		out := map[string]protocol.TransferInfo{}
		for _, ti := range list {
			out[ti.Channel] = ti
		}
		return out
	}
	if got := history(lars, "anna"); len(got) != 1 || got["support"].Comment != "support: courier issue" {
		t.Fatalf("support's listener reads anna's history: %+v", got)
	}
	if got := history(sven, "anna"); len(got) != 1 || got["sales"].Comment != "sales: discount agreed, 40%" {
		t.Fatalf("sales' listener reads anna's history: %+v", got)
	}
	// Her own history and the receiver's keep both channels.
	if got := history(anna, "anna"); len(got) != 2 {
		t.Fatalf("anna's own history: %+v", got)
	}
	var own []protocol.TransferInfo
	bertil.OK(protocol.CmdTransferHistory, protocol.TransferHistory{}, &own)
	if len(own) != 2 {
		t.Fatalf("bertil's own history: %+v", own)
	}
	// An agent who may watch nothing may read no one else's history.
	bertil.Refused(protocol.CmdTransferHistory, protocol.TransferHistory{Agent: h.ID("anna")}, protocol.CodeForbidden)
}

// TestSecurityOldLogNeedsListenOrPart: an ended chat no longer in memory is
// read from the store; respond in its channel is not enough, listen is, and
// so is having taken part (owner, transfer party).
func TestSecurityOldLogNeedsListenOrPart(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{
		Agents: []relaytest.Agent{
			{Login: "anna", Name: "Anna", Perms: "respond"}, {Login: "bertil", Name: "Bertil", Perms: "respond"},
			{Login: "dora", Name: "Dora", Perms: "respond"}, {Login: "lars", Name: "Lars", Perms: "listen"},
		},
		// Ended chats leave memory at once (on the next start).
		Config: func(c *relay.Config) { c.Desk.KeepEnded = time.Millisecond },
	})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	_, sid := visitorIn(t, h, "support", "Vera", "my card number is 1234")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: sid}, nil)
	transferTo(t, h, anna, bertil, sid, "bertil", "")
	anna.OK(protocol.CmdSessionLeave, protocol.SessionRef{Session: sid}, nil)
	bertil.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: sid}, nil)
	h.Restart()

	read := func(login string) protocol.ServerFrame {
		t.Helper()
		c, _ := h.Agent(login, nil)
		return c.Do(protocol.CmdSessionLog, protocol.SessionLog{Session: sid})
	}
	r := read("dora")
	if r.OK || r.Error == nil || r.Error.Code != protocol.CodeForbidden {
		t.Fatalf("an agent with respond only read an old chat: ok=%v %v %s", r.OK, r.Error, r.Data)
	}
	for _, who := range []string{"lars", "bertil", "anna"} { // listener, last owner, former owner
		r := read(who)
		var log relay.SessionLogReply
		if !r.OK || json.Unmarshal(r.Data, &log) != nil || len(log.Entries) == 0 || log.Entries[0].Text != "my card number is 1234" {
			t.Fatalf("%s could not read the old chat: %v %s", who, r.Error, r.Data)
		}
	}
}

// TestSecurityOriginIgnoresHost: a browser websocket is let in by its
// Origin only if configured; an Origin that matches the request's Host (a
// hostile page reaching an intranet relay by DNS rebinding sends both) is
// refused. The demo page's origin is let in only with the demo on.
func TestSecurityOriginIgnoresHost(t *testing.T) {
	t.Parallel()
	dial := func(h *relaytest.Harness, origin, host string) int {
		t.Helper()
		hdr := http.Header{"Origin": {origin}}
		if host != "" {
			hdr.Set("Host", host)
		}
		ws, resp, err := websocket.DefaultDialer.Dial(h.URL(), hdr)
		if err == nil {
			ws.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	shop := func(c *relay.Config) { c.AllowedOrigins = []string{"https://shop.example"} }
	off := relaytest.Start(t, relaytest.Options{Config: shop})
	own := off.HTTP.URL
	for _, c := range []struct{ origin, host string }{
		{"http://rebind.example:8080", "rebind.example:8080"},
		{"https://rebind.example", "rebind.example"},
		{own, ""}, // the relay's own address, with the demo off
	} {
		if got := dial(off, c.origin, c.host); got != http.StatusForbidden {
			t.Fatalf("origin %s, host %q: %d", c.origin, c.host, got)
		}
	}
	if got := dial(off, "https://shop.example", ""); got != http.StatusSwitchingProtocols {
		t.Fatalf("configured origin: %d", got)
	}
	on := relaytest.Start(t, relaytest.Options{Config: shop, OwnOrigin: true})
	if got := dial(on, on.HTTP.URL, ""); got != http.StatusSwitchingProtocols {
		t.Fatalf("demo origin with the demo on: %d", got)
	}
	if got := dial(on, "http://rebind.example:8080", "rebind.example:8080"); got != http.StatusForbidden {
		t.Fatalf("forged host with the demo on: %d", got)
	}
}
