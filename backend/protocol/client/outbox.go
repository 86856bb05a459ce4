package client

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"switchboard/backend/protocol"
)

// OutState is where a typed message stands.
type OutState string

const (
	Pending OutState = "pending" // waiting to be sent, or for its ack
	Acked   OutState = "acked"   // durably stored by the relay at Seq
	Failed  OutState = "failed"  // refused for good (Err); not retried
)

// Outgoing is a snapshot of one message of the outbox.
type Outgoing struct {
	ClientID  string          `json:"client_id"`
	Session   string          `json:"session"`
	Text      string          `json:"text"`
	File      string          `json:"file,omitempty"` // an uploaded attachment's id
	State     OutState        `json:"state"`
	Seq       uint64          `json:"seq,omitempty"`       // Acked
	Duplicate bool            `json:"duplicate,omitempty"` // Acked by a resend: the first ack was lost
	Err       *protocol.Error `json:"error,omitempty"`     // Failed
	Attempts  int             `json:"attempts"`            // writes so far
	Queued    time.Time       `json:"queued"`
}

type outItem struct {
	Outgoing
	sentOn *Conn // the connection it was last written to; its reply is awaited there
}

// Send queues a message and returns its client id at once. The outbox writes
// it now if connected, else after the next hello, and again with the same
// client id after every reconnect until the relay answers (the relay stores
// a client id once). Messages of one session go out one at a time, in the
// order typed. OnOutbox hears of it as pending, then acked or failed.
func (c *Client) Send(session, text string) string {
	return c.SendFile(session, text, "")
}

// SendFile is Send with an attachment: file is the id of an uploaded file
// (see protocol.FileSlot); text may then be empty.
func (c *Client) SendFile(session, text, file string) string {
	m := &outItem{Outgoing: Outgoing{ClientID: newClientID(), Session: session, Text: text, File: file, State: Pending, Queued: time.Now()}}
	c.mu.Lock()
	c.outbox = append(c.outbox, m)
	c.notifyLocked(m)
	c.mu.Unlock()
	c.poke()
	return m.ClientID
}

// Pending lists the messages not yet acknowledged, in the order typed.
func (c *Client) Pending() []Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Outgoing, len(c.outbox))
	for i, m := range c.outbox {
		out[i] = m.Outgoing
	}
	return out
}

// newClientID is unique per sender without coordination: time plus 64
// random bits.
func newClientID() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatUint(rand.Uint64(), 36)
}

func (c *Client) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Client) notifyLocked(m *outItem) {
	if f := c.cfg.OnOutbox; f != nil {
		snap := m.Outgoing
		c.disp.push(func() { f(snap) })
	}
}

// pump writes the outbox to cn until cn ends.
func (c *Client) pump(cn *Conn) {
	for {
		for _, m := range c.sendable(cn) {
			c.transmit(cn, m)
		}
		select {
		case <-c.kick:
		case <-cn.Done():
			return
		}
	}
}

// sendable picks, per session, the oldest unacknowledged message unless it
// is already on the wire on cn. One message per session in flight keeps the
// order typed whatever the relay refuses or the link loses; an ack takes a
// commit, so this costs little.
func (c *Client) sendable(cn *Conn) []*outItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*outItem
	head := make(map[string]bool)
	for _, m := range c.outbox {
		if head[m.Session] {
			continue
		}
		head[m.Session] = true
		if m.sentOn != cn {
			m.sentOn = cn
			m.Attempts++
			out = append(out, m)
		}
	}
	return out
}

func (c *Client) transmit(cn *Conn, m *outItem) {
	id := cn.NewID()
	if !cn.expect(id, func(f *Frame) { c.settle(cn, m, f) }) {
		return
	}
	// A failed write drops the link; the message goes again after the next hello.
	_ = cn.Send(id, protocol.CmdMessageSend, protocol.MessageSend{Session: m.Session, ClientID: m.ClientID, Text: m.Text, File: m.File})
}

// transient refusals of a send are retried; any other refusal is final.
func transient(code protocol.Code) bool {
	switch code {
	case protocol.CodeRateLimited, protocol.CodeUnavailable, protocol.CodeInternal:
		return true
	}
	return false
}

// settle takes in the reply to a send. It runs on cn's read loop.
func (c *Client) settle(cn *Conn, m *outItem, f *Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case f.OK:
		var ack protocol.MessageAck
		if err := json.Unmarshal(f.Data, &ack); err != nil {
			c.log.Warn("message ack unreadable", "client_id", m.ClientID, "err", err)
		}
		m.State, m.Seq, m.Duplicate = Acked, ack.Seq, ack.Duplicate
	case f.Error != nil && transient(f.Error.Code):
		c.log.Info("message refused for now; will retry", "client_id", m.ClientID, "err", f.Error)
		time.AfterFunc(sendRetryDelay, func() {
			c.mu.Lock()
			if m.sentOn == cn {
				m.sentOn = nil
			}
			c.mu.Unlock()
			c.poke()
		})
		return
	default:
		m.State, m.Err = Failed, f.Error
		if m.Err == nil {
			m.Err = protocol.Errorf(protocol.CodeInternal, "refused without a reason")
		}
		c.log.Info("message refused", "client_id", m.ClientID, "err", m.Err)
	}
	c.outbox = slices.DeleteFunc(c.outbox, func(x *outItem) bool { return x == m })
	c.notifyLocked(m)
	c.poke()
}
