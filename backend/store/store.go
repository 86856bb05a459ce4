// Package store keeps Switchboard's state durably. The relay talks to the
// Store interface only; SQLite (pure Go, WAL) is the default implementation
// and a PostgreSQL one can sit behind the same interface.
package store

import (
	"context"
	"errors"
	"time"

	"switchboard/backend/chat"
	"switchboard/backend/protocol"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating something whose key is taken.
var ErrExists = errors.New("already exists")

// ErrFenced is returned by a write of a store fenced with a term (a cluster
// node that was the desk's leader) once another node has taken a newer
// term: the write is refused by the database and nothing of it is kept, so
// that two leaders never both commit.
var ErrFenced = errors.New("fenced: another node holds a newer term")

// Store is everything the relay and the admin commands persist.
type Store interface {
	// Load reads what a desk needs at start (see chat.Snapshot): channels,
	// agents with grants and chosen status, sessions that are queued, active
	// or ended after endedSince, pending transfers and those of the last day,
	// the recent client ids of open sessions, counters, chats today.
	Load(ctx context.Context, now time.Time, endedSince time.Time) (chat.Snapshot, error)

	// Apply persists the effects of one or more commands in one transaction,
	// in order, durably (the ack to a client follows its return). Effects
	// that only deliver (QueueChanged, Warned, Subscribed) are ignored.
	Apply(ctx context.Context, effects []chat.Effect) error

	// Entries reads a session's log after seq, in order, at most limit (0 = all).
	Entries(ctx context.Context, session chat.SessionID, after uint64, limit int) ([]chat.Entry, error)
	// SessionRow reads one session, also an ended one no longer in memory.
	SessionRow(ctx context.Context, id chat.SessionID) (chat.Session, error)
	// Transfers reads the history of a session or of an agent (as From, To
	// or By), newest first, at most limit.
	Transfers(ctx context.Context, session chat.SessionID, agent chat.AgentID, limit int) ([]chat.Transfer, error)
	// TransfersIn is Transfers of an agent limited to some channels (those
	// the reader may watch), so that no other channel's transfer leaks.
	TransfersIn(ctx context.Context, agent chat.AgentID, channels []chat.ChannelID, limit int) ([]chat.Transfer, error)
	// Request reads a ticket with its transcript.
	Request(ctx context.Context, number int64) (RequestRow, error)
	// ListRequests, RequestSteps and RequestStep read requests and their
	// history (see requests.go).
	ListRequests(ctx context.Context, f RequestFilter) ([]chat.Request, error)
	RequestSteps(ctx context.Context, number int64) ([]chat.RequestStep, error)
	RequestStep(ctx context.Context, id int64) (chat.RequestStep, error)
	// The outbox: e-mails and webhook calls committed with the request
	// change they carry, sent afterwards (see requests.go).
	DueOutbox(ctx context.Context, kind string, now time.Time, limit int) ([]OutboxItem, error)
	PendingOutbox(ctx context.Context, kind string) (int, error)
	FinishOutbox(ctx context.Context, id int64, now time.Time, lastErr string, note *chat.RequestStep) error
	RetryOutbox(ctx context.Context, id int64, next time.Time, lastErr string) error

	// Auth.
	AgentByLogin(ctx context.Context, login string) (AgentRow, error)
	CreateToken(ctx context.Context, agent chat.AgentID, tokenHash string, expires time.Time) error
	TokenAgent(ctx context.Context, tokenHash string, now time.Time) (chat.AgentID, error)
	// RevokeToken revokes a token and every token minted from it.
	RevokeToken(ctx context.Context, tokenHash string) error
	// CreateHandoverToken stores a token minted by the session standing on
	// parentHash (same agent); it is revoked with its parent.
	CreateHandoverToken(ctx context.Context, parentHash, tokenHash string, now, expires time.Time) error
	// RedeemToken claims a one-time token and issues newHash in its place,
	// with the same parent; it returns the agent.
	RedeemToken(ctx context.Context, oneTimeHash, newHash string, now, expires time.Time) (chat.AgentID, error)

	// QuickReplies reads an agent's own quick replies in their order (none:
	// an empty list). SetQuickReplies replaces them all in one durable
	// transaction; an unknown agent is ErrNotFound. Checking the list is the
	// caller's (protocol.CheckQuickReplies).
	QuickReplies(ctx context.Context, agent chat.AgentID) ([]protocol.QuickReply, error)
	SetQuickReplies(ctx context.Context, agent chat.AgentID, replies []protocol.QuickReply) error

	// Administration.
	CreateAgent(ctx context.Context, login, name string, passwordHash []byte) (chat.AgentID, error)
	SetPassword(ctx context.Context, login string, passwordHash []byte) error // also revokes their tokens
	SetAgentDisabled(ctx context.Context, login string, disabled bool) error  // also revokes tokens when disabling
	ListAgents(ctx context.Context) ([]AgentRow, error)
	PutChannel(ctx context.Context, c ChannelRow) error // create or update by key
	ListChannels(ctx context.Context) ([]ChannelRow, error)
	Grant(ctx context.Context, login string, channel chat.ChannelID, perms chat.Perm) error // replaces the set; 0 removes
	// DirectoryVersion changes whenever agents, channels or grants change, so
	// a running relay notices what an admin command did.
	DirectoryVersion(ctx context.Context) (int64, error)
	// Directory reads channels and agents with grants and disabled flag, and
	// the version they belong to: what a running relay applies to its desk.
	Directory(ctx context.Context) (Directory, error)

	// WriteProbe makes one durable write: whether the database takes
	// writes now (a relay that found it could not write asks until it can).
	WriteProbe(ctx context.Context) error

	// Files keeps attachments' rows and signing key (attachments.go).
	Files

	// Backup writes an online, consistent copy of the database to path.
	Backup(ctx context.Context, path string) error
	Close() error
}

// AgentRow is an agent as stored.
type AgentRow struct {
	ID           chat.AgentID
	Login        string
	Name         string
	PasswordHash []byte
	Disabled     bool
	Perms        map[chat.ChannelID]chat.Perm
}

// ChannelRow is a channel as stored; Hours is chat.ParseHours' text form and
// TimeZone an IANA name.
type ChannelRow struct {
	Key              chat.ChannelID
	Name             string
	Hours            string
	TimeZone         string
	OfflineForm      bool
	WarnAfter        time.Duration
	ManagerWarnAfter time.Duration
	TransferTimeout  time.Duration
	Templates        []string
	// Language of the channel's e-mails to visitors: en or sv (empty: en).
	Language string
	// FileMaxBytes limits attachments: 0 is the default
	// (protocol.DefaultFileMaxBytes), below 0 turns them off. FileTypes
	// are MIME types or classes (protocol.FileTypeClasses); none: the
	// default classes.
	FileMaxBytes int64
	FileTypes    []string
}

// Languages a channel may speak to visitors in.
var Languages = []string{"en", "sv"}

// language is the stored language: en unless one of Languages.
func (c ChannelRow) language() string {
	for _, l := range Languages {
		if c.Language == l {
			return l
		}
	}
	return "en"
}

// RequestRow is a ticket with the chat's transcript.
type RequestRow struct {
	chat.Request
	Transcript string
}
