// A stand-in for what Wails injects: window.go.app.Desk (every bound method a
// vi.fn that records its calls) and window.runtime.EventsOn (tests fire Go
// events with emit). Results default to ok; override per method, and per
// relay command for Desk.Command (keyed by its name: 'session.pick'). A
// command is recorded as [name, data], or [name] without data.

import { vi, type Mock } from 'vitest'
import { appOwnedCommands, type AgentCommandName, type DeskApi, type DeskConfig, type PayloadOf } from '../lib/bridge'
import { agentCommandNames, type QuickReply } from '../lib/protocol'
import { welcome } from './fixtures'

type Method = keyof DeskApi
type Impl = (...args: never[]) => unknown
/** What the Go side answers to one relay command, given its payload. */
export type CommandAnswers = { [K in AgentCommandName]?: (data: PayloadOf<K>) => unknown }
export type Overrides = Partial<Record<Exclude<Method, 'Command'>, Impl>> & CommandAnswers

export interface FakeBridge {
  desk: Record<Method, Mock>
  /** Every call in order, as [method, ...args], or [command, data?]. */
  calls: unknown[][]
  /** Fires a Go event to every listener. */
  emit(event: string, payload: unknown): void
  listening(event: string): boolean
  /** The args of each call of one method, or the [data?] of each of one command. */
  callsOf(method: Method | AgentCommandName): unknown[][]
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

const methods: Exclude<Method, 'Command'>[] = [
  'Version', 'Config', 'Login', 'Resume', 'Logout', 'Send', 'SendFile', 'Upload', 'UploadPath', 'CancelUpload', 'Preview', 'SaveFile', 'SetMuted', 'SetLanguage', 'OpenDashboard', 'Quit',
]

export function installFakeBridge(overrides: Overrides = {}): FakeBridge {
  let sent = 0
  // The relay's copy of the agent's quick replies.
  let quick: QuickReply[] = []
  const defaults: Overrides = {
    Version: () => '1.2.3',
    Config: () => ({ ok: true, data: { ...defaultConfig } }),
    Login: () => ({ ok: true, data: welcome() }),
    Resume: () => ({ ok: true, data: welcome() }),
    Send: () => ({ ok: true, data: { clientId: `m-${++sent}` } }),
    SendFile: () => ({ ok: true, data: { clientId: `m-${++sent}` } }),
    'session.log': () => ({ ok: true, data: { entries: [], more: false } }),
    'transfer.targets': () => ({ ok: true, data: [] }),
    'request.list': () => ({ ok: true, data: { requests: [], mail: true } }),
    'quickreplies.get': () => ({ ok: true, data: { replies: [...quick] } }),
    'quickreplies.set': (data) => {
      quick = [...(data?.replies ?? [])]
      return { ok: true, data: { replies: [...quick] } }
    },
  }
  const answer = (name: string) =>
    ((overrides as Record<string, Impl>)[name] ?? (defaults as Record<string, Impl>)[name] ?? (() => ({ ok: true, data: {} }))) as (
      ...a: unknown[]
    ) => unknown
  const calls: unknown[][] = []
  const desk = {} as Record<Method, Mock>
  for (const m of methods) {
    desk[m] = vi.fn(async (...args: unknown[]) => {
      calls.push([m, ...args])
      return answer(m)(...args)
    })
  }
  // As the Go side: only the registry's agent commands the app does not run itself.
  const sendable = new Set<string>(agentCommandNames.filter((n) => !(appOwnedCommands as readonly string[]).includes(n)))
  desk.Command = vi.fn(async (name: string, data?: unknown) => {
    calls.push(data == null ? [name] : [name, data])
    if (!sendable.has(name)) return { ok: false, error: { code: 'unknown_command', message: `not sent by name: ${name}` } }
    return answer(name)(data)
  })
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
    callsOf: (name) => calls.filter((c) => c[0] === name).map((c) => c.slice(1)),
    uninstall() {
      delete window.go
      delete window.runtime
    },
  }
}
