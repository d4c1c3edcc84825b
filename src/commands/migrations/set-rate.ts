import { Args, Flags } from '@oclif/core'
import { journalFlag, migrationIdArg, withJournal } from '../../cli/journal.js'
import { MigrationsCommand } from '../../cli/migrations-command.js'
import { UsageError } from '../../core/errors.js'
import { changePace } from '../../core/migration/control.js'
import { requireMigration } from '../../core/migration/operation.js'
import { parseRate } from '../../core/migration/rate.js'

export default class MigrationsSetRate extends MigrationsCommand {
  static override summary = 'Change the rate (and the apps in flight) of a migration, live'
  static override examples = [
    '<%= config.bin %> migrations set-rate 20261123-111318-9093 30/min',
    '<%= config.bin %> migrations set-rate 20261123-111318-9093 unlimited --max-in-flight 10',
  ]
  static override args = {
    id: migrationIdArg,
    rate: Args.string({ description: 'N/sec, N/min or N/hour, or "unlimited"' }),
  }
  static override flags = {
    journal: journalFlag,
    'max-in-flight': Flags.integer({ description: 'apps moving at once', min: 1, max: 1000 }),
  }

  async run(): Promise<{ id: string; rate?: string | null; maxInFlight?: number }> {
    const { args, flags } = await this.parse(MigrationsSetRate)
    if (args.rate === undefined && flags['max-in-flight'] === undefined)
      throw new UsageError('give a RATE, --max-in-flight, or both', 'e.g. cfctl migrations set-rate ID 30/min')
    const rate =
      args.rate === undefined ? undefined : args.rate === 'unlimited' ? null : parseRate(args.rate, 'RATE').text
    const maxInFlight = flags['max-in-flight']
    return withJournal(flags, (journal) => {
      const migration = requireMigration(journal, args.id)
      const result = changePace(journal, migration.id, { rate, maxInFlight })
      if (!this.jsonEnabled()) {
        const pace = [
          ...(rate !== undefined ? [`rate ${rate ?? 'unlimited'}`] : []),
          ...(maxInFlight !== undefined ? [`${maxInFlight} in flight at most`] : []),
        ].join(', ')
        this.log(
          result.delivered === 'runner'
            ? `migration ${migration.id}: ${pace}, sent to the cfctl running it (pid ${result.lock.pid} on ${result.lock.hostname})`
            : `migration ${migration.id}: ${pace}`,
        )
      }
      return { id: migration.id, rate, maxInFlight }
    })
  }
}
