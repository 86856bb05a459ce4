// Lines the agent sent that are not yet in the log. The Go side keeps the
// real outbox (and resends after a reconnect with the same client id); it
// reports each line's fate with relay:outbox. Here a line is shown greyed
// while pending, stays until its entry arrives in the log, and when it
// failed it shows the error with Retry and Dismiss.

import type { Entry } from '../protocol'

export type OutboxStatus = 'pending' | 'acked' | 'failed'

export interface OutboxItem {
  session: string
  clientId: string
  text: string
  /** An attachment's id: the line carries a file. */
  file?: string
  status: OutboxStatus
  seq?: number
  duplicate?: boolean
  error?: string
  /** The relay's error code, said in the desk's language where known (error is then the fallback). */
  errorCode?: string
}

/** The payload of relay:outbox. */
export interface OutboxEvent {
  session: string
  clientId: string
  text?: string
  file?: string
  status: OutboxStatus
  seq?: number
  duplicate?: boolean
  error?: string | { code?: string; message?: string } | null
}

function errorString(err: OutboxEvent['error']): string | undefined {
  if (!err) return undefined
  if (typeof err === 'string') return err
  return err.message || err.code || undefined
}

function errorCode(err: OutboxEvent['error']): string | undefined {
  return err && typeof err === 'object' ? err.code || undefined : undefined
}

/**
 * Applies a relay:outbox event. An ack is final: a late "pending" for an
 * acked line is ignored.
 */
export function applyOutbox(items: readonly OutboxItem[], ev: OutboxEvent): OutboxItem[] {
  const i = items.findIndex((it) => it.clientId === ev.clientId)
  const prev = i >= 0 ? items[i] : undefined
  if (prev?.status === 'acked' && ev.status !== 'acked') return items as OutboxItem[]
  const item: OutboxItem = {
    session: ev.session || prev?.session || '',
    clientId: ev.clientId,
    text: ev.text ?? prev?.text ?? '',
    file: ev.file || prev?.file || undefined,
    status: ev.status,
    seq: ev.seq || prev?.seq,
    duplicate: ev.duplicate || undefined,
    error: ev.status === 'failed' ? (errorString(ev.error) ?? prev?.error) : undefined,
    errorCode: ev.status === 'failed' ? (errorCode(ev.error) ?? prev?.errorCode) : undefined,
  }
  if (i < 0) return [...items, item]
  const next = [...items]
  next[i] = item
  return next
}

/** Records a line the Send call accepted, unless an event already told its fate. */
export function outboxSent(items: readonly OutboxItem[], session: string, clientId: string, text: string, file?: string): OutboxItem[] {
  if (items.some((it) => it.clientId === clientId)) return items as OutboxItem[]
  return [...items, { session, clientId, text, status: 'pending', ...(file ? { file } : {}) }]
}

/** Records a line the Send call refused outright. */
export function outboxRefused(
  items: readonly OutboxItem[],
  session: string,
  clientId: string,
  text: string,
  error: string,
): OutboxItem[] {
  return [...items.filter((it) => it.clientId !== clientId), { session, clientId, text, status: 'failed', error }]
}

export function dismiss(items: readonly OutboxItem[], clientId: string): OutboxItem[] {
  const next = items.filter((it) => it.clientId !== clientId)
  return next.length === items.length ? (items as OutboxItem[]) : next
}

/** Drops the lines whose entries are now in the log (by client id or acked seq). */
export function settle(items: readonly OutboxItem[], session: string, added: readonly Entry[]): OutboxItem[] {
  if (added.length === 0 || items.length === 0) return items as OutboxItem[]
  const ids = new Set<string>()
  const seqs = new Set<number>()
  for (const e of added) {
    if (e.client_id) ids.add(e.client_id)
    seqs.add(e.seq)
  }
  const next = items.filter(
    (it) => it.session !== session || !(ids.has(it.clientId) || (it.status === 'acked' && it.seq && seqs.has(it.seq))),
  )
  return next.length === items.length ? (items as OutboxItem[]) : next
}

/** The lines to show under a session's log, oldest first. */
export function outboxFor(items: readonly OutboxItem[], session: string, log: readonly Entry[]): OutboxItem[] {
  const held = new Set<string>()
  const seqs = new Set<number>()
  for (const e of log) {
    if (e.client_id) held.add(e.client_id)
    seqs.add(e.seq)
  }
  return items.filter(
    (it) => it.session === session && !held.has(it.clientId) && !(it.status === 'acked' && it.seq && seqs.has(it.seq)),
  )
}
