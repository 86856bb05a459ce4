// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { anna, bo, dana, session, transfer } from '../../test/fixtures'
import {
  applyTransfer,
  dropSession,
  pendingFor,
  pendingFromList,
  syncWithSession,
  transferMark,
  transferNotice,
} from './transfers'

describe('pending transfers', () => {
  it('keeps only pending ones from the welcome', () => {
    const p = pendingFromList([transfer(), transfer({ id: 8, state: 'rejected' })])
    expect(Object.keys(p)).toEqual(['7'])
  })

  it('adds a pending transfer and drops it once resolved', () => {
    const p1 = applyTransfer({}, transfer())
    expect(pendingFor(p1, 's-1')?.id).toBe(7)
    for (const state of ['accepted', 'rejected', 'cancelled', 'expired', 'voided']) {
      expect(pendingFor(applyTransfer(p1, transfer({ state })), 's-1')).toBeUndefined()
    }
  })

  it('ignores the outcome of a transfer it never held', () => {
    const p = applyTransfer({}, transfer())
    expect(applyTransfer(p, transfer({ id: 99, state: 'rejected' }))).toBe(p)
  })

  it('follows what a session snapshot says', () => {
    const p = applyTransfer({}, transfer())
    expect(syncWithSession(p, session({ transfer: null }))).toEqual({})
    expect(syncWithSession(p, session({ id: 's-2' }))).toBe(p)
    const next = syncWithSession({}, session({ transfer: transfer({ id: 9 }) }))
    expect(pendingFor(next, 's-1')?.id).toBe(9)
    expect(dropSession(next, 's-1')).toEqual({})
  })
})

describe('transferMark', () => {
  it('marks a chat offered to me, and one I wait on as sender or starter', () => {
    expect(transferMark(transfer(), bo.id)).toBe('to-me')
    expect(transferMark(transfer(), anna.id)).toBe('from-me')
    expect(transferMark(transfer({ from: dana, by: anna }), anna.id)).toBe('from-me')
    expect(transferMark(transfer(), 42)).toBeNull()
    expect(transferMark(transfer({ state: 'rejected' }), bo.id)).toBeNull()
    expect(transferMark(undefined, bo.id)).toBeNull()
  })
})

describe('transferNotice', () => {
  it('tells the receiver of an offer, and nobody else', () => {
    expect(transferNotice(transfer(), bo.id)?.key).toBe('toast.offer')
    expect(transferNotice(transfer(), anna.id)).toBeNull()
  })

  it('tells every outcome, from the reader’s side', () => {
    const cases: [string, number, string][] = [
      ['accepted', anna.id, 'toast.accepted'],
      ['accepted', bo.id, 'toast.accepted.mine'],
      ['rejected', anna.id, 'toast.rejected'],
      ['rejected', bo.id, 'toast.rejected.mine'],
      ['cancelled', anna.id, 'toast.cancelled.mine'],
      ['cancelled', bo.id, 'toast.cancelled'],
      ['expired', anna.id, 'toast.expired'],
      ['expired', bo.id, 'toast.expired'],
      ['voided', anna.id, 'toast.voided'],
    ]
    for (const [state, me, key] of cases) expect(transferNotice(transfer({ state }), me)?.key, `${state} for ${me}`).toBe(key)
    const voided = transferNotice(transfer({ state: 'voided', reason: 'the session ended' }), bo.id)
    expect(voided?.key).toBe('toast.voided.reason')
    expect(voided?.params.reason).toBe('the session ended')
  })

  it('tells a take-over to the one who lost the chat', () => {
    const t = transfer({ kind: 'takeover', state: 'accepted', from: anna, to: dana, by: dana })
    expect(transferNotice(t, anna.id)?.key).toBe('toast.takeover.fromMe')
    expect(transferNotice(t, dana.id)?.key).toBe('toast.takeover.mine')
  })
})
