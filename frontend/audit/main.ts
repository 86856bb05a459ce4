// The desktop UI in a plain browser for the accessibility audit: the real App
// with the Go side played by canned answers (as the Vitest setup does, without
// Vitest). ?scene=login|desk|dashboard picks what the Go side has to say, and
// ?lang=en|sv the language; window.audit lets the test fire Go events. Built by `make audit-ui`.

import { mount } from 'svelte'
import App from '../src/App.svelte'
import '../src/app.css'
import type { AgentCommandName, DeskApi, PayloadOf } from '../src/lib/bridge'
import type { Dashboard, Entry } from '../src/lib/protocol'
import { agentLine, anna, bo, channel, entry, iso, queueItem, session, staffNote, transfer, welcome } from '../src/test/fixtures'
import takeover from '../src/lib/dashboard/fixtures/takeover.json'

const params = new URLSearchParams(location.search)
const scene = params.get('scene') ?? 'desk'
const lang = params.get('lang') === 'sv' ? 'sv' : 'en'
document.documentElement.lang = lang

// Times near now, so that waits and countdowns read as they would live.
const now = Date.now()
const ago = (s: number) => new Date(now - s * 1000).toISOString()

const offer = transfer({ id: 9, session: 's-3', from: bo, to: anna, by: bo, visitor: 'Walter', started_at: ago(20),
  deadline: new Date(now + 100_000).toISOString(), comment: 'Billing question, you know the case' })
const me = { ...anna, status: 'present' as const }
const greeting = welcome({
  agent: me,
  // The dashboard window is a supervisor's: she may listen and manage.
  channels: [channel(scene === 'dashboard' ? { perms: ['respond', 'notify', 'listen', 'manage'] } : {})],
  sessions: [
    session({ id: 's-1', visitor: { name: 'Vera', email: 'vera@example.com' }, seq: 4, created_at: ago(600), queued_at: ago(600), answered_at: ago(580) }),
    session({ id: 's-2', role: 'listener', owner: bo, visitor: { name: 'Otto' }, question: 'Delivery times', seq: 2 }),
    session({ id: 's-3', role: 'offered', owner: bo, visitor: { name: 'Walter' }, question: 'Invoice 1234', transfer: offer, seq: 2 }),
  ],
  transfers: [offer],
  queue: [queueItem({ session: 'q-1', visitor: 'Karin', since: ago(200) }), queueItem({ session: 'q-2', visitor: 'Lars', position: 2, since: ago(40), question: 'Opening hours?' })],
})
const logs: Record<string, Entry[]> = {
  // The dashboard fixture's chat.
  [takeover.sessions?.[0]?.id ?? '']: [entry(1, { text: 'My invoice is wrong' }), agentLine(2, 'Let me look.')],
  's-1': [
    entry(1, { text: 'My invoice is wrong', at: ago(600) }),
    { ...staffNote(2, 'Anna has joined the chat.'), staff: false, at: ago(580) },
    agentLine(3, 'Hello Vera, I will look at it: https://example.com/invoices', { at: ago(570) }),
    entry(4, { text: 'Thank you!', at: ago(560) }),
    entry(5, { text: 'Here is what I see', at: ago(550), file: { id: 'f-shot', name: 'screenshot.png', type: 'image/png', size: 48_210, width: 480, height: 300 } }),
    agentLine(6, '', { at: ago(540), file: { id: 'f-pdf', name: 'invoice-1234.pdf', type: 'application/pdf', size: 182_400 } }),
  ],
  's-2': [entry(1, { text: 'How long does delivery take?' }), { ...agentLine(2, 'Two to three days.'), from: { kind: 'agent', id: 2, name: 'Bo' } }],
  's-3': [entry(1, { text: 'Invoice 1234 is twice as high' }), staffNote(2, 'Bo asked Anna to take over.')],
}

const ok = (data: unknown = {}) => ({ ok: true, data })
// The bound methods' answers, and the relay's to each command sent through
// Desk.Command, keyed by the command's name.
const answers: Partial<Record<Exclude<keyof DeskApi, 'Command'>, (...a: never[]) => unknown>> = {
  Version: () => '1.4.0',
  Config: () => ok({ server: 'relay.example.com', serverLocked: false, login: 'anna', remember: true, language: lang, muted: false,
    window: scene === 'dashboard' ? 'dashboard' : 'main', hasToken: scene !== 'login' }),
  Login: () => ({ ok: false, error: { code: 'bad_credentials', message: 'Wrong login or password.' } }),
  Resume: () => ok(greeting),
  Send: () => ok({ clientId: 'm-1' }),
  Preview: () => ok({ url: screenshot(), type: 'image/png' }),
  SaveFile: (_s: string, _f: string, name: string) => ok({ path: `/home/anna/Downloads/${name}` }),
  // An upload stays under way, 40 % done, so the audit sees its progress bar.
  Upload: (req: { id: string; session: string; data: string }) => {
    const total = Math.floor((req.data.length * 3) / 4)
    setTimeout(() => emit('app:upload', { id: req.id, session: req.session, sent: Math.floor(total * 0.4), total }), 0)
    return new Promise(() => {})
  },
}

// A made-up screenshot of a web shop's error page, drawn once.
let shot = ''
function screenshot(): string {
  if (shot) return shot
  const c = document.createElement('canvas')
  c.width = 480
  c.height = 300
  const g = c.getContext('2d')!
  g.fillStyle = '#f4f6fa'
  g.fillRect(0, 0, 480, 300)
  g.fillStyle = '#1f4e8c'
  g.fillRect(0, 0, 480, 44)
  g.fillStyle = '#fff'
  g.font = 'bold 20px sans-serif'
  g.fillText('Webshop · Checkout', 16, 29)
  g.fillStyle = '#b3261e'
  g.fillRect(40, 90, 400, 110)
  g.fillStyle = '#fff'
  g.font = '18px sans-serif'
  g.fillText('Payment failed: invoice 1234', 60, 140)
  g.fillText('Error code 402', 60, 170)
  shot = c.toDataURL('image/png')
  return shot
}
const replies: { [K in AgentCommandName]?: (data: PayloadOf<K>) => unknown } = {
  'session.log': ({ session: sid }) => ok({ entries: logs[sid] ?? [], more: false }),
  'transfer.targets': () => ok([bo, { ...anna, id: 4, name: 'Dana', login: 'dana', status: 'away' }]),
  'transfer.history': () => ok([]),
  'quickreplies.get': () => ok({ replies: [{ title: 'Greeting', text: 'Hello! How can I help you?' }] }),
  'request.list': () => ok({ requests: [{ number: 1001, channel: 'support', state: 'open', visitor: { name: 'Åsa', email: 'asa@example.com' },
    question: 'Please call me about my order.', created_at: iso(0) }], mail: true }),
  // Listening from the dashboard: the chat as the relay answers it.
  'session.listen': ({ session: sid }) => ok(session({ id: sid, role: 'listener', owner: { id: 3, login: 'cecilia', name: 'Cecilia', status: 'present', load: 1 }, seq: 4 })),
}
const listeners = new Map<string, Set<(...d: unknown[]) => void>>()
window.go = {
  app: {
    Desk: new Proxy({} as DeskApi, {
      get: (_, name: string) =>
        name === 'Command'
          ? async (cmd: string, data: unknown) => ((replies as Record<string, (d: unknown) => unknown>)[cmd] ?? (() => ok()))(data)
          : async (...args: never[]) => (answers[name as keyof typeof answers] ?? (() => ok()))(...args),
    }),
  },
}
window.runtime = {
  EventsOn(event, cb) {
    let set = listeners.get(event)
    if (!set) listeners.set(event, (set = new Set()))
    set.add(cb)
    return () => set.delete(cb)
  },
}
function emit(event: string, payload: unknown) {
  for (const cb of [...(listeners.get(event) ?? [])]) cb(payload)
}

// The recorded dashboard with more chats, agents and transfers than fit in
// the window, for the layout checks: each list has to scroll in its own box.
function busy(chats: number, agents: number, transfers: number): Dashboard {
  const d = takeover as unknown as Dashboard
  const names = ['Vera', 'Walter', 'Karin', 'Lars', 'Otto', 'Åsa', 'Maximilian Lindqvist-Bergström']
  const people = Array.from({ length: agents }, (_, i) => ({ ...d.agents![i % d.agents!.length], id: 100 + i, name: `Agent ${i + 1}`, login: `agent${i + 1}` }))
  const sessions = Array.from({ length: chats }, (_, i) => ({ ...d.sessions![0], id: `s-busy-${i}`, visitor: names[i % names.length],
    owner: people[i % people.length], since: ago(30 * i), last_visitor_at: ago(10 * i) }))
  const recent = Array.from({ length: transfers }, (_, i) => ({ ...d.transfers![i % d.transfers!.length], id: 100 + i, visitor: names[i % names.length] }))
  // The first chat stays the recorded one, so that listening to it opens the canned log.
  return { ...d, agents: people, sessions: [d.sessions![0], ...sessions], transfers: recent }
}

declare global {
  interface Window {
    audit: { emit: typeof emit; dashboard(): void; busyDashboard(): void; reconnecting(): void; attaching(): void }
  }
}
window.audit = {
  emit,
  dashboard: () => emit('relay:event', { ev: 'dashboard', data: takeover as unknown as Dashboard }),
  busyDashboard: () => emit('relay:event', { ev: 'dashboard', data: busy(24, 12, 20) }),
  // The agent pastes a PDF into the composer: its upload stays under way.
  attaching: () => {
    const dt = new DataTransfer()
    dt.items.add(new File([new Uint8Array(640 * 1024).fill(37)], 'contract.pdf', { type: 'application/pdf' }))
    document.querySelector('[data-testid=composer]')?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
  },
  reconnecting: () => emit('relay:state', { state: 'reconnecting', attempt: 3, nextAttempt: 7, error: 'dial tcp 127.0.0.1:9171: connect: connection refused' }),
}

mount(App, { target: document.getElementById('app')! })
if (scene !== 'login') setTimeout(() => emit('relay:state', { state: 'connected' }), 0)
