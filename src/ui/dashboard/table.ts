// The app table's rows after the filter and the sort: a list of indexes into the fleet, so 50,000 apps are
// filtered and sorted without copying them, and the panel draws only the slice that fits on screen.
import type { BackendName } from '../../core/apps/inventory.js'
import { STEP_STATES, type StepState } from '../../core/journal/types.js'
import { backendAt, type Fleet } from './fleet.js'
import type { StepStatus } from './model.js'

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
export function backendNow(fleet: Fleet, i: number, status: StepStatus | undefined): BackendName {
  if (status?.diego === undefined) return backendAt(fleet, i)
  return status.diego ? 'diego' : 'dea'
}

/** A failed step, or one being put back after an error: the rows the table shows in red. */
export function isFailing(status: StepStatus | undefined): boolean {
  return status !== undefined && (status.state === 'failed' || (status.state === 'rolling-back' && !!status.error))
}

/** Lower-case names, worked out once per fleet rather than on every keystroke (shared when already lower). */
const lowerNames = new WeakMap<Fleet, readonly string[]>()

function lowerNamesOf(fleet: Fleet): readonly string[] {
  let names = lowerNames.get(fleet)
  if (!names) {
    names = fleet.name.map((name) => {
      const lower = name.toLowerCase()
      return lower === name ? name : lower
    })
    lowerNames.set(fleet, names)
  }
  return names
}

/**
 * Indexes of the apps that match every word of `filter` (in the name, org/space, backend or step state;
 * `!word` leaves matches out), in the order `sort` asks for. Ties keep the fleet's order (by name).
 */
export function tableView(
  fleet: Fleet,
  steps: ReadonlyMap<string, StepStatus>,
  filter: string,
  sort: SortOrder,
  /** The steps' version: with it, each app's step is looked up once per version, not on every keystroke. */
  stepsVersion?: number,
): number[] {
  const statusAt = statusesOf(fleet, steps, stepsVersion)
  const words = filter
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '' && w !== '!')
    .map((w) => {
      const text = w.startsWith('!') ? w.slice(1) : w
      // What the word can match besides the name and org/space, worked out once rather than per app.
      return {
        text,
        negated: w.startsWith('!'),
        dea: 'dea'.includes(text),
        diego: 'diego'.includes(text),
        failing: 'failing'.includes(text),
        states: new Set(STEP_STATES.filter((state) => state.includes(text))),
      }
    })
  let picked: number[]
  if (words.length === 0) {
    picked = new Array<number>(fleet.size)
    for (let i = 0; i < fleet.size; i++) picked[i] = i
  } else {
    const names = lowerNamesOf(fleet)
    const places = fleet.places.map((p) => `${p.org}/${p.space}`.toLowerCase())
    picked = []
    for (let i = 0; i < fleet.size; i++) {
      let keep = true
      for (const word of words) {
        let found = names[i]!.includes(word.text) || places[fleet.place[i]!]!.includes(word.text)
        if (!found && (word.dea || word.diego || word.failing || word.states.size > 0)) {
          const status = statusAt(i)
          const backend = backendNow(fleet, i, status)
          found =
            (backend === 'dea' ? word.dea : word.diego) ||
            (status !== undefined && (word.states.has(status.state) || (word.failing && isFailing(status))))
        }
        if (found === word.negated) {
          keep = false
          break
        }
      }
      if (keep) picked.push(i)
    }
  }
  // The fleet is in name order already: sorting by name is the order it has, or its reverse.
  if (sort.key === 'name') return sort.descending ? picked.reverse() : picked
  return countingSort(picked, sortKeys(fleet, statusAt, sort.key, picked), sort.descending)
}

/**
 * `picked` ordered by its keys (small whole numbers), equal keys in the order they come: a counting sort,
 * a few milliseconds for 50,000 apps where a comparison sort takes tens.
 */
function countingSort(picked: readonly number[], keys: readonly number[], descending: boolean): number[] {
  let max = 0
  for (const key of keys) if (key > max) max = key
  const starts = new Uint32Array(max + 2)
  for (const key of keys) starts[(descending ? max - key : key) + 1]!++
  for (let k = 1; k < starts.length; k++) starts[k]! += starts[k - 1]!
  const out = new Array<number>(picked.length)
  for (let n = 0; n < picked.length; n++) {
    const bucket = descending ? max - keys[n]! : keys[n]!
    out[starts[bucket]!++] = picked[n]!
  }
  return out
}

/** One whole number per picked app to sort by. */
function sortKeys(
  fleet: Fleet,
  statusAt: (i: number) => StepStatus | undefined,
  key: SortKey,
  picked: readonly number[],
): number[] {
  switch (key) {
    case 'org': {
      const rank = ranks(fleet.places.map((p) => `${p.org}/${p.space}`))
      return picked.map((i) => rank[fleet.place[i]!]!)
    }
    case 'state':
      return picked.map((i) => (fleet.started[i] ? 0 : 1))
    case 'instances':
      return picked.map((i) => fleet.instances[i]!)
    case 'memory':
      return picked.map((i) => fleet.memoryMb[i]!)
    case 'backend':
      return picked.map((i) => (backendNow(fleet, i, statusAt(i)) === 'dea' ? 0 : 1))
    case 'step':
      return picked.map((i) => {
        const status = statusAt(i)
        return status ? STEP_RANK[status.state] : STEP_STATES.length
      })
    case 'name':
      return picked.map((_, n) => n)
  }
}

/** The last fleet's steps, app by app, and what they were worked out from. */
let statusCache:
  | { fleet: Fleet; steps: ReadonlyMap<string, StepStatus>; version: number; statuses: Array<StepStatus | undefined> }
  | undefined

/** Each app's step: from a cache kept for one fleet and steps version, or looked up in the map as asked. */
function statusesOf(
  fleet: Fleet,
  steps: ReadonlyMap<string, StepStatus>,
  version: number | undefined,
): (i: number) => StepStatus | undefined {
  if (version === undefined) return (i) => steps.get(fleet.guid[i]!)
  const cached = statusCache
  if (cached && cached.fleet === fleet && cached.steps === steps && cached.version === version) {
    return (i) => cached.statuses[i]
  }
  const statuses = new Array<StepStatus | undefined>(fleet.size)
  if (steps.size > 0) for (let i = 0; i < fleet.size; i++) statuses[i] = steps.get(fleet.guid[i]!)
  statusCache = { fleet, steps, version, statuses }
  return (i) => statuses[i]
}

/** Each text's place in the sorted list of them (equal texts share a rank). */
function ranks(texts: readonly string[]): number[] {
  const sorted = [...new Set(texts)].sort()
  const rankOf = new Map(sorted.map((text, i) => [text, i]))
  return texts.map((text) => rankOf.get(text)!)
}

/** Whether the view depends on the step states (and must be worked out again when they change). */
export function viewFollowsSteps(filter: string, sort: SortOrder): boolean {
  return filter.trim() !== '' || sort.key === 'step' || sort.key === 'backend'
}
