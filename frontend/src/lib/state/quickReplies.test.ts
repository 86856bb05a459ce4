import { get } from 'svelte/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { installFakeBridge, type FakeBridge } from '../../test/fakeBridge'
import { makeDesk, memoryStorage, type TestDesk } from '../../test/desk'
import { welcome } from '../../test/fixtures'
import type { QuickReply } from '../protocol'
import { legacyKey } from './quickReplies'
import { createDesk, type DeskController } from './store'

let d: TestDesk | undefined
let bridge: FakeBridge | undefined
let stop: (() => void) | undefined
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
  stop?.()
  bridge?.uninstall()
  d = bridge = stop = undefined
})

const relayHas = (list: QuickReply[]) => ({
  'quickreplies.get': () => ({ ok: true, data: { replies: list } }),
})

/** A desk on a fresh bridge, with the given storage and window, welcomed. */
function desk(storage: Storage, overrides: Parameters<typeof installFakeBridge>[0] = {}, window: 'main' | 'dashboard' = 'main') {
  bridge = installFakeBridge(overrides)
  const ctl: DeskController = createDesk({ storage, toastMs: 0 })
  stop = ctl.start()
  ctl.config.set({ server: 'x', serverLocked: false, login: '', remember: false, language: 'en', muted: false, window, hasToken: false })
  ctl.welcome(welcome())
  return { bridge, ctl }
}

const toastTexts = (ctl: DeskController) => get(ctl.toasts).map((t) => t.text)

describe('quick replies on the relay', () => {
  it('reads the agent’s list from the relay when signed in', async () => {
    d = makeDesk({}, relayHas([{ title: 'Hi', text: 'Hello!' }, { text: 'Bye.' }]))
    await vi.waitFor(() => expect(get(d!.ctl.quickReplies.loaded)).toBe(true))
    expect(get(d.ctl.quickReplies)).toEqual([{ title: 'Hi', text: 'Hello!' }, { text: 'Bye.' }])
    expect(d.bridge.callsOf('quickreplies.get')).toEqual([[]])
    expect(d.bridge.callsOf('quickreplies.set')).toEqual([])
  })

  it('does not read them in the dashboard window', async () => {
    const { bridge: b } = desk(memoryStorage(), {}, 'dashboard')
    await Promise.resolve()
    expect(b.callsOf('quickreplies.get')).toEqual([])
  })

  it('saves the whole list on every change, in order', async () => {
    d = makeDesk({}, relayHas([{ text: 'First' }]))
    const q = d.ctl.quickReplies
    await q.load()
    expect((await q.add('Second', 'Two')).ok).toBe(true)
    expect((await q.add('Third')).ok).toBe(true)
    expect((await q.remove(0)).ok).toBe(true)
    expect(d.bridge.callsOf('quickreplies.set')).toEqual([
      [{ replies: [{ text: 'First' }, { title: 'Two', text: 'Second' }] }],
      [{ replies: [{ text: 'First' }, { title: 'Two', text: 'Second' }, { text: 'Third' }] }],
      [{ replies: [{ title: 'Two', text: 'Second' }, { text: 'Third' }] }],
    ])
    expect(get(q)).toEqual([{ title: 'Two', text: 'Second' }, { text: 'Third' }])
    // A text already saved is not saved again.
    await q.add(' Third ')
    expect(d.bridge.callsOf('quickreplies.set')).toHaveLength(3)
  })

  it('puts back the relay’s list when a save is refused, and says why', async () => {
    d = makeDesk({}, {
      ...relayHas([{ text: 'Kept' }]),
      'quickreplies.set': () => ({ ok: false, error: { code: 'offline', message: 'not connected to the server' } }),
    })
    const q = d.ctl.quickReplies
    await q.load()
    const pending = q.add('Lost')
    expect(get(q)).toEqual([{ text: 'Kept' }, { text: 'Lost' }]) // shown at once
    expect((await pending).ok).toBe(false)
    expect(get(q)).toEqual([{ text: 'Kept' }])
    expect(toastTexts(d.ctl)).toEqual(['Quick replies not saved: Not connected to the server.'])
  })

  it('changes nothing before the relay’s list is read', async () => {
    d = makeDesk({}, { 'quickreplies.get': () => ({ ok: false, error: { code: 'offline', message: 'not connected to the server' } }) })
    const r = await d.ctl.quickReplies.add('Hello')
    expect(r.ok).toBe(false)
    expect(d.bridge.callsOf('quickreplies.set')).toEqual([])
    expect(get(d.ctl.quickReplies.loaded)).toBe(false)
    expect(toastTexts(d.ctl)).toEqual(['Quick replies not saved: Not connected to the server.'])
  })

  it('refuses a 101st reply without asking the relay', async () => {
    const full = Array.from({ length: 100 }, (_, i) => ({ text: `reply ${i}` }))
    d = makeDesk({}, relayHas(full))
    await d.ctl.quickReplies.load()
    expect((await d.ctl.quickReplies.add('one more')).ok).toBe(false)
    expect(d.bridge.callsOf('quickreplies.set')).toEqual([])
    expect(toastTexts(d.ctl)).toEqual(['You have 100 quick replies. Remove one to save another.'])
  })

  it('takes a list saved on another machine from the relay event', async () => {
    d = makeDesk({}, relayHas([{ text: 'Old' }]))
    await d.ctl.quickReplies.load()
    d.bridge.emit('relay:event', { ev: 'quickreplies', data: { replies: [{ title: 'New', text: 'From the office' }] } })
    expect(get(d.ctl.quickReplies)).toEqual([{ title: 'New', text: 'From the office' }])
  })

  it('forgets the list on sign-out', async () => {
    d = makeDesk({}, relayHas([{ text: 'Mine' }]))
    await d.ctl.quickReplies.load()
    await d.ctl.logout()
    expect(get(d.ctl.quickReplies)).toEqual([])
    expect(get(d.ctl.quickReplies.loaded)).toBe(false)
  })
})

describe('quick replies kept by older versions', () => {
  it('moves them to the relay once, after the relay’s own, and removes them here', async () => {
    const storage = memoryStorage()
    storage.setItem(legacyKey, JSON.stringify(['Hello!', 'See you!']))
    const { bridge: b, ctl } = desk(storage, relayHas([{ title: 'Hi', text: 'Hello!' }]))
    await vi.waitFor(() => expect(b.callsOf('quickreplies.set')).toHaveLength(1))
    expect(b.callsOf('quickreplies.set')[0]).toEqual([{ replies: [{ title: 'Hi', text: 'Hello!' }, { text: 'See you!' }] }])
    await vi.waitFor(() => expect(storage.getItem(legacyKey)).toBeNull())
    expect(get(ctl.quickReplies)).toEqual([{ title: 'Hi', text: 'Hello!' }, { text: 'See you!' }])
    // A reconnect reads the list again; nothing is left to move.
    await ctl.quickReplies.load()
    expect(b.callsOf('quickreplies.set')).toHaveLength(1)
  })

  it('keeps them here when the relay refuses them, to try at the next sign-in', async () => {
    const storage = memoryStorage()
    storage.setItem(legacyKey, JSON.stringify(['See you!']))
    const { bridge: b } = desk(storage, {
      'quickreplies.set': () => ({ ok: false, error: { code: 'unavailable', message: 'the relay is restarting' } }),
    })
    await vi.waitFor(() => expect(b.callsOf('quickreplies.set')).toHaveLength(1))
    await Promise.resolve()
    expect(storage.getItem(legacyKey)).toBe(JSON.stringify(['See you!']))
  })

  it('removes an unreadable old list without saving anything', async () => {
    const storage = memoryStorage()
    storage.setItem(legacyKey, '{not json')
    const { bridge: b, ctl } = desk(storage)
    await vi.waitFor(() => expect(get(ctl.quickReplies.loaded)).toBe(true))
    await vi.waitFor(() => expect(storage.getItem(legacyKey)).toBeNull())
    expect(b.callsOf('quickreplies.set')).toEqual([])
  })
})
