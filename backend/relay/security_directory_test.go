package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// TestSecurityAdminChurnUnderTraffic: admin changes (channel set, grant,
// grant removal, agent add) every 20-100 ms while six visitors and their
// agent send. Applying them must not disturb the log: no panic, every
// acknowledged message stored exactly once at the seq its ack named, and
// the agent sees every log in order without gap or duplicate.
func TestSecurityAdminChurnUnderTraffic(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.DirectoryPoll = 10 * time.Millisecond
		// As fast as acknowledged, a quiet machine passes the harness's
		// per-connection rate; the limit is not what this test is about.
		c.RatePerSecond, c.RateBurst = 1e6, 1e6
	}})
	anna, _ := h.Agent("anna", nil)
	type chatRun struct {
		sid   string
		vis   *relaytest.Client
		acked map[string]uint64 // client id -> seq
	}
	var chats []*chatRun
	for i := range 6 {
		v, st := h.Visitor(fmt.Sprintf("Visitor%d", i), "Hello?")
		anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
		chats = append(chats, &chatRun{sid: st.Session, vis: v, acked: map[string]uint64{}})
	}

	ctx := context.Background()
	until := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	var amu sync.Mutex // guards acked of chats[0], which anna writes in too
	send := func(c *relaytest.Client, cr *chatRun, prefix string) {
		defer wg.Done()
		for n := 0; time.Now().Before(until); n++ {
			id := fmt.Sprintf("%s-%d", prefix, n)
			r := c.Do(protocol.CmdMessageSend, protocol.MessageSend{Session: cr.sid, ClientID: id, Text: "message " + id})
			if !r.OK {
				t.Errorf("%s refused: %v", id, r.Error)
				return
			}
			var ack protocol.MessageAck
			if err := json.Unmarshal(r.Data, &ack); err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
			amu.Lock()
			cr.acked[id] = ack.Seq
			amu.Unlock()
		}
	}
	for i, cr := range chats {
		wg.Add(1)
		go send(cr.vis, cr, fmt.Sprintf("v%d", i))
	}
	wg.Add(1)
	go send(anna, chats[0], "anna")

	changes := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; time.Now().Before(until); n++ {
			var err error
			switch n % 4 {
			case 0:
				err = h.Store.PutChannel(ctx, store.ChannelRow{Key: "support", Name: fmt.Sprintf("Support %d", n), TimeZone: "UTC",
					OfflineForm: true, WarnAfter: time.Duration(60+n) * time.Second, TransferTimeout: chat.DefaultTransferTimeout})
			case 1:
				err = h.Store.Grant(ctx, "lars", "support", chat.Perm(n%8/4)*chat.PermListen|chat.PermNotify)
			case 2:
				err = h.Store.Grant(ctx, "nils", "support", chat.Perm(n%8/4)*chat.PermRespond)
			case 3:
				_, err = h.Store.CreateAgent(ctx, fmt.Sprintf("churn%d", n), "Churn", []byte("x"))
			}
			if err != nil {
				t.Errorf("admin change %d: %v", n, err)
				return
			}
			changes++
			time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		}
	}()
	wg.Wait()
	t.Logf("%d admin changes", changes)

	total := 0
	for _, cr := range chats {
		entries, err := h.Store.Entries(ctx, chat.SessionID(cr.sid), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]int{}
		for i, e := range entries {
			if e.Seq != uint64(i+1) {
				t.Errorf("%s: entry %d has seq %d", cr.sid, i+1, e.Seq)
			}
			if e.ClientID != "" {
				stored[e.ClientID]++
				if want, ok := cr.acked[e.ClientID]; ok && want != e.Seq {
					t.Errorf("%s: %s acknowledged as %d, stored as %d", cr.sid, e.ClientID, want, e.Seq)
				}
			}
		}
		for id := range cr.acked {
			if stored[id] != 1 {
				t.Errorf("%s: acknowledged %s stored %d times", cr.sid, id, stored[id])
			}
		}
		total += len(cr.acked)
		last := entries[len(entries)-1].Seq
		got := anna.WaitEntries(cr.sid, last)
		for i, e := range got {
			if e.Seq != uint64(i+1) {
				t.Fatalf("%s: the agent's entry %d has seq %d (gap or duplicate)", cr.sid, i+1, e.Seq)
			}
		}
	}
	t.Logf("%d messages acknowledged", total)
	if total == 0 {
		t.Error("nothing was acknowledged")
	}
}

// TestGrantChangeTellsTheAgentTheirChannels: an agent given respond while
// connected gets the channel (with its perms) and its waiting chats at
// once, as a welcome would say them, and may take one; losing the grant
// empties both. Without it, their app would show the old channels and
// queue until it reconnected.
func TestGrantChangeTellsTheAgentTheirChannels(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.DirectoryPoll = 10 * time.Millisecond }})
	nils, w := h.Agent("nils", nil)
	if len(w.Channels) != 0 || len(w.Queue) != 0 {
		t.Fatalf("nils starts with %d channels, %d waiting", len(w.Channels), len(w.Queue))
	}
	h.Agent("anna", nil) // Present, so the channel is open for visitors
	_, st := h.Visitor("Vera", "Hello?")

	channelsEvent := func(from int) (protocol.ChannelsEvent, int) {
		f, i := nils.Event(protocol.EvChannels, from, nil)
		var ev protocol.ChannelsEvent
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			t.Fatal(err)
		}
		return ev, i
	}
	if err := h.Store.Grant(context.Background(), "nils", "support", chat.PermRespond); err != nil {
		t.Fatal(err)
	}
	ev, i := channelsEvent(0)
	if len(ev.Channels) != 1 || ev.Channels[0].Key != "support" || len(ev.Channels[0].Perms) != 1 || ev.Channels[0].Perms[0] != "respond" {
		t.Fatalf("channels after the grant: %+v", ev.Channels)
	}
	if len(ev.Queue) != 1 || ev.Queue[0].Session != st.Session {
		t.Fatalf("queue after the grant: %+v", ev.Queue)
	}
	nils.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)

	_, st2 := h.Visitor("Vic", "Me too")
	if err := h.Store.Grant(context.Background(), "nils", "support", 0); err != nil {
		t.Fatal(err)
	}
	ev, _ = channelsEvent(i + 1)
	if ev.Channels == nil || len(ev.Channels) != 0 || ev.Queue == nil || len(ev.Queue) != 0 {
		t.Fatalf("after the grant was removed: %+v (lists must be empty, not null)", ev)
	}
	nils.Refused(protocol.CmdSessionPick, protocol.SessionRef{Session: st2.Session}, protocol.CodeForbidden)
}

// TestGrantRemovedWhileStoppedTakesEffectAtStart: an admin change committed
// while the relay was down (or before it could apply it) is held to when
// the desk loads: the chat of an agent who may no longer answer goes back
// to the queue, and no removed listener stays on it.
func TestGrantRemovedWhileStoppedTakesEffectAtStart(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.DirectoryPoll = time.Hour }})
	anna, _ := h.Agent("anna", nil)
	lars, _ := h.Agent("lars", nil)
	_, st := h.Visitor("Vera", "Hello?")
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	lars.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: st.Session}, nil)
	h.Stop()
	db := h.OpenStore()
	ctx := context.Background()
	for _, login := range []string{"anna", "lars"} {
		if err := db.Grant(ctx, login, "support", 0); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	h.Restart()
	cecilia, w := h.Agent("cecilia", nil)
	if len(w.Queue) != 1 || w.Queue[0].Session != st.Session {
		t.Fatalf("after the restart the queue holds %+v; want Vera's chat back", w.Queue)
	}
	var si protocol.SessionInfo
	cecilia.OK(protocol.CmdSessionListen, protocol.SessionRef{Session: st.Session}, &si)
	if si.Owner != nil {
		t.Errorf("the chat still has owner %+v", si.Owner)
	}
	row, err := h.Store.SessionRow(ctx, chat.SessionID(st.Session))
	if err != nil {
		t.Fatal(err)
	}
	if row.State != chat.Queued || slices.Contains(row.Listeners, chat.AgentID(h.ID("lars"))) {
		t.Errorf("stored: state %v, listeners %v; want queued, without Lars", row.State, row.Listeners)
	}
}
