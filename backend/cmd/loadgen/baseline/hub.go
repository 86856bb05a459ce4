// Package baseline is the yardstick of the load generator: the smallest
// websocket fan-out hub that speaks the same frames as the relay for one
// message (a message.send command in, an ack and entry events out), with
// nothing else: no authentication, no domain rules, no storage. Whatever the
// relay does beyond it (auth, per-session order, the durable commit before
// the ack) shows up as the ratio between the two under the same load.
//
// A client names its chat and role in the URL (the baseline has no hello):
//
//	/ws?chat=17&role=visitor    publishes; gets an ack per message
//	/ws?chat=17&role=agent      receives the chat's entries
//	/ws?chat=17&role=listener   receives the chat's entries
//
// It follows gorilla/websocket's chat example: one read pump and one write
// pump per client, a bounded send queue, a client too slow to drain it is
// dropped.
//
// NewDurable is the same hub committing every message to SQLite (WAL,
// synchronous=FULL, group commit) before it acks or delivers it: the
// yardstick for the relay's durable commit.
package baseline

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait = 10 * time.Second
	sendQueue = 1024
	maxFrame  = 64 << 10
)

// Hub routes each chat's messages from its visitor to its receivers.
type Hub struct {
	mu    sync.RWMutex
	chats map[string]*room
	up    websocket.Upgrader
	// journal, when set, commits each message before it goes out (NewDurable).
	journal *journal
}

type room struct {
	mu        sync.Mutex
	seq       uint64
	receivers []*client
}

type client struct {
	hub  *Hub
	ws   *websocket.Conn
	send chan []byte
	done chan struct{}
	once sync.Once
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{chats: map[string]*room{}, up: websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(*http.Request) bool { return true },
	}}
}

func (h *Hub) room(chat string) *room {
	h.mu.RLock()
	r := h.chats[chat]
	h.mu.RUnlock()
	if r != nil {
		return r
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r = h.chats[chat]; r == nil {
		r = &room{}
		h.chats[chat] = r
	}
	return r
}

// ServeHTTP upgrades /ws requests.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	chat, role := r.URL.Query().Get("chat"), r.URL.Query().Get("role")
	if chat == "" || (role != "visitor" && role != "agent" && role != "listener") {
		http.Error(w, "want ?chat=N&role=visitor|agent|listener", http.StatusBadRequest)
		return
	}
	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{hub: h, ws: ws, send: make(chan []byte, sendQueue), done: make(chan struct{})}
	go c.writePump()
	if role == "visitor" {
		c.publish(chat, h.room(chat))
		return
	}
	// A receiver may follow several chats (an agent with many visitors).
	var rooms []*room
	for _, id := range strings.Split(chat, ",") {
		rm := h.room(id)
		rm.mu.Lock()
		rm.receivers = append(rm.receivers, c)
		rm.mu.Unlock()
		rooms = append(rooms, rm)
	}
	// Receivers only read to notice the close.
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	for _, rm := range rooms {
		rm.mu.Lock()
		for i, x := range rm.receivers {
			if x == c {
				rm.receivers = append(rm.receivers[:i], rm.receivers[i+1:]...)
				break
			}
		}
		rm.mu.Unlock()
	}
	c.close()
}

// command and the frames below are the relay's message.send, ack and entry
// event, cut down to what the load generator reads.
type command struct {
	ID   string `json:"id"`
	Cmd  string `json:"cmd"`
	Data struct {
		Session  string `json:"session"`
		ClientID string `json:"client_id"`
		Text     string `json:"text"`
	} `json:"data"`
}

type ack struct {
	Re   string `json:"re"`
	OK   bool   `json:"ok"`
	Data struct {
		Seq uint64 `json:"seq"`
	} `json:"data"`
}

type entry struct {
	Ev      string `json:"ev"`
	Session string `json:"session"`
	Seq     uint64 `json:"seq"`
	Data    struct {
		Seq      uint64 `json:"seq"`
		Kind     string `json:"kind"`
		ClientID string `json:"client_id"`
		Text     string `json:"text"`
	} `json:"data"`
}

func (c *client) publish(chat string, rm *room) {
	defer c.close()
	c.ws.SetReadLimit(maxFrame)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var cmd command
		if json.Unmarshal(b, &cmd) != nil {
			continue
		}
		var ev entry
		ev.Ev, ev.Session = "entry", chat
		ev.Data.Kind, ev.Data.ClientID, ev.Data.Text = "message", cmd.Data.ClientID, cmd.Data.Text
		// Under the room's lock, so that receivers see seqs in order.
		rm.mu.Lock()
		rm.seq++
		ev.Seq, ev.Data.Seq = rm.seq, rm.seq
		frame, _ := json.Marshal(ev)
		a := ack{Re: cmd.ID, OK: true}
		a.Data.Seq = ev.Seq
		reply, _ := json.Marshal(a)
		if h := c.hub; h.journal != nil {
			// Queued under the room's lock, so the committer sees seq order.
			h.journal.jobs <- commitJob{room: rm, chat: chat, seq: ev.Seq, cid: cmd.Data.ClientID,
				text: cmd.Data.Text, entry: frame, ack: reply, sender: c}
			rm.mu.Unlock()
			continue
		}
		for _, r := range rm.receivers {
			r.enqueue(frame)
		}
		rm.mu.Unlock()
		c.enqueue(reply)
	}
}

func (c *client) enqueue(frame []byte) {
	select {
	case c.send <- frame:
	default:
		go c.close() // too slow
	}
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

func (c *client) writePump() {
	for {
		select {
		case <-c.done:
			return
		case f := <-c.send:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close()
				return
			}
		}
	}
}
