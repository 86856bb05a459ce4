// One shared ticking clock for countdowns and "waiting 3 min": it runs only
// while something on screen subscribes to it.

import { readable } from 'svelte/store'

export const now = readable(Date.now(), (set) => {
  set(Date.now())
  const id = setInterval(() => set(Date.now()), 1000)
  return () => clearInterval(id)
})
