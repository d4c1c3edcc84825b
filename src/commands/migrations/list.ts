import { Flags } from '@oclif/core'
import { interrupted, journalFlag, withJournal } from '../../cli/journal.js'
import { migrationRow } from '../../cli/migration-output.js'
import { MigrationsCommand } from '../../cli/migrations-command.js'
import { table } from '../../ui/text.js'

export default class MigrationsList extends MigrationsCommand {
  static override summary = 'List the migrations in the journal'
  static override examples = [
    '<%= config.bin %> migrations list',
    '<%= config.bin %> migrations list --state running --json',
  ]
  static override flags = {
    journal: journalFlag,
    state: Flags.string({
      description: 'only migrations in this state',
      options: ['planned', 'running', 'paused', 'completed', 'failed', 'aborted', 'rolling-back', 'rolled-back'],
      multiple: true,
    }),
  }

  async run(): Promise<ReturnType<typeof migrationRow>[]> {
    const { flags } = await this.parse(MigrationsList)
    return withJournal(flags, (journal) => {
      const rows = journal
        .migrations(flags.state ? { states: flags.state as never } : {})
        .map((m) => migrationRow(m, journal.stepCounts(m.id), interrupted(journal, m)))
      if (!this.jsonEnabled()) {
        if (rows.length === 0) this.log(`no migrations in ${journal.path}`)
        else
          this.log(
            table(
              rows,
              [
                { header: 'id', value: (r) => r.id },
                { header: 'state', value: (r) => (r.interrupted ? `${r.state} (interrupted)` : r.state) },
                { header: 'to', value: (r) => r.to },
                { header: 'done', value: (r) => `${r.done}/${r.total}`, align: 'right' },
                { header: 'failed', value: (r) => String(r.failed), align: 'right' },
                { header: 'rate', value: (r) => r.rate ?? 'unlimited' },
                { header: 'paused by', value: (r) => r.pausedBy ?? '' },
                { header: 'target', value: (r) => r.target, shrinkable: true },
                { header: 'created', value: (r) => r.createdAt.replace('T', ' ').slice(0, 19) },
              ],
              process.stdout.columns,
            ),
          )
      }
      return rows
    })
  }
}
