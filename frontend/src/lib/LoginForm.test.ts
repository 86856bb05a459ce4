import { fireEvent, render, screen } from '@testing-library/svelte'
import { describe, expect, it, vi } from 'vitest'
import LoginForm from './LoginForm.svelte'

function fields() {
  return {
    server: screen.getByLabelText('Server address') as HTMLInputElement,
    login: screen.getByLabelText('Login') as HTMLInputElement,
    password: screen.getByLabelText('Password') as HTMLInputElement,
    remember: screen.getByLabelText('Remember me') as HTMLInputElement,
    button: screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement,
  }
}

describe('LoginForm', () => {
  it('shows every field, with sign-in disabled until the form is complete', async () => {
    render(LoginForm, { onsubmit: vi.fn() })
    const f = fields()
    expect(f.password.type).toBe('password')
    expect(f.remember.checked).toBe(false)
    expect(f.button.disabled).toBe(true)

    await fireEvent.input(f.server, { target: { value: 'relay.example.com' } })
    await fireEvent.input(f.login, { target: { value: 'ana' } })
    expect(f.button.disabled).toBe(true)

    await fireEvent.input(f.password, { target: { value: 'secret' } })
    expect(f.button.disabled).toBe(false)
  })

  it('submits the trimmed form once', async () => {
    const onsubmit = vi.fn()
    render(LoginForm, { onsubmit, server: ' relay.example.com ' })
    const f = fields()
    expect(f.server.value).toBe(' relay.example.com ')

    await fireEvent.input(f.login, { target: { value: '  ana ' } })
    await fireEvent.input(f.password, { target: { value: ' pw ' } })
    await fireEvent.click(f.remember)
    await fireEvent.click(f.button)

    expect(onsubmit).toHaveBeenCalledTimes(1)
    expect(onsubmit).toHaveBeenCalledWith({
      server: 'relay.example.com',
      login: 'ana',
      password: ' pw ',
      remember: true,
    })
  })

  it('does not submit an incomplete form', async () => {
    const onsubmit = vi.fn()
    const { container } = render(LoginForm, { onsubmit })
    await fireEvent.input(fields().login, { target: { value: 'ana' } })
    await fireEvent.submit(container.querySelector('form')!)
    expect(onsubmit).not.toHaveBeenCalled()
  })

  it('shows a locked server read-only, with the note, and signs in to it', async () => {
    const onsubmit = vi.fn()
    render(LoginForm, { onsubmit, server: 'chat.corp.example', serverLocked: true, login: 'ana', remember: true })
    const f = fields()
    expect(f.server.readOnly).toBe(true)
    expect(f.server.value).toBe('chat.corp.example')
    expect(screen.getByTestId('server-lock-note').textContent).toContain('Set by your administrator')
    expect(f.login.value).toBe('ana')
    expect(f.remember.checked).toBe(true)

    await fireEvent.input(f.server, { target: { value: 'evil.example' } })
    await fireEvent.input(f.password, { target: { value: 'pw' } })
    await fireEvent.click(f.button)
    expect(onsubmit).toHaveBeenCalledWith({ server: 'chat.corp.example', login: 'ana', password: 'pw', remember: true })
  })

  it('has no lock note when the server may be changed', () => {
    render(LoginForm, { onsubmit: vi.fn(), server: 'relay.example.com' })
    expect(screen.queryByTestId('server-lock-note')).toBeNull()
    expect(fields().server.readOnly).toBe(false)
  })

  describe('initial focus: the first field left to fill', () => {
    it('is the server when none is preset', () => {
      render(LoginForm, { onsubmit: vi.fn() })
      expect(document.activeElement).toBe(fields().server)
    })

    it('is the server when the preset one is blank', () => {
      render(LoginForm, { onsubmit: vi.fn(), server: '  ', login: 'ana' })
      expect(document.activeElement).toBe(fields().server)
    })

    it('is the login when the server is preset', () => {
      render(LoginForm, { onsubmit: vi.fn(), server: 'relay.example.com' })
      expect(document.activeElement).toBe(fields().login)
    })

    it('is the login when the server is locked, even if blank', () => {
      render(LoginForm, { onsubmit: vi.fn(), server: '', serverLocked: true })
      expect(document.activeElement).toBe(fields().login)
    })

    it('is the password when server and login are known', () => {
      render(LoginForm, { onsubmit: vi.fn(), server: 'relay.example.com', login: 'ana' })
      expect(document.activeElement).toBe(fields().password)
    })

    it('is the password with a locked server and a remembered login', () => {
      render(LoginForm, { onsubmit: vi.fn(), server: 'chat.corp.example', serverLocked: true, login: 'ana', remember: true })
      expect(document.activeElement).toBe(fields().password)
    })
  })

  it('shows an error inline', () => {
    render(LoginForm, { onsubmit: vi.fn(), error: 'Wrong login or password.' })
    expect(screen.getByRole('alert').textContent).toBe('Wrong login or password.')
  })
})
