import { CfctlCommand } from '../../cli/base.js'
import { journalFlag, migrationIdArg, openJournal, operator } from '../../cli/journal.js'
import { controlMigration } from '../../core/migration/control.js'
import { requireMigration } from '../../core/migration/operation.js'

export default class MigrationsResume extends CfctlCommand {
  static override summary = 'Resume a paused migration that a cfctl is running (else: cfctl migrate --resume ID)'
  static override description =
    `Acts through the journal: a cfctl that is running the migration picks the command up within a second;
when none is, the journal is changed directly. The operator who did it is recorded.`
  static override examples = ['<%= config.bin %> migrations resume 20261123-111318-9093']
  static override enableJsonFlag = true
  static override args = { id: migrationIdArg }
  static override flags = { journal: journalFlag }

  async run(): Promise<{ id: string; delivered: string; state: string }> {
    const { args, flags } = await this.parse(MigrationsResume)
    const journal = openJournal(flags.journal)
    try {
      const migration = requireMigration(journal, args.id)
      const result = controlMigration(journal, migration.id, { type: 'resume', by: operator() })
      const state = journal.requireMigration(migration.id).state
      if (!this.jsonEnabled())
        this.log(
          result.delivered === 'runner'
            ? `resume sent to the cfctl running ${migration.id} (pid ${result.lock.pid} on ${result.lock.hostname})`
            : `migration ${migration.id} is now ${state}`,
        )
      return { id: migration.id, delivered: result.delivered, state }
    } finally {
      journal.close()
    }
  }
}
