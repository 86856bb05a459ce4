package chat

import "time"

// Effect is something a command caused that the relay must persist, deliver,
// or both. Effects come in the order they happened.
type Effect interface{ isEffect() }

// EntryAdded: a line was appended to a session's log.
type EntryAdded struct {
	Session SessionID
	Channel ChannelID
	Entry   Entry
}

// SessionChanged: a session's state, owner, listeners or pending transfer
// changed. Notify lists the agents who must hear of it: those involved before
// and after the change.
type SessionChanged struct {
	Session Session
	Notify  []AgentID
}

// TransferChanged: a transfer was offered or resolved, or a take-over made.
// Both agents and the starter are told.
type TransferChanged struct {
	Transfer Transfer
}

// RequestCreated: a ticket was made.
type RequestCreated struct {
	Request Request
	// HandOff: the new request also goes to the configured webhook.
	HandOff bool
}

// AgentChanged: an agent's status or load changed.
type AgentChanged struct {
	Agent  AgentID
	Status Status
	Chosen Status
	Load   int
}

// QueueChanged: a channel's waiting list changed. Removed names the chats
// that left it (picked, ended); Added those that joined it, each at its
// Position in the list right after this change. Both empty: nobody came or
// went, but the estimated waits moved (an agent changed status). Agents are
// sent what changed, never the whole list.
type QueueChanged struct {
	Channel ChannelID
	Removed []SessionID
	Added   []Waiting
}

// Waiting is a chat as it joined a channel's queue.
type Waiting struct {
	Session  SessionID
	Visitor  string
	Question string
	Since    time.Time
	Rank     int64 // the queue's order across channels: lower is served first
	Position int   // 1 = next
}

// Warned: a chat has waited past a channel's warning delay.
type Warned struct {
	Session    SessionID
	Channel    ChannelID
	Level      WarnLevel
	Waited     time.Duration
	Recipients []AgentID
}

// Subscribed: an agent now receives a session's log (after a pick, an offer,
// an accept, a take-over or listen) and should be brought up to date.
type Subscribed struct {
	Agent   AgentID
	Session SessionID
}

// Forgotten: an ended chat left the desk's memory (its log stays in the
// store). The relay forgets the visitor's token with it.
type Forgotten struct {
	Session   SessionID
	TokenHash string
}

func (EntryAdded) isEffect()      {}
func (SessionChanged) isEffect()  {}
func (TransferChanged) isEffect() {}
func (RequestCreated) isEffect()  {}
func (AgentChanged) isEffect()    {}
func (QueueChanged) isEffect()    {}
func (Warned) isEffect()          {}
func (Subscribed) isEffect()      {}
func (Forgotten) isEffect()       {}
