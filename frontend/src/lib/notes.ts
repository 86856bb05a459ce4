// System lines of a chat log travel as a code with parameters (the relay
// sends no sentences); this words them in the UI's language. The codes are
// the domain's (noteCodes.json; a Go test keeps the file equal to them, a
// Vitest test checks every code has a text in every language).

import codes from './noteCodes.json'
import { isKey, type MessageKey, type Translator } from './i18n'
import type { Entry, NoteAgent } from './protocol'

export const noteCodes: { visitor: string[]; staff: string[]; reasons: string[] } = codes

const name = (t: Translator, a: NoteAgent | undefined) => a?.name || t('common.anAgent')

/**
 * Why a transfer was voided, in words. agent is whom the reason names; a
 * reason stored before codes existed (English) is shown as it is.
 */
export function reasonText(t: Translator, reason: string | undefined, agent?: string): string {
  if (!reason) return ''
  const key = `reason.${reason}`
  if (!isKey(key)) return reason
  const anon = `${key}.anon`
  if (!agent && isKey(anon)) return t(anon)
  return t(key, { agent: agent || t('common.anAgent') })
}

/** The text of a log entry: what a person wrote, or a system line in words. */
export function entryText(t: Translator, e: Entry): string {
  const key = `note.${e.note ?? ''}`
  if (!e.note || !isKey(key)) return e.text // a line stored before codes, or one this desk does not know
  const p = e.params ?? {}
  const params = {
    // A visitor-visible line names its agent in from.name too (older relays).
    agent: p.agent?.name || e.from?.name || t('common.anAgent'),
    by: name(t, p.by),
    to: name(t, p.to),
    from: name(t, p.from),
    comment: p.comment ?? '',
    reason: reasonText(t, p.reason, p.agent?.name),
  }
  const onBehalf = e.note === 'transfer_offered' && !!p.by?.id && !!p.from?.id && p.by.id !== p.from.id
  let text = t((onBehalf ? 'note.transfer_offered.behalf' : key) as MessageKey, params)
  if (e.note === 'transfer_offered' && p.comment) text += ' ' + t('note.transfer_offered.comment', params)
  return text
}
