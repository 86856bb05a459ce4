// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { entry } from '../../test/fixtures'
import { contiguousSeq, mergeEntries, needsBackfill } from './log'

const seqs = (l: { seq: number }[]) => l.map((e) => e.seq)

describe('mergeEntries', () => {
  it('appends live entries in order', () => {
    const a = mergeEntries([], [entry(1), entry(2)])
    const b = mergeEntries(a.entries, [entry(3)])
    expect(seqs(b.entries)).toEqual([1, 2, 3])
    expect(seqs(b.added)).toEqual([3])
  })

  it('keeps each seq once, whatever the source', () => {
    const first = mergeEntries([], [entry(1), entry(2), entry(3)])
    const again = mergeEntries(first.entries, [entry(2), entry(3), entry(3, { text: 'other' }), entry(4)])
    expect(seqs(again.entries)).toEqual([1, 2, 3, 4])
    expect(again.entries[2].text).toBe('line 3')
    expect(seqs(again.added)).toEqual([4])
  })

  it('drops duplicates inside one batch', () => {
    const m = mergeEntries([], [entry(5), entry(5), entry(4)])
    expect(seqs(m.entries)).toEqual([4, 5])
  })

  it('sorts entries that arrive out of order', () => {
    const live = mergeEntries([], [entry(7), entry(8)])
    const page = mergeEntries(live.entries, [entry(3), entry(1), entry(2), entry(4), entry(5), entry(6)])
    expect(seqs(page.entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(seqs(page.added)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('returns the same array when nothing is new', () => {
    const held = mergeEntries([], [entry(1), entry(2)]).entries
    expect(mergeEntries(held, [entry(2), entry(1)]).entries).toBe(held)
    expect(mergeEntries(held, []).entries).toBe(held)
  })
})

describe('contiguousSeq and needsBackfill', () => {
  it('counts the unbroken run from seq 1', () => {
    expect(contiguousSeq([])).toBe(0)
    expect(contiguousSeq([entry(1), entry(2), entry(3)])).toBe(3)
    expect(contiguousSeq([entry(1), entry(2), entry(4)])).toBe(2)
    expect(contiguousSeq([entry(2), entry(3)])).toBe(0)
  })

  it('asks for the log when the snapshot names more than is held, or there is a hole', () => {
    expect(needsBackfill([], 0)).toBe(false)
    expect(needsBackfill([], 4)).toBe(true)
    expect(needsBackfill([entry(1), entry(2)], 2)).toBe(false)
    expect(needsBackfill([entry(1), entry(2)], 3)).toBe(true)
    expect(needsBackfill([entry(5)], 0)).toBe(true)
    expect(needsBackfill([entry(1), entry(3)], 3)).toBe(true)
  })
})
