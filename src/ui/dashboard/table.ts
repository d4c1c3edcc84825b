// The app table's rows after the filter and the sort: a list of indexes into the rows, so 50,000 apps are
// filtered and sorted without copying them, and the panel draws only the slice that fits on screen.
import type { BackendName } from '../../core/apps/inventory.js'
import type { StepState } from '../../core/journal/types.js'
import type { AppTableRow, StepStatus } from './model.js'

export const SORT_KEYS = ['name', 'org', 'state', 'instances', 'memory', 'backend', 'step'] as const
export type SortKey = (typeof SORT_KEYS)[number]

export interface SortOrder {
  key: SortKey
  descending: boolean
}

/** The column each sort key orders by, as the header names it. */
export const SORT_LABELS: Record<SortKey, string> = {
  name: 'name',
  org: 'org/space',
  state: 'state',
  instances: 'instances',
  memory: 'memory',
  backend: 'backend',
  step: 'step',
}

/** Trouble first when sorting by step. */
const STEP_RANK: Record<StepState, number> = {
  failed: 0,
  'rolling-back': 1,
  flipping: 2,
  verifying: 3,
  pending: 4,
  done: 5,
  'rolled-back': 6,
}

/** The backend an app runs on now: the last step event's flag when newer than the poll, else the poll's. */
export function backendOfRow(row: AppTableRow, status: StepStatus | undefined): BackendName {
  if (status?.diego === undefined) return row.backend
  return status.diego ? 'diego' : 'dea'
}

/** A failed step, or one being put back after an error: the rows the table shows in red. */
export function isFailing(status: StepStatus | undefined): boolean {
  return status !== undefined && (status.state === 'failed' || (status.state === 'rolling-back' && !!status.error))
}

/**
 * Indexes of the rows that match every word of `filter` (in the name, org/space, backend or step state;
 * `!word` leaves matches out), in the order `sort` asks for. Ties keep the listing's order.
 */
export function tableView(
  rows: readonly AppTableRow[],
  steps: ReadonlyMap<string, StepStatus>,
  filter: string,
  sort: SortOrder,
): number[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  const wanted = words.filter((w) => !w.startsWith('!'))
  const unwanted = words
    .filter((w) => w.startsWith('!'))
    .map((w) => w.slice(1))
    .filter(Boolean)
  const matches = (row: AppTableRow): boolean => {
    if (wanted.length === 0 && unwanted.length === 0) return true
    const status = steps.get(row.guid)
    const text = `${row.search} ${backendOfRow(row, status)} ${status ? status.state : ''}${isFailing(status) ? ' failing' : ''}`
    for (const w of wanted) if (!text.includes(w)) return false
    for (const w of unwanted) if (text.includes(w)) return false
    return true
  }
  const picked: number[] = []
  for (let i = 0; i < rows.length; i++) if (matches(rows[i]!)) picked.push(i)
  // One key per picked row, worked out before the sort rather than in each of its n log n comparisons.
  const keys = sortKeys(rows, steps, sort.key, picked)
  const order = picked.map((_, i) => i)
  const sign = sort.descending ? -1 : 1
  order.sort((a, b) => {
    const x = keys[a]!
    const y = keys[b]!
    const c = x < y ? -1 : x > y ? 1 : 0
    return c === 0 ? picked[a]! - picked[b]! : sign * c
  })
  return order.map((i) => picked[i]!)
}

function sortKeys(
  rows: readonly AppTableRow[],
  steps: ReadonlyMap<string, StepStatus>,
  key: SortKey,
  picked: readonly number[],
): Array<string | number> {
  const of = (pick: (row: AppTableRow) => string | number) => picked.map((i) => pick(rows[i]!))
  switch (key) {
    case 'name':
      return of((r) => r.name)
    case 'org':
      return of((r) => r.search.slice(r.name.length + 1))
    case 'state':
      return of((r) => r.state)
    case 'instances':
      return of((r) => r.instances)
    case 'memory':
      return of((r) => r.memoryMb)
    case 'backend':
      return of((r) => backendOfRow(r, steps.get(r.guid)))
    case 'step':
      return of((r) => {
        const status = steps.get(r.guid)
        return status ? STEP_RANK[status.state] : 99
      })
  }
}

/** Whether the view depends on the step states (and must be worked out again when they change). */
export function viewFollowsSteps(filter: string, sort: SortOrder): boolean {
  return filter.trim() !== '' || sort.key === 'step' || sort.key === 'backend'
}
