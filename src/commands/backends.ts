import { CfctlCommand } from '../cli/base.js'
import { type BackendName, type BackendUsage, backendsSummary } from '../core/apps/inventory.js'
import { formatMb, painterFor, table } from '../ui/text.js'

export default class Backends extends CfctlCommand {
  static override summary = 'Apps and instances per backend, and capacity where the target shows it'
  static override description =
    `Counts come from the Cloud Controller's apps. Capacity (cells and DEAs, memory, containers) is an
extension of the embedded foundation; a real Cloud Controller does not report it, and cfctl says so.`
  static override examples = ['<%= config.bin %> backends', '<%= config.bin %> backends --embedded --json']
  static override enableJsonFlag = true

  async run(): Promise<Record<BackendName, BackendUsage>> {
    const { flags } = await this.parse(Backends)
    const { client } = await this.connect(flags)
    const summary = await backendsSummary(client)
    if (!this.jsonEnabled()) this.render(summary)
    return summary
  }

  private render(summary: Record<BackendName, BackendUsage>): void {
    const paint = painterFor(process.stdout)
    const rows = (['dea', 'diego'] as const).map((name) => ({ name, ...summary[name] }))
    const percent = (used: number, total: number) => (total > 0 ? `${Math.round((used / total) * 100)}%` : '-')
    const known = rows.some((r) => r.capacity)
    process.stdout.write(
      `${table(
        rows,
        [
          { header: 'backend', value: (r) => (r.name === 'dea' ? 'DEA' : 'Diego') },
          { header: 'apps', value: (r) => String(r.apps), align: 'right' },
          { header: 'started', value: (r) => String(r.startedApps), align: 'right' },
          { header: 'instances', value: (r) => String(r.instances), align: 'right' },
          { header: 'memory', value: (r) => formatMb(r.memoryMb), align: 'right' },
          ...(known
            ? [
                {
                  header: 'nodes up',
                  value: (r: (typeof rows)[number]) => (r.capacity ? `${r.capacity.nodesUp}/${r.capacity.nodes}` : '-'),
                  align: 'right' as const,
                },
                {
                  header: 'memory used',
                  value: (r: (typeof rows)[number]) =>
                    r.capacity
                      ? `${formatMb(r.capacity.memoryMb.used)}/${formatMb(r.capacity.memoryMb.total)} ${percent(r.capacity.memoryMb.used, r.capacity.memoryMb.total)}`
                      : '-',
                  align: 'right' as const,
                },
                {
                  header: 'containers',
                  value: (r: (typeof rows)[number]) =>
                    !r.capacity
                      ? '-'
                      : r.capacity.containers.total === null
                        ? `${r.capacity.containers.used} (no limit)`
                        : `${r.capacity.containers.used}/${r.capacity.containers.total}`,
                  align: 'right' as const,
                },
              ]
            : []),
        ],
        process.stdout.columns,
      )}\n`,
    )
    if (!known)
      process.stdout.write(paint.dim('capacity: not reported by this target (a real CC does not expose it)\n'))
  }
}
