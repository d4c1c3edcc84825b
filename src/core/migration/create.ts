// A plan becomes a migration: its steps and settings written to the journal as 'planned', ready for a runner.
import type { Journal } from '../journal/journal.js'
import type { MigrationParameters, MigrationRecord } from '../journal/types.js'
import type { MigrationPlan } from './plan.js'
import { parseMaxFailures, type Rate, rateFrom } from './rate.js'
import { DEFAULT_UNSTAGED_POLICY, type UnstagedPolicy } from './unstaged.js'

export interface MigrationSettings {
  /** The CC's URL: one running migration per target. */
  target: string
  /** `10/min`, a parsed Rate, or null for no limit (the default). */
  rate?: Rate | string | null
  /** Default 1. */
  maxInFlight?: number
  /** Per app, from the flip to a verified app. Default 3 minutes. */
  timeoutMs?: number
  /** `N` or `P%` failed apps tolerated in a run; one more pauses it. Default 0: the first failure pauses. */
  maxFailures?: string
  /** How long to hold after the canary before going on alone; null (the default) waits for an operator. */
  canaryWaitMs?: number | null
  /** How often a moving app's route is probed for gaps. Default 1 s. */
  probeIntervalMs?: number
  /** How often a moving app's instances are polled. Default 2 s. */
  verifyIntervalMs?: number
  /** What the operator asked for (flags), kept for `migrations show`. */
  selection?: Record<string, unknown>
  /** What to do with apps that are not staged. Default skip. */
  unstaged?: UnstagedPolicy
  id?: string
}

export const DEFAULT_TIMEOUT_MS = 180_000
export const DEFAULT_PROBE_INTERVAL_MS = 1_000
export const DEFAULT_VERIFY_INTERVAL_MS = 2_000

export function createMigration(journal: Journal, plan: MigrationPlan, settings: MigrationSettings): MigrationRecord {
  const rate = rateFrom(settings.rate)
  const maxFailures = parseMaxFailures(settings.maxFailures ?? '0').text
  const parameters: MigrationParameters = {
    to: plan.to,
    rate: rate?.text ?? null,
    maxInFlight: settings.maxInFlight ?? 1,
    timeoutMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxFailures,
    canary: plan.canary,
    canaryWaitMs: settings.canaryWaitMs ?? null,
    probeIntervalMs: settings.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
    verifyIntervalMs: settings.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS,
    selection: { order: plan.order, ...(settings.selection ?? {}) },
    unstaged: settings.unstaged ?? DEFAULT_UNSTAGED_POLICY,
  }
  return journal.createMigration({
    target: settings.target,
    parameters,
    steps: plan.steps,
    ...(settings.id ? { id: settings.id } : {}),
  })
}
