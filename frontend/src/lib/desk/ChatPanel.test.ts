import { fireEvent, render, screen, within } from '@testing-library/svelte'
import { tick } from 'svelte'
import { get } from 'svelte/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeDesk, type TestDesk } from '../../test/desk'
import { agentLine, anna, bo, channel, cleo, dana, entry, session, staffNote, transfer } from '../../test/fixtures'
import ChatPanel from './ChatPanel.svelte'
import Desk from './Desk.svelte'
import type { TransferState } from '../protocol'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
  vi.useRealTimers()
})

async function open(w: Parameters<typeof makeDesk>[0], overrides: Parameters<typeof makeDesk>[1] = {}, id = 's-1', opts: Parameters<typeof makeDesk>[2] = {}) {
  d = makeDesk(w, overrides, opts)
  render(ChatPanel, { ctl: d.ctl })
  await d.ctl.select(id)
  await tick()
}

async function menu(testid: string) {
  await fireEvent.click(screen.getByTestId('chat-menu'))
  await fireEvent.click(screen.getByTestId(testid))
}

const menuItems = async () => {
  await fireEvent.click(screen.getByTestId('chat-menu'))
  const ids = screen.getAllByRole('menuitem').map((el) => el.dataset.testid)
  await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' })
  return ids
}

describe('the conversation', () => {
  it('shows visitor, agent and system lines, staff notes set apart', async () => {
    await open({ sessions: [session({ seq: 4 })] }, {
      'session.log': () => ({
        ok: true,
        data: {
          entries: [entry(1, { text: 'My invoice is wrong' }), agentLine(2, 'Let me look'), staffNote(3, 'Anna asked Bo to take over the chat.'), entry(4, { kind: 'note', from: { kind: 'system' }, text: 'Bo has joined the chat.' })],
          more: false,
        },
      }),
    })
    await vi.waitFor(() => expect(screen.getAllByTestId('log-entry')).toHaveLength(4))
    const kinds = screen.getAllByTestId('log-entry').map((e) => e.dataset.kind)
    expect(kinds).toEqual(['visitor', 'me', 'staff', 'system'])
    expect(screen.getAllByTestId('log-entry')[2].textContent).toContain('Only agents see this')
    expect(screen.getAllByTestId('log-entry')[1].textContent).not.toContain('Only agents see this')
  })

  it('has a composer for the owner of an active chat', async () => {
    await open({})
    expect(screen.getByTestId('composer')).toBeTruthy()
    expect(await menuItems()).toEqual(['menu-transfer', 'menu-create-request', 'menu-end'])
  })

  it('shows Transfer beside the title, and the dialog names the chat', async () => {
    await open({}, { 'transfer.targets': () => ({ ok: true, data: [bo] }) })
    await fireEvent.click(screen.getByTestId('transfer-button'))
    expect(screen.getByTestId('transfer-which').textContent).toContain('The chat with Vera.')
  })

  it('names the owner when a manager transfers on their behalf', async () => {
    await open({ channels: [channel({ perms: ['respond', 'manage'] })], sessions: [session({ role: 'listener', owner: bo })] }, {
      'transfer.targets': () => ({ ok: true, data: [dana] }),
    })
    await fireEvent.click(screen.getByTestId('transfer-button'))
    expect(screen.getByTestId('transfer-which').textContent).toContain('The chat with Vera, answered by Bo.')
  })

  it('has no Transfer button where the chat cannot be handed on', async () => {
    await open({ sessions: [session({ role: 'listener', owner: bo })] })
    expect(screen.queryByTestId('transfer-button')).toBeNull()
  })

  it('says when nothing is selected', () => {
    d = makeDesk()
    render(ChatPanel, { ctl: d.ctl })
    expect(screen.getByText(/Select a chat/)).toBeTruthy()
  })
})

describe('Transfer dialog', () => {
  const targets = () => ({ ok: true, data: [bo, dana] })

  it('lists the Present agents with their load, live', async () => {
    await open({}, { 'transfer.targets': targets })
    await menu('menu-transfer')
    expect(d.bridge.callsOf('transfer.targets')).toEqual([[{ session: 's-1' }]])
    await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
    const rows = () => screen.getAllByTestId('transfer-agent-option').map((el) => el.textContent?.replace(/\s+/g, ' ').trim())
    expect(rows()).toEqual(['Bo 0 chats', 'Dana 3 chats'])

    d.bridge.emit('relay:event', { ev: 'presence', data: { agents: [{ ...bo, load: 1 }] } })
    await tick()
    expect(rows()).toEqual(['Bo 1 chat', 'Dana 3 chats'])

    d.bridge.emit('relay:event', { ev: 'presence', data: { agents: [{ ...dana, status: 'away' }] } })
    await tick()
    expect(rows()).toEqual(['Bo 1 chat'])
    expect(screen.getByTestId('transfer-queue-option').textContent).toContain("The channel's queue")
  })

  it('asks the relay again when someone else becomes Present', async () => {
    await open({}, { 'transfer.targets': targets })
    await menu('menu-transfer')
    await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
    d.bridge.emit('relay:event', { ev: 'presence', data: { agents: [{ ...cleo, status: 'present' }] } })
    await vi.waitFor(() => expect(d.bridge.callsOf('transfer.targets')).toHaveLength(2))
  })

  describe('keyboard focus', () => {
    /** Targets answers only when the test says so. */
    function slowTargets() {
      let answer: (list: unknown) => void = () => {}
      const Targets = () => new Promise((res) => (answer = (list) => res({ ok: true, data: list })))
      return { Targets, answer: (list: unknown) => answer(list) }
    }
    const radioOf = (el: HTMLElement) => within(el).getByRole('radio')
    const agentRadios = () => screen.getAllByTestId('transfer-agent-option').map(radioOf)
    const queueRadio = () => radioOf(screen.getByTestId('transfer-queue-option'))

    it('waits on the loading note, then lands on the first Present agent', async () => {
      const slow = slowTargets()
      await open({}, { 'transfer.targets': slow.Targets })
      await menu('menu-transfer')
      expect(document.activeElement).toBe(screen.getByTestId('transfer-loading'))
      expect(document.activeElement).not.toBe(queueRadio())
      slow.answer([dana, { ...cleo, status: 'away' }, bo])
      await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
      await vi.waitFor(() => expect(document.activeElement).toBe(agentRadios()[0]))
      expect(screen.getAllByTestId('transfer-agent-option')[0].dataset.agent).toBe(String(bo.id))
    })

    it('says why the queue cannot be chosen when nobody else is Present', async () => {
      const slow = slowTargets()
      await open({}, { 'transfer.targets': slow.Targets })
      await menu('menu-transfer')
      slow.answer([])
      await vi.waitFor(() => expect(screen.getByTestId('transfer-no-agents')).toBeTruthy())
      await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('transfer-no-agents')))
      expect((queueRadio() as HTMLInputElement).disabled).toBe(true)
      expect(screen.getByTestId('transfer-queue-option').textContent).toContain('Nobody else is Present in this channel')
      // Someone comes back: the queue is a choice again.
      d.bridge.emit('relay:event', { ev: 'presence', data: { agents: [{ ...cleo, status: 'present' }] } })
      await vi.waitFor(() => expect(d.bridge.callsOf('transfer.targets')).toHaveLength(2))
    })

    it('lands on the queue when the list cannot be read', async () => {
      await open({}, { 'transfer.targets': () => ({ ok: false, error: { code: 'forbidden', message: 'no' } }) })
      await menu('menu-transfer')
      await vi.waitFor(() => expect(screen.getByTestId('transfer-error')).toBeTruthy())
      await vi.waitFor(() => expect(document.activeElement).toBe(queueRadio()))
    })

    it('leaves the focus where the agent moved it while the list loaded', async () => {
      const slow = slowTargets()
      await open({}, { 'transfer.targets': slow.Targets })
      await menu('menu-transfer')
      const comment = screen.getByTestId('transfer-comment') as HTMLTextAreaElement
      await fireEvent.keyDown(document.activeElement!, { key: 'Tab' })
      comment.focus()
      slow.answer([bo, dana])
      await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
      await tick()
      await tick()
      expect(document.activeElement).toBe(comment)
    })

    it('leaves the focus alone once the agent clicked in the dialog', async () => {
      const slow = slowTargets()
      await open({}, { 'transfer.targets': slow.Targets })
      await menu('menu-transfer')
      const note = screen.getByTestId('transfer-loading')
      await fireEvent.pointerDown(screen.getByTestId('transfer-comment'))
      slow.answer([bo])
      await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(1))
      await tick()
      await tick()
      expect(document.activeElement).not.toBe(agentRadios()[0])
      expect(note.isConnected).toBe(false)
    })

    it('does not undo a choice of the queue made before the list came', async () => {
      const slow = slowTargets()
      await open({}, { 'transfer.targets': slow.Targets })
      await menu('menu-transfer')
      await fireEvent.click(queueRadio())
      slow.answer([bo])
      await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(1))
      await tick()
      await tick()
      expect(document.activeElement).not.toBe(agentRadios()[0])
      expect((queueRadio() as HTMLInputElement).checked).toBe(true)
    })
  })

  it('transfers to the chosen agent with the comment', async () => {
    await open({}, { 'transfer.targets': targets, 'transfer.start': () => ({ ok: true, data: transfer({ comment: 'Billing question' }) }) })
    await menu('menu-transfer')
    await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
    const submit = screen.getByTestId('transfer-submit') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    await fireEvent.click(within(screen.getAllByTestId('transfer-agent-option')[0]).getByRole('radio'))
    await fireEvent.input(screen.getByTestId('transfer-comment'), { target: { value: ' Billing question ' } })
    await fireEvent.click(submit)
    expect(d.bridge.callsOf('transfer.start')).toEqual([[{ session: 's-1', to: bo.id, queue: false, comment: 'Billing question' }]])
    await vi.waitFor(() => expect(screen.queryByTestId('transfer-dialog')).toBeNull())
    expect(screen.getByTestId('transfer-pending-banner').textContent).toContain('Waiting for Bo to accept')
  })

  it('transfers to the channel’s queue', async () => {
    await open({}, { 'transfer.targets': targets, 'transfer.start': () => ({ ok: true, data: transfer({ to_queue: true }) }) })
    await menu('menu-transfer')
    await fireEvent.click(within(screen.getByTestId('transfer-queue-option')).getByRole('radio'))
    await fireEvent.click(screen.getByTestId('transfer-submit'))
    expect(d.bridge.callsOf('transfer.start')).toEqual([[{ session: 's-1', to: 0, queue: true, comment: '' }]])
  })

  it('shows a refusal inline and stays open', async () => {
    await open({}, { 'transfer.targets': targets, 'transfer.start': () => ({ ok: false, error: { code: 'invalid_target', message: 'Bo is away, not Present' } }) })
    await menu('menu-transfer')
    await vi.waitFor(() => expect(screen.getAllByTestId('transfer-agent-option')).toHaveLength(2))
    await fireEvent.click(within(screen.getAllByTestId('transfer-agent-option')[0]).getByRole('radio'))
    await fireEvent.click(screen.getByTestId('transfer-submit'))
    expect((await screen.findByTestId('transfer-error')).textContent).toBe(
      'That agent cannot take the chat now (not Present, not allowed to answer here, or its owner already).',
    )
    expect(screen.getByTestId('transfer-dialog')).toBeTruthy()
  })

  it('closes on Escape', async () => {
    await open({}, { 'transfer.targets': targets })
    await menu('menu-transfer')
    await fireEvent.keyDown(screen.getByTestId('transfer-dialog'), { key: 'Escape' })
    expect(screen.queryByTestId('transfer-dialog')).toBeNull()
  })
})

describe('pending transfer, sender side', () => {
  it('shows the banner with a live countdown and cancels', async () => {
    vi.useFakeTimers({ now: Date.parse('2025-03-03T10:00:00Z'), toFake: ['Date', 'setInterval', 'clearInterval'] })
    await open({ sessions: [session({ transfer: transfer() })], transfers: [transfer()] }, {
      'transfer.cancel': () => ({ ok: true, data: transfer({ state: 'cancelled' }) }),
    })
    const banner = screen.getByTestId('transfer-pending-banner')
    expect(banner.textContent).toContain('Waiting for Bo to accept')
    expect(screen.getByTestId('transfer-countdown').textContent).toBe('2:00 left')
    vi.advanceTimersByTime(5000)
    await tick()
    expect(screen.getByTestId('transfer-countdown').textContent).toBe('1:55 left')
    // The owner keeps chatting, and cannot start a second transfer.
    expect(screen.getByTestId('composer')).toBeTruthy()
    await fireEvent.click(screen.getByTestId('chat-menu'))
    expect((screen.getByTestId('menu-transfer') as HTMLButtonElement).disabled).toBe(true)

    await fireEvent.click(screen.getByTestId('transfer-cancel'))
    expect(d.bridge.callsOf('transfer.cancel')).toEqual([[{ transfer: 7 }]])
    await tick()
    expect(screen.queryByTestId('transfer-pending-banner')).toBeNull()
  })

  it('has no countdown when the transfer waits until cancelled', async () => {
    const t = transfer({ deadline: undefined })
    await open({ sessions: [session({ transfer: t })], transfers: [t] })
    expect(screen.getByTestId('transfer-pending-banner').textContent).toContain('Waiting for Bo to accept')
    expect(screen.queryByTestId('transfer-countdown')).toBeNull()
  })

  it('shows the banner without Cancel to an owner whose manager started it', async () => {
    const t = transfer({ by: dana })
    await open({ sessions: [session({ transfer: t })], transfers: [t] })
    expect(screen.getByTestId('transfer-pending-banner')).toBeTruthy()
    expect(screen.queryByTestId('transfer-cancel')).toBeNull()
  })
})

describe('pending transfer, receiver side', () => {
  const offered = () => ({
    agent: bo,
    sessions: [session({ role: 'offered', seq: 2, transfer: transfer({ comment: 'Needs a refund' }) })],
    transfers: [transfer({ comment: 'Needs a refund' })],
  })

  it('shows the whole log read-only, the comment, and Accept/Reject below it', async () => {
    await open(offered(), { 'session.log': () => ({ ok: true, data: { entries: [entry(1), agentLine(2)], more: false } }) })
    await vi.waitFor(() => expect(screen.getAllByTestId('log-entry')).toHaveLength(2))
    expect(screen.queryByTestId('composer')).toBeNull()
    const offer = screen.getByTestId('transfer-offer-banner')
    expect(offer.textContent).toContain('Anna asks you to take over this chat.')
    expect(offer.textContent).toContain('Comment: Needs a refund')
    expect(within(offer).getByTestId('transfer-accept').textContent?.trim()).toBe('Accept transfer')
    expect(within(offer).getByTestId('transfer-reject').textContent?.trim()).toBe('Reject transfer')
    // The conversation comes before the buttons.
    const log = screen.getByTestId('conversation')
    expect(log.compareDocumentPosition(offer) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
  })

  it('accepts through the bridge', async () => {
    await open(offered(), { 'transfer.accept': () => ({ ok: true, data: transfer({ state: 'accepted' }) }) })
    await fireEvent.click(screen.getByTestId('transfer-accept'))
    expect(d.bridge.callsOf('transfer.accept')).toEqual([[{ transfer: 7 }]])
    d.bridge.emit('relay:event', { ev: 'session', data: session({ role: 'owner', owner: bo }) })
    await tick()
    expect(screen.queryByTestId('transfer-offer-banner')).toBeNull()
    expect(screen.getByTestId('composer')).toBeTruthy()
  })

  it('rejects through the bridge', async () => {
    await open(offered(), { 'transfer.reject': () => ({ ok: true, data: transfer({ state: 'rejected' }) }) })
    await fireEvent.click(screen.getByTestId('transfer-reject'))
    expect(d.bridge.callsOf('transfer.reject')).toEqual([[{ transfer: 7 }]])
    expect(d.bridge.callsOf('transfer.accept')).toEqual([])
  })
})

describe('listen mode', () => {
  it('has a banner, no composer, and Close window leaves once its undo time is over', async () => {
    await open({ sessions: [session({ role: 'listener', owner: bo })] }, {}, 's-1', { undoMs: 50 })
    expect(screen.getByTestId('listen-banner').textContent).toContain('Listening — you cannot write in this chat')
    expect(screen.queryByTestId('composer')).toBeNull()
    expect(await menuItems()).toEqual(['menu-close-window'])
    await fireEvent.click(screen.getByTestId('close-window'))
    await tick()
    // Gone from the screen at once; the relay hears of it after the undo time.
    expect(screen.queryByTestId('listen-banner')).toBeNull()
    expect(d.bridge.callsOf('session.leave')).toEqual([])
    await vi.waitFor(() => expect(d.bridge.callsOf('session.leave')).toEqual([[{ session: 's-1' }]]))
    expect(get(d.ctl.state).sessions['s-1']).toBeUndefined()
  })

  it('offers Close window in the ☰ menu', async () => {
    await open({ sessions: [session({ role: 'listener', owner: bo })] }, {}, 's-1', { undoMs: 0 })
    await menu('menu-close-window')
    expect(d.bridge.callsOf('session.leave')).toEqual([[{ session: 's-1' }]])
  })

  it('undoes Close window from its toast: the chat is back and nothing is sent', async () => {
    d = makeDesk({ sessions: [session({ role: 'listener', owner: bo })] }, {}, { undoMs: 60_000 })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    await d.ctl.select('s-1')
    await tick()
    await fireEvent.click(screen.getByTestId('close-window'))
    await tick()
    expect(screen.queryAllByTestId('session-item')).toHaveLength(0)
    const toast = screen.getByTestId('toast')
    expect(toast.textContent).toContain('The chat with Vera is closed.')
    await fireEvent.click(within(toast).getByTestId('toast-action'))
    await tick()
    expect(screen.getAllByTestId('session-item')).toHaveLength(1)
    expect(screen.getByTestId('listen-banner')).toBeTruthy()
    expect(d.bridge.callsOf('session.leave')).toEqual([])
  })

  it('sends a pending Close window before signing out', async () => {
    await open({ sessions: [session({ role: 'listener', owner: bo })] }, {}, 's-1', { undoMs: 60_000 })
    await fireEvent.click(screen.getByTestId('close-window'))
    await d.ctl.logout()
    expect(d.bridge.calls.map((c) => c[0]).filter((m) => m === 'session.leave' || m === 'Logout')).toEqual(['session.leave', 'Logout'])
  })

  it('lets a manager take over or transfer while listening', async () => {
    await open({ channels: [channel({ perms: ['respond', 'manage'] })], sessions: [session({ role: 'listener', owner: bo })] })
    expect(await menuItems()).toEqual(['menu-transfer', 'menu-take-over', 'menu-close-window'])
    await menu('menu-take-over')
    expect(d.bridge.callsOf('session.takeover')).toEqual([[{ session: 's-1' }]])
  })

  it('becomes listen mode after my transfer is accepted', async () => {
    await open({ sessions: [session({ transfer: transfer() })], transfers: [transfer()] })
    expect(screen.getByTestId('composer')).toBeTruthy()
    d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: 1, data: staffNote(1, 'Bo accepted the transfer.') })
    d.bridge.emit('relay:event', { ev: 'transfer', data: transfer({ state: 'accepted' }) })
    d.bridge.emit('relay:event', { ev: 'session', data: session({ role: 'listener', owner: bo }) })
    await tick()
    expect(screen.getByTestId('listen-banner')).toBeTruthy()
    expect(screen.queryByTestId('composer')).toBeNull()
    expect(screen.queryByTestId('transfer-pending-banner')).toBeNull()
    expect(screen.getByText('Bo accepted the transfer.')).toBeTruthy()
  })
})

describe('Create request', () => {
  it('prefills the title, shows the log, and puts the line in the text box unsent', async () => {
    await open({ sessions: [session({ seq: 1 })] }, {
      'session.log': () => ({ ok: true, data: { entries: [entry(1, { text: 'My invoice is wrong' })], more: false } }),
      'request.create': () => ({ ok: true, data: { number: 1042 } }),
    })
    await menu('menu-create-request')
    const title = screen.getByTestId('request-title') as HTMLInputElement
    expect(title.value).toBe('My invoice is wrong')
    expect(within(screen.getByTestId('request-dialog')).getByTestId('request-log').textContent).toContain('My invoice is wrong')
    await fireEvent.input(title, { target: { value: 'Invoice 77 wrong' } })
    await fireEvent.click(screen.getByTestId('request-submit'))
    expect(d.bridge.callsOf('request.create')).toEqual([[{ session: 's-1', title: 'Invoice 77 wrong' }]])
    await vi.waitFor(() => expect(screen.queryByTestId('request-dialog')).toBeNull())
    expect((screen.getByTestId('composer') as HTMLTextAreaElement).value).toBe('Your request number is 1042.')
    expect(d.bridge.callsOf('Send')).toEqual([])
  })
})

describe('End chat', () => {
  it('asks first, then ends', async () => {
    await open({}, { 'session.end': () => ({ ok: true, data: session({ state: 'ended', ended_at: new Date().toISOString() }) }) })
    await menu('menu-end')
    expect(screen.getByTestId('end-dialog').textContent).toContain('End the chat with Vera?')
    expect(d.bridge.callsOf('session.end')).toEqual([])
    await fireEvent.click(screen.getByTestId('end-confirm'))
    expect(d.bridge.callsOf('session.end')).toEqual([[{ session: 's-1' }]])
    await vi.waitFor(() => expect(screen.getByTestId('ended-banner')).toBeTruthy())
    expect(screen.queryByTestId('composer')).toBeNull()
  })
})

describe('toasts for transfer outcomes', () => {
  it('tells the sender each outcome', async () => {
    d = makeDesk({ sessions: [session({ transfer: transfer() })], transfers: [transfer()] })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    const outcomes: [TransferState, string][] = [
      ['rejected', 'Bo rejected the chat with Vera. It stays with you.'],
      ['expired', 'The transfer of the chat with Vera to Bo expired unanswered.'],
    ]
    for (const [state, text] of outcomes) {
      d.bridge.emit('relay:event', { ev: 'transfer', data: transfer({ id: state.length, state }) })
      await tick()
      expect(screen.getAllByTestId('toast').map((el) => el.textContent)).toContainEqual(expect.stringContaining(text))
    }
  })

  it('tells the receiver of the offer, then of its cancel in its place', async () => {
    d = makeDesk({ agent: bo, sessions: [] })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    d.bridge.emit('relay:event', { ev: 'transfer', data: transfer() })
    await tick()
    expect(screen.getAllByTestId('toast').map((el) => el.textContent)).toEqual([
      expect.stringContaining('Anna asks you to take over the chat with Vera.'),
    ])
    d.bridge.emit('relay:event', { ev: 'transfer', data: transfer({ state: 'cancelled' }) })
    await tick()
    // The offer no longer stands beside its cancel.
    expect(screen.getAllByTestId('toast').map((el) => el.textContent)).toEqual([
      expect.stringContaining('Anna cancelled the transfer of the chat with Vera.'),
    ])
    void anna
  })
})

describe('quit from the tray while answering', () => {
  it('asks, says how long the chats stay mine, and quits only when told', async () => {
    d = makeDesk()
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    d.bridge.emit('app:confirm-quit', { chats: 2, grace_s: 60 })
    await tick()
    const dialog = screen.getByTestId('quit-dialog')
    expect(dialog.textContent).toContain('You are answering 2 chats.')
    expect(dialog.textContent).toContain('they stay yours for 60 s')
    await fireEvent.click(screen.getByTestId('quit-cancel'))
    await tick()
    expect(screen.queryByTestId('quit-dialog')).toBeNull()
    expect(d.bridge.callsOf('Quit')).toEqual([])

    d.bridge.emit('app:confirm-quit', { chats: 1, grace_s: 60 })
    await tick()
    await fireEvent.click(screen.getByTestId('quit-confirm'))
    await vi.waitFor(() => expect(d.bridge.callsOf('Quit')).toEqual([[]]))
  })
})

describe('the offer bar', () => {
  it('shows an offer over another open chat until it is decided, with Accept, Reject and Open', async () => {
    d = makeDesk({ agent: bo, sessions: [session({ id: 's-2', owner: bo, visitor: { name: 'Olle' } })] }, {
      'transfer.accept': () => ({ ok: true, data: transfer({ state: 'accepted' }) }),
    })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    await d.ctl.select('s-2')
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer() })
    d.bridge.emit('relay:event', { ev: 'session', session: 's-1', data: session({ role: 'offered', transfer: transfer() }) })
    await tick()
    // Olle's chat stays open; the offer stands above it.
    expect(get(d.ctl.state).selected).toBe('s-2')
    const bar = screen.getByTestId('offer-bar-item')
    expect(bar.textContent).toContain('Anna asks you to take over the chat with Vera.')
    expect(bar.textContent).toMatch(/left/)
    expect(screen.getByTestId('offer-bar').getAttribute('aria-live')).toBe('assertive')
    await fireEvent.click(within(bar).getByTestId('offer-bar-accept'))
    expect(d.bridge.callsOf('transfer.accept')).toEqual([[{ transfer: 7 }]])
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer({ state: 'accepted' }) })
    await tick()
    expect(screen.queryByTestId('offer-bar-item')).toBeNull()
  })

  it('is reached with one key (F8) from anywhere, and its countdown is not read out every second', async () => {
    d = makeDesk({ agent: bo, sessions: [session({ id: 's-2', owner: bo, visitor: { name: 'Olle' } })] })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    await d.ctl.select('s-2')
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer() })
    d.bridge.emit('relay:event', { ev: 'session', session: 's-1', data: session({ role: 'offered', transfer: transfer() }) })
    await tick()
    await fireEvent.keyDown(window, { key: 'F8' })
    expect(document.activeElement).toBe(screen.getByTestId('offer-bar-accept'))
    expect(screen.getByTestId('offer-bar-accept').getAttribute('aria-keyshortcuts')).toBe('F8')
    expect(screen.getByTestId('offer-bar-item').querySelector('.countdown')?.getAttribute('aria-live')).toBe('off')
    // With the offered chat open, F8 goes to that chat's own Accept.
    await d.ctl.select('s-1')
    await tick()
    ;(document.activeElement as HTMLElement | null)?.blur()
    await fireEvent.keyDown(window, { key: 'F8' })
    expect(document.activeElement).toBe(screen.getByTestId('transfer-accept'))
  })

  it('opens the offered chat, where its own panel takes over', async () => {
    d = makeDesk({ agent: bo, sessions: [session({ id: 's-2', owner: bo })] })
    render(Desk, { ctl: d.ctl, onsignout: () => {} })
    await d.ctl.select('s-2')
    d.bridge.emit('relay:event', { ev: 'transfer', session: 's-1', data: transfer() })
    d.bridge.emit('relay:event', { ev: 'session', session: 's-1', data: session({ role: 'offered', transfer: transfer() }) })
    await tick()
    await fireEvent.click(screen.getByTestId('offer-bar-open'))
    await tick()
    expect(get(d.ctl.state).selected).toBe('s-1')
    expect(screen.queryByTestId('offer-bar-item')).toBeNull()
    expect(screen.getByTestId('transfer-offer-banner')).toBeTruthy()
  })
})
