import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
import { choiceFlag } from '../cli/choice-flag.js'
import { allFlag, scopeOf } from '../cli/scope.js'
import { type AppListing, type AppRow, listApps } from '../core/apps/inventory.js'
import { type Column, csv, formatMb, painterFor, table } from '../ui/text.js'

export default class Apps extends CfctlCommand {
  static override summary = 'List apps and the backend each runs on (DEA or Diego)'
  static override description =
    `Reads every page of /v2/apps (fetched concurrently) from the target. Without --backend, lists both
and counts each. The Cloud Controller filters by backend, org and space; --state is matched by cfctl, as the CC
has no state filter.`
  static override examples = [
    '<%= config.bin %> apps --backend dea',
    '<%= config.bin %> apps --backend diego --org acme --space prod',
    '<%= config.bin %> apps --backend dea --state started --json | jq length',
    '<%= config.bin %> apps --embedded',
  ]
  static override enableJsonFlag = true

  static override flags = {
    backend: choiceFlag(['dea', 'diego'], { description: 'only apps on this backend (in any case: DEA, Diego)' }),
    org: Flags.string({ char: 'o', description: 'only apps in this org' }),
    space: Flags.string({
      char: 's',
      description: 'only apps in this space (with --org when the name is in several orgs)',
    }),
    state: choiceFlag(['started', 'stopped'], { description: 'only started or stopped apps' }),
    all: allFlag,
    csv: Flags.boolean({ description: 'print CSV instead of a table', exclusive: ['json'] }),
  }

  async run(): Promise<AppRow[]> {
    const { flags } = await this.parse(Apps)
    const { client, session } = await this.connect(flags)
    const scope = scopeOf(flags, session)
    const listing = await listApps(client, {
      backend: flags.backend,
      org: scope.org,
      space: scope.space,
      state: flags.state,
    })
    // By name, as `cf apps` lists them; an app's name may repeat across spaces, so then by org/space.
    listing.apps.sort(
      (a, b) => a.name.localeCompare(b.name) || `${a.org}/${a.space}`.localeCompare(`${b.org}/${b.space}`),
    )
    if (!this.jsonEnabled()) this.render(listing, flags.csv)
    return listing.apps
  }

  private render(listing: AppListing, asCsv: boolean): void {
    const paint = painterFor(process.stdout)
    const columns = APP_COLUMNS
    if (asCsv) {
      const withGuid: Column<AppRow>[] = [{ header: 'guid', value: (a) => a.guid }, ...columns]
      process.stdout.write(`${csv(listing.apps, withGuid)}\n`)
      return
    }
    if (listing.apps.length > 0) process.stdout.write(`${table(listing.apps, columns, process.stdout.columns)}\n\n`)
    const { dea, diego } = listing.counts
    process.stdout.write(`${paint.bold(String(listing.apps.length))} apps: ${dea} on DEA, ${diego} on Diego\n`)
  }
}

/** The table's columns. */
export const APP_COLUMNS: Column<AppRow>[] = [
  // The name is what an operator copies into enable-diego: never cut; org/space gives way instead.
  { header: 'name', value: (a) => a.name },
  { header: 'org/space', value: (a) => `${a.org}/${a.space}`, shrinkable: true, minWidth: 9 },
  { header: 'state', value: (a) => a.state.toLowerCase() },
  { header: 'instances', value: (a) => String(a.instances), align: 'right' },
  { header: 'memory', value: (a) => formatMb(a.memoryMb), align: 'right' },
  { header: 'backend', value: (a) => a.backend },
]
