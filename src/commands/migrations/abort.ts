import { CfctlCommand } from '../../cli/base.js'
import { commandMigration, type Delivered, journalFlag, migrationIdArg } from '../../cli/journal.js'

export default class MigrationsAbort extends CfctlCommand {
  static override summary = 'Abort a migration: no new app starts; it can still be rolled back'
  static override description =
    `Acts through the journal: a cfctl that is running the migration picks the command up within a second;
when none is, the journal is changed directly. The operator who did it is recorded.`
  static override examples = ['<%= config.bin %> migrations abort 20261123-111318-9093']
  static override enableJsonFlag = true
  static override args = { id: migrationIdArg }
  static override flags = { journal: journalFlag }

  async run(): Promise<Delivered> {
    const { args, flags } = await this.parse(MigrationsAbort)
    return commandMigration(flags.journal, args.id, 'abort', this.jsonEnabled() ? undefined : (line) => this.log(line))
  }
}
