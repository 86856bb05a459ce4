// A session's log as the desk holds it: entries sorted by seq, each seq once.
// The relay never sends a gap or a duplicate on one connection, but a log page
// fetched on opening a chat can overlap live entries, and a reconnect can
// replay; merging is therefore idempotent and order-independent.

import type { Entry } from '../protocol'

export interface Merge {
  entries: Entry[]
  /** Entries that were not held before, in seq order. */
  added: Entry[]
}

/**
 * Merges incoming entries into a sorted, deduplicated log. When nothing is
 * new the original array is returned, so a caller can skip an update.
 */
export function mergeEntries(existing: readonly Entry[], incoming: readonly Entry[]): Merge {
  if (incoming.length === 0) return { entries: existing as Entry[], added: [] }
  const held = new Set(existing.map((e) => e.seq))
  const added: Entry[] = []
  for (const e of incoming) {
    if (!e || typeof e.seq !== 'number' || held.has(e.seq)) continue
    held.add(e.seq)
    added.push(e)
  }
  if (added.length === 0) return { entries: existing as Entry[], added }
  added.sort((a, b) => a.seq - b.seq)
  const last = existing.length > 0 ? existing[existing.length - 1].seq : 0
  // The usual case: live entries arrive after what is held.
  if (added[0].seq > last) return { entries: [...existing, ...added], added }
  const entries = [...existing, ...added].sort((a, b) => a.seq - b.seq)
  return { entries, added }
}

/** The highest n such that seqs 1..n are all held (0 when seq 1 is missing). */
export function contiguousSeq(entries: readonly Entry[]): number {
  let expected = 1
  for (const e of entries) {
    if (e.seq === expected) expected++
    else if (e.seq > expected) break
  }
  return expected - 1
}

/**
 * Whether the log must be fetched from the relay: something before the last
 * known seq (from the session snapshot or the entries themselves) is missing.
 * Agents see every entry of a chat they may read, so their logs have no gaps.
 */
export function needsBackfill(entries: readonly Entry[], lastSeq: number): boolean {
  const top = Math.max(lastSeq, entries.length > 0 ? entries[entries.length - 1].seq : 0)
  return contiguousSeq(entries) < top
}
