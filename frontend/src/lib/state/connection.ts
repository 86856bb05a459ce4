// The relay connection as the Go side reports it with relay:state.

import type { AgentWelcome } from '../protocol'

export type ConnState = 'offline' | 'connecting' | 'connected' | 'reconnecting' | 'auth_failed'

export interface Connection {
  state: ConnState
  attempt: number
  /** When the next dial starts (ms since the epoch), while reconnecting. */
  nextAttemptAt: number | null
  error: string
  /** Why the relay ended the sign-in (auth_failed): revoked (password changed, account disabled) or logged_out. */
  reason?: string
}

/** The payload of relay:state. */
export interface RelayStatePayload {
  state: ConnState | string
  attempt?: number
  /** An RFC 3339 time, epoch ms, or seconds from now. */
  nextAttempt?: string | number | null
  error?: string | { message?: string; code?: string } | null
  welcome?: AgentWelcome | null
  reason?: string
}

export const initialConnection: Connection = { state: 'offline', attempt: 0, nextAttemptAt: null, error: '' }

const states: readonly ConnState[] = ['offline', 'connecting', 'connected', 'reconnecting', 'auth_failed']

/** Parses the Go side's next-attempt time; a zero time means none. */
export function parseNextAttempt(raw: RelayStatePayload['nextAttempt'], now: number): number | null {
  if (raw === null || raw === undefined || raw === '') return null
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw <= 0) return null
    return raw > 1e11 ? raw : now + raw * 1000
  }
  const t = Date.parse(raw)
  if (Number.isNaN(t) || t <= 0) return null
  return t
}

export function connectionFrom(p: RelayStatePayload, now: number): Connection {
  const state = (states as readonly string[]).includes(p.state) ? (p.state as ConnState) : 'offline'
  const err = p.error
  return {
    state,
    attempt: p.attempt ?? 0,
    nextAttemptAt: state === 'reconnecting' ? parseNextAttempt(p.nextAttempt, now) : null,
    error: !err ? '' : typeof err === 'string' ? err : (err.message ?? err.code ?? ''),
    reason: p.reason || undefined,
  }
}

/** Whole seconds until the next attempt, never negative; null without one. */
export function secondsUntil(at: number | null, now: number): number | null {
  if (at === null) return null
  return Math.max(0, Math.ceil((at - now) / 1000))
}
