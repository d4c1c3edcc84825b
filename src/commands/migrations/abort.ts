import { Flags } from '@oclif/core'
import { commandMigration, type Delivered, journalFlag, migrationIdArg } from '../../cli/journal.js'
import { MigrationsCommand } from '../../cli/migrations-command.js'
import { confirm, interactive } from '../../cli/prompt.js'
import { UsageError } from '../../core/errors.js'

export default class MigrationsAbort extends MigrationsCommand {
  static override summary = 'Abort a migration: no new app starts; it can still be rolled back'
  static override description =
    `Asks first, as the dashboard's a does (--yes for scripts; without a terminal it is required). Acts
through the journal: a cfctl that is running the migration picks the command up within a second; when none
is, the journal is changed directly. The operator who did it is recorded.

Exit codes: 0 aborted (or sent to the cfctl running it), 2 usage error or a finished migration, 3 not
aborted (the prompt declined).`
  static override examples = [
    '<%= config.bin %> migrations abort 20261123-111318-9093',
    '<%= config.bin %> migrations abort 9093 --yes',
  ]
  static override args = { id: migrationIdArg }
  static override flags = {
    journal: journalFlag,
    yes: Flags.boolean({ char: 'y', description: 'abort without asking' }),
  }

  async run(): Promise<Delivered | undefined> {
    const { args, flags } = await this.parse(MigrationsAbort)
    if (!flags.yes) {
      if (!interactive())
        throw new UsageError('migrations abort asks first, and there is no terminal to ask', 'pass --yes')
      if (!(await confirm(`Abort ${args.id}? No new app starts; it can still be rolled back.`, '--yes'))) {
        process.stderr.write('not aborted: nothing was changed\n')
        process.exitCode = 3
        return undefined
      }
    }
    return commandMigration(flags.journal, args.id, 'abort', this.jsonEnabled() ? undefined : (line) => this.log(line))
  }
}
