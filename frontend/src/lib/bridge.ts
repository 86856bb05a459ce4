// The only place that knows how the Go side is reached. Inside the desktop
// app Wails injects window.go (bound services) and window.runtime (events);
// in a plain browser (vite dev, tests) they are absent or stubbed.

export interface LoginRequest {
  server: string
  login: string
  password: string
  remember: boolean
}

/** Mirrors app.SessionService on the Go side. */
export interface SessionService {
  Version(): Promise<string>
  Window(): Promise<string>
  Login(req: LoginRequest): Promise<void>
}

interface WailsRuntime {
  EventsOn(event: string, callback: (...data: unknown[]) => void): () => void
}

declare global {
  interface Window {
    go?: { app?: { SessionService?: SessionService } }
    runtime?: WailsRuntime
  }
}

/** Names of events the Go side emits (see app/*.go). */
export const Events = {
  status: 'session:status',
} as const

export function sessionService(): SessionService | undefined {
  return window.go?.app?.SessionService
}

/** Subscribes to a Go event; returns the unsubscribe function. */
export function onEvent(event: string, callback: (...data: unknown[]) => void): () => void {
  return window.runtime?.EventsOn(event, callback) ?? (() => {})
}

/** Bound methods reject with the Go error's text; make it a string. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
