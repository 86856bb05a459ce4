// The supervisor dashboard as plain data: rows of the agents and sessions
// tables, their sorting, what the viewer may do with a chat, and the queue
// chart's points. Pure functions of a Dashboard payload (as the relay sends
// it) and the time; the components only render what these return.

import type { AgentInfo, ChannelInfo, DashSession, Dashboard, Figures, Sample, TransferInfo } from '../protocol'

/** Transfer outcomes in the order the tiles show them; take-overs last. */
export const outcomes = ['accepted', 'rejected', 'cancelled', 'expired', 'voided', 'takeover'] as const
export type Outcome = (typeof outcomes)[number]

const ms = (iso: string | null | undefined): number | null => {
  if (!iso) return null
  const t = Date.parse(iso)
  return Number.isNaN(t) ? null : t
}

// ---- Tiles -----------------------------------------------------------------

export interface Tiles {
  waiting: number
  longestWaitS: number
  present: number
  active: number
  chatsToday: number
  transfers: Record<Outcome, number>
}

/**
 * The figures of one channel or of all. The relay computes the longest wait
 * at its last push; between pushes it grows with the clock, so it is aged
 * by the time since the picture was taken.
 */
export function tiles(f: Figures, takenAt: string, now: number): Tiles {
  const t0 = ms(takenAt)
  const age = t0 === null ? 0 : Math.max(0, Math.floor((now - t0) / 1000))
  const transfers = {} as Record<Outcome, number>
  for (const o of outcomes) transfers[o] = f.transfers_today?.[o] ?? 0
  return {
    waiting: f.waiting,
    longestWaitS: f.waiting > 0 ? f.longest_wait_s + age : 0,
    present: f.present,
    active: f.active,
    chatsToday: f.chats_today,
    transfers,
  }
}

// ---- Agents ------------------------------------------------------------------

export interface AgentRow {
  agent: AgentInfo
  /** Pending transfers offered to this agent. */
  pendingTo: number
  /** Pending transfers of this agent's chats, waiting for someone else. */
  pendingFrom: number
}

export function pendingTransfers(db: Dashboard): TransferInfo[] {
  return (db.transfers ?? []).filter((t) => t.state === 'pending')
}

/** The agents table: status and load from the relay, pending transfers counted both ways. */
export function agentRows(db: Dashboard): AgentRow[] {
  const pending = pendingTransfers(db)
  return (db.agents ?? []).map((agent) => ({
    agent,
    pendingTo: pending.filter((t) => t.to?.id === agent.id && !t.to_queue).length,
    pendingFrom: pending.filter((t) => t.from?.id === agent.id).length,
  }))
}

// ---- Sessions ------------------------------------------------------------------

export type SortKey = 'channel' | 'visitor' | 'owner' | 'time' | 'lastVisitor' | 'transfer'
export type SortDir = 'asc' | 'desc'
export interface Sort {
  key: SortKey
  dir: SortDir
}

export const sortKeys: SortKey[] = ['channel', 'visitor', 'owner', 'time', 'lastVisitor', 'transfer']
/** Longest waiting or active first: the chats that need a look. */
export const defaultSort: Sort = { key: 'time', dir: 'desc' }

export interface SessionRow {
  session: DashSession
  channelName: string
  queued: boolean
  /** Seconds waiting (queued) or active (answered). */
  elapsedS: number
  /** Seconds since the visitor's last line; null when they have not written. */
  sinceVisitorS: number | null
  /** waiting, manager, or '' */
  warning: string
}

export function sessionRows(db: Dashboard, now: number, channelNames: Record<string, string> = {}): SessionRow[] {
  const names: Record<string, string> = { ...channelNames }
  for (const c of db.channels ?? []) names[c.channel] = c.name || names[c.channel] || c.channel
  return (db.sessions ?? [])
    .filter((s) => s.state !== 'ended')
    .map((s) => {
      const since = ms(s.since)
      const last = ms(s.last_visitor_at)
      return {
        session: s,
        channelName: names[s.channel] ?? s.channel,
        queued: s.state === 'queued',
        elapsedS: since === null ? 0 : Math.max(0, Math.floor((now - since) / 1000)),
        sinceVisitorS: last === null ? null : Math.max(0, Math.floor((now - last) / 1000)),
        warning: s.warning ?? '',
      }
    })
}

const text = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'base' })

/** Compares two rows by one column, ascending; rows without a value sort last either way. */
function compare(a: SessionRow, b: SessionRow, key: SortKey): number | null {
  switch (key) {
    case 'channel':
      return text(a.channelName, b.channelName)
    case 'visitor':
      return text(a.session.visitor, b.session.visitor)
    case 'owner': {
      const x = a.session.owner?.name ?? ''
      const y = b.session.owner?.name ?? ''
      if (!x || !y) return x === y ? 0 : null
      return text(x, y)
    }
    case 'time':
      return a.elapsedS - b.elapsedS
    case 'lastVisitor':
      if (a.sinceVisitorS === null || b.sinceVisitorS === null) return a.sinceVisitorS === b.sinceVisitorS ? 0 : null
      return a.sinceVisitorS - b.sinceVisitorS
    case 'transfer': {
      const x = a.session.transfer ?? ''
      const y = b.session.transfer ?? ''
      if (!x || !y) return x === y ? 0 : null
      return text(x, y)
    }
  }
}

const hasValue = (r: SessionRow, key: SortKey): boolean => {
  switch (key) {
    case 'owner':
      return !!r.session.owner?.name
    case 'lastVisitor':
      return r.sinceVisitorS !== null
    case 'transfer':
      return !!r.session.transfer
    default:
      return true
  }
}

/** Sorts rows by a column; ties keep the longest-waiting first, then the id, so the order is stable. */
export function sortRows(rows: readonly SessionRow[], sort: Sort): SessionRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    const va = hasValue(a, sort.key)
    const vb = hasValue(b, sort.key)
    if (va !== vb) return va ? -1 : 1 // empty cells last, in both directions
    const c = compare(a, b, sort.key)
    if (c) return sign * c
    return b.elapsedS - a.elapsedS || a.session.id.localeCompare(b.session.id)
  })
}

/** Clicking a column header: the same column flips, another starts in its natural direction. */
export function nextSort(cur: Sort, key: SortKey): Sort {
  if (cur.key === key) return { key, dir: cur.dir === 'asc' ? 'desc' : 'asc' }
  return { key, dir: key === 'time' || key === 'lastVisitor' ? 'desc' : 'asc' }
}

// ---- Actions -------------------------------------------------------------------

export interface Allowed {
  listen: boolean
  takeOver: boolean
  transfer: boolean
}

export function perms(channels: Record<string, ChannelInfo>, channel: string): string[] {
  return (channels[channel]?.perms ?? []) as string[]
}

/**
 * What the viewer may do with a chat, from their permissions in its channel
 * (the welcome's channels): listen needs listen or manage; take over and
 * transfer on the owner's behalf need manage. Only active chats of someone
 * else; a chat with a pending transfer is not offered another. The relay
 * checks all of it again.
 */
export function allowedActions(s: DashSession, channelPerms: readonly string[], me: number | undefined, listening: boolean): Allowed {
  const active = s.state === 'active' && !!s.owner && s.owner.id !== me
  const manage = channelPerms.includes('manage')
  const listen = manage || channelPerms.includes('listen')
  return {
    listen: active && listen && !listening,
    takeOver: active && manage,
    transfer: active && manage && !s.transfer,
  }
}

/** Whether any channel lets the viewer watch the dashboard at all. */
export function mayWatch(channels: Record<string, ChannelInfo>): boolean {
  return Object.values(channels).some((c) => (c.perms ?? []).some((p) => p === 'listen' || p === 'manage'))
}

// ---- The queue chart -----------------------------------------------------------

export const chartWidth = 600
export const chartHeight = 120
const pad = { top: 8, bottom: 8, left: 4, right: 4 }
const hourMs = 60 * 60 * 1000

export interface Point {
  x: number
  y: number
  at: string
  value: number
}

/** One minute's bar of visitors waiting: its left edge, top and height. */
export interface Bar {
  x: number
  y: number
  height: number
  at: string
  value: number
}

export interface Chart {
  waiting: Point[]
  /** Visitors waiting as one bar per minute: readable even with a few samples. */
  bars: Bar[]
  /** The width of one minute's bar. */
  barWidth: number
  longestWait: Point[]
  maxWaiting: number
  maxWaitS: number
  /** The hour shown, as epoch ms. */
  from: number
  to: number
}

/**
 * Points of the last hour's samples, x by time (the hour ending at `end`),
 * y by value, each series scaled to its own maximum (at least 1) so both
 * fit one small chart. Samples outside the hour are left out.
 */
export function chart(samples: readonly Sample[] | null | undefined, end: string | number): Chart {
  const to = typeof end === 'number' ? end : (ms(end) ?? Date.now())
  const from = to - hourMs
  const inHour = (samples ?? [])
    .map((s) => ({ s, t: ms(s.at) }))
    .filter((p): p is { s: Sample; t: number } => p.t !== null && p.t >= from - 60_000 && p.t <= to)
    .sort((a, b) => a.t - b.t)
  const maxWaiting = Math.max(1, ...inHour.map((p) => p.s.waiting))
  const maxWaitS = Math.max(1, ...inHour.map((p) => p.s.longest_wait_s))
  const w = chartWidth - pad.left - pad.right
  const h = chartHeight - pad.top - pad.bottom
  const x = (t: number) => round(pad.left + (Math.min(Math.max(t, from), to) - from) / hourMs * w)
  const y = (v: number, max: number) => round(pad.top + h - (v / max) * h)
  // A minute's sample covers the minute that starts at its time; the bar
  // of the current minute is kept inside the chart.
  const barWidth = round(Math.max(2, w / 60 - 1.5))
  const base = pad.top + h
  const bars = inHour.map(({ s, t }) => {
    const top = y(s.waiting, maxWaiting)
    return { x: round(Math.min(x(t), pad.left + w - barWidth)), y: top, height: round(base - top), at: s.at, value: s.waiting }
  })
  return {
    waiting: inHour.map(({ s, t }) => ({ x: x(t), y: y(s.waiting, maxWaiting), at: s.at, value: s.waiting })),
    bars,
    barWidth,
    longestWait: inHour.map(({ s, t }) => ({ x: x(t), y: y(s.longest_wait_s, maxWaitS), at: s.at, value: s.longest_wait_s })),
    maxWaiting,
    maxWaitS,
    from,
    to,
  }
}

const round = (v: number) => Math.round(v * 10) / 10

/** The SVG polyline of a series. */
export function polyline(points: readonly Point[]): string {
  return points.map((p) => `${p.x},${p.y}`).join(' ')
}

// ---- Recent transfers ------------------------------------------------------------

/** Resolved transfers and take-overs, newest first, at most n. */
export function recentTransfers(db: Dashboard, n = 8): TransferInfo[] {
  return (db.transfers ?? []).filter((t) => t.state !== 'pending').slice(0, n)
}
