// The dashboard when stdout is not a terminal (a pipe, a file, CI): one plain-text snapshot of the same
// data, with no ink loaded. Colour only where the stream takes it and NO_COLOR is unset.

import type { AppRow } from '../../core/apps/inventory.js'
import { formatMb, painterFor, table } from '../text.js'
import { rowAt } from './fleet.js'
import { bar, clockTime, count, percent, shortDuration } from './format.js'
import type { BackendView, DashboardSnapshot } from './model.js'
import { backendNow, isFailing } from './table.js'

/** Apps listed by name in the snapshot: the failing and the moving ones, no more than this. */
const APPS_LISTED = 50
const EVENTS_LISTED = 10

export function plainSnapshot(
  snapshot: DashboardSnapshot,
  options: { width?: number; stream?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv } = {},
): string {
  const paint = painterFor(options.stream ?? process.stdout, options.env ?? process.env)
  const width = options.width
  const out: string[] = []
  const read = snapshot.apps.loadedAt === undefined ? 'not read' : `read at ${clockTime(snapshot.apps.loadedAt)}`
  out.push(`${paint.bold('cfctl dashboard')} · ${snapshot.target} · ${count(snapshot.apps.fleet.size)} apps ${read}`)
  if (snapshot.apps.error) out.push(paint.red(`apps: ${snapshot.apps.error}`))

  out.push('', paint.bold('Backends'))
  if (!snapshot.backends) out.push(paint.dim('not read'))
  else {
    const rows = [snapshot.backends.dea, snapshot.backends.diego]
    const capacity = (b: BackendView, pick: (c: NonNullable<BackendView['capacity']>) => string) =>
      b.capacity ? pick(b.capacity) : '-'
    out.push(
      table(
        rows,
        [
          { header: 'backend', value: (b) => (b.name === 'dea' ? 'DEA' : 'Diego') },
          { header: 'apps', value: (b) => count(b.apps), align: 'right' },
          { header: 'started', value: (b) => count(b.startedApps), align: 'right' },
          { header: 'instances', value: (b) => count(b.instances), align: 'right' },
          { header: 'nodes up', value: (b) => capacity(b, (c) => `${c.nodesUp}/${c.nodes}`), align: 'right' },
          {
            header: 'memory used',
            value: (b) =>
              capacity(
                b,
                (c) =>
                  `${bar(c.memoryMb.total > 0 ? c.memoryMb.used / c.memoryMb.total : 0, 10)} ${percent(c.memoryMb.used, c.memoryMb.total)} ${formatMb(c.memoryMb.used)}/${formatMb(c.memoryMb.total)}`,
              ),
          },
        ],
        width,
      ),
    )
  }

  const m = snapshot.migration
  out.push('', paint.bold('Migration'))
  if (!m) out.push(paint.dim('no migration for this target in the journal'))
  else {
    const settled = m.counts.done + m.counts.failed + m.counts['rolled-back']
    out.push(
      `${m.id} → ${m.to}: ${m.state}${m.pausedBy ? ` by ${m.pausedBy}` : ''} · rate ${m.rate ?? 'no limit'} · max in flight ${m.maxInFlight}`,
      `${bar(m.total > 0 ? settled / m.total : 0, 20)} ${percent(settled, m.total)} ${count(settled)}/${count(m.total)} · done ${count(m.counts.done)} · in flight ${count(m.inFlight)} · failed ${count(m.counts.failed)} · pending ${count(m.counts.pending)}`,
      `rate now ${m.pace.now}${m.pace.limit ? ` of ${m.pace.limit}` : ''}${m.state === 'running' && m.pace.etaMs !== null ? ` · ETA ${shortDuration(m.pace.etaMs)}` : ''}`,
      snapshot.gaps.count === 0
        ? 'gaps: none'
        : `gaps: ${count(snapshot.gaps.count)}, longest ${shortDuration(snapshot.gaps.longestMs)}`,
    )
    const { byGuid } = snapshot.steps
    const { fleet } = snapshot.apps
    const notable: AppRow[] = []
    for (let i = 0; i < fleet.size && notable.length < APPS_LISTED; i++) {
      const status = byGuid.get(fleet.guid[i]!)
      if (isFailing(status) || status?.state === 'flipping' || status?.state === 'verifying') {
        notable.push({ ...rowAt(fleet, i), backend: backendNow(fleet, i, status) })
      }
    }
    if (notable.length > 0) {
      out.push(
        '',
        table(
          notable,
          [
            { header: 'app', value: (r) => r.name, shrinkable: true, minWidth: 8 },
            { header: 'org/space', value: (r) => `${r.org}/${r.space}`, shrinkable: true, minWidth: 9 },
            { header: 'backend', value: (r) => r.backend },
            { header: 'step', value: (r) => byGuid.get(r.guid)?.state ?? '' },
            { header: 'error', value: (r) => byGuid.get(r.guid)?.error ?? '', shrinkable: true, minWidth: 10 },
          ],
          width,
        ),
      )
    }
  }

  if (snapshot.events.length > 0) {
    out.push('', paint.bold('Events'))
    for (const line of snapshot.events.slice(-EVENTS_LISTED)) {
      const text = `${clockTime(line.at)} ${line.text}`
      out.push(line.tone === 'bad' ? paint.red(text) : line.tone === 'warn' ? paint.yellow(text) : text)
    }
  }

  out.push('', paint.bold('Migrations in the journal'))
  if (snapshot.fleet.length === 0) out.push(paint.dim('none'))
  else {
    out.push(
      table(
        snapshot.fleet,
        [
          { header: 'id', value: (f) => f.id },
          { header: 'to', value: (f) => f.to },
          { header: 'state', value: (f) => f.state },
          { header: 'done/total', value: (f) => `${count(f.done)}/${count(f.total)}`, align: 'right' },
          { header: 'failed', value: (f) => count(f.failed), align: 'right' },
          { header: 'paused by', value: (f) => f.pausedBy ?? '' },
          { header: 'target', value: (f) => f.target, shrinkable: true, minWidth: 10 },
        ],
        width,
      ),
    )
  }
  return `${out.join('\n')}\n`
}
