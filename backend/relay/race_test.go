//go:build race

package relay

// raceEnabled: the test binary runs under the race detector, whose own
// bookkeeping allocates (allocation counts mean nothing there).
const raceEnabled = true
