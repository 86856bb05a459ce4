package attention

import (
	"slices"
	"testing"
)

func TestFollowerRaisesForEachNewOfferAndLowersWhenNoneWaits(t *testing.T) {
	var calls []bool
	f := NewFollower(func(on bool) { calls = append(calls, on) })
	steps := []struct {
		offers []int64
		want   []bool
	}{
		{nil, nil},                    // nothing waits: no call
		{[]int64{7}, []bool{true}},    // an offer arrives
		{[]int64{7}, nil},             // the same offer again: no repeat
		{[]int64{7, 8}, []bool{true}}, // a second one raises again
		{[]int64{8}, nil},             // one decided, one still waits
		{nil, []bool{false}},          // none left
		{nil, nil},                    // still none: no repeat
		{[]int64{9}, []bool{true}},
	}
	for i, s := range steps {
		calls = nil
		f.Follow(s.offers)
		if !slices.Equal(calls, s.want) {
			t.Fatalf("step %d (%v): calls %v, want %v", i, s.offers, calls, s.want)
		}
	}
}

func TestNilFollowerIsSafe(t *testing.T) {
	var f *Follower
	f.Follow([]int64{1})
	NewFollower(nil).Follow([]int64{1})
}
