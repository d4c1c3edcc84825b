// The terminal side of `cfctl migrate` (and `cfctl rollback`): flags into options, a run followed on
// stderr or as JSON lines with Ctrl-C handled, a run inside the dashboard, and the closing report.
import type { Journal } from '../core/journal/journal.js'
import { parseDuration } from '../core/migration/duration.js'
import { nextStepsHint } from '../core/migration/hints.js'
import type { MigrateOptions } from '../core/migration/operation.js'
import type { PlanOrder } from '../core/migration/plan.js'
import { parseMaxFailures, parseRate } from '../core/migration/rate.js'
import { exitCodeOf, type MigrationOutcome, type MigrationRunner, migrationOutcome } from '../core/migration/runner.js'
import type { UnstagedPolicy } from '../core/migration/unstaged.js'
import type { Connection } from './base.js'
import { operator } from './journal.js'
import { keepingAlive } from './keep-alive.js'
import {
  followRun,
  type OutputMode,
  type RunContext,
  renderSummary,
  summaryJson,
  writeJsonLine,
} from './migration-output.js'

/** Installs how a run takes Ctrl-C (and such) while it is followed; returns what takes that away again. */
export type SignalTrap = (runner: MigrationRunner) => () => void

/**
 * The first Ctrl-C (or SIGTERM, as a supervisor or a CI runner stops a job) stops the run once the apps in flight
 * settle; the second leaves at once. Either way the run stays resumable with `carryOn`.
 */
function stopThenLeave(carryOn: (migrationId: string) => string): SignalTrap {
  return (runner) => {
    let interrupts = 0
    const onSignal = () => {
      interrupts++
      if (interrupts === 1) {
        process.stderr.write('\npausing: the apps in flight finish their step (Ctrl-C again to leave at once)\n')
        runner.interrupt('interrupt')
      } else {
        process.stderr.write(`\nleaving now; carry on with: ${carryOn(runner.migrationId)}\n`)
        process.exit(130)
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    return () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

/** `cfctl migrate`: see stopThenLeave. */
export const pauseThenLeave = stopThenLeave((id) => `cfctl migrate --resume ${id}`)

/** `cfctl rollback`: the same; a stopped rollback goes on where it stopped when it is run again. */
export const rollbackThenLeave = stopThenLeave((id) => `cfctl rollback ${id}`)

/**
 * Follows a run on stderr (tty) or as JSON lines while `work` (a forward run unless given) goes on, with
 * signals taken as `trap` says (pauseThenLeave unless given).
 */
export async function runFollowed(
  runner: MigrationRunner,
  mode: OutputMode,
  {
    work = () => runner.run(),
    about = {},
    trap = pauseThenLeave,
  }: { work?: () => Promise<MigrationOutcome>; about?: RunContext; trap?: SignalTrap } = {},
): Promise<MigrationOutcome> {
  const stop = followRun(
    mode,
    (listener) => runner.on(listener),
    () => runner.progress(),
    about,
  )
  const release = trap(runner)
  try {
    return await keepingAlive(work())
  } finally {
    stop()
    release()
  }
}

/**
 * `--ui`: the run goes on in this process while the dashboard shows and steers it. Quitting the dashboard
 * (q) asks first while the run goes on, as `cfctl dashboard` does; a confirmed quit pauses the run at its
 * next step, and it stays resumable.
 */
export async function runInDashboard(
  runner: MigrationRunner,
  connection: Connection,
  journal: Journal,
  runnerFor: (id: string) => MigrationRunner,
): Promise<MigrationOutcome> {
  const { runDashboard } = await import('../ui/dashboard/index.js')
  const run = keepingAlive(runner.run())
  await runDashboard({
    client: connection.client,
    journal,
    target: connection.session.target.api,
    runner,
    by: operator(),
    runnerFor,
  })
  try {
    runner.interrupt('dashboard-quit')
  } catch {
    // The run had already ended.
  }
  await run
  // What the journal says now, not what the forward run ended as: from the dashboard the operator may have
  // rolled the migration back (b), or left that rollback paused.
  return migrationOutcome(journal, runner.migrationId)
}

/** The summary (JSON line or text), what to do next (`hintFor`, nextStepsHint unless given), and the exit code. */
export function reportOutcome(
  command: { log: (line: string) => void },
  outcome: MigrationOutcome,
  mode: OutputMode,
  hintFor: (outcome: MigrationOutcome, code: number) => string | undefined = nextStepsHint,
) {
  const code = exitCodeOf(outcome)
  const hint = hintFor(outcome, code)
  if (mode === 'json') {
    writeJsonLine(summaryJson(outcome, code))
    if (hint) process.stderr.write(`${hint}\n`)
  } else command.log(renderSummary(outcome, hint))
  // Not an ExitError: the exit code of a run that ended is an outcome, not an error to report.
  if (code !== 0) process.exitCode = code
}

export function migrateOptions(flags: {
  to?: string
  rate?: string
  'max-in-flight': number
  org?: string
  space?: string
  app?: string[]
  'app-pattern'?: string
  exclude?: string[]
  'from-file'?: string
  order: string
  canary?: number
  'canary-wait'?: string
  timeout: string
  'max-failures': string
  'probe-interval': string
  unstaged?: string
}): MigrateOptions {
  parseMaxFailures(flags['max-failures'])
  return {
    to: flags.to as 'diego' | 'dea',
    rate: rateOption(flags.rate) ?? null,
    maxInFlight: flags['max-in-flight'],
    org: flags.org,
    space: flags.space,
    apps: flags.app,
    appPattern: flags['app-pattern'],
    exclude: flags.exclude,
    fromFile: flags['from-file'],
    order: flags.order as PlanOrder,
    unstaged: flags.unstaged as UnstagedPolicy | undefined,
    canary: flags.canary,
    canaryWaitMs: flags['canary-wait'] === undefined ? null : parseDuration(flags['canary-wait'], '--canary-wait'),
    timeoutMs: parseDuration(flags.timeout, '--timeout'),
    maxFailures: flags['max-failures'],
    probeIntervalMs: parseDuration(flags['probe-interval'], '--probe-interval'),
  }
}

/** A --rate flag: N/sec|min|hour, or `unlimited` (no limit, null), or undefined when not given. */
export function rateOption(text: string | undefined): ReturnType<typeof parseRate> | null | undefined {
  if (text === undefined) return undefined
  return text.trim().toLowerCase() === 'unlimited' ? null : parseRate(text)
}
