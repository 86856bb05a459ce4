package protocol

//go:generate go run ./gen

// The registry declares, once, what each command takes and answers and
// which error codes it may answer, and what each event carries. The relay
// knows a command by it (Known), and the generator (backend/protocol/gen)
// writes the JSON Schema, the UI's TypeScript types and the reference
// tables of docs/protocol.md from it.

// Empty is the data of a reply that says nothing but ok.
type Empty struct{}

// OneOf is a reply whose data is one of several types (hello's welcome).
type OneOf []any

// SessionLogReply answers session.log.
type SessionLogReply struct {
	Entries []Entry `json:"entries"`
	More    bool    `json:"more"` // more entries follow: ask again after the last seq
}

// CommandSpec is one command as one role uses it.
type CommandSpec struct {
	Name   string
	Role   string // RoleAgent, RoleVisitor, or "" for either (and before hello)
	Data   any    // a zero value of the payload type; nil: no data
	Reply  any    // a zero value of the reply's data type
	Errors []Code // codes it may answer besides CommonErrors
	Doc    string // what it does and what the reply means
}

// EventSpec is one event.
type EventSpec struct {
	Name    string
	Data    any
	Session bool // the frame names the session
	Seq     bool // the frame carries the entry's seq
	To      string
	Doc     string
}

// CommonErrors may answer any command: a broken payload, the rate limit,
// a relay that cannot write or failed.
var CommonErrors = []Code{CodeMalformed, CodeRateLimited, CodeUnavailable, CodeInternal}

// CodeDocs describes the codes declared without a comment.
var CodeDocs = map[Code]string{
	CodeVersion: "hello named another protocol version",
}

// Session-scoped refusals most agent commands on a chat share.
var chatErrors = []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeNotParticipant, CodeInvalidState}

func codes(groups ...[]Code) []Code {
	var out []Code
	seen := map[Code]bool{}
	for _, g := range groups {
		for _, c := range g {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Commands lists every command, agents' first, in the order of the reference.
var Commands = []CommandSpec{
	{Name: CmdHello, Data: Hello{}, Reply: OneOf{AgentWelcome{}, VisitorWelcome{}},
		Errors: []Code{CodeBadRequest, CodeVersion, CodeBadCredentials, CodeNotFound, CodeAlreadyHello},
		Doc:    "The first frame of every connection: authentication and resume. Agents get an AgentWelcome, visitors a VisitorWelcome."},
	{Name: CmdPing, Reply: Empty{},
		Doc: "An application-level round trip, for clients that cannot see websocket pongs."},
	{Name: CmdStatusSet, Role: RoleAgent, Data: StatusSet{}, Reply: AgentInfo{},
		Errors: []Code{CodeBadRequest},
		Doc:    "Present or away; the reply is the agent as others now see them."},
	{Name: CmdQueueNext, Role: RoleAgent, Reply: SessionInfo{},
		Errors: []Code{CodeQueueEmpty, CodeForbidden},
		Doc:    "Take the oldest waiting chat of any channel the agent may answer."},
	{Name: CmdSessionPick, Role: RoleAgent, Data: SessionRef{}, Reply: SessionInfo{},
		Errors: chatErrors,
		Doc:    "Take a given waiting chat (needs respond)."},
	{Name: CmdSessionEnd, Role: RoleAgent, Data: SessionRef{}, Reply: SessionInfo{},
		Errors: codes(chatErrors, []Code{CodeListenOnly}),
		Doc:    "End a chat (its owner, or a manager)."},
	{Name: CmdSessionLeave, Role: RoleAgent, Data: SessionRef{}, Reply: SessionInfo{},
		Errors: chatErrors,
		Doc:    "\"Close window\" for a listener: stop listening. The reply is the session without a role."},
	{Name: CmdSessionListen, Role: RoleAgent, Data: SessionRef{}, Reply: SessionInfo{},
		Errors: chatErrors,
		Doc:    "Listen silently (needs listen or manage): nobody is told."},
	{Name: CmdSessionTakeover, Role: RoleAgent, Data: SessionRef{}, Reply: SessionInfo{},
		Errors: chatErrors,
		Doc:    "Become owner at once (needs manage); the former owner listens and is told."},
	{Name: CmdSessionLog, Role: RoleAgent, Data: SessionLog{}, Reply: SessionLogReply{},
		Errors: []Code{CodeNotFound, CodeForbidden},
		Doc:    "Up to 2,000 entries after `after`; `more` says whether to ask again."},
	{Name: CmdMessageSend, Role: RoleAgent, Data: MessageSend{}, Reply: MessageAck{},
		Errors: codes(chatErrors, []Code{CodeListenOnly, CodeTooLarge, CodeFileGone}),
		Doc:    "Write in a chat (only its owner, while active). The reply comes once the message is stored; a resend with the same client_id answers the original seq with duplicate. With file, the message carries that upload (not_found: no file of yours stored for this chat; file_gone: purged)."},
	{Name: CmdFileUpload, Role: RoleAgent, Data: FileUpload{}, Reply: FileSlot{},
		Errors: codes(chatErrors, []Code{CodeListenOnly, CodeTooLarge}),
		Doc:    "Ask for a one-time upload URL in a chat you may write in (as message.send). forbidden: the channel takes no attachments; too_large: size over the channel's max_bytes. PUT the bytes to upload_url, then send the message with file."},
	{Name: CmdFileURL, Role: RoleAgent, Data: FileURLRequest{}, Reply: FileURL{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeFileGone},
		Doc:    "Short-lived download URLs of a file sent in a chat you may read (owner, listener, offered receiver, watcher with listen or manage)."},
	{Name: CmdTyping, Role: RoleAgent, Data: SessionRef{}, Reply: Empty{},
		Errors: []Code{CodeNotParticipant},
		Doc:    "The visitor sees that the owner is typing."},
	{Name: CmdTransferTargets, Role: RoleAgent, Data: SessionRef{}, Reply: []AgentInfo{},
		Errors: chatErrors,
		Doc:    "Present agents with respond in the chat's channel, not the owner, least loaded first."},
	{Name: CmdTransferStart, Role: RoleAgent, Data: TransferStart{}, Reply: TransferInfo{},
		Errors: codes(chatErrors, []Code{CodeListenOnly, CodeTransferPending, CodeInvalidTarget, CodeNoAgent, CodeTooLarge}),
		Doc:    "Offer the chat to an agent (`to`) or to the channel's queue (`queue`: the least-loaded Present agent is offered it), with an optional comment; the reply is the pending transfer."},
	{Name: CmdTransferAccept, Role: RoleAgent, Data: TransferRef{}, Reply: TransferInfo{},
		Errors: []Code{CodeNotFound, CodeForbidden, CodeInvalidState},
		Doc:    "The receiver takes the chat; the former owner listens. The reply is the resolved transfer."},
	{Name: CmdTransferReject, Role: RoleAgent, Data: TransferRef{}, Reply: TransferInfo{},
		Errors: []Code{CodeNotFound, CodeForbidden, CodeInvalidState},
		Doc:    "The receiver declines; nothing else changes."},
	{Name: CmdTransferCancel, Role: RoleAgent, Data: TransferRef{}, Reply: TransferInfo{},
		Errors: []Code{CodeNotFound, CodeForbidden, CodeInvalidState},
		Doc:    "Whoever started the transfer withdraws it."},
	{Name: CmdTransferHistory, Role: RoleAgent, Data: TransferHistory{}, Reply: []TransferInfo{},
		Errors: []Code{CodeForbidden},
		Doc:    "Transfers and take-overs of a session, or of an agent (default: yourself), newest first."},
	{Name: CmdRequestCreate, Role: RoleAgent, Data: RequestCreate{}, Reply: RequestCreated{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeTooLarge},
		Doc:    "File a request from a chat; `line` is a sentence to send the visitor."},
	{Name: CmdRequestList, Role: RoleAgent, Data: RequestList{}, Reply: RequestListReply{},
		Errors: []Code{CodeBadRequest, CodeForbidden},
		Doc:    "The requests of a channel (none: every channel you may read) in one state (none: all but closed), oldest first unless newest; `mail` says whether answers can go by e-mail."},
	{Name: CmdRequestGet, Role: RoleAgent, Data: RequestRef{}, Reply: RequestDetail{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden},
		Doc:    "One request with its transcript and its whole history."},
	{Name: CmdRequestClaim, Role: RoleAgent, Data: RequestRef{}, Reply: RequestInfo{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeListenOnly, CodeInvalidState},
		Doc:    "Take an open request (needs respond)."},
	{Name: CmdRequestAnswer, Role: RoleAgent, Data: RequestAnswer{}, Reply: RequestInfo{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeListenOnly, CodeNotParticipant, CodeTooLarge, CodeMailNotConfigured},
		Doc:    "Answer by e-mail, or with manual record an answer sent by hand."},
	{Name: CmdRequestClose, Role: RoleAgent, Data: RequestRef{}, Reply: RequestInfo{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeListenOnly, CodeNotParticipant, CodeInvalidState},
		Doc:    "Done with a request."},
	{Name: CmdRequestAssign, Role: RoleAgent, Data: RequestAssign{}, Reply: RequestInfo{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeInvalidState, CodeInvalidTarget},
		Doc:    "A manager gives a request to an agent with respond."},
	{Name: CmdDashboardWatch, Role: RoleAgent, Reply: Dashboard{},
		Errors: []Code{CodeForbidden},
		Doc:    "The dashboard now, then dashboard events (needs listen or manage)."},
	{Name: CmdDashboardUnwatch, Role: RoleAgent, Reply: Empty{},
		Doc: "No more dashboard events."},
	{Name: CmdTokenHandover, Role: RoleAgent, Reply: Handover{},
		Errors: []Code{CodeBadCredentials},
		Doc:    "A one-time token, valid 60 s, for a second window of the same agent; its logout revokes it."},
	{Name: CmdQuickRepliesGet, Role: RoleAgent, Reply: QuickReplies{},
		Doc: "The agent's own quick replies, in their order."},
	{Name: CmdQuickRepliesSet, Role: RoleAgent, Data: QuickReplies{}, Reply: QuickReplies{},
		Errors: []Code{CodeBadRequest, CodeTooLarge, CodeForbidden},
		Doc:    "Replace the whole list; the reply is the list as stored, and the agent's other connections get a quickreplies event."},
	{Name: CmdLogout, Role: RoleAgent, Reply: Empty{},
		Doc: "Revoke the token (and those it handed over) and close the connection with 4001."},
	{Name: CmdChatStart, Role: RoleVisitor, Data: ChatStart{}, Reply: ChatStarted{},
		Errors: []Code{CodeBadRequest, CodeTooLarge, CodeNotFound, CodeInvalidState, CodeChannelClosed},
		Doc:    "Start a chat from the pre-chat form; keep the token to resume. channel_closed: use the offline form."},
	{Name: CmdOfflineSubmit, Role: RoleVisitor, Data: ChatStart{}, Reply: RequestCreated{},
		Errors: []Code{CodeBadRequest, CodeTooLarge, CodeNotFound, CodeForbidden, CodeInvalidState},
		Doc:    "Leave a message when no chat can be started: it becomes a request. invalid_state while a chat can be started."},
	{Name: CmdMessageSend, Role: RoleVisitor, Data: MessageSend{}, Reply: MessageAck{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeInvalidState, CodeTooLarge, CodeFileGone},
		Doc:    "Write in the visitor's own chat; with file, as for agents."},
	{Name: CmdFileUpload, Role: RoleVisitor, Data: FileUpload{}, Reply: FileSlot{},
		Errors: []Code{CodeBadRequest, CodeForbidden, CodeInvalidState, CodeTooLarge},
		Doc:    "Ask for a one-time upload URL in the visitor's own chat."},
	{Name: CmdFileURL, Role: RoleVisitor, Data: FileURLRequest{}, Reply: FileURL{},
		Errors: []Code{CodeBadRequest, CodeNotFound, CodeForbidden, CodeFileGone},
		Doc:    "Short-lived download URLs of a file sent in the visitor's own chat (not of staff lines)."},
	{Name: CmdSessionEnd, Role: RoleVisitor, Data: SessionRef{}, Reply: Empty{},
		Errors: []Code{CodeForbidden, CodeInvalidState},
		Doc:    "The visitor leaves the chat."},
	{Name: CmdTyping, Role: RoleVisitor, Data: SessionRef{}, Reply: Empty{},
		Errors: []Code{CodeForbidden, CodeInvalidState},
		Doc:    "The agents of the chat see that the visitor is typing."},
}

// Events lists every event.
var Events = []EventSpec{
	{Name: EvEntry, Data: Entry{}, Session: true, Seq: true,
		To:  "the session's visitor, owner, listeners and offered receiver",
		Doc: "One line of a session's log."},
	{Name: EvSession, Data: SessionInfo{}, Session: true,
		To:  "agents involved before and after a change; the visitor",
		Doc: "The session as that viewer sees it; without a role, the viewer no longer takes part."},
	{Name: EvTransfer, Data: TransferInfo{}, Session: true,
		To:  "the owner, the receiver, and whoever started it",
		Doc: "A transfer offered or resolved."},
	{Name: EvQueue, Data: QueueEvent{},
		To:  "agents with respond in the channel",
		Doc: "What changed in one channel's waiting list (apply it with ApplyQueue)."},
	{Name: EvPosition, Data: Position{}, Session: true,
		To:  "a waiting visitor, when their place or estimate changed",
		Doc: "The visitor's place in the queue."},
	{Name: EvPresence, Data: PresenceEvent{},
		To:  "the agent's own connections; agents who share a channel, at most once per tick",
		Doc: "Agents whose status or load changed."},
	{Name: EvWarning, Data: WarningEvent{}, Session: true,
		To:  "Present agents with notify (waiting), Present managers (manager)",
		Doc: "A chat waits past the channel's warning delay."},
	{Name: EvTyping, Data: TypingEvent{}, Session: true,
		To:  "the other side of the chat",
		Doc: "Someone is typing."},
	{Name: EvDashboard, Data: Dashboard{},
		To:  "dashboard watchers, at most once a second",
		Doc: "The live figures."},
	{Name: EvQuickReplies, Data: QuickReplies{},
		To:  "the agent's other connections, after a quickreplies.set",
		Doc: "The agent's new list of quick replies."},
	{Name: EvChannels, Data: ChannelsEvent{},
		To:  "an agent whose permissions changed",
		Doc: "Their channels and the waiting chats they may see now, replacing the welcome's."},
	{Name: EvRequest, Data: RequestEvent{},
		To:  "agents with respond, listen or manage in the request's channel",
		Doc: "A request was made or changed, or waits unclaimed too long."},
}

// Enum is a closed set of string values, and the fields that take them.
type Enum struct {
	Name   string
	Values []string
	Fields []FieldRef
	// OrEmpty are fields that take one of the values or "" (an agent's
	// status as a visitor sees it).
	OrEmpty []FieldRef
}

// FieldRef names a field of a wire type by its JSON name.
type FieldRef struct {
	Type  any
	Field string
}

// Enums are the value sets of string fields.
var Enums = []Enum{
	{Name: "AgentStatus", Values: []string{StatusPresent, StatusAway, StatusOffline},
		OrEmpty: []FieldRef{{AgentInfo{}, "status"}}},
	{Name: "ChosenStatus", Values: []string{StatusPresent, StatusAway},
		Fields: []FieldRef{{StatusSet{}, "status"}}},
	{Name: "Role", Values: []string{RoleAgent, RoleVisitor},
		Fields: []FieldRef{{Hello{}, "role"}}},
	{Name: "Perm", Values: []string{"respond", "notify", "listen", "manage"},
		Fields: []FieldRef{{ChannelInfo{}, "perms"}}},
	{Name: "SessionState", Values: []string{StateQueued, StateActive, StateEnded},
		Fields: []FieldRef{{SessionInfo{}, "state"}, {DashSession{}, "state"}}},
	{Name: "ViewerRole", Values: []string{ViewOwner, ViewListener, ViewOffered, ViewVisitor, ViewWatcher},
		Fields: []FieldRef{{SessionInfo{}, "role"}}},
	{Name: "WarningLevel", Values: []string{"waiting", "manager"},
		Fields: []FieldRef{{WarningEvent{}, "level"}, {DashSession{}, "warning"}, {RequestEvent{}, "warning"}}},
	{Name: "EntryKind", Values: []string{EntryMessage, EntryNote},
		Fields: []FieldRef{{Entry{}, "kind"}}},
	{Name: "AuthorKind", Values: []string{AuthorVisitor, AuthorAgent, AuthorSystem},
		Fields: []FieldRef{{Author{}, "kind"}}},
	{Name: "TransferState", Values: []string{TransferPending, TransferAccepted, TransferRejected, TransferCancelled, TransferExpired, TransferVoided},
		Fields: []FieldRef{{TransferInfo{}, "state"}}},
	{Name: "TransferKind", Values: []string{"transfer", "takeover"},
		Fields: []FieldRef{{TransferInfo{}, "kind"}}},
	{Name: "RequestState", Values: []string{RequestOpen, RequestClaimed, RequestAnswered, RequestClosed},
		Fields: []FieldRef{{RequestInfo{}, "state"}}},
	{Name: "RequestOrigin", Values: []string{OriginOffline, OriginChat},
		Fields: []FieldRef{{RequestInfo{}, "origin"}}},
	{Name: "RequestAction", Values: []string{StepCreated, StepClaimed, StepAssigned, StepAnswered, StepClosed, StepMailSent, StepMailFailed},
		Fields: []FieldRef{{RequestStep{}, "action"}}},
}

// known holds every command name of this version.
var known = func() map[string]bool {
	m := make(map[string]bool, len(Commands))
	for _, c := range Commands {
		m[c.Name] = true
	}
	return m
}()
