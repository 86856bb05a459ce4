// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { memoryStorage } from '../../test/desk'
import { quickReplyLimits } from '../protocol'
import { addReply, legacyKey, mergeLegacy, QuickCodes, readLegacy, removeReply, replyLabel } from './quickReplies'
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
  it('adds trimmed texts once, newest last, and removes by position', () => {
    expect(addReply([{ text: 'a' }], '  b ')).toEqual([{ text: 'a' }, { text: 'b' }])
    expect(addReply([], 'Hello!', ' Greeting ')).toEqual([{ title: 'Greeting', text: 'Hello!' }])
    expect(addReply([], 'x', '😀'.repeat(quickReplyLimits.title + 5))).toEqual([{ title: '😀'.repeat(quickReplyLimits.title), text: 'x' }])
    const same = [{ text: 'a' }]
    expect(addReply(same, 'a')).toBe(same)
    expect(addReply(same, '   ')).toBe(same)
    expect(removeReply([{ text: 'a' }, { text: 'b' }, { text: 'a2' }], 1)).toEqual([{ text: 'a' }, { text: 'a2' }])
    expect(replyLabel({ title: 'Bye', text: 'Anything else?' })).toBe('Bye')
    expect(replyLabel({ title: ' ', text: 'Anything else?' })).toBe('Anything else?')
  })

  it('refuses what the relay would refuse', () => {
    const full = Array.from({ length: quickReplyLimits.count }, (_, i) => ({ text: `r${i}` }))
    expect(addReply(full, 'one more')).toMatchObject({ ok: false, error: { code: QuickCodes.full } })
    expect(addReply([], 'x'.repeat(quickReplyLimits.text + 1))).toMatchObject({ ok: false, error: { code: QuickCodes.tooLong } })
    expect(addReply([], 'å'.repeat(quickReplyLimits.text))).toHaveLength(1)
  })

  it('reads what older versions kept in localStorage, surviving garbage', () => {
    const storage = memoryStorage()
    expect(readLegacy(storage)).toBeNull()
    storage.setItem(legacyKey, '{not json')
    expect(readLegacy(storage)).toEqual([])
    storage.setItem(legacyKey, JSON.stringify(['ok', 3, null]))
    expect(readLegacy(storage)).toEqual(['ok'])
  })

  it('merges legacy texts after the relay’s, once each, within the limits', () => {
    const remote = [{ title: 'Hi', text: 'Hello!' }]
    expect(mergeLegacy(remote, ['Hello!', ' Bye. ', '', '  ', 'x'.repeat(quickReplyLimits.text + 1), 'Bye.'])).toEqual([
      { title: 'Hi', text: 'Hello!' },
      { text: 'Bye.' },
    ])
    const many = Array.from({ length: 150 }, (_, i) => `reply ${i}`)
    expect(mergeLegacy([], many)).toHaveLength(quickReplyLimits.count)
    const long = Array.from({ length: 60 }, (_, i) => `${i} ${'y'.repeat(1500)}`)
    expect(JSON.stringify({ replies: mergeLegacy([], long) }).length).toBeLessThan(48 * 1024)
  })
})
