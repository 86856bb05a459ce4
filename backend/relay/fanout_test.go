package relay

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// However one decision's queue changes are gathered into events, a client
// applying those events in order ends with the list the changes made.
func TestQueueNewsComposeToTheSameList(t *testing.T) {
	for seed := int64(1); seed <= 500; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		var start, list []string
		for i := range rnd.Intn(6) {
			start = append(start, fmt.Sprintf("b%d", i))
		}
		list = slices.Clone(start)
		var news queueNews
		for step := range 1 + rnd.Intn(8) {
			if len(list) > 0 && rnd.Intn(2) == 0 {
				i := rnd.Intn(len(list))
				news.add(chat.QueueChanged{Channel: "support", Removed: []chat.SessionID{chat.SessionID(list[i])}})
				list = slices.Delete(list, i, i+1)
				continue
			}
			id := fmt.Sprintf("n%d", step)
			pos := 1 + rnd.Intn(len(list)+1)
			list = slices.Insert(list, pos-1, id)
			news.add(chat.QueueChanged{Channel: "support", Added: []chat.Waiting{{Session: chat.SessionID(id), Position: pos}}})
		}
		var held []protocol.QueueItem
		for _, id := range start {
			held = append(held, protocol.QueueItem{Session: id})
		}
		for _, ev := range news.events["support"] {
			held = protocol.ApplyQueue(held, *ev)
		}
		var got []string
		for _, it := range held {
			got = append(got, it.Session)
		}
		if !slices.Equal(got, list) {
			t.Fatalf("seed %d: from %v the events make %v, want %v", seed, start, got, list)
		}
	}
}

// Arrivals and departures gathered from one decision make one event.
func TestQueueNewsOfATimerMakeOneEvent(t *testing.T) {
	var news queueNews
	for _, id := range []chat.SessionID{"a", "b", "c"} {
		news.add(chat.QueueChanged{Channel: "support", Removed: []chat.SessionID{id}})
	}
	news.add(chat.QueueChanged{Channel: "support", Added: []chat.Waiting{{Session: "r", Position: 1}}})
	if evs := news.events["support"]; len(evs) != 1 || len(evs[0].Removed) != 3 || len(evs[0].Added) != 1 {
		t.Fatalf("events: %+v", evs)
	}
}

// A presence frame joined from pieces is what encodeEvent writes for the
// same list, whatever the names hold.
func TestPresenceFrameMatchesEncodeEvent(t *testing.T) {
	infos := []protocol.AgentInfo{{ID: 1, Login: "anna", Name: "Anna", Status: "present", Load: 2},
		{ID: 22, Name: `Bo "<&>" \ åäö`, Status: "away"}, {ID: 333, Login: "c", Name: "\u2028\xff", Status: "offline", Load: 17}}
	pieces := make([][]byte, len(infos))
	for i, in := range infos {
		pieces[i], _ = json.Marshal(in)
	}
	for _, idx := range [][]int{{0}, {1}, {0, 2}, {0, 1, 2}, {2, 1}} {
		var list []protocol.AgentInfo
		for _, i := range idx {
			list = append(list, infos[i])
		}
		want := encodeEvent(protocol.EvPresence, "", 0, protocol.PresenceEvent{Agents: list})
		if got := presenceFrame(pieces, idx); string(got) != string(want) {
			t.Errorf("%v:\n got %s\nwant %s", idx, got, want)
		}
	}
}
