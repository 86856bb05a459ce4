//go:build race

package main

// raceEnabled: the race detector slows the test's own clients five to ten
// times; the fault tests then use fewer clients and looser time budgets
// (they still check every message).
const raceEnabled = true
