// What the dashboard shows, as plain data: the store builds a DashboardSnapshot, the panels and the
// plain-text snapshot draw it. Nothing here knows about ink, the journal or the CC client.
import type { BackendName } from '../../core/apps/inventory.js'
import type { BackendCapacity, BackendsCapacity } from '../../core/cc/index.js'
import type { JournalEvent } from '../../core/journal/events.js'
import type { Backend, MigrationState, StepState } from '../../core/journal/types.js'
import type { OwnWork } from './control.js'
import type { Fleet } from './fleet.js'
import { shortDuration } from './format.js'
import type { PaceView } from './pace.js'

export interface BackendView {
  name: BackendName
  apps: number
  startedApps: number
  /** Desired instances of the started apps. */
  instances: number
  memoryMb: number
  /** Absent when the target does not report it (a real CC). */
  capacity?: BackendCapacity
}

export interface BackendsView {
  dea: BackendView
  diego: BackendView
}

/** Where an app stands in the watched migration. */
export interface StepStatus {
  state: StepState
  error: string | null
  /** The flag as the last step event set it, so the backend column moves before the next poll. */
  diego?: boolean
}

export interface FailureView {
  appName: string
  position: number
  error: string
}

export interface MigrationView {
  id: string
  target: string
  to: Backend
  state: MigrationState
  pausedBy: string | null
  error: string | null
  rate: string | null
  maxInFlight: number
  total: number
  counts: Record<StepState, number>
  /** Flipping, verifying and rolling back. */
  inFlight: number
  pace: PaceView
  /** The newest first. */
  failures: FailureView[]
  /** Set while the events written before the dashboard started are still being read. */
  catchingUp: boolean
}

/** One migration of the journal, for the fleet view. */
export interface FleetEntry {
  id: string
  target: string
  to: Backend
  state: MigrationState
  pausedBy: string | null
  total: number
  done: number
  failed: number
  inFlight: number
  pending: number
  updatedAt: number
}

export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'dim'

export interface LogLine {
  seq: number
  at: number
  text: string
  tone: Tone
}

export interface GapView {
  appName: string
  ms: number
  open: boolean
  at: number
}

export interface GapsView {
  /** The newest first, at most a few hundred. */
  list: GapView[]
  count: number
  longestMs: number
}

export interface AppsView {
  fleet: Fleet
  /** Bumped whenever `fleet` is replaced. */
  version: number
  loadedAt: number | undefined
  /** The last poll's error, while the rows shown are older. */
  error: string | undefined
}

export interface StepsView {
  byGuid: ReadonlyMap<string, StepStatus>
  /** Bumped whenever a status changes. */
  version: number
}

export interface DashboardSnapshot {
  target: string
  now: number
  apps: AppsView
  backends: BackendsView | undefined
  steps: StepsView
  migration: MigrationView | undefined
  /** Every migration of the journal, the newest first. */
  fleet: FleetEntry[]
  /** The oldest first, the last few hundred. */
  events: LogLine[]
  gaps: GapsView
  /** The outcome of the last control key (or its error). */
  notice: { text: string; tone: Tone; at: number } | undefined
  /** A run or a rollback the dashboard started, still going on in this process. */
  busy: OwnWork | undefined
}

/** Apps, instances and memory per backend, from the apps the table shows, with the target's capacity. */
export function backendsOf(fleet: Fleet, capacity: BackendsCapacity | undefined): BackendsView {
  const usage = (name: BackendName): BackendView => ({ name, apps: 0, startedApps: 0, instances: 0, memoryMb: 0 })
  const out: BackendsView = { dea: usage('dea'), diego: usage('diego') }
  for (let i = 0; i < fleet.size; i++) {
    const u = fleet.diego[i] ? out.diego : out.dea
    u.apps++
    if (fleet.started[i]) {
      u.startedApps++
      u.instances += fleet.instances[i]!
      u.memoryMb += fleet.instances[i]! * fleet.memoryMb[i]!
    }
  }
  if (capacity) {
    out.dea.capacity = capacity.dea
    out.diego.capacity = capacity.diego
  }
  return out
}

/** A line of the event log: what happened, to which app, in words, and how it should look. */
export function describeEvent(event: JournalEvent): { text: string; tone: Tone } {
  switch (event.type) {
    case 'planned':
      return { text: `planned: ${event.steps} apps to ${event.to}`, tone: 'info' }
    case 'started':
      return { text: event.recovered ? 'run taken up again after a stop' : 'run started', tone: 'info' }
    case 'lock-taken-over':
      return { text: `lock taken over from pid ${event.fromPid} (${event.reason})`, tone: 'warn' }
    case 'step-started':
      return { text: `${event.appName}: moving${event.attempt > 1 ? ` (try ${event.attempt})` : ''}`, tone: 'dim' }
    case 'step-flipped':
      return {
        text: `${event.appName}: ${event.how === 'already' ? 'already on' : 'flipped to'} ${event.diego ? 'diego' : 'dea'}`,
        tone: 'dim',
      }
    case 'step-verified':
      return { text: `${event.appName}: verified in ${shortDuration(event.ms)}`, tone: 'good' }
    case 'step-skipped':
      return { text: `${event.appName}: skipped, not staged (${event.reason})`, tone: 'warn' }
    case 'step-rolling-back':
      return { text: `${event.appName}: putting back (${event.reason})`, tone: 'warn' }
    case 'step-rolled-back':
      return {
        text: `${event.appName}: back on ${event.diego ? 'diego' : 'dea'}${event.verified ? ', verified' : ''}`,
        tone: event.auto ? 'warn' : 'info',
      }
    case 'step-failed':
      return { text: `${event.appName}: failed: ${event.error}`, tone: 'bad' }
    case 'gap':
      return {
        text: `${event.appName}: route did not answer for ${shortDuration(event.ms)}${event.open ? ' (still open)' : ''}`,
        tone: 'bad',
      }
    case 'paused':
      return { text: `paused by ${event.by}`, tone: 'warn' }
    case 'resumed':
      return {
        text: event.by === 'resume' ? 'resumed by cfctl migrate --resume' : `resumed by ${event.by}`,
        tone: 'info',
      }
    case 'rate-changed':
      return { text: `rate ${event.rate ?? 'no limit'}, max in flight ${event.maxInFlight}`, tone: 'info' }
    case 'journal-reconnected':
      return { text: `journal back after ${Math.round(event.downMs / 1000)} s; in-doubt apps rechecked`, tone: 'warn' }
    case 'completed':
      return { text: `completed: ${event.done} done, ${event.skipped} already there`, tone: 'good' }
    case 'failed':
      return { text: `finished with failures: ${event.done} done, ${event.failed} failed`, tone: 'bad' }
    case 'aborted':
      return { text: `aborted by ${event.by}; ${event.pending} left pending`, tone: 'warn' }
    case 'rollback-started':
      return { text: `rollback of ${event.steps} apps${event.verify ? '' : ' (emergency, unverified)'}`, tone: 'warn' }
    case 'rolled-back':
      return { text: `rolled back: ${event.steps} apps`, tone: 'info' }
    case 'step-in-doubt':
      return { text: `${event.appName}: in doubt (${event.reason}); a resume reads the CC`, tone: 'warn' }
    case 'step-retried':
      return { text: `${event.appName}: tried again (${event.previousError})`, tone: 'info' }
    case 'cc-unreachable':
      return { text: `the CC does not answer (${event.error}): waiting, no new app starts`, tone: 'bad' }
    case 'cc-answered':
      return { text: `the CC answers again after ${shortDuration(event.downMs)}`, tone: 'info' }
    case 'foreign-flip':
      return {
        text: `${event.appName}: diego set to ${event.diego} outside this migration${event.by ? ` by ${event.by}` : ''}`,
        tone: 'bad',
      }
    case 'probe-path-down':
      return { text: `route probes fail for running apps: ${event.detail}`, tone: 'bad' }
  }
}

/** The migration states in which steps still move. */
export function isActive(state: MigrationState): boolean {
  return state === 'planned' || state === 'running' || state === 'paused' || state === 'rolling-back'
}
