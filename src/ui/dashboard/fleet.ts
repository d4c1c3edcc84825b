// The target's apps as the dashboard holds them: column by column, in name order, each org/space once.
// 50,000 apps are then a few arrays and typed arrays instead of 50,000 objects (and 100,000 copies of the
// same org and space names): cheap to pass from the worker that polls, cheap to keep, quick to filter and
// sort. A row object is made only for the few rows on screen.
import type { AppRow, BackendName } from '../../core/apps/inventory.js'

export interface Place {
  org: string
  space: string
}

export interface Fleet {
  readonly size: number
  readonly guid: readonly string[]
  readonly name: readonly string[]
  /** Index into `places`. */
  readonly place: Uint32Array
  readonly places: readonly Place[]
  /** 1 when STARTED. */
  readonly started: Uint8Array
  readonly instances: Uint32Array
  readonly memoryMb: Uint32Array
  readonly diskMb: Uint32Array
  /** 1 when the app's flag says Diego. */
  readonly diego: Uint8Array
}

export const EMPTY_FLEET: Fleet = fleetOf([])

/** The rows in name order (then guid, so equal names keep one order from poll to poll). */
export function fleetOf(rows: readonly AppRow[]): Fleet {
  const order = rows.map((_, i) => i)
  order.sort((a, b) => {
    const x = rows[a]!
    const y = rows[b]!
    return x.name < y.name ? -1 : x.name > y.name ? 1 : x.guid < y.guid ? -1 : x.guid > y.guid ? 1 : 0
  })
  const size = rows.length
  const guid = new Array<string>(size)
  const name = new Array<string>(size)
  const place = new Uint32Array(size)
  const places: Place[] = []
  const placeIndex = new Map<string, number>()
  const started = new Uint8Array(size)
  const instances = new Uint32Array(size)
  const memoryMb = new Uint32Array(size)
  const diskMb = new Uint32Array(size)
  const diego = new Uint8Array(size)
  order.forEach((from, i) => {
    const row = rows[from]!
    guid[i] = row.guid
    name[i] = row.name
    const key = `${row.org}\u0000${row.space}`
    let at = placeIndex.get(key)
    if (at === undefined) {
      at = places.length
      places.push({ org: row.org, space: row.space })
      placeIndex.set(key, at)
    }
    place[i] = at
    started[i] = row.state === 'STARTED' ? 1 : 0
    instances[i] = row.instances
    memoryMb[i] = row.memoryMb
    diskMb[i] = row.diskMb
    diego[i] = row.backend === 'diego' ? 1 : 0
  })
  return { size, guid, name, place, places, started, instances, memoryMb, diskMb, diego }
}

export function backendAt(fleet: Fleet, i: number): BackendName {
  return fleet.diego[i] ? 'diego' : 'dea'
}

/** Row `i` as an object, for drawing it. */
export function rowAt(fleet: Fleet, i: number): AppRow {
  const place = fleet.places[fleet.place[i]!]!
  return {
    guid: fleet.guid[i]!,
    name: fleet.name[i]!,
    org: place.org,
    space: place.space,
    state: fleet.started[i] ? 'STARTED' : 'STOPPED',
    instances: fleet.instances[i]!,
    memoryMb: fleet.memoryMb[i]!,
    diskMb: fleet.diskMb[i]!,
    backend: backendAt(fleet, i),
  }
}
