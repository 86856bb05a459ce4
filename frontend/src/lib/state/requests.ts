// The requests inbox: offline messages and tickets made from chats, in the
// channels the agent may read. The list comes from the Desk's Requests at
// sign-in and stays current from relay "request" events; one request can be
// opened to read its transcript and history and to act on it. Answers go by
// e-mail when the relay can send it (mail), else the desk offers to copy
// the answer and then records it as sent by hand.

import { get, writable, type Readable } from 'svelte/store'
import { command, copyText, type Result } from '../bridge'
import type { RequestDetail, RequestEvent, RequestInfo } from '../protocol'

export interface RequestsState {
  list: RequestInfo[]
  /** The relay sends e-mail; false: answers are copied and sent by hand. */
  mail: boolean
  loaded: boolean
  newest: boolean
  /** The request shown in the main area, with its history once read. */
  open: number | null
  detail: RequestDetail | null
  /** Requests a manager was warned about (unclaimed too long). */
  warned: Record<number, true>
}

export const initialRequests = (): RequestsState => ({
  list: [],
  mail: true,
  loaded: false,
  newest: false,
  open: null,
  detail: null,
  warned: {},
})

/** The list with a request added or replaced; a closed one leaves it. */
export function upsertRequest(list: readonly RequestInfo[], r: RequestInfo): RequestInfo[] {
  const rest = list.filter((x) => x.number !== r.number)
  return r.state === 'closed' ? rest : [...rest, r]
}

/** Oldest first (by number, which grows with time), or newest first. */
export function sortRequests(list: readonly RequestInfo[], newest: boolean): RequestInfo[] {
  return [...list].sort((a, b) => (newest ? b.number - a.number : a.number - b.number))
}

/** Requests nobody has claimed yet. */
export function unclaimedCount(list: readonly RequestInfo[]): number {
  return list.filter((r) => r.state === 'open').length
}

export interface Requests extends Readable<RequestsState> {
  /** Reads the list (at sign-in and after each reconnect). */
  load(): Promise<Result>
  /** Takes in a relay "request" event. */
  apply(ev: RequestEvent | undefined): void
  setNewest(newest: boolean): void
  /** Shows a request in the main area and reads its history; null goes back to the chats. */
  show(number: number | null): Promise<void>
  claim(number: number): Promise<Result>
  /** E-mails an answer (mail), or records one the agent sent themselves (manual). */
  answer(number: number, text: string, manual: boolean): Promise<Result>
  /** Copies an answer to the clipboard (no e-mail on the relay). */
  copy(text: string): Promise<boolean>
  close(number: number): Promise<Result>
  assign(number: number, to: number): Promise<Result>
  reset(): void
}

export function createRequests(): Requests {
  const state = writable<RequestsState>(initialRequests())
  const update = (fn: (s: RequestsState) => RequestsState) => state.update(fn)

  /** Applies a request a call answered with; the event may still be on its way. */
  function took(r: Result<RequestInfo>): Result {
    if (r.ok && r.data && typeof r.data.number === 'number') {
      const info = r.data
      update((s) => ({ ...s, list: upsertRequest(s.list, info) }))
      void refresh(info.number)
    } else if (r.error?.code === 'mail_not_configured') {
      update((s) => ({ ...s, mail: false }))
    }
    return r
  }

  async function refresh(number: number) {
    if (get(state).open !== number) return
    const r = await command('request.get', { number })
    if (r.ok && r.data && get(state).open === number) {
      const detail = r.data
      update((s) => ({ ...s, detail, mail: detail.mail }))
    }
  }

  return {
    subscribe: state.subscribe,
    async load() {
      const r = await command('request.list', {})
      if (r.ok && r.data) {
        const data = r.data
        update((s) => ({ ...s, list: data.requests ?? [], mail: data.mail, loaded: true }))
      }
      return r
    },
    apply(ev) {
      if (!ev?.request || typeof ev.request.number !== 'number') return
      const r = ev.request
      update((s) => {
        const warned = { ...s.warned }
        if (ev.warning) warned[r.number] = true
        if (r.state !== 'open') delete warned[r.number]
        // A warning carries the request as it was; a change may have come since.
        const list = ev.warning ? s.list : upsertRequest(s.list, r)
        return { ...s, list, warned }
      })
      if (!ev.warning) void refresh(r.number)
    },
    setNewest(newest) {
      update((s) => ({ ...s, newest }))
    },
    async show(number) {
      update((s) => ({ ...s, open: number, detail: s.detail?.number === number ? s.detail : null }))
      if (number !== null) await refresh(number)
    },
    async claim(number) {
      return took(await command('request.claim', { number }))
    },
    async answer(number, text, manual) {
      return took(await command('request.answer', { number, text, manual }))
    },
    copy: copyText,
    async close(number) {
      return took(await command('request.close', { number }))
    },
    async assign(number, to) {
      return took(await command('request.assign', { number, to }))
    },
    reset() {
      state.set(initialRequests())
    },
  }
}
