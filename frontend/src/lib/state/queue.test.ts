// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { iso, queueItem } from '../../test/fixtures'
import { applyQueue, groupQueue, queueCount, removeFromQueue, waitingList } from './queue'

describe('queue', () => {
  const welcomeQueue = [
    queueItem({ session: 'a', since: iso(0) }),
    queueItem({ session: 'b', channel: 'sales', since: iso(1000) }),
    queueItem({ session: 'c', since: iso(2000) }),
  ]

  it('groups the welcome by channel in the relay’s order', () => {
    const q = groupQueue(welcomeQueue)
    expect(q.support.map((i) => i.session)).toEqual(['a', 'c'])
    expect(q.sales.map((i) => i.session)).toEqual(['b'])
    expect(queueCount(q)).toBe(3)
  })

  it('adds an arrival at its place and leaves other channels alone', () => {
    const q = groupQueue(welcomeQueue)
    const next = applyQueue(q, { channel: 'support', removed: [], added: [queueItem({ session: 'd', position: 3 })] })
    expect(next.support.map((i) => i.session)).toEqual(['a', 'c', 'd'])
    expect(next.sales).toBe(q.sales)
    expect(queueCount(next)).toBe(4)
  })

  it('puts a chat back from an agent at the head', () => {
    const q = groupQueue(welcomeQueue)
    const next = applyQueue(q, { channel: 'support', removed: [], added: [queueItem({ session: 'back', position: 1 })] })
    expect(next.support.map((i) => i.session)).toEqual(['back', 'a', 'c'])
  })

  it('removes first, then inserts lowest position first', () => {
    const q = groupQueue(welcomeQueue)
    const next = applyQueue(q, {
      channel: 'support',
      removed: ['a'],
      added: [queueItem({ session: 'z', position: 3 }), queueItem({ session: 'y', position: 1 })],
    })
    expect(next.support.map((i) => i.session)).toEqual(['y', 'c', 'z'])
  })

  it('moves a chat it holds already instead of doubling it', () => {
    const q = groupQueue(welcomeQueue)
    const next = applyQueue(q, { channel: 'support', removed: [], added: [queueItem({ session: 'c', position: 1 })] })
    expect(next.support.map((i) => i.session)).toEqual(['c', 'a'])
  })

  it('forgets a channel whose list is empty, and ignores an empty event', () => {
    const q = groupQueue(welcomeQueue)
    expect(applyQueue(q, { channel: 'sales', removed: ['b'], added: [] }).sales).toBeUndefined()
    expect(applyQueue(q, { channel: 'sales', removed: ['nobody'], added: [] }).sales).toEqual(q.sales)
    expect(applyQueue(q, { channel: 'sales', removed: [], added: [] })).toBe(q)
  })

  it('starts a channel it did not hold', () => {
    const next = applyQueue({}, { channel: 'sales', removed: [], added: [queueItem({ session: 'n', channel: 'sales', position: 7 })] })
    expect(next.sales.map((i) => i.session)).toEqual(['n'])
  })

  it('lists all waiting chats oldest first, keeping each channel’s order', () => {
    const q = groupQueue([
      // A chat returned to the head of support: recent, but first in its channel.
      queueItem({ session: 'back', since: iso(9000) }),
      queueItem({ session: 'old', since: iso(1000) }),
      queueItem({ session: 's1', channel: 'sales', since: iso(5000) }),
    ])
    expect(waitingList(q).map((i) => i.session)).toEqual(['s1', 'back', 'old'])
  })

  it('removes a picked chat', () => {
    const q = groupQueue(welcomeQueue)
    const next = removeFromQueue(q, 'b')
    expect(next.sales).toBeUndefined()
    expect(removeFromQueue(next, 'zzz')).toBe(next)
  })
})
