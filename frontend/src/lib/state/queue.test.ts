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

  it('replaces a channel’s list with the event’s, leaving other channels alone', () => {
    const q = groupQueue(welcomeQueue)
    const next = applyQueue(q, { channel: 'support', items: [queueItem({ session: 'd' })] })
    expect(next.support.map((i) => i.session)).toEqual(['d'])
    expect(next.sales).toBe(q.sales)
    expect(queueCount(next)).toBe(2)
  })

  it('forgets a channel whose list is empty', () => {
    const q = groupQueue(welcomeQueue)
    expect(applyQueue(q, { channel: 'sales', items: [] }).sales).toBeUndefined()
    expect(applyQueue(q, { channel: 'sales', items: null }).sales).toBeUndefined()
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
