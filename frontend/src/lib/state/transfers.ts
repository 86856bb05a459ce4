// Pending transfers the agent takes part in (as receiver, owner or starter),
// keyed by transfer id. Transfer events and session snapshots are both
// snapshots, so applying the latest is always right: a pending transfer is
// kept, anything resolved is dropped.

import type { SessionInfo, TransferInfo } from '../protocol'

export type Pending = Record<number, TransferInfo>

/** The mark a session carries in the list. */
export type TransferMark = 'to-me' | 'from-me' | null

export function pendingFromList(list: readonly TransferInfo[] | null | undefined): Pending {
  const out: Pending = {}
  for (const t of list ?? []) if (t && t.state === 'pending') out[t.id] = t
  return out
}

/** Applies a transfer event. */
export function applyTransfer(pending: Pending, t: TransferInfo): Pending {
  if (t.state === 'pending') return { ...pending, [t.id]: t }
  if (!(t.id in pending)) return pending
  const next = { ...pending }
  delete next[t.id]
  return next
}

/**
 * Applies what a session snapshot says about its pending transfer: the one
 * it names is pending, any other of that session is over.
 */
export function syncWithSession(pending: Pending, info: SessionInfo): Pending {
  const current = info.transfer && info.transfer.state === 'pending' ? info.transfer : null
  let next = pending
  for (const t of Object.values(pending)) {
    if (t.session === info.id && t.id !== current?.id) {
      if (next === pending) next = { ...pending }
      delete next[t.id]
    }
  }
  if (current && pending[current.id] !== current) next = { ...next, [current.id]: current }
  return next
}

/** Drops the pending transfers of a session. */
export function dropSession(pending: Pending, session: string): Pending {
  let next = pending
  for (const t of Object.values(pending)) {
    if (t.session === session) {
      if (next === pending) next = { ...pending }
      delete next[t.id]
    }
  }
  return next
}

export function pendingFor(pending: Pending, session: string): TransferInfo | undefined {
  for (const t of Object.values(pending)) if (t.session === session) return t
  return undefined
}

/** 'to-me' when I am asked to take the chat, 'from-me' when I (or my chat) wait for someone. */
export function transferMark(t: TransferInfo | undefined, me: number | undefined): TransferMark {
  if (!t || t.state !== 'pending' || me === undefined) return null
  if (t.to?.id === me) return 'to-me'
  if (t.from?.id === me || t.by?.id === me) return 'from-me'
  return null
}

/** A message key and its parameters, translated by the caller. */
export interface Notice {
  kind: 'info' | 'success' | 'warning' | 'error'
  key: string
  params: Record<string, string | number>
}

/**
 * What to tell the agent about a transfer event, seen from their side: the
 * receiver (to), the owner (from), and the manager who started it on the
 * owner's behalf (by, when not the owner). Each is told who did what; the
 * one who did it is told nothing new (their own reply says it), except the
 * outcome of what they started.
 */
export function transferNotice(t: TransferInfo, me: number | undefined): Notice | null {
  const visitor = t.visitor || '—'
  const params = { visitor, to: t.to?.name ?? '', by: t.by?.name ?? '', from: t.from?.name ?? '', reason: t.reason ?? '' }
  const toMe = t.to?.id === me
  const fromMe = t.from?.id === me
  const onBehalf = !!t.by?.id && t.by.id !== t.from?.id
  const byMe = t.by?.id === me
  const n = (kind: Notice['kind'], key: string): Notice => ({ kind, key, params })
  if (t.kind === 'takeover') {
    if (toMe) return n('info', 'toast.takeover.mine')
    if (fromMe) return n('warning', 'toast.takeover.fromMe')
    return n('info', 'toast.takeover.other')
  }
  // My role: receiver, owner, or the manager who started it for the owner.
  const role = toMe ? 'to' : fromMe ? 'from' : byMe ? 'by' : null
  if (!role) return null
  switch (t.state) {
    case 'pending':
      if (role === 'to') return n('info', onBehalf ? 'toast.offer.behalf' : 'toast.offer')
      // The owner hears when a manager hands their chat on; the one who
      // started it knows.
      return role === 'from' && onBehalf ? n('info', 'toast.pending.yourChat') : null
    case 'accepted':
      if (role === 'to') return n('success', 'toast.accepted.mine')
      if (role === 'from') return n('success', 'toast.accepted')
      return n('success', 'toast.accepted.behalf')
    case 'rejected':
      if (role === 'to') return n('info', 'toast.rejected.mine')
      if (role === 'from') return n('warning', 'toast.rejected')
      return n('warning', 'toast.rejected.behalf')
    case 'cancelled':
      if (byMe) return n('info', 'toast.cancelled.mine')
      if (role === 'from') return n('info', 'toast.cancelled.yourChat')
      return n('info', 'toast.cancelled')
    case 'expired':
      if (role === 'to') return n('warning', 'toast.expired.mine')
      if (role === 'from') return n('warning', 'toast.expired')
      return n('warning', 'toast.expired.behalf')
    case 'voided':
      return n('warning', t.reason ? 'toast.voided.reason' : 'toast.voided')
  }
  return null
}
