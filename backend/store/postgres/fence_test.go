package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/store"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func session(id chat.SessionID) chat.Effect {
	return chat.SessionChanged{Session: chat.Session{ID: id, Channel: "support", State: chat.Queued, CreatedAt: t0, QueuedAt: t0}}
}

func line(sid chat.SessionID, seq uint64) chat.Effect {
	return chat.EntryAdded{Session: sid, Channel: "support", Entry: chat.Entry{Seq: seq, At: t0.Add(time.Duration(seq)),
		Kind: chat.KindMessage, AuthorKind: chat.ByVisitor, AuthorName: "Vera", ClientID: fmt.Sprint("c", seq), Text: "hi"}}
}

// TestFenceRefusesAStaleLeader: once another node took a newer term, every
// write of the store fenced with the old one fails with ErrFenced and
// leaves nothing in the database; the new leader's writes go through.
func TestFenceRefusesAStaleLeader(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	old, leader := open(t, dsn), open(t, dsn)

	t1, err := old.TakeTerm(ctx, "node-a")
	must(t, err)
	old.Fence(t1)
	must(t, old.Apply(ctx, []chat.Effect{session("s"), line("s", 1)}))
	agent, err := old.CreateAgent(ctx, "anna", "Anna", nil)
	must(t, err)
	must(t, old.PutChannel(ctx, store.ChannelRow{Key: "support", Name: "Support"}))

	t2, err := leader.TakeTerm(ctx, "node-b")
	must(t, err)
	if t2 != t1+1 {
		t.Fatalf("terms %d then %d", t1, t2)
	}
	if term, holder, err := leader.Term(ctx); err != nil || term != t2 || holder != "node-b" {
		t.Fatalf("stored term %d %q %v", term, holder, err)
	}

	for name, write := range map[string]func() error{
		"apply":          func() error { return old.Apply(ctx, []chat.Effect{line("s", 2), session("other")}) },
		"write probe":    func() error { return old.WriteProbe(ctx) },
		"quick replies":  func() error { return old.SetQuickReplies(ctx, agent, []protocol.QuickReply{{Text: "stale"}}) },
		"token":          func() error { return old.CreateToken(ctx, agent, "stale-token", time.Time{}) },
		"retry outbox":   func() error { return old.RetryOutbox(ctx, 1, t0, "x") },
		"finish outbox":  func() error { return old.FinishOutbox(ctx, 1, t0, "", nil) },
		"directory edit": func() error { return old.Grant(ctx, "anna", "support", chat.PermRespond) },
	} {
		err := write()
		if !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s by the stale leader: %v, want ErrFenced", name, err)
		}
		if why := store.WriteFailure(err); why != "another node took over the desk" {
			t.Errorf("%s: failure named %q", name, why)
		}
	}
	es, err := leader.Entries(ctx, "s", 0, 0)
	must(t, err)
	if len(es) != 1 {
		t.Errorf("entries after the stale apply: %+v", es)
	}
	if _, err := leader.SessionRow(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of the stale apply: %v", err)
	}
	if qr, _ := leader.QuickReplies(ctx, agent); len(qr) != 0 {
		t.Errorf("quick replies of the stale leader: %+v", qr)
	}
	if _, err := leader.TokenAgent(ctx, "stale-token", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of the stale leader: %v", err)
	}

	leader.Fence(t2)
	must(t, leader.Apply(ctx, []chat.Effect{line("s", 2)}))
	must(t, leader.WriteProbe(ctx))
	// An unfenced store (an admin command) writes whatever the term.
	old.Fence(0)
	must(t, old.Grant(ctx, "anna", "support", 0))
}

// TestFenceHoldsAgainstAConcurrentTakeover: leaders commit as fast as they
// can from several goroutines while another node takes the term. What the
// database holds of the old leader when TakeTerm returns is all it ever
// holds: no commit of the old term lands after the bump, every Apply that
// returned nil is there, and every one after the first refusal is refused.
func TestFenceHoldsAgainstAConcurrentTakeover(t *testing.T) {
	ctx := context.Background()
	dsn := startDB(t)
	old, next := open(t, dsn), open(t, dsn)
	for round := range 3 {
		term, err := old.TakeTerm(ctx, "old")
		must(t, err)
		old.Fence(term)
		const writers = 4
		var (
			wg       sync.WaitGroup
			stop     atomic.Bool
			acked    atomic.Int64
			refusals atomic.Int64
			bad      = make(chan error, writers)
		)
		for w := range writers {
			sid := chat.SessionID(fmt.Sprintf("r%d-w%d", round, w))
			must(t, old.Apply(ctx, []chat.Effect{session(sid)}))
			wg.Add(1)
			go func() {
				defer wg.Done()
				fencedOnce := false
				for seq := uint64(1); !stop.Load(); seq++ {
					err := old.Apply(ctx, []chat.Effect{line(sid, seq)})
					switch {
					case err == nil && fencedOnce:
						bad <- fmt.Errorf("%s: an apply went through after a refusal", sid)
						return
					case err == nil:
						acked.Add(1)
					case errors.Is(err, store.ErrFenced):
						fencedOnce = true
						refusals.Add(1)
					default:
						bad <- err
						return
					}
				}
			}()
		}
		time.Sleep(150 * time.Millisecond)
		_, err = next.TakeTerm(ctx, "next")
		must(t, err)
		atBump := countEntries(t, next, round)
		time.Sleep(100 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		close(bad)
		for err := range bad {
			t.Fatal(err)
		}
		after := countEntries(t, next, round)
		if after != atBump || int64(after) != acked.Load() || refusals.Load() == 0 || atBump == 0 {
			t.Fatalf("round %d: %d entries at the bump, %d after, %d acknowledged, %d refused",
				round, atBump, after, acked.Load(), refusals.Load())
		}
		t.Logf("round %d: %d commits before the bump, %d refused after", round, atBump, refusals.Load())
	}
}

func countEntries(t *testing.T, s store.Store, round int) int {
	t.Helper()
	n := 0
	for w := range 4 {
		es, err := s.Entries(context.Background(), chat.SessionID(fmt.Sprintf("r%d-w%d", round, w)), 0, 0)
		must(t, err)
		n += len(es)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
