// Builders of wire payloads for tests: small defaults, override what matters.

import type { AgentInfo, AgentWelcome, ChannelInfo, Entry, QueueItem, SessionInfo, TransferInfo } from '../lib/protocol'

export const T0 = Date.parse('2025-03-03T10:00:00Z')
export const iso = (msFromT0 = 0) => new Date(T0 + msFromT0).toISOString()

export const anna: AgentInfo = { id: 1, login: 'anna', name: 'Anna', status: 'present', load: 1 }
export const bo: AgentInfo = { id: 2, login: 'bo', name: 'Bo', status: 'present', load: 0 }
export const cleo: AgentInfo = { id: 3, login: 'cleo', name: 'Cleo', status: 'away', load: 2 }
export const dana: AgentInfo = { id: 4, login: 'dana', name: 'Dana', status: 'present', load: 3 }

export function channel(over: Partial<ChannelInfo> = {}): ChannelInfo {
  return {
    key: 'support',
    name: 'Support',
    open: true,
    offline_form: true,
    perms: ['respond', 'notify'],
    transfer_timeout_s: 120,
    templates: ['Hello! How can I help you?', 'Thank you for waiting.'],
    files: { max_bytes: 10 << 20, types: ['image/png', 'image/jpeg', 'application/pdf'] },
    ...over,
  }
}

export function session(over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id: 's-1',
    channel: 'support',
    state: 'active',
    visitor: { name: 'Vera', email: 'vera@example.com' },
    question: 'My invoice is wrong',
    owner: anna,
    role: 'owner',
    seq: 0,
    created_at: iso(0),
    queued_at: iso(0),
    answered_at: iso(1000),
    ...over,
  }
}

export function entry(seq: number, over: Partial<Entry> = {}): Entry {
  return {
    seq,
    at: iso(seq * 1000),
    kind: 'message',
    from: { kind: 'visitor', name: 'Vera' },
    text: `line ${seq}`,
    ...over,
  }
}

export const agentLine = (seq: number, text = `reply ${seq}`, over: Partial<Entry> = {}): Entry =>
  entry(seq, { from: { kind: 'agent', id: 1, name: 'Anna' }, text, ...over })

export const staffNote = (seq: number, text: string): Entry =>
  entry(seq, { kind: 'note', from: { kind: 'system' }, text, staff: true })

export function transfer(over: Partial<TransferInfo> = {}): TransferInfo {
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

export function queueItem(over: Partial<QueueItem> = {}): QueueItem {
  return { session: 'q-1', channel: 'support', visitor: 'Walter', question: 'Where is my parcel?', since: iso(0), position: 1, ...over }
}

export function welcome(over: Partial<AgentWelcome> = {}): AgentWelcome {
  return {
    token: 'tok',
    agent: anna,
    channels: [channel()],
    sessions: [session()],
    transfers: [],
    queue: [],
    agents: [anna, bo, cleo, dana],
    heartbeat_s: 20,
    grace_s: 60,
    ...over,
  }
}
