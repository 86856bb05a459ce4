import { fireEvent, render, screen } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import App from './App.svelte'
import type { SessionService } from './lib/bridge'

function stubDesktop(service: SessionService) {
  const listeners = new Map<string, (...data: unknown[]) => void>()
  window.go = { app: { SessionService: service } }
  window.runtime = {
    EventsOn: (event, callback) => {
      listeners.set(event, callback)
      return () => listeners.delete(event)
    },
  }
  return listeners
}

async function fillAndSubmit() {
  await fireEvent.input(screen.getByLabelText('Server address'), { target: { value: 'relay.example.com' } })
  await fireEvent.input(screen.getByLabelText('Login'), { target: { value: 'ana' } })
  await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'pw' } })
  await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
}

afterEach(() => {
  delete window.go
  delete window.runtime
})

describe('App', () => {
  it('says so when it runs outside the desktop app', async () => {
    render(App)
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Switchboard')
    expect((await screen.findByRole('status')).textContent).toBe('Not connected to the desktop app.')
  })

  it('shows the version and the view from the Go side', async () => {
    stubDesktop({
      Version: async () => '1.2.3',
      Window: async () => 'dashboard',
      Login: async () => {},
    })
    render(App)
    expect(await screen.findByText('v1.2.3')).toBeTruthy()
    expect(await screen.findByText('Dashboard')).toBeTruthy()
    expect(screen.getByRole('status').textContent).toBe('Not signed in.')
  })

  it('calls the bound Login and shows its error in the status line', async () => {
    const login = vi.fn(async () => {
      throw 'signing in is not available in this build yet'
    })
    stubDesktop({ Version: async () => '1.2.3', Window: async () => 'main', Login: login })
    render(App)
    await fillAndSubmit()

    expect(login).toHaveBeenCalledWith({ server: 'relay.example.com', login: 'ana', password: 'pw', remember: false })
    await vi.waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe('signing in is not available in this build yet'),
    )
  })

  it('follows status events from the Go side', async () => {
    const listeners = stubDesktop({ Version: async () => '1', Window: async () => 'main', Login: async () => {} })
    render(App)
    await vi.waitFor(() => expect(listeners.has('session:status')).toBe(true))
    listeners.get('session:status')!('Relay unreachable, retrying.')
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Relay unreachable, retrying.'))
  })
})
