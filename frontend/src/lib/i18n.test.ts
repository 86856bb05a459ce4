// @vitest-environment node
import { get } from 'svelte/store'
import { afterEach, describe, expect, it } from 'vitest'
import { errorMessage, language, messages, resolveLanguage, t, translate, translateCount } from './i18n'

afterEach(() => language.set('en'))

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('i18n', () => {
  it('picks the configured language, or the system’s on auto', () => {
    expect(resolveLanguage('sv', 'en-US')).toBe('sv')
    expect(resolveLanguage('en', 'sv-SE')).toBe('en')
    expect(resolveLanguage('auto', 'sv-SE')).toBe('sv')
    expect(resolveLanguage('auto', 'sv')).toBe('sv')
    expect(resolveLanguage('auto', 'de-DE')).toBe('en')
    expect(resolveLanguage(undefined, undefined)).toBe('en')
  })

  it('has every string in Swedish, with the same placeholders', () => {
    for (const [key, text] of Object.entries(messages.en)) {
      const sv = messages.sv[key as keyof typeof messages.sv]
      expect(sv, key).toBeTruthy()
      expect(placeholders(sv), key).toEqual(placeholders(text))
    }
  })

  it('fills placeholders and picks plural forms', () => {
    expect(translate('en', 'transfer.pending', { name: 'Bo' })).toBe('Waiting for Bo to accept')
    expect(translate('sv', 'transfer.pending', { name: 'Bo' })).toBe('Väntar på att Bo ska acceptera')
    expect(translateCount('en', 'transfer.load', 1)).toBe('1 chat')
    expect(translateCount('en', 'transfer.load', 0)).toBe('0 chats')
    expect(translateCount('sv', 'transfer.load', 2)).toBe('2 chattar')
  })

  it('switches the live translator with the language', () => {
    expect(get(t)('transfer.accept')).toBe('Accept transfer')
    language.set('sv')
    expect(get(t)('transfer.accept')).toBe('Acceptera överföring')
    expect(get(t)('transfer.reject')).toBe('Avvisa överföring')
    expect(get(t)('menu.close')).toBe('Stäng fönster')
  })

  it('words known error codes itself and passes others through', () => {
    expect(errorMessage('en', { code: 'bad_credentials', message: 'x' })).toBe('Wrong login or password.')
    expect(errorMessage('sv', { code: 'bad_credentials', message: 'x' })).toBe('Fel användarnamn eller lösenord.')
    expect(errorMessage('sv', { code: 'forbidden', message: 'only the owner may do that' })).toBe('Du har inte behörighet att göra det.')
    expect(errorMessage('sv', { code: 'from_a_newer_relay', message: 'something new' })).toBe('something new')
    expect(errorMessage('en', undefined)).toBe('That did not work. Try again.')
  })
})
