package relaytest

import (
	"encoding/json"
	"slices"

	"switchboard/backend/protocol"
)

// Queue is a channel's waiting list as this client knows it: from the
// welcome's items, with every queue event received so far applied in order.
func (c *Client) Queue(welcome []protocol.QueueItem, channel string) []protocol.QueueItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queueLocked(welcome, channel)
}

func (c *Client) queueLocked(welcome []protocol.QueueItem, channel string) []protocol.QueueItem {
	var list []protocol.QueueItem
	for _, it := range welcome {
		if it.Channel == channel {
			list = append(list, it)
		}
	}
	for _, f := range c.frames {
		var ev protocol.QueueEvent
		if f.Ev != protocol.EvQueue || json.Unmarshal(f.Data, &ev) != nil || ev.Channel != channel {
			continue
		}
		list = protocol.ApplyQueue(list, ev)
	}
	return list
}

// WaitQueue waits until the client's list of a channel's waiting chats (see
// Queue) holds exactly the sessions given, in that order, and returns it.
func (c *Client) WaitQueue(welcome []protocol.QueueItem, channel string, sessions ...string) []protocol.QueueItem {
	c.T.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var list []protocol.QueueItem
	ok := c.waitFor("queue", func() bool {
		list = c.queueLocked(welcome, channel)
		return slices.Equal(QueueSessions(list), sessions)
	})
	if !ok {
		c.T.Fatalf("queue of %s: have %v, want %v", channel, QueueSessions(list), sessions)
	}
	return list
}

// QueueSessions lists the session ids of a waiting list, in order.
func QueueSessions(list []protocol.QueueItem) []string {
	out := make([]string, 0, len(list))
	for _, it := range list {
		out = append(out, it.Session)
	}
	return out
}
