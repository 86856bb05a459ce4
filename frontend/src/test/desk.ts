// Builds a desk controller wired to a fresh fake bridge, already welcomed.

import type { AgentWelcome } from '../lib/protocol'
import { createDesk, type ControllerOptions, type DeskController } from '../lib/state/store'
import { installFakeBridge, type FakeBridge } from './fakeBridge'
import { welcome } from './fixtures'

export function memoryStorage(): Storage {
  const m = new Map<string, string>()
  return {
    get length() {
      return m.size
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  }
}

export interface TestDesk {
  bridge: FakeBridge
  ctl: DeskController
  stop: () => void
}

export function makeDesk(
  w: Partial<AgentWelcome> | null = {},
  overrides: Parameters<typeof installFakeBridge>[0] = {},
  opts: ControllerOptions = {},
): TestDesk {
  const bridge = installFakeBridge(overrides)
  const ctl = createDesk({ storage: memoryStorage(), toastMs: 0, ...opts })
  const stop = ctl.start()
  if (w) ctl.welcome(welcome(w))
  return { bridge, ctl, stop }
}
