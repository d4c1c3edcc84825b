import { Flags } from '@oclif/core'
import { CfctlCommand } from '../../cli/base.js'
import { interrupted, journalFlag, openJournal } from '../../cli/journal.js'
import { migrationRow } from '../../cli/migration-output.js'
import { table } from '../../ui/text.js'

export default class MigrationsList extends CfctlCommand {
  static override summary = 'List the migrations in the journal'
  static override examples = [
    '<%= config.bin %> migrations list',
    '<%= config.bin %> migrations list --state running --json',
  ]
  static override enableJsonFlag = true
  // They read and write the journal only, so --embedded (which would start a foundation nothing here
  // talks to) is not offered. The cast keeps the base class's flag type, which they never read.
  static override baseFlags = {} as typeof CfctlCommand.baseFlags
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
    const journal = openJournal(flags.journal)
    try {
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
    } finally {
      journal.close()
    }
  }
}
