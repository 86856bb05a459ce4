package relay

import (
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// historyMinutes is how far back the dashboard's queue chart reaches.
const historyMinutes = 60

// queueHistory keeps, per channel, one sample per minute of the queue: the
// most visitors waiting at once and the longest wait seen in that minute.
// It lives in memory: after a restart the chart starts again.
type queueHistory struct {
	minutes map[chat.ChannelID][]protocol.Sample
}

// observe folds the queues seen at now into the current minute's samples.
func (h *queueHistory) observe(now time.Time, figs map[chat.ChannelID]chat.QueueFigure) {
	if h.minutes == nil {
		h.minutes = make(map[chat.ChannelID][]protocol.Sample)
	}
	minute := now.Truncate(time.Minute)
	for cid, f := range figs {
		list := h.minutes[cid]
		if n := len(list); n == 0 || !list[n-1].At.Equal(minute) {
			list = append(list, protocol.Sample{At: minute})
		}
		last := &list[len(list)-1]
		last.Waiting = max(last.Waiting, f.Waiting)
		last.LongestWait = max(last.LongestWait, int(f.LongestWait/time.Second))
		// Drop what is older than the window.
		cut := 0
		for cut < len(list) && now.Sub(list[cut].At) >= historyMinutes*time.Minute {
			cut++
		}
		h.minutes[cid] = list[cut:]
	}
}

// attach adds the samples of the channels a dashboard shows, and their sum
// (waiting) and maximum (longest wait) per minute as the overall history.
func (h *queueHistory) attach(db *protocol.Dashboard) {
	byMinute := map[time.Time]*protocol.Sample{}
	var order []time.Time
	for i := range db.Channels {
		list := h.minutes[chat.ChannelID(db.Channels[i].Channel)]
		db.Channels[i].History = append([]protocol.Sample(nil), list...)
		for _, s := range list {
			o := byMinute[s.At]
			if o == nil {
				o = &protocol.Sample{At: s.At}
				byMinute[s.At] = o
				order = append(order, s.At)
			}
			o.Waiting += s.Waiting
			o.LongestWait = max(o.LongestWait, s.LongestWait)
		}
	}
	sortTimes(order)
	db.History = make([]protocol.Sample, 0, len(order))
	for _, t := range order {
		db.History = append(db.History, *byMinute[t])
	}
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
