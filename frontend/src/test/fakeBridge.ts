// A stand-in for what Wails injects: window.go.app.Desk (every bound method a
// vi.fn that records its calls) and window.runtime.EventsOn (tests fire Go
// events with emit). Results default to ok; override per method.

import { vi, type Mock } from 'vitest'
import type { DeskApi, DeskConfig } from '../lib/bridge'
import type { QuickReply } from '../lib/protocol'
import { welcome } from './fixtures'

type Method = keyof DeskApi
type Impl = (...args: never[]) => unknown

export interface FakeBridge {
  desk: Record<Method, Mock>
  /** Every call in order, as [method, ...args]. */
  calls: unknown[][]
  /** Fires a Go event to every listener. */
  emit(event: string, payload: unknown): void
  listening(event: string): boolean
  /** The args of each call of one method. */
  callsOf(method: Method): unknown[][]
  uninstall(): void
}

export const defaultConfig: DeskConfig = {
  server: 'relay.example.com',
  serverLocked: false,
  login: '',
  remember: false,
  language: 'en',
  muted: false,
  window: 'main',
  hasToken: false,
}

const methods: Method[] = [
  'Version', 'Config', 'Login', 'Resume', 'Logout', 'SetStatus', 'Next', 'Pick', 'Send', 'End', 'Leave',
  'Listen', 'TakeOver', 'Typing', 'Log', 'Targets', 'Transfer', 'Accept', 'Reject', 'Cancel', 'History',
  'CreateRequest', 'QuickReplies', 'SaveQuickReplies', 'SetMuted', 'SetLanguage', 'OpenDashboard', 'Quit',
  'Requests', 'Request', 'ClaimRequest', 'AnswerRequest', 'CloseRequest', 'AssignRequest',
]

export function installFakeBridge(overrides: Partial<Record<Method, Impl>> = {}): FakeBridge {
  let sent = 0
  // The relay's copy of the agent's quick replies.
  let quick: QuickReply[] = []
  const defaults: Partial<Record<Method, Impl>> = {
    Version: () => '1.2.3',
    Config: () => ({ ok: true, data: { ...defaultConfig } }),
    Login: () => ({ ok: true, data: welcome() }),
    Resume: () => ({ ok: true, data: welcome() }),
    Send: () => ({ ok: true, data: { clientId: `m-${++sent}` } }),
    Log: () => ({ ok: true, data: { entries: [], more: false } }),
    Targets: () => ({ ok: true, data: [] }),
    Requests: () => ({ ok: true, data: { requests: [], mail: true } }),
    QuickReplies: () => ({ ok: true, data: { replies: [...quick] } }),
    SaveQuickReplies: (list: QuickReply[] | null) => {
      quick = [...(list ?? [])]
      return { ok: true, data: { replies: [...quick] } }
    },
  }
  const calls: unknown[][] = []
  const desk = {} as Record<Method, Mock>
  for (const m of methods) {
    const impl = overrides[m] ?? defaults[m] ?? (() => ({ ok: true, data: {} }))
    desk[m] = vi.fn(async (...args: unknown[]) => {
      calls.push([m, ...args])
      return (impl as (...a: unknown[]) => unknown)(...args)
    })
  }
  const listeners = new Map<string, Set<(...data: unknown[]) => void>>()
  window.go = { app: { Desk: desk as unknown as DeskApi } }
  window.runtime = {
    EventsOn(event, cb) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(cb)
      return () => set.delete(cb)
    },
  }
  return {
    desk,
    calls,
    emit(event, payload) {
      for (const cb of [...(listeners.get(event) ?? [])]) cb(payload)
    },
    listening: (event) => (listeners.get(event)?.size ?? 0) > 0,
    callsOf: (method) => calls.filter((c) => c[0] === method).map((c) => c.slice(1)),
    uninstall() {
      delete window.go
      delete window.runtime
    },
  }
}
