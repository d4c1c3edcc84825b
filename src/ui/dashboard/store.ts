// The dashboard's one source of data: it polls the target (apps and capacity, every few seconds, never two
// polls at once), follows the watched migration through the journal (its events by sequence number, so a
// migration run by another cfctl is followed as well as one in this process), lists the journal's
// migrations, and publishes an immutable DashboardSnapshot at most once a frame (100 ms).
//
// The runner is never held up: a journal listener only schedules a read; reading, folding events and
// building the snapshot happen later on a timer of the injected Clock.
import type { Clock, Timer } from '../../clock.js'
import { UserError } from '../../core/errors.js'
import type { JournalEvent } from '../../core/journal/events.js'
import type { Journal } from '../../core/journal/journal.js'
import { type MigrationRecord, STEP_STATES, type StepState } from '../../core/journal/types.js'
import type { ControlAction, ControlResult, MigrationControl } from './control.js'
import { EMPTY_FLEET } from './fleet.js'
import { type FleetSource, type StepsSource, stepsSourceOf } from './fleet-source.js'
import {
  type AppsView,
  type BackendsView,
  backendsOf,
  type DashboardSnapshot,
  describeEvent,
  type FailureView,
  type FleetEntry,
  type GapView,
  isActive,
  type LogLine,
  type MigrationView,
  type StepStatus,
} from './model.js'
import { paceHorizonMs, paceOf } from './pace.js'
import { plainStatus, stepMapOf } from './steps.js'

export interface StoreOptions {
  journal: Journal
  /** The CC's URL: the store watches this target's running migration. */
  target: string
  clock: Clock
  control: MigrationControl
  source?: FleetSource
  /** Where a migration's step states are read (default: this journal, on this thread). */
  steps?: StepsSource
  /** Watch this migration rather than the target's running one. */
  migrationId?: string
  /** The shortest time between two snapshots (default 100 ms: at most 10 frames a second). */
  frameMs?: number
  /** How often the journal is read for what another process wrote. */
  journalPollMs?: number
  /** The shortest time between two polls of the apps; a slow poll waits five times its own length. */
  appsPollMs?: number
  fleetPollMs?: number
}

/** Events read from the journal in one go; more wait for the next turn, so a long history does not stall. */
const EVENT_PAGE = 2_000
const LOG_LINES = 300
const GAPS_KEPT = 200
const FAILURES_KEPT = 100
const FLEET_SHOWN = 100
const COUNTS_EVERY_MS = 250
const EMPTY_COUNTS = Object.fromEntries(STEP_STATES.map((s) => [s, 0])) as Record<StepState, number>

type Listener = () => void

export class DashboardStore {
  private readonly journal: Journal
  private readonly target: string
  private readonly clock: Clock
  private readonly control: MigrationControl
  private readonly source: FleetSource | undefined
  private readonly stepsSource: StepsSource
  private readonly frameMs: number
  private readonly journalPollMs: number
  private readonly appsPollMs: number
  private readonly fleetPollMs: number

  private readonly listeners = new Set<Listener>()
  private timers: Timer[] = []
  private unsubscribe: (() => void) | undefined
  private started = false
  private stopped = false

  // The target
  private apps: AppsView = { fleet: EMPTY_FLEET, version: 0, loadedAt: undefined, error: undefined }
  private backends: BackendsView | undefined
  private appsTimer: Timer | undefined
  private firstPoll: Promise<void> | undefined

  // The watched migration
  private watchedId: string | undefined
  /** Chosen by the operator (or the caller): the store does not switch to another on its own. */
  private pinned = false
  private record: MigrationRecord | undefined
  private counts: Record<StepState, number> = EMPTY_COUNTS
  private countsAt = Number.NEGATIVE_INFINITY
  private countsStale = true
  private afterSeq = 0
  private caughtUp = false
  private byGuid = new Map<string, StepStatus>()
  private stepsLoaded = false
  /** Step events heard while the states are read, applied once they are in. */
  private stepsWhileLoading: Array<[string, StepStatus]> | undefined
  private stepsRetryAt = Number.NEGATIVE_INFINITY
  private stepsVersion = 0
  private starts: number[] = []
  private log: LogLine[] = []
  private gaps: GapView[] = []
  private gapCount = 0
  private longestGapMs = 0
  private failures: FailureView[] = []

  private fleet: FleetEntry[] = []
  private notice: DashboardSnapshot['notice']

  // Publishing
  private snapshot: DashboardSnapshot
  private publishTimer: Timer | undefined
  private readTimer: Timer | undefined
  private lastPublishAt = Number.NEGATIVE_INFINITY

  constructor(options: StoreOptions) {
    this.journal = options.journal
    this.target = options.target
    this.clock = options.clock
    this.control = options.control
    this.source = options.source
    this.stepsSource = options.steps ?? stepsSourceOf(options.journal)
    this.frameMs = options.frameMs ?? 100
    this.journalPollMs = options.journalPollMs ?? 500
    this.appsPollMs = options.appsPollMs ?? 5_000
    this.fleetPollMs = options.fleetPollMs ?? 2_000
    if (options.migrationId !== undefined) {
      this.journal.requireMigration(options.migrationId)
      this.watchedId = options.migrationId
      this.pinned = true
    }
    this.snapshot = this.build()
  }

  /** Reads what is there now and starts polling. */
  start(): void {
    if (this.started) return
    this.started = true
    this.unsubscribe = this.journal.subscribe((event) => {
      if (event.migrationId === this.watchedId) this.scheduleRead()
    })
    this.control.onFinish((result) => this.setNotice(result))
    this.readFleet()
    this.readJournal()
    this.timers.push(
      this.clock.every(this.journalPollMs, () => this.readJournal()),
      this.clock.every(this.fleetPollMs, () => this.readFleet()),
    )
    if (this.source) this.firstPoll = this.pollApps()
    this.publish()
  }

  /** Resolves once the first poll of the apps has ended (read or failed). */
  async loaded(): Promise<void> {
    await this.firstPoll
  }

  /** A snapshot of this moment, outside the frame rhythm (for the plain-text snapshot). */
  snapshotNow(): DashboardSnapshot {
    this.snapshot = this.build()
    return this.snapshot
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers) timer.cancel()
    this.timers = []
    this.appsTimer?.cancel()
    this.publishTimer?.cancel()
    this.readTimer?.cancel()
    void this.source?.close?.()
    this.unsubscribe?.()
    this.listeners.clear()
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getSnapshot = (): DashboardSnapshot => this.snapshot

  /** Watches another migration (the operator picked it in the fleet view). */
  watch(migrationId: string): void {
    this.pinned = true
    if (migrationId === this.watchedId) return
    this.switchTo(migrationId)
    this.readJournal()
    this.publish()
  }

  /** Runs a control key on the watched migration; the outcome becomes the notice. */
  async act(action: ControlAction): Promise<ControlResult> {
    const id = this.watchedId
    let result: ControlResult
    if (!id) result = { text: 'no migration to control: :migrations lists the journal', tone: 'warn' }
    else {
      try {
        result = await this.control.apply(id, action)
      } catch (error) {
        result = { text: errorLine(error), tone: 'bad' }
      }
    }
    if (!this.stopped) {
      this.setNotice(result)
      this.readJournal()
      this.readFleet()
    }
    return result
  }

  /** Polls the apps now rather than at the next turn. */
  refreshApps(): Promise<void> {
    this.appsTimer?.cancel()
    return this.pollApps()
  }

  // ---- the target ----

  private async pollApps(): Promise<void> {
    const source = this.source
    if (!source || this.stopped) return
    const began = this.clock.now()
    try {
      const { fleet, capacity } = await source.poll()
      if (this.stopped) return
      this.apps = {
        fleet,
        version: this.apps.version + 1,
        loadedAt: this.clock.now(),
        error: undefined,
      }
      this.backends = backendsOf(fleet, capacity)
    } catch (error) {
      if (this.stopped) return
      this.apps = { ...this.apps, error: errorLine(error) }
    }
    this.appsTimer = this.clock.after(
      nextPollAfter(this.appsPollMs, this.clock.now() - began, this.apps.fleet.size),
      () => void this.pollApps(),
    )
    this.schedulePublish()
  }

  // ---- the journal ----

  private readFleet(): void {
    if (this.stopped) return
    const migrations = this.journal.migrations()
    const fleet = migrations.slice(0, FLEET_SHOWN).map((m) => {
      const counts = m.id === this.watchedId ? this.counts : this.journal.stepCounts(m.id)
      return {
        id: m.id,
        target: m.target,
        to: m.to,
        state: m.state,
        pausedBy: m.pausedBy,
        total: total(counts),
        done: counts.done,
        failed: counts.failed,
        inFlight: counts.flipping + counts.verifying + counts['rolling-back'],
        pending: counts.pending,
        updatedAt: m.updatedAt,
      }
    })
    const changed = !sameFleet(fleet, this.fleet)
    if (changed) this.fleet = fleet
    if (!this.pinned) {
      // The migration a cfctl runs on the target (it holds the target's lock); failing that, one that ran
      // and stopped unfinished; failing that, the latest that ran, so a finished one still shows how it
      // ended. A `planned` record never ran (nobody may have confirmed it) and is never picked on its own.
      const watched = migrations.find((m) => m.id === this.watchedId)
      const ours = migrations.filter((m) => m.target === this.target && m.state !== 'planned')
      const lock = this.journal.lock(this.target)
      const holder = lock ? ours.find((m) => m.id === lock.migrationId) : undefined
      const pick = holder ?? ours.find((m) => isActive(m.state)) ?? ours[0]
      const keep = watched && isActive(watched.state) && watched.state !== 'planned' && (!holder || holder === watched)
      if (pick && pick.id !== this.watchedId && !keep) {
        this.switchTo(pick.id)
        this.readJournal()
      }
    }
    if (changed) this.schedulePublish()
  }

  private switchTo(migrationId: string): void {
    this.watchedId = migrationId
    this.record = undefined
    this.counts = EMPTY_COUNTS
    this.countsAt = Number.NEGATIVE_INFINITY
    this.countsStale = true
    this.afterSeq = 0
    this.caughtUp = false
    this.byGuid = new Map()
    this.stepsLoaded = false
    this.stepsWhileLoading = undefined
    this.stepsRetryAt = Number.NEGATIVE_INFINITY
    this.stepsVersion++
    this.starts = []
    this.log = []
    this.gaps = []
    this.gapCount = 0
    this.longestGapMs = 0
    this.failures = []
  }

  /** A read soon, but not more than once a frame, however fast the runner writes. */
  private scheduleRead(): void {
    if (this.readTimer || this.stopped) return
    this.readTimer = this.clock.after(this.frameMs, () => {
      this.readTimer = undefined
      this.readJournal()
    })
  }

  private readJournal(): void {
    const id = this.watchedId
    if (!id || this.stopped) return
    const events = this.journal.events(id, { afterSeq: this.afterSeq, limit: EVENT_PAGE })
    for (const event of events) this.fold(event)
    if (events.length > 0) this.afterSeq = events[events.length - 1]!.seq
    if (events.length === EVENT_PAGE) {
      // More history: read it on the next turn so the screen keeps answering keys meanwhile.
      this.readTimer ??= this.clock.after(0, () => {
        this.readTimer = undefined
        this.readJournal()
      })
    } else {
      this.caughtUp = true
      if (!this.stepsLoaded && !this.stepsWhileLoading && this.clock.now() >= this.stepsRetryAt) this.loadSteps(id)
    }
    const now = this.clock.now()
    let changed = events.length > 0
    if (events.length > 0 || !this.record || now - this.countsAt >= 2_000) {
      const record = this.journal.migration(id)
      changed ||= record?.updatedAt !== this.record?.updatedAt || record?.state !== this.record?.state
      this.record = record
      this.countsStale = true
    }
    if (this.countsStale) {
      // Counting 50,000 steps on every event would cost more than it shows: at most four times a second.
      if (now - this.countsAt >= COUNTS_EVERY_MS) {
        const counts = this.journal.stepCounts(id)
        changed ||= STEP_STATES.some((state) => counts[state] !== this.counts[state])
        this.counts = counts
        this.countsAt = now
        this.countsStale = false
      } else this.scheduleRead()
    }
    // Nothing new, no frame; but a running migration's pace and ETA move with the clock, once a second.
    const moving = this.record?.state === 'running' || this.record?.state === 'rolling-back'
    if (changed || (moving && now - this.lastPublishAt >= 1_000)) this.schedulePublish()
  }

  /**
   * The step states as the journal has them once the history is read (in a worker for a file journal: 50,000
   * rows); the step events heard meanwhile are applied on top, and keep them current after.
   */
  private loadSteps(id: string): void {
    const heard: Array<[string, StepStatus]> = []
    this.stepsWhileLoading = heard
    this.stepsSource(id).then(
      (compact) => {
        if (this.stopped || this.watchedId !== id || this.stepsWhileLoading !== heard) return
        this.byGuid = stepMapOf(compact)
        this.stepsLoaded = true
        this.stepsWhileLoading = undefined
        for (const [guid, status] of heard) this.setStep(guid, status)
        this.stepsVersion++
        this.schedulePublish()
      },
      (error: unknown) => {
        if (this.stopped || this.watchedId !== id || this.stepsWhileLoading !== heard) return
        this.stepsWhileLoading = undefined
        this.stepsRetryAt = this.clock.now() + 5_000
        this.setNotice({ text: `could not read the steps of ${id}: ${errorLine(error)}`, tone: 'bad' })
      },
    )
  }

  private fold(event: JournalEvent): void {
    const { text, tone } = describeEvent(event)
    this.log.push({ seq: event.seq, at: event.at, text, tone })
    if (this.log.length > LOG_LINES * 2) this.log = this.log.slice(-LOG_LINES)
    switch (event.type) {
      case 'step-started':
        this.starts.push(event.at)
        this.setStep(event.appGuid, { state: 'flipping', error: null })
        break
      case 'step-flipped':
        this.setStep(event.appGuid, { state: 'verifying', error: null, diego: event.diego })
        break
      case 'step-verified':
      case 'step-skipped':
        this.setStep(event.appGuid, { state: 'done', error: null })
        break
      case 'step-rolling-back':
        this.setStep(event.appGuid, { state: 'rolling-back', error: event.auto ? event.reason : null })
        break
      case 'step-rolled-back':
        // An automatic put-back is followed by the step's failure; a rollback's ends the step.
        if (!event.auto) this.setStep(event.appGuid, { state: 'rolled-back', error: null, diego: event.diego })
        else this.setStep(event.appGuid, { state: 'rolling-back', error: null, diego: event.diego })
        break
      case 'step-failed':
        this.failures.unshift({ appName: event.appName, position: event.position, error: event.error })
        if (this.failures.length > FAILURES_KEPT) this.failures.length = FAILURES_KEPT
        this.setStep(event.appGuid, {
          state: event.phase === 'rollback' ? 'rolling-back' : 'failed',
          error: event.error,
        })
        break
      case 'gap':
        this.gaps.unshift({ appName: event.appName, ms: event.ms, open: event.open, at: event.at })
        if (this.gaps.length > GAPS_KEPT) this.gaps.length = GAPS_KEPT
        this.gapCount++
        this.longestGapMs = Math.max(this.longestGapMs, event.ms)
        break
      default:
        break
    }
  }

  private setStep(guid: string, status: StepStatus): void {
    if (!this.stepsLoaded) {
      this.stepsWhileLoading?.push([guid, status])
      return
    }
    const diego = status.diego ?? this.byGuid.get(guid)?.diego
    this.byGuid.set(
      guid,
      status.error === null && diego === undefined ? plainStatus(status.state) : { ...status, diego },
    )
    this.stepsVersion++
  }

  private setNotice(result: ControlResult): void {
    this.notice = { text: result.text, tone: result.tone, at: this.clock.now() }
    this.schedulePublish()
  }

  // ---- publishing ----

  private schedulePublish(): void {
    if (this.publishTimer || this.stopped || !this.started) return
    const wait = Math.max(0, this.lastPublishAt + this.frameMs - this.clock.now())
    this.publishTimer = this.clock.after(wait, () => {
      this.publishTimer = undefined
      this.publish()
    })
  }

  private publish(): void {
    if (this.stopped) return
    this.lastPublishAt = this.clock.now()
    this.snapshot = this.build()
    for (const listener of this.listeners) listener()
  }

  private build(): DashboardSnapshot {
    const now = this.clock.now()
    return {
      target: this.target,
      now,
      apps: this.apps,
      backends: this.backends,
      steps: { byGuid: this.byGuid, version: this.stepsVersion },
      migration: this.migrationView(now),
      fleet: this.fleet,
      events: this.log.length > LOG_LINES ? this.log.slice(-LOG_LINES) : [...this.log],
      gaps: { list: this.gaps.slice(), count: this.gapCount, longestMs: this.longestGapMs },
      notice: this.notice,
      busy: this.control.busy,
    }
  }

  private migrationView(now: number): MigrationView | undefined {
    const record = this.record
    if (!record) return undefined
    const { rate, maxInFlight } = record.parameters
    const horizon = paceHorizonMs(rate)
    if (this.starts.length > 0 && this.starts[0]! < now - horizon) {
      this.starts = this.starts.filter((t) => t >= now - horizon)
    }
    const counts = this.counts
    const left = counts.pending + counts.flipping + counts.verifying
    return {
      id: record.id,
      target: record.target,
      to: record.to,
      state: record.state,
      pausedBy: record.pausedBy,
      error: record.error,
      rate,
      maxInFlight,
      total: total(counts),
      counts,
      inFlight: counts.flipping + counts.verifying + counts['rolling-back'],
      pace: paceOf(this.starts, now, { rate, maxInFlight }, { steps: left, started: left }),
      failures: this.failures.slice(),
      catchingUp: !this.caughtUp,
    }
  }
}

/** Requests the CC answers per second, on average, for the dashboard's polls of the apps. */
const POLL_REQUESTS_PER_SEC = 10

/**
 * When to poll the apps again: every `least` ms, but a fleet that takes long to list is listed at most a
 * fifth of the time, and a large one at no more than ten CC requests a second on average: 50,000 apps are
 * 500 pages, so about every 50 s. The migration's own apps are followed through the journal meanwhile.
 */
export function nextPollAfter(least: number, took: number, apps: number): number {
  const requests = Math.ceil(apps / 100) + 2
  return Math.max(least, 5 * took, (requests / POLL_REQUESTS_PER_SEC) * 1_000)
}

function sameFleet(a: readonly FleetEntry[], b: readonly FleetEntry[]): boolean {
  if (a.length !== b.length) return false
  return a.every((x, i) => {
    const y = b[i]!
    return (
      x.id === y.id &&
      x.state === y.state &&
      x.pausedBy === y.pausedBy &&
      x.updatedAt === y.updatedAt &&
      x.done === y.done &&
      x.failed === y.failed &&
      x.inFlight === y.inFlight &&
      x.pending === y.pending
    )
  })
}

function total(counts: Record<StepState, number>): number {
  let sum = 0
  for (const state of STEP_STATES) sum += counts[state]
  return sum
}

function errorLine(error: unknown): string {
  if (error instanceof UserError) return error.hint ? `${error.message} (${error.hint})` : error.message
  return error instanceof Error ? error.message : String(error)
}
