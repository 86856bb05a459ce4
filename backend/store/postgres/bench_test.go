package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/backend/chat"
)

// BenchmarkApplyEntries is the SQLite store's benchmark of the same name on
// PostgreSQL: group commits of 256 messages spread round-robin over N open
// chats, each commit durable (fsync on, synchronous_commit on) before Apply
// returns, the server on the same machine over TCP on 127.0.0.1. Besides
// entries/s it reports the relay process's CPU per entry (the server's own
// CPU is not in it) and the WAL the server wrote per commit.
//
// Measured on the project's 2-core machine, go test -p 1 -bench
// ApplyEntries -benchtime 2s ./backend/store/ ./backend/store/postgres/,
// both stores in the same run: see docs/cluster.md.
func BenchmarkApplyEntries(b *testing.B) {
	for _, chats := range []int{1, 64, 500} {
		b.Run("chats="+strconv.Itoa(chats), func(b *testing.B) { benchApplyEntries(b, chats, 256) })
	}
}

func benchApplyEntries(b *testing.B, chats, batch int) {
	ctx := context.Background()
	dsn := startDB(b)
	s := open(b, dsn)
	sids := make([]chat.SessionID, chats)
	var fx []chat.Effect
	for i := range sids {
		sids[i] = chat.SessionID(fmt.Sprintf("s-%016x%04d", i*7919, i)) // relay ids are 18 characters
		fx = append(fx, chat.SessionChanged{Session: chat.Session{ID: sids[i], Channel: "support", State: chat.Queued,
			Visitor: chat.Visitor{Name: "Vera"}, CreatedAt: t0, QueuedAt: t0}})
	}
	must(b, s.Apply(ctx, fx))

	seqs := make([]uint64, chats)
	effects := make([]chat.Effect, batch)
	text := "Hello, I ordered a pair of shoes last week and they have not arrived yet."
	clientIDs := make([]string, 4096)
	for i := range clientIDs {
		clientIDs[i] = fmt.Sprintf("c-%08x", i)
	}
	now := t0
	next := 0
	wal0 := walBytes(b, dsn)
	cpu0 := cpuTime()
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
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/n, "cpu-µs/entry")
	b.ReportMetric(float64(walBytes(b, dsn)-wal0)/1024/float64(b.N), "wal-KiB/commit")
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// walBytes is the server's WAL position, in bytes.
func walBytes(b *testing.B, dsn string) int64 {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	must(b, err)
	defer c.Close(ctx)
	var n int64
	must(b, c.QueryRow(ctx, `SELECT pg_current_wal_lsn() - '0/0'`).Scan(&n))
	return n
}
