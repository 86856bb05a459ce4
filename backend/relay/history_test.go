package relay

import (
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

func TestQueueHistoryKeepsPerMinuteMaximaForAnHour(t *testing.T) {
	t.Parallel()
	var h queueHistory
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	fig := func(w int, lw time.Duration) chat.QueueFigure { return chat.QueueFigure{Waiting: w, LongestWait: lw} }
	h.observe(t0.Add(5*time.Second), map[chat.ChannelID]chat.QueueFigure{"a": fig(2, 30*time.Second), "b": fig(1, 0)})
	h.observe(t0.Add(40*time.Second), map[chat.ChannelID]chat.QueueFigure{"a": fig(1, 65*time.Second), "b": fig(3, 10*time.Second)})
	h.observe(t0.Add(70*time.Second), map[chat.ChannelID]chat.QueueFigure{"a": fig(0, 0), "b": fig(0, 0)})

	db := protocol.Dashboard{Channels: []protocol.ChannelFigures{{Channel: "a"}, {Channel: "b"}}}
	h.attach(&db)
	a := db.Channels[0].History
	if len(a) != 2 || a[0].Waiting != 2 || a[0].LongestWait != 65 || a[1].Waiting != 0 || !a[0].At.Equal(t0) {
		t.Fatalf("channel a: %+v", a)
	}
	if len(db.History) != 2 || db.History[0].Waiting != 5 || db.History[0].LongestWait != 65 {
		t.Fatalf("overall: %+v", db.History)
	}
	// A viewer of one channel sees only its samples in the overall line.
	one := protocol.Dashboard{Channels: []protocol.ChannelFigures{{Channel: "b"}}}
	h.attach(&one)
	if one.History[0].Waiting != 3 || one.History[0].LongestWait != 10 {
		t.Fatalf("b only: %+v", one.History)
	}
	// An hour later the first minutes have dropped out.
	h.observe(t0.Add(60*time.Minute+30*time.Second), map[chat.ChannelID]chat.QueueFigure{"a": fig(4, time.Second)})
	if got := h.minutes["a"]; len(got) != 2 || !got[0].At.Equal(t0.Add(time.Minute)) || got[1].Waiting != 4 {
		t.Fatalf("after an hour: %+v", got)
	}
}
