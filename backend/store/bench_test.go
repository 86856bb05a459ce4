package store

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"

	"switchboard/backend/chat"
)

// BenchmarkApplyEntries measures the relay's hot path: group commits of 256
// messages (EntryAdded) spread round-robin over N open chats, each commit
// durable (WAL, synchronous=FULL, fdatasync) before Apply returns. Besides
// entries/s it reports two figures that depend less on what else the
// machine runs: process CPU per entry and pages written per commit.
//
// Measured on the project's 2-core machine (ext4 on a virtual disk, about
// 1 ms per fdatasync) while other load tests and builds kept its load
// average at 10 to 13, go test -bench ApplyEntries -benchtime 3s:
//
//	chats=1     51,000-73,000 entries/s    9-10 CPU µs/entry   17 pages/commit
//	chats=64    53,000-56,000 entries/s   10-11 CPU µs/entry   21 pages/commit
//	chats=500   34,000-39,000 entries/s   15-17 CPU µs/entry   31 pages/commit
//
// With one table keyed by (session, seq) instead (see log.go), the same runs
// gave 45,000-47,000, 20,000-25,000 and 14,000-16,000 entries/s, writing 21,
// 126 and 155-213 pages per commit.
func BenchmarkApplyEntries(b *testing.B) {
	for _, chats := range []int{1, 64, 500} {
		b.Run("chats="+strconv.Itoa(chats), func(b *testing.B) { benchApplyEntries(b, chats, 256) })
	}
	// The relay's own batches at 12,500 deliveries/s: about five messages a
	// commit. Here what a batch costs besides its rows counts.
	b.Run("chats=500/batch=5", func(b *testing.B) { benchApplyEntries(b, 500, 5) })
}

func benchApplyEntries(b *testing.B, chats, batch int) {
	ctx := context.Background()
	s, _ := openTest(b)
	sids := make([]chat.SessionID, chats)
	var fx []chat.Effect
	for i := range sids {
		sids[i] = chat.SessionID(fmt.Sprintf("s-%016x%04d", i*7919, i)) // relay ids are 18 characters
		fx = append(fx, chat.SessionChanged{Session: queued(sids[i], base)})
	}
	must(b, s.Apply(ctx, fx))

	seqs := make([]uint64, chats)
	effects := make([]chat.Effect, batch)
	text := "Hello, I ordered a pair of shoes last week and they have not arrived yet."
	clientIDs := make([]string, 4096)
	for i := range clientIDs {
		clientIDs[i] = fmt.Sprintf("c-%08x", i)
	}
	now := base
	next := 0
	pages0 := pagesWritten(b, s)
	cpu0 := cpuTime()
	var mem0 runtime.MemStats
	runtime.ReadMemStats(&mem0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for j := range effects {
			k := next % chats
			next++
			seqs[k]++
			now = now.Add(time.Millisecond)
			kind, author, name := chat.ByVisitor, chat.AgentID(0), "Vera"
			if seqs[k]%2 == 0 {
				kind, author, name = chat.ByAgent, 1, "Anna"
			}
			effects[j] = chat.EntryAdded{Session: sids[k], Channel: "support", Entry: chat.Entry{
				Seq: seqs[k], At: now, Kind: chat.KindMessage, AuthorKind: kind, Author: author, AuthorName: name,
				ClientID: clientIDs[seqs[k]%4096], Text: text,
			}}
		}
		if err := s.Apply(ctx, effects); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(b.N * batch)
	b.ReportMetric(n/b.Elapsed().Seconds(), "entries/s")
	// Two figures that do not depend on what else the machine runs.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/n, "cpu-µs/entry")
	b.ReportMetric(float64(pagesWritten(b, s)-pages0)/float64(b.N), "pages/commit")
	var mem1 runtime.MemStats
	runtime.ReadMemStats(&mem1)
	b.ReportMetric(float64(mem1.TotalAlloc-mem0.TotalAlloc)/n, "B/entry")
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pagesWritten is the number of pages the writer connection has written.
func pagesWritten(b *testing.B, s *SQLite) int {
	var n int
	must(b, onConn(context.Background(), s.w, func(dc any) error {
		st, ok := dc.(sqlite.DBStatus)
		if !ok {
			return fmt.Errorf("%T has no DBStatus", dc)
		}
		var err error
		n, _, err = st.Status(sqlite.DBStatusCacheWrite, false)
		return err
	}))
	return n
}
