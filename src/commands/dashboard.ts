import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { journalFlag, operator, withJournal } from '../cli/journal.js'
import { RealClock } from '../clock.js'
import { RUNNER_CC_CONNECTIONS, runnerFor } from '../core/migration/operation.js'

export default class Dashboard extends CfctlCommand {
  static override summary = 'Watch the target live (backends, apps, its running migration) and steer the migration'
  static override description =
    `Polls the apps and the capacity every few seconds and follows the target's running migration through the
journal, whichever cfctl runs it. Keys as in k9s: / filter, : view (:apps, :migrations, :events), ? help,
q quit; p pause, r resume, a abort, b rollback, +/- rate. When stdout is not a terminal, prints one
plain-text snapshot instead.`
  static override examples = [
    '<%= config.bin %> dashboard',
    '<%= config.bin %> dashboard --readonly',
    '<%= config.bin %> dashboard --embedded',
    '<%= config.bin %> dashboard | less',
  ]

  static override flags = {
    readonly: Flags.boolean({ description: 'watch only: the control keys do nothing', default: false }),
    journal: journalFlag,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Dashboard)
    await withJournal(flags, async (journal) => {
      const { session, client, probe } = await this.connect(flags, { connections: RUNNER_CC_CONNECTIONS })
      // Loaded here, so no other command pays for ink and React at start-up.
      const { runDashboard } = await import('../ui/dashboard/index.js')
      await runDashboard({
        client,
        journal,
        target: session.target.api,
        readonly: flags.readonly,
        by: operator(),
        runnerFor: (id) => runnerFor({ journal, client, probe, clock: new RealClock() }, id),
      })
    })
  }
}
