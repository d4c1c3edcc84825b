// The dashboard's heap between polls. Each frame ink lays out and styles the whole screen character by
// character: some 3 MB of short-lived objects, part of which outlives a young-generation collection and
// lands in the old generation. V8 lets that grow by tens of MB before it collects it (a minute of typing:
// 25 -> 50 MB and more), and the process keeps the pages. Here a full collection runs when the heap has grown
// by GROWTH_BYTES since the least it was seen at: a pause of some 20 to 30 ms every few seconds of steady
// typing, none while the screen is still. Polls collect on their own (read-fleet.ts).
import { getHeapStatistics } from 'node:v8'
import type { Clock, Timer } from '../../clock.js'

export const GROWTH_BYTES = 8 * 1024 * 1024
const LOOK_EVERY_MS = 500

export interface HeapKeeperOptions {
  clock: Clock
  /** A full collection. Default: V8's, when bin/run.js started Node with --expose-gc; without it, nothing runs. */
  collect?: () => void
  /** The bytes the heap holds now. */
  used?: () => number
  growthBytes?: number
}

/** Looks at the heap every half second and has it collected once it grew by `growthBytes`. */
export function keepHeapSmall(options: HeapKeeperOptions): Timer | undefined {
  const collect = options.collect ?? exposedGc()
  if (!collect) return undefined
  const used = options.used ?? (() => getHeapStatistics().used_heap_size)
  const growth = options.growthBytes ?? GROWTH_BYTES
  let floor = used()
  return options.clock.every(LOOK_EVERY_MS, () => {
    const now = used()
    if (now < floor) floor = now
    else if (now - floor > growth) {
      collect()
      floor = used()
    }
  })
}

type Gc = (options: { type: 'major' | 'minor' }) => void

/** V8's full collection, when Node runs with --expose-gc. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: Gc }).gc
  return gc && (() => gc({ type: 'major' }))
}
