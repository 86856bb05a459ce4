// @vitest-environment node
import { describe, expect, it } from 'vitest'
import {
  agentLine,
  anna,
  bo,
  channel,
  dana,
  entry,
  iso,
  queueItem,
  session,
  staffNote,
  T0,
  transfer,
  welcome,
} from '../../test/fixtures'
import {
  applyEntries,
  applyOutboxEvent,
  applyRelayEvent,
  applySession,
  applyWelcome,
  belongsToMe,
  canWatch,
  chatMode,
  initialDesk,
  isListening,
  isTyping,
  keepEndedMs,
  removeChat,
  selectChat,
  sessionList,
  type DeskState,
  type RelayEvent,
} from './desk'
import { queueCount } from './queue'

const ev = (e: RelayEvent) => e
const run = (s: DeskState, ...events: RelayEvent[]) => events.reduce((acc, e) => applyRelayEvent(acc, e, T0), s)
const entryEv = (session: string, e: ReturnType<typeof entry>) => ev({ ev: 'entry', session, seq: e.seq, data: e })
const seqsOf = (s: DeskState, id: string) => (s.logs[id] ?? []).map((e) => e.seq)

function desk(over: Parameters<typeof welcome>[0] = {}) {
  return applyWelcome(initialDesk(), welcome(over))
}

describe('welcome', () => {
  it('sets me, channels, sessions, queue, agents and pending transfers', () => {
    const s = desk({
      sessions: [session(), session({ id: 's-2', role: 'offered', owner: dana, transfer: transfer({ id: 8, session: 's-2', to: anna, from: dana, by: dana }) })],
      queue: [queueItem(), queueItem({ session: 'q-2', channel: 'sales' })],
      transfers: [transfer({ id: 8, session: 's-2', to: anna, from: dana, by: dana })],
    })
    expect(s.me?.name).toBe('Anna')
    expect(Object.keys(s.channels)).toEqual(['support'])
    expect(Object.keys(s.sessions).sort()).toEqual(['s-1', 's-2'])
    expect(queueCount(s.queues)).toBe(2)
    expect(s.agents[bo.id].name).toBe('Bo')
    expect(Object.keys(s.transfers)).toEqual(['8'])
  })

  it('keeps logs, unread counts and the selection of chats still listed after a reconnect', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2' })] })
    s = selectChat(s, 's-1')
    s = run(s, entryEv('s-1', entry(1)), entryEv('s-2', entry(1)), entryEv('s-2', entry(2)))
    expect(s.unread['s-2']).toBe(2)
    s = applyWelcome(s, welcome({ sessions: [session({ seq: 1 }), session({ id: 's-3' })] }))
    expect(s.selected).toBe('s-1')
    expect(seqsOf(s, 's-1')).toEqual([1])
    expect(s.logs['s-2']).toBeUndefined()
    expect(s.unread['s-2']).toBeUndefined()
    s = applyWelcome(s, welcome({ sessions: [session({ id: 's-3' })] }))
    expect(s.selected).toBeNull()
  })
})

describe('session snapshots', () => {
  it('merge into the map, the latest winning', () => {
    let s = desk()
    s = run(s, ev({ ev: 'session', session: 's-1', data: session({ seq: 5, last_visitor_at: iso(5000) }) }))
    expect(s.sessions['s-1'].seq).toBe(5)
    s = run(s, ev({ ev: 'session', session: 's-9', data: session({ id: 's-9' }) }))
    expect(Object.keys(s.sessions).sort()).toEqual(['s-1', 's-9'])
  })

  it('drop a chat that is no longer mine (a listener who left, a rejected offer)', () => {
    let s = desk({ agent: bo, sessions: [session({ role: 'offered', owner: anna, transfer: transfer() })], transfers: [transfer()] })
    s = selectChat(s, 's-1')
    s = run(s, entryEv('s-1', entry(1)))
    s = run(s, ev({ ev: 'session', data: session({ role: undefined, owner: anna, transfer: undefined }) }))
    expect(s.sessions['s-1']).toBeUndefined()
    expect(s.logs['s-1']).toBeUndefined()
    expect(s.selected).toBeNull()
    expect(s.transfers).toEqual({})
  })

  it('keep a chat whose pending transfer a manager started for someone else', () => {
    const t = transfer({ from: dana, by: anna, to: bo })
    expect(belongsToMe(session({ role: undefined, owner: dana, transfer: t }), anna.id, {})).toBe(true)
    expect(belongsToMe(session({ role: undefined, owner: dana, transfer: undefined }), anna.id, {})).toBe(false)
  })

  it('carry the pending transfer mark, and its end', () => {
    let s = desk()
    s = run(s, ev({ ev: 'session', data: session({ transfer: transfer() }) }))
    expect(sessionList(s, T0)[0].mark).toBe('from-me')
    s = run(s, ev({ ev: 'session', data: session({ transfer: undefined }) }))
    expect(sessionList(s, T0)[0].mark).toBeNull()
  })
})

describe('log entries', () => {
  it('are deduplicated by seq and sorted whatever the arrival order', () => {
    let s = desk()
    s = run(s, entryEv('s-1', entry(2)), entryEv('s-1', entry(1)), entryEv('s-1', entry(2)), entryEv('s-1', entry(4)))
    s = applyEntries(s, 's-1', [entry(3), entry(4), entry(1)])
    expect(seqsOf(s, 's-1')).toEqual([1, 2, 3, 4])
    expect(s.sessions['s-1'].seq).toBe(4)
  })

  it('take the seq from the frame when the entry lacks it', () => {
    const s = run(desk(), ev({ ev: 'entry', session: 's-1', seq: 3, data: { ...entry(0), seq: undefined } }))
    expect(seqsOf(s, 's-1')).toEqual([3])
  })

  it('return the same state for a duplicate', () => {
    const s = run(desk(), entryEv('s-1', entry(1)))
    expect(run(s, entryEv('s-1', entry(1)))).toBe(s)
  })
})

describe('unread counts', () => {
  it('count visitor lines arriving while the chat is not selected', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2' })] })
    s = selectChat(s, 's-2')
    const colleague = agentLine(2, 'from Bo', { from: { kind: 'agent', id: 2, name: 'Bo' } })
    s = run(s, entryEv('s-1', entry(1)), entryEv('s-1', colleague), entryEv('s-1', staffNote(3, 'note')), entryEv('s-1', entry(4)))
    expect(s.unread['s-1']).toBe(2)
    expect(sessionList(s, T0).find((i) => i.info.id === 's-1')?.unread).toBe(2)
  })

  it('count only what came after a line of mine (answered from another window)', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2' })] })
    s = selectChat(s, 's-2')
    s = run(s, entryEv('s-1', entry(1)), entryEv('s-1', entry(2)))
    expect(s.unread['s-1']).toBe(2)
    s = run(s, entryEv('s-1', agentLine(3))) // Anna answered in the dashboard
    expect(s.unread['s-1']).toBe(0)
    s = run(s, entryEv('s-1', entry(4)))
    expect(s.unread['s-1']).toBe(1)
  })

  it('do not count the selected chat, duplicates, or a fetched page', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2' })] })
    s = selectChat(s, 's-1')
    s = run(s, entryEv('s-1', entry(1)))
    expect(s.unread['s-1'] ?? 0).toBe(0)
    s = selectChat(s, 's-2')
    s = run(s, entryEv('s-1', entry(1)))
    expect(s.unread['s-1'] ?? 0).toBe(0)
    s = applyEntries(s, 's-1', [entry(2), entry(3)])
    expect(s.unread['s-1'] ?? 0).toBe(0)
  })

  it('go to zero when the chat is selected', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2' })] })
    s = selectChat(s, 's-2')
    s = run(s, entryEv('s-1', entry(1)), entryEv('s-1', entry(2)))
    expect(s.unread['s-1']).toBe(2)
    s = selectChat(s, 's-1')
    expect(s.unread['s-1']).toBe(0)
    s = run(s, entryEv('s-1', entry(3)))
    expect(s.unread['s-1']).toBe(0)
  })
})

describe('transfers', () => {
  it('mark a chat offered to me and one I wait on, until resolved', () => {
    let s = desk({ sessions: [session(), session({ id: 's-2', role: 'offered', owner: dana })] })
    s = run(
      s,
      ev({ ev: 'transfer', session: 's-1', data: transfer() }),
      ev({ ev: 'transfer', session: 's-2', data: transfer({ id: 8, session: 's-2', from: dana, by: dana, to: anna }) }),
    )
    const marks = () => Object.fromEntries(sessionList(s, T0).map((i) => [i.info.id, i.mark]))
    expect(marks()).toEqual({ 's-1': 'from-me', 's-2': 'to-me' })
    s = run(s, ev({ ev: 'transfer', data: transfer({ state: 'rejected' }) }))
    expect(marks()).toEqual({ 's-1': null, 's-2': 'to-me' })
  })
})

describe('channels event', () => {
  it('replaces my channels and the queues I see after a permission change', () => {
    let s = desk({ channels: [channel()], queue: [queueItem({ session: 'a' })] })
    expect(canWatch(s)).toBe(false)
    s = run(s, ev({ ev: 'warning', session: 'a', data: { session: 'a', channel: 'support', level: 'waiting', visitor: 'V', waited_s: 70 } }))
    s = run(s, ev({ ev: 'channels', data: { channels: [channel({ key: 'sales', perms: ['respond', 'listen'] })], queue: [queueItem({ session: 'x', channel: 'sales' })] } }))
    expect(Object.keys(s.channels)).toEqual(['sales'])
    expect(canWatch(s)).toBe(true)
    expect(Object.keys(s.queues)).toEqual(['sales'])
    expect(s.queues.sales.map((i) => i.session)).toEqual(['x'])
    expect(s.warnings).toEqual({})
  })
})

describe('queue and presence events', () => {
  it('change a channel’s list by what joined and left', () => {
    let s = desk({ queue: [queueItem({ session: 'a' }), queueItem({ session: 'b', channel: 'sales' })] })
    s = run(
      s,
      ev({
        ev: 'queue',
        data: { channel: 'support', removed: ['a'], added: [queueItem({ session: 'c', position: 1 }), queueItem({ session: 'd', position: 2 })] },
      }),
    )
    expect(s.queues.support.map((i) => i.session)).toEqual(['c', 'd'])
    expect(s.queues.sales.map((i) => i.session)).toEqual(['b'])
    s = run(s, ev({ ev: 'queue', data: { channel: 'support', removed: ['c', 'd'] } }))
    expect(queueCount(s.queues)).toBe(1)
  })

  it('forget a warning once the chat leaves the queue', () => {
    let s = desk({ queue: [queueItem({ session: 'a' })] })
    s = run(s, ev({ ev: 'warning', session: 'a', data: { session: 'a', channel: 'support', level: 'waiting', visitor: 'W', waited_s: 90 } }))
    expect(s.warnings.a).toBe('waiting')
    s = run(s, ev({ ev: 'queue', data: { channel: 'support', added: [queueItem({ session: 'b', position: 2 })] } }))
    expect(s.warnings.a).toBe('waiting')
    s = run(s, ev({ ev: 'queue', data: { channel: 'support', removed: ['a'] } }))
    expect(s.warnings.a).toBeUndefined()
  })

  it('merge presence, including my own status', () => {
    let s = desk()
    s = run(s, ev({ ev: 'presence', data: { agents: [{ ...bo, load: 3 }, { ...anna, status: 'away' }] } }))
    expect(s.agents[bo.id].load).toBe(3)
    expect(s.agents[dana.id].load).toBe(3)
    expect(s.me?.status).toBe('away')
  })
})

describe('listen mode and chat modes', () => {
  it('derive what I may do from my role, the state and a pending offer', () => {
    expect(chatMode(session(), anna.id, undefined)).toBe('owner')
    expect(chatMode(session({ role: 'listener' }), anna.id, undefined)).toBe('listener')
    expect(chatMode(session({ role: 'offered' }), bo.id, undefined)).toBe('offered')
    expect(chatMode(session({ role: undefined }), bo.id, transfer())).toBe('offered')
    expect(chatMode(session(), anna.id, transfer())).toBe('owner')
    expect(chatMode(session({ state: 'ended', ended_at: iso() }), anna.id, undefined)).toBe('ended')
    expect(chatMode(session({ role: 'watcher' }), anna.id, undefined)).toBe('readonly')
    expect(isListening(session({ role: 'listener' }))).toBe(true)
    expect(isListening(session({ role: 'listener', state: 'ended' }))).toBe(false)
    expect(isListening(session())).toBe(false)
  })

  it('turn the former owner into a listener after an accepted transfer', () => {
    let s = desk()
    s = run(s, ev({ ev: 'transfer', data: transfer() }))
    s = run(s, ev({ ev: 'transfer', data: transfer({ state: 'accepted' }) }), ev({ ev: 'session', data: session({ role: 'listener', owner: bo }) }))
    const item = sessionList(s, T0)[0]
    expect(item.mode).toBe('listener')
    expect(item.mark).toBeNull()
  })
})

describe('session list', () => {
  it('shows ongoing chats oldest first, then those ended in the last 8 hours, newest first', () => {
    const now = T0 + keepEndedMs
    const s = desk({
      sessions: [
        session({ id: 'late', created_at: iso(5000) }),
        session({ id: 'early', created_at: iso(1000), role: 'listener' }),
        session({ id: 'ended-old', state: 'ended', ended_at: iso(-1000) }),
        session({ id: 'ended-1', state: 'ended', ended_at: iso(60_000) }),
        session({ id: 'ended-2', state: 'ended', ended_at: iso(120_000) }),
      ],
    })
    expect(sessionList(s, now).map((i) => i.info.id)).toEqual(['early', 'late', 'ended-2', 'ended-1'])
  })
})

describe('other events', () => {
  it('show typing for a while, and stop when the visitor’s line arrives', () => {
    let s = run(desk(), ev({ ev: 'typing', session: 's-1', data: { who: 'visitor' } }))
    expect(isTyping(s, 's-1', T0 + 1000)).toBe('visitor')
    expect(isTyping(s, 's-1', T0 + 10_000)).toBeNull()
    s = run(s, entryEv('s-1', entry(1)))
    expect(isTyping(s, 's-1', T0 + 1000)).toBeNull()
  })

  it('keep the latest dashboard', () => {
    const data = { at: iso(), overall: { waiting: 2, longest_wait_s: 30, present: 1, active: 3, chats_today: 9 }, channels: [], agents: [], sessions: [], transfers: [] }
    expect(run(desk(), ev({ ev: 'dashboard', data })).dashboard?.overall.waiting).toBe(2)
  })

  it('ignore unknown events', () => {
    const s = desk()
    expect(run(s, ev({ ev: 'position', data: { position: 1 } }))).toBe(s)
  })

  it('settle outbox lines when their entries arrive', () => {
    let s = applyOutboxEvent(desk(), { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'pending' })
    s = applyOutboxEvent(s, { session: 's-1', clientId: 'm-1', status: 'acked', seq: 1 })
    expect(s.outbox).toHaveLength(1)
    s = run(s, entryEv('s-1', agentLine(1, 'Hi', { client_id: 'm-1' })))
    expect(s.outbox).toHaveLength(0)
  })

  it('remove a chat with its outbox lines', () => {
    let s = applyOutboxEvent(desk(), { session: 's-1', clientId: 'm-1', text: 'Hi', status: 'failed', error: 'x' })
    s = removeChat(s, 's-1')
    expect(s.outbox).toEqual([])
    expect(s.sessions).toEqual({})
  })

  it('know whether I may watch the dashboard', () => {
    expect(canWatch(desk())).toBe(false)
    expect(canWatch(desk({ channels: [channel({ perms: ['respond', 'listen'] })] }))).toBe(true)
  })

  it('apply a session that appears with its first snapshot', () => {
    const s = applySession(desk({ sessions: [] }), session({ id: 'new' }))
    expect(Object.keys(s.sessions)).toEqual(['new'])
  })
})
