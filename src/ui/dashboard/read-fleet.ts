// One poll of the target for the dashboard: every app, read with a schema of only the fields the table
// shows (a 50,000-app listing then holds small records, not the CC client's full ones), with org and space
// names, and the capacity, turned into a Fleet. The worker thread runs it; so can a test, on its own thread.
import { z } from 'zod'
import type { BackendsCapacity, CcClient } from '../../core/cc/index.js'
import { type Fleet, FleetColumns } from './fleet.js'

/** An app as the table needs it; zod drops every other field of the CC's resource. */
const TableApp = z.object({
  metadata: z.object({ guid: z.string() }),
  entity: z.object({
    name: z.string(),
    space_guid: z.string(),
    state: z.enum(['STARTED', 'STOPPED']),
    instances: z.number().int().nonnegative(),
    memory: z.number().int().nonnegative(),
    disk_quota: z.number().int().nonnegative(),
    diego: z.boolean(),
  }),
})

export interface FleetPoll {
  fleet: Fleet
  /** Absent when the target does not report it (a real CC). */
  capacity: BackendsCapacity | undefined
}

export interface ReadFleetOptions {
  /**
   * A full garbage collection, run as the poll starts and every `collectEvery` apps read. Default: V8's, when bin/run.js started
   * Node with --expose-gc (bin/heap-flags.js); otherwise none.
   */
  collect?: () => void
  /** Default COLLECT_EVERY. */
  collectEvery?: number
  /**
   * The fleet of the poll before: an app it holds keeps its guid and name strings, so a poll adds no copy of
   * them while the fleet before is still shown (50,000 guids alone are 2.8 MB).
   */
  previous?: Fleet
}

/**
 * Apps read between two full collections: about 25 pages, 3.6 MB of JSON. Reading 50,000 apps moves some 73 MB
 * through the sockets, and what the reads leave behind is freed only by a full collection (a young-generation
 * one does not), which V8 puts off until tens of MB have piled up: the C allocator then keeps that high-water
 * mark as the process's for good. Collected this often, the pile stays at a few MB; each collection costs the
 * thread that draws some 20 to 40 ms, 20 times in a poll of 50,000 apps (which takes seconds at the least).
 */
export const COLLECT_EVERY = 2_500

export async function readFleet(client: CcClient, options: ReadFleetOptions = {}): Promise<FleetPoll> {
  const collect = options.collect ?? exposedGc()
  const collectEvery = options.collectEvery ?? COLLECT_EVERY
  // What the time since the last poll left (frames drawn, a table filtered and sorted 50,000 rows at a time)
  // goes before the poll adds its own on top.
  collect?.()
  let read = 0
  // Each page's apps go straight into columns (no object per app outlives its page), each app's space as an
  // index: 50,000 apps carry only some thousand distinct space guids.
  const columns = new FleetColumns()
  const spaceGuids: string[] = []
  const spaceIndex = new Map<string, number>()
  // Apps share names (the same app in each space): each name is held once.
  const names = new Map<string, string>()
  const previous = options.previous
  const add = ({ metadata, entity }: z.infer<typeof TableApp>): number => {
    if (collect && ++read % collectEvery === 0) collect()
    let name = names.get(entity.name)
    let guid = metadata.guid
    const before = previous ? rowOf(previous, entity.name, guid) : -1
    if (before >= 0) {
      guid = previous!.guid[before]!
      name ??= previous!.name[before]!
    }
    if (name === undefined) {
      name = entity.name
      if (names.size < MAX_NAMES) names.set(name, name)
    }
    let space = spaceIndex.get(entity.space_guid)
    if (space === undefined) {
      space = spaceGuids.length
      spaceGuids.push(entity.space_guid)
      spaceIndex.set(entity.space_guid, space)
    }
    return columns.add(
      guid,
      name,
      space,
      entity.state === 'STARTED',
      entity.instances,
      entity.memory,
      entity.disk_quota,
      entity.diego,
    )
  }
  const [rows, spaces, orgs, capacity] = await Promise.all([
    client.listMapped('/v2/apps', TableApp, add),
    client.spaces(),
    client.organizations(),
    client.backendsCapacity(),
  ])
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]))
  const byGuid = new Map(spaces.map((s) => [s.guid, { org: orgNames.get(s.orgGuid) ?? s.orgGuid, space: s.name }]))
  const places = spaceGuids.map((guid) => byGuid.get(guid) ?? { org: '', space: guid })
  // `rows` are the apps the walk kept (an app a shifting list showed twice is there once).
  return { fleet: columns.sorted(places, rows), capacity }
}

/** Names held once at the most: a fleet of mostly distinct names gains nothing from it. */
const MAX_NAMES = 20_000

/** The row of the app of this name and guid in `fleet` (in name order, then guid), or -1. */
function rowOf(fleet: Fleet, name: string, guid: string): number {
  let low = 0
  let high = fleet.size - 1
  while (low <= high) {
    const mid = (low + high) >>> 1
    const n = fleet.name[mid]!
    const g = fleet.guid[mid]!
    if (n === name && g === guid) return mid
    if (n < name || (n === name && g < guid)) low = mid + 1
    else high = mid - 1
  }
  return -1
}

type Gc = (options: { type: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void

function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: Gc }).gc
  return gc && (() => gc({ type: 'major' }))
}
