// At most one call per key per interval: the composer tells the relay
// "typing" once every 3 s while the agent types, not on every key.

export const typingInterval = 3000

export interface Throttle {
  /** True when the call for key may go out now (and records it). */
  take(key: string, now: number): boolean
  reset(key: string): void
}

export function createThrottle(intervalMs: number): Throttle {
  const last = new Map<string, number>()
  return {
    take(key, now) {
      const prev = last.get(key)
      if (prev !== undefined && now - prev < intervalMs) return false
      last.set(key, now)
      return true
    },
    reset(key) {
      last.delete(key)
    },
  }
}
