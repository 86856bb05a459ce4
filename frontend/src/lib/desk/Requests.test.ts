import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { tick } from 'svelte'
import { get } from 'svelte/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RequestDetail, RequestInfo } from '../protocol'
import { sortRequests, unclaimedCount, upsertRequest } from '../state/requests'
import { makeDesk, type TestDesk } from '../../test/desk'
import { anna, bo, channel, iso } from '../../test/fixtures'
import Desk from './Desk.svelte'

function request(over: Partial<RequestInfo> = {}): RequestInfo {
  return {
    number: 1001,
    channel: 'support',
    title: 'Var är mitt paket?',
    state: 'open',
    origin: 'offline',
    visitor: { name: 'Åsa Öberg', email: 'asa@example.com' },
    question: 'Var är mitt paket?\nDet skulle komma i måndags.',
    created_at: iso(0),
    updated_at: iso(0),
    ...over,
  }
}

function detail(r: RequestInfo, over: Partial<RequestDetail> = {}): RequestDetail {
  return {
    ...r,
    transcript: r.question ?? '',
    history: [{ at: r.created_at, action: 'created' }],
    mail: true,
    ...over,
  }
}

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
})

/** A desk whose relay holds these requests; Request answers their detail. */
async function desk(list: RequestInfo[], opts: { mail?: boolean; perms?: string[]; overrides?: Parameters<typeof makeDesk>[1] } = {}) {
  const mail = opts.mail ?? true
  d = makeDesk(
    { channels: [channel({ perms: (opts.perms ?? ['respond', 'notify']) as never })], sessions: [] },
    {
      'request.list': () => ({ ok: true, data: { requests: list, mail } }),
      'request.get': ({ number: n }) => {
        const r = list.find((x) => x.number === n)
        return r ? { ok: true, data: detail(r, { mail }) } : { ok: false, error: { code: 'not_found', message: '' } }
      },
      ...opts.overrides,
    },
  )
  render(Desk, { ctl: d.ctl, onsignout: () => {} })
  await vi.waitFor(() => expect(get(d.ctl.requests).loaded).toBe(true))
  await tick()
}

const items = () => screen.queryAllByTestId('request-item').map((el) => Number(el.dataset.number))

async function openRequest(n: number) {
  await fireEvent.click(screen.getAllByTestId('request-item').find((el) => Number(el.dataset.number) === n)!)
  await vi.waitFor(() => expect(screen.getByTestId('request-view').dataset.number).toBe(String(n)))
}

describe('the requests inbox', () => {
  it('lists the open requests with visitor, message, when and where from, oldest or newest first', async () => {
    await desk([
      request({ number: 1003, origin: 'chat', session: 's-9', created_by: bo, visitor: { name: 'Walt', email: 'w@example.com' }, title: 'Refund' }),
      request(),
      request({ number: 1002, state: 'claimed', assignee: anna, visitor: { name: 'Vera', email: 'v@example.com' } }),
    ])
    expect(items()).toEqual([1001, 1002, 1003])
    expect(screen.getByTestId('requests-count').textContent).toBe('3 open')
    const [first, second, third] = screen.getAllByTestId('request-item')
    expect(first.textContent).toContain('#1001 · Åsa Öberg')
    expect(first.textContent).toContain('Var är mitt paket?')
    expect(first.textContent).toContain('offline form')
    expect(first.textContent).toContain('Unclaimed')
    expect(second.textContent).toContain('Claimed by Anna')
    expect(third.textContent).toContain('from a chat, by Bo')
    await fireEvent.change(screen.getByTestId('requests-order'), { target: { value: 'newest' } })
    expect(items()).toEqual([1003, 1002, 1001])
  })

  it('takes in new, changed and closed requests from relay events, and tells of a new one', async () => {
    await desk([request()])
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request({ number: 1004, visitor: { name: 'Nils', email: 'n@example.com' } }), action: 'created', notify: true } })
    await tick()
    expect(items()).toEqual([1001, 1004])
    expect(get(d.ctl.toasts).map((t) => t.text)).toContain('New request #1004 from Nils.')
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request({ state: 'claimed', assignee: bo }), action: 'claimed' } })
    await tick()
    expect(screen.getAllByTestId('request-item')[0].textContent).toContain('Claimed by Bo')
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request({ state: 'closed' }), action: 'closed' } })
    await tick()
    expect(items()).toEqual([1004])
    // A manager warning marks the request and tells.
    d.bridge.emit('relay:event', { ev: 'request', data: { request: request({ number: 1004 }), warning: 'manager', waited_s: 360 } })
    await tick()
    expect(screen.getByTestId('request-item').classList.contains('warned')).toBe(true)
    expect(get(d.ctl.toasts).map((t) => t.text)).toContain('Request #1004 has waited 6 min without anyone claiming it.')
  })

  it('opens a request with its message and history; claim, answer by e-mail and close call the relay', async () => {
    const r = request()
    await desk([r], {
      overrides: {
        'request.claim': () => ({ ok: true, data: { ...r, state: 'claimed', assignee: anna } }),
        'request.answer': () => ({ ok: true, data: { ...r, state: 'answered', assignee: anna } }),
        'request.close': () => ({ ok: true, data: { ...r, state: 'closed', assignee: anna } }),
      },
    })
    await openRequest(1001)
    const view = screen.getByTestId('request-view')
    expect(within(view).getByTestId('request-heading').textContent).toBe('Request #1001 · Var är mitt paket?')
    expect(within(view).getByTestId('request-email').textContent).toBe('asa@example.com')
    expect(within(view).getByTestId('request-origin').textContent).toContain('offline form')
    await vi.waitFor(() => expect(within(view).getByTestId('request-text').textContent).toBe('Var är mitt paket?\nDet skulle komma i måndags.'))
    await vi.waitFor(() => expect(within(view).getByTestId('request-history').textContent).toContain('Created'))
    expect(screen.queryByTestId('request-assign')).toBeNull() // not a manager

    await fireEvent.click(screen.getByTestId('request-claim'))
    await vi.waitFor(() => expect(d.bridge.callsOf('request.claim')).toEqual([[{ number: 1001 }]]))
    await vi.waitFor(() => expect(screen.getByTestId('request-status').textContent).toBe('Claimed by Anna'))

    expect((screen.getByTestId('request-send') as HTMLButtonElement).disabled).toBe(true)
    await fireEvent.input(screen.getByTestId('request-answer'), { target: { value: '  Hej Åsa! Det är på väg.  ' } })
    expect(screen.getByText(/Goes by e-mail to asa@example.com/)).toBeTruthy()
    await fireEvent.click(screen.getByTestId('request-send'))
    await vi.waitFor(() => expect(d.bridge.callsOf('request.answer')).toEqual([[{ number: 1001, text: 'Hej Åsa! Det är på väg.', manual: false }]]))
    await vi.waitFor(() => expect((screen.getByTestId('request-answer') as HTMLTextAreaElement).value).toBe(''))
    expect(get(d.ctl.toasts).map((t) => t.text)).toContain('Answer to request #1001 saved; the e-mail is on its way.')

    await fireEvent.click(screen.getByTestId('request-close'))
    await vi.waitFor(() => expect(d.bridge.callsOf('request.close')).toEqual([[{ number: 1001 }]]))
    await vi.waitFor(() => expect(screen.queryByTestId('request-view')).toBeNull())
    expect(items()).toEqual([])
  })

  it('without e-mail on the relay offers to copy the answer and records it as sent by hand', async () => {
    const clip = vi.fn(async () => true)
    await desk([request({ state: 'claimed', assignee: anna })], { mail: false })
    window.runtime!.ClipboardSetText = clip
    await openRequest(1001)
    expect(screen.queryByTestId('request-send')).toBeNull()
    expect(screen.getByTestId('request-no-mail').textContent).toContain('sends no e-mail')
    await fireEvent.input(screen.getByTestId('request-answer'), { target: { value: 'Det är på väg.' } })
    await fireEvent.click(screen.getByTestId('request-copy'))
    await vi.waitFor(() => expect(screen.getByTestId('request-copied').textContent).toBe('The answer is on the clipboard.'))
    expect(clip).toHaveBeenCalledWith('Det är på väg.')
    await fireEvent.click(screen.getByTestId('request-mark-answered'))
    await vi.waitFor(() => expect(d.bridge.callsOf('request.answer')).toEqual([[{ number: 1001, text: 'Det är på väg.', manual: true }]]))
  })

  it('switches to copying when the relay says it sends no e-mail', async () => {
    await desk([request()], { overrides: { 'request.answer': () => ({ ok: false, error: { code: 'mail_not_configured', message: 'no SMTP' } }) } })
    await openRequest(1001)
    await fireEvent.input(screen.getByTestId('request-answer'), { target: { value: 'Hello' } })
    await fireEvent.click(screen.getByTestId('request-send'))
    await vi.waitFor(() => expect(screen.getByTestId('request-error').textContent).toBe('This server sends no e-mail. Copy the answer and send it yourself.'))
    expect(screen.getByTestId('request-copy')).toBeTruthy()
    expect((screen.getByTestId('request-answer') as HTMLTextAreaElement).value).toBe('Hello') // nothing lost
  })

  it('lets a manager assign a request to an agent', async () => {
    await desk([request()], { perms: ['respond', 'manage'], overrides: { 'request.assign': () => ({ ok: true, data: request({ state: 'claimed', assignee: bo }) }) } })
    await openRequest(1001)
    await fireEvent.change(screen.getByTestId('request-assignee'), { target: { value: String(bo.id) } })
    await fireEvent.click(screen.getByTestId('request-assign'))
    await vi.waitFor(() => expect(d.bridge.callsOf('request.assign')).toEqual([[{ number: 1001, to: bo.id }]]))
    await vi.waitFor(() => expect(screen.getAllByTestId('request-item')[0].textContent).toContain('Claimed by Bo'))
  })

  it('a listener reads requests but has no buttons to act', async () => {
    await desk([request()], { perms: ['listen'] })
    await openRequest(1001)
    for (const id of ['request-claim', 'request-close', 'request-answer', 'request-assign']) expect(screen.queryByTestId(id)).toBeNull()
    await fireEvent.click(screen.getByTestId('request-back'))
    expect(screen.queryByTestId('request-view')).toBeNull()
  })

  it('speaks Swedish', async () => {
    await desk([request()])
    await d.ctl.setLanguage('sv')
    await tick()
    expect(screen.getByTestId('requests-count').textContent).toBe('1 öppet')
    expect(screen.getByTestId('request-item').textContent).toContain('offlineformulär')
    await openRequest(1001)
    expect(screen.getByTestId('request-claim').textContent?.trim()).toBe('Ta ärendet')
  })
})

describe('request list helpers', () => {
  it('upserts, drops closed ones, sorts and counts the unclaimed', () => {
    let list = upsertRequest([], request())
    list = upsertRequest(list, request({ number: 1002, state: 'claimed' }))
    list = upsertRequest(list, request({ number: 1001, state: 'answered' }))
    expect(sortRequests(list, false).map((r) => `${r.number}:${r.state}`)).toEqual(['1001:answered', '1002:claimed'])
    expect(unclaimedCount(list)).toBe(0)
    list = upsertRequest(list, request({ number: 1002, state: 'closed' }))
    expect(list.map((r) => r.number)).toEqual([1001])
  })
})
