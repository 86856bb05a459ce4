// Every agent's status and load: the welcome's list, then presence events,
// each naming only the agents that changed.

import type { AgentInfo, PresenceEvent } from '../protocol'

export type Agents = Record<number, AgentInfo>

export function agentsFromList(list: readonly AgentInfo[] | null | undefined): Agents {
  const out: Agents = {}
  for (const a of list ?? []) out[a.id] = a
  return out
}

export function applyPresence(agents: Agents, ev: PresenceEvent): Agents {
  const list = ev.agents ?? []
  if (list.length === 0) return agents
  const next = { ...agents }
  for (const a of list) next[a.id] = { ...next[a.id], ...a }
  return next
}

/**
 * The transfer dialog's list: the relay's targets, kept live with presence:
 * current status and load, only those still Present, least loaded first.
 */
export function liveTargets(targets: readonly AgentInfo[], agents: Agents): AgentInfo[] {
  return targets
    .map((t) => ({ ...t, ...agents[t.id] }))
    .filter((a) => a.status === 'present')
    .sort((a, b) => a.load - b.load || a.name.localeCompare(b.name) || a.id - b.id)
}

/** Whether presence shows someone Present who is not among the targets (the list may be stale). */
export function newlyPresent(targets: readonly AgentInfo[], before: Agents, after: Agents, me: number | undefined): boolean {
  const known = new Set(targets.map((t) => t.id))
  for (const a of Object.values(after)) {
    if (a.id === me || known.has(a.id)) continue
    if (a.status === 'present' && before[a.id]?.status !== 'present') return true
  }
  return false
}
