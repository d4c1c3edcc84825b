import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { choiceFlag } from '../cli/choice-flag.js'
import { withRunnerJournal } from '../cli/journal.js'
import { migrateOptions, reportOutcome, runFollowed, runInDashboard } from '../cli/migrate-run.js'
import { outputMode, planJson, renderPlan, writeJsonLine } from '../cli/migration-output.js'
import { confirm, interactive } from '../cli/prompt.js'
import { allFlag, scopeOf } from '../cli/scope.js'
import { RealClock } from '../clock.js'
import { UsageError } from '../core/errors.js'
import { parseDuration } from '../core/migration/duration.js'
import { migrate } from '../core/migration/migrate.js'
import {
  defaultPauseFile,
  measuredStep,
  prepareMigration,
  RUNNER_CC_CONNECTIONS,
  runnerFor,
} from '../core/migration/operation.js'
import { PLAN_ORDERS } from '../core/migration/plan.js'
import { DEFAULT_UNSTAGED_POLICY, UNSTAGED_POLICIES } from '../core/migration/unstaged.js'

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

The one-per-target lock is checked before the plan is shown: while another cfctl runs a migration on the
target, migrate refuses (exit 1) and records nothing.

Exit codes: 0 all migrated, 1 some failed or nothing to move (a dry run too) or the target is busy, 2 usage
error, 3 paused, aborted, or not started (the prompt declined: nothing is recorded).`
  static override examples = [
    '<%= config.bin %> migrate --embedded --to diego --rate 600/min --yes',
    '<%= config.bin %> migrate --to diego --rate 10/min --max-in-flight 5 --org acme --dry-run',
    '<%= config.bin %> migrate --to diego --app-pattern "*-worker" --canary 3 --canary-wait 10m --yes --json',
    '<%= config.bin %> migrate --resume 2b1f…',
  ]

  static override flags = {
    to: choiceFlag(['diego', 'dea'], { description: 'the backend the apps move to (in any case: Diego, DEA)' }),
    rate: Flags.string({
      description: 'at most N app starts per sec, min or hour, e.g. 10/min, or unlimited (the default)',
    }),
    'max-in-flight': Flags.integer({ description: 'apps moving at once', default: 1, min: 1, max: 1000 }),
    org: Flags.string({ char: 'o', description: 'only apps in this org (default: the targeted org)' }),
    all: allFlag,
    space: Flags.string({ char: 's', description: 'only apps in this space (default: the targeted space)' }),
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
    'outage-wait': Flags.string({
      description: 'how long to wait for a CC that does not answer before pausing (resumable, exit 3)',
      default: '10m',
    }),
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
    wait: Flags.boolean({
      description:
        "with --resume: while another cfctl's lease on the target is fresh (one killed on another machine holds it up to 30 s), wait for it to lapse instead of refusing",
      dependsOn: ['resume'],
    }),
    journal: Flags.string({ description: 'the journal file (default: $CFCTL_HOME/journal.db)' }),
    'pause-file': Flags.string({
      description: 'while this file exists, no new app starts (default: $CFCTL_HOME/pause)',
    }),
    ui: Flags.boolean({ description: 'run the migration inside the live dashboard (on a terminal)' }),
    json: Flags.boolean({
      description: 'one JSON event a line, then a JSON summary (the default when stdout is not a terminal)',
    }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Migrate)
    const mode = outputMode(flags.json)
    const clock = new RealClock()
    await withRunnerJournal(flags, clock, async (journal) => {
      // The invocation is checked whole before anything asks the target: a usage error is exit 2 either way.
      if (flags.resume && flags['dry-run']) throw new UsageError('--resume and --dry-run do not go together')
      if (!flags.resume && !flags.to) throw new UsageError('--to is required', 'e.g. --to diego (or --resume ID)')
      if (flags.all && flags.resume)
        throw new UsageError('--all selects apps; --resume carries on a recorded migration')
      const outageWaitMs = parseDuration(flags['outage-wait'], '--outage-wait')
      if (!flags.resume) migrateOptions(flags)
      if (!flags.resume && !flags['dry-run'] && !flags.yes && !interactive())
        throw new UsageError('migrate asks before it starts, and there is no terminal to ask', 'pass --yes')
      const connection = await this.connect(flags, { connections: RUNNER_CC_CONNECTIONS })
      const context = {
        journal,
        client: connection.client,
        probe: connection.probe,
        clock,
        pauseFile: flags['pause-file'] ?? defaultPauseFile(),
        unattended: !interactive(),
        outageWaitMs,
      }
      const target = connection.session.target.api
      const scope = scopeOf(flags, flags.embedded ? undefined : connection.session)
      const options = flags.resume ? undefined : migrateOptions({ ...flags, org: scope.org, space: scope.space })
      const rate = options?.rate?.text ?? null
      const result = await migrate(
        {
          journal,
          clock,
          target,
          prepare: (o) => prepareMigration(connection.client, o, measuredStep(journal, target)),
          runnerFor: (id, owner) => runnerFor(context, id, owner),
        },
        options
          ? { kind: 'new', options, dryRun: flags['dry-run'], force: flags.force, yes: flags.yes }
          : { kind: 'resume', id: flags.resume!, yes: flags.yes, wait: flags.wait },
        {
          plan: (p) => {
            if (mode === 'tty') this.log(renderPlan(p.plan, p.capacity, rate, scope.label))
            else if (flags['dry-run']) writeJsonLine(planJson(p.plan, p.capacity, rate, scope.label))
          },
          confirm: (question) => confirm(question, '--yes'),
          waiting: (lock, lapsesAt) =>
            process.stderr.write(
              `waiting for the lease of pid ${lock.pid} on ${lock.hostname} (migration ${lock.migrationId}) to lapse, at ${new Date(lapsesAt).toISOString()} unless it heartbeats again\n`,
            ),
          recorded: (_m, p) => {
            if (p && mode === 'json') writeJsonLine(planJson(p.plan, p.capacity, rate, scope.label))
          },
          run: (runner) =>
            flags.ui && process.stdout.isTTY
              ? runInDashboard(runner, connection, journal, (id) => runnerFor(context, id))
              : runFollowed(runner, flags.ui ? 'json' : mode, {
                  about: { canaryWaitMs: journal.requireMigration(runner.migrationId).parameters.canaryWaitMs },
                }),
        },
      )
      if (result.kind === 'dry-run') return
      if (result.kind === 'declined') {
        process.stderr.write('not started: nothing was changed or recorded\n')
        process.exitCode = 3
        return
      }
      reportOutcome(this, result.outcome, flags.ui && process.stdout.isTTY ? 'tty' : mode)
    })
  }
}
