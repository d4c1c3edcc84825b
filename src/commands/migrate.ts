import { Errors, Flags } from '@oclif/core'
import { CfctlCommand, type Connection } from '../cli/base.js'
import { operator } from '../cli/journal.js'
import {
  followRun,
  type OutputMode,
  outputMode,
  planJson,
  renderPlan,
  renderSummary,
  summaryJson,
  writeJsonLine,
} from '../cli/migration-output.js'
import { confirm, interactive } from '../cli/prompt.js'
import { RealClock } from '../clock.js'
import { UsageError, UserError } from '../core/errors.js'
import { Journal } from '../core/journal/journal.js'
import { parseDuration } from '../core/migration/duration.js'
import {
  defaultJournalPath,
  defaultPauseFile,
  type MigrateOptions,
  prepareMigration,
  RUNNER_CC_CONNECTIONS,
  RUNNER_JOURNAL_COMMIT_DELAY_MS,
  recordMigration,
  requireMigration,
  requireSameTarget,
  runnerFor,
} from '../core/migration/operation.js'
import { PLAN_ORDERS, type PlanOrder } from '../core/migration/plan.js'
import { parseMaxFailures, parseRate } from '../core/migration/rate.js'
import { exitCodeOf, type MigrationOutcome, type MigrationRunner, migrationOutcome } from '../core/migration/runner.js'
import { DEFAULT_UNSTAGED_POLICY, UNSTAGED_POLICIES, type UnstagedPolicy } from '../core/migration/unstaged.js'

export default class Migrate extends CfctlCommand {
  static override summary = 'Move apps from one backend to the other at a controlled pace, verified, resumable'
  static override description =
    `Selects the apps on the source backend (started and stopped), shows the plan, and moves them one by
one: the intent is journaled, the diego flag is set, and the step is done only when every instance runs on
the target and the app's route answers. A step that fails is rolled back on its own. Routability is probed
while each app moves; every gap is reported.

Without a terminal (a CI job, a script), a pause that waits for a person (cfctl migrations pause, a canary
without --canary-wait) ends the run with exit 3 once the apps in flight settle; cfctl migrate --resume ID
carries on. On a terminal such a pause holds until cfctl migrations resume ID. The pause file holds either
way, for as long as it exists.

Exit codes: 0 all migrated, 1 some failed, 2 usage error, 3 paused or aborted.`
  static override examples = [
    '<%= config.bin %> migrate --embedded --to diego --rate 600/min --yes',
    '<%= config.bin %> migrate --to diego --rate 10/min --max-in-flight 5 --org acme --dry-run',
    '<%= config.bin %> migrate --to diego --app-pattern "*-worker" --canary 3 --canary-wait 10m --yes --json',
    '<%= config.bin %> migrate --resume 2b1f…',
  ]

  static override flags = {
    to: Flags.string({ description: 'the backend the apps move to', options: ['diego', 'dea'] }),
    rate: Flags.string({ description: 'at most N app starts per sec, min or hour, e.g. 10/min (default: no limit)' }),
    'max-in-flight': Flags.integer({ description: 'apps moving at once', default: 1, min: 1, max: 1000 }),
    org: Flags.string({ char: 'o', description: 'only apps in this org' }),
    space: Flags.string({ char: 's', description: 'only apps in this space' }),
    app: Flags.string({ description: 'only this app (name or guid); repeatable', multiple: true }),
    'app-pattern': Flags.string({ description: 'only apps whose name matches this glob, e.g. "*-api"' }),
    exclude: Flags.string({ description: 'leave out apps matching this glob or guid; repeatable', multiple: true }),
    'from-file': Flags.string({ description: 'only the apps listed in FILE, a name or guid a line' }),
    order: Flags.string({ description: 'order of the moves', options: [...PLAN_ORDERS], default: 'name' }),
    canary: Flags.integer({ description: 'move N apps first, verify them, then wait', min: 1 }),
    'canary-wait': Flags.string({ description: 'go on this long after a good canary (default: wait for resume)' }),
    timeout: Flags.string({ description: 'per app, from the flip to verified', default: '3m' }),
    'max-failures': Flags.string({
      description: 'failed apps (N or P%) tolerated before the migration stops',
      default: '0',
    }),
    'probe-interval': Flags.string({ description: "how often a moving app's route is probed", default: '1s' }),
    unstaged: Flags.string({
      description:
        'apps whose staging failed or is pending: skip leaves them where they are, move sets their flag (verified by the flag alone)',
      options: [...UNSTAGED_POLICIES],
      default: DEFAULT_UNSTAGED_POLICY,
    }),
    'dry-run': Flags.boolean({ description: 'print the plan and the capacity check, change nothing' }),
    yes: Flags.boolean({ char: 'y', description: 'start without asking' }),
    force: Flags.boolean({ description: 'start even when the target backend cannot hold the selection' }),
    resume: Flags.string({ description: 'carry on with migration ID after a pause, a crash or kill -9' }),
    journal: Flags.string({ description: 'the journal file (default: $CFCTL_HOME/journal.db)' }),
    'pause-file': Flags.string({
      description: 'while this file exists, no new app starts (default: $CFCTL_HOME/pause)',
    }),
    ui: Flags.boolean({ description: 'run the migration inside the live dashboard (on a terminal)' }),
    json: Flags.boolean({
      description: 'one JSON event a line, then a JSON summary (the default when stdout is not a terminal)',
    }),
  }

  /**
   * `--ui`: the run goes on in this process while the dashboard shows and steers it. Quitting the dashboard
   * (q) before the run ends pauses it at its next step; it stays resumable.
   */
  private async runInDashboard(runner: MigrationRunner, connection: Connection, context: UiRunContext): Promise<void> {
    const { runDashboard } = await import('../ui/dashboard/index.js')
    const run = runner.run()
    await runDashboard({
      client: connection.client,
      auth: connection.session,
      skipSslValidation: connection.session.target.skipSslValidation,
      journal: context.journal,
      target: connection.session.target.api,
      runner,
      by: operator(),
      runnerFor: (id) => runnerFor(context, id),
    })
    try {
      runner.interrupt('dashboard-quit')
    } catch {
      // The run had already ended.
    }
    await run
    // What the journal says now, not what the forward run ended as: from the dashboard the operator may have
    // rolled the migration back (b), or left that rollback paused.
    this.report(migrationOutcome(context.journal, runner.migrationId), 'tty')
  }

  /** The summary (JSON line or text), what to do next, and the exit code of the run. */
  private report(outcome: MigrationOutcome, mode: OutputMode): void {
    const id = outcome.migrationId
    const code = exitCodeOf(outcome)
    const hint =
      outcome.state === 'paused'
        ? `resume with: cfctl migrate --resume ${id}   roll back with: cfctl rollback ${id}`
        : outcome.state === 'rolling-back'
          ? `finish the rollback with: cfctl rollback ${id}`
          : outcome.failures.length > 0
            ? `roll back with: cfctl rollback ${id}`
            : undefined
    if (mode === 'json') {
      writeJsonLine(summaryJson(outcome, code))
      if (hint) process.stderr.write(`${hint}\n`)
    } else this.log(renderSummary(outcome, hint))
    if (code !== 0) throw new Errors.ExitError(code)
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Migrate)
    const mode = outputMode(flags.json)
    const clock = new RealClock()
    const journal = Journal.open(flags.journal ?? defaultJournalPath(), {
      clock,
      commitDelayMs: RUNNER_JOURNAL_COMMIT_DELAY_MS,
    })
    try {
      // The invocation is checked whole before anything asks the target: a usage error is exit 2 either way.
      if (flags.resume && flags['dry-run']) throw new UsageError('--resume and --dry-run do not go together')
      if (!flags.resume && !flags.to) throw new UsageError('--to is required', 'e.g. --to diego (or --resume ID)')
      const options = flags.resume ? undefined : migrateOptions(flags)
      if (options && !flags['dry-run'] && !flags.yes && !interactive())
        throw new UsageError('migrate asks before it starts, and there is no terminal to ask', 'pass --yes')
      const connection = await this.connect(flags, {
        connections: RUNNER_CC_CONNECTIONS,
        // Under --json a CC warning is one more event of the stream.
        onWarning: mode === 'json' ? (message) => writeJsonLine({ type: 'warning', message }) : undefined,
      })
      const context = {
        journal,
        client: connection.client,
        probe: connection.probe,
        clock,
        pauseFile: flags['pause-file'] ?? defaultPauseFile(),
        unattended: !interactive(),
      }
      let migrationId: string
      if (!options) {
        const migration = requireMigration(journal, flags.resume!)
        requireSameTarget(migration, connection.session.target.api)
        migrationId = migration.id
      } else {
        const prepared = await prepareMigration(connection.client, options)
        const rate = options.rate?.text ?? null
        if (flags['dry-run']) {
          if (mode === 'json') writeJsonLine(planJson(prepared.plan, prepared.capacity, rate))
          else this.log(renderPlan(prepared.plan, prepared.capacity, rate))
          return
        }
        if (mode === 'tty') this.log(renderPlan(prepared.plan, prepared.capacity, rate))
        if (!prepared.capacity.ok && !flags.force)
          throw new UserError(
            `refusing to start: ${prepared.capacity.messages.filter(Boolean).join('; ')}`,
            'add capacity, narrow the selection, or pass --force',
          )
        if (!flags.yes) {
          if (!(await confirm(`Move ${prepared.plan.steps.length} apps to ${flags.to}?`, '--yes')))
            throw new UserError('not started', undefined, 3)
        }
        if (mode === 'json') writeJsonLine(planJson(prepared.plan, prepared.capacity, rate))
        migrationId = recordMigration(journal, connection.session.target.api, prepared, options).id
      }

      const runner = runnerFor(context, migrationId)
      if (flags.ui && process.stdout.isTTY) {
        await this.runInDashboard(runner, connection, context)
        return
      }
      if (flags.ui) process.stderr.write('--ui needs a terminal on stdout; following the run as JSON lines instead\n')
      const stop = followRun(
        mode,
        (listener) => runner.on(listener),
        () => runner.progress(),
      )
      let interrupts = 0
      const onSignal = () => {
        interrupts++
        if (interrupts === 1) {
          process.stderr.write('\npausing: the apps in flight finish their step (Ctrl-C again to leave at once)\n')
          runner.interrupt('interrupt')
        } else {
          process.stderr.write(`\nleaving now; resume with: cfctl migrate --resume ${migrationId}\n`)
          process.exit(130)
        }
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      let outcome: MigrationOutcome
      try {
        outcome = await runner.run()
      } finally {
        stop()
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
      this.report(outcome, mode)
    } finally {
      journal.close()
    }
  }
}

interface UiRunContext {
  journal: Journal
  client: Connection['client']
  probe: Connection['probe']
  clock: RealClock
  pauseFile: string
}

function migrateOptions(flags: {
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
    rate: flags.rate === undefined ? null : parseRate(flags.rate),
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
