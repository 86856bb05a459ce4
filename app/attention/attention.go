// Package attention asks the desktop to draw the agent's eye to the window
// while a transfer offer waits for an answer: the taskbar's urgency hint on
// Linux (X11 WM_HINTS urgency, which window managers show as
// _NET_WM_STATE_DEMANDS_ATTENTION), a flashing taskbar button on Windows,
// a dock bounce and badge on macOS.
//
// Follower decides when (pure, tested everywhere); Window (per platform,
// built with the desktop tag) does it. The request ends when no offer is
// left, or when the agent focuses the window.
package attention

import "sync"

// Setter raises (on) or lowers the window's attention request.
type Setter func(on bool)

// Follower turns the set of offers waiting for this agent into attention
// requests: raised once for each new offer, lowered when none waits.
type Follower struct {
	set Setter

	mu      sync.Mutex
	waiting map[int64]bool
	on      bool
}

// NewFollower calls set on every change; a nil set makes a Follower that
// does nothing.
func NewFollower(set Setter) *Follower {
	return &Follower{set: set, waiting: map[int64]bool{}}
}

// Follow takes the offers waiting now. A new one raises the request again
// (the agent may have focused the window and cleared it meanwhile); none
// left lowers it.
func (f *Follower) Follow(offers []int64) {
	if f == nil || f.set == nil {
		return
	}
	f.mu.Lock()
	fresh := false
	now := make(map[int64]bool, len(offers))
	for _, id := range offers {
		now[id] = true
		if !f.waiting[id] {
			fresh = true
		}
	}
	f.waiting = now
	var call func()
	switch {
	case fresh:
		f.on = true
		call = func() { f.set(true) }
	case len(now) == 0 && f.on:
		f.on = false
		call = func() { f.set(false) }
	}
	f.mu.Unlock()
	if call != nil {
		call()
	}
}
