// A relay client written from docs/protocol.schema.json alone: it knows the
// command and event names, payloads, replies and error codes only from the
// schema's x-commands and x-events, and validates every frame it sends and
// receives against the schema. It drives the seed's flow against a real
// relay seeded with seed-demo (anna and bertil answer, cecilia supervises):
// a visitor asks, anna takes the chat, offers it to bertil, who rejects,
// offers it again, bertil accepts, anna (the former owner) listens, and
// cecilia listens silently. Any frame that does not validate fails the run.
//
//   node --experimental-websocket flow.mjs --schema docs/protocol.schema.json --url ws://… --password …
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Validator } from './validate.mjs'

const { values: args } = parseArgs({
  options: { schema: { type: 'string' }, url: { type: 'string' }, password: { type: 'string' }, timeout: { type: 'string', default: '10' } },
})
const schema = JSON.parse(readFileSync(args.schema, 'utf8'))
const v = new Validator(schema)
const timeoutMs = Number(args.timeout) * 1000
let checkedFrames = 0

function must(errs, what) {
  if (errs.length) throw new Error(`${what} does not match the schema:\n  ${errs.join('\n  ')}`)
  checkedFrames++
}

function commandSpec(name, role) {
  const spec = schema['x-commands'].find((c) => c.name === name && (c.role === role || !c.role))
  if (!spec) throw new Error(`the schema has no command ${name} for ${role}`)
  return spec
}

function eventSpec(name) {
  const spec = schema['x-events'].find((e) => e.name === name)
  if (!spec) throw new Error(`the schema has no event ${name}`)
  return spec
}

/** One websocket connection of one role; every frame is validated. */
class Client {
  constructor(name, role) {
    this.name = name
    this.role = role
    this.pending = new Map()
    this.events = []
    this.waiters = []
    this.next = 1
    this.failure = null
  }

  async open() {
    this.ws = new WebSocket(args.url)
    this.ws.onmessage = (m) => this.receive(m.data)
    this.ws.onclose = () => this.fail(new Error(`${this.name}: the connection closed`))
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve
      this.ws.onerror = () => reject(new Error(`${this.name}: cannot connect to ${args.url}`))
    })
  }

  fail(err) {
    if (this.closing) return
    this.failure ??= err
    for (const { reject } of this.pending.values()) reject(err)
    for (const w of this.waiters) w.reject(err)
  }

  receive(text) {
    try {
      const frame = JSON.parse(text)
      if ('re' in frame) this.reply(frame)
      else this.event(frame)
    } catch (err) {
      this.fail(new Error(`${this.name}: ${err.message}\n  frame: ${String(text).slice(0, 600)}`))
    }
  }

  reply(frame) {
    must(v.validate({ $ref: '#/$defs/ReplyFrame' }, frame), 'reply frame')
    const p = this.pending.get(frame.re)
    if (!p) throw new Error(`a reply to an unknown id ${frame.re}`)
    this.pending.delete(frame.re)
    const spec = commandSpec(p.name, this.role)
    if (frame.ok) {
      must(v.validate(spec.reply, frame.data ?? {}), `the reply to ${p.name}`)
      p.resolve(frame.data)
    } else {
      const allowed = [...spec.errors, ...schema['x-common-errors']]
      if (!allowed.includes(frame.error.code)) {
        throw new Error(`${p.name} answered ${frame.error.code}, which the schema does not list for it (${allowed.join(', ')})`)
      }
      const err = new Error(`${this.name}: ${p.name}: ${frame.error.code}: ${frame.error.message}`)
      err.code = frame.error.code
      p.reject(err)
    }
  }

  event(frame) {
    must(v.validate({ $ref: '#/$defs/EventFrame' }, frame), 'event frame')
    const spec = eventSpec(frame.ev)
    must(v.validate(spec.data, frame.data), `the ${frame.ev} event's data`)
    if (spec.session && !frame.session) throw new Error(`a ${frame.ev} event without its session`)
    if (spec.seq && !frame.seq) throw new Error(`a ${frame.ev} event without its seq`)
    this.events.push(frame)
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(frame)) return true
      w.resolve(frame)
      return false
    })
  }

  /** send validates the command frame and its payload, and resolves with the reply's data. */
  send(name, data) {
    if (this.failure) return Promise.reject(this.failure)
    const spec = commandSpec(name, this.role)
    const frame = { id: `${this.name}-${this.next++}`, cmd: name }
    if (data !== undefined) {
      if (!spec.data) throw new Error(`the schema says ${name} takes no data`)
      must(v.validate(spec.data, data), `the payload of ${name}`)
      frame.data = data
    }
    must(v.validate({ $ref: '#/$defs/CommandFrame' }, frame), 'command frame')
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no reply to ${name}`)), timeoutMs)
      this.pending.set(frame.id, {
        name,
        resolve: (d) => (clearTimeout(timer), resolve(d)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
      this.ws.send(JSON.stringify(frame))
    })
  }

  /** waitFor resolves with the first event, seen or coming, that match accepts. */
  waitFor(what, match) {
    const seen = this.events.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what}`)), timeoutMs)
      this.waiters.push({
        match,
        resolve: (f) => (clearTimeout(timer), resolve(f)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
    })
  }

  since(mark, match) {
    return this.events.slice(mark).filter(match)
  }

  close() {
    this.closing = true
    this.ws.close()
  }
}

const step = (text) => console.log(`schema-client: ${text}`)

async function agent(login) {
  const c = new Client(login, 'agent')
  await c.open()
  const welcome = await c.send('hello', { v: schema['x-protocol-version'], role: 'agent', login, password: args.password, client: 'schema-client' })
  c.id = welcome.agent.id
  await c.send('status.set', { status: 'present' })
  return c
}

const isTransfer = (state) => (f) => f.ev === 'transfer' && f.data.state === state
const entryWith = (text) => (f) => f.ev === 'entry' && f.data.text === text

async function flow() {
  const anna = await agent('anna')
  const bertil = await agent('bertil')
  const cecilia = await agent('cecilia')
  step('anna, bertil and cecilia signed in')

  const visitor = new Client('visitor', 'visitor')
  await visitor.open()
  const vw = await visitor.send('hello', { v: schema['x-protocol-version'], role: 'visitor', channel: 'support' })
  if (!vw.channel.open) throw new Error('the support channel is closed')
  const started = await visitor.send('chat.start', { name: 'Maja', email: 'maja@example.com', question: 'Where is my lamp?' })
  const session = started.session
  step(`the visitor asked (${session}, position ${started.position.position})`)

  await anna.waitFor('queue event with the chat', (f) => f.ev === 'queue' && (f.data.added ?? []).some((q) => q.session === session))
  const picked = await anna.send('session.pick', { session })
  if (picked.role !== 'owner') throw new Error(`anna picked the chat as ${picked.role}`)
  await anna.send('message.send', { session, client_id: 'a-1', text: 'Hello Maja, let me look.' })
  await visitor.waitFor('the agent line', entryWith('Hello Maja, let me look.'))
  step('anna took the chat and answered')

  const offer1 = await anna.send('transfer.start', { session, to: bertil.id, comment: 'Deliveries are yours.' })
  await bertil.waitFor('the first offer', (f) => f.ev === 'transfer' && f.data.id === offer1.id && f.data.state === 'pending')
  const rejected = await bertil.send('transfer.reject', { transfer: offer1.id })
  if (rejected.state !== 'rejected') throw new Error(`reject answered ${rejected.state}`)
  await anna.waitFor('the rejection', (f) => isTransfer('rejected')(f) && f.data.id === offer1.id)
  step('transfer offered and rejected')

  const offer2 = await anna.send('transfer.start', { session, to: bertil.id })
  await bertil.waitFor('the second offer', (f) => f.ev === 'transfer' && f.data.id === offer2.id && f.data.state === 'pending')
  const accepted = await bertil.send('transfer.accept', { transfer: offer2.id })
  if (accepted.state !== 'accepted') throw new Error(`accept answered ${accepted.state}`)
  await anna.waitFor('the acceptance', (f) => isTransfer('accepted')(f) && f.data.id === offer2.id)
  await anna.waitFor('her session as a listener', (f) => f.ev === 'session' && f.data.id === session && f.data.role === 'listener')
  step('offered again and accepted; anna listens')

  try {
    await bertil.send('transfer.accept', { transfer: offer2.id })
    throw new Error('a second accept was taken')
  } catch (err) {
    if (err.code !== 'invalid_state') throw err
  }

  // The handover itself tells the visitor (a "joined" note and the new owner)
  // and Bertil (his role): wait for those frames so that the marks below
  // separate them from whatever the listener's arrival might leak.
  await visitor.waitFor('the handover\'s note', (f) => f.ev === 'entry' && f.session === session && f.data.kind === 'note' && f.data.note === 'joined')
  await visitor.waitFor('the new owner', (f) => f.ev === 'session' && f.data.id === session && f.data.owner?.id === bertil.id)
  await bertil.waitFor('his session as the owner', (f) => f.ev === 'session' && f.data.id === session && f.data.role === 'owner')
  const bertilMark = bertil.events.length
  const visitorMark = visitor.events.length
  const listened = await cecilia.send('session.listen', { session })
  if (listened.role !== 'listener') throw new Error(`cecilia listens as ${listened.role}`)
  step('cecilia listens')

  await bertil.send('message.send', { session, client_id: 'b-1', text: 'Bertil here: it ships today.' })
  for (const c of [anna, cecilia, visitor]) await c.waitFor('the new owner\'s line', entryWith('Bertil here: it ships today.'))
  await visitor.send('message.send', { session, client_id: 'v-1', text: 'Thank you!' })
  for (const c of [anna, bertil, cecilia]) await c.waitFor('the visitor\'s line', entryWith('Thank you!'))
  const told = bertil.since(bertilMark, (f) => f.ev === 'session' || (f.ev === 'entry' && f.data.kind === 'note'))
  if (told.length) throw new Error(`the owner was told of the listener: ${JSON.stringify(told)}`)
  const heard = visitor.since(visitorMark, (f) => f.ev === 'session' || (f.ev === 'entry' && f.data.kind === 'note'))
  if (heard.length) throw new Error(`the visitor was told of the listener: ${JSON.stringify(heard)}`)
  step('the former owner and the supervisor receive every line; neither the owner nor the visitor was told')

  await visitor.send('session.end', { session })
  await bertil.waitFor('the ended chat', (f) => f.ev === 'session' && f.data.id === session && f.data.state === 'ended')
  for (const c of [anna, bertil, cecilia, visitor]) if (c.failure) throw c.failure
  for (const c of [anna, bertil, cecilia, visitor]) c.close()
  step(`done: ${checkedFrames} frames matched the schema`)
}

flow().then(
  () => process.exit(0),
  (err) => {
    console.error(`schema-client: FAIL: ${err.message}`)
    process.exit(1)
  },
)
