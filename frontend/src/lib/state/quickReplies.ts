// The agent's personal quick replies. They live in localStorage under a
// namespaced key for now; when the Go side offers a bound method to store
// them with the agent's settings, only load/save here change.

import { writable, type Readable } from 'svelte/store'

export const quickRepliesKey = 'switchboard.desk.quickReplies.v1'
export const maxQuickReplies = 50

export interface QuickReplies extends Readable<string[]> {
  add(text: string): void
  remove(text: string): void
}

/** Adds a reply (trimmed, once, newest last). */
export function addReply(list: readonly string[], text: string): string[] {
  const v = text.trim()
  if (!v || list.includes(v)) return list as string[]
  const next = [...list, v]
  return next.length > maxQuickReplies ? next.slice(next.length - maxQuickReplies) : next
}

export function removeReply(list: readonly string[], text: string): string[] {
  return list.filter((r) => r !== text)
}

function load(storage: Storage | undefined, key: string): string[] {
  try {
    const raw = storage?.getItem(key)
    const v: unknown = raw ? JSON.parse(raw) : []
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

export function createQuickReplies(storage: Storage | undefined = globalThis.localStorage, key = quickRepliesKey): QuickReplies {
  const store = writable<string[]>(load(storage, key))
  const save = (list: string[]) => {
    try {
      storage?.setItem(key, JSON.stringify(list))
    } catch {
      /* storage full or unavailable: keep them for this run only */
    }
  }
  return {
    subscribe: store.subscribe,
    add(text) {
      store.update((l) => {
        const next = addReply(l, text)
        if (next !== l) save(next)
        return next
      })
    },
    remove(text) {
      store.update((l) => {
        const next = removeReply(l, text)
        save(next)
        return next
      })
    },
  }
}
