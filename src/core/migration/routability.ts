// Continual routability: while an app moves, its route is probed on an interval and every stretch in which
// no instance answered is recorded, from the first failed probe to the next one that succeeds. That list is
// the evidence for (or against) a zero-downtime migration, so its resolution is the probe interval.
import type { Clock, Timer } from '../../clock.js'

export interface RouteGap {
  startedAt: number
  endedAt: number
  ms: number
  /** The watch ended before the route answered again. */
  open: boolean
}

export class RoutabilityMonitor {
  private readonly clock: Clock
  private readonly probe: () => Promise<boolean>
  private readonly intervalMs: number
  private readonly onGap: (gap: RouteGap) => void
  private timer: Timer | undefined
  private probing = false
  private gapStart: number | undefined
  private stopped = false

  constructor(clock: Clock, probe: () => Promise<boolean>, intervalMs: number, onGap: (gap: RouteGap) => void) {
    this.clock = clock
    this.probe = probe
    this.intervalMs = intervalMs
    this.onGap = onGap
  }

  start(): void {
    this.timer = this.clock.every(this.intervalMs, () => {
      // A probe slower than the interval is not stacked: the next tick waits for it.
      if (this.probing || this.stopped) return
      this.probing = true
      this.probe()
        .catch(() => false)
        .then((ok) => {
          this.probing = false
          this.observe(ok)
        })
    })
  }

  /** Feeds in a probe made elsewhere (the verification's), at the current time. */
  observe(ok: boolean): void {
    if (this.stopped) return
    const now = this.clock.now()
    if (!ok) {
      this.gapStart ??= now
      return
    }
    if (this.gapStart !== undefined) {
      this.onGap({ startedAt: this.gapStart, endedAt: now, ms: now - this.gapStart, open: false })
      this.gapStart = undefined
    }
  }

  /** Ends the watch; a gap still open is reported as open, up to now. */
  stop(): void {
    if (this.stopped) return
    this.timer?.cancel()
    if (this.gapStart !== undefined) {
      const now = this.clock.now()
      this.onGap({ startedAt: this.gapStart, endedAt: now, ms: now - this.gapStart, open: true })
      this.gapStart = undefined
    }
    this.stopped = true
  }
}
