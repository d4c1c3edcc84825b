// The pace of a migration: `--rate N/sec|min|hour` and `--max-in-flight K`, and the gate that holds the
// runner to both. The gate has p-queue's semantics (at most `intervalCap` starts per `interval`, at most
// `concurrency` running, both changeable while it runs) in p-queue's strict, sliding-window form, but it
// waits on the injected Clock, so a 50-minute migration runs on a fake clock in milliseconds.
import { z } from 'zod'
import type { Clock } from '../../clock.js'
import { UsageError } from '../errors.js'

export interface Rate {
  /** Starts allowed per period. */
  count: number
  periodMs: number
  /** As written, normalized: `10/min`. */
  text: string
}

const UNIT_MS: Record<string, { ms: number; name: string }> = {
  s: { ms: 1_000, name: 'sec' },
  sec: { ms: 1_000, name: 'sec' },
  secs: { ms: 1_000, name: 'sec' },
  second: { ms: 1_000, name: 'sec' },
  seconds: { ms: 1_000, name: 'sec' },
  m: { ms: 60_000, name: 'min' },
  min: { ms: 60_000, name: 'min' },
  mins: { ms: 60_000, name: 'min' },
  minute: { ms: 60_000, name: 'min' },
  minutes: { ms: 60_000, name: 'min' },
  h: { ms: 3_600_000, name: 'hour' },
  hr: { ms: 3_600_000, name: 'hour' },
  hour: { ms: 3_600_000, name: 'hour' },
  hours: { ms: 3_600_000, name: 'hour' },
}

const RATE_HINT = 'N/sec, N/min or N/hour with N a whole number above 0, for example 10/min'

const RateText = z
  .string()
  .trim()
  .regex(/^\d+\s*\/\s*[a-z]+$/i, { error: `must look like ${RATE_HINT}` })
  .transform((text, ctx): Rate => {
    const [countText, unitText] = text.split('/').map((part) => part.trim())
    const count = Number(countText)
    const unit = UNIT_MS[unitText!.toLowerCase()]
    if (!unit) {
      ctx.addIssue({ code: 'custom', message: `has an unknown unit "${unitText}"; use ${RATE_HINT}` })
      return z.NEVER
    }
    if (!Number.isSafeInteger(count) || count < 1) {
      ctx.addIssue({ code: 'custom', message: `must start more than 0 apps per ${unit.name}; use ${RATE_HINT}` })
      return z.NEVER
    }
    return { count, periodMs: unit.ms, text: `${count}/${unit.name}` }
  })

/** Parses `10/min`; `field` names the flag in the error (`--rate must look like ...`). */
export function parseRate(text: string, field = '--rate'): Rate {
  const parsed = RateText.safeParse(text)
  if (parsed.success) return parsed.data
  throw new UsageError(`${field} ${parsed.error.issues[0]!.message}, got "${text}"`)
}

/** `null` (no limit) stays null; a string is parsed. */
export function rateFrom(value: Rate | string | null | undefined, field = '--rate'): Rate | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? parseRate(value, field) : value
}

export type MaxFailures =
  | { kind: 'count'; count: number; text: string }
  | { kind: 'percent'; percent: number; text: string }

const MaxFailuresText = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?%?$/, { error: 'must be a count (3) or a percentage of the apps (5%)' })
  .transform((text, ctx): MaxFailures => {
    if (text.endsWith('%')) {
      const percent = Number(text.slice(0, -1))
      if (percent > 100) {
        ctx.addIssue({ code: 'custom', message: 'must be a percentage from 0% to 100%' })
        return z.NEVER
      }
      return { kind: 'percent', percent, text }
    }
    const count = Number(text)
    if (!Number.isSafeInteger(count)) {
      ctx.addIssue({ code: 'custom', message: 'must be a whole number of apps, or a percentage (5%)' })
      return z.NEVER
    }
    return { kind: 'count', count, text }
  })

export function parseMaxFailures(text: string, field = '--max-failures'): MaxFailures {
  const parsed = MaxFailuresText.safeParse(text)
  if (parsed.success) return parsed.data
  throw new UsageError(`${field} ${parsed.error.issues[0]!.message}, got "${text}"`)
}

/** How many failed apps a migration of `total` apps tolerates; one more stops it. */
export function failureAllowance(limit: MaxFailures, total: number): number {
  return limit.kind === 'count' ? limit.count : Math.floor((limit.percent / 100) * total)
}

/**
 * The window the gate counts starts in. `10/min` becomes one start per 6 s rather than ten at the top of
 * each minute: any sliding minute still holds at most ten starts, and the foundation sees a steady bleed
 * instead of bursts. Below 100 ms a start, the window widens so timers stay coarse (500/sec: 50 per 100 ms).
 */
export function rateWindow(rate: Rate): { intervalCap: number; intervalMs: number } {
  const spacing = rate.periodMs / rate.count
  if (spacing >= MIN_WINDOW_MS) return { intervalCap: 1, intervalMs: spacing }
  const intervalCap = Math.ceil((rate.count * MIN_WINDOW_MS) / rate.periodMs)
  return { intervalCap, intervalMs: (rate.periodMs * intervalCap) / rate.count }
}

const MIN_WINDOW_MS = 100

/** A slot to run one step: release it when the step ends; refund it when the step never started. */
export interface GateTicket {
  release(): void
  /** Gives back the concurrency slot and the start it counted against the rate. */
  refund(): void
}

interface Waiter {
  resolve: (ticket: GateTicket | null) => void
  rateLimited: boolean
}

export interface GateOptions {
  rate: Rate | null
  maxInFlight: number
}

/** At most `rate` starts (sliding window) and `maxInFlight` running; both settable live. FIFO. */
export class RateGate {
  private readonly clock: Clock
  private currentRate: Rate | null
  private window: { intervalCap: number; intervalMs: number } | null
  private concurrency: number
  private running = 0
  private readonly waiters: Waiter[] = []
  /** Start times inside the current sliding window (oldest first). */
  private ticks: number[] = []
  /** Start times over the last rate period, for the observed rate. */
  private recent: number[] = []
  /** When the pending wake-up is due, and its generation: a later wake-up or a refund makes it stale. */
  private wakeAt = Number.POSITIVE_INFINITY
  private wakeGeneration = 0

  constructor(clock: Clock, options: GateOptions) {
    this.clock = clock
    this.currentRate = options.rate
    this.window = options.rate ? rateWindow(options.rate) : null
    this.concurrency = requireConcurrency(options.maxInFlight)
  }

  get rate(): Rate | null {
    return this.currentRate
  }

  get maxInFlight(): number {
    return this.concurrency
  }

  get inFlight(): number {
    return this.running
  }

  get waiting(): number {
    return this.waiters.length
  }

  /**
   * Resolves with a ticket once a start is allowed, or with null if `signal` aborts first. With
   * `rateLimited: false` only the concurrency bound applies (steps recovered after a crash were
   * already counted against the rate by the run that started them).
   */
  acquire(options: { signal?: AbortSignal; rateLimited?: boolean } = {}): Promise<GateTicket | null> {
    const { signal, rateLimited = true } = options
    if (signal?.aborted) return Promise.resolve(null)
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, rateLimited }
      this.waiters.push(waiter)
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.waiters.indexOf(waiter)
          if (at < 0) return
          this.waiters.splice(at, 1)
          resolve(null)
          this.pump()
        },
        { once: true },
      )
      this.pump()
    })
  }

  setRate(rate: Rate | null): void {
    this.currentRate = rate
    this.window = rate ? rateWindow(rate) : null
    this.cancelWake()
    this.pump()
  }

  setMaxInFlight(maxInFlight: number): void {
    this.concurrency = requireConcurrency(maxInFlight)
    this.pump()
  }

  /** Starts in the last `ms` (the rate period when not given). */
  startsWithin(ms = this.currentRate?.periodMs ?? 60_000): number {
    const since = this.clock.now() - ms
    this.recent = this.recent.filter((t) => t > since - 3_600_000)
    return this.recent.filter((t) => t > since).length
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.running < this.concurrency) {
      const head = this.waiters[0]!
      const now = this.clock.now()
      if (head.rateLimited && this.window) {
        this.expireTicks(now)
        if (this.ticks.length >= this.window.intervalCap) {
          this.wakeWhenFree(this.ticks[0]! + this.window.intervalMs)
          return
        }
      }
      this.waiters.shift()
      this.running++
      const tick = head.rateLimited ? now : undefined
      if (tick !== undefined) {
        this.ticks.push(tick)
        this.recent.push(tick)
      }
      head.resolve(this.ticket(tick))
    }
  }

  private ticket(tick: number | undefined): GateTicket {
    let open = true
    const finish = (refund: boolean) => {
      if (!open) return
      open = false
      this.running--
      if (refund && tick !== undefined) {
        removeLast(this.ticks, tick)
        removeLast(this.recent, tick)
        this.cancelWake()
      }
      this.pump()
    }
    return { release: () => finish(false), refund: () => finish(true) }
  }

  private expireTicks(now: number): void {
    const interval = this.window!.intervalMs
    let drop = 0
    while (drop < this.ticks.length && now - this.ticks[drop]! >= interval) drop++
    if (drop > 0) this.ticks = this.ticks.slice(drop)
  }

  private wakeWhenFree(at: number): void {
    if (this.wakeAt <= at) return
    const generation = ++this.wakeGeneration
    this.wakeAt = at
    // A sleep rather than clock.after(): a real clock's sleep keeps the process alive while the runner
    // waits for its next start, where an unref'd timer would let Node exit mid-migration.
    this.clock.sleep(at - this.clock.now()).then(() => {
      if (generation !== this.wakeGeneration) return
      this.wakeAt = Number.POSITIVE_INFINITY
      this.pump()
    })
  }

  private cancelWake(): void {
    this.wakeGeneration++
    this.wakeAt = Number.POSITIVE_INFINITY
  }
}

function requireConcurrency(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--max-in-flight must be a whole number of apps above 0, got ${value}`)
  }
  return value
}

function removeLast(list: number[], value: number): void {
  const at = list.lastIndexOf(value)
  if (at >= 0) list.splice(at, 1)
}
