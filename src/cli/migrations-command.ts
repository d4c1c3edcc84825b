// What the `cfctl migrations ...` commands share: they answer --json, read and write the journal only, and
// pause and resume differ in nothing but the command they send.
import { CfctlCommand } from './base.js'
import { commandMigration, type Delivered, journalFlag, migrationIdArg } from './journal.js'

export abstract class MigrationsCommand extends CfctlCommand {
  static override enableJsonFlag = true
  // They read and write the journal only, so --embedded (which would start a foundation nothing here
  // talks to) is not offered. The cast keeps the base class's flag type, which they never read.
  static override baseFlags = {} as typeof CfctlCommand.baseFlags
}

/** `cfctl migrations pause|resume ID`: the command goes to the migration through the journal (commandMigration). */
export abstract class MigrationControlCommand extends MigrationsCommand {
  static override description =
    `Acts through the journal: a cfctl that is running the migration picks the command up within a second;
when none is, the journal is changed directly. The operator who did it is recorded.`
  static override args = { id: migrationIdArg }
  static override flags = { journal: journalFlag }

  protected abstract readonly control: 'pause' | 'resume'

  async run(): Promise<Delivered> {
    // This class, not the subclass: oclif's parse reads args off the class it is given as own properties.
    const { args, flags } = await this.parse(MigrationControlCommand)
    return commandMigration(
      flags.journal,
      args.id,
      this.control,
      this.jsonEnabled() ? undefined : (line) => this.log(line),
    )
  }
}
