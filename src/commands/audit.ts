import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { RealClock } from '../clock.js'
import { type DiegoFlip, diegoFlips, parseSince } from '../core/audit/diego-flips.js'
import { type Column, csv, painterFor, table } from '../ui/text.js'

export default class Audit extends CfctlCommand {
  static override summary = "Who changed which app's backend (its diego flag), and when"
  static override description =
    `Reads the Cloud Controller's audit.app.update events (GET /v2/events) and lists those that set an
app's diego flag: cfctl's migrations and flips made by anyone else (cf enable-diego, a raw PUT), with the
user or client that made each. You see the events of the spaces you are a developer or auditor of, and
of the orgs you audit; an admin sees all. A CC keeps events for a limited time (31 days by default).`
  static override examples = [
    '<%= config.bin %> audit --since 24h',
    '<%= config.bin %> audit --org acme-retail --space prod --csv',
    '<%= config.bin %> audit --app checkout-worker --json',
  ]
  static override enableJsonFlag = true
  static override flags = {
    org: Flags.string({ char: 'o', description: 'only apps in this org' }),
    space: Flags.string({ char: 's', description: 'only apps in this space (with --org when the name is in several)' }),
    app: Flags.string({ description: 'only this app (name or guid)' }),
    since: Flags.string({ description: 'only flips since a time ago (90m, 24h, 7d, 2w) or a date (2016-04-01)' }),
    csv: Flags.boolean({ description: 'print CSV instead of a table', exclusive: ['json'] }),
  }

  async run(): Promise<DiegoFlip[]> {
    const { flags } = await this.parse(Audit)
    const since = flags.since === undefined ? undefined : parseSince(flags.since, new RealClock().now())
    const { client, session } = await this.connect(flags)
    const flips = await diegoFlips(client, {
      org: flags.org,
      space: flags.space,
      app: flags.app,
      since,
      defaultOrgGuid: session.org?.guid,
      defaultSpaceGuid: session.space?.guid,
    })
    if (!this.jsonEnabled()) this.render(flips, flags.csv)
    return flips
  }

  private render(flips: DiegoFlip[], asCsv: boolean): void {
    const columns: Column<DiegoFlip>[] = [
      { header: 'time', value: (f) => f.time },
      { header: 'app', value: (f) => f.appName, shrinkable: true, minWidth: 8 },
      { header: 'org/space', value: (f) => `${f.org}/${f.space}`, shrinkable: true, minWidth: 9 },
      { header: 'backend', value: (f) => f.backend },
      { header: 'by', value: (f) => f.actor, shrinkable: true, minWidth: 6 },
      { header: 'actor type', value: (f) => f.actorType },
    ]
    if (asCsv) {
      const full: Column<DiegoFlip>[] = [
        ...columns,
        { header: 'app guid', value: (f) => f.appGuid },
        { header: 'actor guid', value: (f) => f.actorGuid },
      ]
      process.stdout.write(`${csv(flips, full)}\n`)
      return
    }
    if (flips.length > 0) process.stdout.write(`${table(flips, columns, process.stdout.columns)}\n\n`)
    const apps = new Set(flips.map((f) => f.appGuid)).size
    process.stdout.write(
      `${painterFor(process.stdout).bold(String(flips.length))} flips of the diego flag, of ${apps} apps\n`,
    )
  }
}
