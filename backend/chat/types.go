// Package chat is Switchboard's domain: agents and their presence, channels
// and their queues, sessions with exactly one owner, listeners, and the
// transfer handshake. It is pure: every method takes the current time and a
// command, changes the Desk and returns the effects the relay must persist and
// deliver, or a typed *Error and no change at all. It does no I/O and starts no
// goroutines; the relay serialises calls.
package chat

import (
	"time"
)

// AgentID identifies an agent (the store's row id).
type AgentID int64

// ChannelID is a channel's key, e.g. "support".
type ChannelID string

// SessionID identifies a chat session; the relay makes them.
type SessionID string

// TransferID numbers transfers and take-overs, increasing.
type TransferID int64

// Perm is a set of per-channel permissions.
type Perm uint8

const (
	PermRespond Perm = 1 << iota // answer chats, receive transfers
	PermNotify                   // new-chat and waiting warnings
	PermListen                   // listen to chats, see the dashboard
	PermManage                   // take over, transfer on someone's behalf, manager warnings
)

// Has reports whether p includes all of q.
func (p Perm) Has(q Perm) bool { return p&q == q }

// Names lists the permissions by name, in a fixed order.
func (p Perm) Names() []string {
	var out []string
	for _, n := range permNames {
		if p.Has(n.p) {
			out = append(out, n.name)
		}
	}
	return out
}

var permNames = []struct {
	name string
	p    Perm
}{{"respond", PermRespond}, {"notify", PermNotify}, {"listen", PermListen}, {"manage", PermManage}}

// ParsePerms reads names like "respond,notify".
func ParsePerms(names []string) (Perm, bool) {
	var p Perm
	for _, s := range names {
		found := false
		for _, n := range permNames {
			if n.name == s {
				p |= n.p
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return p, true
}

// Status is an agent's availability.
type Status uint8

const (
	Offline Status = iota // no live connection
	Away                  // connected, not taking new chats or warnings
	Present               // connected and available
)

func (s Status) String() string {
	switch s {
	case Present:
		return "present"
	case Away:
		return "away"
	default:
		return "offline"
	}
}

// ParseStatus reads "present" or "away"; Offline cannot be chosen.
func ParseStatus(s string) (Status, bool) {
	switch s {
	case "present":
		return Present, true
	case "away":
		return Away, true
	}
	return Offline, false
}

// Agent is a person answering chats.
type Agent struct {
	ID       AgentID
	Login    string
	Name     string
	Disabled bool
	Perms    map[ChannelID]Perm
	// Chosen is what the agent picked (Present or Away); it applies while at
	// least one connection is alive.
	Chosen Status
	// Conns counts live connections: the main window and a dashboard window
	// are one agent.
	Conns        int
	OfflineSince time.Time
}

// Status is the effective status.
func (a *Agent) Status() Status {
	if a.Conns == 0 {
		return Offline
	}
	return a.Chosen
}

// Can reports whether the agent holds p in channel c.
func (a *Agent) Can(c ChannelID, p Perm) bool {
	return !a.Disabled && a.Perms[c].Has(p)
}

// CanWatch reports listen-or-manage in c: a manager may watch what they steer.
func (a *Agent) CanWatch(c ChannelID) bool {
	return a.Can(c, PermListen) || a.Can(c, PermManage)
}

// Channel is a topic with its own widget, hours and timers.
type Channel struct {
	ID          ChannelID
	Name        string
	Hours       Hours
	OfflineForm bool
	// WarnAfter: a chat waiting longer is announced to Present agents with
	// notify. ManagerWarnAfter: then to agents with manage. Zero disables.
	WarnAfter        time.Duration
	ManagerWarnAfter time.Duration
	// TransferTimeout: a pending transfer expires after it; zero waits for a
	// manual cancel.
	TransferTimeout time.Duration
	Templates       []string
	// Language of what visitors receive from the channel by e-mail: "en" or "sv".
	Language string
	// Files: what attachments the channel takes.
	Files FileRules
}

// DefaultTransferTimeout is the accept timeout of a new channel.
const DefaultTransferTimeout = 120 * time.Second

// State is a session's life stage.
type State uint8

const (
	Queued State = iota + 1
	Active
	Ended
)

func (s State) String() string {
	switch s {
	case Queued:
		return "queued"
	case Active:
		return "active"
	case Ended:
		return "ended"
	}
	return "unknown"
}

// Visitor is what the pre-chat form collected.
type Visitor struct {
	Name  string
	Email string
}

// Session is one chat.
type Session struct {
	ID       SessionID
	Channel  ChannelID
	State    State
	Visitor  Visitor
	Question string
	// TokenHash authenticates the visitor (a hash; the token is theirs).
	TokenHash string
	Owner     AgentID
	// Listeners receive everything and may send nothing: former owners in
	// listen mode and supervisors. Never the owner.
	Listeners []AgentID
	// Pending is the open transfer, at most one.
	Pending TransferID
	// Rank orders the channel's queue; lower is served first. A chat that
	// comes back from an agent who went offline goes to the head.
	Rank int64
	// Seq is the last sequence number given to an entry.
	Seq uint64

	CreatedAt   time.Time
	QueuedAt    time.Time
	AnsweredAt  time.Time
	EndedAt     time.Time
	EndedBy     string // agent, visitor, idle
	LastVisitor time.Time
	LastAgent   time.Time

	// VisitorConns counts the visitor's live connections; VisitorGoneAt is
	// when the last one closed.
	VisitorConns  int
	VisitorGoneAt time.Time
	// Warned is the highest warning level sent for the current wait.
	Warned WarnLevel

	// recent remembers the last client message ids so a resend is stored once.
	recent dedup
}

// IsListener reports whether a listens to the session.
func (s *Session) IsListener(a AgentID) bool {
	for _, l := range s.Listeners {
		if l == a {
			return true
		}
	}
	return false
}

// Clone copies s for hand-off to the store, leaving the desk free to move on.
func (s *Session) Clone() Session {
	c := *s
	c.Listeners = append([]AgentID(nil), s.Listeners...)
	c.recent = dedup{}
	return c
}

// WarnLevel is the level of a waiting warning.
type WarnLevel uint8

const (
	WarnNone WarnLevel = iota
	WarnWaiting
	WarnManager
)

func (w WarnLevel) String() string {
	switch w {
	case WarnWaiting:
		return "waiting"
	case WarnManager:
		return "manager"
	}
	return ""
}

// Author kinds of entries.
const (
	ByVisitor = "visitor"
	ByAgent   = "agent"
	BySystem  = "system"
)

// Entry kinds.
const (
	KindMessage = "message"
	KindNote    = "note"
)

// Entry is one line of a session's log.
type Entry struct {
	Seq        uint64
	At         time.Time
	Kind       string // message, note
	AuthorKind string // visitor, agent, system
	Author     AgentID
	AuthorName string
	ClientID   string
	// Text is what a visitor or agent wrote. System lines leave it empty:
	// they say what happened by Note and Params, and every client words
	// them in its own language. (Lines stored before codes existed keep
	// their English text and no code; clients show that text.)
	Text string
	// Staff entries (transfer notes) are never shown to the visitor.
	Staff bool
	// Note is the code of a system line (one of the Note* codes); Params
	// are who and what it names. AuthorName then holds the agent a
	// visitor-visible line is about, for clients that predate Params.
	Note   string
	Params NoteParams
	// File is the attachment a message carries; nil for none.
	File *Attachment
}

// Party names an agent in a system line, as they were called then.
type Party struct {
	ID   AgentID
	Name string
}

// NoteParams are what a system line names. Which fields a code fills is
// listed with the codes.
type NoteParams struct {
	Agent   Party  // the agent the line (or its Reason) is about
	From    Party  // transfer lines: the owner when it started
	To      Party  // the receiver
	By      Party  // who started the transfer, or took the chat over
	Comment string // transfer_offered: the starter's comment
	Reason  string // transfer_voided: one of the Void* codes
}

// Codes of the system lines a visitor sees. Their Agent is named without
// an id: the visitor needs no agent ids.
const (
	NoteJoined       = "joined"       // Agent has joined the chat
	NoteEndedByAgent = "ended_agent"  // Agent ended the chat
	NoteVisitorLeft  = "visitor_left" // the visitor left the chat
	NoteLeftQueue    = "left_queue"   // the visitor left while waiting
	NoteIdleClosed   = "idle_closed"  // closed after a period without messages
	NoteRequeued     = "requeued"     // Agent is no longer available; back in the queue
)

// Codes of the staff lines (transfer notes), never shown to the visitor.
const (
	NoteTransferOffered   = "transfer_offered"   // By asked To to take over (From's chat when By is not From); Comment
	NoteTransferAccepted  = "transfer_accepted"  // To accepted the transfer (from From, started by By)
	NoteTransferRejected  = "transfer_rejected"  // To rejected the transfer (from From, started by By)
	NoteTransferCancelled = "transfer_cancelled" // By cancelled the transfer to To
	NoteTransferExpired   = "transfer_expired"   // the transfer to To expired unanswered
	NoteTransferVoided    = "transfer_voided"    // the transfer to To was voided: Reason (about Agent)
	NoteTookOver          = "took_over"          // By took over the chat from From
)

// Why a transfer was voided (Transfer.Reason, and Params.Reason of its
// line), and why a chat went back to the queue.
const (
	VoidChatEnded       = "chat_ended"       // the session ended
	VoidReceiverOffline = "receiver_offline" // the receiver (Agent) stayed Offline past the grace period
	VoidReceiverRevoked = "receiver_revoked" // the receiver may no longer answer chats in the channel
	VoidOwnerOffline    = "owner_offline"    // the owner (Agent) stayed Offline; the chat went back to the queue
	VoidOwnerRevoked    = "owner_revoked"    // the owner (Agent) may no longer answer here; back to the queue
	VoidTakenOver       = "taken_over"       // a manager (Agent) took the chat over
)

// VisitorNotes, StaffNotes and VoidReasons list every code, so that each
// client's wording can be checked to cover them all.
var (
	VisitorNotes = []string{NoteJoined, NoteEndedByAgent, NoteVisitorLeft, NoteLeftQueue, NoteIdleClosed, NoteRequeued}
	StaffNotes   = []string{NoteTransferOffered, NoteTransferAccepted, NoteTransferRejected, NoteTransferCancelled,
		NoteTransferExpired, NoteTransferVoided, NoteTookOver}
	VoidReasons = []string{VoidChatEnded, VoidReceiverOffline, VoidReceiverRevoked, VoidOwnerOffline, VoidOwnerRevoked, VoidTakenOver}
)

// TransferState is where a transfer stands.
type TransferState uint8

const (
	TransferPending TransferState = iota + 1
	TransferAccepted
	TransferRejected
	TransferCancelled
	TransferExpired
	TransferVoided
)

func (s TransferState) String() string {
	switch s {
	case TransferPending:
		return "pending"
	case TransferAccepted:
		return "accepted"
	case TransferRejected:
		return "rejected"
	case TransferCancelled:
		return "cancelled"
	case TransferExpired:
		return "expired"
	case TransferVoided:
		return "voided"
	}
	return "unknown"
}

// Outcomes lists the final states, for figures.
var Outcomes = []TransferState{TransferAccepted, TransferRejected, TransferCancelled, TransferExpired, TransferVoided}

// Transfer kinds.
const (
	KindTransfer = "transfer"
	KindTakeover = "takeover"
)

// Transfer is a hand-off of a session: a transfer (with the handshake) or a
// take-over (immediate). Both are kept as the session's history.
type Transfer struct {
	ID      TransferID
	Session SessionID
	Channel ChannelID
	Kind    string
	From    AgentID // the owner when it started
	To      AgentID // the receiver
	By      AgentID // who started it: the owner or a supervisor
	ToQueue bool
	Comment string
	State   TransferState
	Reason  string // why voided: one of the Void* codes
	Started time.Time
	// Deadline is when a pending transfer expires; zero = never.
	Deadline time.Time
	Ended    time.Time
	// ReceiverGoneAt is set while the receiver is Offline.
	ReceiverGoneAt time.Time
}

// Duration is how long the transfer was open (to now when still pending).
func (t *Transfer) Duration(now time.Time) time.Duration {
	if t.Ended.IsZero() {
		return now.Sub(t.Started)
	}
	return t.Ended.Sub(t.Started)
}

// Request is a ticket: made from a chat by an agent, or by the offline form.
type Request struct {
	Number    int64
	Channel   ChannelID
	Session   SessionID // empty for the offline form
	Title     string
	Visitor   Visitor
	Question  string
	CreatedBy AgentID // zero for the offline form
	CreatedAt time.Time
	// Follow-up: see requests.go.
	State     RequestState
	Assignee  AgentID
	UpdatedAt time.Time
	// Warned: managers heard it waits unclaimed (kept in memory only: a
	// restart may warn once more).
	Warned bool
}
