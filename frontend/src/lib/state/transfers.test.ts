// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { translate, type MessageKey } from '../i18n'
import { anna, bo, cleo, dana, session, transfer } from '../../test/fixtures'
import type { TransferState } from '../protocol'
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
    for (const state of ['accepted', 'rejected', 'cancelled', 'expired', 'voided'] as const) {
      expect(pendingFor(applyTransfer(p1, transfer({ state })), 's-1')).toBeUndefined()
    }
  })

  it('ignores the outcome of a transfer it never held', () => {
    const p = applyTransfer({}, transfer())
    expect(applyTransfer(p, transfer({ id: 99, state: 'rejected' }))).toBe(p)
  })

  it('follows what a session snapshot says', () => {
    const p = applyTransfer({}, transfer())
    expect(syncWithSession(p, session({ transfer: undefined }))).toEqual({})
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
    const cases: [TransferState, number, string][] = [
      ['accepted', anna.id, 'toast.accepted'],
      ['accepted', bo.id, 'toast.accepted.mine'],
      ['rejected', anna.id, 'toast.rejected'],
      ['rejected', bo.id, 'toast.rejected.mine'],
      ['cancelled', anna.id, 'toast.cancelled.mine'],
      ['cancelled', bo.id, 'toast.cancelled'],
      ['expired', anna.id, 'toast.expired'],
      ['expired', bo.id, 'toast.expired.mine'],
      ['voided', anna.id, 'toast.voided'],
    ]
    for (const [state, me, key] of cases) expect(transferNotice(transfer({ state }), me)?.key, `${state} for ${me}`).toBe(key)
    const voided = transferNotice(transfer({ state: 'voided', reason: 'the session ended' }), bo.id)
    expect(voided?.key).toBe('toast.voided.reason')
    expect(voided?.params.reason).toBe('the session ended')
  })

  // Every party's text, for direct, queue and on-behalf transfers, in every
  // outcome: who did what, said to the receiver (Bo), the owner (Anna) and
  // the manager who started it for her (Cleo).
  it('says who did what, to every party, in every outcome', () => {
    const cleoM = { ...cleo, name: 'Cleo' }
    const kinds = {
      direct: {},
      queue: { to_queue: true },
      behalf: { by: cleoM },
    } as const
    const says = (kind: keyof typeof kinds, state: TransferState, me: number) => {
      const n = transferNotice(transfer({ ...kinds[kind], state }), me)
      return n ? translate('en', n.key as MessageKey, n.params) : null
    }
    const want: [keyof typeof kinds, TransferState, number, string | null][] = [
      ['direct', 'pending', bo.id, 'Anna asks you to take over the chat with Vera.'],
      ['direct', 'pending', anna.id, null],
      ['behalf', 'pending', bo.id, 'Cleo asks you to take over the chat with Vera from Anna.'],
      ['behalf', 'pending', anna.id, 'Cleo asked Bo to take over your chat with Vera.'],
      ['behalf', 'pending', cleoM.id, null],
      ['queue', 'pending', bo.id, 'Anna asks you to take over the chat with Vera.'],

      ['direct', 'accepted', bo.id, 'You now own the chat with Vera.'],
      ['direct', 'accepted', anna.id, 'Bo accepted the chat with Vera. You are now listening.'],
      ['behalf', 'accepted', anna.id, 'Bo accepted the chat with Vera. You are now listening.'],
      ['behalf', 'accepted', cleoM.id, 'Bo accepted the chat with Vera from Anna.'],
      ['queue', 'accepted', anna.id, 'Bo accepted the chat with Vera. You are now listening.'],

      ['direct', 'rejected', bo.id, 'You rejected the chat with Vera.'],
      ['direct', 'rejected', anna.id, 'Bo rejected the chat with Vera. It stays with you.'],
      ['behalf', 'rejected', cleoM.id, 'Bo rejected the chat with Vera. It stays with Anna.'],
      ['behalf', 'rejected', anna.id, 'Bo rejected the chat with Vera. It stays with you.'],

      ['direct', 'cancelled', anna.id, 'You cancelled the transfer of the chat with Vera.'],
      ['direct', 'cancelled', bo.id, 'Anna cancelled the transfer of the chat with Vera.'],
      ['behalf', 'cancelled', cleoM.id, 'You cancelled the transfer of the chat with Vera.'],
      ['behalf', 'cancelled', anna.id, 'Cleo cancelled the transfer of your chat with Vera. It stays with you.'],
      ['behalf', 'cancelled', bo.id, 'Cleo cancelled the transfer of the chat with Vera.'],

      ['direct', 'expired', bo.id, 'You did not answer the transfer of the chat with Vera in time.'],
      ['direct', 'expired', anna.id, 'The transfer of the chat with Vera to Bo expired unanswered. It stays with you.'],
      ['behalf', 'expired', cleoM.id, 'The transfer of the chat with Vera to Bo expired unanswered. It stays with Anna.'],
      ['queue', 'expired', anna.id, 'The transfer of the chat with Vera to Bo expired unanswered. It stays with you.'],

      ['direct', 'voided', bo.id, 'The transfer of the chat with Vera was voided.'],
      ['behalf', 'voided', cleoM.id, 'The transfer of the chat with Vera was voided.'],
      ['direct', 'voided', dana.id, null], // not involved: nothing
    ]
    for (const [kind, state, me, text] of want) expect(says(kind, state, me), `${kind} ${state} for ${me}`).toBe(text)
  })

  it('tells a take-over to the one who lost the chat', () => {
    const t = transfer({ kind: 'takeover', state: 'accepted', from: anna, to: dana, by: dana })
    expect(transferNotice(t, anna.id)?.key).toBe('toast.takeover.fromMe')
    expect(transferNotice(t, dana.id)?.key).toBe('toast.takeover.mine')
  })
})
