// Every transition of a migration is an event: the runner hands it to its listeners (live progress, JSON
// lines) and the journal keeps it in an append-only table, so `migrations show` can tell the whole story
// after the fact and a CI job can read the same lines it would have seen live.
import type { Backend } from './types.js'

interface StepRef {
  appGuid: string
  appName: string
  position: number
}

export type MigrationEventBody =
  | { type: 'planned'; to: Backend; steps: number; canary: number }
  /** A run began: first time, or after a pause, an interrupt or a crash (`recovered`). */
  | { type: 'started'; recovered: boolean }
  | { type: 'lock-taken-over'; fromPid: number; fromHostname: string; heartbeatAt: number; reason: 'stale' | 'dead' }
  | ({ type: 'step-started'; attempt: number } & StepRef)
  /** The flag now has the target value: set by this run, found set after a crash, or already set before. */
  | ({ type: 'step-flipped'; diego: boolean; how: 'flipped' | 'reconciled' | 'already' } & StepRef)
  /** `noRoute`: the app has no route, so its instances alone verified it. */
  | ({ type: 'step-verified'; ms: number; noRoute?: true } & StepRef)
  /** An app that is not staged, left where it is (--unstaged skip): done, not moved, not failed. */
  | ({ type: 'step-skipped'; reason: string; errorCode: string } & StepRef)
  | ({ type: 'step-rolling-back'; reason: string; auto: boolean } & StepRef)
  | ({ type: 'step-rolled-back'; diego: boolean; verified: boolean; auto: boolean } & StepRef)
  | ({ type: 'step-failed'; error: string; restored: boolean; phase: 'migrate' | 'rollback' } & StepRef)
  /**
   * The step's calls got no answer from the CC (or only a gateway's "not now"), and the wait for it allowed
   * by --outage-wait ran out: it stays in its state, in doubt, until a resume or a rollback reads the CC.
   */
  | ({ type: 'step-in-doubt'; reason: string } & StepRef)
  /** A failed step retried on resume, because it failed only for want of an answer from the CC. */
  | ({ type: 'step-retried'; previousError: string } & StepRef)
  /** The CC stopped answering: no new step starts until it answers again. */
  | { type: 'cc-unreachable'; error: string }
  /** The CC answers again after `downMs`. */
  | { type: 'cc-answered'; downMs: number }
  /** The app's flag changed, or was found changed, by someone other than this migration. */
  | ({ type: 'foreign-flip'; diego: boolean; by: string | null; eventId?: string } & StepRef)
  /** Route probes fail for apps whose instances all run: the way to the apps is down, not the apps. */
  | { type: 'probe-path-down'; detail: string }
  /** No instance answered the app's route from `startedAt` to `endedAt`; `open` when the step ended inside it. */
  | ({ type: 'gap'; startedAt: number; endedAt: number; ms: number; open: boolean } & Omit<StepRef, 'position'>)
  | { type: 'paused'; by: string }
  | { type: 'resumed'; by: string }
  | { type: 'rate-changed'; rate: string | null; maxInFlight: number }
  /** The journal's database answered again after `downMs` in which the run admitted no app. */
  | { type: 'journal-reconnected'; downMs: number }
  | { type: 'completed'; done: number; failed: number; skipped: number }
  | { type: 'failed'; done: number; failed: number }
  | { type: 'aborted'; by: string; pending: number }
  | { type: 'rollback-started'; steps: number; verify: boolean }
  | { type: 'rolled-back'; steps: number; failed: number }

export type MigrationEventType = MigrationEventBody['type']

/** An event as emitted and stored: the body plus the migration it belongs to and when it happened. */
export type MigrationEvent = MigrationEventBody & { migrationId: string; at: number }

/** An event read back from the journal, with its place in the append-only log. */
export type JournalEvent = MigrationEvent & { seq: number }
