// The Cloud Controller's choice of a DEA for one instance, as cloud_controller_ng's Dea::Pool#find_dea
// makes it from the DEAs' advertisements (EligibleAdvertisementFilter): enough disk, then enough memory
// and the right stack, then the zone with fewest instances of the app, then the DEAs with fewest
// instances of it, then the upper half by free memory, then one at random. Pure: the same
// advertisements, need, time and random draw give the same answer.

import { mulberry32 } from '../random.js'

/** What a DEA last told the CC about itself (`dea.advertise`), as the CC keeps it. */
export interface DeaAdvertisement {
  readonly deaId: string
  /** The DEA's `placement_properties.zone`; the CC calls an unzoned DEA's zone `default`. */
  readonly zone: string
  readonly stacks: readonly string[]
  availableMemoryMb: number
  availableDiskMb: number
  /**
   * STARTING and RUNNING instances per app guid, as advertised and then bumped by the CC's own starts. The
   * DEA hands the same map to every advertisement until its counts change: copy it before a bump.
   */
  appInstanceCounts: ReadonlyMap<string, number>
  /** Whether appInstanceCounts is this advertisement's own copy, bumped in place. */
  countsCopied?: boolean
  /** From this instant (ms) on the advertisement is stale and the DEA takes no placements. */
  readonly expiresAt: number
}

/** One instance to place. */
export interface PlacementNeed {
  appGuid: string
  memoryMb: number
  diskMb: number
  stack: string
}

export type Placement = { readonly ok: true; readonly deaId: string } | { readonly ok: false; readonly reason: string }

/**
 * Picks the DEA for one instance. `random` returns a number in [0, 1), like Math.random; pass a
 * seeded one (see seededRandom) for a reproducible choice among equals.
 */
export function chooseDea(
  ads: readonly DeaAdvertisement[],
  need: PlacementNeed,
  now: number,
  random: () => number,
): Placement {
  // The CC counts an app's instances per zone over every live advertisement, before any filter.
  const zoneCounts = new Map<string, number>()
  const candidates: DeaAdvertisement[] = []
  let fresh = 0
  let withDisk = 0
  let withStack = 0
  for (const ad of ads) {
    if (ad.expiresAt <= now) continue
    fresh++
    zoneCounts.set(ad.zone, (zoneCounts.get(ad.zone) ?? 0) + (ad.appInstanceCounts.get(need.appGuid) ?? 0))
    if (ad.availableDiskMb < need.diskMb) continue
    withDisk++
    if (!ad.stacks.includes(need.stack)) continue
    withStack++
    if (ad.availableMemoryMb < need.memoryMb) continue
    candidates.push(ad)
  }
  if (candidates.length === 0) return { ok: false, reason: whyNoDea(fresh, withDisk, withStack, need) }

  let fewestInZone = Number.POSITIVE_INFINITY
  for (const ad of candidates) fewestInZone = Math.min(fewestInZone, zoneCounts.get(ad.zone)!)
  let fewestOfApp = Number.POSITIVE_INFINITY
  let kept = 0
  for (const ad of candidates) {
    if (zoneCounts.get(ad.zone)! !== fewestInZone) continue
    candidates[kept++] = ad
    fewestOfApp = Math.min(fewestOfApp, ad.appInstanceCounts.get(need.appGuid) ?? 0)
  }
  candidates.length = kept
  kept = 0
  for (const ad of candidates) {
    if ((ad.appInstanceCounts.get(need.appGuid) ?? 0) === fewestOfApp) candidates[kept++] = ad
  }
  candidates.length = kept

  // Upper half by free memory: at least the memory of the DEA at position n/2 in ascending order.
  const memories = new Float64Array(kept)
  for (let i = 0; i < kept; i++) memories[i] = candidates[i]!.availableMemoryMb
  const floor = nthSmallest(memories, kept >> 1)
  kept = 0
  for (const ad of candidates) if (ad.availableMemoryMb >= floor) candidates[kept++] = ad
  candidates.length = kept

  const draw = random()
  if (!(draw >= 0 && draw < 1)) throw new RangeError(`placement: random() must return a number in [0, 1), got ${draw}`)
  return { ok: true, deaId: candidates[Math.floor(draw * kept)]!.deaId }
}

function whyNoDea(fresh: number, withDisk: number, withStack: number, need: PlacementNeed): string {
  if (fresh === 0) return 'insufficient resources: no DEA is advertising'
  if (withDisk === 0) return `insufficient resources: disk (no DEA advertises ${need.diskMb} MB free)`
  if (withStack === 0) return `found no DEA for stack "${need.stack}"`
  return `insufficient resources: memory (no DEA advertises ${need.memoryMb} MB free)`
}

/** The k-th smallest value (0-based) by quickselect: the CC sorts, but a sort per placement costs n log n. */
function nthSmallest(values: Float64Array, k: number): number {
  let lo = 0
  let hi = values.length - 1
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (values[i]! < pivot) i++
      while (values[j]! > pivot) j--
      if (i <= j) {
        const t = values[i]!
        values[i] = values[j]!
        values[j] = t
        i++
        j--
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return values[k]!
  }
  return values[k]!
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same placements, run after run. */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new RangeError(`seededRandom: seed must be an integer, got ${seed}`)
  return mulberry32(seed)
}
