// The agent's desk as plain data, and the pure functions that move it: the
// welcome, each relay event, selection. The store (store.ts) holds one
// DeskState and replaces it with what these functions return; nothing here
// touches the bridge, the DOM or the clock (times are passed in).

import type {
  AgentInfo,
  AgentWelcome,
  ChannelInfo,
  ChannelsEvent,
  Dashboard,
  Entry,
  PresenceEvent,
  QueueEvent,
  SessionInfo,
  TransferInfo,
  TypingEvent,
  WarningEvent,
} from '../protocol'
import { Ev } from '../protocol'
import { agentsFromList, applyPresence, type Agents } from './agents'
import { mergeEntries } from './log'
import { applyOutbox, settle, type OutboxEvent, type OutboxItem } from './outbox'
import { applyQueue, groupQueue, removeFromQueue, type Queues } from './queue'
import {
  applyTransfer,
  dropSession,
  pendingFor,
  pendingFromList,
  syncWithSession,
  transferMark,
  type Pending,
  type TransferMark,
} from './transfers'

/** Ended chats stay in the list this long. */
export const keepEndedMs = 8 * 60 * 60 * 1000
/** A typing notice is shown this long after the last one. */
export const typingShownMs = 6000

export interface DeskState {
  me: AgentInfo | null
  channels: Record<string, ChannelInfo>
  /** Sessions in the agent's list (owned, listened to, offered, recently ended). */
  sessions: Record<string, SessionInfo>
  /** Per session: the entries held, sorted by seq, each once. */
  logs: Record<string, Entry[]>
  /** Per session: visitor lines that arrived while the chat was not selected. */
  unread: Record<string, number>
  typing: Record<string, { who: string; at: number }>
  selected: string | null
  transfers: Pending
  queues: Queues
  /** Waiting chats a warning event named, by session: its level. */
  warnings: Record<string, string>
  agents: Agents
  outbox: OutboxItem[]
  dashboard: Dashboard | null
  /**
   * Chats out of my list on this machine only: one being closed (its undo
   * time is running) and ended chats I dismissed. The relay still lists them.
   */
  hidden: Record<string, true>
}

export function initialDesk(): DeskState {
  return {
    me: null,
    channels: {},
    sessions: {},
    logs: {},
    unread: {},
    typing: {},
    selected: null,
    transfers: {},
    queues: {},
    warnings: {},
    agents: {},
    outbox: [],
    dashboard: null,
    hidden: {},
  }
}

/** The payload of relay:event. */
export interface RelayEvent {
  ev: string
  session?: string
  seq?: number
  data?: unknown
}

function pick<T>(rec: Record<string, T>, keep: (k: string) => boolean): Record<string, T> {
  const out: Record<string, T> = {}
  for (const [k, v] of Object.entries(rec)) if (keep(k)) out[k] = v
  return out
}

/**
 * Applies a welcome (after login, resume or a reconnect). Its lists replace
 * what was held; the logs, unread counts and outbox of sessions still listed
 * are kept, since a resume only replays what is missing.
 */
export function applyWelcome(s: DeskState, w: AgentWelcome): DeskState {
  const sessions: Record<string, SessionInfo> = {}
  for (const info of w.sessions ?? []) sessions[info.id] = info
  const channels: Record<string, ChannelInfo> = {}
  for (const c of w.channels ?? []) channels[c.key] = c
  const agents = agentsFromList(w.agents)
  agents[w.agent.id] = { ...agents[w.agent.id], ...w.agent }
  let transfers = pendingFromList(w.transfers)
  for (const info of Object.values(sessions)) if (info.transfer?.state === 'pending') transfers = syncWithSession(transfers, info)
  const listed = (k: string) => k in sessions
  const queues = groupQueue(w.queue)
  return {
    ...s,
    me: w.agent,
    channels,
    sessions,
    logs: pick(s.logs, listed),
    unread: pick(s.unread, listed),
    typing: {},
    selected: s.selected && listed(s.selected) ? s.selected : null,
    transfers,
    queues,
    warnings: pick(s.warnings, (k) => Object.values(queues).some((l) => l.some((i) => i.session === k))),
    agents,
    outbox: s.outbox.filter((it) => listed(it.session)),
    hidden: pick(s.hidden, listed),
  }
}

/**
 * Whether a session belongs in my list: I own it, listen to it, am offered
 * it, or take part in its pending transfer (a manager who started one).
 */
export function belongsToMe(info: SessionInfo, me: number | undefined, transfers: Pending): boolean {
  if (info.role === 'owner' || info.role === 'listener' || info.role === 'offered') return true
  const t = info.transfer?.state === 'pending' ? info.transfer : pendingFor(transfers, info.id)
  return !!t && (t.to?.id === me || t.from?.id === me || t.by?.id === me)
}

/** Takes chats out of my list (or, with hide false, puts them back). */
export function hideChats(s: DeskState, ids: readonly string[], hide = true): DeskState {
  const hidden = { ...s.hidden }
  for (const id of ids) {
    if (hide) hidden[id] = true
    else delete hidden[id]
  }
  const selected = hide && s.selected && ids.includes(s.selected) ? null : s.selected
  return { ...s, hidden, selected }
}

/** Removes a chat and everything held for it. */
export function removeChat(s: DeskState, id: string): DeskState {
  if (!(id in s.sessions) && !(id in s.logs) && s.selected !== id) return s
  const other = (k: string) => k !== id
  return {
    ...s,
    sessions: pick(s.sessions, other),
    logs: pick(s.logs, other),
    unread: pick(s.unread, other),
    typing: pick(s.typing, other),
    selected: s.selected === id ? null : s.selected,
    transfers: dropSession(s.transfers, id),
    outbox: s.outbox.filter((it) => it.session !== id),
    hidden: pick(s.hidden, other),
  }
}

/** Applies a session snapshot: kept when it is mine, dropped when no longer. */
export function applySession(s: DeskState, info: SessionInfo): DeskState {
  const transfers = syncWithSession(s.transfers, info)
  if (!belongsToMe(info, s.me?.id, transfers)) return removeChat({ ...s, transfers }, info.id)
  return { ...s, sessions: { ...s.sessions, [info.id]: info }, transfers }
}

export interface EntryOptions {
  /** Count visitor lines as unread when the chat is not selected (live events; not a fetched page). */
  countUnread?: boolean
}

/** Merges entries into a session's log, deduplicated by seq, in seq order. */
export function applyEntries(s: DeskState, session: string, entries: readonly Entry[], opts: EntryOptions = {}): DeskState {
  const held = s.logs[session] ?? []
  const { entries: log, added } = mergeEntries(held, entries)
  if (added.length === 0) return s
  let unread = s.unread
  if (opts.countUnread && s.selected !== session) {
    // Visitor lines count; a line of mine (written in another window, the
    // dashboard say) means I have read what came before it.
    let count = unread[session] ?? 0
    for (const e of added) {
      if (e.from?.kind === 'visitor') count++
      else if (e.from?.kind === 'agent' && s.me && e.from.id === s.me.id) count = 0
    }
    if (count !== (unread[session] ?? 0)) unread = { ...unread, [session]: count }
  }
  let typing = s.typing
  if (session in typing && added.some((e) => e.from?.kind === 'visitor')) typing = pick(typing, (k) => k !== session)
  const info = s.sessions[session]
  const top = added[added.length - 1].seq
  const sessions = info && top > (info.seq ?? 0) ? { ...s.sessions, [session]: { ...info, seq: top } } : s.sessions
  return { ...s, logs: { ...s.logs, [session]: log }, unread, typing, sessions, outbox: settle(s.outbox, session, added) }
}

export function applyTransferEvent(s: DeskState, t: TransferInfo): DeskState {
  const transfers = applyTransfer(s.transfers, t)
  return transfers === s.transfers ? s : { ...s, transfers }
}

export function applyQueueEvent(s: DeskState, ev: QueueEvent): DeskState {
  const queues = applyQueue(s.queues, ev)
  if (queues === s.queues) return s
  // A chat that left the queue is no longer waiting too long.
  const left = new Set(ev.removed ?? [])
  const warnings = left.size > 0 ? pick(s.warnings, (k) => !left.has(k)) : s.warnings
  return { ...s, queues, warnings }
}

/** My permissions changed: the channels and the queues I see are replaced, as by a welcome. */
export function applyChannelsEvent(s: DeskState, ev: ChannelsEvent): DeskState {
  const channels: Record<string, ChannelInfo> = {}
  for (const c of ev.channels ?? []) channels[c.key] = c
  const queues = groupQueue(ev.queue)
  const waiting = (k: string) => Object.values(queues).some((l) => l.some((i) => i.session === k))
  return { ...s, channels, queues, warnings: pick(s.warnings, waiting) }
}

export function applyPresenceEvent(s: DeskState, ev: PresenceEvent): DeskState {
  const agents = applyPresence(s.agents, ev)
  const mine = s.me ? (ev.agents ?? []).find((a) => a.id === s.me!.id) : undefined
  return { ...s, agents, me: mine && s.me ? { ...s.me, ...mine } : s.me }
}

/** Applies one relay:event. */
export function applyRelayEvent(s: DeskState, ev: RelayEvent, now: number): DeskState {
  const data = ev.data as never
  switch (ev.ev) {
    case Ev.Entry: {
      const e = data as Entry
      const session = ev.session ?? ''
      if (!session || !e) return s
      return applyEntries(s, session, [{ ...e, seq: e.seq ?? ev.seq }], { countUnread: true })
    }
    case Ev.Session:
      return data ? applySession(s, data as SessionInfo) : s
    case Ev.Transfer:
      return data ? applyTransferEvent(s, data as TransferInfo) : s
    case Ev.Queue:
      return data ? applyQueueEvent(s, data as QueueEvent) : s
    case Ev.Presence:
      return data ? applyPresenceEvent(s, data as PresenceEvent) : s
    case Ev.Channels:
      return data ? applyChannelsEvent(s, data as ChannelsEvent) : s
    case Ev.Warning: {
      const w = data as WarningEvent
      return w?.session ? { ...s, warnings: { ...s.warnings, [w.session]: w.level } } : s
    }
    case Ev.Typing: {
      const session = ev.session ?? ''
      const who = (data as TypingEvent | undefined)?.who ?? ''
      if (!session) return s
      return { ...s, typing: { ...s.typing, [session]: { who, at: now } } }
    }
    case Ev.Dashboard:
      return data ? { ...s, dashboard: data as Dashboard } : s
  }
  return s
}

export function applyOutboxEvent(s: DeskState, ev: OutboxEvent): DeskState {
  const outbox = applyOutbox(s.outbox, ev)
  return outbox === s.outbox ? s : { ...s, outbox }
}

/** Selects a chat (or none); its unread count goes to zero. */
export function selectChat(s: DeskState, id: string | null): DeskState {
  if (id === null) return s.selected === null ? s : { ...s, selected: null }
  const unread = s.unread[id] ? { ...s.unread, [id]: 0 } : s.unread
  return { ...s, selected: id, unread }
}

/** A chat I just picked, took from the queue or started listening to. */
export function adoptSession(s: DeskState, info: SessionInfo): DeskState {
  return { ...applySession(s, info), queues: removeFromQueue(s.queues, info.id) }
}

// ---- Derived views -------------------------------------------------------

export type ChatMode = 'owner' | 'listener' | 'offered' | 'ended' | 'readonly'

/**
 * What I can do in a chat: write (owner of an active chat), only read while
 * listening, answer an offer (Accept/Reject), or read an ended chat.
 */
export function chatMode(info: SessionInfo, me: number | undefined, pending: TransferInfo | undefined): ChatMode {
  if (info.state === 'ended') return 'ended'
  if (pending && pending.to?.id === me) return 'offered'
  if (info.role === 'offered') return 'offered'
  if (info.role === 'listener') return 'listener'
  if (info.role === 'owner' && info.state === 'active') return 'owner'
  return 'readonly'
}

/** Listen mode: my role in the chat is listener. */
export function isListening(info: SessionInfo | undefined): boolean {
  return info?.role === 'listener' && info.state !== 'ended'
}

export interface ListItem {
  info: SessionInfo
  unread: number
  mark: TransferMark
  mode: ChatMode
  ended: boolean
}

/**
 * The session list: ongoing chats first (oldest first), then those ended in
 * the last 8 hours (most recent first), without the ones hidden here.
 */
export function sessionList(s: DeskState, now: number): ListItem[] {
  const { ongoing, recent } = sessionGroups(s, now)
  return [...ongoing, ...recent]
}

/** The session list in its two sections: ongoing chats, and Recent (ended). */
export function sessionGroups(s: DeskState, now: number): { ongoing: ListItem[]; recent: ListItem[] } {
  const me = s.me?.id
  const ongoing: ListItem[] = []
  const ended: ListItem[] = []
  for (const info of Object.values(s.sessions)) {
    if (s.hidden[info.id]) continue
    const pending = pendingFor(s.transfers, info.id)
    const item: ListItem = {
      info,
      unread: s.unread[info.id] ?? 0,
      mark: transferMark(pending, me),
      mode: chatMode(info, me, pending),
      ended: info.state === 'ended',
    }
    if (!item.ended) ongoing.push(item)
    else if (info.ended_at && now - Date.parse(info.ended_at) <= keepEndedMs) ended.push(item)
  }
  const t = (v: string | null | undefined) => (v ? Date.parse(v) || 0 : 0)
  ongoing.sort((a, b) => t(a.info.created_at) - t(b.info.created_at) || a.info.id.localeCompare(b.info.id))
  ended.sort((a, b) => t(b.info.ended_at) - t(a.info.ended_at) || a.info.id.localeCompare(b.info.id))
  return { ongoing, recent: ended }
}

export function channelName(s: DeskState, key: string): string {
  return s.channels[key]?.name || key
}

export function hasPerm(s: DeskState, channel: string, perm: string): boolean {
  return (s.channels[channel]?.perms ?? []).includes(perm as never)
}

/** Whether any channel lets me watch the dashboard. */
export function canWatch(s: DeskState): boolean {
  return Object.values(s.channels).some((c) => (c.perms ?? []).some((p) => p === 'listen' || p === 'manage'))
}

export function isTyping(s: DeskState, session: string, now: number): string | null {
  const t = s.typing[session]
  return t && now - t.at < typingShownMs ? t.who : null
}
