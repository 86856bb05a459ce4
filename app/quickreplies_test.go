package app

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

func repliesOf(t *testing.T, d *testDesk, res Result) []protocol.QuickReply {
	t.Helper()
	raw := d.ok("quick replies", res)
	var q protocol.QuickReplies
	if err := json.Unmarshal(raw, &q); err != nil || q.Replies == nil {
		t.Fatalf("quick replies data %s: %v", raw, err)
	}
	return q.Replies
}

// saveReplies sends quickreplies.set as the UI does: the list as JSON, where
// a JavaScript null stays null.
func saveReplies(t *testing.T, desk *Desk, list []protocol.QuickReply) Result {
	t.Helper()
	return desk.Command(protocol.CmdQuickRepliesSet, asJSON(t, protocol.QuickReplies{Replies: list}))
}

// The desk saves quick replies on the relay: the same agent on another
// machine reads them, hears of changes, and they outlive the relay.
func TestQuickRepliesThroughTheRelay(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	home := newTestDesk(t, deskOpts{})
	office := newTestDesk(t, deskOpts{})
	home.login(h.URL(), "anna", false)
	office.login(h.URL(), "anna", false)
	desk := newDesk(home.c)

	if got := repliesOf(t, home, desk.Command(protocol.CmdQuickRepliesGet, nil)); len(got) != 0 {
		t.Fatalf("a new agent has %+v", got)
	}
	list := []protocol.QuickReply{{Title: " Greeting", Text: "Hello! How can I help you?"}, {Text: "One moment, please."}}
	want := []protocol.QuickReply{{Title: "Greeting", Text: list[0].Text}, list[1]}
	if got := repliesOf(t, home, saveReplies(t, desk, list)); !reflect.DeepEqual(got, want) {
		t.Fatalf("save answered %+v, want %+v", got, want)
	}
	if got := repliesOf(t, office, newDesk(office.c).Command(protocol.CmdQuickRepliesGet, nil)); !reflect.DeepEqual(got, want) {
		t.Fatalf("the other machine reads %+v, want %+v", got, want)
	}

	// A change on the other machine reaches this one as a relay event.
	changed := []protocol.QuickReply{{Text: "Anything else I can do?"}}
	office.ok("save on the other machine", office.c.saveQuickReplies(changed))
	waitRelay(home, protocol.EvQuickReplies, 0, func(q protocol.QuickReplies) bool {
		return reflect.DeepEqual(q.Replies, changed)
	})

	// The relay restarts (on a new address here); a fresh sign-in has them.
	h.Restart()
	later := newTestDesk(t, deskOpts{})
	later.login(h.URL(), "anna", false)
	if got := repliesOf(t, later, later.c.quickReplies()); !reflect.DeepEqual(got, changed) {
		t.Fatalf("after the restart: %+v, want %+v", got, changed)
	}
}

// A list the relay would refuse is refused in the app, before sending.
func TestQuickRepliesCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	d := newTestDesk(t, deskOpts{})
	desk := newDesk(d.c)
	d.refused("before login", desk.Command(protocol.CmdQuickRepliesGet, nil), CodeOffline)
	d.refused("save before login", saveReplies(t, desk, []protocol.QuickReply{{Text: "x"}}), CodeOffline)

	d.login(h.URL(), "bertil", false)
	keep := []protocol.QuickReply{{Text: "Keep me"}}
	d.ok("save", saveReplies(t, desk, keep))
	d.refused("empty text", saveReplies(t, desk, []protocol.QuickReply{{Title: "Nothing"}}), protocol.CodeBadRequest)
	d.refused("text too long", saveReplies(t, desk, []protocol.QuickReply{{Text: strings.Repeat("x", protocol.MaxQuickReplyText+1)}}), protocol.CodeTooLarge)
	big := make([]protocol.QuickReply, 40)
	for i := range big {
		big[i] = protocol.QuickReply{Text: strings.Repeat("<", protocol.MaxQuickReplyText)} // 12 KB each as JSON
	}
	d.refused("list over a frame", saveReplies(t, desk, big), protocol.CodeTooLarge)
	// The connection lived through it and nothing changed.
	if got := repliesOf(t, d, desk.Command(protocol.CmdQuickRepliesGet, nil)); !reflect.DeepEqual(got, keep) {
		t.Fatalf("after refusals: %+v", got)
	}
	stored, err := h.Store.QuickReplies(context.Background(), chat.AgentID(h.ID("bertil")))
	if err != nil || !reflect.DeepEqual(stored, keep) {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// Clearing is allowed: an empty list, also from a JavaScript null.
	if got := repliesOf(t, d, saveReplies(t, desk, nil)); len(got) != 0 {
		t.Fatalf("after clearing: %+v", got)
	}
}
