package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/backend/chat"
)

// BenchmarkApplyEntries measures the relay's hot path: group commits of 256
// messages spread over 64 open chats, each commit durable (WAL,
// synchronous=FULL) before Apply returns.
//
// Measured on the project's 2-core build machine (ext4, go test -bench
// ApplyEntries -benchtime 3s): about NNN entries/s.
func BenchmarkApplyEntries(b *testing.B) {
	const (
		batch    = 256
		sessions = 64
	)
	ctx := context.Background()
	s, _ := openTest(b)
	sids := make([]chat.SessionID, sessions)
	var fx []chat.Effect
	for i := range sids {
		sids[i] = chat.SessionID(fmt.Sprintf("session-%04d-%s", i, "0123456789abcdef"))
		fx = append(fx, chat.SessionChanged{Session: queued(sids[i], base)})
	}
	must(b, s.Apply(ctx, fx))

	seqs := make([]uint64, sessions)
	effects := make([]chat.Effect, batch)
	text := "Hello, I ordered a pair of shoes last week and they have not arrived yet."
	now := base
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range effects {
			k := (i*batch + j) % sessions
			seqs[k]++
			now = now.Add(time.Millisecond)
			kind, author, name := chat.ByVisitor, chat.AgentID(0), "Vera"
			if seqs[k]%2 == 0 {
				kind, author, name = chat.ByAgent, 1, "Anna"
			}
			effects[j] = chat.EntryAdded{Session: sids[k], Channel: "support", Entry: chat.Entry{
				Seq: seqs[k], At: now, Kind: chat.KindMessage, AuthorKind: kind, Author: author, AuthorName: name,
				ClientID: fmt.Sprintf("c-%d", seqs[k]), Text: text,
			}}
		}
		if err := s.Apply(ctx, effects); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
}
