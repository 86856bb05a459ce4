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
 * What to tell the agent about a transfer event: the offer to its receiver,
 * and every outcome to everyone involved (seen from their side).
 */
export function transferNotice(t: TransferInfo, me: number | undefined): Notice | null {
  const visitor = t.visitor || '—'
  const params = { visitor, to: t.to?.name ?? '', by: t.by?.name ?? '', from: t.from?.name ?? '', reason: t.reason ?? '' }
  const toMe = t.to?.id === me
  const byMe = t.by?.id === me
  const fromMe = t.from?.id === me
  if (t.kind === 'takeover') {
    if (toMe) return { kind: 'info', key: 'toast.takeover.mine', params }
    if (fromMe) return { kind: 'warning', key: 'toast.takeover.fromMe', params }
    return { kind: 'info', key: 'toast.takeover.other', params }
  }
  switch (t.state) {
    case 'pending':
      return toMe ? { kind: 'info', key: 'toast.offer', params } : null
    case 'accepted':
      return toMe
        ? { kind: 'success', key: 'toast.accepted.mine', params }
        : { kind: 'success', key: 'toast.accepted', params }
    case 'rejected':
      return toMe
        ? { kind: 'info', key: 'toast.rejected.mine', params }
        : { kind: 'warning', key: 'toast.rejected', params }
    case 'cancelled':
      return byMe
        ? { kind: 'info', key: 'toast.cancelled.mine', params }
        : { kind: 'info', key: 'toast.cancelled', params }
    case 'expired':
      return { kind: 'warning', key: 'toast.expired', params }
    case 'voided':
      return { kind: 'warning', key: t.reason ? 'toast.voided.reason' : 'toast.voided', params }
  }
  return null
}
