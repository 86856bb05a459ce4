// Package protocol holds the wire types of the Switchboard relay protocol (v1):
// the frames, the command and event names, their payloads and the stable error
// codes. It is imported by the relay and by the desktop app; it does no I/O.
//
// A frame is one JSON text message. Clients send commands:
//
//	{"id":"c1","cmd":"message.send","data":{...}}
//
// The relay answers every command with a reply naming its id:
//
//	{"re":"c1","ok":true,"data":{...}}
//	{"re":"c1","ok":false,"error":{"code":"forbidden","message":"..."}}
//
// and pushes events, which carry the session and its sequence number where
// they belong to a session's log:
//
//	{"ev":"entry","session":"s-…","seq":7,"data":{...}}
package protocol

import (
	"encoding/json"
	"fmt"
	"time"
)

// Version is the protocol version a client names in hello.
const Version = 1

// MaxFrameBytes caps one frame from a client. The relay's own frames may be
// larger (a welcome, a page of log); clients should accept up to a few MiB.
const MaxFrameBytes = 64 << 10

// Command is a frame from a client.
type Command struct {
	ID   string          `json:"id"`
	Cmd  string          `json:"cmd"`
	Data json.RawMessage `json:"data,omitempty"`

	// send is message.send's payload when DecodeCommand decoded it with
	// the frame; Data is then nil, so read that payload with DecodeSend.
	send *MessageSend
}

// Reply answers one command.
type Reply struct {
	Re    string `json:"re"`
	OK    bool   `json:"ok"`
	Data  any    `json:"data,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// Event is pushed by the relay without being asked.
type Event struct {
	Ev      string `json:"ev"`
	Session string `json:"session,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Data    any    `json:"data,omitempty"`
}

// ServerFrame decodes anything the relay sends: a reply (Re set) or an event
// (Ev set). Data stays raw so the client decodes it by name.
type ServerFrame struct {
	Re      string          `json:"re,omitempty"`
	OK      bool            `json:"ok,omitempty"`
	Error   *Error          `json:"error,omitempty"`
	Ev      string          `json:"ev,omitempty"`
	Session string          `json:"session,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error is a refusal with a stable code and a human message.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// RetryAfter: with rate_limited, the seconds to wait before trying again.
	RetryAfter int `json:"retry_after_s,omitempty"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Code is a stable, machine-readable error code. Codes are never renamed.
type Code string

const (
	CodeMalformed       Code = "malformed"       // not JSON, or a payload of the wrong shape
	CodeTooLarge        Code = "too_large"       // frame or text over the limit
	CodeUnknownCommand  Code = "unknown_command" // command name not known to this version
	CodeBadRequest      Code = "bad_request"     // a field is missing or invalid
	CodeVersion         Code = "unsupported_version"
	CodeHelloFirst      Code = "hello_first"      // a command before a successful hello
	CodeAlreadyHello    Code = "already_hello"    // a second hello on one connection
	CodeBadCredentials  Code = "bad_credentials"  // wrong login, password or token
	CodeForbidden       Code = "forbidden"        // authenticated, but not allowed
	CodeNotFound        Code = "not_found"        // no such session, transfer, channel
	CodeNotParticipant  Code = "not_participant"  // not the owner or visitor of the session
	CodeListenOnly      Code = "listen_only"      // a listener tried to act
	CodeInvalidState    Code = "invalid_state"    // the session or transfer is not in a state that allows it
	CodeTransferPending Code = "transfer_pending" // a transfer is already pending on the session
	CodeInvalidTarget   Code = "invalid_target"   // transfer target not Present, lacks respond, or is the owner
	CodeNoAgent         Code = "no_agent"         // nobody Present who may take it
	CodeQueueEmpty      Code = "queue_empty"      // get-next found nothing
	CodeChannelClosed   Code = "channel_closed"   // use the offline form
	CodeRateLimited     Code = "rate_limited"     // too many frames, or failed sign-ins; slow down
	CodeUnavailable     Code = "unavailable"      // shutting down, too busy to check a password, or the database does not take writes; nothing was changed
	CodeInternal        Code = "internal"         // a fault on the relay; nothing was changed
)

// Command names.
const (
	CmdHello            = "hello"
	CmdLogout           = "logout"
	CmdStatusSet        = "status.set"
	CmdQueueNext        = "queue.next"
	CmdSessionPick      = "session.pick"
	CmdSessionEnd       = "session.end"
	CmdSessionLeave     = "session.leave"
	CmdSessionListen    = "session.listen"
	CmdSessionTakeover  = "session.takeover"
	CmdSessionLog       = "session.log"
	CmdMessageSend      = "message.send"
	CmdTyping           = "typing"
	CmdTransferTargets  = "transfer.targets"
	CmdTransferStart    = "transfer.start"
	CmdTransferAccept   = "transfer.accept"
	CmdTransferReject   = "transfer.reject"
	CmdTransferCancel   = "transfer.cancel"
	CmdTransferHistory  = "transfer.history"
	CmdRequestCreate    = "request.create"
	CmdDashboardWatch   = "dashboard.watch"
	CmdDashboardUnwatch = "dashboard.unwatch"
	CmdChatStart        = "chat.start"       // visitor
	CmdOfflineSubmit    = "offline.submit"   // visitor
	CmdPing             = "ping"             // application-level round trip, for clients that cannot see pongs
	CmdTokenHandover    = "token.handover"   // a one-time, short-lived token for a second window of the same agent
	CmdQuickRepliesGet  = "quickreplies.get" // the agent's own quick replies
	CmdQuickRepliesSet  = "quickreplies.set" // replace them with a whole new list
)

// Event names.
const (
	EvEntry     = "entry"     // a line of a session's log (session, seq)
	EvSession   = "session"   // a session's state changed (agents)
	EvTransfer  = "transfer"  // a transfer was offered or resolved (agents involved)
	EvQueue     = "queue"     // chats that joined or left a channel's waiting list (agents with respond)
	EvPosition  = "position"  // the visitor's place in the queue
	EvPresence  = "presence"  // agents' status and load (agents)
	EvWarning   = "warning"   // a chat waits too long
	EvTyping    = "typing"    // someone is typing in a session
	EvDashboard = "dashboard" // live figures (watchers)
	// EvQuickReplies: the agent's quick replies were replaced from another
	// of their connections (another machine, another window).
	EvQuickReplies = "quickreplies"
	// EvChannels: an administrator changed the agent's permissions; the
	// channels (with perms) and the queues they may see now replace the
	// welcome's.
	EvChannels = "channels"
)

// Roles in hello.
const (
	RoleAgent   = "agent"
	RoleVisitor = "visitor"
)

// Hello is the first frame of every connection.
type Hello struct {
	V    int    `json:"v"`
	Role string `json:"role"`
	// Agents: login+password, or token.
	Login    string `json:"login,omitempty"`
	Password string `json:"password,omitempty"`
	// Token is an agent token or a visitor's session token.
	Token string `json:"token,omitempty"`
	// Channel is the visitor's channel key (without a token).
	Channel string `json:"channel,omitempty"`
	// Resume maps a session id to the last seq the client holds; the relay
	// replays what follows, in order, before anything live.
	Resume map[string]uint64 `json:"resume,omitempty"`
	Client string            `json:"client,omitempty"` // free text: app name and version
}

// AgentWelcome is the reply to an agent's hello.
type AgentWelcome struct {
	Token     string         `json:"token"` // set after a password login or a handover-token login; empty after a sign-in by token
	Agent     AgentInfo      `json:"agent"`
	Channels  []ChannelInfo  `json:"channels"`
	Sessions  []SessionInfo  `json:"sessions"` // owned, listened to, offered, and ended in the last 8 hours
	Transfers []TransferInfo `json:"transfers"`
	Queue     []QueueItem    `json:"queue"`
	Agents    []AgentInfo    `json:"agents"`
	Heartbeat int            `json:"heartbeat_s"`
	// Grace: how long an owner who goes Offline keeps their chats before
	// they return to the queue (the app says so before it quits).
	Grace int `json:"grace_s"`
}

// VisitorWelcome is the reply to a visitor's hello.
type VisitorWelcome struct {
	Channel ChannelInfo  `json:"channel"`
	Chat    *SessionInfo `json:"chat,omitempty"` // set when resuming with a token
	// Position in the queue, only while waiting.
	Position *Position `json:"position,omitempty"`
}

// AgentInfo describes an agent as others see them.
type AgentInfo struct {
	ID     int64  `json:"id"`
	Login  string `json:"login,omitempty"`
	Name   string `json:"name"`
	Status string `json:"status"` // present, away, offline
	Load   int    `json:"load"`   // active chats owned
}

// ChannelInfo describes a channel and, for agents, their permissions in it.
type ChannelInfo struct {
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Open        bool      `json:"open"`               // within opening hours and somebody Present may respond
	OfflineForm bool      `json:"offline_form"`       // offer the offline form when not open
	Perms       []string  `json:"perms"`              // respond, notify, listen, manage
	TransferTTL int       `json:"transfer_timeout_s"` // 0 = until cancelled
	Templates   []string  `json:"templates"`          // reply templates
	Files       FileRules `json:"files"`              // what attachments the channel takes
}

// Status values.
const (
	StatusPresent = "present"
	StatusAway    = "away"
	StatusOffline = "offline"
)

// Session states.
const (
	StateQueued = "queued"
	StateActive = "active"
	StateEnded  = "ended"
)

// SessionInfo is a session as an agent or its visitor sees it.
type SessionInfo struct {
	ID        string        `json:"id"`
	Channel   string        `json:"channel"`
	State     string        `json:"state"`
	Visitor   VisitorInfo   `json:"visitor"`
	Question  string        `json:"question,omitempty"`
	Owner     *AgentInfo    `json:"owner,omitempty"`
	Role      string        `json:"role,omitempty"` // the viewer's role: owner, listener, offered, visitor
	Transfer  *TransferInfo `json:"transfer,omitempty"`
	Seq       uint64        `json:"seq,omitempty"` // last seq in the log; absent in the visitor's copy (see chat.Desk.SessionInfo)
	CreatedAt time.Time     `json:"created_at"`
	QueuedAt  time.Time     `json:"queued_at"`
	Answered  *time.Time    `json:"answered_at,omitempty"`
	EndedAt   *time.Time    `json:"ended_at,omitempty"`
	EndedBy   string        `json:"ended_by,omitempty"` // agent, visitor, idle
	LastVisit *time.Time    `json:"last_visitor_at,omitempty"`
}

// Viewer roles in SessionInfo.Role.
const (
	ViewOwner    = "owner"
	ViewListener = "listener"
	ViewOffered  = "offered"
	ViewVisitor  = "visitor"
	ViewWatcher  = "watcher" // dashboard only
)

// VisitorInfo is what the pre-chat form collected.
type VisitorInfo struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Entry is one line of a session's log.
type Entry struct {
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // message, note
	From     Author    `json:"from"`
	ClientID string    `json:"client_id,omitempty"`
	Text     string    `json:"text"`
	Staff    bool      `json:"staff,omitempty"` // agents only; never sent to the visitor
	// Note is the code of a system line: one the visitor sees (joined,
	// ended_agent, visitor_left, left_queue, idle_closed, requeued; From.Name
	// is the agent it names) or a staff line (transfer_offered,
	// transfer_accepted, transfer_rejected, transfer_cancelled,
	// transfer_expired, transfer_voided, took_over). Params say whom and what
	// it names; every client words it in its own language. Text is empty for
	// a system line with a code; a line stored before codes existed has no
	// code and its English Text.
	Note   string      `json:"note,omitempty"`
	Params *NoteParams `json:"params,omitempty"`
	// File is the attachment a message carries (ask file.url to read it).
	File *FileInfo `json:"file,omitempty"`
}

// NoteParams are what a system line names. Visitors get agents by name only.
type NoteParams struct {
	Agent   *NoteAgent `json:"agent,omitempty"`   // whom the line (or its reason) is about
	From    *NoteAgent `json:"from,omitempty"`    // transfer lines: the owner when it started
	To      *NoteAgent `json:"to,omitempty"`      // the receiver
	By      *NoteAgent `json:"by,omitempty"`      // who started the transfer, or took over
	Comment string     `json:"comment,omitempty"` // transfer_offered
	// Reason (transfer_voided): chat_ended, receiver_offline,
	// receiver_revoked, owner_offline, owner_revoked, taken_over.
	Reason string `json:"reason,omitempty"`
}

// NoteAgent is an agent named in a system line, as they were called then.
type NoteAgent struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
}

// Entry kinds.
const (
	EntryMessage = "message"
	EntryNote    = "note"
)

// Author names who wrote an entry.
type Author struct {
	Kind string `json:"kind"` // visitor, agent, system
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Author kinds.
const (
	AuthorVisitor = "visitor"
	AuthorAgent   = "agent"
	AuthorSystem  = "system"
)

// TransferInfo is a transfer or take-over, pending or resolved.
type TransferInfo struct {
	ID        int64      `json:"id"`
	Session   string     `json:"session"`
	Channel   string     `json:"channel"`
	Kind      string     `json:"kind"` // transfer, takeover
	From      AgentInfo  `json:"from"`
	To        AgentInfo  `json:"to"`
	By        AgentInfo  `json:"by"` // who started it: the owner, or a supervisor
	ToQueue   bool       `json:"to_queue,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	State     string     `json:"state"`            // pending, accepted, rejected, cancelled, expired, voided
	Reason    string     `json:"reason,omitempty"` // why voided: a code as in NoteParams.Reason
	StartedAt time.Time  `json:"started_at"`
	Deadline  *time.Time `json:"deadline,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Visitor   string     `json:"visitor,omitempty"`
}

// Transfer states.
const (
	TransferPending   = "pending"
	TransferAccepted  = "accepted"
	TransferRejected  = "rejected"
	TransferCancelled = "cancelled"
	TransferExpired   = "expired"
	TransferVoided    = "voided"
)

// QueueItem is a waiting chat.
type QueueItem struct {
	Session  string    `json:"session"`
	Channel  string    `json:"channel"`
	Visitor  string    `json:"visitor"`
	Question string    `json:"question,omitempty"`
	Since    time.Time `json:"since"`
	// Position is the chat's place in its channel's queue (1 = next) when
	// the item was sent.
	Position int `json:"position"`
}

// QueueEvent is a change to one channel's waiting list, never the whole
// list (the welcome carries that). Apply it with ApplyQueue: drop the
// Removed sessions, then insert the Added items at their positions.
type QueueEvent struct {
	Channel string      `json:"channel"`
	Removed []string    `json:"removed"`
	Added   []QueueItem `json:"added"` // by Position, lowest first
}

// ChannelsEvent replaces an agent's channels and queue, as in the welcome,
// after their permissions changed.
type ChannelsEvent struct {
	Channels []ChannelInfo `json:"channels"`
	Queue    []QueueItem   `json:"queue"`
}

// Position tells a waiting visitor where they stand.
type Position struct {
	Position      int `json:"position"`         // 1 = next
	EstimatedWait int `json:"estimated_wait_s"` // from recent waits in the channel
}

// PresenceEvent lists agents' status and load.
type PresenceEvent struct {
	Agents []AgentInfo `json:"agents"`
}

// WarningEvent announces a chat that waits too long.
type WarningEvent struct {
	Session string `json:"session"`
	Channel string `json:"channel"`
	Level   string `json:"level"` // waiting, manager
	Visitor string `json:"visitor"`
	Waited  int    `json:"waited_s"`
}

// TypingEvent says who is typing.
type TypingEvent struct {
	Who string `json:"who"` // visitor, or the agent's name
}

// Payloads of commands.

// StatusSet is the payload of status.set.
type StatusSet struct {
	Status string `json:"status"`
}

// SessionRef names one session.
type SessionRef struct {
	Session string `json:"session"`
}

// SessionLog asks for a session's log after a seq.
type SessionLog struct {
	Session string `json:"session"`
	After   uint64 `json:"after"`
}

// MessageSend writes a message in a chat; ClientID makes a resend safe.
// File attaches a file uploaded through file.upload (Text may then be
// empty).
type MessageSend struct {
	Session  string `json:"session"`
	ClientID string `json:"client_id"`
	Text     string `json:"text"`
	File     string `json:"file,omitempty"`
}

// MessageAck answers message.send once the message is durably stored.
type MessageAck struct {
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"` // the client id was seen before; Seq is the original
}

// TransferStart offers a chat to an agent or to the channel's queue.
type TransferStart struct {
	Session string `json:"session"`
	To      int64  `json:"to,omitempty"`    // an agent id, or
	Queue   bool   `json:"queue,omitempty"` // the channel's queue: the least-loaded Present agent is offered it
	Comment string `json:"comment,omitempty"`
}

// TransferRef names one transfer.
type TransferRef struct {
	Transfer int64 `json:"transfer"`
}

// TransferHistory asks for the transfers of a session, or of an agent.
type TransferHistory struct {
	Session string `json:"session,omitempty"`
	Agent   int64  `json:"agent,omitempty"`
}

// RequestCreate files a request from a chat.
type RequestCreate struct {
	Session string `json:"session"`
	Title   string `json:"title"`
}

// RequestCreated answers request.create and offline.submit.
type RequestCreated struct {
	Number int64 `json:"number"` // the desk words the line for the visitor in its own language
}

// ChatStart is the visitor's pre-chat form (and the offline form's payload).
type ChatStart struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Question string `json:"question"`
}

// ChatStarted answers chat.start; the visitor keeps Token to resume.
// Session is the new chat's id, as everywhere else; Chat is the chat as the
// visitor sees it.
type ChatStarted struct {
	Session  string      `json:"session"`
	Token    string      `json:"token"`
	Chat     SessionInfo `json:"chat"`
	Position *Position   `json:"position,omitempty"` // only while waiting
}

type OfflineSubmit = ChatStart

// Dashboard is the live picture for supervisors.
type Dashboard struct {
	At        time.Time        `json:"at"`
	Overall   Figures          `json:"overall"`
	History   []Sample         `json:"history"` // all watched channels, per minute, last hour
	Channels  []ChannelFigures `json:"channels"`
	Agents    []AgentInfo      `json:"agents"`
	Sessions  []DashSession    `json:"sessions"`
	Transfers []TransferInfo   `json:"transfers"` // recent, newest first
}

// Figures are the tiles of one channel or of all.
type Figures struct {
	Waiting     int            `json:"waiting"`
	LongestWait int            `json:"longest_wait_s"`
	Present     int            `json:"present"`
	Active      int            `json:"active"`
	ChatsToday  int            `json:"chats_today"`
	Transfers   map[string]int `json:"transfers_today"` // by outcome
	// OpenRequests counts requests not closed (offline messages, tickets).
	OpenRequests int `json:"open_requests"`
}

// ChannelFigures are Figures of one channel.
type ChannelFigures struct {
	Channel string `json:"channel"`
	Name    string `json:"name"`
	Figures
	// History is one sample per minute over the last hour, oldest first.
	History []Sample `json:"history"`
}

// Sample is the queue of a channel (or of all) during one minute: the most
// visitors waiting at once and the longest wait seen.
type Sample struct {
	At          time.Time `json:"at"` // the minute's start
	Waiting     int       `json:"waiting"`
	LongestWait int       `json:"longest_wait_s"`
}

// DashSession is one ongoing session on the dashboard.
type DashSession struct {
	ID          string     `json:"id"`
	Channel     string     `json:"channel"`
	State       string     `json:"state"`
	Visitor     string     `json:"visitor"`
	Owner       *AgentInfo `json:"owner,omitempty"`
	Since       time.Time  `json:"since"` // queued at, or answered at
	LastVisitor *time.Time `json:"last_visitor_at,omitempty"`
	Transfer    string     `json:"transfer,omitempty"` // pending transfer state
	Warning     string     `json:"warning,omitempty"`  // waiting, manager
}

// Close codes the relay ends an agent's connection with when the sign-in
// it stands on has ended. The client must not reconnect with its token: it
// asks for the password again.
const (
	// CloseLoggedOut: the connection logged out.
	CloseLoggedOut = 4001
	// CloseRevoked: signed out because the credentials were revoked: the
	// password was changed, the account disabled, or the session that handed
	// this sign-in over (token.handover) logged out.
	CloseRevoked = 4002
)

// CloseNoChat closes a visitor connection that started no chat in time (the
// relay's visitor_idle setting): reconnect when the visitor comes back.
const CloseNoChat = 4003

// Handover answers token.handover: a token valid once, for HandoverTTL
// seconds, that a second window (the dashboard) logs in with, so the login
// never travels on a command line or in an environment.
type Handover struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in_s"`
}
