// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { connectionFrom, parseNextAttempt, secondsUntil } from './connection'

const now = Date.parse('2025-03-03T10:00:00Z')

describe('connection', () => {
  it('reads the next attempt as a time, epoch ms, or seconds from now', () => {
    expect(parseNextAttempt('2025-03-03T10:00:05Z', now)).toBe(now + 5000)
    expect(parseNextAttempt(now + 3000, now)).toBe(now + 3000)
    expect(parseNextAttempt(4, now)).toBe(now + 4000)
    expect(parseNextAttempt('0001-01-01T00:00:00Z', now)).toBeNull()
    expect(parseNextAttempt(null, now)).toBeNull()
    expect(parseNextAttempt('', now)).toBeNull()
  })

  it('normalizes relay:state', () => {
    expect(connectionFrom({ state: 'reconnecting', attempt: 2, nextAttempt: '2025-03-03T10:00:07Z', error: 'dial refused' }, now)).toEqual({
      state: 'reconnecting',
      attempt: 2,
      nextAttemptAt: now + 7000,
      error: 'dial refused',
    })
    expect(connectionFrom({ state: 'connected', nextAttempt: '2025-03-03T10:00:07Z' }, now).nextAttemptAt).toBeNull()
    expect(connectionFrom({ state: 'weird' }, now).state).toBe('offline')
    expect(connectionFrom({ state: 'auth_failed', error: { message: 'bad token' } }, now).error).toBe('bad token')
    expect(connectionFrom({ state: 'auth_failed', error: 'signed out', reason: 'revoked' }, now).reason).toBe('revoked')
  })

  it('counts down whole seconds, never below zero', () => {
    expect(secondsUntil(now + 4200, now)).toBe(5)
    expect(secondsUntil(now - 100, now)).toBe(0)
    expect(secondsUntil(null, now)).toBeNull()
  })
})
