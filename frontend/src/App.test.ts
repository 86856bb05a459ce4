import { fireEvent, render, screen } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import App from './App.svelte'
// App loads these when they are needed; loaded here first, so that a test's
// wait for the desk does not include compiling them.
import './lib/dashboard/Dashboard.svelte'
import './lib/desk/Desk.svelte'
import { language } from './lib/i18n'
import { createDesk } from './lib/state/store'
import { memoryStorage } from './test/desk'
import { defaultConfig, installFakeBridge, type FakeBridge } from './test/fakeBridge'
import { channel, session, welcome } from './test/fixtures'

let bridge: FakeBridge | undefined
afterEach(() => {
  bridge?.uninstall()
  bridge = undefined
  language.set('en')
})

const app = () => render(App, { ctl: createDesk({ storage: memoryStorage(), toastMs: 0 }) })
const config = (over: Partial<typeof defaultConfig>) => () => ({ ok: true, data: { ...defaultConfig, ...over } })

async function signIn() {
  await fireEvent.input(await screen.findByLabelText('Login'), { target: { value: 'anna' } })
  await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'pw' } })
  await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
}

describe('App', () => {
  it('says so when it runs outside the desktop app', async () => {
    app()
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Switchboard')
    await vi.waitFor(() => expect(screen.getByText('Not connected to the desktop app.')).toBeTruthy())
  })

  it('prefills the server from Config and shows the version', async () => {
    bridge = installFakeBridge({ Config: config({ server: 'relay.corp.example', login: 'anna' }) })
    app()
    expect(((await screen.findByLabelText('Server address')) as HTMLInputElement).value).toBe('relay.corp.example')
    expect((screen.getByLabelText('Login') as HTMLInputElement).value).toBe('anna')
    expect(await screen.findByText('v1.2.3')).toBeTruthy()
    expect(bridge.callsOf('Resume')).toEqual([])
  })

  it('shows a build from a commit without a "v"', async () => {
    bridge = installFakeBridge({ Config: config({}), Version: () => 'd80fe4b-dirty' })
    app()
    expect(await screen.findByText('d80fe4b-dirty')).toBeTruthy()
    expect(screen.queryByText('vd80fe4b-dirty')).toBeNull()
  })

  it('locks a preset server', async () => {
    bridge = installFakeBridge({ Config: config({ server: 'relay.corp.example', serverLocked: true }) })
    app()
    const server = (await screen.findByLabelText('Server address')) as HTMLInputElement
    expect(server.readOnly).toBe(true)
    expect(screen.getByTestId('server-lock-note')).toBeTruthy()
  })

  it('signs in with Login and opens the desk with the welcome', async () => {
    bridge = installFakeBridge()
    app()
    await signIn()
    expect(bridge.callsOf('Login')).toEqual([[{ server: 'relay.example.com', login: 'anna', password: 'pw', remember: false }]])
    expect(await screen.findByTestId('session-item')).toBeTruthy()
    expect(screen.getByTestId('session-item').textContent).toContain('Vera')
    expect(screen.getByTestId('connection-indicator').dataset.state).toBe('connected')
  })

  it('shows a refused sign-in inline', async () => {
    bridge = installFakeBridge({ Login: () => ({ ok: false, error: { code: 'bad_credentials', message: 'bad' } }) })
    app()
    await signIn()
    expect((await screen.findByTestId('login-error')).textContent).toBe('Wrong login or password.')
    expect(screen.queryByTestId('session-item')).toBeNull()
  })

  it('shows the relay’s message for other failures', async () => {
    bridge = installFakeBridge({ Login: () => ({ ok: false, error: { code: 'dial', message: 'relay.example.com: connection refused' } }) })
    app()
    await signIn()
    expect((await screen.findByTestId('login-error')).textContent).toBe('relay.example.com: connection refused')
  })

  it('resumes with a remembered token', async () => {
    bridge = installFakeBridge({
      Config: config({ hasToken: true }),
      Resume: () => ({ ok: true, data: welcome({ sessions: [session({ visitor: { name: 'Rut' } })] }) }),
    })
    app()
    expect((await screen.findByTestId('session-item')).textContent).toContain('Rut')
    expect(bridge.callsOf('Resume')).toEqual([[]])
    expect(bridge.callsOf('Login')).toEqual([])
  })

  it('falls back to the login form when the token is refused', async () => {
    bridge = installFakeBridge({
      Config: config({ hasToken: true }),
      Resume: () => ({ ok: false, error: { code: 'bad_credentials', message: 'bad' } }),
    })
    app()
    expect((await screen.findByTestId('login-error')).textContent).toContain('no longer valid')
  })

  it('shows just the form when nothing was remembered after all', async () => {
    bridge = installFakeBridge({
      Config: config({ hasToken: true }),
      Resume: () => ({ ok: false, error: { code: 'no_token', message: 'no remembered sign-in' } }),
    })
    app()
    await screen.findByTestId('login-submit')
    expect(screen.queryByTestId('login-error')).toBeNull()
  })

  it('opens the desk once a server that was down answers the resume', async () => {
    bridge = installFakeBridge({
      Config: config({ hasToken: true }),
      Resume: () => ({ ok: false, error: { code: 'retrying', message: 'cannot reach the server (refused); still trying' } }),
    })
    app()
    expect((await screen.findByTestId('login-error')).textContent).toContain('still trying')
    bridge.emit('relay:state', { state: 'connected', welcome: welcome() })
    expect(await screen.findByTestId('session-item')).toBeTruthy()
  })

  it('returns to the login form when the relay refuses the token later', async () => {
    bridge = installFakeBridge({ Config: config({ hasToken: true }) })
    app()
    await screen.findByTestId('session-item')
    bridge.emit('relay:state', { state: 'auth_failed', error: 'token revoked' })
    expect((await screen.findByTestId('login-error')).textContent).toBe('Your sign-in is no longer valid. Please sign in again.')
  })

  it('says so when the relay revoked the sign-in', async () => {
    bridge = installFakeBridge({ Config: config({ hasToken: true }) })
    app()
    await screen.findByTestId('session-item')
    bridge.emit('relay:state', { state: 'auth_failed', error: 'relayclient: signed out: the sign-in was revoked', reason: 'revoked' })
    expect((await screen.findByTestId('login-error')).textContent).toContain('password was changed or your account was disabled')
  })

  it('opens the desk when the Go side signs in by itself', async () => {
    bridge = installFakeBridge()
    app()
    await screen.findByTestId('login-submit')
    bridge.emit('relay:state', { state: 'connected', welcome: welcome() })
    expect(await screen.findByTestId('session-item')).toBeTruthy()
  })

  it('signs out', async () => {
    bridge = installFakeBridge({ Config: config({ hasToken: true }) })
    app()
    await screen.findByTestId('session-item')
    await fireEvent.click(screen.getByTestId('settings-menu'))
    await fireEvent.click(screen.getByTestId('sign-out'))
    expect(bridge.callsOf('Logout')).toEqual([[]])
    expect(await screen.findByTestId('login-submit')).toBeTruthy()
  })

  it('shows the version and the server in About, from the settings menu', async () => {
    bridge = installFakeBridge({ Config: config({ hasToken: true, server: 'wss://chat.example.com/ws' }) })
    app()
    await screen.findByTestId('session-item')
    await fireEvent.click(screen.getByTestId('settings-menu'))
    await fireEvent.click(screen.getByTestId('open-about'))
    const dialog = await screen.findByTestId('about-dialog')
    await vi.waitFor(() => expect(screen.getByTestId('about-version').textContent).toBe('1.2.3'))
    expect(screen.getByTestId('about-server').textContent).toBe('wss://chat.example.com/ws')
    expect(screen.queryByRole('group', { name: 'Settings' })).toBeNull()
    await fireEvent.click(screen.getByTestId('about-close'))
    expect(dialog.isConnected).toBe(false)
  })

  it('speaks Swedish when Config says so', async () => {
    bridge = installFakeBridge({ Config: config({ language: 'sv' }) })
    app()
    expect(await screen.findByRole('button', { name: 'Logga in' })).toBeTruthy()
    expect(screen.getByLabelText('Lösenord')).toBeTruthy()
  })

  it('follows the system language on auto', async () => {
    const spy = vi.spyOn(navigator, 'language', 'get').mockReturnValue('sv-SE')
    bridge = installFakeBridge({ Config: config({ language: 'auto' }) })
    app()
    expect(await screen.findByLabelText('Serveradress')).toBeTruthy()
    spy.mockRestore()
  })

  it('opens the dashboard window with the handed-over sign-in, with live figures', async () => {
    const supervisor = welcome({ channels: [channel({ perms: ['respond', 'listen', 'manage'] })] })
    bridge = installFakeBridge({
      Config: config({ window: 'dashboard', hasToken: true, handover: true }),
      Resume: () => ({ ok: true, data: supervisor }),
    })
    app()
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeTruthy()
    expect(bridge.callsOf('Resume')).toEqual([[]])
    expect(bridge.callsOf('Login')).toEqual([])
    expect(screen.getByText('Waiting for live figures…')).toBeTruthy()
    bridge.emit('relay:event', {
      ev: 'dashboard',
      data: {
        at: new Date().toISOString(),
        overall: { waiting: 4, longest_wait_s: 125, present: 2, active: 6, chats_today: 31, transfers_today: { accepted: 2, rejected: 1 } },
        channels: [],
        agents: [],
        sessions: [],
        transfers: [],
      },
    })
    const tiles = await screen.findAllByTestId('dashboard-tile')
    expect(tiles.map((t) => t.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '4 Visitors waiting',
      '2 min Longest wait',
      '2 Agents Present',
      '6 Active chats',
      '31 Chats today',
      '0 Open requests',
      expect.stringContaining('Transfers today'),
    ])
    expect([...tiles[6].querySelectorAll('li')].map((li) => li.textContent?.trim())).toEqual([
      '2 accepted',
      '1 rejected',
      '0 cancelled',
      '0 expired',
      '0 voided',
      '0 taken over',
    ])
    expect(screen.queryByTestId('login-submit')).toBeNull()
  })

  it('asks for a sign-in in a dashboard window started by hand, then shows the dashboard', async () => {
    const supervisor = welcome({ channels: [channel({ perms: ['listen'] })] })
    bridge = installFakeBridge({ Config: config({ window: 'dashboard' }), Login: () => ({ ok: true, data: supervisor }) })
    app()
    expect(await screen.findByText('Sign in to open the dashboard.')).toBeTruthy()
    expect(bridge.callsOf('Resume')).toEqual([])
    await signIn()
    expect(await screen.findByTestId('dashboard')).toBeTruthy()
    expect(screen.queryByTestId('dashboard-forbidden')).toBeNull()
  })

  it('says the handed-over sign-in ended when the dashboard’s connection is refused', async () => {
    const supervisor = welcome({ channels: [channel({ perms: ['listen'] })] })
    bridge = installFakeBridge({
      Config: config({ window: 'dashboard', hasToken: true, handover: true }),
      Resume: () => ({ ok: true, data: supervisor }),
    })
    app()
    expect(await screen.findByTestId('dashboard')).toBeTruthy()
    bridge.emit('relay:state', { state: 'auth_failed', attempt: 0, nextAttempt: null, error: 'bad_credentials: wrong token', welcome: null })
    expect((await screen.findByTestId('login-error')).textContent).toContain('handed over by the main window has ended')
  })

  it('tells an agent without listen or manage that the dashboard is not theirs', async () => {
    bridge = installFakeBridge({ Config: config({ window: 'dashboard', hasToken: true, handover: true }) })
    app()
    expect((await screen.findByTestId('dashboard-forbidden')).textContent).toContain('listen or manage')
  })
})
