import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { journalFlag, migrationIdArg, operator, withRunnerJournal } from '../cli/journal.js'
import { rateOption, reportOutcome, rollbackThenLeave, runFollowed } from '../cli/migrate-run.js'
import { outputMode } from '../cli/migration-output.js'
import { confirm, interactive } from '../cli/prompt.js'
import { RealClock } from '../clock.js'
import { UsageError } from '../core/errors.js'
import { RUNNER_CC_CONNECTIONS, requireMigration, requireSameTarget, runnerFor } from '../core/migration/operation.js'
import { runningLockOf, stopForwardRun } from '../core/migration/takeover.js'

export default class Rollback extends CfctlCommand {
  static override summary = 'Return every app a migration moved to its original backend, last moved first'
  static override description =
    `Each app is flipped back and verified on its original backend (every instance RUNNING, its route
answering), at the migration's rate unless --rate says otherwise. Resumable: run it again after an interruption.
--no-verify is the emergency brake: flip everything back at once, without waiting on health.

While another cfctl runs the migration, or holds it paused, rollback takes over as \`kubectl rollout undo\`
does mid-rollout: that run is aborted (no new app starts; the apps in flight finish their step, and it
exits 3), then the apps are taken back here.

Ctrl-C or SIGTERM stops it once the apps in flight are back (exit 3); a second one leaves at once (exit 130).
Either way, run it again to go on.

Exit codes: 0 all back, 1 some could not be put back, 2 usage error, 3 interrupted or not started (the
prompt declined), 130 left at a second Ctrl-C.`
  static override examples = [
    '<%= config.bin %> rollback 20261123-111318-9093 --yes',
    '<%= config.bin %> rollback 20261123-111318-9093 --no-verify --yes',
  ]
  static override args = { id: migrationIdArg }
  static override flags = {
    journal: journalFlag,
    rate: Flags.string({
      description: "N/sec|min|hour, or unlimited (default: the migration's; unlimited with --no-verify)",
    }),
    'max-in-flight': Flags.integer({ description: 'apps moving back at once', min: 1, max: 1000 }),
    verify: Flags.boolean({
      description: 'wait until each app is healthy on its original backend',
      default: true,
      allowNo: true,
    }),
    yes: Flags.boolean({ char: 'y', description: 'start without asking' }),
    json: Flags.boolean({ description: 'one JSON event a line, then a JSON summary' }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rollback)
    const mode = outputMode(flags.json)
    // Checked before anything is asked or stopped: a refused rollback changes nothing.
    const rate = rateOption(flags.rate)
    const clock = new RealClock()
    await withRunnerJournal(flags, clock, async (journal) => {
      const migration = requireMigration(journal, args.id)
      const connection = await this.connect(flags, { connections: RUNNER_CC_CONNECTIONS })
      requireSameTarget(migration, connection.session.target.api)
      const moved = journal.steps(migration.id).filter((s) => s.flipped).length
      const running = runningLockOf(journal, migration.id)
      if (!flags.yes) {
        if (!interactive())
          throw new UsageError('rollback asks before it starts, and there is no terminal to ask', 'pass --yes')
        const question = running
          ? `cfctl (pid ${running.pid} on ${running.hostname}) runs ${migration.id}: stop it and return the ${moved} apps it moved so far to their original backend?`
          : `Return ${moved} apps of ${migration.id} to their original backend?`
        if (!(await confirm(question, '--yes'))) {
          process.stderr.write('not started: nothing was changed\n')
          process.exitCode = 3
          return
        }
      }
      if (running) {
        process.stderr.write(
          `stopping the run of pid ${running.pid} on ${running.hostname}: the apps in flight finish their step first\n`,
        )
        await stopForwardRun(journal, clock, migration.id, {
          by: `${operator()} (rollback)`,
          timeoutMs: migration.parameters.timeoutMs + 30_000,
        })
      }
      const runner = runnerFor(
        {
          journal,
          client: connection.client,
          probe: connection.probe,
          clock,
          unattended: !interactive(),
        },
        migration.id,
      )
      // Counted once the forward run (if any) has stopped: the apps that go back, and those already back.
      const goingBack = journal
        .steps(migration.id)
        .filter(
          (s) =>
            s.state === 'rolled-back' ||
            s.state === 'flipping' ||
            s.state === 'verifying' ||
            s.state === 'rolling-back' ||
            ((s.state === 'done' || s.state === 'failed') && s.flipped),
        ).length
      const outcome = await runFollowed(runner, mode, {
        work: () => runner.rollback({ verify: flags.verify, rate, maxInFlight: flags['max-in-flight'] }),
        about: { rollbackOf: goingBack },
        trap: rollbackThenLeave,
      })
      reportOutcome(this, outcome, mode, (_, code) =>
        code === 0 ? undefined : `run it again: cfctl rollback ${migration.id}`,
      )
    })
  }
}
