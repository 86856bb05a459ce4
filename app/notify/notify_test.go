package notify

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard/backend/protocol"
)

func frame(ev string, data any) protocol.ServerFrame {
	b, _ := json.Marshal(data)
	return protocol.ServerFrame{Ev: ev, Data: b}
}

const me = 2

var present = Facts{Me: me, Status: "present", Perms: map[string][]string{"support": {"respond", "notify"}, "sales": {"respond"}}}

func offer(id int64, to int64, state string) protocol.ServerFrame {
	return frame(protocol.EvTransfer, protocol.TransferInfo{ID: id, Session: "s-1", Channel: "support", Kind: "transfer",
		From: protocol.AgentInfo{ID: 1, Name: "Anna"}, To: protocol.AgentInfo{ID: to, Name: "Bertil"},
		Comment: "Knows the courier", State: state, Visitor: "Vera"})
}

// joined is a queue event: these chats joined the channel's queue, at its end.
func joined(channel string, sessions ...string) protocol.ServerFrame {
	q := protocol.QueueEvent{Channel: channel}
	for i, s := range sessions {
		q.Added = append(q.Added, protocol.QueueItem{Session: s, Channel: channel, Visitor: "V-" + s, Question: "Q?", Position: i + 1})
	}
	return frame(protocol.EvQueue, q)
}

// left is a queue event: these chats left the channel's queue.
func left(channel string, sessions ...string) protocol.ServerFrame {
	return frame(protocol.EvQueue, protocol.QueueEvent{Channel: channel, Removed: sessions})
}

func TestTransferAlwaysOnceWithActions(t *testing.T) {
	t.Parallel()
	d := New()
	// Muted and Away: a transfer still needs an answer.
	facts := Facts{Me: me, Status: "away", Muted: true}
	notes := d.Event(offer(7, me, "pending"), facts)
	if len(notes) != 1 {
		t.Fatalf("notes = %+v", notes)
	}
	n := notes[0]
	if n.Kind != KindTransfer || n.Transfer != 7 || n.Session != "s-1" || !n.Urgent ||
		!strings.Contains(n.Title, "Anna") || !strings.Contains(n.Body, "Vera") || !strings.Contains(n.Body, "Knows the courier") {
		t.Fatalf("note = %+v", n)
	}
	if len(n.Actions) != 2 || n.Actions[0] != (Action{"accept", "Accept"}) || n.Actions[1] != (Action{"open", "Open"}) {
		t.Fatalf("actions = %+v", n.Actions)
	}
	// The same offer again (a snapshot resent) is not news.
	if notes := d.Event(offer(7, me, "pending"), facts); len(notes) != 0 {
		t.Fatalf("repeat: %+v", notes)
	}
	// Someone else's transfer, and resolutions, say nothing.
	if notes := d.Event(offer(8, 3, "pending"), facts); len(notes) != 0 {
		t.Fatalf("other receiver: %+v", notes)
	}
	// Its resolution withdraws it; another's resolution says nothing.
	if notes := d.Event(offer(8, 3, "cancelled"), facts); len(notes) != 0 {
		t.Fatalf("other's resolved: %+v", notes)
	}
	if notes := d.Event(offer(7, me, "rejected"), facts); len(notes) != 1 || !notes[0].Withdraw || notes[0].Key != n.Key || n.Key == "" {
		t.Fatalf("resolved: %+v (shown under %q)", notes, n.Key)
	}
	if notes := d.Event(offer(7, me, "rejected"), facts); len(notes) != 0 {
		t.Fatalf("resolved twice: %+v", notes)
	}
}

// A manager's transfer of someone else's chat says who asks, and for whom.
func TestTransferOnBehalfNamesBoth(t *testing.T) {
	t.Parallel()
	d := New()
	b, _ := json.Marshal(protocol.TransferInfo{ID: 11, Session: "s-1", Kind: "transfer", From: protocol.AgentInfo{ID: 1, Name: "Anna"},
		By: protocol.AgentInfo{ID: 4, Name: "Cecilia"}, To: protocol.AgentInfo{ID: me}, Comment: "VIP", State: "pending", Visitor: "Vera"})
	notes := d.Event(protocol.ServerFrame{Ev: protocol.EvTransfer, Data: b}, Facts{Me: me, Lang: "sv"})
	if len(notes) != 1 || notes[0].Title != "Chattöverföring från Cecilia, för Anna" || !strings.Contains(notes[0].Body, "VIP") {
		t.Fatalf("notes = %+v", notes)
	}
}

// A chat that leaves the queue withdraws its new-chat and warning notes.
func TestWaitingNotesWithdrawnWhenTaken(t *testing.T) {
	t.Parallel()
	d := New()
	shown := d.Event(joined("support", "s-1", "s-2"), present)
	if len(shown) != 2 || shown[0].Key == "" || shown[0].Key == shown[1].Key {
		t.Fatalf("shown = %+v", shown)
	}
	w := d.Event(frame(protocol.EvWarning, protocol.WarningEvent{Session: "s-1", Channel: "support", Level: "waiting", Visitor: "V", Waited: 70}), present)
	if len(w) != 1 || w[0].Key == "" || w[0].Key == shown[0].Key {
		t.Fatalf("warning = %+v", w)
	}
	gone := d.Event(left("support", "s-1"), present)
	keys := map[string]bool{}
	for _, n := range gone {
		if !n.Withdraw {
			t.Fatalf("not a withdrawal: %+v", n)
		}
		keys[n.Key] = true
	}
	if len(keys) != 2 || !keys[shown[0].Key] || !keys[w[0].Key] {
		t.Fatalf("withdrawn %v; want %s and %s", keys, shown[0].Key, w[0].Key)
	}
	if again := d.Event(left("support", "s-1"), present); len(again) != 0 {
		t.Fatalf("left twice: %+v", again)
	}
}

// What an Accept on an ended offer is told, per outcome and language.
func TestStaleSaysWhatHappened(t *testing.T) {
	t.Parallel()
	d := New()
	d.Event(offer(7, me, "pending"), present)
	if got := d.Stale(7, "en"); got != "That transfer is no longer waiting for you." {
		t.Fatalf("still pending: %q", got)
	}
	d.Event(offer(7, me, "cancelled"), present)
	for lang, want := range map[string]string{
		"en": "Anna cancelled the transfer of the chat with Vera: there is nothing to accept.",
		"sv": "Anna avbröt överföringen av chatten med Vera: det finns inget att acceptera.",
	} {
		if got := d.Stale(7, lang); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	d.Event(offer(9, me, "expired"), present)
	if got := d.Stale(9, "sv"); !strings.Contains(got, "gick ut") {
		t.Errorf("expired: %q", got)
	}
	// On a manager's behalf, the manager is who cancelled.
	b, _ := json.Marshal(protocol.TransferInfo{ID: 10, Session: "s-1", From: protocol.AgentInfo{ID: 1, Name: "Anna"},
		By: protocol.AgentInfo{ID: 4, Name: "Cecilia"}, To: protocol.AgentInfo{ID: me}, State: "cancelled", Visitor: "Vera"})
	d.Event(protocol.ServerFrame{Ev: protocol.EvTransfer, Data: b}, present)
	if got := d.Stale(10, "en"); !strings.HasPrefix(got, "Cecilia cancelled") {
		t.Errorf("on behalf: %q", got)
	}
	// A voided transfer says why, by its reason code, in the desk's language.
	b, _ = json.Marshal(protocol.TransferInfo{ID: 11, Session: "s-1", From: protocol.AgentInfo{ID: 1, Name: "Anna"},
		By: protocol.AgentInfo{ID: 1, Name: "Anna"}, To: protocol.AgentInfo{ID: me, Name: "Bo"}, State: "voided", Reason: "owner_offline", Visitor: "Vera"})
	d.Event(protocol.ServerFrame{Ev: protocol.EvTransfer, Data: b}, present)
	for lang, want := range map[string]string{
		"en": "The transfer of the chat with Vera no longer stands: Anna went offline.",
		"sv": "Överföringen av chatten med Vera gäller inte längre: Anna gick offline.",
	} {
		if got := d.Stale(11, lang); got != want {
			t.Errorf("voided, %s: %q, want %q", lang, got, want)
		}
	}
}

func TestWelcomeTransfersAreNotNews(t *testing.T) {
	t.Parallel()
	d := New()
	d.Welcome(protocol.AgentWelcome{Transfers: []protocol.TransferInfo{{ID: 7, State: "pending"}}})
	if notes := d.Event(offer(7, me, "pending"), present); len(notes) != 0 {
		t.Fatalf("notes = %+v", notes)
	}
}

func TestQueueGrowth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		facts Facts
		ch    string
		want  int
	}{
		{"present with notify", present, "support", 1},
		{"away", Facts{Me: me, Status: "away", Perms: present.Perms}, "support", 0},
		{"muted", Facts{Me: me, Status: "present", Muted: true, Perms: present.Perms}, "support", 0},
		{"no notify permission", present, "sales", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := New()
			d.Welcome(protocol.AgentWelcome{
				Channels: []protocol.ChannelInfo{{Key: "support", Name: "Support"}},
				Queue:    []protocol.QueueItem{{Session: "s-1", Channel: tc.ch}},
			})
			// s-1 is in the welcome already (the event crossed it): only s-2 is news.
			notes := d.Event(joined(tc.ch, "s-1", "s-2"), tc.facts)
			if len(notes) != tc.want {
				t.Fatalf("notes = %+v", notes)
			}
			if tc.want == 1 && (notes[0].Session != "s-2" || notes[0].Body != "V-s-2: Q?" || notes[0].Title != "New chat waiting in Support") {
				t.Fatalf("note = %+v", notes[0])
			}
			// Shrinking, or a chat known already, is not news (shrinking only
			// withdraws what was shown of the chat that left).
			for _, n := range d.Event(left(tc.ch, "s-1"), tc.facts) {
				if !n.Withdraw || !strings.HasSuffix(n.Key, ":s-1") {
					t.Fatalf("shrink: %+v", n)
				}
			}
			if notes := d.Event(joined(tc.ch, "s-2"), tc.facts); len(notes) != 0 {
				t.Fatalf("known again: %+v", notes)
			}
			// A chat that left and comes back (its agent went offline) is news again.
			if notes := d.Event(joined(tc.ch, "s-1"), tc.facts); len(notes) != tc.want {
				t.Fatalf("back in the queue: %+v", notes)
			}
		})
	}
}

func TestManyNewChatsMakeOneNote(t *testing.T) {
	t.Parallel()
	d := New()
	notes := d.Event(joined("support", "a", "b", "c", "d", "e"), present)
	if len(notes) != 1 || notes[0].Title != "5 new chats waiting" {
		t.Fatalf("notes = %+v", notes)
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	warn := func(level string) protocol.ServerFrame {
		return frame(protocol.EvWarning, protocol.WarningEvent{Session: "s-1", Channel: "support", Level: level, Visitor: "Vera", Waited: 185})
	}
	d := New()
	if n := d.Event(warn("waiting"), present); len(n) != 1 || n[0].Title != "A chat has waited 3 min" || n[0].Session != "s-1" {
		t.Fatalf("waiting: %+v", n)
	}
	if n := d.Event(warn("waiting"), Facts{Me: me, Status: "present", Muted: true, Perms: present.Perms}); len(n) != 0 {
		t.Fatalf("muted: %+v", n)
	}
	// A manager warning needs manage.
	if n := d.Event(warn("manager"), present); len(n) != 0 {
		t.Fatalf("manager without manage: %+v", n)
	}
	boss := Facts{Me: me, Status: "present", Perms: map[string][]string{"support": {"manage"}}, Lang: "sv"}
	if n := d.Event(warn("manager"), boss); len(n) != 1 || n[0].Title != "Ingen har svarat Vera på 3 min" {
		t.Fatalf("manager: %+v", n)
	}
}

func TestIgnoresOtherAndBrokenEvents(t *testing.T) {
	t.Parallel()
	d := New()
	for _, f := range []protocol.ServerFrame{
		{Ev: protocol.EvEntry, Data: []byte(`{}`)},
		{Ev: protocol.EvTransfer, Data: []byte(`nope`)},
		{Ev: protocol.EvQueue, Data: []byte(`[]`)},
		{Ev: protocol.EvWarning},
	} {
		if n := d.Event(f, present); len(n) != 0 {
			t.Errorf("%s: %+v", f.Ev, n)
		}
	}
}
