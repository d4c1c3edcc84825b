import { Flags } from '@oclif/core'
import { interrupted, journalFlag, migrationIdArg, withJournal } from '../../cli/journal.js'
import { migrationRow, renderSummary, stepRow } from '../../cli/migration-output.js'
import { MigrationsCommand } from '../../cli/migrations-command.js'
import { requireMigration } from '../../core/migration/operation.js'
import { migrationOutcome } from '../../core/migration/runner.js'
import { table } from '../../ui/text.js'

export default class MigrationsShow extends MigrationsCommand {
  static override summary = 'Show a migration: its state, who paused it, its steps and its last events'
  static override examples = ['<%= config.bin %> migrations show 20261123-111318-9093 --steps']
  static override args = { id: migrationIdArg }
  static override flags = {
    journal: journalFlag,
    steps: Flags.boolean({ description: 'list every step, not only the failed and the moving ones' }),
    events: Flags.integer({ description: 'how many of the last events to show', default: 10, min: 0 }),
  }

  async run() {
    const { args, flags } = await this.parse(MigrationsShow)
    return withJournal(flags, (journal) => {
      const migration = requireMigration(journal, args.id)
      const steps = journal.steps(migration.id).map(stepRow)
      const events = journal.events(migration.id)
      const outcome = migrationOutcome(journal, migration.id)
      const lock = journal.liveRunnerOf(migration.id)
      const cutShort = interrupted(journal, migration)
      const result = {
        ...migrationRow(migration, journal.stepCounts(migration.id), cutShort),
        parameters: migration.parameters,
        error: migration.error,
        runner: lock
          ? { pid: lock.pid, hostname: lock.hostname, heartbeatAt: new Date(lock.heartbeatAt).toISOString() }
          : null,
        outcome,
        steps,
        events: events.slice(-Math.max(flags.events, 0)),
      }
      if (!this.jsonEnabled()) {
        this.log(renderSummary(outcome, undefined))
        this.log(
          `  target ${migration.target}, to ${migration.to}, rate ${migration.parameters.rate ?? 'unlimited'}, ${migration.parameters.maxInFlight} in flight at most`,
        )
        this.log(
          lock
            ? `  run by pid ${lock.pid} on ${lock.hostname}`
            : cutShort
              ? `  interrupted: no cfctl runs it (killed or crashed); carry on with: cfctl ${migration.state === 'rolling-back' ? 'rollback' : 'migrate --resume'} ${migration.id}`
              : '  no cfctl is running it now',
        )
        const shown = flags.steps ? steps : steps.filter((s) => s.state !== 'done' && s.state !== 'pending')
        if (shown.length > 0)
          this.log(
            table(
              shown,
              [
                { header: '#', value: (s) => String(s.position + 1), align: 'right' },
                { header: 'app', value: (s) => s.app, shrinkable: true },
                { header: 'org/space', value: (s) => s.orgSpace, shrinkable: true },
                { header: 'state', value: (s) => s.state },
                { header: 'move', value: (s) => `${s.from}→${s.to}` },
                { header: 'error', value: (s) => s.error ?? '', shrinkable: true },
              ],
              process.stdout.columns,
            ),
          )
        for (const event of result.events) {
          const { type, at, migrationId: _id, seq: _seq, ...rest } = event
          this.log(`  ${new Date(at).toISOString()} ${type} ${JSON.stringify(rest)}`)
        }
      }
      return result
    })
  }
}
