import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { tick } from 'svelte'
import { afterEach, describe, expect, it } from 'vitest'
import { makeDesk, type TestDesk } from '../../test/desk'
import { anna, bo, channel, dana, entry, iso, queueItem, session, transfer, welcome } from '../../test/fixtures'
import Desk from './Desk.svelte'
import Header from './Header.svelte'
import QueuePanel from './QueuePanel.svelte'
import SessionList from './SessionList.svelte'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
})

const items = () => screen.getAllByTestId('session-item')
const item = (id: string) => items().find((el) => el.dataset.session === id)!

describe('SessionList', () => {
  it('lists ongoing chats first, then recently ended ones', () => {
    const recent = new Date(Date.now() - 60_000).toISOString()
    const old = new Date(Date.now() - 9 * 3600_000).toISOString()
    d = makeDesk({
      sessions: [
        session({ id: 'ended', state: 'ended', ended_at: recent, visitor: { name: 'Ebba' } }),
        session({ id: 'gone', state: 'ended', ended_at: old, visitor: { name: 'Gun' } }),
        session({ id: 'b', created_at: iso(5000), visitor: { name: 'Bert' } }),
        session({ id: 'a', created_at: iso(1000), visitor: { name: 'Alva' }, role: 'listener' }),
      ],
    })
    render(SessionList, { ctl: d.ctl })
    expect(items().map((el) => el.dataset.session)).toEqual(['a', 'b', 'ended'])
    expect(item('a').textContent).toContain('Listening')
    expect(item('ended').textContent).toContain('Ended')
    expect(screen.queryByText('Gun')).toBeNull()
  })

  describe('Recent', () => {
    const recent = (ago: number) => new Date(Date.now() - ago).toISOString()
    const desk = () => ({
      sessions: [
        session({ id: 'e1', state: 'ended', ended_at: recent(60_000), visitor: { name: 'Ebba' } }),
        session({ id: 'e2', state: 'ended', ended_at: recent(120_000), visitor: { name: 'Frida' } }),
        session({ id: 'live', visitor: { name: 'Alva' } }),
      ],
    })

    it('keeps ended chats in a section of their own', () => {
      d = makeDesk(desk())
      render(SessionList, { ctl: d.ctl })
      const ongoing = screen.getByTestId('session-list-ongoing')
      const rec = screen.getByTestId('session-list-recent')
      expect(within(ongoing).getAllByTestId('session-item').map((el) => el.dataset.session)).toEqual(['live'])
      expect(within(rec).getAllByTestId('session-item').map((el) => el.dataset.session)).toEqual(['e1', 'e2'])
      expect(screen.getByText('Recent (last 8 h)')).toBeTruthy()
      // Only ended chats can be removed.
      expect(within(ongoing).queryByTestId('session-dismiss')).toBeNull()
    })

    it('removes one ended chat, and it stays removed after a reconnect', async () => {
      d = makeDesk(desk())
      render(SessionList, { ctl: d.ctl })
      await fireEvent.click(screen.getByRole('button', { name: 'Remove Ebba from the list' }))
      await tick()
      expect(items().map((el) => el.dataset.session)).toEqual(['live', 'e2'])
      d.ctl.welcome(welcome(desk()))
      await tick()
      expect(items().map((el) => el.dataset.session)).toEqual(['live', 'e2'])
    })

    it('clears every ended chat at once, and the section goes', async () => {
      d = makeDesk(desk())
      render(SessionList, { ctl: d.ctl })
      await fireEvent.click(screen.getByTestId('session-clear-ended'))
      await tick()
      expect(items().map((el) => el.dataset.session)).toEqual(['live'])
      expect(screen.queryByTestId('session-list-recent')).toBeNull()
    })
  })

  it('counts unread visitor lines and clears them on opening the chat', async () => {
    d = makeDesk({ sessions: [session(), session({ id: 's-2', seq: 4, visitor: { name: 'Ola' } })] })
    render(SessionList, { ctl: d.ctl })
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-2', seq: 1, data: entry(1) })
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-2', seq: 2, data: entry(2) })
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-2', seq: 2, data: entry(2) })
    await tick()
    const badge = within(item('s-2')).getByTestId('unread-badge')
    expect(badge.textContent).toContain('2')
    expect(badge.textContent).toContain('2 unread messages')
    expect(within(item('s-1')).queryByTestId('unread-badge')).toBeNull()

    await fireEvent.click(item('s-2'))
    expect(item('s-2').getAttribute('aria-current')).toBe('true')
    expect(within(item('s-2')).queryByTestId('unread-badge')).toBeNull()
    // Opening a chat fetches what the desk does not hold (seq 3 and 4).
    expect(d.bridge.callsOf('session.log')).toEqual([[{ session: 's-2', after: 2 }]])
  })

  it('marks chats transferred to me or from me while the transfer waits', async () => {
    d = makeDesk({
      sessions: [
        session({ id: 's-1', transfer: transfer() }),
        session({ id: 's-2', role: 'offered', owner: dana, visitor: { name: 'Ola' } }),
        session({ id: 's-3', visitor: { name: 'Per' } }),
      ],
      transfers: [transfer(), transfer({ id: 8, session: 's-2', from: dana, by: dana, to: anna })],
    })
    render(SessionList, { ctl: d.ctl })
    expect(item('s-1').dataset.mark).toBe('from-me')
    expect(within(item('s-1')).getByTestId('transfer-mark').getAttribute('aria-label')).toBe('Transfer waiting to be accepted')
    expect(item('s-2').dataset.mark).toBe('to-me')
    expect(within(item('s-2')).getByTestId('transfer-mark').getAttribute('aria-label')).toBe('Transferred to you, waiting for your answer')
    expect(item('s-2').textContent).toContain('Transfer to you')
    expect(within(item('s-3')).queryByTestId('transfer-mark')).toBeNull()

    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer({ state: 'rejected' }) })
    await tick()
    expect(within(item('s-1')).queryByTestId('transfer-mark')).toBeNull()
  })

  it('shows a chat offered to me as soon as it arrives', async () => {
    d = makeDesk({ agent: bo, sessions: [] })
    render(SessionList, { ctl: d.ctl })
    expect(screen.queryAllByTestId('session-item')).toHaveLength(0)
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer() })
    d.bridge.emit('relay:event', { ev: 'session', session: 's-1', data: session({ role: 'offered', transfer: transfer() }) })
    await tick()
    expect(item('s-1').dataset.mark).toBe('to-me')
  })
})

describe('QueuePanel', () => {
  it('shows the count, gets the next chat, and follows queue events', async () => {
    d = makeDesk({ sessions: [], queue: [queueItem({ session: 'q-1' }), queueItem({ session: 'q-2', visitor: 'Wilma' })] }, {
      'queue.next': () => ({ ok: true, data: session({ id: 'q-1' }) }),
    })
    render(QueuePanel, { ctl: d.ctl })
    expect(screen.getByTestId('queue-count').textContent).toBe('2 waiting')
    expect(screen.getAllByTestId('queue-item').map((el) => el.dataset.session)).toEqual(['q-1', 'q-2'])

    await fireEvent.click(screen.getByTestId('get-next'))
    expect(d.bridge.callsOf('queue.next')).toEqual([[]])

    d.bridge.emit('relay:event', {
      ev: 'queue',
      data: { channel: 'support', removed: ['q-1', 'q-2'], added: [queueItem({ session: 'q-3', visitor: 'Xena', position: 1 })] },
    })
    await tick()
    expect(screen.getByTestId('queue-count').textContent).toBe('1 waiting')
    expect(screen.getAllByTestId('queue-item').map((el) => el.textContent)).toEqual([expect.stringContaining('Xena')])
  })

  it('puts the focus in the taken chat\'s composer, not on the button that goes', async () => {
    d = makeDesk({ sessions: [], queue: [queueItem({ session: 'q-1' })] }, { 'queue.next': () => ({ ok: true, data: session({ id: 'q-1' }) }) })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    const next = screen.getByTestId('get-next')
    next.focus()
    await fireEvent.click(next)
    await new Promise((r) => setTimeout(r, 0))
    await tick()
    expect(document.activeElement).toBe(screen.getByTestId('composer'))
  })

  it('picks a waiting chat', async () => {
    d = makeDesk({ queue: [queueItem({ session: 'q-1' })] })
    render(QueuePanel, { ctl: d.ctl })
    await fireEvent.click(screen.getByTestId('queue-item'))
    expect(d.bridge.callsOf('session.pick')).toEqual([[{ session: 'q-1' }]])
  })

  it('disables get-next when nobody waits', () => {
    d = makeDesk({ queue: [] })
    render(QueuePanel, { ctl: d.ctl })
    expect((screen.getByTestId('get-next') as HTMLButtonElement).disabled).toBe(true)
    expect(screen.getByText('Nobody is waiting.')).toBeTruthy()
  })

  it('does not offer waiting chats of a channel I may not answer in', () => {
    d = makeDesk({ channels: [channel({ perms: ['listen'] })], queue: [queueItem()] })
    render(QueuePanel, { ctl: d.ctl })
    expect((screen.getByTestId('queue-item') as HTMLButtonElement).disabled).toBe(true)
  })
})

describe('Header', () => {
  it('shows the connection, with a countdown while reconnecting', async () => {
    d = makeDesk()
    render(Header, { ctl: d.ctl, onsignout: () => {} })
    const ind = screen.getByTestId('connection-indicator')
    expect(ind.dataset.state).toBe('connected')
    expect(ind.textContent).toContain('Connected')
    d.bridge.emit('relay:state', { state: 'reconnecting', attempt: 2, nextAttempt: new Date(Date.now() + 4500).toISOString(), error: 'connection refused' })
    await tick()
    expect(ind.dataset.state).toBe('reconnecting')
    expect(ind.textContent).toMatch(/Reconnecting… \(next try in [45] s\)/)
    // The dial error is on hover only, never in the row.
    expect(ind.textContent).not.toContain('connection refused')
    expect(ind.getAttribute('title')).toBe('connection refused')
    d.bridge.emit('relay:state', { state: 'offline' })
    await tick()
    expect(ind.textContent).toContain('Offline')
  })

  it('switches between Present and Away', async () => {
    d = makeDesk({}, { 'status.set': ({ status }) => ({ ok: true, data: { ...anna, status } }) })
    render(Header, { ctl: d.ctl, onsignout: () => {} })
    const sw = screen.getByTestId('status-switch')
    expect(sw.getAttribute('aria-checked')).toBe('true')
    expect(sw.textContent).toContain('Present')
    await fireEvent.click(sw)
    expect(d.bridge.callsOf('status.set')).toEqual([[{ status: 'away' }]])
    await tick()
    expect(sw.getAttribute('aria-checked')).toBe('false')
    expect(sw.textContent).toContain('Away')
  })

  it('follows my status from presence events', async () => {
    d = makeDesk()
    render(Header, { ctl: d.ctl, onsignout: () => {} })
    d.bridge.emit('relay:event', { ev: 'presence', data: { agents: [{ ...anna, status: 'away' }] } })
    await tick()
    expect(screen.getByTestId('status-switch').getAttribute('aria-checked')).toBe('false')
  })
})
