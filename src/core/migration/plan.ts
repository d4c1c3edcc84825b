// From a fleet and the operator's options to the ordered plan a migration follows: the steps, the canary,
// how long it should take at the given pace. Pure, so `--dry-run` and the real run plan the same way.
import { z } from 'zod'
import { UsageError } from '../errors.js'
import type { Backend, PlannedStep } from '../journal/types.js'
import type { Rate } from './rate.js'
import { type FleetApp, type Selection, type SelectionOptions, selectApps, sourceOf } from './select.js'
import { DEFAULT_UNSTAGED_POLICY, type UnstagedApp, type UnstagedPolicy, unstagedAction } from './unstaged.js'

export const PLAN_ORDERS = ['name', 'memory', 'instances', 'listed'] as const
export type PlanOrder = (typeof PLAN_ORDERS)[number]

export interface PlanOptions extends SelectionOptions {
  /**
   * name: alphabetical; memory: smallest footprint (memory x instances) first, so early trouble is cheap;
   * instances: fewest first; listed: the order of `--app` and `--from-file`, unlisted apps after by name.
   */
  order?: PlanOrder
  /** The first N apps of the plan go first, and the run holds once they are done. */
  canary?: number
  rate?: Rate | null
  maxInFlight?: number
  /** A typical step for a started app, flip to verified; used only for the estimate. */
  stepEstimateMs?: number
  /** How many finished steps on this target `stepEstimateMs` was measured from; 0 (default): it is a guess. */
  stepSamples?: number
  /** What the run does with apps that are not staged; default skip. */
  unstaged?: UnstagedPolicy
}

export interface PlanTotals {
  apps: number
  started: number
  stopped: number
  /** Instances of the started apps: what the target must place. */
  instances: number
  /** Memory of the started apps' instances, in MB. */
  memoryMb: number
}

export interface MigrationPlan {
  to: Backend
  from: Backend
  order: PlanOrder
  steps: PlannedStep[]
  canary: number
  totals: PlanTotals
  /** The pace's bound on the duration: the rate over all apps, or the in-flight limit over the started ones. */
  expectedDurationMs: number
  /** What the estimate rests on, so the plan can say when it is a guess. */
  estimate: PlanEstimate
  selection: Pick<Selection, 'listed' | 'missing' | 'onTarget' | 'excluded'>
  /** The planned apps that are not staged, why, and what the run will do with each. */
  unstaged: UnstagedApp[]
  warnings: string[]
}

export interface PlanEstimate {
  /** 'rate': the rate alone sets the duration; 'steps': the in-flight limit over the step time does. */
  boundBy: 'rate' | 'steps'
  stepMs: number
  /** Steps measured on this target; 0 when stepMs is the default guess. */
  samples: number
}

export const DEFAULT_STEP_ESTIMATE_MS = 30_000

const Options = z.object({
  to: z.enum(['dea', 'diego'], { error: '--to must be diego or dea' }),
  org: z.string().min(1, { error: '--org must not be empty' }).optional(),
  space: z.string().min(1, { error: '--space must not be empty' }).optional(),
  appPattern: z.string().min(1, { error: '--app-pattern must not be empty' }).optional(),
  order: z.enum(PLAN_ORDERS, { error: `--order must be one of ${PLAN_ORDERS.join(', ')}` }).default('name'),
  canary: z.number().int({ error: '--canary must be a whole number of apps' }).nonnegative().default(0),
  maxInFlight: z.number().int().positive({ error: '--max-in-flight must be a whole number above 0' }).default(1),
  stepEstimateMs: z.number().positive().default(DEFAULT_STEP_ESTIMATE_MS),
  stepSamples: z.number().int().nonnegative().default(0),
})

export function planMigration(fleet: readonly FleetApp[], options: PlanOptions): MigrationPlan {
  const parsed = Options.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new UsageError(issue.message.startsWith('--') ? issue.message : `--${issue.path.join('.')} ${issue.message}`)
  }
  const { order, canary: canaryAsked, maxInFlight, stepEstimateMs, stepSamples } = parsed.data
  const selection = selectApps(fleet, options)
  if (order === 'listed' && selection.listed.length === 0) {
    throw new UsageError('--order listed needs apps listed with --app or --from-file')
  }
  const ordered = orderApps(selection.apps, order, selection.listed)
  const targetDiego = options.to === 'diego'
  const canary = Math.min(canaryAsked, ordered.length)
  const steps: PlannedStep[] = ordered.map((app, position) => ({
    appGuid: app.guid,
    appName: app.name,
    org: app.org,
    space: app.space,
    appState: app.state,
    instances: app.instances,
    memoryMb: app.memoryMb,
    canary: position < canary,
    originalDiego: app.diego,
    targetDiego,
  }))
  const totals = totalsOf(steps)
  const policy = options.unstaged ?? DEFAULT_UNSTAGED_POLICY
  const unstaged: UnstagedApp[] = ordered.flatMap((app) =>
    app.unstaged ? [{ appGuid: app.guid, appName: app.name, ...app.unstaged, action: policy }] : [],
  )
  const warnings: string[] = []
  if (unstaged.length > 0)
    warnings.push(
      `${unstaged.length} app${unstaged.length === 1 ? ' is' : 's are'} not staged (staging failed or pending), ${unstagedAction(policy, unstaged.length)}: ${listing(unstaged.map((u) => u.appName))}`,
    )
  if (selection.missing.length > 0)
    warnings.push(`not found in the org and space selected: ${listing(selection.missing)}`)
  if (selection.onTarget.length > 0) {
    warnings.push(`already on ${options.to}, left out: ${listing(selection.onTarget)}`)
  }
  if (canaryAsked > ordered.length && ordered.length > 0) {
    warnings.push(`--canary ${canaryAsked} covers every app selected (${ordered.length}); there is no hold after it`)
  }
  if (steps.length === 0) warnings.push(`no app on ${sourceOf(options.to)} matches the selection`)
  return {
    to: options.to,
    from: sourceOf(options.to),
    order,
    steps,
    canary,
    totals,
    expectedDurationMs: expectedDuration(totals, { rate: options.rate ?? null, maxInFlight, stepEstimateMs }),
    estimate: {
      boundBy:
        options.rate &&
        (totals.apps * options.rate.periodMs) / options.rate.count >=
          Math.ceil(totals.started / maxInFlight) * stepEstimateMs
          ? 'rate'
          : 'steps',
      stepMs: stepEstimateMs,
      samples: stepSamples,
    },
    selection: {
      listed: selection.listed,
      missing: selection.missing,
      onTarget: selection.onTarget,
      excluded: selection.excluded,
    },
    unstaged,
    warnings,
  }
}

/**
 * How long the pace lets the migration take: the rate spreads starts evenly (500 apps at 10/min is 50 min),
 * and the in-flight limit caps how many started apps verify at once. Stopped apps flip without waiting.
 */
export function expectedDuration(
  totals: Pick<PlanTotals, 'apps' | 'started'>,
  pace: { rate: Rate | null; maxInFlight: number; stepEstimateMs?: number },
): number {
  const stepMs = pace.stepEstimateMs ?? DEFAULT_STEP_ESTIMATE_MS
  const byRate = pace.rate ? (totals.apps * pace.rate.periodMs) / pace.rate.count : 0
  const byConcurrency = Math.ceil(totals.started / pace.maxInFlight) * stepMs
  return Math.max(byRate, byConcurrency)
}

export function totalsOf(steps: readonly Pick<PlannedStep, 'appState' | 'instances' | 'memoryMb'>[]): PlanTotals {
  const started = steps.filter((s) => s.appState === 'STARTED')
  return {
    apps: steps.length,
    started: started.length,
    stopped: steps.length - started.length,
    instances: started.reduce((sum, s) => sum + s.instances, 0),
    memoryMb: started.reduce((sum, s) => sum + s.instances * s.memoryMb, 0),
  }
}

function orderApps(apps: FleetApp[], order: PlanOrder, listed: readonly string[]): FleetApp[] {
  const byName = (a: FleetApp, b: FleetApp) => compare(a.name, b.name) || compare(a.guid, b.guid)
  const sorted = [...apps]
  switch (order) {
    case 'name':
      return sorted.sort(byName)
    case 'memory':
      return sorted.sort((a, b) => footprint(a) - footprint(b) || byName(a, b))
    case 'instances':
      return sorted.sort((a, b) => a.instances - b.instances || byName(a, b))
    case 'listed': {
      const rank = new Map<string, number>()
      listed.forEach((ref, i) => {
        if (!rank.has(ref)) rank.set(ref, i)
      })
      const rankOf = (app: FleetApp) =>
        Math.min(rank.get(app.guid) ?? Number.POSITIVE_INFINITY, rank.get(app.name) ?? Number.POSITIVE_INFINITY)
      return sorted.sort((a, b) => {
        const ra = rankOf(a)
        const rb = rankOf(b)
        return ra === rb ? byName(a, b) : ra < rb ? -1 : 1
      })
    }
  }
}

function footprint(app: FleetApp): number {
  return app.state === 'STARTED' ? app.instances * app.memoryMb : 0
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function listing(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ')
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown
}
