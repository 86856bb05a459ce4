// The only place that knows how the Go side is reached. Inside the desktop
// app Wails injects window.go (bound services) and window.runtime (events);
// in a plain browser (vite dev) they are absent, and in tests they are
// stubbed (src/test/fakeBridge.ts).

import type { AgentCommands, AgentWelcome, FileInfo } from './protocol'

/** The uniform answer of every bound Desk method (except Version). */
export interface Result<T = unknown> {
  ok: boolean
  data?: T
  error?: { code: string; message: string }
}

export type Language = 'auto' | 'en' | 'sv'
export type WindowKind = 'main' | 'dashboard'

export interface DeskConfig {
  server: string
  serverLocked: boolean
  login: string
  remember: boolean
  language: Language
  muted: boolean
  window: WindowKind
  /** Resume has a sign-in to use: remembered (desk), or handed over by the desk window (dashboard). */
  hasToken: boolean
  /** A dashboard window was handed its sign-in by the desk window that opened it. */
  handover?: boolean
}

/** A file the agent attaches: its bytes as base64; id names it in progress events and CancelUpload. */
export interface UploadRequest {
  id: string
  session: string
  name: string
  data: string
  text: string
}

export interface LoginRequest {
  server: string
  login: string
  password: string
  remember: boolean
}

/**
 * Agent commands the Go side runs itself and refuses by name (app.appOwned):
 * hello (Login, Resume), logout (Logout), token.handover (OpenDashboard),
 * message.send (Send, through the outbox), dashboard.watch/unwatch (the
 * dashboard window watches on every connection).
 */
export const appOwnedCommands = ['hello', 'logout', 'token.handover', 'message.send', 'dashboard.watch', 'dashboard.unwatch'] as const
export type AppOwnedCommand = (typeof appOwnedCommands)[number]

/** The relay commands the UI sends by name through Desk.Command. */
export type AgentCommandName = Exclude<keyof AgentCommands, AppOwnedCommand>
/** A command's payload, as generated from backend/protocol's registry (void: none). */
export type PayloadOf<K extends keyof AgentCommands> = AgentCommands[K]['data']
/** The data of a command's reply. */
export type ReplyOf<K extends keyof AgentCommands> = AgentCommands[K]['reply']
/** The payload argument of command(): none for a command without data. */
export type PayloadArg<K extends keyof AgentCommands> = PayloadOf<K> extends void ? [] : [data: PayloadOf<K>]

/** Mirrors app.Desk on the Go side: window.go.app.Desk.<Method>. */
export interface DeskApi {
  Version(): Promise<string>
  Config(): Promise<Result<DeskConfig>>
  Login(req: LoginRequest): Promise<Result<AgentWelcome>>
  Resume(): Promise<Result<AgentWelcome>>
  Logout(): Promise<Result>
  /** Sends a relay command of the registry; the reply's data is the Result's data. */
  Command(name: AgentCommandName, data: unknown): Promise<Result>
  Send(session: string, text: string): Promise<Result<{ clientId: string }>>
  /** Sends a message carrying a file already on the relay (Retry of a failed line with a file). */
  SendFile(session: string, text: string, file: string): Promise<Result<{ clientId: string }>>
  /** Uploads a file into a chat (progress as app:upload) and sends it through the outbox. */
  Upload(req: UploadRequest): Promise<Result<{ clientId: string; file: FileInfo }>>
  /** Upload of a file dropped from a file manager, by its absolute path. */
  UploadPath(req: { id: string; session: string; path: string; text: string }): Promise<Result<{ clientId: string; file: FileInfo }>>
  CancelUpload(id: string): Promise<Result>
  /** An image of a chat as a data: URL, for a thumbnail or the full-size view. */
  Preview(session: string, file: string): Promise<Result<{ url: string; type: string }>>
  /** Asks where to save a file of a chat and saves it there. */
  SaveFile(session: string, file: string, name: string): Promise<Result<{ path: string }>>
  SetMuted(muted: boolean): Promise<Result>
  SetLanguage(language: Language): Promise<Result>
  OpenDashboard(): Promise<Result>
  Quit(): Promise<Result>
}

export type DeskMethod = Exclude<keyof DeskApi, 'Version'>

interface WailsRuntime {
  EventsOn(event: string, callback: (...data: unknown[]) => void): () => void
  ClipboardSetText?(text: string): Promise<boolean>
}

declare global {
  interface Window {
    go?: { app?: { Desk?: Partial<DeskApi> } }
    runtime?: WailsRuntime
  }
}

/** Names of events the Go side emits. */
export const Events = {
  state: 'relay:state',
  event: 'relay:event',
  outbox: 'relay:outbox',
  open: 'app:open',
  notice: 'app:notice',
  /** Quit from the tray while answering chats: ask first ({chats, grace_s}). */
  confirmQuit: 'app:confirm-quit',
  /** Another window of this profile set the language ({language}): follow it. */
  language: 'app:language',
} as const

export function deskApi(): Partial<DeskApi> | undefined {
  return window.go?.app?.Desk
}

/** True inside the desktop app (or a test that stubbed it). */
export function hasBridge(): boolean {
  return deskApi() !== undefined
}

/**
 * Calls a bound Desk method and always resolves to a Result: a missing
 * bridge, a rejected promise (a Go error) or a malformed answer become
 * ok: false with a code of their own, so callers handle one shape.
 */
export async function call<M extends DeskMethod>(
  method: M,
  ...args: Parameters<DeskApi[M]>
): Promise<Awaited<ReturnType<DeskApi[M]>>> {
  type R = Awaited<ReturnType<DeskApi[M]>>
  const fn = deskApi()?.[method] as ((...a: unknown[]) => Promise<unknown>) | undefined
  if (!fn) {
    return { ok: false, error: { code: 'no_bridge', message: 'Not connected to the desktop app.' } } as R
  }
  try {
    const res = await fn(...args)
    if (res && typeof res === 'object' && 'ok' in res) return res as R
    return { ok: true, data: res } as R
  } catch (err) {
    return { ok: false, error: { code: 'bridge', message: errorText(err) } } as R
  }
}

/**
 * Sends a relay command through the Go side's one generic bound method,
 * typed by the generated protocol: command('session.pick', { session })
 * resolves to a Result of the SessionInfo the relay answered.
 */
export async function command<K extends AgentCommandName>(name: K, ...data: PayloadArg<K>): Promise<Result<ReplyOf<K>>> {
  return (await call('Command', name, data.length > 0 ? data[0] : null)) as Result<ReplyOf<K>>
}

/**
 * How a version is shown: "v1.2.3" for a release number; a build from a
 * commit ("d80fe4b", "d80fe4b-dirty") as it is, not "vd80fe4b".
 */
export function versionLabel(v: string): string {
  return /^\d/.test(v) ? `v${v}` : v
}

/** Version is the one bound method that answers a plain string. */
export async function version(): Promise<string> {
  try {
    const v: unknown = await deskApi()?.Version?.()
    if (typeof v === 'string') return v
    if (v && typeof v === 'object' && 'data' in v) return String((v as Result).data ?? '')
  } catch {
    /* no version to show */
  }
  return ''
}

/** Subscribes to a Go event; returns the unsubscribe function. */
export function onEvent(event: string, callback: (data: unknown) => void): () => void {
  const off = window.runtime?.EventsOn(event, (...data: unknown[]) => callback(data[0]))
  return typeof off === 'function' ? off : () => {}
}

/** Bound methods may reject with the Go error's text; make it a string. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/**
 * Puts text on the clipboard: through the desktop app's runtime (the web
 * view's own clipboard API may be unavailable there), else the browser's.
 * Resolves to whether it worked.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (window.runtime?.ClipboardSetText) return (await window.runtime.ClipboardSetText(text)) !== false
    if (globalThis.navigator?.clipboard) {
      await globalThis.navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    /* not copied */
  }
  return false
}
