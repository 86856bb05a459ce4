import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { tick } from 'svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cecilia, dashSession, recorded, samples } from '../../test/dashboards'
import { makeDesk, type TestDesk } from '../../test/desk'
import { channel, entry, session } from '../../test/fixtures'
import type { Dashboard as DashboardData, Perm } from '../protocol'
import Dashboard from './Dashboard.svelte'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
  vi.useRealTimers()
})

/** The dashboard window signed in as Cecilia with these permissions, showing db. */
async function show(db: DashboardData, perms: Perm[] = ['respond', 'notify', 'listen', 'manage'], overrides: Parameters<typeof makeDesk>[1] = {}) {
  d = makeDesk({ agent: cecilia, channels: [channel({ perms })], sessions: [], agents: [] }, overrides)
  render(Dashboard, { ctl: d.ctl })
  d.bridge.emit('relay:event', { ev: 'dashboard', data: db })
  await tick()
}

const rowIds = () => screen.getAllByTestId('session-row').map((r) => r.dataset.session)
const actionsOf = (id: string) =>
  within(screen.getAllByTestId('session-row').find((r) => r.dataset.session === id)!)
    .queryAllByRole('button')
    .map((b) => b.dataset.testid)

const now = Date.parse('2025-03-03T11:00:00Z')
const min = (m: number) => new Date(now - m * 60_000).toISOString()
function board(over: Partial<DashboardData> = {}): DashboardData {
  return {
    at: new Date(now).toISOString(),
    overall: { waiting: 1, longest_wait_s: 120, present: 2, active: 2, chats_today: 5, transfers_today: { rejected: 1 }, open_requests: 0 },
    history: samples(30, now),
    channels: [
      { channel: 'support', name: 'Support', waiting: 1, longest_wait_s: 120, present: 2, active: 2, chats_today: 5, transfers_today: {}, open_requests: 0, history: samples(5, now, () => ({ waiting: 7 })) },
    ],
    agents: [],
    transfers: [],
    sessions: [
      dashSession({ id: 'old', visitor: 'Olle', since: min(9), last_visitor_at: min(1) }),
      dashSession({ id: 'new', visitor: 'Nina', since: min(1), last_visitor_at: min(1) }),
      dashSession({ id: 'wait', state: 'queued', visitor: 'Walter', owner: undefined, since: min(4), warning: 'waiting' }),
      dashSession({ id: 'late', state: 'queued', visitor: 'Lisa', owner: undefined, since: min(6), warning: 'manager' }),
    ],
    ...over,
  }
}

describe('the dashboard window', () => {
  it('counts the open requests in a tile', async () => {
    const b = board()
    await show({ ...b, overall: { ...b.overall, open_requests: 3 } })
    const tile = screen.getAllByTestId('dashboard-tile').find((t) => t.dataset.key === 'requests')!
    expect(tile.querySelector('.value')!.textContent).toBe('3')
    expect(tile.textContent).toContain('Open requests')
  })

  it('shows tiles, the agents with their pending transfers, and the chats, from a real relay’s picture', async () => {
    const db = recorded('pending')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse(db.at))
    await show(db)
    const value = (key: string) => screen.getAllByTestId('dashboard-tile').find((t) => t.dataset.key === key)!.querySelector('.value')!.textContent
    expect(value('waiting')).toBe('0')
    expect(value('active')).toBe('1')
    expect(value('present')).toBe('3')
    expect(value('today')).toBe('1')
    const agent = (login: string) => screen.getAllByTestId('agent-row').find((r) => r.dataset.agent === login)!
    expect(within(agent('anna')).getByTestId('agent-load').textContent).toBe('1')
    expect(within(agent('anna')).getByTestId('agent-pending-from').textContent).toBe('1')
    expect(within(agent('bertil')).getByTestId('agent-pending-to').textContent).toBe('1')
    expect(within(agent('cecilia')).getByTestId('agent-pending-to').textContent).toBe('0')
    const row = screen.getByTestId('session-row')
    expect(row.textContent).toContain('Vera')
    expect(row.textContent).toContain('Anna')
    expect(row.textContent).toContain('Pending')
    // A transfer is pending: listening and taking over are offered, another transfer not.
    expect(actionsOf(db.sessions![0].id)).toEqual(['dashboard-listen', 'dashboard-takeover'])
  })

  it('ticks the time waiting or active', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(now)
    await show(board())
    const time = () => screen.getAllByTestId('session-row').find((r) => r.dataset.session === 'new')!.querySelector('[data-testid="session-time"]')!.textContent!.trim()
    expect(time()).toBe('active 1 min')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(time()).toBe('active 2 min')
    const waiting = screen.getAllByTestId('session-row').find((r) => r.dataset.session === 'wait')!
    expect(within(waiting).getByTestId('session-time').textContent!.trim()).toBe('waiting 5 min')
  })

  it('sorts by each column from its header, a button (keyboard too), and says how', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(now)
    await show(board())
    expect(rowIds()).toEqual(['old', 'late', 'wait', 'new']) // longest first
    const header = (key: string) => screen.getByTestId(`sort-${key}`)
    expect(header('time').tagName).toBe('BUTTON')
    expect(header('time').closest('th')!.getAttribute('aria-sort')).toBe('descending')
    await fireEvent.click(header('visitor'))
    expect(rowIds()).toEqual(['late', 'new', 'old', 'wait'])
    expect(header('visitor').closest('th')!.getAttribute('aria-sort')).toBe('ascending')
    expect(header('time').closest('th')!.getAttribute('aria-sort')).toBe('none')
    await fireEvent.click(header('visitor'))
    expect(rowIds()).toEqual(['wait', 'old', 'new', 'late'])
    await fireEvent.click(header('owner'))
    expect(rowIds().slice(0, 2).sort()).toEqual(['new', 'old']) // Anna's; the queued ones last
    await fireEvent.click(header('lastVisitor'))
    expect(rowIds().slice(-2).sort()).toEqual(['late', 'wait']) // never wrote: last
    await fireEvent.click(header('time'))
    expect(rowIds()).toEqual(['old', 'late', 'wait', 'new'])
    await fireEvent.click(header('time'))
    expect(rowIds()).toEqual(['new', 'wait', 'late', 'old'])
  })

  it('sets chats waiting past the warning delays apart, in words as well as colour', async () => {
    await show(board())
    const row = (id: string) => screen.getAllByTestId('session-row').find((r) => r.dataset.session === id)!
    expect(row('wait').classList.contains('warn-waiting')).toBe(true)
    expect(row('wait').dataset.warning).toBe('waiting')
    expect(within(row('wait')).getByTestId('session-warning').textContent).toContain('Waiting too long')
    expect(row('late').classList.contains('warn-manager')).toBe(true)
    expect(within(row('late')).getByTestId('session-warning').textContent).toContain('manager warning')
    expect(row('old').className).not.toMatch(/warn/)
    expect(within(row('old')).queryByTestId('session-warning')).toBeNull()
  })

  it('offers what the permissions allow, and nothing on waiting chats', async () => {
    await show(board(), ['listen'])
    expect(actionsOf('old')).toEqual(['dashboard-listen'])
    expect(actionsOf('wait')).toEqual([])
    d.stop()
    d.bridge.uninstall()
    document.body.innerHTML = ''

    await show(board(), ['respond', 'listen', 'manage'])
    expect(actionsOf('old')).toEqual(['dashboard-listen', 'dashboard-takeover', 'dashboard-transfer'])
    expect(actionsOf('late')).toEqual([])
    d.stop()
    d.bridge.uninstall()
    document.body.innerHTML = ''

    // Permissions in another channel only: nothing here.
    await show(board({ sessions: [dashSession({ id: 'x', channel: 'sales' })] }), ['manage'])
    expect(actionsOf('x')).toEqual([])
  })

  it('draws the queue chart from the history, overall or of the channel chosen', async () => {
    await show(board())
    const points = (series: string) => screen.getAllByTestId('chart-point').filter((p) => p.dataset.series === series)
    expect(points('waiting')).toHaveLength(30)
    expect(points('wait')).toHaveLength(30)
    expect(screen.getByTestId('queue-chart').textContent).toContain('All channels')
    const card = screen.getByTestId('channel-card')
    expect(card.getAttribute('aria-pressed')).toBe('false')
    await fireEvent.click(card)
    expect(card.getAttribute('aria-pressed')).toBe('true')
    expect(points('waiting')).toHaveLength(5)
    expect(points('waiting').every((p) => p.dataset.value === '7')).toBe(true)
    expect(screen.getByTestId('queue-chart').textContent).toContain('Support')
    expect(screen.getByTestId('chart-line-wait').getAttribute('points')!.split(' ')).toHaveLength(5)
    await fireEvent.click(card)
    expect(points('waiting')).toHaveLength(30)
  })

  it('listens silently: opens the chat read-only, live; Leave closes it', async () => {
    const listened = session({ id: 'old', role: 'listener', seq: 2, owner: { id: 1, name: 'Anna', status: 'present', load: 1 } })
    await show(board(), ['listen'], {
      'session.listen': () => ({ ok: true, data: listened }),
      'session.log': () => ({ ok: true, data: { entries: [entry(1, { text: 'My invoice is wrong' }), entry(2, { text: 'Still there?' })], more: false } }),
    })
    await fireEvent.click(within(screen.getAllByTestId('session-row')[0]).getByTestId('dashboard-listen'))
    expect(d.bridge.callsOf('session.listen')).toEqual([[{ session: 'old' }]])
    const panel = await screen.findByTestId('listen-panel')
    expect(panel.dataset.mode).toBe('listener')
    expect(within(panel).getByTestId('dashboard-listen-banner').textContent).toContain('Anna and the visitor are not told')
    await vi.waitFor(() => expect(within(panel).getAllByTestId('log-entry')).toHaveLength(2))
    expect(within(panel).queryByTestId('composer')).toBeNull()
    // Live: a new line arrives as an entry event.
    d.bridge.emit('relay:event', { ev: 'entry', session: 'old', seq: 3, data: entry(3, { text: 'Hello?' }) })
    await vi.waitFor(() => expect(within(panel).getAllByTestId('log-entry')).toHaveLength(3))
    // The row says it is open; no second Listen.
    expect(actionsOf('old')).toEqual(['dashboard-show'])
    await fireEvent.click(within(panel).getByTestId('dashboard-leave'))
    expect(d.bridge.callsOf('session.leave')).toEqual([[{ session: 'old' }]])
    await vi.waitFor(() => expect(screen.queryByTestId('listen-panel')).toBeNull())
  })

  it('takes over only after confirming, then shows the chat with a composer', async () => {
    await show(board(), ['manage'], { 'session.takeover': () => ({ ok: true, data: { id: 'old' } }) })
    await fireEvent.click(within(screen.getAllByTestId('session-row')[0]).getByTestId('dashboard-takeover'))
    const dialog = screen.getByTestId('takeover-dialog')
    expect(dialog.textContent).toContain('Olle')
    expect(dialog.textContent).toContain('Anna is moved to listen mode')
    await fireEvent.click(within(dialog).getByTestId('takeover-cancel'))
    expect(d.bridge.callsOf('session.takeover')).toEqual([])
    expect(screen.queryByTestId('takeover-dialog')).toBeNull()

    await fireEvent.click(within(screen.getAllByTestId('session-row')[0]).getByTestId('dashboard-takeover'))
    await fireEvent.click(screen.getByTestId('takeover-confirm'))
    expect(d.bridge.callsOf('session.takeover')).toEqual([[{ session: 'old' }]])
    // The relay says the chat is mine now.
    d.bridge.emit('relay:event', { ev: 'session', data: session({ id: 'old', role: 'owner', owner: cecilia }) })
    const panel = await screen.findByTestId('listen-panel')
    await vi.waitFor(() => expect(panel.dataset.mode).toBe('owner'))
    expect(within(panel).getByTestId('dashboard-owned').textContent).toContain('main window')
    expect(within(panel).getByTestId('composer')).toBeTruthy()
  })

  it('transfers on the owner’s behalf to a target the relay lists', async () => {
    const bertil = { id: 2, login: 'bertil', name: 'Bertil', status: 'present', load: 0 }
    await show(board(), ['manage'], {
      'transfer.targets': () => ({ ok: true, data: [bertil] }),
      'transfer.start': () => ({ ok: true, data: { id: 9, session: 'old', state: 'pending', kind: 'transfer', from: {}, to: bertil, by: cecilia } }),
    })
    await fireEvent.click(within(screen.getAllByTestId('session-row')[0]).getByTestId('dashboard-transfer'))
    expect(await screen.findByTestId('transfer-dialog')).toBeTruthy()
    expect(d.bridge.callsOf('transfer.targets')).toEqual([[{ session: 'old' }]])
    const option = await screen.findByTestId('transfer-agent-option')
    await fireEvent.click(within(option).getByRole('radio'))
    await fireEvent.submit(document.getElementById('transfer-form')!)
    expect(d.bridge.callsOf('transfer.start')).toEqual([[{ session: 'old', to: 2, queue: false, comment: '' }]])
    await vi.waitFor(() => expect(screen.queryByTestId('transfer-dialog')).toBeNull())
  })

  it('gives each recent transfer its time and, on an owner’s behalf, who started it', async () => {
    const ag = (id: number, name: string) => ({ id, login: name.toLowerCase(), name, status: 'present' as const, load: 0 })
    const base = { session: 's-1', channel: 'support', started_at: '2026-03-03T09:58:00Z', visitor: 'Vera' }
    await show(
      board({
        transfers: [
          { ...base, id: 2, kind: 'transfer', from: ag(1, 'Anna'), to: ag(2, 'Bo'), by: ag(4, 'Cecilia'), state: 'accepted', ended_at: '2026-03-03T10:02:00Z' },
          { ...base, id: 1, kind: 'takeover', from: ag(1, 'Anna'), to: ag(4, 'Cecilia'), by: ag(4, 'Cecilia'), state: 'accepted', ended_at: '2026-03-03T10:01:00Z' },
        ],
      }),
    )
    const rows = screen.getAllByTestId('recent-transfer')
    expect(rows).toHaveLength(2)
    expect(rows[0].querySelector('time')?.getAttribute('datetime')).toBe('2026-03-03T10:02:00Z')
    expect(rows[0].textContent).toContain('(by Cecilia)')
    expect(rows[1].textContent).toContain('take-over')
    expect(rows[1].textContent).not.toContain('(by')
  })

  it('speaks Swedish', async () => {
    const { language } = await import('../i18n')
    language.set('sv')
    try {
      await show(board(), ['manage'])
      expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Översikt')
      expect(screen.getByTestId('sort-visitor').textContent).toContain('Besökare')
      expect(actionsOf('old')).toHaveLength(3)
      expect(within(screen.getAllByTestId('session-row')[0]).getByTestId('dashboard-takeover').textContent!.trim()).toBe('Ta över')
      expect(screen.getAllByTestId('session-warning')[0].textContent).toMatch(/Väntar för länge|chefsvarning/)
    } finally {
      language.set('en')
    }
  })
})
