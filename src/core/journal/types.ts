// The records of the migration journal: a migration (its parameters and state), one step per app, and the
// lock that keeps one running migration per target. The parameters are stored as JSON and parsed with zod on
// the way in and out, so a journal written by another version of cfctl fails loudly rather than half-works.
import { z } from 'zod'

export type Backend = 'dea' | 'diego'

export const MIGRATION_STATES = [
  'planned',
  'running',
  'paused',
  'completed',
  'failed',
  'aborted',
  'rolling-back',
  'rolled-back',
] as const
export type MigrationState = (typeof MIGRATION_STATES)[number]

export const STEP_STATES = [
  'pending',
  'flipping',
  'verifying',
  'done',
  'failed',
  'rolling-back',
  'rolled-back',
] as const
export type StepState = (typeof STEP_STATES)[number]

/** The settings a migration runs with. Rate and max-in-flight change live; the rest are fixed at planning. */
export const MigrationParameters = z.object({
  to: z.enum(['dea', 'diego']),
  /** As the operator wrote it (`10/min`), or null for no limit. */
  rate: z.string().nullable(),
  maxInFlight: z.number().int().positive(),
  /** Per app, from the flip to a verified app. */
  timeoutMs: z.number().int().positive(),
  /** `N` or `P%`. */
  maxFailures: z.string(),
  canary: z.number().int().nonnegative(),
  /** How long to hold after the canary before going on alone; null waits for an operator. */
  canaryWaitMs: z.number().int().nonnegative().nullable(),
  probeIntervalMs: z.number().int().positive(),
  verifyIntervalMs: z.number().int().positive(),
  /** What the operator asked for, kept for `migrations show`. */
  selection: z.record(z.string(), z.unknown()).default({}),
  /** What to do with an app that is not staged: skip it, or move it by its flag alone (see unstaged.ts); absent is skip. */
  unstaged: z.enum(['skip', 'move']).optional(),
})
export type MigrationParameters = z.infer<typeof MigrationParameters>

export interface MigrationRecord {
  readonly id: string
  /** The CC's URL: one running migration per target. */
  readonly target: string
  /** The backend the apps move to. */
  readonly to: Backend
  readonly parameters: MigrationParameters
  readonly state: MigrationState
  /** Who or what paused it: 'operator', 'failure-threshold', 'pause-file', 'canary', 'interrupt', ... */
  readonly pausedBy: string | null
  readonly error: string | null
  readonly canaryConfirmedAt: number | null
  readonly createdAt: number
  readonly updatedAt: number
}

export interface StepRecord {
  readonly migrationId: string
  /** 0-based order in the plan. */
  readonly position: number
  readonly appGuid: string
  readonly appName: string
  readonly org: string
  readonly space: string
  /** The app's state when it was planned. */
  readonly appState: 'STARTED' | 'STOPPED'
  readonly instances: number
  readonly memoryMb: number
  readonly canary: boolean
  readonly originalDiego: boolean
  readonly targetDiego: boolean
  readonly state: StepState
  /** True while this migration believes it changed the app's flag and has not put it back. */
  readonly flipped: boolean
  /** Calls that tried to set the target value. */
  readonly attempts: number
  readonly error: string | null
  readonly note: string | null
  readonly createdAt: number
  readonly updatedAt: number
  readonly flippingAt: number | null
  readonly verifyingAt: number | null
  readonly doneAt: number | null
  readonly failedAt: number | null
  readonly rollingBackAt: number | null
  readonly rolledBackAt: number | null
}

/** A step as the planner hands it to the journal. */
export interface PlannedStep {
  appGuid: string
  appName: string
  org: string
  space: string
  appState: 'STARTED' | 'STOPPED'
  instances: number
  memoryMb: number
  canary: boolean
  originalDiego: boolean
  targetDiego: boolean
}

export interface LockOwner {
  pid: number
  hostname: string
  /** Unique per runner, so two runners in one process are told apart. */
  token: string
}

export interface LockRecord extends LockOwner {
  readonly target: string
  readonly migrationId: string
  /** Grows by one with each acquisition of the target's lease: the fencing token of the runner that holds it. */
  readonly epoch: number
  readonly acquiredAt: number
  readonly heartbeatAt: number
}

/** Commands another process (`cfctl migrations pause ID`) leaves for the runner that holds the migration. */
export const ControlCommand = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pause'), by: z.string().min(1) }),
  z.object({ type: z.literal('resume'), by: z.string().min(1) }),
  z.object({ type: z.literal('abort'), by: z.string().min(1) }),
  z.object({ type: z.literal('set-rate'), rate: z.string().nullable() }),
  z.object({ type: z.literal('set-max-in-flight'), maxInFlight: z.number().int().positive() }),
])
export type ControlCommand = z.infer<typeof ControlCommand>

export interface ControlRecord {
  readonly seq: number
  readonly migrationId: string
  readonly at: number
  readonly command: ControlCommand
}
