// A Swedish desk and dashboard show no English. Every view is rendered in
// Swedish with a log holding every system-line code, every toast a transfer,
// a warning, a request or a failed call can raise, and every error code;
// the rendered text (and the labels a screen reader reads) is scanned for
// words that only the English dictionary uses. Names and the product's
// name are allowed.

import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { tick } from 'svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import App from '../App.svelte'
import { makeDesk, memoryStorage, type TestDesk } from '../test/desk'
import { defaultConfig, installFakeBridge } from '../test/fakeBridge'
import { createDesk } from './state/store'
import { iso, welcome } from '../test/fixtures'
import { samples } from '../test/dashboards'
import Dashboard from './dashboard/Dashboard.svelte'
import Desk from './desk/Desk.svelte'
import { language, messages } from './i18n'
import LoginForm from './LoginForm.svelte'
import { noteCodes } from './notes'
import type {
  AgentInfo,
  ChannelInfo,
  Dashboard as DashboardData,
  Entry,
  NoteParams,
  RequestDetail,
  RequestInfo,
  SessionInfo,
  TransferInfo,
} from './protocol'

// ---- the words to look for

const words = (s: string) => s.replace(/\{\w+\}/g, ' ').toLowerCase().match(/\p{L}+/gu) ?? []

/** Names in the fixtures, and the product's. */
const allowed = new Set(['switchboard', 'anna', 'bo', 'cleo', 'dana', 'vera', 'walter', 'olle', 'nina', 'example', 'com', 'relay'])

/** Words of the English dictionary's values that the Swedish one never uses. */
const english = (() => {
  const sv = new Set(Object.values(messages.sv).flatMap(words))
  return new Set(Object.values(messages.en).flatMap(words).filter((w) => w.length > 1 && !sv.has(w) && !allowed.has(w)))
})()

/** The English words a subtree shows, in its text and in the labels it reads out. */
function englishIn(root: ParentNode = document.body): string[] {
  const texts = [root.textContent ?? '']
  for (const el of root.querySelectorAll('*')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-description']) {
      const v = el.getAttribute(a)
      if (v) texts.push(v)
    }
    if (el instanceof HTMLInputElement && (el.type === 'button' || el.type === 'submit') && el.value) texts.push(el.value)
  }
  return [...new Set(texts.flatMap(words).filter((w) => english.has(w)))]
}

function expectSwedish(what: string, root: ParentNode = document.body) {
  expect(englishIn(root), `${what}: English words in the Swedish screen`).toEqual([])
}

// ---- Swedish fixtures: every word in them is Swedish or a name

const anna: AgentInfo = { id: 1, login: 'anna', name: 'Anna', status: 'present', load: 1 }
const bo: AgentInfo = { id: 2, login: 'bo', name: 'Bo', status: 'present', load: 0 }
const cleo: AgentInfo = { id: 3, login: 'cleo', name: 'Cleo', status: 'away', load: 2 }
const dana: AgentInfo = { id: 4, login: 'dana', name: 'Dana', status: 'offline', load: 0 }
const ref = (a: AgentInfo) => ({ id: a.id, name: a.name })

const channel: ChannelInfo = {
  key: 'support',
  name: 'Kundtjänst',
  open: true,
  offline_form: true,
  perms: ['respond', 'notify', 'listen', 'manage'],
  transfer_timeout_s: 120,
  templates: ['Hej! Hur kan jag hjälpa dig?'],
  files: { max_bytes: 10 << 20, types: ['image/png'] },
}

function chat(id: string, over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id,
    channel: 'support',
    state: 'active',
    visitor: { name: 'Vera', email: 'vera@example.com' },
    question: 'Var är mitt paket?',
    owner: anna,
    role: 'owner',
    seq: 0,
    created_at: iso(0),
    queued_at: iso(0),
    answered_at: iso(1000),
    ...over,
  }
}

function note(seq: number, code: string, params: NoteParams, staff: boolean): Entry {
  return { seq, at: iso(seq * 1000), kind: 'note', from: { kind: 'system' }, text: '', staff, note: code, params }
}

/** A log with every system line the relay makes, each with the params it carries. */
function everyLine(): Entry[] {
  const named = { agent: { name: 'Bo' } }
  const transfer = { by: ref(anna), to: ref(bo), from: ref(anna) }
  const visitorLines: Entry[] = noteCodes.visitor.map((code, i) => note(i + 2, code, named, false))
  const staffLines: Entry[] = noteCodes.staff.map((code, i) =>
    note(i + 2 + noteCodes.visitor.length, code, { ...transfer, comment: 'Fakturafråga', reason: 'chat_ended' }, true),
  )
  let seq = 2 + noteCodes.visitor.length + noteCodes.staff.length
  const reasons = noteCodes.reasons.map((reason) => note(seq++, 'transfer_voided', { ...transfer, agent: ref(cleo), reason }, true))
  const behalf = note(seq++, 'transfer_offered', { by: ref(dana), to: ref(bo), from: ref(anna), comment: 'Kund sedan länge' }, true)
  const first: Entry = { seq: 1, at: iso(1000), kind: 'message', from: { kind: 'visitor', name: 'Vera' }, text: 'Var är mitt paket?' }
  const reply: Entry = { seq: seq++, at: iso(seq * 1000), kind: 'message', from: { kind: 'agent', id: 1, name: 'Anna' }, text: 'Jag kollar.' }
  return [first, ...visitorLines, ...staffLines, ...reasons, behalf, reply]
}

const log = everyLine()
const lastSeq = log[log.length - 1].seq

function xfer(over: Partial<TransferInfo> = {}): TransferInfo {
  return {
    id: 7,
    session: 's-1',
    channel: 'support',
    kind: 'transfer',
    from: anna,
    to: bo,
    by: anna,
    state: 'pending',
    started_at: iso(0),
    deadline: iso(120_000),
    visitor: 'Vera',
    ...over,
  }
}

function request(number: number, state: RequestInfo['state'], over: Partial<RequestInfo> = {}): RequestInfo {
  return {
    number,
    channel: 'support',
    title: 'Paketet har inte kommit',
    state,
    origin: number % 2 ? 'offline' : 'chat',
    visitor: { name: 'Olle', email: 'olle@example.com' },
    question: 'Paketet har inte kommit',
    created_by: number % 2 ? undefined : anna,
    created_at: iso(0),
    assignee: state === 'open' ? undefined : bo,
    updated_at: iso(0),
    ...over,
  }
}

const requests = [request(1001, 'open'), request(1002, 'claimed'), request(1003, 'answered'), request(1004, 'closed')]

const detail: RequestDetail = {
  ...request(1002, 'claimed'),
  transcript: '2025-03-03 11:00 Vera: Var är mitt paket?\n2025-03-03 11:01 System: Anna har anslutit till chatten.\n',
  mail: true,
  history: [
    { at: iso(0), action: 'created', by: anna },
    { at: iso(1000), action: 'claimed', by: bo },
    { at: iso(2000), action: 'assigned', by: anna, to: bo },
    { at: iso(3000), action: 'answered', by: bo, text: 'Paketet är på väg.', mail: true },
    { at: iso(4000), action: 'answered', by: bo, text: 'Ringde kunden.', mail: false },
    { at: iso(5000), action: 'mail_sent' },
    { at: iso(6000), action: 'mail_failed', text: '' },
    { at: iso(7000), action: 'closed', by: bo },
  ],
}

/** Every error code a reply can carry: the relay's and the app's own. */
const errorCodes = [
  'malformed', 'too_large', 'unknown_command', 'bad_request', 'unsupported_version', 'hello_first', 'already_hello',
  'bad_credentials', 'forbidden', 'not_found', 'not_participant', 'listen_only', 'invalid_state', 'transfer_pending',
  'invalid_target', 'no_agent', 'queue_empty', 'channel_closed', 'rate_limited', 'unavailable', 'internal',
  'mail_not_configured', 'offline', 'locked', 'no_token', 'not_ready', 'dashboard_forbidden', 'retrying', 'no_bridge',
]

let d: TestDesk
beforeEach(() => language.set('sv'))
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
  language.set('en')
  vi.useRealTimers()
})

const toasts = () => document.querySelector('.toasts') ?? document.body

async function settle() {
  for (let i = 0; i < 5; i++) await tick()
}

describe('the Swedish desk', () => {
  it('error codes: every one has Swedish words', () => {
    for (const code of errorCodes) {
      expect(messages.sv[`error.${code}` as keyof typeof messages.sv], code).toBeTruthy()
    }
  })

  it('shows no English on any screen, with every system line and every toast', async () => {
    d = makeDesk(
      {
        agent: anna,
        channels: [channel],
        agents: [anna, bo, cleo, dana],
        sessions: [
          chat('s-1', { seq: lastSeq }),
          chat('s-2', { role: 'listener', owner: bo, visitor: { name: 'Nina' } }),
          chat('s-3', { role: 'offered', owner: bo, visitor: { name: 'Walter' } }),
          chat('s-4', { state: 'ended', visitor: { name: 'Olle' } }),
        ],
        transfers: [xfer({ id: 8, session: 's-3', from: bo, by: bo, to: anna, comment: 'Kunden vill ha återbetalning' })],
        queue: [
          { session: 'q-1', channel: 'support', visitor: 'Walter', question: 'Var är min faktura?', since: iso(0), position: 1 },
        ],
      },
      {
        'session.log': ({ session }) => ({ ok: true, data: { entries: session === 's-1' ? log : [], more: false } }),
        'request.list': () => ({ ok: true, data: { requests, mail: true } }),
        'request.get': ({ number: n }) => ({ ok: true, data: { ...detail, number: n } }),
        'transfer.targets': () => ({ ok: true, data: [bo, cleo] }),
        'transfer.history': () => ({ ok: true, data: [] }),
        'request.create': () => ({ ok: true, data: { number: 1042 } }),
      },
    )
    d.ctl.config.set({ server: 'relay.example.com', serverLocked: false, login: 'anna', remember: true, language: 'sv', muted: false, window: 'main', hasToken: true })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    await d.ctl.select('s-1')
    await vi.waitFor(() => expect(screen.getAllByTestId('log-entry')).toHaveLength(log.length))
    await settle()
    expectSwedish('the desk with a chat holding every system line')
    for (const e of screen.getAllByTestId('log-entry')) expect(e.querySelector('.text')?.textContent, `line ${e.dataset.seq}`).toBeTruthy()

    // The chat's menu, and the dialogs it opens.
    await fireEvent.click(screen.getByTestId('chat-menu'))
    expectSwedish('the chat menu')
    await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' })
    await fireEvent.click(screen.getByTestId('transfer-button'))
    await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option').length).toBeGreaterThan(0))
    expectSwedish('the transfer dialog')
    await fireEvent.keyDown(screen.getByTestId('transfer-dialog'), { key: 'Escape' })
    await settle()
    await fireEvent.click(screen.getByTestId('chat-menu'))
    await fireEvent.click(screen.getByTestId('menu-create-request'))
    expectSwedish('the create-request dialog')
    await fireEvent.click(screen.getByTestId('request-submit'))
    await settle()
    expectSwedish('after a request was created (the line in the composer, the toast)')
    await fireEvent.click(screen.getByTestId('chat-menu'))
    await fireEvent.click(screen.getByTestId('menu-end'))
    expectSwedish('the end confirmation')
    await fireEvent.keyDown(screen.getByTestId('end-confirm'), { key: 'Escape' })
    await settle()

    // The settings menu and the about dialog.
    await fireEvent.click(screen.getByTestId('settings-menu'))
    expectSwedish('the settings menu')
    await fireEvent.click(screen.getByTestId('open-about'))
    await settle()
    expectSwedish('the about dialog')
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' })
    await settle()

    // Other chats: listening, offered to me, ended.
    for (const id of ['s-2', 's-3', 's-4']) {
      await d.ctl.select(id)
      await settle()
      expectSwedish(`chat ${id}`)
    }
    await d.ctl.select('s-1')

    // Toasts: every transfer outcome seen from every side, for direct,
    // queue and on-behalf transfers, and take-overs.
    const me = [anna, bo, cleo]
    let id = 100
    for (const state of ['pending', 'accepted', 'rejected', 'cancelled', 'expired', 'voided'] as const) {
      for (const [from, to, by] of [
        [anna, bo, anna],
        [bo, anna, bo],
        [bo, cleo, anna],
        [anna, bo, cleo],
      ]) {
        for (const reason of state === 'voided' ? ['', ...noteCodes.reasons] : ['']) {
          d.bridge.emit('relay:event', { ev: 'transfer', data: xfer({ id: ++id, state, from, to, by, reason: (reason || undefined) as TransferInfo['reason'], to_queue: id % 2 === 0 }) })
          await settle()
          expectSwedish(`toast: transfer ${state} ${from.name}→${to.name} by ${by.name} ${reason}`, toasts())
        }
      }
    }
    for (const [from, to] of [
      [bo, anna],
      [anna, cleo],
      [bo, cleo],
    ]) {
      d.bridge.emit('relay:event', { ev: 'transfer', data: xfer({ id: ++id, kind: 'takeover', state: 'accepted', from, to, by: to }) })
      await settle()
      expectSwedish(`toast: take-over of ${from.name}'s chat by ${to.name}`, toasts())
    }
    void me
    for (const level of ['waiting', 'manager']) {
      d.bridge.emit('relay:event', { ev: 'warning', session: 'q-1', data: { session: 'q-1', channel: 'support', level, waited_s: 300, visitor: 'Walter' } })
      await settle()
      expectSwedish(`toast: warning ${level}`, toasts())
    }
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request(1010, 'open'), action: 'created', notify: true } })
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request(1011, 'open'), warning: 'manager', waited_s: 900 } })
    await settle()
    expectSwedish('toasts: requests', toasts())
    // Failed calls, every error code; notices of the Go side by code.
    for (const code of errorCodes) {
      d.ctl.notify('error', d.ctl.errorText({ ok: false, error: { code, message: `the relay said no (${code})` } }))
      await settle()
      expectSwedish(`toast: error ${code}`, toasts())
    }
    for (const code of ['no_tray', 'remember_failed', 'dashboard_forbidden', 'invalid_state']) {
      d.bridge.emit('app:notice', { kind: 'error', code, text: 'English words from the Go side' })
      await settle()
      expectSwedish(`notice ${code}`, toasts())
    }
    // A line the relay refused, with its code.
    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-9', text: 'Hej igen', status: 'failed', error: { code: 'rate_limited', message: 'slow down' } })
    await settle()
    expectSwedish('a refused line')

    // Quit while answering chats.
    d.bridge.emit('app:confirm-quit', { chats: 2, grace_s: 60 })
    await settle()
    expectSwedish('the quit question')
    await fireEvent.click(screen.getByTestId('quit-cancel'))

    // The requests: the inbox and one request with its whole history.
    await vi.waitFor(() => expect(screen.getAllByTestId('request-item').length).toBeGreaterThan(0))
    await fireEvent.click(screen.getAllByTestId('request-item')[0])
    await vi.waitFor(() => expect(screen.getByTestId('request-history')).toBeTruthy())
    await settle()
    expectSwedish('a request')
  })

  it('shows no English while connecting or reconnecting', async () => {
    d = makeDesk({ agent: anna, channels: [channel], sessions: [] })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    for (const state of ['connecting', 'reconnecting', 'offline', 'connected']) {
      d.bridge.emit('relay:state', { state, attempt: 2, nextAttempt: 4 })
      await settle()
      expectSwedish(`connection ${state}`)
    }
  })

  it('shows no English when the relay ends the sign-in, or a resume fails', async () => {
    for (const [error, reason] of [
      ['bad_credentials: the server refused the sign-in', undefined],
      ['relayclient: signed out: the sign-in was revoked', 'revoked'],
    ]) {
      const bridge = installFakeBridge({ Config: () => ({ ok: true, data: { ...defaultConfig, language: 'sv', hasToken: true } }) })
      const { unmount } = render(App, { ctl: createDesk({ storage: memoryStorage(), toastMs: 0 }) })
      await screen.findByTestId('session-item')
      bridge.emit('relay:state', { state: 'auth_failed', error, reason })
      await screen.findByTestId('login-error')
      expectSwedish(`signed out (${error})`)
      unmount()
      bridge.uninstall()
    }
    for (const code of ['retrying', 'unavailable', 'internal']) {
      const bridge = installFakeBridge({
        Config: () => ({ ok: true, data: { ...defaultConfig, language: 'sv', hasToken: true } }),
        Resume: () => ({ ok: false, error: { code, message: 'cannot reach the server (connection refused); still trying' } }),
      })
      const { unmount } = render(App, { ctl: createDesk({ storage: memoryStorage(), toastMs: 0 }) })
      await screen.findByTestId('login-error')
      expectSwedish(`resume refused (${code})`)
      unmount()
      bridge.uninstall()
    }
  })

  it('shows no English in the sign-in form', async () => {
    render(LoginForm, { onsubmit: () => {}, error: 'Fel användarnamn eller lösenord.' })
    await settle()
    expectSwedish('the sign-in form')
  })
})

describe('the Swedish dashboard', () => {
  it('shows no English, listening to a chat with every system line', async () => {
    const now = Date.parse('2025-03-03T11:00:00Z')
    vi.useFakeTimers({ now, toFake: ['Date'] })
    const board: DashboardData = {
      at: new Date(now).toISOString(),
      overall: { waiting: 2, longest_wait_s: 400, present: 2, active: 2, chats_today: 9, open_requests: 3,
        transfers_today: { accepted: 1, rejected: 1, cancelled: 1, expired: 1, voided: 1, takeover: 1 } },
      history: samples(30, now),
      channels: [{ channel: 'support', name: 'Kundtjänst', waiting: 2, longest_wait_s: 400, present: 2, active: 2, chats_today: 9, open_requests: 3,
        transfers_today: { accepted: 1 }, history: samples(30, now) }],
      agents: [anna, bo, cleo, dana],
      sessions: [
        { id: 's-1', channel: 'support', state: 'active', visitor: 'Vera', owner: anna, since: iso(0), last_visitor_at: iso(1000), transfer: 'pending' },
        { id: 's-2', channel: 'support', state: 'active', visitor: 'Nina', owner: bo, since: iso(0) },
        { id: 'q-1', channel: 'support', state: 'queued', visitor: 'Walter', owner: undefined, since: iso(0), warning: 'waiting' },
        { id: 'q-2', channel: 'support', state: 'queued', visitor: 'Olle', owner: undefined, since: iso(0), warning: 'manager' },
      ],
      transfers: [
        xfer({ id: 1, state: 'accepted', ended_at: iso(5000) }),
        xfer({ id: 2, state: 'rejected', by: cleo, ended_at: iso(5000) }),
        xfer({ id: 3, state: 'cancelled', to_queue: true, ended_at: iso(5000) }),
        xfer({ id: 4, state: 'expired', ended_at: iso(5000) }),
        xfer({ id: 5, state: 'voided', reason: 'receiver_offline', ended_at: iso(5000) }),
        xfer({ id: 6, kind: 'takeover', state: 'accepted', to: cleo, by: cleo, ended_at: iso(5000) }),
        xfer({ id: 7, state: 'pending' }),
      ],
    }
    const cecilia = { ...cleo, status: 'present' as const }
    d = makeDesk({ agent: cecilia, channels: [channel], sessions: [], agents: [] }, {
      'session.listen': () => ({ ok: true, data: chat('s-1', { role: 'listener', seq: lastSeq }) }),
      'session.log': () => ({ ok: true, data: { entries: log, more: false } }),
    })
    d.ctl.config.set({ server: 'relay.example.com', serverLocked: false, login: 'cleo', remember: true, language: 'sv', muted: false, window: 'dashboard', hasToken: true })
    render(Dashboard, { ctl: d.ctl })
    d.bridge.emit('relay:event', { ev: 'dashboard', data: board })
    await settle()
    expectSwedish('the dashboard')

    const row = screen.getAllByTestId('session-row').find((r) => r.dataset.session === 's-1')!
    await fireEvent.click(within(row).getByTestId('dashboard-listen'))
    await vi.waitFor(() => expect(screen.getAllByTestId('log-entry')).toHaveLength(log.length))
    await settle()
    expectSwedish('the dashboard listening to a chat')
    for (const e of screen.getAllByTestId('log-entry')) expect(e.querySelector('.text')?.textContent, `line ${e.dataset.seq}`).toBeTruthy()

    await fireEvent.click(within(row).getByTestId('dashboard-takeover'))
    await settle()
    expectSwedish('the take-over confirmation')
  })

  it('follows a language chosen in the desk window at once', async () => {
    language.set('en')
    d = makeDesk({ agent: cleo, channels: [channel], sessions: [], agents: [] })
    render(Dashboard, { ctl: d.ctl })
    await settle()
    expect(screen.getByRole('heading', { level: 1 }).textContent).toContain('Dashboard')
    d.bridge.emit('app:language', { language: 'sv' })
    await settle()
    expect(screen.getByRole('heading', { level: 1 }).textContent).toContain('Översikt')
    expectSwedish('the dashboard after the switch')
  })
})
