// A CC that does not answer is an outage to wait out, not a reason to fail the apps in flight. Every CC call
// of a run goes through one CcOutage: a call that gets no answer (or only a gateway's "not now") marks the
// CC down, waits and tries again; the first call that gets an answer marks it up again and wakes the others.
// While it is down the runner starts no new step. Past the operator's --outage-wait the waiting calls give
// up with OutageExceeded: their steps stay in flight in the journal, in doubt, and the run pauses, so that
// a resume (or a rollback) reads the CC and carries on from what it says.
import type { Clock } from '../../clock.js'
import { isFinalAnswer } from '../cc/retry.js'
import { describeError } from './port.js'

/** The longest a waiting call sleeps before it looks whether another call got an answer. */
const SLICE_MS = 500

/** How long a run waits for a CC that does not answer before it pauses, unless told otherwise. */
export const DEFAULT_OUTAGE_WAIT_MS = 10 * 60_000

/** Statuses a gateway or a restarting CC sends instead of an answer. */
const UNREACHABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

/** Transport failures of a request that got no answer; the CC client's CfNetworkError carries one as `reason`. */
const NO_ANSWER = /^(E[A-Z]+|UND_ERR_[A-Z_]+|unknown)$/

/**
 * Whether a call failed because the CC could not be reached: no answer at all (refused, reset, timed out),
 * or a gateway's or a restarting CC's 502/503/504/429. A CC error of its own sent with such a status is an
 * answer about the app or a backend (504 CF-StagingTimeExpired, 503 CF-InstancesUnavailable,
 * CF-StatsUnavailable, CF-RunnerUnavailable ...), not an outage: the CC is up. Only its generic
 * CF-ServiceUnavailable says it cannot serve at all.
 */
export function isUnreachable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const fields = error as { status?: unknown; errorCode?: unknown; reason?: unknown; name?: unknown }
  if (typeof fields.status === 'number') {
    const errorCode = typeof fields.errorCode === 'string' ? fields.errorCode : undefined
    if (!UNREACHABLE_STATUSES.has(fields.status) || isFinalAnswer(fields.status, errorCode)) return false
    return errorCode === undefined || !errorCode.startsWith('CF-') || errorCode === 'CF-ServiceUnavailable'
  }
  if (fields.name === 'CfNetworkError') return true
  return typeof fields.reason === 'string' && NO_ANSWER.test(fields.reason)
}

/**
 * A step cannot be settled now without guessing: it stays as the journal has it, in doubt, and the run
 * pauses so that a resume (or a rollback) reads the CC for it.
 */
export class StepInDoubt extends Error {
  /** Who pauses the run: 'cc-unreachable', 'probe-path-down'. */
  readonly pausedBy: string

  constructor(message: string, pausedBy: string) {
    super(message)
    this.name = new.target.name
    this.pausedBy = pausedBy
  }
}

/** The wait for the CC ran out (or the run is stopping). */
export class OutageExceeded extends StepInDoubt {
  constructor(message: string) {
    super(message, 'cc-unreachable')
  }
}

/** The app's instances all run but no probe reaches any app, moving or not: the way to the apps is down. */
export class ProbePathDown extends StepInDoubt {
  constructor(message: string) {
    super(message, 'probe-path-down')
  }
}

export interface OutageOptions {
  clock: Clock
  /** How long the CC may go without answering before the waiting calls give up. */
  waitMs?: number
  /** The first wait between two tries of a call; each next one doubles, up to maxBackoffMs. */
  backoffMs?: number
  maxBackoffMs?: number
  /** The CC stopped answering (once per outage). */
  onDown?: (error: string) => void
  /** The CC answers again, after `downMs`. */
  onUp?: (downMs: number) => void
  /** The wait ran out (once). */
  onExceeded?: (message: string) => void
}

export class CcOutage {
  readonly waitMs: number
  private readonly clock: Clock
  private readonly backoffMs: number
  private readonly maxBackoffMs: number
  private readonly options: OutageOptions
  private downSince: number | null = null
  private lastError = ''
  private pastDownMs = 0
  private gaveUp: string | null = null
  private waiters = new Set<() => void>()

  constructor(options: OutageOptions) {
    this.clock = options.clock
    this.waitMs = options.waitMs ?? DEFAULT_OUTAGE_WAIT_MS
    this.backoffMs = options.backoffMs ?? 1_000
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000
    this.options = options
  }

  /** The CC is not answering now. */
  get down(): boolean {
    return this.downSince !== null
  }

  /** Why the waiting calls gave up, once they have. */
  get exceeded(): string | null {
    return this.gaveUp
  }

  /** Every ms the CC did not answer so far: a step's timeout does not count them. */
  downMs(): number {
    return this.pastDownMs + (this.downSince === null ? 0 : this.clock.now() - this.downSince)
  }

  /** A call got an answer: the CC is up. */
  answered(): void {
    if (this.downSince === null) return
    const ms = this.clock.now() - this.downSince
    this.pastDownMs += ms
    this.downSince = null
    this.options.onUp?.(ms)
    this.wake()
  }

  /**
   * A call got no answer (`retry` counts its tries from 1): waits until it is worth trying again (the
   * backoff, or another call got an answer), or throws OutageExceeded once the CC has been down too long.
   */
  async wait(error: unknown, retry: number): Promise<void> {
    if (this.gaveUp !== null) throw new OutageExceeded(this.gaveUp)
    const now = this.clock.now()
    this.lastError = describeError(error)
    if (this.downSince === null) {
      this.downSince = now
      this.options.onDown?.(this.lastError)
    }
    const left = this.downSince + this.waitMs - now
    if (left <= 0) {
      this.giveUp(`the CC did not answer for ${Math.round((now - this.downSince) / 1000)} s: ${this.lastError}`)
      throw new OutageExceeded(this.gaveUp!)
    }
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.max(0, retry - 1))
    await this.sleep(Math.min(backoff, left))
    if (this.gaveUp !== null) throw new OutageExceeded(this.gaveUp)
  }

  /** Stops every wait now (the run is stopping): the waiting calls throw OutageExceeded with this reason. */
  abandon(reason: string): void {
    this.giveUp(reason)
  }

  private giveUp(reason: string): void {
    if (this.gaveUp !== null) return
    this.gaveUp = reason
    this.options.onExceeded?.(reason)
    this.wake()
  }

  /**
   * Until `ms` pass or wake(). In slices of a second on clock.sleep, which (unlike clock.after) keeps the
   * process alive while steps wait here and nothing else is pending; a wake is seen within a slice.
   */
  private async sleep(ms: number): Promise<void> {
    let woken = false
    const done = () => {
      woken = true
    }
    this.waiters.add(done)
    try {
      const end = this.clock.now() + ms
      for (let left = ms; !woken && left > 0; left = end - this.clock.now()) {
        await this.clock.sleep(Math.min(SLICE_MS, left))
      }
    } finally {
      this.waiters.delete(done)
    }
  }

  private wake(): void {
    for (const done of [...this.waiters]) done()
  }
}
