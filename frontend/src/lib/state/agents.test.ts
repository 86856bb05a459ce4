// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { anna, bo, cleo, dana } from '../../test/fixtures'
import { agentsFromList, applyPresence, liveTargets, newlyPresent } from './agents'

describe('agents and presence', () => {
  it('merges presence updates into the welcome’s list', () => {
    const a = agentsFromList([anna, bo, cleo])
    const next = applyPresence(a, { agents: [{ ...bo, status: 'away', load: 4 }] })
    expect(next[bo.id]).toMatchObject({ name: 'Bo', status: 'away', load: 4 })
    expect(next[anna.id]).toBe(a[anna.id])
    expect(applyPresence(a, { agents: [] })).toBe(a)
  })

  it('adds an agent it did not know', () => {
    const next = applyPresence(agentsFromList([anna]), { agents: [dana] })
    expect(Object.keys(next).sort()).toEqual(['1', '4'])
  })

  it('keeps transfer targets live: current load, only Present, least loaded first', () => {
    const targets = [dana, bo]
    let agents = agentsFromList([anna, bo, dana])
    expect(liveTargets(targets, agents).map((a) => [a.name, a.load])).toEqual([
      ['Bo', 0],
      ['Dana', 3],
    ])
    agents = applyPresence(agents, { agents: [{ ...bo, load: 5 }] })
    expect(liveTargets(targets, agents).map((a) => a.name)).toEqual(['Dana', 'Bo'])
    agents = applyPresence(agents, { agents: [{ ...dana, status: 'away' }] })
    expect(liveTargets(targets, agents).map((a) => a.name)).toEqual(['Bo'])
  })

  it('notices someone becoming Present who is not yet a target', () => {
    const before = agentsFromList([anna, bo, cleo])
    const after = applyPresence(before, { agents: [{ ...cleo, status: 'present' }] })
    expect(newlyPresent([bo], before, after, anna.id)).toBe(true)
    expect(newlyPresent([bo, cleo], before, after, anna.id)).toBe(false)
    expect(newlyPresent([bo], before, after, cleo.id)).toBe(false)
  })
})
