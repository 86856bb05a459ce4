package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
	"switchboard/backend/relay"
	"switchboard/backend/relay/relaytest"
	"switchboard/backend/store"
)

// Fan-out cost: a visitor's arrival or an agent's presence change must cost
// each agent O(1) frames and bytes, never the whole queue or desk again.

// tally is an agent connection that only counts what it is sent, by event,
// and keeps the frames of one kind for a look afterwards.
type tally struct {
	mu     sync.Mutex
	frames map[string]int
	bytes  map[string]int
	last   map[string][]byte // the latest frame of each event
	ws     *websocket.Conn
}

func newTally(t *testing.T, h *relaytest.Harness, login string) *tally {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(h.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	hello, _ := json.Marshal(protocol.Hello{V: protocol.Version, Role: protocol.RoleAgent, Login: login, Password: relaytest.Password})
	cmd, _ := json.Marshal(protocol.Command{ID: "h", Cmd: protocol.CmdHello, Data: hello})
	if err := ws.WriteMessage(websocket.TextMessage, cmd); err != nil {
		t.Fatal(err)
	}
	_, reply, err := ws.ReadMessage()
	if err != nil || !bytes.Contains(reply, []byte(`"ok":true`)) {
		t.Fatalf("hello of %s: %s %v", login, reply, err)
	}
	tl := &tally{frames: map[string]int{}, bytes: map[string]int{}, last: map[string][]byte{}, ws: ws}
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var f struct {
				Ev string `json:"ev"`
			}
			_ = json.Unmarshal(b, &f)
			tl.mu.Lock()
			tl.frames[f.Ev]++
			tl.bytes[f.Ev] += len(b)
			tl.last[f.Ev] = b
			tl.mu.Unlock()
		}
	}()
	return tl
}

func (tl *tally) count(ev string) (frames, bytes int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.frames[ev], tl.bytes[ev]
}

// waitLast waits until the latest frame of an event holds want.
func (tl *tally) waitLast(t *testing.T, ev string, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tl.mu.Lock()
		ok := bytes.Contains(tl.last[ev], []byte(want))
		tl.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s frame with %s", ev, want)
}

// startChat makes a waiting visitor: a hello and a chat.start on a raw
// connection, closed once started (the chat waits for QueueLeave, longer
// than the test), so that hundreds of them hold no connections.
func startChat(t *testing.T, h *relaytest.Harness, name string) string {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(h.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	do := func(id, cmd string, data any) protocol.ServerFrame {
		raw, _ := json.Marshal(data)
		b, _ := json.Marshal(protocol.Command{ID: id, Cmd: cmd, Data: raw})
		if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		for {
			var f protocol.ServerFrame
			if err := ws.ReadJSON(&f); err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			if f.Re == id {
				if !f.OK {
					t.Fatalf("%s: %v", cmd, f.Error)
				}
				return f
			}
		}
	}
	do("h", protocol.CmdHello, protocol.Hello{V: protocol.Version, Role: protocol.RoleVisitor, Channel: "support"})
	var st protocol.ChatStarted
	_ = json.Unmarshal(do("s", protocol.CmdChatStart, protocol.ChatStart{Name: name, Email: "v@example.com",
		Question: "Where is my parcel? It was due on Monday."}).Data, &st)
	_ = ws.Close()
	return st.Session
}

func TestQueueArrivalsCostEachAgentConstantFramesAndBytes(t *testing.T) {
	const n = 300
	// More waiting chats than a channel holds by default (limits.waiting_per_channel).
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.Desk.MaxWaiting = 0 }})
	anna := newTally(t, h, "anna")
	var last string
	for i := range n {
		last = startChat(t, h, fmt.Sprintf("Visitor %d", i))
	}
	anna.waitLast(t, protocol.EvQueue, last)
	frames, size := anna.count(protocol.EvQueue)
	t.Logf("%d waiting chats: %d queue frames, %d bytes to one agent (%d bytes per arrival)", n, frames, size, size/n)
	if frames > n {
		t.Errorf("%d queue frames for %d arrivals: want at most one per arrival", frames, n)
	}
	// Linear in n: each arrival costs the agent the one new item, not the list.
	if perArrival := size / n; perArrival >= 1024 {
		t.Errorf("%d bytes per arrival (%d in all): the whole queue is being sent again", perArrival, size)
	}
}

func TestWaitingVisitorHearsOnlyWhenPlaceMoves(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	first, s1 := h.Visitor("First", "one")
	second, s2 := h.Visitor("Second", "two")
	for i := range 20 {
		h.Visitor(fmt.Sprintf("Later%d", i), "")
	}
	// Those behind do not move the first visitors' places.
	anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: s1.Session}, nil)
	second.Event(protocol.EvPosition, 0, func(f protocol.ServerFrame) bool {
		var p protocol.Position
		_ = json.Unmarshal(f.Data, &p)
		return p.Position == 1
	})
	positions := func(c *relaytest.Client) []int {
		var out []int
		for _, f := range c.Events() {
			if f.Ev == protocol.EvPosition {
				var p protocol.Position
				_ = json.Unmarshal(f.Data, &p)
				out = append(out, p.Position)
			}
		}
		return out
	}
	if got := positions(first); len(got) > 1 {
		t.Errorf("first in line was told its place %d times (%v) while others joined behind", len(got), got)
	}
	if got := positions(second); !slices.Equal(got, []int{2, 1}) {
		t.Errorf("second in line was told %v, want [2 1]: once on arrival, once when the first was picked", got)
	}
	_ = s2
}

// presenceCost connects k colleagues in support while an observer and an
// agent of another channel watch, and returns the presence frames and bytes
// the observer got, and how long the connects took.
func presenceCost(t *testing.T, k int, tick time.Duration) (frames, size, outside int, took time.Duration) {
	var agents []relaytest.Agent
	agents = append(agents, relaytest.Agent{Login: "obs", Name: "Observer", Perms: "respond"})
	for i := range k {
		agents = append(agents, relaytest.Agent{Login: fmt.Sprintf("a%02d", i), Name: fmt.Sprintf("Agent %02d", i), Perms: "respond"})
	}
	agents = append(agents, relaytest.Agent{Login: "sam", Name: "Sam of Sales"})
	h := relaytest.Start(t, relaytest.Options{Agents: agents, Config: func(c *relay.Config) { c.TickInterval = tick }})
	ctx := context.Background()
	if err := h.Store.PutChannel(ctx, storeChannel("sales")); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Grant(ctx, "sam", "sales", chat.PermRespond); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	obs := newTally(t, h, "obs")
	sam := newTally(t, h, "sam")
	start := time.Now()
	for i := range k {
		h.Agent(fmt.Sprintf("a%02d", i), nil)
	}
	took = time.Since(start)
	obs.waitLast(t, protocol.EvPresence, fmt.Sprintf(`"login":"a%02d"`, k-1))
	time.Sleep(2 * tick) // anything still on its way
	frames, size = obs.count(protocol.EvPresence)
	outside, _ = sam.count(protocol.EvPresence)
	return frames, size, outside, took
}

func storeChannel(key string) store.ChannelRow {
	return store.ChannelRow{Key: chat.ChannelID(key), Name: key, TimeZone: "UTC", TransferTimeout: chat.DefaultTransferTimeout}
}

func TestPresenceIsCoalescedAndStaysWithinChannels(t *testing.T) {
	const tick = 300 * time.Millisecond
	for _, k := range []int{10, 40} {
		frames, size, outside, took := presenceCost(t, k, tick)
		t.Logf("%d colleagues connecting in %v: %d presence frames, %d bytes to one agent; %d to an agent of another channel",
			k, took.Round(time.Millisecond), frames, size, outside)
		// At most one frame per flush (and the first may come early).
		if most := int(took/tick) + 3; frames > most {
			t.Errorf("%d connects: %d presence frames in %v, want at most %d (one per %v tick)", k, frames, took, most, tick)
		}
		// Sam shares no channel: only his own connect concerns him.
		if outside > 1 {
			t.Errorf("an agent of another channel got %d presence frames, want only their own", outside)
		}
	}
}

func TestOwnStatusReachesOwnOtherWindowAtOnce(t *testing.T) {
	// No flush during the test: what arrives came without waiting for one.
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) { c.TickInterval = time.Hour }})
	main, _ := h.Agent("anna", nil)
	dash, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	main.OK(protocol.CmdStatusSet, protocol.StatusSet{Status: protocol.StatusAway}, nil)
	dash.Event(protocol.EvPresence, 0, func(f protocol.ServerFrame) bool {
		var p protocol.PresenceEvent
		_ = json.Unmarshal(f.Data, &p)
		return len(p.Agents) == 1 && p.Agents[0].Login == "anna" && p.Agents[0].Status == protocol.StatusAway
	})
	time.Sleep(100 * time.Millisecond)
	for _, f := range bertil.Events() {
		if f.Ev == protocol.EvPresence && bytes.Contains(f.Data, []byte(`"away"`)) {
			t.Errorf("a colleague heard of the change before the flush: %s", f.Data)
		}
	}
}

// A client that applies the queue events holds exactly the relay's queue
// (what a fresh hello's welcome says) after arrivals, picks, visitors who
// end or leave, and chats that return to the queue.
func TestQueueDeltasRebuildTheRelaysQueue(t *testing.T) {
	h := relaytest.Start(t, relaytest.Options{Config: func(c *relay.Config) {
		c.Desk.Grace = 150 * time.Millisecond
		c.Desk.QueueLeave = 150 * time.Millisecond
	}})
	anna, welcome := h.Agent("anna", nil) // watches, never picks
	bertil, _ := h.Agent("bertil", nil)
	cecilia, _ := h.Agent("cecilia", nil) // picks, then drops off: her chats come back at the head
	rnd := rand.New(rand.NewSource(7))
	type waiting struct {
		c   *relaytest.Client
		sid string
	}
	var queue []waiting
	take := func() waiting {
		i := rnd.Intn(len(queue))
		w := queue[i]
		queue = slices.Delete(queue, i, i+1)
		return w
	}
	for step := range 120 {
		switch op := rnd.Intn(10); {
		case op < 5 || len(queue) == 0:
			c, st := h.Visitor(fmt.Sprintf("V%d", step), "")
			queue = append(queue, waiting{c, st.Session})
		case op < 6:
			bertil.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: take().sid}, nil)
		case op < 7:
			w := take()
			w.c.OK(protocol.CmdSessionEnd, protocol.SessionRef{Session: w.sid}, nil)
		case op < 8:
			take().c.Close() // gone: leaves the queue after QueueLeave
		case op < 9:
			cecilia.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: take().sid}, nil)
		default:
			cecilia.Close() // her chats return to the head after Grace
			time.Sleep(200 * time.Millisecond)
			cecilia, _ = h.Agent("cecilia", nil)
		}
	}
	time.Sleep(400 * time.Millisecond) // the last leaves and returns are done
	_, fresh := h.Agent("anna", nil)
	got := anna.WaitQueue(welcome.Queue, "support", relaytest.QueueSessions(fresh.Queue)...)
	t.Logf("%d chats waiting at the end", len(got))
}
