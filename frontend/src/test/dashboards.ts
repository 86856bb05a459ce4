// Dashboard payloads recorded from a real relay by the Go side's
// TestDashboardEventsFollowTheRelay (app/dashboard_test.go):
//
//   go test ./app -run TestDashboardEventsFollowTheRelay -args \
//     -dashboard-fixtures=$PWD/frontend/src/lib/dashboard/fixtures
//
// Agents there: Anna (1), Bertil (2), Cecilia (3, a supervisor), Lars (4,
// listen only); one channel, support.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AgentInfo, Dashboard, DashSession, Sample } from '../lib/protocol'

export type Recorded = 'empty' | 'queued' | 'pending' | 'rejected' | 'takeover'

export function recorded(name: Recorded): Dashboard {
  return JSON.parse(readFileSync(resolve(import.meta.dirname, '../lib/dashboard/fixtures', `${name}.json`), 'utf8')) as Dashboard
}

export const cecilia: AgentInfo = { id: 3, login: 'cecilia', name: 'Cecilia', status: 'present', load: 0 }

/** A session row of a dashboard, for tests that build their own. */
export function dashSession(over: Partial<DashSession> = {}): DashSession {
  return {
    id: 's-1',
    channel: 'support',
    state: 'active',
    visitor: 'Vera',
    owner: { id: 1, login: 'anna', name: 'Anna', status: 'present', load: 1 },
    since: '2025-03-03T10:00:00Z',
    ...over,
  }
}

/** n per-minute samples ending at end (ms), the last one newest. */
export function samples(n: number, end: number, f: (i: number) => Partial<Sample> = () => ({})): Sample[] {
  const minute = 60_000
  const start = Math.floor(end / minute) * minute - (n - 1) * minute
  return Array.from({ length: n }, (_, i) => ({
    at: new Date(start + i * minute).toISOString(),
    waiting: i % 4,
    longest_wait_s: i * 10,
    ...f(i),
  }))
}
