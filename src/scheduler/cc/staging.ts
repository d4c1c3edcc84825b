// Staging as the CC of 2.54 ran it: when a started app's package is not STAGED (a restage, a start after
// a failed staging), the CC marks it PENDING (App#mark_for_restaging) and asks the backend its `diego`
// flag names to stage it: on Diego a Task in the BBS, on the DEAs a staging run on a DEA. The app runs
// only once the droplet is there: the end of the run marks it STAGED and the bridge then desires it, or
// FAILED with a staging_failed_reason (App#mark_as_failed_to_stage, which also stops a Diego app). A
// staging still PENDING after staging_timeout_in_seconds fails as StagingTimeExpired, as the CC's
// PendingPackagesCleanup job has it.
import { randomUUID } from 'node:crypto'
import type { StagingOutcome } from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import { type BackendBridge, backendNameOf } from './bridge.js'
import { CfError } from './errors.js'
import type { AppRecord, StagingFailedReason, Store } from './store.js'

export interface StagingConfig {
  /** How long a buildpack runs, on the backend's clock. Default 30 s. */
  durationMs: number
  /** CC's staging_timeout_in_seconds, on the CC's clock. Default 900 s. */
  timeoutMs: number
}

export const DEFAULT_STAGING: Readonly<StagingConfig> = Object.freeze({ durationMs: 30_000, timeoutMs: 900_000 })

// CC's staging.minimum_staging_memory_mb and minimum_staging_disk_mb defaults.
const MIN_STAGING_MEMORY_MB = 1024
const MIN_STAGING_DISK_MB = 4096

const REASONS: readonly StagingFailedReason[] = [
  'StagingError',
  'StagingTimeExpired',
  'NoAppDetectedError',
  'BuildpackCompileFailed',
  'BuildpackReleaseFailed',
  'InsufficientResources',
  'NoCompatibleCell',
]

// Failures of the bits themselves: staging them again fails the same way until new bits are pushed.
const BITS_REASONS: ReadonlySet<StagingFailedReason> = new Set([
  'NoAppDetectedError',
  'BuildpackCompileFailed',
  'BuildpackReleaseFailed',
])

/** The staging_failed_reason for a backend's error, as the CC's Diego stager maps them. */
export function stagingFailedReason(error: string): StagingFailedReason {
  if ((REASONS as readonly string[]).includes(error)) return error as StagingFailedReason
  if (error.startsWith('insufficient resources')) return 'InsufficientResources'
  if (error.startsWith('found no compatible cell')) return 'NoCompatibleCell'
  return 'StagingError'
}

/** App#mark_as_failed_to_stage's description: the reason's CF message with "staging failed". */
export function stagingFailedDescription(reason: StagingFailedReason): string {
  return new CfError(reason, 'staging failed').description
}

/** App#needs_staging?: started, with instances, and a package that is not STAGED. */
export function needsStaging(app: AppRecord): boolean {
  return app.state === 'STARTED' && app.instances > 0 && app.packageState !== 'STAGED'
}

interface InFlight {
  stagingGuid: string
  timeout: Timer
}

export class Stager {
  private readonly inFlight = new Map<string, InFlight>()

  constructor(
    private readonly store: Store,
    private readonly bridge: BackendBridge,
    private readonly clock: Clock,
    private readonly config: StagingConfig,
    private readonly log: (line: string) => void,
  ) {}

  /** Whether the app has a staging run under way here. */
  isStaging(appGuid: string): boolean {
    return this.inFlight.has(appGuid)
  }

  /**
   * Marks the app PENDING and sends its staging to its backend (replacing a run already under way, whose
   * end is then ignored). Call it for an app that needsStaging(), after the change is committed;
   * `previous` is the app before a restage cleared its last failure.
   */
  stage(app: AppRecord, previous: AppRecord = app): AppRecord {
    // Bits no buildpack could stage fail again; anything else (a timeout, no room) gets a real new try.
    const lastFailure = previous.stagingFailedReason
    const failure = lastFailure !== null && BITS_REASONS.has(lastFailure) ? lastFailure : undefined
    const before = app
    const pending = this.store.updateApp(
      app.guid,
      { packageState: 'PENDING', stagingFailedReason: null, stagingFailedDescription: null },
      this.clock.now(),
    )
    this.bridge.appChanged(before, pending)
    this.inFlight.get(app.guid)?.timeout.cancel()
    const stagingGuid = randomUUID()
    const timeout = this.clock.after(this.config.timeoutMs, () =>
      this.finish(app.guid, stagingGuid, 'StagingTimeExpired'),
    )
    this.inFlight.set(app.guid, { stagingGuid, timeout })
    const backend = this.bridge.backend(backendNameOf(pending))
    if (!backend?.stage) {
      this.finish(app.guid, stagingGuid, 'StagingError')
      return this.store.app(app.guid) ?? pending
    }
    try {
      backend.stage(
        {
          stagingGuid,
          appGuid: app.guid,
          memoryMb: Math.max(app.memoryMb, MIN_STAGING_MEMORY_MB),
          diskMb: Math.max(app.diskMb, MIN_STAGING_DISK_MB),
          stack: app.stackName,
          durationMs: this.config.durationMs,
          ...(failure === undefined ? {} : { failure }),
        },
        (outcome) => this.finish(app.guid, stagingGuid, reasonOf(outcome)),
      )
    } catch (error) {
      this.log(`cc: staging of app ${app.guid} could not start: ${(error as Error).stack ?? error}`)
      this.finish(app.guid, stagingGuid, 'StagingError')
    }
    return this.store.app(app.guid) ?? pending
  }

  /** The end of one staging run: STAGED (null) or FAILED with the reason; a superseded run is ignored. */
  private finish(appGuid: string, stagingGuid: string, failed: StagingFailedReason | null): void {
    const run = this.inFlight.get(appGuid)
    if (run?.stagingGuid !== stagingGuid) return
    run.timeout.cancel()
    this.inFlight.delete(appGuid)
    if (!this.store.database.isOpen) return
    const app = this.store.app(appGuid)
    if (app?.packageState !== 'PENDING') return
    try {
      const after = this.store.updateApp(
        appGuid,
        failed === null
          ? { packageState: 'STAGED', packageUpdatedAt: this.clock.now() }
          : {
              packageState: 'FAILED',
              stagingFailedReason: failed,
              stagingFailedDescription: stagingFailedDescription(failed),
              // mark_as_failed_to_stage: a Diego app is stopped; a DEA app stays STARTED.
              ...(app.diego ? { state: 'STOPPED' as const } : {}),
            },
        this.clock.now(),
      )
      this.bridge.appChanged(app, after)
    } catch (error) {
      this.log(`cc: recording the end of staging of app ${appGuid} failed: ${(error as Error).stack ?? error}`)
    }
  }
}

function reasonOf(outcome: StagingOutcome): StagingFailedReason | null {
  return outcome.ok ? null : stagingFailedReason(outcome.error)
}
