package relay_test

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

func getReplies(t *testing.T, c *relaytest.Client) []protocol.QuickReply {
	t.Helper()
	var got protocol.QuickReplies
	c.OK(protocol.CmdQuickRepliesGet, nil, &got)
	if got.Replies == nil {
		t.Fatal("quickreplies.get answered without a list")
	}
	return got.Replies
}

// An agent's quick replies follow them: a second connection (another
// machine) reads what the first saved, is told when it changes, and the
// list survives a restart of the relay on the same database.
func TestQuickRepliesFollowTheAgent(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	home, _ := h.Agent("anna", nil)
	if got := getReplies(t, home); len(got) != 0 {
		t.Fatalf("a new agent has %+v", got)
	}
	list := []protocol.QuickReply{
		{Title: " Greeting ", Text: "Hello! How can I help you?"},
		{Text: "One moment,\nI am checking."},
	}
	want := []protocol.QuickReply{{Title: "Greeting", Text: list[0].Text}, list[1]}
	var saved protocol.QuickReplies
	home.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: list}, &saved)
	if !reflect.DeepEqual(saved.Replies, want) {
		t.Fatalf("set answered %+v, want %+v", saved.Replies, want)
	}

	// Another machine of the same agent.
	office, _ := h.Agent("anna", nil)
	if got := getReplies(t, office); !reflect.DeepEqual(got, want) {
		t.Fatalf("second connection reads %+v, want %+v", got, want)
	}

	// A change on one is pushed to the other, not echoed to itself.
	changed := []protocol.QuickReply{{Title: "Bye", Text: "Anything else I can do?"}, want[0]}
	office.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: changed}, nil)
	home.Event(protocol.EvQuickReplies, 0, func(f protocol.ServerFrame) bool {
		var q protocol.QuickReplies
		return json.Unmarshal(f.Data, &q) == nil && reflect.DeepEqual(q.Replies, changed)
	})
	home.OK(protocol.CmdPing, nil, nil)
	office.OK(protocol.CmdPing, nil, nil)
	for _, f := range office.Events() {
		if f.Ev == protocol.EvQuickReplies {
			t.Fatalf("the saving connection got its own change back: %s", f.Data)
		}
	}

	// Durable: a new relay on the same file has them.
	h.Restart()
	again, _ := h.Agent("anna", nil)
	if got := getReplies(t, again); !reflect.DeepEqual(got, changed) {
		t.Fatalf("after restart: %+v, want %+v", got, changed)
	}
	stored, err := h.Store.QuickReplies(context.Background(), chat.AgentID(h.ID("anna")))
	if err != nil || !reflect.DeepEqual(stored, changed) {
		t.Fatalf("stored %+v %v", stored, err)
	}
}

func TestQuickRepliesArePerAgent(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	anna.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: []protocol.QuickReply{{Text: "Anna's own"}}}, nil)
	if got := getReplies(t, bertil); len(got) != 0 {
		t.Fatalf("bertil reads anna's replies: %+v", got)
	}
	bertil.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: []protocol.QuickReply{{Text: "Bertil's own"}}}, nil)
	if got := getReplies(t, anna); len(got) != 1 || got[0].Text != "Anna's own" {
		t.Fatalf("anna reads %+v", got)
	}
	// Bertil's change is not told to anna.
	anna.OK(protocol.CmdPing, nil, nil)
	for _, f := range anna.Events() {
		if f.Ev == protocol.EvQuickReplies {
			t.Fatalf("anna was told of another agent's replies: %s", f.Data)
		}
	}
	// Clearing is a save of an empty list.
	anna.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: []protocol.QuickReply{}}, nil)
	if got := getReplies(t, anna); len(got) != 0 {
		t.Fatalf("after clearing: %+v", got)
	}
}

func TestQuickRepliesRefusals(t *testing.T) {
	t.Parallel()
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	keep := []protocol.QuickReply{{Text: "Keep me"}}
	anna.OK(protocol.CmdQuickRepliesSet, protocol.QuickReplies{Replies: keep}, nil)

	set := func(l []protocol.QuickReply) protocol.QuickReplies { return protocol.QuickReplies{Replies: l} }
	many := make([]protocol.QuickReply, protocol.MaxQuickReplies+1)
	for i := range many {
		many[i] = protocol.QuickReply{Text: "x"}
	}
	for _, tc := range []struct {
		name string
		data any
		code protocol.Code
	}{
		{"empty text", set([]protocol.QuickReply{{Title: "Empty"}}), protocol.CodeBadRequest},
		{"blank text", set([]protocol.QuickReply{{Text: " \n "}}), protocol.CodeBadRequest},
		{"title of two lines", set([]protocol.QuickReply{{Title: "a\nb", Text: "x"}}), protocol.CodeBadRequest},
		{"too many", set(many), protocol.CodeTooLarge},
		{"text too long", set([]protocol.QuickReply{{Text: strings.Repeat("x", protocol.MaxQuickReplyText+1)}}), protocol.CodeTooLarge},
		{"title too long", set([]protocol.QuickReply{{Title: strings.Repeat("x", protocol.MaxQuickReplyTitle+1), Text: "x"}}), protocol.CodeTooLarge},
		{"list too large", set(func() []protocol.QuickReply {
			l := make([]protocol.QuickReply, 30)
			for i := range l {
				l[i] = protocol.QuickReply{Text: strings.Repeat("x", protocol.MaxQuickReplyText)} // 60 KB: under the frame cap, over the list cap
			}
			return l
		}()), protocol.CodeTooLarge},
		{"wrong shape", map[string]any{"replies": "hello"}, protocol.CodeMalformed},
		{"reply of the wrong shape", map[string]any{"replies": []any{42}}, protocol.CodeMalformed},
	} {
		anna.Refused(protocol.CmdQuickRepliesSet, tc.data, tc.code)
		if got := getReplies(t, anna); !reflect.DeepEqual(got, keep) {
			t.Fatalf("%s changed the list to %+v", tc.name, got)
		}
	}

	// Visitors have none and may not save any.
	v, _ := h.Visitor("Vera", "Hello")
	v.Refused(protocol.CmdQuickRepliesGet, nil, protocol.CodeForbidden)
	v.Refused(protocol.CmdQuickRepliesSet, set(keep), protocol.CodeForbidden)
	// Nor may anyone before hello.
	c := relaytest.Dial(t, h.URL(), "")
	c.Refused(protocol.CmdQuickRepliesGet, nil, protocol.CodeHelloFirst)
}
