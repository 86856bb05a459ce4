import { fireEvent, render, screen } from '@testing-library/svelte'
import { tick } from 'svelte'
import { get } from 'svelte/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeDesk, type TestDesk } from '../../test/desk'
import { agentLine } from '../../test/fixtures'
import Composer from './Composer.svelte'
import Conversation from './Conversation.svelte'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
})

const box = () => screen.getByTestId('composer') as HTMLTextAreaElement

async function type(text: string) {
  await fireEvent.input(box(), { target: { value: text } })
}

describe('Composer', () => {
  it('sends on Enter through the bridge and empties the box', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await type('Hello Vera')
    await fireEvent.keyDown(box(), { key: 'Enter' })
    expect(d.bridge.callsOf('Send')).toEqual([['s-1', 'Hello Vera']])
    expect(box().value).toBe('')
  })

  it('does not send on Shift+Enter (a new line), nor an empty text', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await type('line one')
    const shift = await fireEvent.keyDown(box(), { key: 'Enter', shiftKey: true })
    expect(shift).toBe(true) // not prevented: the textarea adds the newline
    await type('   ')
    await fireEvent.keyDown(box(), { key: 'Enter' })
    expect(d.bridge.callsOf('Send')).toEqual([])
  })

  it('sends with the Send button', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1' })
    const send = screen.getByTestId('send') as HTMLButtonElement
    expect(send.disabled).toBe(true)
    await type('Two\nlines')
    await fireEvent.click(send)
    expect(d.bridge.callsOf('Send')).toEqual([['s-1', 'Two\nlines']])
  })

  it('tells the relay about typing at most once per 3 s', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await type('H')
    await type('He')
    await type('Hel')
    expect(d.bridge.callsOf('typing')).toEqual([[{ session: 's-1' }]])
  })

  it('keeps a draft per chat', async () => {
    d = makeDesk()
    const r = render(Composer, { ctl: d.ctl, session: 's-1' })
    await type('draft for one')
    await r.rerender({ ctl: d.ctl, session: 's-2' })
    expect(box().value).toBe('')
    await r.rerender({ ctl: d.ctl, session: 's-1' })
    expect(box().value).toBe('draft for one')
  })

  it('inserts a reply template from the channel', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1', templates: ['Hello! How can I help you?', 'Thank you for waiting.'] })
    await fireEvent.click(screen.getByTestId('replies-button'))
    const options = screen.getAllByTestId('reply-template')
    expect(options.map((o) => o.textContent)).toEqual(['Hello! How can I help you?', 'Thank you for waiting.'])
    await fireEvent.click(options[1])
    expect(box().value).toBe('Thank you for waiting.')
    expect(screen.queryByTestId('replies-panel')).toBeNull()
    expect(d.bridge.callsOf('Send')).toEqual([])
  })

  it('saves, inserts and removes personal quick replies on the relay', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await type('Anything else I can do?')
    await fireEvent.click(screen.getByTestId('replies-button'))
    await vi.waitFor(() => expect(screen.getByText('No quick replies yet.')).toBeTruthy())
    await fireEvent.click(screen.getByTestId('quick-reply-add'))
    await vi.waitFor(() => expect(d.bridge.callsOf('quickreplies.set')).toEqual([[{ replies: [{ text: 'Anything else I can do?' }] }]]))
    expect(get(d.ctl.quickReplies)).toEqual([{ text: 'Anything else I can do?' }])
    await type('')
    await fireEvent.click(screen.getByTestId('quick-reply'))
    expect(box().value).toBe('Anything else I can do?')
    await fireEvent.click(screen.getByTestId('replies-button'))
    await fireEvent.click(screen.getByTestId('quick-reply-remove'))
    await vi.waitFor(() => expect(d.bridge.callsOf('quickreplies.set')).toHaveLength(2))
    expect(d.bridge.callsOf('quickreplies.set')[1]).toEqual([{ replies: [] }])
    expect(get(d.ctl.quickReplies)).toEqual([])
  })

  it('shows titled replies by title and inserts their text; follows changes from elsewhere', async () => {
    d = makeDesk({}, { 'quickreplies.get': () => ({ ok: true, data: { replies: [{ title: 'Greeting', text: 'Hello! How can I help?' }] } }) })
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await fireEvent.click(screen.getByTestId('replies-button'))
    await vi.waitFor(() => expect(screen.getByTestId('quick-reply').textContent).toBe('Greeting'))
    expect(screen.getByTestId('quick-reply').title).toBe('Hello! How can I help?')

    d.bridge.emit('relay:event', { ev: 'quickreplies', data: { replies: [{ text: 'A' }, { title: 'Bee', text: 'B' }] } })
    await tick()
    expect(screen.getAllByTestId('quick-reply').map((b) => b.textContent)).toEqual(['A', 'Bee'])
    await fireEvent.click(screen.getAllByTestId('quick-reply')[1])
    expect(box().value).toBe('B')
  })

  it('says the replies are loading until the relay has answered', async () => {
    let answer: (v: unknown) => void = () => {}
    d = makeDesk({}, { 'quickreplies.get': () => new Promise((res) => (answer = res)) })
    render(Composer, { ctl: d.ctl, session: 's-1' })
    await fireEvent.click(screen.getByTestId('replies-button'))
    expect(screen.getByTestId('quick-empty').textContent).toBe('Loading your quick replies…')
    answer({ ok: true, data: { replies: [] } })
    await vi.waitFor(() => expect(screen.getByTestId('quick-empty').textContent).toBe('No quick replies yet.'))
  })
})

describe('outbox lines in the conversation', () => {
  it('shows a pending line greyed until its entry arrives', async () => {
    d = makeDesk()
    render(Conversation, { ctl: d.ctl, session: 's-1' })
    await d.ctl.send('s-1', 'On its way')
    await tick()
    const line = screen.getByTestId('outbox-line')
    expect(line.dataset.status).toBe('pending')
    expect(line.textContent).toContain('Sending…')
    expect(line.classList.contains('pending')).toBe(true)

    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-1', status: 'acked', seq: 1 })
    await tick()
    expect(screen.getByTestId('outbox-line').dataset.status).toBe('acked')

    d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: 1, data: agentLine(1, 'On its way', { client_id: 'm-1' }) })
    await tick()
    expect(screen.queryByTestId('outbox-line')).toBeNull()
    expect(screen.getAllByTestId('log-entry').map((e) => e.textContent)).toEqual([expect.stringContaining('On its way')])
  })

  it('shows a failed line with its error, Retry and Dismiss', async () => {
    d = makeDesk()
    render(Conversation, { ctl: d.ctl, session: 's-1' })
    await d.ctl.send('s-1', 'Hello?')
    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-1', status: 'failed', error: 'too_large: text over its limit' })
    await tick()
    expect(screen.getByTestId('outbox-line').textContent).toContain('Not sent: too_large: text over its limit')

    await fireEvent.click(screen.getByTestId('outbox-retry'))
    expect(d.bridge.callsOf('Send')).toEqual([['s-1', 'Hello?'], ['s-1', 'Hello?']])
    await tick()
    expect(screen.getByTestId('outbox-line').dataset.status).toBe('pending')

    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-2', status: 'failed', error: 'nope' })
    await tick()
    await fireEvent.click(screen.getByTestId('outbox-dismiss'))
    expect(screen.queryByTestId('outbox-line')).toBeNull()
  })

  it('retries a failed line with a file by sending the stored file again, not uploading it', async () => {
    d = makeDesk()
    render(Conversation, { ctl: d.ctl, session: 's-1' })
    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-7', text: 'The label', file: 'f-42', status: 'failed', error: { code: 'unavailable', message: 'busy' } })
    await tick()
    await fireEvent.click(screen.getByTestId('outbox-retry'))
    expect(d.bridge.callsOf('SendFile')).toEqual([['s-1', 'The label', 'f-42']])
    expect(d.bridge.callsOf('Upload')).toEqual([])
    await tick()
    const line = screen.getByTestId('outbox-line')
    expect(line.dataset.status).toBe('pending')
    d.bridge.emit('relay:outbox', { session: 's-1', clientId: 'm-1', status: 'failed', error: 'nope' })
    await tick()
    // Still a file line: Retry sends the file's id again.
    await fireEvent.click(screen.getByTestId('outbox-retry'))
    expect(d.bridge.callsOf('SendFile')).toEqual([['s-1', 'The label', 'f-42'], ['s-1', 'The label', 'f-42']])
  })
})
