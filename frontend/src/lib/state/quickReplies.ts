// The agent's personal quick replies. The relay keeps them (the commands
// quickreplies.get and .set, checked by the Go side before sending), so they
// follow the agent to any machine; a save on another machine arrives as a
// relay event. Every change saves the whole list. Replies an older version
// kept in this machine's localStorage are moved to the relay once, at the
// first sign-in, and then removed here.

import { get, writable, type Readable } from 'svelte/store'
import { command, type Result } from '../bridge'
import { quickReplyLimits, type QuickReply } from '../protocol'

/** Where older versions kept the replies (a JSON list of strings). */
export const legacyKey = 'switchboard.desk.quickReplies.v1'

/** Codes of refusals made here, before asking the relay. */
export const QuickCodes = { full: 'quick_full', tooLong: 'quick_too_long', notLoaded: 'quick_not_loaded' } as const

export interface QuickReplies extends Readable<QuickReply[]> {
  /** The relay's list has been read since sign-in: only then may it be changed. */
  loaded: Readable<boolean>
  /** Reads the list from the relay (at sign-in and after each reconnect). */
  load(): Promise<Result>
  /** Saves text as a new reply, newest last (trimmed; a text already saved is kept once). */
  add(text: string, title?: string): Promise<Result>
  /** Removes the reply at index. */
  remove(index: number): Promise<Result>
  /** Takes the list the relay pushed after a save elsewhere. */
  apply(list: readonly QuickReply[] | null | undefined): void
  /** Forgets the list (sign-out). */
  reset(): void
}

export interface QuickRepliesOptions {
  /** Where legacy replies may be found. */
  storage?: Storage
  /** Told of every failed save, for a toast. */
  onError?: (r: Result) => void
}

const refuse = (code: string, message: string): Result => ({ ok: false, error: { code, message } })

const chars = (s: string) => [...s].length

/** The list with text added at the end, or a refusal. Adding a text already there changes nothing. */
export function addReply(list: readonly QuickReply[], text: string, title = ''): QuickReply[] | Result {
  const v = text.trim()
  if (!v || list.some((r) => r.text === v)) return list as QuickReply[]
  if (list.length >= quickReplyLimits.count) return refuse(QuickCodes.full, `at most ${quickReplyLimits.count} quick replies`)
  if (chars(v) > quickReplyLimits.text) return refuse(QuickCodes.tooLong, `at most ${quickReplyLimits.text} characters`)
  const t = [...title.trim()].slice(0, quickReplyLimits.title).join('') // characters, as the relay counts them
  return [...list, t ? { title: t, text: v } : { text: v }]
}

export function removeReply(list: readonly QuickReply[], index: number): QuickReply[] {
  return list.filter((_, i) => i !== index)
}

/** What the label of a reply shows: its title, else its text. */
export function replyLabel(r: QuickReply): string {
  return r.title?.trim() || r.text
}

/** The texts kept by older versions in localStorage, or null when there are none to move. */
export function readLegacy(storage: Storage | undefined): string[] | null {
  try {
    const raw = storage?.getItem(legacyKey)
    if (raw == null) return null
    const v: unknown = JSON.parse(raw)
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** Bytes of the list as JSON the relay accepts; kept well under for a merge. */
const mergeBudget = 40_000

/**
 * The relay's list with the legacy texts appended: those it lacks, valid,
 * as many as the relay's limits take.
 */
export function mergeLegacy(remote: readonly QuickReply[], legacy: readonly string[]): QuickReply[] {
  const out = [...remote]
  let size = JSON.stringify({ replies: out }).length
  for (const raw of legacy) {
    const text = raw.trim()
    if (!text || chars(text) > quickReplyLimits.text || out.some((r) => r.text === text)) continue
    const cost = JSON.stringify({ text }).length + 1
    if (out.length >= quickReplyLimits.count || size + cost > mergeBudget) break
    out.push({ text })
    size += cost
  }
  return out
}

export function createQuickReplies(opts: QuickRepliesOptions = {}): QuickReplies {
  const storage = opts.storage
  const list = writable<QuickReply[]>([])
  const loaded = writable(false)
  /** The list as the relay last told it. */
  let confirmed: QuickReply[] = []
  /** Saves run one after another, each with the whole list. */
  let chain: Promise<unknown> = Promise.resolve()
  let pending = 0
  let loading: Promise<Result> | null = null
  /** Bumped by reset: answers to calls made before a sign-out are dropped. */
  let epoch = 0

  function settle() {
    if (pending === 0) list.set(confirmed)
  }

  /** Shows next at once and saves it; a refusal puts back what the relay has. */
  function save(next: QuickReply[]): Promise<Result> {
    const e = epoch
    list.set(next)
    pending++
    const p = chain.then(async () => {
      const r = await command('quickreplies.set', { replies: next })
      if (e !== epoch) return r
      pending--
      if (r.ok) confirmed = r.data?.replies ?? []
      settle()
      if (!r.ok) opts.onError?.(r)
      return r
    })
    chain = p
    return p
  }

  async function fetchList(): Promise<Result> {
    const e = epoch
    const r = await command('quickreplies.get')
    if (e !== epoch || !r.ok) return r
    confirmed = r.data?.replies ?? []
    settle()
    loaded.set(true)
    const legacy = readLegacy(storage)
    if (legacy === null) return r
    const merged = mergeLegacy(confirmed, legacy)
    const s = merged.length === confirmed.length ? r : await save(merged)
    if (s.ok) {
      try {
        storage?.removeItem(legacyKey)
      } catch {
        /* storage unavailable: the merge finds nothing new next time */
      }
    }
    return s
  }

  function load(): Promise<Result> {
    loading ??= fetchList().finally(() => (loading = null))
    return loading
  }

  /** Changes are made to the relay's list only: never to an empty one not yet read. */
  async function ready(): Promise<Result | null> {
    const r = await load()
    return get(loaded) ? null : r.ok ? refuse(QuickCodes.notLoaded, 'quick replies not loaded') : r
  }

  return {
    subscribe: list.subscribe,
    loaded: { subscribe: loaded.subscribe },
    load,
    async add(text, title) {
      const notReady = get(loaded) ? null : await ready()
      if (notReady) {
        opts.onError?.(notReady)
        return notReady
      }
      const cur = get(list)
      const next = addReply(cur, text, title)
      if (!Array.isArray(next)) {
        opts.onError?.(next)
        return next
      }
      return next === cur ? { ok: true, data: { replies: cur } } : save(next)
    },
    async remove(index) {
      const notReady = get(loaded) ? null : await ready()
      if (notReady) {
        opts.onError?.(notReady)
        return notReady
      }
      const cur = get(list)
      if (index < 0 || index >= cur.length) return { ok: true, data: { replies: cur } }
      return save(removeReply(cur, index))
    },
    apply(l) {
      confirmed = [...(l ?? [])]
      loaded.set(true)
      settle()
    },
    reset() {
      epoch++
      pending = 0
      chain = Promise.resolve()
      loading = null
      confirmed = []
      list.set([])
      loaded.set(false)
    },
  }
}
