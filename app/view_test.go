package app

import (
	"encoding/json"
	"testing"

	"switchboard/backend/protocol"
)

func queueFrame(t *testing.T, ev protocol.QueueEvent) protocol.ServerFrame {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.ServerFrame{Ev: protocol.EvQueue, Data: b}
}

// The tray's count of waiting chats follows the queue events, which say
// what joined and what left, from the welcome's list.
func TestViewQueueFollowsChanges(t *testing.T) {
	v := newView()
	v.welcome(protocol.AgentWelcome{Queue: []protocol.QueueItem{
		{Session: "a", Channel: "support", Position: 1}, {Session: "s", Channel: "sales", Position: 1}}})
	steps := []struct {
		ev   protocol.QueueEvent
		want int
	}{
		{protocol.QueueEvent{Channel: "support", Added: []protocol.QueueItem{{Session: "b", Channel: "support", Position: 2}}}, 3},
		{protocol.QueueEvent{Channel: "support", Removed: []string{"a"}}, 2},
		{protocol.QueueEvent{Channel: "sales", Removed: []string{"s"}, Added: []protocol.QueueItem{{Session: "r", Channel: "sales", Position: 1}}}, 2},
		{protocol.QueueEvent{Channel: "support", Added: []protocol.QueueItem{{Session: "b", Channel: "support", Position: 1}}}, 2}, // known: moves, not doubled
	}
	for i, st := range steps {
		if !v.apply(queueFrame(t, st.ev)) {
			t.Fatalf("step %d: not applied", i)
		}
		if got := v.trayState().Waiting; got != st.want {
			t.Fatalf("step %d: %d waiting, want %d", i, got, st.want)
		}
	}
}

// A channels event (an administrator changed my permissions) replaces what
// the welcome said: the dashboard entry and the waiting count follow it.
func TestViewChannelsEventReplacesPermissionsAndQueues(t *testing.T) {
	v := newView()
	v.welcome(protocol.AgentWelcome{
		Channels: []protocol.ChannelInfo{{Key: "support", Perms: []string{"respond"}}},
		Queue:    []protocol.QueueItem{{Session: "a", Channel: "support", Position: 1}},
	})
	if v.canDashboard() {
		t.Fatal("respond alone opens the dashboard")
	}
	b, _ := json.Marshal(protocol.ChannelsEvent{
		Channels: []protocol.ChannelInfo{{Key: "sales", Perms: []string{"respond", "listen"}}},
		Queue:    []protocol.QueueItem{{Session: "x", Channel: "sales", Position: 1}, {Session: "y", Channel: "sales", Position: 2}},
	})
	if !v.apply(protocol.ServerFrame{Ev: protocol.EvChannels, Data: b}) {
		t.Fatal("channels event not applied")
	}
	if st := v.trayState(); !st.CanDashboard || st.Waiting != 2 {
		t.Fatalf("after the channels event: %+v", st)
	}
}
