import { fireEvent, render, screen } from '@testing-library/svelte'
import { tick } from 'svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fileName, formatSize, pathsOf, resetUploads, toBase64 } from '../files'
import { language } from '../i18n'
import type { FileInfo } from '../protocol'
import { makeDesk, type TestDesk } from '../../test/desk'
import { channel, entry } from '../../test/fixtures'
import ChatPanel from './ChatPanel.svelte'
import Composer from './Composer.svelte'
import Conversation from './Conversation.svelte'

let d: TestDesk
afterEach(() => {
  d?.stop()
  d?.bridge.uninstall()
  resetUploads()
  language.set('en')
})

const rules = { max_bytes: 10 << 20, types: ['image/png', 'application/pdf'] }
const pdf = () => new File(['%PDF-1.4 hello'], 'invoice.pdf', { type: 'application/pdf' })
const pdfInfo: FileInfo = { id: 'f-pdf', name: 'invoice.pdf', type: 'application/pdf', size: 48_213 }
const pngInfo: FileInfo = { id: 'f-png', name: 'screenshot.png', type: 'image/png', size: 2048, width: 40, height: 30 }
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

/** An Upload the test finishes by hand. */
function pendingUpload() {
  let finish: (r: unknown) => void = () => {}
  const Upload = vi.fn(() => new Promise((r) => (finish = r)))
  return { Upload, finish: (r: unknown) => finish(r) }
}

async function pick(...files: File[]) {
  const input = screen.getByTestId('attach-input') as HTMLInputElement
  Object.defineProperty(input, 'files', { value: files, configurable: true })
  await fireEvent.change(input)
}

describe('attaching in the composer', () => {
  it('uploads the chosen file with the typed text, shows progress, and Cancel stops it', async () => {
    const up = pendingUpload()
    d = makeDesk({}, { Upload: up.Upload, CancelUpload: () => ({ ok: true }) })
    render(Composer, { ctl: d.ctl, session: 's-1', files: rules })
    await fireEvent.input(screen.getByTestId('composer'), { target: { value: 'Here it is' } })
    await pick(pdf())
    await vi.waitFor(() => expect(d.bridge.callsOf('Upload')).toHaveLength(1))
    const [req] = d.bridge.callsOf('Upload')[0] as [{ id: string; session: string; name: string; data: string; text: string }]
    expect(req).toMatchObject({ session: 's-1', name: 'invoice.pdf', text: 'Here it is' })
    expect(atob(req.data)).toBe('%PDF-1.4 hello')
    expect((screen.getByTestId('composer') as HTMLTextAreaElement).value).toBe('')

    d.bridge.emit('app:upload', { id: req.id, session: 's-1', sent: 7, total: 14 })
    await tick()
    const bar = screen.getByTestId('upload-progress') as HTMLProgressElement
    expect(bar.value).toBe(7)
    expect(bar.max).toBe(14)
    expect(screen.getByTestId('upload').textContent).toContain('Uploading invoice.pdf')

    await fireEvent.click(screen.getByTestId('upload-cancel'))
    expect(d.bridge.callsOf('CancelUpload')).toEqual([[req.id]])
    up.finish({ ok: false, error: { code: 'cancelled', message: 'the upload was cancelled' } })
    await vi.waitFor(() => expect(screen.queryByTestId('upload')).toBeNull())
    expect(d.bridge.callsOf('Send')).toEqual([])
  })

  it('says a refusal in the desk language, and Dismiss clears it', async () => {
    language.set('sv')
    d = makeDesk({}, { Upload: () => ({ ok: false, error: { code: 'file_type', message: 'text/html is not allowed' } }) })
    render(Composer, { ctl: d.ctl, session: 's-1', files: rules })
    await pick(new File(['<html>'], 'cat.png', { type: 'image/png' }))
    await vi.waitFor(() => expect(screen.getByTestId('upload').textContent).toContain('Den filtypen är inte tillåten i den här kanalen.'))
    expect(screen.getByTestId('upload').textContent).toContain('Kunde inte skicka cat.png')
    await fireEvent.click(screen.getByTestId('upload-dismiss'))
    expect(screen.queryByTestId('upload')).toBeNull()
  })

  it('refuses a file over the channel size before uploading it', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1', files: { max_bytes: 4, types: [] } })
    await pick(pdf())
    await vi.waitFor(() => expect(screen.getByTestId('upload').textContent).toContain('The file is too large (at most 4 B).'))
    expect(d.bridge.callsOf('Upload')).toEqual([])
  })

  it('attaches a pasted screenshot under a name with the time', async () => {
    d = makeDesk({}, { Upload: () => ({ ok: true, data: { clientId: 'm-1', file: pngInfo } }) })
    render(Composer, { ctl: d.ctl, session: 's-1', files: rules })
    const shot = new File([new Uint8Array([137, 80, 78, 71])], 'image.png', { type: 'image/png' })
    const ev = new Event('paste', { bubbles: true, cancelable: true }) as ClipboardEvent
    Object.defineProperty(ev, 'clipboardData', { value: { files: [shot] } })
    screen.getByTestId('composer').dispatchEvent(ev)
    expect(ev.defaultPrevented).toBe(true)
    await vi.waitFor(() => expect(d.bridge.callsOf('Upload')).toHaveLength(1))
    const [req] = d.bridge.callsOf('Upload')[0] as [{ name: string }]
    expect(req.name).toMatch(/^screenshot-\d{8}-\d{6}\.png$/)
    await vi.waitFor(() => expect(screen.queryByTestId('upload')).toBeNull())
  })

  it('disables the attach button, with the reason, when the channel takes no files', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1', files: { max_bytes: 0, types: [] } })
    const btn = screen.getByTestId('attach-button') as HTMLButtonElement
    expect(btn.disabled).toBe(true)
    expect(document.getElementById(btn.getAttribute('aria-describedby') ?? '')?.textContent).toBe('This channel takes no files.')
    await pick(pdf())
    expect(screen.queryByTestId('upload')).toBeNull()
    expect(d.bridge.callsOf('Upload')).toEqual([])
  })

  it('has a labelled attach button that opens the file chooser', async () => {
    d = makeDesk()
    render(Composer, { ctl: d.ctl, session: 's-1', files: rules })
    const btn = screen.getByRole('button', { name: /Attach a file/ })
    const input = screen.getByTestId('attach-input') as HTMLInputElement
    const click = vi.spyOn(input, 'click').mockImplementation(() => {})
    expect(input.accept).toBe('image/png,application/pdf')
    await fireEvent.click(btn)
    expect(click).toHaveBeenCalled()
  })

  it('attaches files dropped on the chat', async () => {
    d = makeDesk({ channels: [channel({ files: rules })] }, { Upload: () => ({ ok: true, data: { clientId: 'm-1', file: pdfInfo } }) })
    d.ctl.select('s-1')
    render(ChatPanel, { ctl: d.ctl })
    await tick()
    const panel = screen.getByTestId('chat-panel')
    const dt = { types: ['Files'], files: [pdf()], dropEffect: 'none' }
    await fireEvent.dragOver(panel, { dataTransfer: dt })
    expect(dt.dropEffect).toBe('copy')
    expect(panel.classList.contains('dropping')).toBe(true)
    await fireEvent.drop(panel, { dataTransfer: dt })
    await vi.waitFor(() => expect(d.bridge.callsOf('Upload')).toHaveLength(1))
    expect((d.bridge.callsOf('Upload')[0][0] as { name: string }).name).toBe('invoice.pdf')
  })
})

describe('a drop from a file manager', () => {
  it('sends the dropped links\' files by their paths', async () => {
    d = makeDesk({ channels: [channel({ files: rules })] }, { UploadPath: () => ({ ok: true, data: { clientId: 'm-1', file: pdfInfo } }) })
    d.ctl.select('s-1')
    render(ChatPanel, { ctl: d.ctl })
    await tick()
    const panel = screen.getByTestId('chat-panel')
    const list = 'file:///home/anna/Warranty%20terms.pdf\r\nhttps://example.com/x\r\n'
    const dt = { types: ['text/uri-list'], files: [], dropEffect: 'none', getData: (t: string) => (t === 'text/uri-list' ? list : '') }
    await fireEvent.dragOver(panel, { dataTransfer: dt })
    expect(dt.dropEffect).toBe('copy')
    await fireEvent.drop(panel, { dataTransfer: dt })
    await vi.waitFor(() => expect(d.bridge.callsOf('UploadPath')).toHaveLength(1))
    expect(d.bridge.callsOf('UploadPath')[0][0]).toMatchObject({ session: 's-1', path: '/home/anna/Warranty terms.pdf', text: '' })
    expect(d.bridge.callsOf('Upload')).toEqual([])
  })

  it('attaches the paths the desktop reports for a drop on the chat, and not for one elsewhere', async () => {
    d = makeDesk({ channels: [channel({ files: rules })] }, { UploadPath: () => ({ ok: true, data: { clientId: 'm-1', file: pdfInfo } }) })
    d.ctl.select('s-1')
    render(ChatPanel, { ctl: d.ctl })
    await tick()
    const panel = screen.getByTestId('chat-panel')
    panel.getBoundingClientRect = () => ({ left: 300, top: 70, right: 1100, bottom: 740, width: 800, height: 670, x: 300, y: 70, toJSON: () => ({}) })
    d.bridge.emit('app:drop', { x: 100, y: 300, paths: ['/tmp/elsewhere.pdf'] })
    d.bridge.emit('app:drop', { x: 700, y: 350, paths: ['/tmp/warranty.pdf'] })
    await vi.waitFor(() => expect(d.bridge.callsOf('UploadPath')).toHaveLength(1))
    expect(d.bridge.callsOf('UploadPath')[0][0]).toMatchObject({ session: 's-1', path: '/tmp/warranty.pdf' })
  })

  it('reads only file links', () => {
    expect(pathsOf('# comment\nfile:///tmp/a%C3%A5.pdf\nhttp://x/y.pdf\nfile://host/share/b.pdf')).toEqual(['/tmp/aå.pdf'])
  })
})

describe('files in the log', () => {
  async function showLog(...entries: ReturnType<typeof entry>[]) {
    render(Conversation, { ctl: d.ctl, session: 's-1' })
    for (const e of entries) d.bridge.emit('relay:event', { ev: 'entry', session: 's-1', seq: e.seq, data: e })
    await tick()
  }

  it('shows an image as a thumbnail that opens full size', async () => {
    d = makeDesk({}, { Preview: () => ({ ok: true, data: { url: PIXEL, type: 'image/png' } }) })
    await showLog(entry(1, { text: '', file: pngInfo }))
    const thumb = await screen.findByTestId('attachment-thumb')
    expect(d.bridge.callsOf('Preview')).toEqual([['s-1', 'f-png']])
    expect(thumb.getAttribute('aria-label')).toBe('Open screenshot.png full size')
    expect(thumb.querySelector('img')?.getAttribute('src')).toBe(PIXEL)
    expect(screen.getByTestId('log-entry').querySelector('.text')).toBeNull() // no empty text line
    await fireEvent.click(thumb)
    const dlg = screen.getByTestId('attachment-full')
    expect(dlg.querySelector('img')?.getAttribute('src')).toBe(PIXEL)
  })

  it('shows another file with its name, type and size, and saves it', async () => {
    d = makeDesk({}, { SaveFile: () => ({ ok: true, data: { path: '/home/anna/invoice.pdf' } }) })
    await showLog(entry(1, { text: 'The invoice', file: pdfInfo }))
    const box = screen.getByTestId('attachment')
    expect(box.textContent).toContain('invoice.pdf')
    expect(box.textContent).toContain('PDF · 47 KB')
    expect(screen.queryByTestId('attachment-thumb')).toBeNull()
    expect(d.bridge.callsOf('Preview')).toEqual([])
    await fireEvent.click(screen.getByRole('button', { name: 'Save invoice.pdf' }))
    expect(d.bridge.callsOf('SaveFile')).toEqual([['s-1', 'f-pdf', 'invoice.pdf']])
    expect((await screen.findByTestId('attachment-saved')).textContent).toBe('Saved to /home/anna/invoice.pdf')
  })

  it('says in Swedish why a file could not be saved, and nothing when the dialog was cancelled', async () => {
    language.set('sv')
    let answer: unknown = { ok: false, error: { code: 'cancelled', message: '' } }
    d = makeDesk({}, { SaveFile: () => answer })
    await showLog(entry(1, { file: pdfInfo }))
    await fireEvent.click(screen.getByTestId('attachment-save'))
    await tick()
    expect(screen.queryByRole('alert')).toBeNull()
    answer = { ok: false, error: { code: 'file_gone', message: 'purged' } }
    await fireEvent.click(screen.getByTestId('attachment-save'))
    expect((await screen.findByRole('alert')).textContent).toBe('Filen har raderats.')
  })
})

describe('file helpers', () => {
  it('formats sizes in both languages', () => {
    expect(formatSize(512, 'en')).toBe('512 B')
    expect(formatSize(1536, 'en')).toBe('1.5 KB')
    expect(formatSize(3.4 * 1024 * 1024, 'sv')).toBe('3,4 MB')
    expect(formatSize(10 << 20, 'en')).toBe('10 MB')
  })

  it('names a pasted image and keeps a real name', () => {
    const at = new Date(2026, 11, 7, 9, 5, 3)
    expect(fileName(new File([''], 'image.png', { type: 'image/png' }), at)).toBe('screenshot-20261207-090503.png')
    expect(fileName(new File([''], '', { type: 'image/jpeg' }), at)).toBe('screenshot-20261207-090503.jpg')
    expect(fileName(new File([''], 'report.pdf'), at)).toBe('report.pdf')
  })

  it('encodes bytes as base64 in chunks', async () => {
    const big = new Uint8Array(70_000).map((_, i) => i % 251)
    const b64 = await toBase64(new Blob([big]))
    expect(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))).toEqual(big)
  })
})

describe('drops outside the chat', () => {
  it('never let the web view open a dropped file in place of the app', async () => {
    const { guardDrops } = await import('../files')
    const stop = guardDrops()
    try {
      for (const types of [['Files'], ['text/uri-list']]) {
        const over = new Event('dragover', { bubbles: true, cancelable: true }) as DragEvent
        Object.defineProperty(over, 'dataTransfer', { value: { types, dropEffect: 'copy' } })
        document.body.dispatchEvent(over)
        expect(over.defaultPrevented).toBe(true)
        expect(over.dataTransfer?.dropEffect).toBe('none')
        const drop = new Event('drop', { bubbles: true, cancelable: true }) as DragEvent
        Object.defineProperty(drop, 'dataTransfer', { value: { types, files: [] } })
        document.body.dispatchEvent(drop)
        expect(drop.defaultPrevented).toBe(true)
      }
      // Dragged text still drops into a field.
      const text = new Event('drop', { bubbles: true, cancelable: true }) as DragEvent
      Object.defineProperty(text, 'dataTransfer', { value: { types: ['text/plain'], files: [] } })
      document.body.dispatchEvent(text)
      expect(text.defaultPrevented).toBe(false)
    } finally {
      stop()
    }
  })
})
