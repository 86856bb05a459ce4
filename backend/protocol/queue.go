package protocol

import "slices"

// ApplyQueue applies a queue event to one channel's waiting list, in order,
// and returns the new list. Every client of the queue event applies it this
// way. Positions count the list after the event, so inserting the added
// items lowest position first puts each where it belongs; an item the list
// already holds (a welcome that crossed the event) moves to its position
// instead of appearing twice. list may be modified.
func ApplyQueue(list []QueueItem, ev QueueEvent) []QueueItem {
	gone := make(map[string]bool, len(ev.Removed)+len(ev.Added))
	for _, id := range ev.Removed {
		gone[id] = true
	}
	for _, it := range ev.Added {
		gone[it.Session] = true
	}
	if len(gone) > 0 {
		list = slices.DeleteFunc(list, func(it QueueItem) bool { return gone[it.Session] })
	}
	added := slices.Clone(ev.Added)
	slices.SortStableFunc(added, func(a, b QueueItem) int { return a.Position - b.Position })
	for _, it := range added {
		i := min(max(it.Position-1, 0), len(list))
		list = slices.Insert(list, i, it)
	}
	return list
}
