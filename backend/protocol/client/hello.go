package client

import (
	"context"
	"encoding/json"
	"fmt"

	"switchboard/backend/protocol"
)

// Hello says hello on c and returns the welcome's raw data; a refusal is a
// *protocol.Error. Without a resume map of its own, h resumes every session
// of c's Tracker.
func (c *Conn) Hello(ctx context.Context, h protocol.Hello) (json.RawMessage, error) {
	if h.V == 0 {
		h.V = protocol.Version
	}
	if h.Resume == nil {
		h.Resume = c.tracker.Resume()
	}
	var raw json.RawMessage
	if err := c.Do(ctx, protocol.CmdHello, h, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// HelloAgent signs an agent in: by token when h has one, else by login and
// password.
func (c *Conn) HelloAgent(ctx context.Context, h protocol.Hello) (protocol.AgentWelcome, error) {
	h.Role = protocol.RoleAgent
	var w protocol.AgentWelcome
	raw, err := c.Hello(ctx, h)
	if err == nil {
		w, err = decodeAgentWelcome(raw)
	}
	return w, err
}

// HelloVisitor opens a visitor's connection: in a channel (h.Channel), or
// back in its chat (h.Token, resuming it).
func (c *Conn) HelloVisitor(ctx context.Context, h protocol.Hello) (Visit, error) {
	h.Role = protocol.RoleVisitor
	raw, err := c.Hello(ctx, h)
	if err != nil {
		return Visit{}, err
	}
	v, err := decodeVisitorWelcome(raw)
	if err == nil && v.Chat != nil {
		c.tracker.Watch(v.Chat.Session)
	}
	return v, err
}

// StartChat starts a visitor's chat; the Tracker follows it from then on,
// so a hello with its token resumes it.
func (c *Conn) StartChat(ctx context.Context, start protocol.ChatStart) (Chat, error) {
	var raw json.RawMessage
	if err := c.Do(ctx, protocol.CmdChatStart, start, &raw); err != nil {
		return Chat{}, err
	}
	ch, err := decodeChatStarted(raw)
	if err == nil {
		c.tracker.Watch(ch.Session)
	}
	return ch, err
}

// Chat is a visitor's chat, as chat.start or a resuming hello tells it.
type Chat struct {
	Session  string               // its id
	Token    string               // what a later hello resumes it with (chat.start only)
	Info     protocol.SessionInfo // its state
	Position *protocol.Position   // the place in the queue while waiting
}

// Visit is a visitor's welcome.
type Visit struct {
	Channel protocol.ChannelInfo
	Chat    *Chat // back in a chat (a hello with its token)
}

// The replies whose shape names a visitor's chat are read here and only
// here: when the wire shape changes, this is the one place to follow it.

func decodeAgentWelcome(raw json.RawMessage) (protocol.AgentWelcome, error) {
	var w protocol.AgentWelcome
	if err := json.Unmarshal(raw, &w); err != nil {
		return w, fmt.Errorf("client: welcome: %w", err)
	}
	return w, nil
}

func decodeVisitorWelcome(raw json.RawMessage) (Visit, error) {
	var w protocol.VisitorWelcome
	if err := json.Unmarshal(raw, &w); err != nil {
		return Visit{}, fmt.Errorf("client: welcome: %w", err)
	}
	v := Visit{Channel: w.Channel}
	if w.Chat != nil {
		v.Chat = &Chat{Session: w.Chat.ID, Info: *w.Chat, Position: w.Position}
	}
	return v, nil
}

func decodeChatStarted(raw json.RawMessage) (Chat, error) {
	var st protocol.ChatStarted
	if err := json.Unmarshal(raw, &st); err != nil {
		return Chat{}, fmt.Errorf("client: chat.start: %w", err)
	}
	return Chat{Session: st.Session, Token: st.Token, Info: st.Chat, Position: st.Position}, nil
}
