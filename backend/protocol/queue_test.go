package protocol

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func items(ids ...string) []QueueItem {
	out := make([]QueueItem, len(ids))
	for i, id := range ids {
		out[i] = QueueItem{Session: id, Channel: "support", Position: i + 1}
	}
	return out
}

func at(id string, pos int) QueueItem {
	return QueueItem{Session: id, Channel: "support", Position: pos}
}

func TestApplyQueue(t *testing.T) {
	for _, tc := range []struct {
		name string
		list []QueueItem
		ev   QueueEvent
		want []string
	}{
		{"an arrival goes to the end", items("a", "b"), QueueEvent{Added: []QueueItem{at("c", 3)}}, []string{"a", "b", "c"}},
		{"a chat back from an agent goes to the head", items("a", "b"), QueueEvent{Added: []QueueItem{at("r", 1)}}, []string{"r", "a", "b"}},
		{"removals come first", items("a", "b", "c"), QueueEvent{Removed: []string{"a", "c"}, Added: []QueueItem{at("d", 2)}}, []string{"b", "d"}},
		{"added items in any order land at their places", items("a"), QueueEvent{Added: []QueueItem{at("z", 3), at("y", 1)}}, []string{"y", "a", "z"}},
		{"removing an unknown chat changes nothing", items("a"), QueueEvent{Removed: []string{"x"}}, []string{"a"}},
		{"a chat already held moves instead of doubling", items("a", "b", "c"), QueueEvent{Added: []QueueItem{at("c", 1)}}, []string{"c", "a", "b"}},
		{"a position past the end appends", items("a"), QueueEvent{Added: []QueueItem{at("b", 9)}}, []string{"a", "b"}},
		{"from nothing", nil, QueueEvent{Added: []QueueItem{at("a", 1), at("b", 2)}}, []string{"a", "b"}},
		{"to nothing", items("a"), QueueEvent{Removed: []string{"a"}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ApplyQueue(tc.list, tc.ev)
			ids := []string{}
			for _, it := range got {
				ids = append(ids, it.Session)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
}

// The example in docs/protocol.md decodes and applies as the text says.
func TestQueueEventExampleInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, `{"ev": "queue"`) {
			line = l
		}
	}
	var f struct {
		Ev   string     `json:"ev"`
		Data QueueEvent `json:"data"`
	}
	if err := json.Unmarshal([]byte(line), &f); err != nil || f.Ev != EvQueue {
		t.Fatalf("example %q: %v", line, err)
	}
	got := ApplyQueue(items("s-4tR…", "w"), f.Data)
	if len(got) != 2 || got[0].Session != "s-9fQ…" || got[0].Visitor != "Vera" || got[1].Session != "w" {
		t.Fatalf("applied: %+v", got)
	}
}
