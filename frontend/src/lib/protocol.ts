// TypeScript mirror of the relay's wire types (backend/protocol/protocol.go,
// docs/protocol.md). The Go side forwards these payloads unchanged inside
// relay:event and in the welcome; times are RFC 3339 strings.

export type AgentStatus = 'present' | 'away' | 'offline'
export type Perm = 'respond' | 'notify' | 'listen' | 'manage'
export type SessionState = 'queued' | 'active' | 'ended'
export type ViewerRole = 'owner' | 'listener' | 'offered' | 'visitor' | 'watcher' | ''
export type TransferState = 'pending' | 'accepted' | 'rejected' | 'cancelled' | 'expired' | 'voided'

export interface AgentInfo {
  id: number
  login?: string
  name: string
  status: AgentStatus | string
  /** Active chats owned. */
  load: number
}

export interface ChannelInfo {
  key: string
  name: string
  open: boolean
  offline_form: boolean
  perms?: Perm[] | string[]
  /** Seconds a transfer waits to be accepted; 0 = until cancelled. */
  transfer_timeout_s: number
  templates?: string[]
}

export interface VisitorInfo {
  name: string
  email?: string
}

export interface SessionInfo {
  id: string
  channel: string
  state: SessionState | string
  visitor: VisitorInfo
  question?: string
  owner?: AgentInfo | null
  role?: ViewerRole | string
  transfer?: TransferInfo | null
  /** Last seq in the session's log. */
  seq: number
  created_at: string
  queued_at: string
  answered_at?: string | null
  ended_at?: string | null
  ended_by?: string
  last_visitor_at?: string | null
}

export type AuthorKind = 'visitor' | 'agent' | 'system'

export interface Author {
  kind: AuthorKind | string
  id?: number
  name?: string
}

export interface Entry {
  seq: number
  at: string
  kind: 'message' | 'note' | string
  from: Author
  client_id?: string
  text: string
  /** Agents only; never shown to the visitor (transfer notes). */
  staff?: boolean
  /** A system line's code (noteCodes.json); its text is then empty and params say whom it names. */
  note?: string
  params?: NoteParams
}

/** What a system line names (backend/protocol NoteParams). */
export interface NoteParams {
  agent?: NoteAgent
  from?: NoteAgent
  to?: NoteAgent
  by?: NoteAgent
  comment?: string
  /** transfer_voided: a reason code (noteCodes.json reasons). */
  reason?: string
}

export interface NoteAgent {
  id?: number
  name: string
}

export interface TransferInfo {
  id: number
  session: string
  channel: string
  kind: 'transfer' | 'takeover' | string
  from: AgentInfo
  to: AgentInfo
  by: AgentInfo
  to_queue?: boolean
  comment?: string
  state: TransferState | string
  reason?: string
  started_at: string
  deadline?: string | null
  ended_at?: string | null
  visitor?: string
}

export interface QueueItem {
  session: string
  channel: string
  visitor: string
  question?: string
  since: string
  /** The chat's place in its channel's queue (1 = next) when it was sent. */
  position: number
}

/**
 * A change to one channel's waiting list, never the whole list (the welcome
 * carries that): drop the removed sessions, then insert the added items at
 * their positions, lowest first.
 */
export interface QueueEvent {
  channel: string
  removed?: string[] | null
  added?: QueueItem[] | null
}

/** After an administrator changed my permissions: my channels and the queues I see now. */
export interface ChannelsEvent {
  channels: ChannelInfo[] | null
  queue: QueueItem[] | null
}

export interface PresenceEvent {
  agents: AgentInfo[] | null
}

export interface WarningEvent {
  session: string
  channel: string
  level: 'waiting' | 'manager' | string
  visitor: string
  waited_s: number
}

export interface TypingEvent {
  who: string
}

export interface AgentWelcome {
  token?: string
  agent: AgentInfo
  channels: ChannelInfo[] | null
  sessions: SessionInfo[] | null
  transfers: TransferInfo[] | null
  queue: QueueItem[] | null
  agents: AgentInfo[] | null
  heartbeat_s?: number
  /** How long an owner who goes Offline keeps their chats before they return to the queue. */
  grace_s?: number
}

export interface Figures {
  waiting: number
  longest_wait_s: number
  present: number
  active: number
  chats_today: number
  transfers_today?: Record<string, number> | null
  /** Requests not closed (offline messages, tickets). */
  open_requests?: number
}

export interface ChannelFigures extends Figures {
  channel: string
  name: string
  /** One sample per minute over the last hour, oldest first. */
  history?: Sample[] | null
}

/** The queue during one minute: the most visitors waiting at once, the longest wait seen. */
export interface Sample {
  /** The minute's start. */
  at: string
  waiting: number
  longest_wait_s: number
}

export interface DashSession {
  id: string
  channel: string
  state: string
  visitor: string
  owner?: AgentInfo | null
  /** Queued at (waiting), or answered at (active). */
  since: string
  last_visitor_at?: string | null
  /** The state of a pending transfer, if any. */
  transfer?: string
  /** waiting or manager: the chat waits past the channel's warning delay. */
  warning?: string
}

export interface Dashboard {
  at: string
  overall: Figures
  /** All watched channels, one sample per minute over the last hour. */
  history?: Sample[] | null
  channels: ChannelFigures[] | null
  agents: AgentInfo[] | null
  sessions: DashSession[] | null
  transfers: TransferInfo[] | null
}

export interface RequestCreated {
  /** The desk words the line for the visitor itself ('request.line'). */
  number: number
}

/** One of the agent's own quick replies (backend/protocol/quickreplies.go). */
export interface QuickReply {
  /** An optional one-line label. */
  title?: string
  /** What goes into the message box. */
  text: string
}

/** quickreplies.get/set answers and the quickreplies event. */
export interface QuickRepliesPayload {
  replies: QuickReply[] | null
}

/** The relay's limits on quick replies (it refuses a list over them whole). */
export const quickReplyLimits = { count: 100, title: 100, text: 2000 } as const

// ---- Requests (backend/protocol/requests.go) ---------------------------------

export type RequestState = 'open' | 'claimed' | 'answered' | 'closed'
export type RequestAction = 'created' | 'claimed' | 'assigned' | 'answered' | 'closed' | 'mail_sent' | 'mail_failed'

/** A request (ticket): from the offline form, or made from a chat. */
export interface RequestInfo {
  number: number
  channel: string
  title: string
  state: RequestState
  origin: 'offline' | 'chat'
  /** The chat it was made from. */
  session?: string
  visitor: VisitorInfo
  question?: string
  created_by?: AgentInfo | null
  created_at: string
  assignee?: AgentInfo | null
  updated_at: string
}

/** One step of a request's history. */
export interface RequestStep {
  at: string
  action: RequestAction
  by?: AgentInfo | null
  /** assigned: the new assignee. */
  to?: AgentInfo | null
  /** answered: the answer; mail_failed: why. */
  text?: string
  /** answered: sent by e-mail (else by hand). */
  mail?: boolean
}

/** request.get: the request, the chat's transcript (or the question) and its history. */
export interface RequestDetail extends RequestInfo {
  transcript: string
  history: RequestStep[] | null
  /** The relay can send e-mail. */
  mail: boolean
}

/** request.list. */
export interface RequestListReply {
  requests: RequestInfo[] | null
  /** false: the relay sends no e-mail; the desk offers to copy answers. */
  mail: boolean
}

/** The request event. */
export interface RequestEvent {
  request: RequestInfo
  action?: RequestAction
  /** Show a notification: a new request for an agent with notify. */
  notify?: boolean
  /** manager: it waits unclaimed past the channel's delay. */
  warning?: string
  waited_s?: number
}
