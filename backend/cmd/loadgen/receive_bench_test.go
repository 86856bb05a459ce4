package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/backend/protocol"
)

// BenchmarkReceive is the client side of the hot loop: an agent reading
// message entries and a visitor reading acks, from a websocket that writes
// them as fast as it can. It reports the whole process's CPU per message
// (the writer's share is the same whatever the client does).
func BenchmarkReceive(b *testing.B) {
	const session = "s-bench-0123456789"
	entries := make([][]byte, b.N)
	acks := make([][]byte, b.N)
	for i := range b.N {
		n := uint64(i + 1)
		entries[i], _ = json.Marshal(protocol.Event{Ev: protocol.EvEntry, Session: session, Seq: n, Data: protocol.Entry{
			Seq: n, At: time.Now(), Kind: protocol.EntryMessage, From: protocol.Author{Kind: protocol.AuthorVisitor, Name: "Visitor 1"},
			ClientID: "m" + strconv.FormatUint(n, 10), Text: "t" + strconv.FormatInt(time.Now().UnixNano(), 10) + " " + strings.Repeat("x", 40)}})
		acks[i], _ = json.Marshal(protocol.Reply{Re: strconv.FormatUint(n, 10), OK: true, Data: protocol.MessageAck{Seq: n}})
	}
	start := make(chan struct{})
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		frames := entries
		if r.URL.Query().Get("role") == "visitor" {
			frames = acks
		}
		<-start
		for _, f := range frames {
			if ws.WriteMessage(websocket.TextMessage, f) != nil {
				return
			}
		}
		_, _, _ = ws.ReadMessage() // until the client goes
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	r := newRun("bench", false, url, defaultConfig())
	c := &chatState{session: session, ackSeq: map[uint64]uint64{}}
	agent, visitor := r.newPeer(roleAgent, 0), r.newPeer(roleVisitor, 0)
	c.agent, c.owner, c.visitor, visitor.chat = agent, agent, visitor, c
	r.bySession[session] = c
	r.chats = []*chatState{c}
	r.measuring.Store(true)
	agent.url, visitor.url = url+"?role=agent", url+"?role=visitor"
	for _, p := range []*peer{agent, visitor} {
		if err := p.connect(context.Background()); err != nil {
			b.Fatal(err)
		}
		p.start()
	}
	before := cpuTime()
	b.ResetTimer()
	close(start)
	deadline := time.Now().Add(time.Minute)
	for c.nGot[slotAgent].Load() < int64(b.N) || c.nAcked.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("got %d entries and %d acks of %d", c.nGot[slotAgent].Load(), c.nAcked.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/msg")
	r.stop()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
