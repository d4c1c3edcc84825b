// How a migration stands, as its journal tells it: the summary every command prints (counts, failures,
// flips made by others, routability gaps, unrouted and unstaged apps), the exit code a CI job branches on,
// and which pauses and failures a resume can carry on from.
import type { Journal } from '../journal/journal.js'
import type { Backend, MigrationState, StepRecord, StepState } from '../journal/types.js'
import type { RouteGap } from './routability.js'
import { type UnstagedApp, unstagedOfNote } from './unstaged.js'

export interface StepFailure {
  appGuid: string
  appName: string
  position: number
  error: string
  /** The app's flag is back on its original value. */
  restored: boolean
}

/** The note of a step whose app had no route to probe. */
export const NO_ROUTE_NOTE = 'no route: verified by its instances alone'

export interface MigrationOutcome {
  migrationId: string
  /** The backend the apps move to. */
  to: Backend
  state: MigrationState
  pausedBy: string | null
  steps: Record<StepState, number>
  failures: StepFailure[]
  /**
   * Apps whose `diego` flag someone other than this migration changed (from the CC's audit events, or found
   * already moved), with who when the CC said: a rollback leaves them as they are.
   */
  foreign: Array<{ appGuid: string; appName: string; diego: boolean; by: string | null }>
  gaps: Array<RouteGap & { appGuid: string; appName: string }>
  longestGapMs: number
  /** Apps moved that have no route: verified by their instances alone. */
  unrouted: Array<{ appGuid: string; appName: string }>
  /** Apps that were not staged: skipped, or moved by their flag alone. Neither is a failure. */
  unstaged: UnstagedApp[]
}

/** Who pauses a run whose CC did not answer for longer than --outage-wait. */
export const CC_UNREACHABLE = 'cc-unreachable'
/** Who pauses a run whose route probes fail for running apps, moving or not. */
export const PROBE_PATH_DOWN = 'probe-path-down'

/**
 * A failed step's error that says the CC gave no answer (refused, reset, timed out, a gateway's 502/503/504):
 * the move was never tried to the end, so a resume tries it again. Read off the text because older cfctl
 * versions failed such steps; this one leaves them in doubt instead.
 */
export const NO_ANSWER_ERROR =
  /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_[A-Z_]+|CF-ServiceUnavailable|[Gg]ateway [Tt]ime-?out|Bad Gateway|Service Unavailable)\b/

/** Whether a failed step failed only because the CC did not answer, and is worth another try. */
export function failedForWantOfAnswer(step: StepRecord): boolean {
  return step.state === 'failed' && step.error !== null && NO_ANSWER_ERROR.test(step.error)
}

/** The summary of a migration as the journal tells it: counts, failures, and every routability gap. */
export function migrationOutcome(journal: Journal, migrationId: string): MigrationOutcome {
  const migration = journal.requireMigration(migrationId)
  const steps = journal.steps(migrationId)
  const gaps: MigrationOutcome['gaps'] = []
  const foreign = new Map<string, MigrationOutcome['foreign'][number]>()
  for (const event of journal.events(migrationId)) {
    if (event.type === 'foreign-flip') {
      const { appGuid, appName, diego, by } = event
      foreign.set(appGuid, { appGuid, appName, diego, by: by ?? foreign.get(appGuid)?.by ?? null })
    }
    if (event.type === 'gap') {
      const { appGuid, appName, startedAt, endedAt, ms, open } = event
      gaps.push({ appGuid, appName, startedAt, endedAt, ms, open })
    }
  }
  return {
    migrationId,
    to: migration.to,
    state: migration.state,
    pausedBy: migration.pausedBy,
    steps: journal.stepCounts(migrationId),
    failures: steps
      .filter((s) => s.error !== null && (s.state === 'failed' || s.state === 'rolling-back'))
      .map((s) => ({
        appGuid: s.appGuid,
        appName: s.appName,
        position: s.position,
        error: s.error!,
        restored: !s.flipped,
      })),
    foreign: [...foreign.values()],
    gaps,
    longestGapMs: gaps.reduce((longest, gap) => Math.max(longest, gap.ms), 0),
    unrouted: steps
      .filter((s) => s.state === 'done' && s.note === NO_ROUTE_NOTE)
      .map((s) => ({ appGuid: s.appGuid, appName: s.appName })),
    unstaged: steps.flatMap((s) => {
      const unstaged = s.state === 'done' ? unstagedOfNote(s.note) : undefined
      return unstaged ? [{ appGuid: s.appGuid, appName: s.appName, ...unstaged }] : []
    }),
  }
}

/**
 * 0 all moved (or all put back), 1 some failed (including a stop at the failure threshold, so CI tells
 * failing apps from an operator's pause), 3 paused, aborted or not finished.
 */
export function exitCodeOf(outcome: Pick<MigrationOutcome, 'state' | 'pausedBy' | 'failures'>): number {
  switch (outcome.state) {
    case 'completed':
    case 'rolled-back':
      return 0
    case 'failed':
      return 1
    case 'paused':
      return outcome.pausedBy === 'failure-threshold' ? 1 : 3
    case 'rolling-back':
      return outcome.pausedBy === null && outcome.failures.length > 0 ? 1 : 3
    default:
      return 3
  }
}
