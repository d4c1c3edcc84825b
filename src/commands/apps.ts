import { Flags } from '@oclif/core'
import { CfctlCommand } from '../cli/base.js'
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
    backend: Flags.string({ description: 'only apps on this backend', options: ['dea', 'diego'] }),
    org: Flags.string({ char: 'o', description: 'only apps in this org' }),
    space: Flags.string({
      char: 's',
      description: 'only apps in this space (with --org when the name is in several orgs)',
    }),
    state: Flags.string({ description: 'only started or stopped apps', options: ['started', 'stopped'] }),
    csv: Flags.boolean({ description: 'print CSV instead of a table', exclusive: ['json'] }),
  }

  async run(): Promise<AppRow[]> {
    const { flags } = await this.parse(Apps)
    const { client } = await this.connect(flags)
    const listing = await listApps(client, {
      backend: flags.backend as 'dea' | 'diego' | undefined,
      org: flags.org,
      space: flags.space,
      state: flags.state as 'started' | 'stopped' | undefined,
    })
    if (!this.jsonEnabled()) this.render(listing, flags.csv)
    return listing.apps
  }

  private render(listing: AppListing, asCsv: boolean): void {
    const paint = painterFor(process.stdout)
    const columns: Column<AppRow>[] = [
      { header: 'name', value: (a) => a.name, shrinkable: true, minWidth: 8 },
      { header: 'org/space', value: (a) => `${a.org}/${a.space}`, shrinkable: true, minWidth: 9 },
      { header: 'state', value: (a) => a.state.toLowerCase() },
      { header: 'instances', value: (a) => String(a.instances), align: 'right' },
      { header: 'memory', value: (a) => formatMb(a.memoryMb), align: 'right' },
      { header: 'backend', value: (a) => a.backend },
    ]
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
