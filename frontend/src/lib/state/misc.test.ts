// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { get } from 'svelte/store'
import { memoryStorage } from '../../test/desk'
import { addReply, createQuickReplies, quickRepliesKey, removeReply } from './quickReplies'
import { createThrottle } from './throttle'
import { formatCountdown, formatDuration } from './time'
import { dismissToast, pushToast } from './toasts'

describe('typing throttle', () => {
  it('lets one call per key through every 3 s', () => {
    const th = createThrottle(3000)
    expect(th.take('s-1', 0)).toBe(true)
    expect(th.take('s-1', 1000)).toBe(false)
    expect(th.take('s-2', 1000)).toBe(true)
    expect(th.take('s-1', 2999)).toBe(false)
    expect(th.take('s-1', 3000)).toBe(true)
    th.reset('s-1')
    expect(th.take('s-1', 3001)).toBe(true)
  })
})

describe('time formatting', () => {
  it('counts down as m:ss', () => {
    expect(formatCountdown(120_000)).toBe('2:00')
    expect(formatCountdown(65_400)).toBe('1:06')
    expect(formatCountdown(-5)).toBe('0:00')
    expect(formatCountdown(3_725_000)).toBe('1:02:05')
  })

  it('writes short durations', () => {
    expect(formatDuration(42)).toBe('42 s')
    expect(formatDuration(180)).toBe('3 min')
    expect(formatDuration(3900)).toBe('1 h 5 min')
    expect(formatDuration(7200)).toBe('2 h')
  })
})

describe('toasts', () => {
  it('keeps the newest five and drops repeats', () => {
    let l = [1, 2, 3, 4, 5, 6].reduce((acc, id) => pushToast(acc, { id, kind: 'info', text: `t${id}` }), [] as ReturnType<typeof pushToast>)
    expect(l.map((x) => x.id)).toEqual([2, 3, 4, 5, 6])
    l = pushToast(l, { id: 7, kind: 'info', text: 't4' })
    expect(l.map((x) => x.id)).toEqual([2, 3, 5, 6, 7])
    expect(dismissToast(l, 3).map((x) => x.id)).toEqual([2, 5, 6, 7])
  })
})

describe('quick replies', () => {
  it('adds trimmed replies once and removes them', () => {
    expect(addReply(['a'], '  b ')).toEqual(['a', 'b'])
    const same = ['a']
    expect(addReply(same, 'a')).toBe(same)
    expect(addReply(same, '   ')).toBe(same)
    expect(removeReply(['a', 'b'], 'a')).toEqual(['b'])
  })

  it('persists in localStorage under a namespaced key', () => {
    const storage = memoryStorage()
    const q = createQuickReplies(storage)
    q.add('See you!')
    q.add('Anything else?')
    q.remove('See you!')
    expect(JSON.parse(storage.getItem(quickRepliesKey)!)).toEqual(['Anything else?'])
    expect(get(createQuickReplies(storage))).toEqual(['Anything else?'])
  })

  it('survives garbage in storage', () => {
    const storage = memoryStorage()
    storage.setItem(quickRepliesKey, '{not json')
    expect(get(createQuickReplies(storage))).toEqual([])
    storage.setItem(quickRepliesKey, JSON.stringify(['ok', 3, null]))
    expect(get(createQuickReplies(storage))).toEqual(['ok'])
  })
})
