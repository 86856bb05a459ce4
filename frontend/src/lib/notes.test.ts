import { describe, expect, it } from 'vitest'
import { isKey, messages, translate, type Lang, type MessageKey, type Translator } from './i18n'
import { entryText, noteCodes, reasonText } from './notes'
import type { Entry, NoteParams } from './protocol'

function translator(lang: Lang): Translator {
  const fn = ((key: MessageKey, params?: Record<string, string | number>) => translate(lang, key, params)) as Translator
  fn.lang = lang
  return fn
}

const note = (code: string, params?: NoteParams, staff = true): Entry => ({
  seq: 2,
  at: '2025-03-03T10:00:00Z',
  kind: 'note',
  from: { kind: 'system' },
  text: '',
  staff,
  note: code,
  params,
})
const anna = { id: 1, name: 'Anna' }
const bo = { id: 2, name: 'Bo' }
const mia = { id: 4, name: 'Mia' }

describe('system lines by code', () => {
  // The code list is the domain's (a Go test keeps noteCodes.json equal to
  // backend/chat's); a code without a text in a language fails here.
  it('has a text for every code and reason in every language', () => {
    for (const lang of Object.keys(messages) as Lang[]) {
      for (const code of [...noteCodes.visitor, ...noteCodes.staff]) {
        expect(isKey(`note.${code}`), `${lang}: note.${code}`).toBe(true)
        expect(messages[lang][`note.${code}` as MessageKey], `${lang}: note.${code}`).toBeTruthy()
      }
      for (const code of noteCodes.reasons) {
        expect(messages[lang][`reason.${code}` as MessageKey], `${lang}: reason.${code}`).toBeTruthy()
      }
    }
  })

  it('says every line in the desk language, naming whom it names', () => {
    const cases: [Entry, string, string][] = [
      [note('joined', { agent: { name: 'Anna Berg' } }, false), 'Anna Berg has joined the chat.', 'Anna Berg har anslutit till chatten.'],
      [note('transfer_offered', { by: anna, to: bo, from: anna }), 'Anna asked Bo to take over the chat.', 'Anna bad Bo ta över chatten.'],
      [
        note('transfer_offered', { by: mia, to: bo, from: anna, comment: 'VIP' }),
        'Mia asked Bo to take over the chat from Anna. Comment: VIP',
        'Mia bad Bo ta över chatten från Anna. Kommentar: VIP',
      ],
      [note('transfer_accepted', { by: anna, to: bo, from: anna }), 'Bo accepted the transfer.', 'Bo accepterade överföringen.'],
      [note('transfer_cancelled', { by: mia, to: bo, from: anna }), 'Mia cancelled the transfer to Bo.', 'Mia avbröt överföringen till Bo.'],
      [
        note('transfer_voided', { to: bo, agent: mia, reason: 'taken_over' }),
        'The transfer to Bo was voided: taken over by Mia.',
        'Överföringen till Bo upphävdes: övertagen av Mia.',
      ],
      [note('took_over', { by: mia, from: anna }), 'Mia took over the chat from Anna.', 'Mia tog över chatten från Anna.'],
      [note('transfer_expired', { to: { id: 9, name: '' } }), 'The transfer to an agent expired unanswered.', 'Överföringen till en agent besvarades inte i tid.'],
      // A line stored before codes, and a code from a newer relay: their text.
      [{ ...note(''), note: undefined, text: 'Bo rejected the transfer.' }, 'Bo rejected the transfer.', 'Bo rejected the transfer.'],
      [{ ...note('from_the_future'), text: 'fallback' }, 'fallback', 'fallback'],
    ]
    for (const [e, en, sv] of cases) {
      expect(entryText(translator('en'), e)).toBe(en)
      expect(entryText(translator('sv'), e)).toBe(sv)
    }
  })

  it('words a void reason, or shows an old English one as it is', () => {
    expect(reasonText(translator('sv'), 'receiver_offline', 'Bo')).toBe('Bo gick offline')
    expect(reasonText(translator('sv'), 'taken_over')).toBe('chatten togs över')
    expect(reasonText(translator('sv'), 'Bo went offline')).toBe('Bo went offline')
  })
})
