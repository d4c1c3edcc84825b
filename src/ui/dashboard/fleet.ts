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

/** What a Fleet is built from, one app at a time. */
export interface FleetApp {
  guid: string
  name: string
  org: string
  space: string
  started: boolean
  instances: number
  memoryMb: number
  diskMb: number
  diego: boolean
}

/** The rows in name order (then guid, so equal names keep one order from poll to poll). */
export function fleetOf(rows: readonly AppRow[]): Fleet {
  return fleetFrom(rows.length, (i) => {
    const row = rows[i]!
    return { ...row, started: row.state === 'STARTED', diego: row.backend === 'diego' }
  })
}

/** `size` apps, app `i` given by `appAt(i)`, in name order (then guid, so equal names keep one order). */
export function fleetFrom(size: number, appAt: (i: number) => FleetApp): Fleet {
  const names = new Array<string>(size)
  const guids = new Array<string>(size)
  for (let i = 0; i < size; i++) {
    const app = appAt(i)
    names[i] = app.name
    guids[i] = app.guid
  }
  const order = Array.from({ length: size }, (_, i) => i)
  order.sort((a, b) => {
    const x = names[a]!
    const y = names[b]!
    if (x !== y) return x < y ? -1 : 1
    return guids[a]! < guids[b]! ? -1 : guids[a]! > guids[b]! ? 1 : 0
  })
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
    const app = appAt(from)
    guid[i] = app.guid
    name[i] = app.name
    const key = `${app.org}\u0000${app.space}`
    let at = placeIndex.get(key)
    if (at === undefined) {
      at = places.length
      places.push({ org: app.org, space: app.space })
      placeIndex.set(key, at)
    }
    place[i] = at
    started[i] = app.started ? 1 : 0
    instances[i] = app.instances
    memoryMb[i] = app.memoryMb
    diskMb[i] = app.diskMb
    diego[i] = app.diego ? 1 : 0
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
