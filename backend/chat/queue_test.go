package chat

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/backend/protocol"
)

// queueNews renders the queue effects compactly: "support +s2@2" (joined at
// place 2), "support -s1" (left), "support ~" (only the estimates moved).
func queueNews(fx []Effect) []string {
	var out []string
	for _, q := range all[QueueChanged](fx) {
		var parts []string
		for _, id := range q.Removed {
			parts = append(parts, "-"+string(id))
		}
		for _, w := range q.Added {
			parts = append(parts, fmt.Sprintf("+%s@%d", w.Session, w.Position))
		}
		if len(parts) == 0 {
			parts = []string{"~"}
		}
		out = append(out, string(q.Channel)+" "+strings.Join(parts, " "))
	}
	return out
}

func TestQueueChangedSaysWhoJoinedOrLeftAndWhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(f *fixture) []Effect
		want []string
	}{
		{"a first chat joins at the head", func(f *fixture) []Effect {
			return f.ok(f.d.StartChat(f.now, "s1", support, "Vera", "vera@example.com", "hi", "h"))
		}, []string{"support +s1@1"}},
		{"a later chat joins at the end", func(f *fixture) []Effect {
			f.chat("s1")
			f.chat("s2")
			return f.ok(f.d.StartChat(f.now, "s3", support, "Walt", "walt@example.com", "", "h"))
		}, []string{"support +s3@3"}},
		{"another channel's queue counts apart", func(f *fixture) []Effect {
			f.chat("s1")
			return f.ok(f.d.StartChat(f.now, "x1", sales, "Walt", "walt@example.com", "", "h"))
		}, []string{"sales +x1@1"}},
		{"a pick takes the chat out", func(f *fixture) []Effect {
			f.chat("s1")
			f.chat("s2")
			return f.ok(f.d.Pick(f.now, A, "s2"))
		}, []string{"support -s2"}},
		{"get next takes the oldest out", func(f *fixture) []Effect {
			f.chat("s1")
			f.chat("s2")
			fx, _, err := f.d.Next(f.now, A)
			return f.ok(fx, err)
		}, []string{"support -s1"}},
		{"a visitor who ends while waiting leaves the queue", func(f *fixture) []Effect {
			f.chat("s1")
			return f.ok(f.d.VisitorEnd(f.now, "s1"))
		}, []string{"support -s1"}},
		{"a visitor gone past the leave delay leaves the queue", func(f *fixture) []Effect {
			f.chat("s1")
			f.chat("s2")
			f.d.VisitorDetach(f.now, "s1")
			return f.d.Tick(f.at(testConfig().QueueLeave))
		}, []string{"support -s1"}},
		{"a chat back from an owner gone offline joins at the head", func(f *fixture) []Effect {
			f.active("s1", A)
			f.chat("s2")
			f.chat("s3")
			f.d.Disconnect(f.now, A)
			return f.d.Tick(f.at(testConfig().Grace))
		}, []string{"support +s1@1"}},
		{"a status change moves only the estimates", func(f *fixture) []Effect {
			f.chat("s1")
			return f.ok(f.d.SetStatus(f.now, A, Away))
		}, []string{"support ~"}},
		{"a message moves nothing", func(f *fixture) []Effect {
			f.chat("s1")
			fx, _, _, err := f.d.VisitorSend(f.now, "s1", "c1", "hello?")
			return f.ok(fx, err)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if got := queueNews(tc.do(f)); !slices.Equal(got, tc.want) {
				t.Errorf("queue news = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQueueChangedCarriesTheWaitingChat(t *testing.T) {
	f := newFixture(t)
	f.chat("s1")
	fx := f.ok(f.d.StartChat(f.at(time.Second), "s2", support, "Walt", "walt@example.com", "Is it in stock?", "h"))
	q := one[QueueChanged](t, fx)
	w := Waiting{Session: "s2", Visitor: "Walt", Question: "Is it in stock?", Since: f.now, Rank: f.session("s2").Rank, Position: 2}
	if q.Channel != support || len(q.Removed) != 0 || len(q.Added) != 1 || q.Added[0] != w {
		t.Errorf("QueueChanged = %+v, want one added %+v", q, w)
	}
	if it := WaitingItem(support, w); it != f.d.QueueItems(support)[1] {
		t.Errorf("wire item %+v, queue says %+v", it, f.d.QueueItems(support)[1])
	}
}

// A client that starts from the queue at some moment and applies every
// queue effect after it holds exactly the desk's queue, whatever happens.
func TestQueueNewsRebuildTheQueue(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		f := newFixture(t)
		rnd := rand.New(rand.NewSource(seed))
		held := map[ChannelID][]protocol.QueueItem{}
		next := 0
		for step := 0; step < 300; step++ {
			var fx []Effect
			f.at(time.Duration(rnd.Intn(5000)) * time.Millisecond)
			waiting := append(f.d.Waiting(support), f.d.Waiting(sales)...)
			switch op := rnd.Intn(10); {
			case op < 4:
				next++
				c := []ChannelID{support, sales}[rnd.Intn(2)]
				fx, _ = f.d.StartChat(f.now, SessionID(fmt.Sprintf("s%d", next)), c, "Vera", "vera@example.com", "", "h")
			case op < 6 && len(waiting) > 0:
				fx, _ = f.d.Pick(f.now, C, waiting[rnd.Intn(len(waiting))])
			case op < 7 && len(waiting) > 0:
				fx, _ = f.d.VisitorEnd(f.now, waiting[rnd.Intn(len(waiting))])
			case op < 8:
				// Cleo goes away and comes back: her chats return to the head.
				fx = f.d.Disconnect(f.now, C)
				fx = append(fx, f.d.Tick(f.at(testConfig().Grace))...)
				more, _ := f.d.Connect(f.now, C)
				fx = append(fx, more...)
			default:
				fx = f.d.Tick(f.now)
			}
			for _, q := range all[QueueChanged](fx) {
				ev := protocol.QueueEvent{Channel: string(q.Channel)}
				for _, id := range q.Removed {
					ev.Removed = append(ev.Removed, string(id))
				}
				for _, w := range q.Added {
					ev.Added = append(ev.Added, WaitingItem(q.Channel, w))
				}
				held[q.Channel] = protocol.ApplyQueue(held[q.Channel], ev)
			}
			for _, c := range []ChannelID{support, sales} {
				want := f.d.QueueItems(c)
				if got := held[c]; !sameSessions(got, want) {
					t.Fatalf("seed %d step %d: %s held %v, desk has %v", seed, step, c, ids(got), ids(want))
				}
			}
		}
	}
}

func ids(list []protocol.QueueItem) []string {
	out := []string{}
	for _, it := range list {
		out = append(out, it.Session)
	}
	return out
}

func sameSessions(a, b []protocol.QueueItem) bool { return slices.Equal(ids(a), ids(b)) }

func TestShareChannel(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		a, b AgentID
		want bool
	}{{A, B, true}, {A, L, true}, {C, N, true}, {A, N, false}, {N, M, false}, {A, 99, false}} {
		if got := f.d.ShareChannel(tc.a, tc.b); got != tc.want {
			t.Errorf("ShareChannel(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
