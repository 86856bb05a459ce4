import { afterEach, describe, expect, it, vi } from 'vitest'
import { appOwnedCommands, command, type AgentCommandName, type DeskApi } from './bridge'
import { agentCommandNames, type SessionInfo } from './protocol'
import { session } from '../test/fixtures'

afterEach(() => {
  delete window.go
})

/** A Go side whose Command answers with answer(name, data). */
function bind(answer: (name: string, data: unknown) => unknown) {
  const Command = vi.fn(async (name: string, data: unknown) => answer(name, data))
  window.go = { app: { Desk: { Command } as Partial<DeskApi> } }
  return Command
}

describe('command', () => {
  it('hands the Go side the name and the payload, and resolves to its Result', async () => {
    const Command = bind(() => ({ ok: true, data: session({ id: 's-1', role: 'owner' }) }))
    const r = await command('session.pick', { session: 's-1' })
    expect(Command).toHaveBeenCalledWith('session.pick', { session: 's-1' })
    expect(r.ok).toBe(true)
    // The reply is typed by the registry: session.pick answers a SessionInfo.
    const info: SessionInfo | undefined = r.data
    expect(info?.id).toBe('s-1')
  })

  it('sends null for a command without data', async () => {
    const Command = bind(() => ({ ok: false, error: { code: 'queue_empty', message: 'nobody' } }))
    const r = await command('queue.next')
    expect(Command).toHaveBeenCalledWith('queue.next', null)
    expect(r.error?.code).toBe('queue_empty')
  })

  it('answers ok: false without a desktop app or when the call rejects', async () => {
    expect(await command('typing', { session: 's-1' })).toEqual({ ok: false, error: { code: 'no_bridge', message: 'Not connected to the desktop app.' } })
    bind(() => {
      throw new Error('the window is closing')
    })
    expect(await command('transfer.targets', { session: 's-1' })).toEqual({ ok: false, error: { code: 'bridge', message: 'the window is closing' } })
  })

  it('takes only the agent commands the app does not run itself, each with its payload', () => {
    // Type-level: svelte-check fails the build when one of these compiles.
    const typeChecks = () => {
      // @ts-expect-error message.send goes through Send and the outbox
      void command('message.send', { session: 's-1', text: 'hi' })
      // @ts-expect-error token.handover stays in the Go side (OpenDashboard)
      void command('token.handover')
      // @ts-expect-error a visitor's command
      void command('chat.start', { name: 'Vera' })
      // @ts-expect-error session.pick needs its payload
      void command('session.pick')
      // @ts-expect-error a misspelt field
      void command('session.pick', { sesion: 's-1' })
      // @ts-expect-error queue.next takes no data
      void command('queue.next', { session: 's-1' })
    }
    expect(typeChecks).toBeTypeOf('function')
    const names: readonly string[] = agentCommandNames
    for (const n of appOwnedCommands) expect(names).toContain(n)
    const sendable: AgentCommandName[] = ['session.pick', 'quickreplies.set', 'request.assign']
    for (const n of sendable) expect(appOwnedCommands as readonly string[]).not.toContain(n)
  })
})
