// The migration as the commands (and the dashboard) drive it: list the fleet once, plan, check capacity,
// record the migration, and build a runner on the foundation. Flags never reach this file: it takes
// parsed options, so `cfctl migrate`, `cfctl rollback` and `cfctl migrate --ui` share one path.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../../clock.js'
import { listApps } from '../apps/inventory.js'
import { cfctlHome } from '../auth/config.js'
import type { CcClient } from '../cc/index.js'
import type { RouteProbe } from '../cc/route-probe.js'
import { UsageError, UserError } from '../errors.js'
import type { Journal } from '../journal/journal.js'
import type { Backend, LockOwner, MigrationRecord } from '../journal/types.js'
import { type CapacityCheck, checkCapacity } from './capacity.js'
import { createMigration } from './create.js'
import { FoundationPort } from './foundation-port.js'
import { type MigrationPlan, type PlanOrder, planMigration } from './plan.js'
import { parseMaxFailures, parseRate, type Rate } from './rate.js'
import { MigrationRunner } from './runner.js'
import { type FleetApp, parseAppList } from './select.js'
import type { UnstagedPolicy } from './unstaged.js'

/**
 * How long a runner's journal holds step transitions to commit them together (Journal's commitDelayMs): on
 * the real clock, the next turn of the event loop, so every app that moved in one turn shares one commit.
 */
export const RUNNER_JOURNAL_COMMIT_DELAY_MS = 0

/**
 * The CC connections a runner's client may open. Each app in flight has at most one CC call out at a time
 * (read, flip, or a check of its instances), so with the default of 9 a run of 200 in flight spends most of
 * a step queued for a connection; undici opens them only as calls need them.
 */
export const RUNNER_CC_CONNECTIONS = 64

/** $CFCTL_JOURNAL (a file or a postgres:// URL), else the file journal.db in $CFCTL_HOME. */
export function defaultJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.CFCTL_JOURNAL?.trim()
  if (chosen) return chosen
  return join(cfctlHome(env), 'journal.db')
}

export function defaultPauseFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(cfctlHome(env), 'pause')
}

export interface MigrateOptions {
  to: Backend
  org?: string
  space?: string
  apps?: string[]
  appPattern?: string
  exclude?: string[]
  /** Path of a file with one app name or guid a line. */
  fromFile?: string
  order?: PlanOrder
  canary?: number
  canaryWaitMs?: number | null
  rate?: Rate | null
  maxInFlight?: number
  timeoutMs?: number
  maxFailures?: string
  probeIntervalMs?: number
  /** Apps that are not staged: skip (default) or move by their flag alone. */
  unstaged?: UnstagedPolicy
}

export interface PreparedMigration {
  plan: MigrationPlan
  capacity: CapacityCheck
}

/** The apps of the fleet, with org and space names, as selection reads them. */
export async function listFleet(client: CcClient, scope: { org?: string; space?: string } = {}): Promise<FleetApp[]> {
  const listing = await listApps(client, scope)
  return listing.apps.map((app) => ({
    guid: app.guid,
    name: app.name,
    org: app.org,
    space: app.space,
    state: app.state,
    instances: app.instances,
    memoryMb: app.memoryMb,
    diego: app.backend === 'diego',
    ...(app.unstaged ? { unstaged: app.unstaged } : {}),
  }))
}

/** How many of the latest finished steps on a target the plan's step time is measured from. */
const MEASURED_STEPS = 200

/**
 * The typical step of a started app on this target, flip to verified: the median of the latest steps the
 * journal holds for it (a target's own pace, from 1 s on an embedded foundation to minutes on a real one),
 * or undefined when none ran there yet and the estimate can only guess.
 */
export function measuredStep(journal: Journal, target: string): { ms: number; samples: number } | undefined {
  const times: number[] = []
  for (const migration of journal.migrations({ target })) {
    // Every step that was verified on its target, whatever became of it since (a rollback keeps its doneAt).
    for (const step of journal.steps(migration.id)) {
      if (step.appState !== 'STARTED' || step.flippingAt === null || step.doneAt === null) continue
      times.push(step.doneAt - step.flippingAt)
    }
    if (times.length >= MEASURED_STEPS) break
  }
  if (times.length === 0) return undefined
  const sorted = times.slice(0, MEASURED_STEPS).sort((a, b) => a - b)
  return { ms: Math.max(1, sorted[Math.floor(sorted.length / 2)]!), samples: sorted.length }
}

/** Plans a migration from the fleet as the target shows it now, and checks both backends' room. */
export async function prepareMigration(
  client: CcClient,
  options: MigrateOptions,
  step?: { ms: number; samples: number },
): Promise<PreparedMigration> {
  if (options.maxFailures !== undefined) parseMaxFailures(options.maxFailures)
  const fromFile = options.fromFile === undefined ? undefined : readAppList(options.fromFile)
  const [fleet, capacity] = await Promise.all([
    listFleet(client, { org: options.org, space: options.space }),
    client.backendsCapacity(),
  ])
  const plan = planMigration(fleet, {
    to: options.to,
    org: options.org,
    space: options.space,
    apps: options.apps,
    appPattern: options.appPattern,
    exclude: options.exclude,
    fromFile,
    order: options.order,
    canary: options.canary,
    rate: options.rate,
    maxInFlight: options.maxInFlight,
    unstaged: options.unstaged,
    ...(step ? { stepEstimateMs: step.ms, stepSamples: step.samples } : {}),
  })
  const from: Backend = options.to === 'diego' ? 'dea' : 'diego'
  return {
    plan,
    capacity: checkCapacity(plan, {
      target: capacity?.[options.to],
      source: capacity?.[from],
      maxInFlight: options.maxInFlight,
    }),
  }
}

function readAppList(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`--from-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  return parseAppList(text)
}

/** Records the planned migration; it runs when a runner takes it. */
export function recordMigration(
  journal: Journal,
  target: string,
  prepared: PreparedMigration,
  options: MigrateOptions,
  id?: string,
): MigrationRecord {
  if (prepared.plan.steps.length === 0)
    throw new UserError(`no app to move to ${options.to}`, 'check --org, --space, --app and --app-pattern')
  return createMigration(journal, prepared.plan, {
    target,
    rate: options.rate ?? null,
    maxInFlight: options.maxInFlight,
    timeoutMs: options.timeoutMs,
    maxFailures: options.maxFailures,
    canaryWaitMs: options.canaryWaitMs,
    probeIntervalMs: options.probeIntervalMs,
    unstaged: options.unstaged,
    selection: {
      org: options.org,
      space: options.space,
      apps: options.apps,
      appPattern: options.appPattern,
      exclude: options.exclude,
      fromFile: options.fromFile,
    },
    ...(id ? { id } : {}),
  })
}

export interface RunnerContext {
  journal: Journal
  client: CcClient
  probe: RouteProbe
  clock: Clock
  pauseFile?: string | null
  /** No person at this process: a pause that waits for one ends the run (see RunnerOptions.unattended). */
  unattended?: boolean
  /** How long to wait for a CC that does not answer before pausing (see RunnerOptions.outageWaitMs). */
  outageWaitMs?: number
}

/** A runner for a recorded migration on the session's foundation. */
export function runnerFor(context: RunnerContext, migrationId: string, owner?: LockOwner): MigrationRunner {
  return new MigrationRunner({
    ...(owner ? { owner } : {}),
    journal: context.journal,
    port: new FoundationPort(context.client, context.probe),
    clock: context.clock,
    migrationId,
    pauseFile: context.pauseFile ?? null,
    unattended: context.unattended ?? false,
    ...(context.outageWaitMs !== undefined ? { outageWaitMs: context.outageWaitMs } : {}),
  })
}

/**
 * A migration by its id, by a unique start or end of it (`show 9093`, as git takes a short hash), or
 * `latest` (the newest in the journal); else an error that says how to find one.
 */
export function requireMigration(journal: Journal, ref: string): MigrationRecord {
  const exact = journal.migration(ref)
  if (exact) return exact
  const all = journal.migrations()
  if (ref === 'latest') {
    const latest = all[0]
    if (latest) return latest
  } else if (ref !== '') {
    const matches = all.filter((m) => m.id.startsWith(ref) || m.id.endsWith(ref))
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1)
      throw new UserError(
        `${ref} matches ${matches.length} migrations: ${matches
          .slice(0, 5)
          .map((m) => m.id)
          .join(', ')}${matches.length > 5 ? ', …' : ''}`,
        'give more of the id',
      )
  }
  throw new UserError(`no migration ${ref} in ${journal.path}`, 'list them with: cfctl migrations list')
}

/** A migration runs only against the foundation it was planned on. */
export function requireSameTarget(migration: MigrationRecord, target: string): void {
  if (migration.target !== target)
    throw new UserError(
      `migration ${migration.id} belongs to ${migration.target}, not ${target}`,
      `target it first: cfctl target ${migration.target}`,
    )
}

export { parseRate }
