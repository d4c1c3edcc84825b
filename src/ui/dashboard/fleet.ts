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
  const columns = new FleetColumns()
  const places: Place[] = []
  const placeIndex = new Map<string, number>()
  for (let i = 0; i < size; i++) {
    const app = appAt(i)
    const key = `${app.org}\u0000${app.space}`
    let at = placeIndex.get(key)
    if (at === undefined) {
      at = places.length
      places.push({ org: app.org, space: app.space })
      placeIndex.set(key, at)
    }
    columns.add(app.guid, app.name, at, app.started, app.instances, app.memoryMb, app.diskMb, app.diego)
  }
  return columns.sorted(places)
}

/**
 * Apps as a poll reads them, a column each, in the order read: no object per app is made on the way, and
 * `sorted` turns them into the Fleet. `place` is an index the caller gives meaning to (the poll: its space).
 */
export class FleetColumns {
  size = 0
  private readonly guid: string[] = []
  private readonly name: string[] = []
  private place = new Uint32Array(1024)
  private started = new Uint8Array(1024)
  private instances = new Uint32Array(1024)
  private memoryMb = new Uint32Array(1024)
  private diskMb = new Uint32Array(1024)
  private diego = new Uint8Array(1024)

  /** Adds an app; answers its row. */
  add(
    guid: string,
    name: string,
    place: number,
    started: boolean,
    instances: number,
    memoryMb: number,
    diskMb: number,
    diego: boolean,
  ): number {
    const row = this.size++
    if (row === this.place.length) this.grow()
    this.guid.push(guid)
    this.name.push(name)
    this.place[row] = place
    this.started[row] = started ? 1 : 0
    this.instances[row] = instances
    this.memoryMb[row] = memoryMb
    this.diskMb[row] = diskMb
    this.diego[row] = diego ? 1 : 0
    return row
  }

  /**
   * The Fleet of `rows` (default all, each at most once), in name order, then guid. `places[p]` is the place
   * of the apps added with place `p`; equal places are held once.
   */
  sorted(places: readonly Place[], rows?: ArrayLike<number>): Fleet {
    const { guid: guids, name: names } = this
    const size = rows?.length ?? this.size
    const order = new Array<number>(size)
    for (let i = 0; i < size; i++) order[i] = rows ? rows[i]! : i
    order.sort((a, b) => {
      const x = names[a]!
      const y = names[b]!
      if (x !== y) return x < y ? -1 : 1
      return guids[a]! < guids[b]! ? -1 : guids[a]! > guids[b]! ? 1 : 0
    })
    // Places by org and space, each once.
    const kept: Place[] = []
    const keyIndex = new Map<string, number>()
    const remap = new Uint32Array(places.length)
    places.forEach((p, i) => {
      const key = `${p.org}\u0000${p.space}`
      let at = keyIndex.get(key)
      if (at === undefined) {
        at = kept.length
        kept.push({ org: p.org, space: p.space })
        keyIndex.set(key, at)
      }
      remap[i] = at
    })
    const guid = new Array<string>(size)
    const name = new Array<string>(size)
    const place = new Uint32Array(size)
    const started = new Uint8Array(size)
    const instances = new Uint32Array(size)
    const memoryMb = new Uint32Array(size)
    const diskMb = new Uint32Array(size)
    const diego = new Uint8Array(size)
    for (let i = 0; i < size; i++) {
      const from = order[i]!
      guid[i] = guids[from]!
      name[i] = names[from]!
      place[i] = remap[this.place[from]!]!
      started[i] = this.started[from]!
      instances[i] = this.instances[from]!
      memoryMb[i] = this.memoryMb[from]!
      diskMb[i] = this.diskMb[from]!
      diego[i] = this.diego[from]!
    }
    return { size, guid, name, place, places: kept, started, instances, memoryMb, diskMb, diego }
  }

  private grow(): void {
    const grown = <A extends Uint8Array | Uint32Array>(from: A): A => {
      const to = new (from.constructor as new (n: number) => A)(from.length * 2)
      to.set(from)
      return to
    }
    this.place = grown(this.place)
    this.started = grown(this.started)
    this.instances = grown(this.instances)
    this.memoryMb = grown(this.memoryMb)
    this.diskMb = grown(this.diskMb)
    this.diego = grown(this.diego)
  }
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

export const EMPTY_FLEET: Fleet = fleetOf([])
