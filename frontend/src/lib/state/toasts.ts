// Short notices in a corner: transfer outcomes, warnings, notices from the
// Go side. Pure list operations; the store adds the timers.

export type ToastKind = 'info' | 'success' | 'warning' | 'error'

export interface Toast {
  id: number
  kind: ToastKind
  text: string
  /** A chat to open when the toast is clicked. */
  session?: string
  /** A button in the toast (Undo). */
  action?: { label: string; run: () => void }
  /**
   * What the toast is about (a transfer): a newer toast with the same key
   * replaces it, so "asks you to take over" does not stand beside "cancelled".
   */
  key?: string
}

/** At most this many toasts are shown; the oldest goes first. */
export const maxToasts = 5

export function pushToast(list: readonly Toast[], toast: Toast, max = maxToasts): Toast[] {
  const same = (t: Toast) => (t.text === toast.text && t.kind === toast.kind) || (!!toast.key && t.key === toast.key)
  const next = [...list.filter((t) => !same(t)), toast]
  return next.length > max ? next.slice(next.length - max) : next
}

export function dismissToast(list: readonly Toast[], id: number): Toast[] {
  const next = list.filter((t) => t.id !== id)
  return next.length === list.length ? (list as Toast[]) : next
}

export function toastKind(kind: unknown): ToastKind {
  return kind === 'success' || kind === 'warning' || kind === 'error' ? kind : 'info'
}
