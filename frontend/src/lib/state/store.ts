// The desk's live state and the actions the screens call. One writable holds
// the DeskState; bridge events and answers of bound calls go through the pure
// functions of desk.ts. Components get the controller as a prop, so a test
// can build one against the fake bridge and look at both the DOM and calls.

import { get, writable, type Readable, type Writable } from 'svelte/store'
import { call, command, Events, onEvent, type DeskConfig, type Language, type Result } from '../bridge'
import { errorMessage, language, noticeText, resolveLanguage, t, type MessageKey, type Params } from '../i18n'
import { reasonText } from '../notes'
import { quickReplyLimits, type AgentInfo, type AgentWelcome, type QuickRepliesPayload, type RequestEvent, type SessionInfo, type TransferInfo, type TransferStart, type WarningEvent } from '../protocol'
import { connectionFrom, initialConnection, type Connection, type RelayStatePayload } from './connection'
import {
  adoptSession,
  applyEntries,
  applyOutboxEvent,
  applyRelayEvent,
  applySession,
  applyTransferEvent,
  applyWelcome,
  channelName,
  hideChats,
  initialDesk,
  removeChat,
  selectChat,
  type DeskState,
  type RelayEvent,
} from './desk'
import { contiguousSeq, needsBackfill } from './log'
import { dismiss as dismissLine, outboxRefused, outboxSent, type OutboxEvent } from './outbox'
import { createQuickReplies, QuickCodes, type QuickReplies } from './quickReplies'
import { createRequests, type Requests } from './requests'
import { createThrottle, typingInterval } from './throttle'
import { formatDuration } from './time'
import { dismissToast, pushToast, toastKind, type Toast, type ToastKind } from './toasts'
import { transferNotice } from './transfers'

/** How long a toast stays, by kind (ms). */
const toastMs: Record<ToastKind, number> = { info: 8000, success: 8000, warning: 12000, error: 12000 }
/** Log pages fetched at most per opening of a chat (2,000 entries each). */
const maxLogPages = 50

export interface DeskController {
  state: Readable<DeskState>
  connection: Readable<Connection>
  toasts: Readable<Toast[]>
  /** Quit chosen in the tray while answering chats: what to ask about (null: nothing asked). */
  quitAsk: Readable<QuitAsk | null>
  /** Composer text per session, kept while switching chats. */
  drafts: Writable<Record<string, string>>
  /** Sessions whose log is being fetched. */
  loading: Readable<Record<string, boolean>>
  config: Writable<DeskConfig | null>
  quickReplies: QuickReplies
  /** The requests inbox (offline messages, tickets). */
  requests: Requests

  /** Subscribes to the Go side's events; returns the unsubscribe function. */
  start(): () => void
  welcome(w: AgentWelcome): void
  reset(): void

  select(session: string | null): Promise<void>
  setDraft(session: string, text: string): void
  send(session: string, text: string): Promise<Result>
  retry(clientId: string): Promise<Result>
  dismissLine(clientId: string): void
  typing(session: string): void

  next(): Promise<Result>
  pick(session: string): Promise<Result>
  end(session: string): Promise<Result>
  /**
   * Close window: out of the list at once, left on the relay once the undo
   * time is over (undo false: at once, as the dashboard's Stop listening).
   */
  leave(session: string, opts?: { undo?: boolean }): Promise<Result>
  /** Takes ended chats out of my list on this machine (the relay keeps them). */
  dismissEnded(sessions: readonly string[]): void
  listen(session: string): Promise<Result>
  takeOver(session: string): Promise<Result>
  setStatus(status: 'present' | 'away'): Promise<Result>

  targets(session: string): Promise<Result<AgentInfo[]>>
  transfer(req: TransferStart): Promise<Result>
  accept(transfer: number): Promise<Result>
  reject(transfer: number): Promise<Result>
  cancel(transfer: number): Promise<Result>
  createRequest(session: string, title: string): Promise<Result>

  setMuted(muted: boolean): Promise<Result>
  setLanguage(lang: Language): Promise<Result>
  openDashboard(): Promise<Result>
  logout(): Promise<Result>
  /** Quits the app (after quitAsk was answered), or drops the question. */
  quit(): Promise<Result>
  keepRunning(): void

  notify(kind: ToastKind, text: string, session?: string): void
  dismissToast(id: number): void
  /** The human text of a failed call. */
  errorText(r: Result): string
}

/** What quitting now would leave behind. */
export interface QuitAsk {
  chats: number
  graceS: number
}

export interface ControllerOptions {
  now?: () => number
  storage?: Storage
  /** Toast lifetime override (tests pass 0 to keep them). */
  toastMs?: number
  /** How long Close window can be undone (ms); 0 leaves at once. */
  undoMs?: number
}

/** Close window can be undone this long. */
export const undoLeaveMs = 6000
/** Where dismissed ended chats are remembered, per agent. */
const dismissedKey = (agent: number) => `switchboard.dismissed.${agent}`

let localIds = 0

export function createDesk(opts: ControllerOptions = {}): DeskController {
  const now = opts.now ?? (() => Date.now())
  const state = writable<DeskState>(initialDesk())
  const connection = writable<Connection>(initialConnection)
  const toasts = writable<Toast[]>([])
  const quitAsk = writable<QuitAsk | null>(null)
  const drafts = writable<Record<string, string>>({})
  const loading = writable<Record<string, boolean>>({})
  const config = writable<DeskConfig | null>(null)
  const typingThrottle = createThrottle(typingInterval)
  /** Transfer outcomes already told, as "id:state": an event and a reply may both report one. */
  const told = new Set<string>()
  let toastId = 0

  const tr = (key: MessageKey, params?: Params) => get(t)(key, params)
  const quickReplies = createQuickReplies({
    storage: opts.storage ?? globalThis.localStorage,
    onError(r) {
      switch (r.error?.code) {
        case QuickCodes.full:
          return notify('error', tr('composer.quickFull', { max: quickReplyLimits.count }))
        case QuickCodes.tooLong:
          return notify('error', tr('composer.quickTooLong', { max: quickReplyLimits.text }))
        default:
          return notify('error', tr('composer.quickNotSaved', { reason: errorText(r) }))
      }
    },
  })
  const requests = createRequests()
  const update = (fn: (s: DeskState) => DeskState) => state.update(fn)

  function notify(kind: ToastKind, text: string, session?: string, action?: Toast['action'], lifeMs?: number, key?: string): number {
    const toast: Toast = { id: ++toastId, kind, text, session, action, key }
    toasts.update((l) => pushToast(l, toast))
    const ms = lifeMs ?? opts.toastMs ?? toastMs[kind]
    if (ms > 0) setTimeout(() => toasts.update((l) => dismissToast(l, toast.id)), ms)
    return toast.id
  }

  // Close window waits out its undo time before the relay hears of it.
  const undoMs = opts.undoMs ?? undoLeaveMs
  const leaving = new Map<string, { timer: ReturnType<typeof setTimeout>; toast: number }>()

  async function commitLeave(session: string): Promise<Result> {
    const held = leaving.get(session)
    if (held) clearTimeout(held.timer)
    leaving.delete(session)
    const r = await command('session.leave', { session })
    if (r.ok) update((s) => removeChat(s, session))
    else {
      update((s) => hideChats(s, [session], false))
      notify('error', errorText(r))
    }
    return r
  }

  function undoLeave(session: string) {
    const held = leaving.get(session)
    if (!held) return
    clearTimeout(held.timer)
    leaving.delete(session)
    toasts.update((l) => dismissToast(l, held.toast))
    update((s) => hideChats(s, [session], false))
    void select(session)
  }

  /** Sends the leaves still waiting out their undo time (sign-out, quit). */
  function flushLeaves(): Promise<unknown> {
    return Promise.all([...leaving.keys()].map(commitLeave))
  }

  const storage = opts.storage ?? globalThis.localStorage

  function loadDismissed(agent: number): string[] {
    try {
      const v: unknown = JSON.parse(storage?.getItem(dismissedKey(agent)) ?? '[]')
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
    } catch {
      return []
    }
  }

  function errorText(r: Result): string {
    return errorMessage(get(t).lang, r.error)
  }

  /** Applies a transfer (event or reply) and tells its news once. */
  function noteTransfer(tr0: TransferInfo) {
    update((s) => applyTransferEvent(s, tr0))
    const key = `${tr0.id}:${tr0.state}`
    if (told.has(key)) return
    told.add(key)
    const n = transferNotice(tr0, get(state).me?.id)
    // One toast per transfer, replaced as its state changes. A void reason
    // is a code, said here (it names the receiver or the owner).
    const about = tr0.reason?.startsWith('receiver_') ? tr0.to?.name : tr0.reason?.startsWith('owner_') ? tr0.from?.name : undefined
    const params = { ...n?.params, reason: reasonText(get(t), tr0.reason, about) }
    if (n) notify(n.kind, tr(n.key as MessageKey, params), tr0.session, undefined, undefined, `transfer:${tr0.id}`)
  }

  function sessionEvent(info: SessionInfo) {
    const before = get(state)
    update((s) => applySession(s, info))
    const after = get(state)
    // An offered chat shows itself when nothing else is open.
    if (after.selected === null && info.id in after.sessions && info.role === 'offered' && !(info.id in before.sessions)) {
      void select(info.id)
    } else if (after.selected === info.id) {
      void backfill(info.id)
    }
  }

  function relayEvent(ev: RelayEvent) {
    switch (ev.ev) {
      case 'session':
        if (ev.data) sessionEvent(ev.data as SessionInfo)
        return
      case 'transfer':
        if (ev.data) noteTransfer(ev.data as TransferInfo)
        return
      case 'request': {
        const r = ev.data as RequestEvent | undefined
        requests.apply(r)
        if (r?.warning) {
          notify('warning', tr('requests.toast.unclaimed', { number: r.request.number, duration: formatDuration(r.waited_s ?? 0) }))
        } else if (r?.notify && r.action === 'created') {
          notify('info', tr('requests.toast.new', { number: r.request.number, visitor: r.request.visitor?.name || tr('common.visitor') }))
        }
        return
      }
      case 'quickreplies':
        // Saved on another machine or window of this agent.
        quickReplies.apply((ev.data as QuickRepliesPayload | undefined)?.replies)
        return
      case 'warning': {
        update((s) => applyRelayEvent(s, ev, now()))
        const w = ev.data as WarningEvent
        if (w) {
          const key = w.level === 'manager' ? 'toast.warning.manager' : 'toast.warning.waiting'
          notify('warning', tr(key, { visitor: w.visitor, channel: channelName(get(state), w.channel), duration: formatDuration(w.waited_s) }))
        }
        return
      }
    }
    update((s) => applyRelayEvent(s, ev, now()))
  }

  /** Fetches what is missing of a chat's log (a fresh login holds none of it). */
  async function backfill(session: string) {
    if (get(loading)[session]) return
    const s0 = get(state)
    const info = s0.sessions[session]
    if (!info || !needsBackfill(s0.logs[session] ?? [], info.seq ?? 0)) return
    loading.update((l) => ({ ...l, [session]: true }))
    try {
      for (let page = 0; page < maxLogPages; page++) {
        const after = contiguousSeq(get(state).logs[session] ?? [])
        const r = await command('session.log', { session, after })
        if (!r.ok || !r.data) break
        const entries = r.data.entries ?? []
        update((s) => applyEntries(s, session, entries))
        if (!r.data.more || entries.length === 0) break
      }
    } finally {
      loading.update((l) => {
        const next = { ...l }
        delete next[session]
        return next
      })
    }
  }

  async function select(session: string | null) {
    if (session) void requests.show(null) // a chat takes the main area from a request
    update((s) => selectChat(s, session))
    if (session) await backfill(session)
  }

  function welcome(w: AgentWelcome) {
    update((s) => applyWelcome(s, w))
    // Ended chats dismissed on this machine stay dismissed; forget those the
    // relay no longer lists.
    const sessions = get(state).sessions
    const dismissed = loadDismissed(w.agent.id).filter((id) => sessions[id]?.state === 'ended')
    storage?.setItem(dismissedKey(w.agent.id), JSON.stringify(dismissed))
    update((s) => hideChats(s, [...dismissed, ...leaving.keys()]))
    for (const tr0 of w.transfers ?? []) told.add(`${tr0.id}:${tr0.state}`)
    if (get(connection).state !== 'connected') connection.set({ ...initialConnection, state: 'connected' })
    const sel = get(state).selected
    if (sel) void backfill(sel)
    // The desk window reads the agent's quick replies (again after a
    // reconnect: a save elsewhere may have been missed meanwhile).
    if (get(config)?.window !== 'dashboard') {
      void quickReplies.load()
      void requests.load()
    }
  }

  /** Applies a session a call answered with, and opens it. */
  async function adopt(r: Result<SessionInfo>) {
    if (r.ok && r.data?.id) {
      const info = r.data
      update((s) => adoptSession(s, info))
      await select(info.id)
    }
    return r
  }

  async function send(session: string, text: string): Promise<Result> {
    typingThrottle.reset(session)
    const r = await call('Send', session, text)
    if (r.ok && r.data?.clientId) {
      const id = r.data.clientId
      update((s) => ({ ...s, outbox: outboxSent(s.outbox, session, id, text) }))
    } else if (!r.ok) {
      const msg = errorText(r)
      update((s) => ({ ...s, outbox: outboxRefused(s.outbox, session, `local-${++localIds}`, text, msg) }))
    }
    return r
  }

  async function resolved(r: Result<TransferInfo>) {
    if (r.ok && r.data && typeof r.data.id === 'number') noteTransfer(r.data)
    return r
  }

  return {
    state: { subscribe: state.subscribe },
    connection: { subscribe: connection.subscribe },
    toasts: { subscribe: toasts.subscribe },
    quitAsk: { subscribe: quitAsk.subscribe },
    drafts,
    loading: { subscribe: loading.subscribe },
    config,
    quickReplies,
    requests,

    start() {
      const offs = [
        onEvent(Events.state, (p) => {
          if (!p || typeof p !== 'object') return
          const payload = p as RelayStatePayload
          // The welcome first, so whoever watches the connection sees the desk it belongs to.
          if (payload.state === 'connected' && payload.welcome) welcome(payload.welcome)
          connection.set(connectionFrom(payload, now()))
        }),
        onEvent(Events.event, (ev) => {
          if (ev && typeof ev === 'object' && 'ev' in ev) relayEvent(ev as RelayEvent)
        }),
        onEvent(Events.outbox, (ev) => {
          if (ev && typeof ev === 'object' && 'clientId' in ev) update((s) => applyOutboxEvent(s, ev as OutboxEvent))
        }),
        onEvent(Events.open, (p) => {
          const session = (p as { session?: string } | undefined)?.session
          if (session) void select(session)
        }),
        onEvent(Events.notice, (p) => {
          // The Go side's notices name a code where it has one: said in the
          // desk's language, its English text the fallback.
          const n = p as { kind?: string; text?: string; code?: string } | undefined
          if (n?.text || n?.code) notify(toastKind(n.kind), noticeText(get(t), n))
        }),
        onEvent(Events.language, (p) => {
          const lang = (p as { language?: Language } | undefined)?.language
          if (!lang) return
          config.update((c) => (c ? { ...c, language: lang } : c))
          language.set(resolveLanguage(lang, globalThis.navigator?.language))
        }),
        onEvent(Events.confirmQuit, (p) => {
          const q = p as { chats?: number; grace_s?: number } | undefined
          quitAsk.set({ chats: q?.chats ?? 0, graceS: q?.grace_s ?? 0 })
        }),
      ]
      return () => offs.forEach((off) => off())
    },
    welcome,
    reset() {
      void flushLeaves()
      state.set(initialDesk())
      connection.set(initialConnection)
      drafts.set({})
      quickReplies.reset()
      requests.reset()
      told.clear()
    },

    select,
    setDraft(session, text) {
      drafts.update((d) => ({ ...d, [session]: text }))
    },
    send,
    async retry(clientId) {
      const item = get(state).outbox.find((it) => it.clientId === clientId)
      if (!item) return { ok: false, error: { code: 'not_found', message: '' } }
      update((s) => ({ ...s, outbox: dismissLine(s.outbox, clientId) }))
      if (!item.file) return send(item.session, item.text)
      // The file is on the relay already: send the message again, not the file.
      const r = await call('SendFile', item.session, item.text, item.file)
      if (r.ok && r.data?.clientId) {
        const id = r.data.clientId
        update((s) => ({ ...s, outbox: outboxSent(s.outbox, item.session, id, item.text, item.file) }))
      } else if (!r.ok) {
        notify('error', errorText(r))
      }
      return r
    },
    dismissLine(clientId) {
      update((s) => ({ ...s, outbox: dismissLine(s.outbox, clientId) }))
    },
    typing(session) {
      if (typingThrottle.take(session, now())) void command('typing', { session })
    },

    async next() {
      const r = await command('queue.next')
      if (!r.ok) notify(r.error?.code === 'queue_empty' ? 'info' : 'error', errorText(r))
      return adopt(r)
    },
    async pick(session) {
      const r = await command('session.pick', { session })
      if (!r.ok) notify('error', errorText(r))
      return adopt(r)
    },
    async end(session) {
      const r = await command('session.end', { session })
      if (r.ok && r.data?.id) {
        const info = r.data
        update((s) => applySession(s, info))
      }
      return r
    },
    async leave(session, o = {}) {
      if (undoMs <= 0 || o.undo === false || leaving.has(session)) return commitLeave(session)
      const info = get(state).sessions[session]
      update((s) => hideChats(s, [session]))
      const name = info?.visitor?.name || tr('common.visitor')
      const toast = notify('info', tr('close.done', { name }), undefined, { label: tr('common.undo'), run: () => undoLeave(session) }, undoMs)
      leaving.set(session, { timer: setTimeout(() => void commitLeave(session), undoMs), toast })
      return { ok: true }
    },
    dismissEnded(sessions) {
      const s0 = get(state)
      const ended = sessions.filter((id) => s0.sessions[id]?.state === 'ended')
      if (ended.length === 0 || !s0.me) return
      update((s) => hideChats(s, ended))
      const all = new Set([...loadDismissed(s0.me.id), ...ended])
      storage?.setItem(dismissedKey(s0.me.id), JSON.stringify([...all]))
    },
    async listen(session) {
      return adopt(await command('session.listen', { session }))
    },
    async takeOver(session) {
      const r = await command('session.takeover', { session })
      if (!r.ok) notify('error', errorText(r))
      return r
    },
    async setStatus(status) {
      const r = await command('status.set', { status })
      if (r.ok) {
        const a = r.data && typeof r.data === 'object' && 'id' in r.data ? r.data : undefined
        update((s) => {
          if (!s.me) return s
          const me = { ...s.me, ...(a ?? {}), status: a?.status ?? status }
          return { ...s, me, agents: { ...s.agents, [me.id]: { ...s.agents[me.id], ...me } } }
        })
      } else notify('error', errorText(r))
      return r
    },

    targets(session) {
      return command('transfer.targets', { session })
    },
    async transfer(req) {
      return resolved(await command('transfer.start', req))
    },
    async accept(id) {
      const r = await resolved(await command('transfer.accept', { transfer: id }))
      if (!r.ok) notify('error', errorText(r))
      return r
    },
    async reject(id) {
      const r = await resolved(await command('transfer.reject', { transfer: id }))
      if (!r.ok) notify('error', errorText(r))
      return r
    },
    async cancel(id) {
      const r = await resolved(await command('transfer.cancel', { transfer: id }))
      if (!r.ok) notify('error', errorText(r))
      return r
    },
    async createRequest(session, title) {
      const r = await command('request.create', { session, title })
      if (r.ok && r.data) {
        // The line for the visitor, in the desk's language.
        const line = typeof r.data.number === 'number' ? tr('request.line', { number: r.data.number }) : ''
        if (line) {
          drafts.update((d) => {
            const cur = (d[session] ?? '').trimEnd()
            return { ...d, [session]: cur ? `${cur}\n${line}` : line }
          })
        }
        notify('success', tr('request.created', { number: r.data.number }), session)
      }
      return r
    },

    async setMuted(muted) {
      const r = await call('SetMuted', muted)
      if (r.ok) config.update((c) => (c ? { ...c, muted } : c))
      return r
    },
    async setLanguage(lang) {
      const r = await call('SetLanguage', lang)
      if (r.ok) {
        config.update((c) => (c ? { ...c, language: lang } : c))
        language.set(resolveLanguage(lang, globalThis.navigator?.language))
      }
      return r
    },
    async openDashboard() {
      const r = await call('OpenDashboard')
      if (!r.ok) notify('error', errorText(r))
      return r
    },
    async quit() {
      quitAsk.set(null)
      await flushLeaves()
      return call('Quit')
    },
    keepRunning() {
      quitAsk.set(null)
    },
    async logout() {
      await flushLeaves()
      const r = await call('Logout')
      state.set(initialDesk())
      connection.set(initialConnection)
      drafts.set({})
      quickReplies.reset()
      requests.reset()
      told.clear()
      return r
    },

    notify,
    dismissToast(id) {
      toasts.update((l) => dismissToast(l, id))
    },
    errorText,
  }
}
