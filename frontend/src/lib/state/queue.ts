// The waiting chats per channel. The welcome carries all channels at once; a
// queue event says what changed in one channel: who left, who joined where.

import type { QueueEvent, QueueItem } from '../protocol'

export type Queues = Record<string, QueueItem[]>

/** Groups the welcome's flat list by channel, keeping the relay's order. */
export function groupQueue(items: readonly QueueItem[] | null | undefined): Queues {
  const out: Queues = {}
  for (const it of items ?? []) (out[it.channel] ??= []).push(it)
  return out
}

/**
 * Applies a queue event to its channel's list, as backend/protocol's
 * ApplyQueue does: removals first, then each added item at its position
 * (positions count the list after the event, so lowest first). A chat the
 * list already holds (a welcome that crossed the event) moves, never doubles.
 */
export function applyQueue(queues: Queues, ev: QueueEvent): Queues {
  const removed = ev.removed ?? []
  const added = [...(ev.added ?? [])].sort((a, b) => a.position - b.position)
  if (removed.length === 0 && added.length === 0) return queues
  const gone = new Set([...removed, ...added.map((i) => i.session)])
  const list = (queues[ev.channel] ?? []).filter((i) => !gone.has(i.session))
  for (const it of added) list.splice(Math.min(Math.max(it.position - 1, 0), list.length), 0, it)
  const next = { ...queues }
  if (list.length === 0) delete next[ev.channel]
  else next[ev.channel] = list
  return next
}

export function queueCount(queues: Queues): number {
  let n = 0
  for (const list of Object.values(queues)) n += list.length
  return n
}

/**
 * All waiting chats, oldest first. Within a channel the relay's order wins
 * (a chat returned by an agent who went offline is at its head).
 */
export function waitingList(queues: Queues): QueueItem[] {
  const lists = Object.keys(queues)
    .sort()
    .map((k) => queues[k])
  const out: QueueItem[] = []
  const idx = lists.map(() => 0)
  // Merge the per-channel lists by age of their heads, so each list keeps its order.
  for (;;) {
    let best = -1
    for (let i = 0; i < lists.length; i++) {
      if (idx[i] >= lists[i].length) continue
      if (best < 0 || Date.parse(lists[i][idx[i]].since) < Date.parse(lists[best][idx[best]].since)) best = i
    }
    if (best < 0) return out
    out.push(lists[best][idx[best]++])
  }
}

/** Removes a session from every list (it was picked). */
export function removeFromQueue(queues: Queues, session: string): Queues {
  let next = queues
  for (const [ch, list] of Object.entries(queues)) {
    if (!list.some((i) => i.session === session)) continue
    if (next === queues) next = { ...queues }
    const rest = list.filter((i) => i.session !== session)
    if (rest.length === 0) delete next[ch]
    else next[ch] = rest
  }
  return next
}
