// A short two-note chime for an incoming transfer offer, made with Web Audio
// (no sound file to ship). Silently nothing where audio is not available.

let ctx: AudioContext | null = null

export function chime(): void {
  const Ctx = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext
  if (!Ctx) return
  try {
    ctx ??= new Ctx()
    const start = ctx.currentTime
    for (const [i, freq] of [660, 880].entries()) {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.frequency.value = freq
      gain.gain.setValueAtTime(0.0001, start + i * 0.15)
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.15 + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.15 + 0.14)
      osc.connect(gain).connect(ctx.destination)
      osc.start(start + i * 0.15)
      osc.stop(start + i * 0.15 + 0.15)
    }
  } catch {
    /* no audio device: the bar and the notification still show the offer */
  }
}
