import { get } from 'svelte/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeDesk, memoryStorage, type TestDesk } from '../../test/desk'
import { agentLine, anna, bo, entry, queueItem, session, staffNote, transfer } from '../../test/fixtures'
import { createDesk } from './store'
import { language } from '../i18n'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
})

const toastTexts = () => get(d.ctl.toasts).map((t) => t.text)

describe('desk controller', () => {
  it('opens the dashboard window, and says why when it cannot', async () => {
    d = makeDesk({}, { OpenDashboard: () => ({ ok: false, error: { code: 'offline', message: 'not signed in' } }) })
    expect((await d.ctl.openDashboard()).ok).toBe(false)
    expect(d.bridge.callsOf('OpenDashboard')).toEqual([[]])
    expect(toastTexts()).toEqual(['Not connected to the server.'])
  })

  it('follows relay:state, and applies the welcome it carries', () => {
    d = makeDesk(null)
    d.bridge.emit('relay:state', { state: 'reconnecting', attempt: 3, nextAttempt: new Date(Date.now() + 5000).toISOString() })
    expect(get(d.ctl.connection)).toMatchObject({ state: 'reconnecting', attempt: 3 })
    d.bridge.emit('relay:state', { state: 'connected', welcome: { agent: anna, channels: [], sessions: [session()], transfers: [], queue: [], agents: [] } })
    expect(get(d.ctl.connection).state).toBe('connected')
    expect(Object.keys(get(d.ctl.state).sessions)).toEqual(['s-1'])
  })

  it('routes relay:event into the state', () => {
    d = makeDesk()
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: 1, data: entry(1) })
    d.bridge.emit('relay:event', { ev: 'queue', data: { channel: 'support', added: [queueItem()] } })
    const s = get(d.ctl.state)
    expect(s.logs['s-1'].map((e) => e.seq)).toEqual([1])
    expect(s.unread['s-1']).toBe(1)
    expect(s.queues.support).toHaveLength(1)
  })

  it('fetches the missing log on opening a chat, page by page', async () => {
    const pages = [
      { ok: true, data: { entries: [entry(1), entry(2)], more: true } },
      { ok: true, data: { entries: [agentLine(3)], more: false } },
    ]
    d = makeDesk({ sessions: [session({ seq: 3 })] }, { 'session.log': () => pages.shift() })
    await d.ctl.select('s-1')
    expect(d.bridge.callsOf('session.log')).toEqual([
      [{ session: 's-1', after: 0 }],
      [{ session: 's-1', after: 2 }],
    ])
    expect(get(d.ctl.state).logs['s-1'].map((e) => e.seq)).toEqual([1, 2, 3])
    expect(get(d.ctl.state).unread['s-1'] ?? 0).toBe(0)
    await d.ctl.select('s-1')
    expect(d.bridge.callsOf('session.log')).toHaveLength(2)
  })

  it('tells each transfer outcome once, whether by event or by reply', async () => {
    d = makeDesk({ agent: bo, sessions: [session({ role: 'offered', transfer: transfer() })], transfers: [transfer()] }, {
      'transfer.accept': () => ({ ok: true, data: transfer({ state: 'accepted' }) }),
    })
    expect(toastTexts()).toEqual([])
    await d.ctl.accept(7)
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer({ state: 'accepted' }) })
    expect(toastTexts()).toEqual(['You now own the chat with Vera.'])
    expect(get(d.ctl.state).transfers).toEqual({})
  })

  it('toasts an offer to its receiver and opens it when nothing else is open', async () => {
    d = makeDesk({ agent: bo, sessions: [] })
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer({ comment: 'VIP' }) })
    d.bridge.emit('relay:event', { ev: 'session', session: 's-1', data: session({ role: 'offered', seq: 2, transfer: transfer() }) })
    expect(toastTexts()).toEqual(['Anna asks you to take over the chat with Vera.'])
    expect(get(d.ctl.state).selected).toBe('s-1')
    await vi.waitFor(() => expect(d.bridge.callsOf('session.log')).toEqual([[{ session: 's-1', after: 0 }]]))
  })

  it('keeps one toast per transfer, replaced as its state changes', async () => {
    d = makeDesk({ agent: bo, sessions: [] })
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer() })
    expect(toastTexts()).toEqual(['Anna asks you to take over the chat with Vera.'])
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer({ state: 'cancelled' }) })
    expect(toastTexts()).toHaveLength(1)
    expect(toastTexts()[0]).not.toContain('asks you to take over')
    // Another transfer's toast stands beside it.
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-2', data: transfer({ id: 8, session: 's-2' }) })
    expect(toastTexts()).toHaveLength(2)
  })

  it('puts Send answers and relay:outbox events in the outbox', async () => {
    d = makeDesk()
    await d.ctl.send('s-1', 'Hello')
    expect(d.bridge.callsOf('Send')).toEqual([['s-1', 'Hello']])
    expect(get(d.ctl.state).outbox).toEqual([{ session: 's-1', clientId: 'm-1', text: 'Hello', status: 'pending' }])
    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-1', text: 'Hello', status: 'acked', seq: 1 })
    expect(get(d.ctl.state).outbox[0].status).toBe('acked')
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: 1, data: agentLine(1, 'Hello', { client_id: 'm-1' }) })
    expect(get(d.ctl.state).outbox).toEqual([])
  })

  it('keeps a refused line with the error, and resends it on retry', async () => {
    let n = 0
    d = makeDesk({}, {
      Send: () => (++n === 1 ? { ok: false, error: { code: 'listen_only', message: 'x' } } : { ok: true, data: { clientId: 'm-9' } }),
    })
    await d.ctl.send('s-1', 'Hi')
    const [line] = get(d.ctl.state).outbox
    expect(line).toMatchObject({ status: 'failed', error: 'You cannot write in this chat.', text: 'Hi' })
    await d.ctl.retry(line.clientId)
    expect(d.bridge.callsOf('Send')).toEqual([['s-1', 'Hi'], ['s-1', 'Hi']])
    expect(get(d.ctl.state).outbox).toEqual([{ session: 's-1', clientId: 'm-9', text: 'Hi', status: 'pending' }])
  })

  it('sends Typing at most once every 3 s per chat', () => {
    let t = 0
    d = makeDesk()
    const ctl = createDesk({ now: () => t, storage: memoryStorage(), toastMs: 0 })
    ctl.typing('s-1')
    t = 1000
    ctl.typing('s-1')
    ctl.typing('s-2')
    t = 3000
    ctl.typing('s-1')
    expect(d.bridge.callsOf('typing')).toEqual([[{ session: 's-1' }], [{ session: 's-2' }], [{ session: 's-1' }]])
  })

  it('opens a chat from app:open and toasts app:notice', async () => {
    d = makeDesk({ sessions: [session(), session({ id: 's-2' })] })
    d.bridge.emit('app:open', { session: 's-2' })
    expect(get(d.ctl.state).selected).toBe('s-2')
    d.bridge.emit('app:notice', { kind: 'warning', text: 'Update available' })
    expect(get(d.ctl.toasts)).toMatchObject([{ kind: 'warning', text: 'Update available' }])
  })

  it('picks the next chat from the queue and opens it', async () => {
    d = makeDesk({ sessions: [], queue: [queueItem({ session: 'q-1' })] }, {
      'queue.next': () => ({ ok: true, data: session({ id: 'q-1' }) }),
    })
    await d.ctl.next()
    const s = get(d.ctl.state)
    expect(s.selected).toBe('q-1')
    expect(s.queues).toEqual({})
  })

  it('says so when the queue is empty', async () => {
    d = makeDesk({}, { 'queue.next': () => ({ ok: false, error: { code: 'queue_empty', message: 'nobody' } }) })
    await d.ctl.next()
    expect(toastTexts()).toEqual(['Nobody is waiting in the queue.'])
  })

  it('places the request line in the composer text without sending it', async () => {
    d = makeDesk({}, { 'request.create': () => ({ ok: true, data: { number: 1042 } }) })
    d.ctl.setDraft('s-1', 'Thanks!')
    await d.ctl.createRequest('s-1', 'Invoice wrong')
    expect(d.bridge.callsOf('request.create')).toEqual([[{ session: 's-1', title: 'Invoice wrong' }]])
    expect(get(d.ctl.drafts)['s-1']).toBe('Thanks!\nYour request number is 1042.')
    expect(d.bridge.callsOf('Send')).toEqual([])
  })

  it('words the request line in the desk language, whatever line an older relay sends', async () => {
    language.set('sv')
    try {
      d = makeDesk({}, { 'request.create': () => ({ ok: true, data: { number: 1042, line: 'Your request number is 1042.' } }) })
      await d.ctl.createRequest('s-1', 'Fel faktura')
      expect(get(d.ctl.drafts)['s-1']).toBe('Ditt ärendenummer är 1042.')
    } finally {
      language.set('en')
    }
  })

  it('updates my status from SetStatus', async () => {
    d = makeDesk({}, { 'status.set': () => ({ ok: true, data: { ...anna, status: 'away' } }) })
    await d.ctl.setStatus('away')
    expect(d.bridge.callsOf('status.set')).toEqual([[{ status: 'away' }]])
    expect(get(d.ctl.state).me?.status).toBe('away')
  })

  it('removes a chat after Leave', async () => {
    d = makeDesk({ sessions: [session({ role: 'listener' })] }, {}, { undoMs: 0 })
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: 1, data: staffNote(1, 'x') })
    await d.ctl.leave('s-1')
    expect(d.bridge.callsOf('session.leave')).toEqual([[{ session: 's-1' }]])
    expect(get(d.ctl.state).sessions).toEqual({})
  })
})
