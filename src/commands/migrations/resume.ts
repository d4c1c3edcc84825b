import { CfctlCommand } from '../../cli/base.js'
import { commandMigration, type Delivered, journalFlag, migrationIdArg } from '../../cli/journal.js'

export default class MigrationsResume extends CfctlCommand {
  static override summary = 'Resume a paused migration that a cfctl is running (else: cfctl migrate --resume ID)'
  static override description =
    `Acts through the journal: a cfctl that is running the migration picks the command up within a second;
when none is, the journal is changed directly. The operator who did it is recorded.`
  static override examples = ['<%= config.bin %> migrations resume 20261123-111318-9093']
  static override enableJsonFlag = true
  // They read and write the journal only, so --embedded (which would start a foundation nothing here
  // talks to) is not offered. The cast keeps the base class's flag type, which they never read.
  static override baseFlags = {} as typeof CfctlCommand.baseFlags
  static override args = { id: migrationIdArg }
  static override flags = { journal: journalFlag }

  async run(): Promise<Delivered> {
    const { args, flags } = await this.parse(MigrationsResume)
    return commandMigration(flags.journal, args.id, 'resume', this.jsonEnabled() ? undefined : (line) => this.log(line))
  }
}
