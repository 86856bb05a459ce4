// Attachments in the desk: the window hands a file's bytes to the Go side,
// which uploads them (progress as app:upload events) and sends the message
// through the outbox; and it asks the Go side for an image's preview or to
// save a file. Uploads under way live in the uploads store, by chat.

import { writable, type Readable } from 'svelte/store'
import { call, onEvent, type Result } from './bridge'
import { errorMessage, isKey, type Lang, type Translator } from './i18n'
import type { FileRules } from './protocol'

export const uploadEvent = 'app:upload'
/** Files dropped on the window, by path ({x, y, paths}): see ChatPanel. */
export const dropEvent = 'app:drop'

export interface Upload {
  id: string
  session: string
  name: string
  sent: number
  total: number
  /** The refusal, once it failed (a cancelled upload just goes away). */
  error?: { code: string; message: string }
}

export interface UploadProgress {
  id: string
  session: string
  sent: number
  total: number
}

const store = writable<Record<string, Upload>>({})
export const uploads: Readable<Record<string, Upload>> = { subscribe: store.subscribe }

// The runtime progress is heard on (a new one in each test's fake bridge).
let listeningOn: unknown = null
function listen() {
  if (listeningOn === window.runtime) return
  listeningOn = window.runtime
  onEvent(uploadEvent, (d) => {
    const p = d as UploadProgress
    store.update((all) => (all[p.id] && !all[p.id].error ? { ...all, [p.id]: { ...all[p.id], sent: p.sent, total: p.total } } : all))
  })
}

/** The uploads of one chat, oldest first. */
export function uploadsOf(all: Record<string, Upload>, session: string): Upload[] {
  return Object.values(all).filter((u) => u.session === session)
}

function newId(): string {
  return `up-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** The bytes of a file as base64, for the bound Upload. */
export async function toBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** A pasted screenshot has no useful name: give it one with the time. */
export function fileName(file: File, at = new Date()): string {
  if (file.name && file.name !== 'image.png') return file.name
  const ext = (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg')
  const pad = (n: number) => String(n).padStart(2, '0')
  return `screenshot-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}.${ext}`
}

/**
 * Uploads a file into a chat and sends it (with text, which may be empty).
 * Resolves to the bound call's Result; the uploads store shows it meanwhile,
 * and keeps a refusal until dismissed.
 */
export async function attach(session: string, file: File, text = '', rules?: FileRules): Promise<Result> {
  const name = fileName(file)
  if (rules && rules.max_bytes > 0 && file.size > rules.max_bytes) {
    return refuse({ id: newId(), session, name, sent: 0, total: file.size }, { code: 'too_large', message: `over ${rules.max_bytes} bytes` })
  }
  return track(session, name, file.size, async (id) => call('Upload', { id, session, name, data: await toBase64(file), text }))
}

/** Uploads a file dropped from a file manager, which the web view names only by its path. */
export function attachPath(session: string, path: string, text = ''): Promise<Result> {
  const name = path.split('/').pop() || path
  return track(session, name, 0, (id) => call('UploadPath', { id, session, path, text }))
}

/** The absolute paths of the file:// links of a text/uri-list. */
export function pathsOf(uriList: string): string[] {
  const out: string[] = []
  for (const line of uriList.split(/\r?\n/)) {
    const u = line.trim()
    if (!u.startsWith('file://') || u.startsWith('#')) continue
    try {
      const url = new URL(u)
      const path = decodeURIComponent(url.pathname)
      // Another machine's file (file://host/…) is not on this disk.
      if ((url.host === '' || url.host === 'localhost') && path.startsWith('/')) out.push(path)
    } catch {
      /* not a link we can read */
    }
  }
  return out
}

function refuse(up: Upload, error: { code: string; message: string }): Result {
  store.update((all) => ({ ...all, [up.id]: { ...up, error } }))
  return { ok: false, error }
}

async function track(session: string, name: string, total: number, run: (id: string) => Promise<Result>): Promise<Result> {
  listen()
  const id = newId()
  store.update((all) => ({ ...all, [id]: { id, session, name, sent: 0, total } }))
  const res = await run(id)
  store.update((all) => {
    const { [id]: mine, ...rest } = all
    if (res.ok || res.error?.code === 'cancelled' || !mine) return rest
    return { ...rest, [id]: { ...mine, error: res.error ?? { code: 'internal', message: '' } } }
  })
  return res
}

export function cancelUpload(id: string): Promise<Result> {
  return call('CancelUpload', id)
}

export function dismissUpload(id: string) {
  store.update((all) => {
    const { [id]: _gone, ...rest } = all
    return rest
  })
}

/** Forgets every upload (sign-out, tests). */
export function resetUploads() {
  store.set({})
}

/** Whether the channel takes attachments at all. */
export function filesAllowed(rules: FileRules | undefined): boolean {
  return !!rules && rules.max_bytes > 0
}

/** A refused upload in the desk's language: file.error.<code>, else the common error text. */
export function uploadError(t: Translator, err: { code?: string; message?: string }, rules?: FileRules): string {
  const key = `file.error.${err.code}`
  if (isKey(key)) return t(key, { max: rules ? formatSize(rules.max_bytes, t.lang) : '' })
  return errorMessage(t.lang, err)
}

/** Bytes for people: 512 B, 12 KB, 3.4 MB (decimal comma in Swedish). */
export function formatSize(bytes: number, lang: Lang): string {
  const units = ['B', 'KB', 'MB', 'GB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  const digits = u === 0 || v >= 10 ? 0 : 1
  return `${v.toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${units[u]}`
}

/** Images the relay previews inline (never SVG). */
export function isPreviewable(type: string): boolean {
  return type === 'image/png' || type === 'image/jpeg' || type === 'image/gif'
}

const typeNames: Record<string, string> = {
  'application/pdf': 'PDF',
  'text/plain': 'Text',
  'text/csv': 'CSV',
  'text/rtf': 'RTF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.ms-excel': 'Excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.ms-powerpoint': 'PowerPoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'application/vnd.oasis.opendocument.text': 'OpenDocument',
  'application/vnd.oasis.opendocument.spreadsheet': 'OpenDocument',
  'application/vnd.oasis.opendocument.presentation': 'OpenDocument',
}

/** A file type as people name it; an unknown one as its MIME type. */
export function typeName(type: string): string {
  return typeNames[type] ?? type
}

/** The accept attribute of the file input: the channel's types. */
export function acceptOf(rules: FileRules | undefined): string | undefined {
  return rules?.types?.length ? rules.types.join(',') : undefined
}

/** Whether a drag carries files (or the links to them a file manager offers). */
export function carriesFiles(dt: DataTransfer | null | undefined): boolean {
  const types = Array.from(dt?.types ?? [])
  return types.includes('Files') || types.includes('text/uri-list')
}

/**
 * Keeps a file dropped outside the chat from replacing the whole app: the
 * web view's default for a dropped file or link is to open it in place.
 * Returns the function that stops guarding.
 */
export function guardDrops(target: Window = window): () => void {
  const stop = (e: DragEvent) => {
    if (!e.defaultPrevented && carriesFiles(e.dataTransfer)) {
      e.preventDefault()
      if (e.type === 'dragover' && e.dataTransfer) e.dataTransfer.dropEffect = 'none'
    }
  }
  target.addEventListener('dragover', stop)
  target.addEventListener('drop', stop)
  return () => {
    target.removeEventListener('dragover', stop)
    target.removeEventListener('drop', stop)
  }
}
