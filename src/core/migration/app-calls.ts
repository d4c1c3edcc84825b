// The runner's calls for one app: read it, set its flag, wait until it runs where the flag says. Every call
// goes through the run's CcOutage, so a CC that does not answer is waited for (and the wait not counted
// against the step's timeout) instead of failing the step; a flag is never taken as set, or as not set,
// without an answer from the CC that says so.
import type { Clock } from '../../clock.js'
import type { Backend } from '../journal/types.js'
import { formatDuration } from './duration.js'
import { instancesHealth } from './health.js'
import { type CcOutage, isUnreachable, ProbePathDown, StepInDoubt } from './outage.js'
import { describeError, isTransient, type MigrationPort, type PortApp } from './port.js'
import type { ProbePath } from './probe-path.js'
import type { RoutabilityMonitor } from './routability.js'

/** What became of a flag change, and how many calls it took (each one a try at the target value). */
export type FlagChange = ({ kind: 'set' } | { kind: 'not-set'; error: string } | { kind: 'unknown'; error: string }) & {
  attempts: number
}

export type Verdict = { ok: true } | { ok: false; error: string }

/** The first wait between two checks of a moving app; the next ones double, up to the verify interval. */
const FIRST_VERIFY_WAIT_MS = 100

/**
 * When, counted from the first check of a moving app, the next one is due: 100, 200, 400 ... ms until the
 * verify interval, then on every multiple of it. Quick at first, so a fast backend is seen as soon as it is
 * ready (a step held for a whole interval caps a run at max-in-flight apps per interval); slow after, so a
 * slow start costs the CC a few extra calls per app, not one every few hundred milliseconds. Never later
 * than a plain poll on the interval would have looked.
 */
export function nextCheckAfter(elapsedMs: number, intervalMs: number): number {
  if (elapsedMs < intervalMs) return Math.min(Math.max(FIRST_VERIFY_WAIT_MS, elapsedMs * 2), intervalMs)
  return (Math.floor(elapsedMs / intervalMs) + 1) * intervalMs
}

export interface AppCallsOptions {
  port: MigrationPort
  clock: Clock
  outage: CcOutage
  /** Calls of setDiego per flip before the step gives up (answered transient errors only). */
  flipAttempts: number
  /** Calls of getApp before a read gives up (answered transient errors only). */
  readAttempts: number
  /** Wait before the first retry of an answered transient error; the n-th waits n times as long. */
  retryDelayMs: number
  /** Runs before every PUT of the app: the intent it carries out must be on disk first. */
  beforeChange: (guid: string) => Promise<void>
  /** Asked before a step whose instances all run fails for its route alone. */
  probePath?: ProbePath
}

export class AppCalls {
  /** Per app, from the flip to a verified app (the CC's outages not counted). */
  timeoutMs = 0
  verifyIntervalMs = 0
  private readonly port: MigrationPort
  private readonly clock: Clock
  private readonly outage: CcOutage
  private readonly options: AppCallsOptions

  constructor(options: AppCallsOptions) {
    this.port = options.port
    this.clock = options.clock
    this.outage = options.outage
    this.options = options
  }

  /**
   * One CC call, tried again for as long as the CC does not answer and the outage allows; OutageExceeded
   * when it no longer does. Any answer, even an error, tells that the CC is up.
   */
  async call<T>(work: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        const value = await work()
        this.outage.answered()
        return value
      } catch (error) {
        if (!isUnreachable(error)) {
          if (!(error instanceof StepInDoubt)) this.outage.answered()
          throw error
        }
        await this.outage.wait(error, retry)
      }
    }
  }

  async readApp(guid: string): Promise<PortApp> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call(() => this.port.getApp(guid))
      } catch (error) {
        if (error instanceof StepInDoubt || !isTransient(error) || attempt >= this.options.readAttempts) throw error
        await this.clock.sleep(this.options.retryDelayMs * attempt)
      }
    }
  }

  /**
   * Sets the flag, trying again on transient errors, but never without first reading whether it took: the
   * CC may have made the change and lost the answer, and a second PUT would be a second flip. The read after
   * a PUT that got no answer waits for the CC, so an outage costs a try, not the step. Every outcome follows
   * an answer: the PUT's, or the read's that shows the flag; 'unknown' when the read was refused. A step
   * that ends not-set because the CC kept dropping its PUTs is tried again on resume. The intent is already
   * in the journal (flipping or rolling-back); the tries are counted with the next transition.
   */
  async setFlag(guid: string, diego: boolean): Promise<FlagChange> {
    await this.options.beforeChange(guid)
    let lastError: unknown
    let attempts = 0
    for (let attempt = 1; attempt <= this.options.flipAttempts; attempt++) {
      attempts = attempt
      try {
        await this.port.setDiego(guid, diego)
        this.outage.answered()
        return { kind: 'set', attempts }
      } catch (error) {
        lastError = error
        if (!isUnreachable(error)) this.outage.answered()
        let now: PortApp
        try {
          now = await this.readApp(guid)
        } catch (readError) {
          if (readError instanceof StepInDoubt) throw readError
          return {
            kind: 'unknown',
            error: `${describeError(error)}; reading the app afterwards failed too: ${describeError(readError)}`,
            attempts,
          }
        }
        if (now.diego === diego) return { kind: 'set', attempts }
        if (!isTransient(error)) break
        if (attempt < this.options.flipAttempts) await this.clock.sleep(this.options.retryDelayMs * attempt)
      }
    }
    const tries = attempts === 1 ? '' : ` (after ${attempts} tries)`
    return { kind: 'not-set', error: `setting diego=${diego} failed${tries}: ${describeError(lastError)}`, attempts }
  }

  /**
   * Until every desired instance runs on the backend the flag names and the route answers, or the timeout
   * (the time the CC did not answer not counted). Right after a flip the first look waits a moment: no
   * backend has the app running within the same millisecond, and on a large fleet that look is one CC call
   * per app for nothing.
   */
  async verifyApp(
    guid: string,
    app: PortApp,
    diego: boolean,
    monitor: RoutabilityMonitor | undefined,
    justFlipped = false,
  ): Promise<Verdict> {
    // An app that is not staged has no instances to show on either backend: its flag is all there is.
    if (app.state !== 'STARTED' || app.instances === 0 || app.unstaged) return { ok: true }
    const startedAt = this.clock.now()
    const downAtStart = this.outage.downMs()
    const deadline = () => startedAt + this.timeoutMs + (this.outage.downMs() - downAtStart)
    if (justFlipped) await this.clock.sleep(Math.min(nextCheckAfter(0, this.verifyIntervalMs), this.timeoutMs))
    for (;;) {
      let detail: string
      let routeOnly = false
      try {
        const health = instancesHealth(await this.call(() => this.port.instances(guid)), app.instances)
        if (health.healthy) {
          const answered = await this.port.probe(guid).catch(() => false)
          monitor?.observe(answered)
          if (answered) {
            this.options.probePath?.noteAnswered(guid, app.name)
            return { ok: true }
          }
          detail = `${health.summary}, but its route did not answer`
          routeOnly = true
        } else detail = health.summary
      } catch (error) {
        if (error instanceof StepInDoubt) throw error
        detail = `its instances could not be read: ${describeError(error)}`
      }
      const now = this.clock.now()
      const due = deadline()
      if (now >= due && routeOnly && this.options.probePath) {
        // Not the app, maybe: the way to every app. A path found again (the router re-read) gets one more look.
        const path = await this.options.probePath.check(guid, app.name)
        if (path.down) throw new ProbePathDown(path.detail)
        if (await this.port.probe(guid).catch(() => false)) {
          this.options.probePath.noteAnswered(guid, app.name)
          return { ok: true }
        }
      }
      if (now >= due) {
        return {
          ok: false,
          error: `not healthy on ${backendOf(diego)} within ${formatDuration(this.timeoutMs)}: ${detail}`,
        }
      }
      await this.clock.sleep(
        Math.min(startedAt + nextCheckAfter(now - startedAt, this.verifyIntervalMs) - now, due - now),
      )
    }
  }
}

function backendOf(diego: boolean): Backend {
  return diego ? 'diego' : 'dea'
}
