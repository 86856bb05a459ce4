// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { dashSession, recorded, samples } from '../../test/dashboards'
import type { Dashboard, Perm } from '../protocol'
import {
  agentRows,
  allowedActions,
  chart,
  chartHeight,
  chartWidth,
  defaultSort,
  mayWatch,
  nextSort,
  polyline,
  recentTransfers,
  sessionRows,
  sortRows,
  tiles,
  type SessionRow,
  type Sort,
} from './model'

const at = (db: Dashboard) => Date.parse(db.at)

describe('the dashboard model, fed with what a real relay sent', () => {
  it('starts empty: nobody waiting, three agents Present', () => {
    const db = recorded('empty')
    const f = tiles(db.overall, db.at, at(db))
    expect(f).toMatchObject({ waiting: 0, longestWaitS: 0, present: 3, active: 0, chatsToday: 0 })
    expect(f.transfers).toEqual({ accepted: 0, rejected: 0, cancelled: 0, expired: 0, voided: 0, takeover: 0 })
    expect(sessionRows(db, at(db))).toEqual([])
    expect(agentRows(db).map((r) => [r.agent.login, r.agent.status, r.pendingTo, r.pendingFrom])).toEqual([
      ['anna', 'present', 0, 0],
      ['bertil', 'present', 0, 0],
      ['cecilia', 'present', 0, 0],
    ])
  })

  it('shows a visitor waiting, and the wait growing between pushes', () => {
    const db = recorded('queued')
    expect(tiles(db.overall, db.at, at(db)).waiting).toBe(1)
    expect(tiles(db.channels![0], db.at, at(db)).waiting).toBe(1)
    // Ten seconds after the picture, the longest wait is ten seconds longer.
    expect(tiles(db.overall, db.at, at(db) + 10_000).longestWaitS).toBe(db.overall.longest_wait_s + 10)
    const [row] = sessionRows(db, at(db) + 65_000)
    expect(row).toMatchObject({ queued: true, channelName: 'Support', warning: '' })
    expect(row.session.visitor).toBe('Vera')
    expect(row.session.owner).toBeUndefined()
    expect(row.elapsedS).toBeGreaterThanOrEqual(65)
    expect(row.sinceVisitorS).toBeGreaterThanOrEqual(65)
  })

  it('counts a pending transfer for both agents, and offers no second one', () => {
    const db = recorded('pending')
    expect(tiles(db.overall, db.at, at(db))).toMatchObject({ waiting: 0, active: 1, chatsToday: 1 })
    const rows = Object.fromEntries(agentRows(db).map((r) => [r.agent.login, r]))
    expect(rows.anna).toMatchObject({ pendingTo: 0, pendingFrom: 1 })
    expect(rows.anna.agent.load).toBe(1)
    expect(rows.bertil).toMatchObject({ pendingTo: 1, pendingFrom: 0 })
    expect(rows.cecilia).toMatchObject({ pendingTo: 0, pendingFrom: 0 })
    const s = db.sessions![0]
    expect(s.transfer).toBe('pending')
    expect(allowedActions(s, ['respond', 'listen', 'manage'], 3, false)).toEqual({ listen: true, takeOver: true, transfer: false })
    expect(allowedActions(s, ['listen'], 4, false)).toEqual({ listen: true, takeOver: false, transfer: false })
  })

  it('counts the rejection and clears the mark', () => {
    const db = recorded('rejected')
    expect(tiles(db.overall, db.at, at(db)).transfers.rejected).toBe(1)
    expect(tiles(db.channels![0], db.at, at(db)).transfers.rejected).toBe(1)
    expect(agentRows(db).every((r) => r.pendingTo === 0 && r.pendingFrom === 0)).toBe(true)
    expect(db.sessions![0].transfer ?? '').toBe('')
    expect(allowedActions(db.sessions![0], ['manage'], 3, false)).toEqual({ listen: true, takeOver: true, transfer: true })
    expect(recentTransfers(db).map((t) => [t.state, t.from.login, t.to.login])).toEqual([['rejected', 'anna', 'bertil']])
  })

  it('after a take-over the chat is the supervisor’s own: nothing to offer her', () => {
    const db = recorded('takeover')
    const s = db.sessions![0]
    expect(s.owner?.login).toBe('cecilia')
    expect(allowedActions(s, ['respond', 'listen', 'manage'], 3, false)).toEqual({ listen: false, takeOver: false, transfer: false })
    // Someone else with manage could still take it from her.
    expect(allowedActions(s, ['manage'], 9, false).takeOver).toBe(true)
    expect(recentTransfers(db)[0]).toMatchObject({ kind: 'takeover', state: 'accepted' })
  })

  it('draws the recorded queue history', () => {
    const db = recorded('pending')
    const c = chart(db.history, db.at)
    expect(c.waiting).toHaveLength(db.history!.length)
    expect(c.waiting.at(-1)!.value).toBe(1)
    expect(chart(db.channels![0].history, db.at).waiting).toHaveLength(db.channels![0].history!.length)
  })
})

describe('actions by permission', () => {
  const active = dashSession()
  it('listen needs listen or manage; take over and transfer need manage', () => {
    expect(allowedActions(active, [], 3, false)).toEqual({ listen: false, takeOver: false, transfer: false })
    expect(allowedActions(active, ['respond', 'notify'], 3, false)).toEqual({ listen: false, takeOver: false, transfer: false })
    expect(allowedActions(active, ['listen'], 3, false)).toEqual({ listen: true, takeOver: false, transfer: false })
    expect(allowedActions(active, ['manage'], 3, false)).toEqual({ listen: true, takeOver: true, transfer: true })
  })
  it('offers nothing on a waiting chat, and no second listen', () => {
    expect(allowedActions(dashSession({ state: 'queued', owner: undefined }), ['manage'], 3, false)).toEqual({ listen: false, takeOver: false, transfer: false })
    expect(allowedActions(active, ['manage'], 3, true).listen).toBe(false)
  })
  it('knows who may watch at all', () => {
    const ch = (perms: Perm[]) => ({ support: { key: 'support', name: 'Support', open: true, offline_form: true, perms, transfer_timeout_s: 120, templates: [], files: { max_bytes: 0, types: [] } } })
    expect(mayWatch(ch(['listen']))).toBe(true)
    expect(mayWatch(ch(['manage']))).toBe(true)
    expect(mayWatch(ch(['respond', 'notify']))).toBe(false)
  })
})

describe('sorting the sessions', () => {
  const now = Date.parse('2025-03-03T11:00:00Z')
  const min = (m: number) => new Date(now - m * 60_000).toISOString()
  const db = {
    at: new Date(now).toISOString(),
    overall: { waiting: 1, longest_wait_s: 0, present: 2, active: 3, chats_today: 4, transfers_today: {}, open_requests: 0 },
    channels: [
      { channel: 'sales', name: 'Sales', waiting: 0, longest_wait_s: 0, present: 1, active: 1, chats_today: 1, transfers_today: {}, open_requests: 0, history: [] },
      { channel: 'support', name: 'Support', waiting: 1, longest_wait_s: 0, present: 1, active: 2, chats_today: 3, transfers_today: {}, open_requests: 0, history: [] },
    ],
    history: [],
    agents: [],
    transfers: [],
    sessions: [
      dashSession({ id: 'a', visitor: 'Olle', since: min(5), last_visitor_at: min(1), owner: { id: 2, name: 'Bertil', status: 'present', load: 1 } }),
      dashSession({ id: 'b', channel: 'sales', visitor: 'ärla', since: min(12), last_visitor_at: min(10), transfer: 'pending' }),
      dashSession({ id: 'c', state: 'queued', visitor: 'Nina', owner: undefined, since: min(2), last_visitor_at: undefined }),
      dashSession({ id: 'd', visitor: 'Bo', since: min(30), last_visitor_at: min(3), owner: { id: 3, name: 'Cecilia', status: 'present', load: 1 } }),
    ],
  } as Dashboard
  const rows: SessionRow[] = sessionRows(db, now)
  const order = (sort: Sort) => sortRows(rows, sort).map((r) => r.session.id)

  it('by each column, both ways', () => {
    expect(order(defaultSort)).toEqual(['d', 'b', 'a', 'c']) // longest first
    expect(order({ key: 'time', dir: 'asc' })).toEqual(['c', 'a', 'b', 'd'])
    expect(order({ key: 'channel', dir: 'asc' })).toEqual(['b', 'd', 'a', 'c'])
    expect(order({ key: 'visitor', dir: 'asc' })).toEqual(['b', 'd', 'c', 'a']) // ärla, Bo, Nina, Olle: case-insensitive
    expect(order({ key: 'visitor', dir: 'desc' })).toEqual(['a', 'c', 'd', 'b'])
    expect(order({ key: 'owner', dir: 'asc' })).toEqual(['b', 'a', 'd', 'c'])
    expect(order({ key: 'lastVisitor', dir: 'asc' })).toEqual(['a', 'd', 'b', 'c'])
  })

  it('keeps empty cells last in both directions', () => {
    expect(order({ key: 'owner', dir: 'desc' }).at(-1)).toBe('c')
    expect(order({ key: 'lastVisitor', dir: 'desc' })).toEqual(['b', 'd', 'a', 'c'])
    expect(order({ key: 'transfer', dir: 'asc' })[0]).toBe('b')
    expect(order({ key: 'transfer', dir: 'desc' })[0]).toBe('b')
  })

  it('flips the same column, and starts times longest first', () => {
    expect(nextSort({ key: 'time', dir: 'desc' }, 'time')).toEqual({ key: 'time', dir: 'asc' })
    expect(nextSort({ key: 'time', dir: 'desc' }, 'visitor')).toEqual({ key: 'visitor', dir: 'asc' })
    expect(nextSort({ key: 'visitor', dir: 'asc' }, 'lastVisitor')).toEqual({ key: 'lastVisitor', dir: 'desc' })
  })

  it('reads live times from the clock', () => {
    const later = sessionRows(db, now + 30_000)
    expect(later.find((r) => r.session.id === 'c')!.elapsedS).toBe(150)
  })
})

describe('the queue chart', () => {
  const end = Date.parse('2025-03-03T11:00:30Z')
  it('puts one point per sample across the hour, each line scaled to its top', () => {
    const s = samples(60, end)
    const c = chart(s, end)
    expect(c.waiting).toHaveLength(60)
    expect(c.longestWait).toHaveLength(60)
    expect(c.maxWaiting).toBe(3)
    expect(c.maxWaitS).toBe(590)
    const xs = c.waiting.map((p) => p.x)
    expect(xs).toEqual([...xs].sort((a, b) => a - b))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThanOrEqual(chartWidth)
    // The top value is drawn highest, zero on the baseline.
    const top = c.longestWait.at(-1)!
    expect(top.y).toBe(Math.min(...c.longestWait.map((p) => p.y)))
    expect(c.waiting[0].value).toBe(0)
    expect(c.waiting[0].y).toBe(Math.max(...c.waiting.map((p) => p.y)))
    expect(top.y).toBeGreaterThanOrEqual(0)
    expect(c.waiting[0].y).toBeLessThanOrEqual(chartHeight)
    expect(polyline(c.waiting.slice(0, 2))).toMatch(/^[\d.]+,[\d.]+ [\d.]+,[\d.]+$/)
  })

  it('draws visitors waiting as a bar per minute, inside the chart, zero as no bar', () => {
    const c = chart(samples(60, end), end)
    expect(c.bars).toHaveLength(60)
    expect(c.barWidth).toBeGreaterThan(2)
    for (const b of c.bars) {
      expect(b.x).toBeGreaterThanOrEqual(0)
      expect(b.x + c.barWidth).toBeLessThanOrEqual(chartWidth)
      expect(b.y + b.height).toBeCloseTo(chartHeight - 8, 0)
    }
    expect(c.bars[0].height).toBe(0)
    const tallest = Math.max(...c.bars.map((b) => b.height))
    expect(c.bars.filter((b) => b.value === c.maxWaiting).every((b) => b.height === tallest)).toBe(true)
    // One sample, in the current minute: a bar still shows, at the right edge.
    const one = chart([{ at: new Date(end - 30_000).toISOString(), waiting: 1, longest_wait_s: 5 }], end)
    expect(one.bars).toHaveLength(1)
    expect(one.bars[0].height).toBeGreaterThan(50)
    expect(one.bars[0].x + one.barWidth).toBeLessThanOrEqual(chartWidth)
  })

  it('leaves out what is older than the hour, and copes with nothing', () => {
    const s = samples(90, end)
    expect(chart(s, end).waiting.length).toBeLessThanOrEqual(61)
    expect(chart([], end)).toMatchObject({ waiting: [], maxWaiting: 1, maxWaitS: 1 })
    expect(chart(null, end).waiting).toEqual([])
  })
})
