import { render } from '@testing-library/svelte'
import { createRawSnippet } from 'svelte'
import { describe, expect, it } from 'vitest'
import Modal from './Modal.svelte'

const children = createRawSnippet(() => ({ render: () => '<p>Body</p>' }))

describe('Modal', () => {
  // WebKit draws overlay scrollbars over a fixed dialog: while one is open
  // the page says so, and app.css stops the boxes under it from scrolling.
  it('marks the page while a dialog is open, until the last one closes', () => {
    const root = document.documentElement
    const a = render(Modal, { title: 'One', onclose: () => {}, children })
    expect(root.classList.contains('modal-open')).toBe(true)
    const b = render(Modal, { title: 'Two', onclose: () => {}, children })
    a.unmount()
    expect(root.classList.contains('modal-open')).toBe(true)
    b.unmount()
    expect(root.classList.contains('modal-open')).toBe(false)
  })
})
