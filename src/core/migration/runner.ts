// The migration runner: takes a planned migration from the journal and moves its apps one step at a time,
// at the pace the rate gate allows, with every transition written to the journal before the call it
// announces. The journal plus the CC's current flag is all it needs to carry on after a crash, so no app is
// flipped twice: a step found half-done is read back from the CC and only verified when the flag is set.
//
// A step: flipping (intent) -> setDiego -> verifying (poll instances, probe the route) -> done. A step that
// fails or times out is put back on its own (flag restored, app verified on its source) and ends failed.
// More failures than `maxFailures` in one run pause the migration with paused_by 'failure-threshold' and
// return from run(): the operator looks, then resumes (with a fresh allowance) or rolls back.
//
// A CC that does not answer fails no step: the step's calls wait for it (outage.ts), no new step starts
// meanwhile, and past --outage-wait the run pauses with the steps in flight left in doubt; resume and
// rollback both read the CC for each of them before anything else. A step that failed only because the CC
// did not answer (an older cfctl did that) is tried again on resume.
import { existsSync } from 'node:fs'
import type { Clock, Timer } from '../../clock.js'
import type { Unstaged } from '../cc/staging.js'
import { UserError } from '../errors.js'
import type { MigrationEventBody } from '../journal/events.js'
import { type Journal, LeaseLostError } from '../journal/journal.js'
import { currentProcessOwner, DEFAULT_LOCK_STALE_MS, isProcessAlive } from '../journal/lock.js'
import { JournalUnavailableError } from '../journal/pg-store.js'
import type { Backend, LockOwner, MigrationRecord, MigrationState, StepRecord, StepState } from '../journal/types.js'
import { AppCalls } from './app-calls.js'
import { LockLostError, MigrationStateError } from './errors.js'
import { FOREIGN_FLIPS, type ForeignFlip, ForeignFlipWatch } from './foreign.js'
import { CcOutage, DEFAULT_OUTAGE_WAIT_MS, OutageExceeded, StepInDoubt } from './outage.js'
import {
  failedForWantOfAnswer,
  type MigrationOutcome,
  migrationOutcome,
  NO_ROUTE_NOTE,
  PROBE_PATH_DOWN,
} from './outcome.js'
import { expectedDuration } from './plan.js'
import { describeError, type MigrationPort, type PortApp } from './port.js'
import { ProbePath } from './probe-path.js'
import { failureAllowance, type GateTicket, parseMaxFailures, type Rate, RateGate, rateFrom } from './rate.js'
import { RoutabilityMonitor } from './routability.js'
import { DEFAULT_UNSTAGED_POLICY, type UnstagedPolicy, unstagedNote } from './unstaged.js'

export interface RunnerOptions {
  journal: Journal
  port: MigrationPort
  clock: Clock
  migrationId: string
  /** While this file exists, no new step starts (paused_by 'pause-file'). */
  pauseFile?: string | null
  pauseFilePollMs?: number
  /** How often the lock's heartbeat is refreshed. */
  heartbeatMs?: number
  /** How often commands left in the journal by another process are picked up. */
  controlPollMs?: number
  /** A lock whose heartbeat is older than this may be taken over. */
  lockStaleMs?: number
  isAlive?: (pid: number) => boolean
  owner?: LockOwner
  /** Calls of setDiego per flip before the step gives up (transient errors only). */
  flipAttempts?: number
  /** Calls of getApp before a read gives up (transient errors only). */
  readAttempts?: number
  /** Wait before the first retry; the n-th waits n times as long. */
  retryDelayMs?: number
  /**
   * How long the CC may go without answering before the run pauses (exit 3, resumable) with the steps in
   * flight left in doubt; meanwhile they wait for it and no new step starts. Default 10 minutes.
   */
  outageWaitMs?: number
  /**
   * How often the CC's audit events are read for `diego` changes this migration did not make (0: never).
   * One such change pauses the run (paused_by foreign-flips); the first look, before any flip, covers the
   * last 10 minutes, so a second cfctl at work on the same apps with another journal stops this one first.
   */
  foreignPollMs?: number
  /**
   * No person is at this process (a CI job, a script): a pause that waits for one (an operator's, a canary's
   * without a wait) ends run() paused once the steps in flight settle, instead of holding the process until
   * a resume nobody here can give. A pause-file pause, which lifts on its own, still holds.
   */
  unattended?: boolean
}

export interface RollbackOptions {
  /** False for an emergency rollback: flip back at once, without waiting on health. */
  verify?: boolean
  /** Defaults to the migration's rate when verifying, and to no limit for an emergency rollback. */
  rate?: Rate | string | null
  maxInFlight?: number
  timeoutMs?: number
}

export interface MigrationProgress {
  migrationId: string
  state: MigrationState
  pausedBy: string | null
  total: number
  steps: Record<StepState, number>
  inFlight: number
  maxInFlight: number
  rate: string | null
  /** Steps started over the last rate period (a minute when there is no rate). */
  startsInLastPeriod: number
  etaMs: number
}

export type MigrationListener = Parameters<Journal['subscribe']>[0]

type StopKind =
  | 'abort'
  | 'interrupt'
  | 'unattended-pause'
  | 'failure-threshold'
  | 'in-doubt'
  | 'foreign'
  | 'lock-lost'
  | 'fatal'

export { nextCheckAfter } from './app-calls.js'
export {
  CC_UNREACHABLE,
  exitCodeOf,
  failedForWantOfAnswer,
  type MigrationOutcome,
  migrationOutcome,
  NO_ANSWER_ERROR,
  NO_ROUTE_NOTE,
  PROBE_PATH_DOWN,
  type StepFailure,
} from './outcome.js'

/** A PUT this long after the journal last saw the lease held reads the lease again first (see confirmLease). */
const LEASE_RECHECK_MS = 1_000

const RUNNABLE: readonly MigrationState[] = ['planned', 'running', 'paused', 'failed', 'completed']
const IN_DOUBT: readonly StepState[] = ['flipping', 'verifying', 'rolling-back']

export class MigrationRunner {
  readonly migrationId: string
  private readonly journal: Journal
  /** Started apps' flip-to-verified times in this process: the live ETA's step estimate. */
  private verifiedStepMs = 0
  private verifiedSteps = 0
  private readonly port: MigrationPort
  private readonly clock: Clock
  private readonly pauseFile: string | null
  private readonly pauseFilePollMs: number
  private readonly heartbeatMs: number
  private readonly controlPollMs: number
  /** Since when the journal cannot be reached, while it cannot (see journalUnreachable). */
  private outageSince: number | undefined
  private readonly lockStaleMs: number
  private readonly isAlive: (pid: number) => boolean
  private readonly owner: LockOwner
  private readonly flipAttempts: number
  private readonly readAttempts: number
  private readonly retryDelayMs: number
  private readonly unattended: boolean

  private mode: 'idle' | 'migrate' | 'rollback' = 'idle'
  private paused = false
  private pausedBy: string | null = null
  private stopRequest: { kind: StopKind; by: string } | undefined
  private fatalError: unknown
  private gate: RateGate | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private changeWaiters: Array<() => void> = []
  private timers: Timer[] = []
  private canaryTimer: Timer | undefined
  private lockTarget: string | undefined
  private failures = 0
  private failureLimit = Number.POSITIVE_INFINITY
  private probeIntervalMs = 0
  private verifyOnRollback = true
  private unstagedPolicy: UnstagedPolicy = DEFAULT_UNSTAGED_POLICY
  private readonly outageWaitMs: number
  private readonly foreignPollMs: number
  private foreignWatch: ForeignFlipWatch | undefined
  private foreignPolling = false
  private beating = false
  private pollingControls = false
  private outage!: CcOutage
  private calls!: AppCalls

  constructor(options: RunnerOptions) {
    this.migrationId = options.migrationId
    this.journal = options.journal
    this.port = options.port
    this.clock = options.clock
    this.pauseFile = options.pauseFile ?? null
    this.pauseFilePollMs = options.pauseFilePollMs ?? 1_000
    this.heartbeatMs = options.heartbeatMs ?? 5_000
    this.controlPollMs = options.controlPollMs ?? 1_000
    this.lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS
    this.isAlive = options.isAlive ?? isProcessAlive
    this.owner = options.owner ?? currentProcessOwner()
    this.flipAttempts = options.flipAttempts ?? 3
    this.readAttempts = options.readAttempts ?? 3
    this.retryDelayMs = options.retryDelayMs ?? 1_000
    this.unattended = options.unattended ?? false
    this.outageWaitMs = options.outageWaitMs ?? DEFAULT_OUTAGE_WAIT_MS
    this.foreignPollMs = options.foreignPollMs ?? 10_000
    this.journal.requireMigration(this.migrationId)
  }

  /** Hears every event of this migration as it is written to the journal. */
  on(listener: MigrationListener): () => void {
    return this.journal.subscribe((event) => {
      if (event.migrationId === this.migrationId) listener(event)
    })
  }

  get running(): boolean {
    return this.mode !== 'idle'
  }

  /**
   * Runs a planned, paused or crashed migration until every step is settled (completed or failed), it is
   * aborted, or it stops paused (interrupt, failure threshold). A pause by an operator, the pause file or
   * the canary holds the run until resume(), unless the runner is `unattended`: then only the pause file
   * holds, and the others stop it paused once the steps in flight settle. After a crash, the steps in flight are reconciled with the CC
   * before any new one starts.
   */
  async run(): Promise<MigrationOutcome> {
    this.begin('migrate')
    try {
      const migration = this.journal.requireMigration(this.migrationId)
      if (!RUNNABLE.includes(migration.state)) {
        // Not a usage error: the command was right, the migration has moved on (a rollback, an abort).
        throw new UserError(
          `migration ${this.migrationId} is ${migration.state}; only a planned, running, paused or failed migration can run`,
          migration.state === 'rolled-back' ? undefined : `roll it back with: cfctl rollback ${this.migrationId}`,
        )
      }
      const retries = this.journal.steps(this.migrationId, { states: ['failed'] }).filter(failedForWantOfAnswer)
      // Settled, with nothing a resume can do: a second resume tells how it ended, as the first did.
      if ((migration.state === 'failed' || migration.state === 'completed') && retries.length === 0)
        return this.outcome()
      const { parameters } = migration
      this.takeLock(migration)
      this.gate = new RateGate(this.clock, { rate: rateFrom(parameters.rate), maxInFlight: parameters.maxInFlight })
      this.calls.timeoutMs = parameters.timeoutMs
      this.calls.verifyIntervalMs = parameters.verifyIntervalMs
      this.probeIntervalMs = parameters.probeIntervalMs
      this.unstagedPolicy = parameters.unstaged ?? DEFAULT_UNSTAGED_POLICY
      const total = this.journal.steps(this.migrationId).length
      this.failureLimit = failureAllowance(parseMaxFailures(parameters.maxFailures, 'maxFailures'), total)
      // Resuming a migration held after its canary is the operator's go-ahead.
      if (migration.state === 'paused' && migration.pausedBy === 'canary') this.journal.confirmCanary(this.migrationId)
      this.journal.setMigrationState(this.migrationId, 'running', {
        pausedBy: null,
        event: { type: 'started', recovered: migration.state === 'running' },
      })
      if (migration.state === 'paused' || migration.state === 'failed') this.record({ type: 'resumed', by: 'resume' })
      this.startTimers()
      await this.watchForeignFlips()
      await this.migrate(this.journal.requireMigration(this.migrationId))
      // A last look: a change made since the previous one (a run shorter than the poll has had none since
      // its first) is reported, and keeps the run from calling itself completed.
      if (!this.stopRequest) await this.pollForeign()
      return this.finishMigration()
    } catch (error) {
      throw error instanceof LeaseLostError ? new LockLostError(this.migrationId) : error
    } finally {
      this.end()
    }
  }

  /**
   * Returns every app this migration moved to its original flag, last moved first, verifying each on its
   * source unless `verify: false`. Resumable: an interrupted rollback picks up where it stood.
   */
  async rollback(options: RollbackOptions = {}): Promise<MigrationOutcome> {
    this.begin('rollback')
    try {
      const migration = this.journal.requireMigration(this.migrationId)
      if (migration.state === 'rolled-back') return this.outcome()
      const verify = options.verify ?? true
      const { parameters } = migration
      this.takeLock(migration)
      const rate = options.rate !== undefined ? rateFrom(options.rate) : verify ? rateFrom(parameters.rate) : null
      this.gate = new RateGate(this.clock, { rate, maxInFlight: options.maxInFlight ?? parameters.maxInFlight })
      this.calls.timeoutMs = options.timeoutMs ?? parameters.timeoutMs
      this.calls.verifyIntervalMs = parameters.verifyIntervalMs
      this.probeIntervalMs = parameters.probeIntervalMs
      this.verifyOnRollback = verify
      const candidates = this.journal.steps(this.migrationId).filter(needsRollback).reverse()
      this.journal.setMigrationState(this.migrationId, 'rolling-back', {
        pausedBy: null,
        error: null,
        event: { type: 'rollback-started', steps: candidates.length, verify },
      })
      this.startTimers()
      for (const step of candidates) {
        const ticket = await this.admit()
        if (!ticket) break
        this.launch(ticket, step, () => this.rollbackStep(step))
      }
      await this.drain()
      this.throwIfBroken()
      const left = this.journal.steps(this.migrationId).filter(needsRollback)
      if (left.length === 0) {
        this.journal.setMigrationState(this.migrationId, 'rolled-back', {
          pausedBy: null,
          event: { type: 'rolled-back', steps: candidates.length, failed: 0 },
        })
      } else if (!this.stopRequest && !this.paused) {
        this.journal.setMigrationState(this.migrationId, 'rolling-back', {
          error: `${left.length} app${left.length === 1 ? '' : 's'} could not be rolled back; run the rollback again`,
        })
      }
      return this.outcome()
    } catch (error) {
      throw error instanceof LeaseLostError ? new LockLostError(this.migrationId) : error
    } finally {
      this.end()
    }
  }

  // ---- control: in this process, or through the journal from another (see controlMigration) ----

  /** No new step starts until resume(); the steps in flight finish. */
  pause(by = 'operator'): void {
    this.requireActive('pause')
    if (this.paused && this.pausedBy === by) return
    this.paused = true
    this.pausedBy = by
    this.journal.setMigrationState(this.migrationId, this.mode === 'rollback' ? 'rolling-back' : 'paused', {
      pausedBy: by,
      event: { type: 'paused', by },
    })
    this.signal()
  }

  resume(by = 'operator'): void {
    this.requireActive('resume')
    if (!this.paused || this.stopRequest) return
    if (this.pausedBy === 'canary') {
      this.canaryTimer?.cancel()
      this.journal.confirmCanary(this.migrationId)
    }
    this.paused = false
    this.pausedBy = null
    this.journal.setMigrationState(this.migrationId, this.mode === 'rollback' ? 'rolling-back' : 'running', {
      pausedBy: null,
      event: { type: 'resumed', by },
    })
    this.signal()
  }

  /** Starts no further step; once the steps in flight settle the migration is aborted (it can be rolled back). */
  abort(by = 'operator'): void {
    this.requireActive('abort')
    if (this.stopRequest?.kind !== 'fatal' && this.stopRequest?.kind !== 'lock-lost') {
      this.stopRequest = { kind: 'abort', by }
    }
    this.signal()
  }

  /** Ctrl-C: pauses, lets the steps in flight finish, and returns from run() with the migration paused. */
  interrupt(by = 'interrupt'): void {
    this.requireActive('interrupt')
    if (!this.paused) this.pause(by)
    this.stopRequest ??= { kind: 'interrupt', by }
    // Steps waiting for a CC that does not answer would hold the stop for as long as --outage-wait.
    if (this.outage.down) this.outage.abandon(`interrupted while the CC did not answer`)
    this.signal()
  }

  /** Changes the pace live (and in the journal, so a resumed run keeps it); null lifts the limit. */
  setRate(rate: Rate | string | null): void {
    const parsed = rateFrom(rate)
    this.gate?.setRate(parsed)
    const migration = this.journal.updateParameters(this.migrationId, { rate: parsed?.text ?? null })
    this.record({ type: 'rate-changed', rate: parsed?.text ?? null, maxInFlight: migration.parameters.maxInFlight })
  }

  setMaxInFlight(maxInFlight: number): void {
    this.gate?.setMaxInFlight(maxInFlight)
    const migration = this.journal.updateParameters(this.migrationId, { maxInFlight })
    this.record({ type: 'rate-changed', rate: migration.parameters.rate, maxInFlight })
  }

  /** For live views: counts, the pace now against its limit, and the time left at that pace. */
  progress(): MigrationProgress {
    const migration = this.journal.requireMigration(this.migrationId)
    const steps = this.journal.stepCounts(this.migrationId)
    const total = Object.values(steps).reduce((sum, n) => sum + n, 0)
    const rate = this.gate ? this.gate.rate : rateFrom(migration.parameters.rate)
    const maxInFlight = this.gate?.maxInFlight ?? migration.parameters.maxInFlight
    const left = steps.pending + steps.flipping + steps.verifying
    return {
      migrationId: this.migrationId,
      state: migration.state,
      pausedBy: migration.pausedBy,
      total,
      steps,
      inFlight: this.gate?.inFlight ?? 0,
      maxInFlight,
      rate: rate?.text ?? null,
      startsInLastPeriod: this.gate?.startsWithin() ?? 0,
      // At the pace this run has shown so far, once it has shown one; until then, the plan's estimate.
      etaMs: expectedDuration(
        { apps: left, started: left },
        {
          rate,
          maxInFlight,
          stepEstimateMs: this.verifiedSteps > 0 ? this.verifiedStepMs / this.verifiedSteps : undefined,
        },
      ),
    }
  }

  // ---- the forward run ----

  /**
   * Passes over the plan until it is through. A pass that the journal's outage cut short (see
   * journalUnreachable) is followed, once the journal answers again, by another: it takes up the steps the
   * outage left in doubt (reading the CC, as after a crash) and the pending ones, so none is lost or flipped twice.
   */
  private async migrate(migration: MigrationRecord): Promise<void> {
    for (;;) {
      await this.migratePass(migration)
      if (this.outageSince === undefined || this.stopRequest) return
      await this.waitForJournal()
      if (this.stopRequest) return
      migration = this.journal.requireMigration(this.migrationId)
    }
  }

  private async migratePass(migration: MigrationRecord): Promise<void> {
    const steps = this.journal.steps(this.migrationId)
    // Steps a crashed run left in flight go first; the rate already counted them, the in-flight limit still holds.
    for (const step of steps.filter((s) => IN_DOUBT.includes(s.state))) {
      const ticket = await this.gate!.acquire({ rateLimited: false })
      this.launch(ticket!, step, () => this.recoverStep(step))
    }
    // Steps that failed only because the CC did not answer: tried again, from a read of the CC.
    for (const step of steps.filter(failedForWantOfAnswer)) {
      const ticket = await this.admit()
      if (!ticket) break
      this.launch(ticket, step, () => this.retryStep(step))
    }
    let holdForCanary =
      migration.parameters.canary > 0 &&
      migration.canaryConfirmedAt === null &&
      steps.some((s) => !s.canary && s.state === 'pending')
    for (const step of steps.filter((s) => s.state === 'pending')) {
      if (holdForCanary && !step.canary) {
        holdForCanary = false
        await this.drain()
        if (this.stopRequest) break
        this.holdAfterCanary(migration.parameters.canaryWaitMs)
      }
      const ticket = await this.admit()
      if (!ticket) break
      this.launch(ticket, step, () => this.migrateStep(step))
    }
    await this.drain()
  }

  private finishMigration(): MigrationOutcome {
    this.throwIfBroken()
    const counts = this.journal.stepCounts(this.migrationId)
    const unsettled = counts.pending + counts.flipping + counts.verifying + counts['rolling-back']
    if (unsettled > 0) {
      if (this.stopRequest?.kind === 'abort') {
        this.journal.setMigrationState(this.migrationId, 'aborted', {
          pausedBy: null,
          event: { type: 'aborted', by: this.stopRequest.by, pending: counts.pending },
        })
      }
      // An interrupt, the failure threshold or the CC's outage has already left it paused; steps left in
      // doubt with nothing else stopping the run pause it here, so that a resume reads the CC for them.
      else if (!this.paused) this.pause('in-doubt')
    } else if (this.stopRequest?.kind === 'foreign') {
      // Every step settled, but someone else changed flags meanwhile: it stays paused for the operator to
      // look (the summary names them); a resume completes it, or a rollback puts back what it moved.
    } else if (counts.failed > 0) {
      this.journal.setMigrationState(this.migrationId, 'failed', {
        pausedBy: null,
        event: { type: 'failed', done: counts.done, failed: counts.failed },
      })
    } else {
      const skipped = this.journal.steps(this.migrationId, { states: ['done'] }).filter((s) => !s.flipped).length
      this.journal.setMigrationState(this.migrationId, 'completed', {
        pausedBy: null,
        event: { type: 'completed', done: counts.done, failed: 0, skipped },
      })
    }
    return this.outcome()
  }

  private holdAfterCanary(waitMs: number | null): void {
    const failed = this.journal.steps(this.migrationId).some((s) => s.canary && s.state === 'failed')
    this.pause('canary')
    // A failed canary waits for an operator whatever --canary-wait says.
    if (waitMs === null || failed) return
    this.canaryTimer = this.clock.after(waitMs, () => {
      if (this.paused && this.pausedBy === 'canary' && !this.stopRequest) this.guard(() => this.resume('canary-wait'))
    })
  }

  private async migrateStep(planned: StepRecord): Promise<void> {
    const startedAt = this.clock.now()
    const step = this.journal.transitionStep(
      this.migrationId,
      planned.position,
      'flipping',
      {},
      { type: 'step-started', attempt: 1, ...ref(planned) },
    )
    await this.moveApp(step, startedAt, false)
  }

  /** From flipping: read the app, flip it unless the flag is already set, then verify. */
  private async moveApp(step: StepRecord, startedAt: number, recovering: boolean): Promise<void> {
    let app: PortApp
    try {
      app = await this.calls.readApp(step.appGuid)
    } catch (error) {
      if (error instanceof StepInDoubt) throw error
      const message = `could not read the app: ${describeError(error)}`
      // After a crash the flag may have been set before the read failed; the rollback path finds out.
      if (recovering) return this.restoreApp(this.toRollingBack(step, message, true), message, { auto: true })
      this.failStep(step, message, { flipped: false, restored: true })
      return
    }
    if (app.unstaged && this.unstagedPolicy === 'skip' && app.diego !== step.targetDiego) {
      this.skipUnstaged(step, app.unstaged)
      return
    }
    // Moved by its flag alone (--unstaged move): nothing of it runs anywhere until it stages.
    const unstagedMove = app.unstaged ? unstagedNote('move', app.unstaged) : undefined
    const monitor = this.watch(step, app)
    let justFlipped = false
    try {
      if (app.diego === step.targetDiego) {
        // Found set: after a crash it was this migration's flip; on a fresh step someone was first (it was
        // not on its target when planned): another operator at work, most likely, so the run stops starting
        // apps, as for a flip seen in the CC's events, unless a resume was the operator's word on this one.
        const how = recovering ? 'reconciled' : 'already'
        if (!recovering && !this.foreignReported(step.appGuid)) {
          this.record({ type: 'foreign-flip', diego: app.diego, by: null, ...ref(step) })
          this.stopForForeignFlips()
        }
        step = this.journal.transitionStep(
          this.migrationId,
          step.position,
          'verifying',
          {
            flipped: recovering,
            note: unstagedMove ?? (recovering ? null : `already on ${backendOf(step.targetDiego)}`),
          },
          { type: 'step-flipped', diego: step.targetDiego, how, ...ref(step) },
        )
      } else {
        const change = await this.calls.setFlag(step.appGuid, step.targetDiego)
        if (change.kind === 'not-set') {
          this.failStep(step, change.error, { flipped: false, restored: true, attempts: change.attempts })
          return
        }
        if (change.kind === 'unknown') {
          const rollingBack = this.toRollingBack(step, change.error, true, change.attempts)
          await this.restoreApp(rollingBack, change.error, { auto: true, monitor })
          return
        }
        step = this.journal.transitionStep(
          this.migrationId,
          step.position,
          'verifying',
          { flipped: true, attempts: change.attempts, ...(unstagedMove ? { note: unstagedMove } : {}) },
          { type: 'step-flipped', diego: step.targetDiego, how: 'flipped', ...ref(step) },
        )
        justFlipped = true
      }
      await this.verifyMove(step, app, startedAt, monitor, justFlipped)
    } finally {
      monitor?.stop()
    }
  }

  private async verifyMove(
    step: StepRecord,
    app: PortApp,
    startedAt: number,
    monitor: RoutabilityMonitor | undefined,
    justFlipped = false,
  ): Promise<void> {
    const verdict = await this.calls.verifyApp(step.appGuid, app, step.targetDiego, monitor, justFlipped)
    if (verdict.ok) {
      if (app.state === 'STARTED') {
        this.verifiedStepMs += this.clock.now() - startedAt
        this.verifiedSteps++
      }
      // An app with no route answers no probe: its instances alone verified it, and the summary says so.
      const unrouted = app.state === 'STARTED' && app.instances > 0 && !app.unstaged && !(await this.routed(step))
      this.journal.transitionStep(this.migrationId, step.position, 'done', unrouted ? { note: NO_ROUTE_NOTE } : {}, {
        type: 'step-verified',
        ms: this.clock.now() - startedAt,
        ...(unrouted ? { noRoute: true } : {}),
        ...ref(step),
      })
      return
    }
    await this.restoreApp(this.toRollingBack(step, verdict.error, true), verdict.error, { auto: true, monitor })
  }

  /** A step that failed for want of an answer from the CC: flipping again, then as after a crash. */
  private async retryStep(failed: StepRecord): Promise<void> {
    const step = this.journal.transitionStep(
      this.migrationId,
      failed.position,
      'flipping',
      { error: null },
      { type: 'step-retried', previousError: failed.error ?? '', ...ref(failed) },
    )
    await this.moveApp(step, this.clock.now(), true)
  }

  /** A step a crashed run left in flight: read the CC, and carry on from what it says. */
  private async recoverStep(step: StepRecord): Promise<void> {
    const startedAt = this.clock.now()
    if (step.state === 'flipping') return this.moveApp(step, startedAt, true)
    if (step.state === 'rolling-back') {
      return this.restoreApp(step, step.error ?? 'interrupted while being put back', { auto: true })
    }
    let app: PortApp
    try {
      app = await this.calls.readApp(step.appGuid)
    } catch (error) {
      if (error instanceof StepInDoubt) throw error
      const message = `could not read the app: ${describeError(error)}`
      return this.restoreApp(this.toRollingBack(step, message, true), message, { auto: true })
    }
    if (app.diego !== step.targetDiego) {
      const message = `its flag was set back to ${backendOf(app.diego)} outside this migration while it was verified`
      this.failStep(step, message, { flipped: false, restored: true })
      return
    }
    const monitor = this.watch(step, app)
    try {
      await this.verifyMove(step, app, startedAt, monitor)
    } finally {
      monitor?.stop()
    }
  }

  /** Whether the app has a route to probe; when the port cannot tell, it is taken to have one. */
  private async routed(step: StepRecord): Promise<boolean> {
    if (!this.port.hasRoute) return true
    return this.port.hasRoute(step.appGuid).catch(() => true)
  }

  /** An app that is not staged, left where it is: done without a flip, never a failure. */
  private skipUnstaged(step: StepRecord, unstaged: Unstaged): void {
    const verifying = this.journal.transitionStep(
      this.migrationId,
      step.position,
      'verifying',
      { flipped: false, note: unstagedNote('skip', unstaged) },
      { type: 'step-skipped', reason: unstaged.reason, errorCode: unstaged.errorCode, ...ref(step) },
    )
    this.journal.transitionStep(this.migrationId, verifying.position, 'done')
  }

  private failStep(
    step: StepRecord,
    error: string,
    how: { flipped: boolean; restored: boolean; attempts?: number },
  ): void {
    this.journal.transitionStep(
      this.migrationId,
      step.position,
      'failed',
      { error, flipped: how.flipped, attempts: how.attempts ?? 0 },
      { type: 'step-failed', error, restored: how.restored, phase: 'migrate', ...ref(step) },
    )
    this.countFailure()
  }

  private countFailure(): void {
    this.failures++
    if (this.failures > this.failureLimit && !this.stopRequest) {
      this.pause('failure-threshold')
      this.stopRequest = { kind: 'failure-threshold', by: 'failure-threshold' }
      this.signal()
    }
  }

  // ---- the way back, for one app (auto) or for the whole migration ----

  private toRollingBack(step: StepRecord, reason: string, auto: boolean, attempts = 0): StepRecord {
    return this.journal.transitionStep(
      this.migrationId,
      step.position,
      'rolling-back',
      auto ? { error: reason, attempts } : {},
      {
        type: 'step-rolling-back',
        reason,
        auto,
        ...ref(step),
      },
    )
  }

  private async rollbackStep(candidate: StepRecord): Promise<void> {
    const step =
      candidate.state === 'rolling-back'
        ? candidate
        : this.toRollingBack(candidate, 'the migration is rolled back', false)
    await this.restoreApp(step, 'the migration is rolled back', { auto: false })
  }

  /**
   * From rolling-back: sets the flag back unless the CC shows it back already, verifies the app on its
   * source (unless an emergency rollback), and settles the step: failed (auto) or rolled-back.
   */
  private async restoreApp(
    step: StepRecord,
    reason: string,
    options: { auto: boolean; monitor?: RoutabilityMonitor | undefined },
  ): Promise<void> {
    const { auto } = options
    const verify = auto || this.verifyOnRollback
    let app: PortApp
    try {
      app = await this.calls.readApp(step.appGuid)
    } catch (error) {
      if (error instanceof StepInDoubt) throw error
      const message = `could not read the app: ${describeError(error)}`
      return this.restoreFailed(step, reason, message, { auto, flipped: 'unknown' })
    }
    const monitor = options.monitor ?? (verify ? this.watch(step, app) : undefined)
    try {
      const flipBack = app.diego !== step.originalDiego
      if (flipBack) {
        const change = await this.calls.setFlag(step.appGuid, step.originalDiego)
        // not-set follows a read that showed the flag still moved; unknown, a read that failed.
        if (change.kind !== 'set') {
          const flipped = change.kind === 'not-set' ? true : 'unknown'
          return this.restoreFailed(step, reason, change.error, { auto, flipped })
        }
      }
      const verdict = verify
        ? await this.calls.verifyApp(step.appGuid, app, step.originalDiego, monitor, flipBack)
        : undefined
      const unhealthy = verdict && !verdict.ok ? verdict.error : undefined
      const rolledBack: MigrationEventBody = {
        type: 'step-rolled-back',
        diego: step.originalDiego,
        verified: verdict?.ok ?? false,
        auto,
        ...ref(step),
      }
      if (auto) {
        this.record(rolledBack)
        const error = unhealthy ? `${reason}; back on ${backendOf(step.originalDiego)} but ${unhealthy}` : reason
        this.journal.transitionStep(
          this.migrationId,
          step.position,
          'failed',
          { error, flipped: false },
          { type: 'step-failed', error, restored: true, phase: 'migrate', ...ref(step) },
        )
        this.countFailure()
      } else {
        this.journal.transitionStep(
          this.migrationId,
          step.position,
          'rolled-back',
          {
            flipped: false,
            error: unhealthy ? `back on ${backendOf(step.originalDiego)} but ${unhealthy}` : undefined,
          },
          rolledBack,
        )
      }
    } finally {
      if (!options.monitor) monitor?.stop()
    }
  }

  /**
   * Putting the app back did not work. The journal says it is still moved only when a read of the CC showed
   * it so (`flipped: true`); when no read could tell, the step stays rolling-back, in doubt, and the next
   * resume or rollback reads the CC again.
   */
  private restoreFailed(
    step: StepRecord,
    reason: string,
    error: string,
    how: { auto: boolean; flipped: true | 'unknown' },
  ): void {
    const { auto } = how
    if (auto && how.flipped === 'unknown') {
      const message = `${reason}; putting it back failed, its flag is not known: ${error}`
      this.journal.updateStep(
        this.migrationId,
        step.position,
        { error: message },
        { type: 'step-in-doubt', reason: message, ...ref(step) },
      )
      this.countFailure()
      return
    }
    if (auto) {
      const message = `${reason}; putting it back failed: ${error}`
      this.journal.transitionStep(
        this.migrationId,
        step.position,
        'failed',
        { error: message, flipped: true },
        { type: 'step-failed', error: message, restored: false, phase: 'migrate', ...ref(step) },
      )
      this.countFailure()
      return
    }
    // Stays rolling-back, so running the rollback again retries it.
    this.journal.updateStep(
      this.migrationId,
      step.position,
      { error },
      { type: 'step-failed', error, restored: false, phase: 'rollback', ...ref(step) },
    )
  }

  // ---- talking to the foundation ----

  private watch(step: StepRecord, app: PortApp): RoutabilityMonitor | undefined {
    if (app.state !== 'STARTED' || app.instances === 0) return undefined
    const monitor = new RoutabilityMonitor(
      this.clock,
      () => this.port.probe(step.appGuid),
      this.probeIntervalMs,
      (gap) => this.guard(() => this.record({ type: 'gap', appGuid: step.appGuid, appName: step.appName, ...gap })),
    )
    monitor.start()
    return monitor
  }

  // ---- admission: pause, pause file, stop, and the gate ----

  /** A ticket for the next step, or null when the run is stopping. Holds while paused. */
  private async admit(): Promise<GateTicket | null> {
    for (;;) {
      if (this.stopRequest || this.outageSince !== undefined) return null
      this.checkPauseFile()
      if (this.paused) {
        if (this.unattended && this.waitsForPerson()) {
          this.stopRequest = { kind: 'unattended-pause', by: this.pausedBy ?? 'operator' }
          return null
        }
        await this.waitForChange(this.pausedBy === 'pause-file' ? this.pauseFilePollMs : this.controlPollMs)
        continue
      }
      // No new app while the CC does not answer; the first answer wakes this.
      if (this.outage.down) {
        await this.waitForChange(this.controlPollMs)
        continue
      }
      const controller = new AbortController()
      const wake = () => controller.abort()
      this.changeWaiters.push(wake)
      const ticket = await this.gate!.acquire({ signal: controller.signal })
      removeItem(this.changeWaiters, wake)
      if (!ticket) continue
      if (this.stopRequest || this.paused || this.outage.down || this.pauseFilePresent()) {
        ticket.refund()
        continue
      }
      return ticket
    }
  }

  /** The pause lifts only when someone resumes it: not the pause file's, nor a canary's with a wait set. */
  private waitsForPerson(): boolean {
    if (this.pausedBy === 'pause-file') return false
    if (this.pausedBy === 'canary' && this.canaryTimer !== undefined) return false
    return true
  }

  private checkPauseFile(): void {
    if (!this.pauseFile) return
    const present = this.pauseFilePresent()
    if (present && !this.paused) this.pause('pause-file')
    else if (!present && this.paused && this.pausedBy === 'pause-file') this.resume('pause-file')
  }

  private pauseFilePresent(): boolean {
    return this.pauseFile !== null && existsSync(this.pauseFile)
  }

  private launch(ticket: GateTicket, step: StepRecord, work: () => Promise<void>): void {
    const task: Promise<void> = work()
      .catch((error) => {
        if (error instanceof StepInDoubt) {
          this.guard(() => {
            this.leaveInDoubt(step.position, error.message)
            this.stopInDoubt(error)
          })
        } else this.stepError(error)
      })
      .finally(() => {
        ticket.release()
        this.inFlight.delete(task)
      })
    this.inFlight.add(task)
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  /** Resolves on the next control change, or after `ms` (a sleep, so a real clock keeps the process alive). */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.changeWaiters.push(resolve)
      this.clock.sleep(ms).then(resolve)
    })
  }

  private signal(): void {
    const waiters = this.changeWaiters
    this.changeWaiters = []
    for (const wake of waiters) wake()
  }

  // ---- lifecycle, lock, timers ----

  private begin(mode: 'migrate' | 'rollback'): void {
    if (this.mode !== 'idle')
      throw new MigrationStateError(`this runner is already running migration ${this.migrationId}`)
    this.mode = mode
    this.outageSince = undefined
    this.paused = false
    this.pausedBy = null
    this.stopRequest = undefined
    this.fatalError = undefined
    this.failures = 0
    this.failureLimit = Number.POSITIVE_INFINITY
    this.verifyOnRollback = true
    this.outage = new CcOutage({
      clock: this.clock,
      waitMs: this.outageWaitMs,
      onDown: (error) => this.guard(() => this.record({ type: 'cc-unreachable', error })),
      onUp: (downMs) => {
        this.guard(() => this.record({ type: 'cc-answered', downMs }))
        this.signal()
      },
      onExceeded: (message) => this.guard(() => this.stopInDoubt(new OutageExceeded(message))),
    })
    this.calls = new AppCalls({
      probePath: new ProbePath(this.port, this.clock),
      port: this.port,
      clock: this.clock,
      outage: this.outage,
      flipAttempts: this.flipAttempts,
      readAttempts: this.readAttempts,
      retryDelayMs: this.retryDelayMs,
      // A journal that groups its commits may hold the intent still: it must be on disk before the CC acts.
      beforeChange: async (guid) => {
        await this.journal.intentDurable(this.migrationId, guid)
        this.confirmLease()
      },
    })
  }

  /**
   * A step could not be settled without guessing (the CC did not answer for longer than --outage-wait, or
   * the probe path is down): start nothing more, pause, leave the steps in flight in doubt.
   */
  private stopInDoubt(cause: StepInDoubt): void {
    if (this.stopRequest?.kind === 'fatal' || this.stopRequest?.kind === 'lock-lost') return
    if (this.stopRequest?.kind === 'in-doubt') return
    if (cause.pausedBy === PROBE_PATH_DOWN) this.record({ type: 'probe-path-down', detail: cause.message })
    this.pause(cause.pausedBy)
    if (this.stopRequest?.kind !== 'abort') this.stopRequest = { kind: 'in-doubt', by: cause.pausedBy }
    this.signal()
  }

  /** A step whose calls gave up waiting for the CC: it stays as the journal has it, and says so. */
  private leaveInDoubt(position: number, reason: string): void {
    const step = this.journal.step(this.migrationId, position)
    if (!step || !IN_DOUBT.includes(step.state)) return
    this.record({ type: 'step-in-doubt', reason, ...ref(step) })
  }

  private end(): void {
    for (const timer of this.timers) timer.cancel()
    this.timers = []
    this.canaryTimer?.cancel()
    this.canaryTimer = undefined
    if (this.lockTarget !== undefined && this.stopRequest?.kind !== 'lock-lost') {
      try {
        this.journal.releaseLock(this.lockTarget, this.owner.token)
      } catch (error) {
        // A journal that cannot be reached keeps the lease until it goes stale; the error that ended the run says why.
        if (!(error instanceof JournalUnavailableError)) throw error
      }
    }
    this.lockTarget = undefined
    this.mode = 'idle'
    this.signal()
  }

  private takeLock(migration: MigrationRecord): void {
    const acquired = this.journal.acquireLock(migration.target, this.migrationId, this.owner, {
      staleAfterMs: this.lockStaleMs,
      isAlive: this.isAlive,
    })
    this.lockTarget = migration.target
    if (acquired.tookOver) {
      const { previous, reason } = acquired.tookOver
      this.record({
        type: 'lock-taken-over',
        fromPid: previous.pid,
        fromHostname: previous.hostname,
        heartbeatAt: previous.heartbeatAt,
        reason,
      })
    }
  }

  private startTimers(): void {
    const target = this.lockTarget!
    this.timers.push(
      this.clock.every(this.heartbeatMs, () => void this.beat(target)),
      this.clock.every(this.controlPollMs, () => void this.pollControls()),
    )
  }

  // The heartbeat and the look for commands wait for the journal without blocking the steps in flight: on
  // PostgreSQL each is a round trip, and one that blocked would queue behind the group commits on their way.
  private async beat(target: string): Promise<void> {
    if (this.beating) return
    this.beating = true
    let held: boolean
    try {
      held = await this.journal.heartbeatAsync(target, this.owner.token)
    } catch (error) {
      this.guard(() => {
        throw error
      })
      return
    } finally {
      this.beating = false
    }
    if (held || this.mode === 'idle') return
    this.stopRequest = { kind: 'lock-lost', by: 'lock-lost' }
    this.signal()
  }

  private async pollControls(): Promise<void> {
    if (this.pollingControls) return
    this.pollingControls = true
    try {
      if (!(await this.journal.controlsWaiting(this.migrationId))) return
    } catch (error) {
      this.guard(() => {
        throw error
      })
      return
    } finally {
      this.pollingControls = false
    }
    this.guard(() => this.applyControls())
  }

  /**
   * Reads the CC's flag changes now (before any flip of this run) and every foreignPollMs after; a change
   * this migration did not make is recorded and pauses the run: the steps in flight finish, no new one starts.
   */
  private async watchForeignFlips(): Promise<void> {
    if (this.foreignPollMs <= 0 || !this.port.flagEvents) return
    this.foreignWatch = new ForeignFlipWatch(this.journal, this.migrationId, this.port, this.clock)
    await this.pollForeign({ anyApp: true })
    this.timers.push(this.clock.every(this.foreignPollMs, () => void this.pollForeign()))
  }

  private async pollForeign(options: { anyApp?: boolean } = {}): Promise<void> {
    const watch = this.foreignWatch
    if (!watch || this.foreignPolling || this.mode !== 'migrate') return
    this.foreignPolling = true
    let found: ForeignFlip[]
    try {
      found = await watch.poll(options)
    } catch {
      // No events (an outage, a CC that does not show them to this user): the flags read back still tell.
      return
    } finally {
      this.foreignPolling = false
    }
    if (found.length === 0 || this.mode !== 'migrate') return
    this.guard(() => {
      for (const flip of found) {
        const { appGuid, appName, position, diego, by, eventId } = flip
        this.record({ type: 'foreign-flip', appGuid, appName, position, diego, by, eventId })
      }
      this.stopForForeignFlips()
    })
  }

  /** A change this migration did not make: no new step starts, and the run ends paused (exit 3). */
  private stopForForeignFlips(): void {
    if (this.stopRequest) return
    this.pause(FOREIGN_FLIPS)
    this.stopRequest = { kind: 'foreign', by: FOREIGN_FLIPS }
    this.signal()
  }

  /** Whether this migration has recorded a change of the app's flag by someone else already. */
  private foreignReported(appGuid: string): boolean {
    return this.journal.events(this.migrationId).some((e) => e.type === 'foreign-flip' && e.appGuid === appGuid)
  }

  private applyControls(): void {
    for (const { command } of this.journal.takeControls(this.migrationId)) {
      switch (command.type) {
        case 'pause':
          this.pause(command.by)
          break
        case 'resume':
          this.resume(command.by)
          break
        case 'abort':
          this.abort(command.by)
          break
        case 'set-rate':
          this.setRate(command.rate)
          break
        case 'set-max-in-flight':
          this.setMaxInFlight(command.maxInFlight)
          break
      }
    }
  }

  /** Runs work from a timer; an error there stops the run like one in a step. */
  private guard(work: () => void): void {
    if (this.mode === 'idle') return
    try {
      work()
    } catch (error) {
      this.stepError(error)
    }
  }

  private stepError(error: unknown): void {
    if (error instanceof LeaseLostError) this.loseLease()
    else if (error instanceof JournalUnavailableError && this.mode === 'migrate') this.journalUnreachable()
    else this.breakRun(error)
  }

  /**
   * The journal's database cannot be reached (a shared journal whose server is down or cut off). No app
   * starts; the steps in flight go on until their next write, which fails too, and are left as the journal
   * last recorded them (flipping, verifying): in doubt. A write that failed recorded nothing, so an app whose
   * intent did not reach the journal was not flipped. Once the journal answers, the run takes them up again.
   */
  private journalUnreachable(): void {
    if (this.outageSince !== undefined) return
    this.outageSince = this.clock.now()
    this.signal()
  }

  /** Until the journal answers a heartbeat again (or the lease turns out lost, or the run is stopped). */
  private async waitForJournal(): Promise<void> {
    while (!this.stopRequest) {
      await this.waitForChange(this.controlPollMs)
      if (this.stopRequest) return
      let held: boolean
      try {
        held = this.journal.heartbeat(this.lockTarget!, this.owner.token)
      } catch (error) {
        if (error instanceof JournalUnavailableError) continue
        throw error
      }
      if (!held) {
        this.loseLease()
        return
      }
      const downMs = this.clock.now() - this.outageSince!
      this.outageSince = undefined
      this.record({ type: 'journal-reconnected', downMs })
      return
    }
  }

  /** The journal refused a write: another runner holds the lease now. Start nothing, touch the CC no more. */
  private loseLease(): void {
    if (this.stopRequest?.kind !== 'fatal') this.stopRequest = { kind: 'lock-lost', by: 'lock-lost' }
    this.signal()
  }

  /**
   * Right before a PUT: the intent just written passed the lease's fence, but if this process was frozen
   * (SIGSTOP, a paused VM) since, the lease may have been taken over meanwhile. Unless the journal saw the
   * lease held within the last LEASE_RECHECK_MS (the commit of the intent, usually: a takeover needs a lease
   * 30 s stale), one read of the lease row tells (LeaseLostError if lost); only the PUT's own flight is left
   * to chance. A read per PUT, on a journal across the network, was a round trip per app for nothing.
   */
  private confirmLease(): void {
    if (this.stopRequest?.kind === 'lock-lost') throw new LeaseLostError(this.migrationId, -1, undefined)
    if (this.journal.leaseConfirmedWithin(this.migrationId, LEASE_RECHECK_MS)) return
    this.journal.checkLease(this.migrationId)
  }

  /** An error no step can absorb (the journal failed): stop starting steps and rethrow from run(). */
  private breakRun(error: unknown): void {
    this.fatalError ??= error
    this.stopRequest = { kind: 'fatal', by: 'error' }
    this.signal()
  }

  private throwIfBroken(): void {
    if (this.fatalError !== undefined) throw this.fatalError
    if (this.stopRequest?.kind === 'lock-lost') throw new LockLostError(this.migrationId)
  }

  private requireActive(what: string): void {
    if (this.mode === 'idle') {
      throw new MigrationStateError(
        `cannot ${what} migration ${this.migrationId}: this runner is not running it`,
        'use controlMigration() to leave the command for the process that runs it',
      )
    }
  }

  private record(body: MigrationEventBody): void {
    this.journal.appendEvent(this.migrationId, body)
  }

  private outcome(): MigrationOutcome {
    return migrationOutcome(this.journal, this.migrationId)
  }
}

function needsRollback(step: StepRecord): boolean {
  switch (step.state) {
    case 'done':
    case 'failed':
      return step.flipped
    case 'flipping':
    case 'verifying':
    case 'rolling-back':
      return true
    default:
      return false
  }
}

function removeItem<T>(list: T[], item: T): void {
  const at = list.indexOf(item)
  if (at >= 0) list.splice(at, 1)
}

function ref(step: StepRecord): { appGuid: string; appName: string; position: number } {
  return { appGuid: step.appGuid, appName: step.appName, position: step.position }
}

function backendOf(diego: boolean): Backend {
  return diego ? 'diego' : 'dea'
}
