// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { agentLine } from '../../test/fixtures'
import { applyOutbox, dismiss, outboxFor, outboxRefused, outboxSent, settle, type OutboxItem } from './outbox'

describe('outbox lifecycle', () => {
  it('pending, then acked, then gone once the entry is in the log', () => {
    let o: OutboxItem[] = outboxSent([], 's-1', 'm-1', 'Hello')
    expect(o).toEqual([{ session: 's-1', clientId: 'm-1', text: 'Hello', status: 'pending' }])
    o = applyOutbox(o, { session: 's-1', clientId: 'm-1', text: 'Hello', status: 'pending' })
    expect(o).toHaveLength(1)
    o = applyOutbox(o, { session: 's-1', clientId: 'm-1', status: 'acked', seq: 4 })
    expect(o[0]).toMatchObject({ status: 'acked', seq: 4, text: 'Hello' })
    // Still shown until its entry arrives.
    expect(outboxFor(o, 's-1', [])).toHaveLength(1)
    expect(outboxFor(o, 's-1', [agentLine(4, 'Hello', { client_id: 'm-1' })])).toHaveLength(0)
    expect(settle(o, 's-1', [agentLine(4, 'Hello', { client_id: 'm-1' })])).toEqual([])
  })

  it('settles an acked line by its seq when the entry has no client id', () => {
    const o = applyOutbox([], { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'acked', seq: 9 })
    expect(settle(o, 's-1', [agentLine(9)])).toEqual([])
    expect(settle(o, 's-2', [agentLine(9)])).toBe(o)
  })

  it('does not re-add a line whose ack came before the Send answer', () => {
    const acked = applyOutbox([], { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'acked', seq: 3 })
    expect(outboxSent(acked, 's-1', 'm-1', 'Hi')).toBe(acked)
  })

  it('ignores a late pending after the ack', () => {
    const acked = applyOutbox([], { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'acked', seq: 3 })
    expect(applyOutbox(acked, { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'pending' })).toBe(acked)
  })

  it('keeps a failed line with its error until dismissed', () => {
    let o = outboxSent([], 's-1', 'm-1', 'Hi')
    o = applyOutbox(o, { session: 's-1', clientId: 'm-1', status: 'failed', error: { code: 'listen_only', message: 'you are listening' } })
    expect(o[0]).toMatchObject({ status: 'failed', error: 'you are listening', text: 'Hi' })
    o = applyOutbox(o, { session: 's-1', clientId: 'm-1', status: 'failed', error: 'plain text' })
    expect(o[0].error).toBe('plain text')
    expect(dismiss(o, 'm-1')).toEqual([])
    expect(dismiss(o, 'nope')).toBe(o)
  })

  it('records a Send the bridge refused outright', () => {
    const o = outboxRefused([], 's-1', 'local-1', 'Hi', 'Not connected')
    expect(o[0]).toMatchObject({ status: 'failed', error: 'Not connected', clientId: 'local-1' })
  })

  it('shows only the lines of one session', () => {
    const o = outboxSent(outboxSent([], 's-1', 'a', 'one'), 's-2', 'b', 'two')
    expect(outboxFor(o, 's-2', []).map((i) => i.text)).toEqual(['two'])
  })
})
