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
   * DEA hands the same map to every advertisement until its counts change: a bump goes to a copy.
   */
  readonly appInstanceCounts: ReadonlyMap<string, number>
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

/** Table positions per block of the index's second level, by default. */
export const ADVERTISEMENT_BLOCK = 128

/** How many of the last floors a placement tries before it searches for its own. */
const RECENT_FLOORS = 4

/**
 * The CC's advertisement table kept as an index, so that a placement makes chooseDea's very choice without
 * reading every advertisement. The owner mirrors every change of its table here: `set` after an advertisement
 * is stored, `noteStart` after the CC's bump, `delete` after one is dropped.
 *
 * Kept per advertisement (in typed arrays): zone, free memory and disk, expiry, stacks. Kept per app: the
 * advertisements that count instances of it, with their counts. Kept by zone, by free memory: each zone's free
 * memories sorted, and the same per block of consecutive table positions. With those a placement finds
 * the zone with fewest instances of the app, the upper half by free memory (an order statistic over the sorted
 * memories, less the app's own DEAs) and the drawn DEA in table order (counting whole blocks by binary search,
 * then walking one block), touching a few hundred numbers where chooseDea reads every advertisement's maps.
 * When some advertisement is stale, short of disk or without the stack, it falls back to a scan of the typed
 * arrays: the answer is chooseDea's either way (test/scheduler/dea/placement-index.test.ts holds it to that).
 */
export class AdvertisementIndex {
  /** @param block table positions per block (ADVERTISEMENT_BLOCK; tests use a few, to span blocks with a small fleet) */
  constructor(private readonly block = ADVERTISEMENT_BLOCK) {
    if (!Number.isInteger(block) || block < 1)
      throw new RangeError(`advertisement index: block must be a whole number >= 1, got ${block}`)
  }

  private readonly slotOf = new Map<string, number>()
  /** Slots in table order: the insertion order of the owner's Map (a re-stored id keeps its place). */
  private order: number[] = []
  private readonly freeSlots: number[] = []
  private readonly zoneIds = new Map<string, number>()
  private readonly stackSetIds = new Map<string, number>()
  private readonly stackSets: Array<readonly string[]> = []
  /** Advertisements per stack set. */
  private stackSetUse: number[] = []
  /** Per stack asked for: which stack sets offer it (1) or not (0). */
  private readonly stackOk = new Map<string, Uint8Array>()
  private capacity = 0
  private deaIds: string[] = []
  private ads: Array<DeaAdvertisement | undefined> = []
  /** The counts each advertisement came with (their apps are listed in byApp). */
  private counts: Array<ReadonlyMap<string, number> | undefined> = []
  /** Per slot: whether the CC bumped its advertisement since it was set (its apps are then its counts' now). */
  private bumped = new Uint8Array(0)
  /** Why the last chooseSlot found no DEA. */
  failure = ''
  private zone = new Int32Array(0)
  private stackSet = new Int32Array(0)
  private memory = new Float64Array(0)
  private disk = new Float64Array(0)
  private expires = new Float64Array(0)
  /** Table position of each slot. */
  private position = new Int32Array(0)
  /** Per app guid: [slot, count, slot, count, ...] for the advertisements counting instances of it. */
  private readonly byApp = new Map<string, number[]>()
  /** Lower bounds of every expiry and free disk; exact while boundsExact. */
  private earliest = Number.POSITIVE_INFINITY
  private leastDisk = Number.POSITIVE_INFINITY
  private boundsExact = true
  /** The sorted memories, per zone and per (block, zone); rebuilt after set or delete, kept up by noteStart. */
  private sortedStale = true
  private zoneSorted: Float64Array[] = []
  private zoneSize: number[] = []
  private blockSorted: Float64Array[] = []
  private blockSize: number[] = []
  /**
   * Per (block, zone): how many free memories are at least blockFloor, kept up by noteStart. A seed's placements
   * draw above the same floor (the median) nineteen times in twenty, so the blocks are counted again only when
   * the floor moves, not at every placement.
   */
  private blockAbove = new Int32Array(0)
  private blockFloor = Number.NaN
  /** The last floors drawn above, the latest first: the next placement's is almost always one of them. */
  private readonly recentFloors: number[] = []
  // Scratch space reused by every placement.
  private appCount = new Int32Array(0)
  private candidates = new Int32Array(0)
  private memories = new Float64Array(0)
  private zoneCount = new Float64Array(0)
  private zoneHasCandidate = new Uint8Array(0)
  private zoneAtLeast = new Int32Array(0)
  private inZones = new Uint8Array(0)
  /** Per block: the app's own DEAs in it that are in the set but are left out of the draw. */
  private blockHolders = new Int32Array(0)
  /** Memories of the app's DEAs that are candidates of the chosen zones (they are left out of the set). */
  private excluded: number[] = []

  get size(): number {
    return this.order.length
  }

  /** Stores an advertisement (a new one goes last in table order; a DEA's next one keeps its place). */
  set(ad: DeaAdvertisement): void {
    let slot = this.slotOf.get(ad.deaId)
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.grow()
      this.slotOf.set(ad.deaId, slot)
      this.position[slot] = this.order.length
      this.order.push(slot)
      this.deaIds[slot] = ad.deaId
      // A new DEA is in no sorted memory yet, even on a reused slot that held the same zone and memory.
      this.sortedStale = true
    } else {
      this.stackSetUse[this.stackSet[slot]!]!--
    }
    const stackSet = this.stackSetOf(ad.stacks)
    this.stackSetUse[stackSet]!++
    this.stackSet[slot] = stackSet
    const zone = this.zoneIdOf(ad.zone)
    if (this.zone[slot] !== zone || this.memory[slot] !== ad.availableMemoryMb) this.sortedStale = true
    this.zone[slot] = zone
    this.memory[slot] = ad.availableMemoryMb
    this.disk[slot] = ad.availableDiskMb
    this.expires[slot] = ad.expiresAt
    this.earliest = Math.min(this.earliest, ad.expiresAt)
    this.leastDisk = Math.min(this.leastDisk, ad.availableDiskMb)
    this.boundsExact = false
    const counts = ad.appInstanceCounts
    if (this.counts[slot] !== counts || this.bumped[slot] === 1) {
      this.unlistCounts(slot)
      this.counts[slot] = counts
      for (const [appGuid, count] of counts) if (count !== 0) this.addCount(appGuid, slot, count)
    }
    this.ads[slot] = ad
  }

  /** The advertisement stored on a slot (from chooseSlot). */
  adAt(slot: number): DeaAdvertisement | undefined {
    return this.ads[slot]
  }

  /**
   * After the CC's bump of an advertisement it holds (noteStartSent): one more instance of the app, less memory.
   * The advertisement's own counts must say so too, as a KeptAdvertisement's do once bumped: when it is replaced
   * or dropped, its apps are read from them.
   */
  noteStart(ad: DeaAdvertisement, appGuid: string): void {
    const slot = this.slotOf.get(ad.deaId)
    if (slot !== undefined) this.noteStartAt(slot, ad.availableMemoryMb, appGuid)
  }

  /** noteStart for the advertisement on a slot, now with `memoryMb` free. */
  noteStartAt(slot: number, memoryMb: number, appGuid: string): void {
    const before = this.memory[slot]!
    this.memory[slot] = memoryMb
    if (!this.sortedStale && before !== memoryMb) {
      const z = this.zone[slot]!
      resort(this.zoneSorted[z]!, this.zoneSize[z]!, before, memoryMb)
      const b = (this.position[slot]! / this.block) | 0
      const k = b * this.zoneIds.size + z
      resort(this.blockSorted[k]!, this.blockSize[k]!, before, memoryMb)
      const floor = this.blockFloor
      if (before >= floor && memoryMb < floor) this.blockAbove[k]!--
      else if (before < floor && memoryMb >= floor) this.blockAbove[k]!++
    }
    this.bumped[slot] = 1
    this.addCount(appGuid, slot, 1)
  }

  delete(deaId: string): void {
    const slot = this.slotOf.get(deaId)
    if (slot === undefined) return
    this.slotOf.delete(deaId)
    const at = this.position[slot]!
    this.order.splice(at, 1)
    for (let p = at; p < this.order.length; p++) this.position[this.order[p]!] = p
    this.stackSetUse[this.stackSet[slot]!]!--
    this.unlistCounts(slot)
    this.counts[slot] = undefined
    this.ads[slot] = undefined
    this.freeSlots.push(slot)
    this.sortedStale = true
    this.boundsExact = false
  }

  /** chooseDea's choice over the indexed table: the same filters, the same tie-breaks, the same draw. */
  choose(need: PlacementNeed, now: number, random: () => number): Placement {
    const slot = this.chooseSlot(need, now, random)
    return slot < 0 ? { ok: false, reason: this.failure } : { ok: true, deaId: this.deaIds[slot]! }
  }

  /** choose, answering the chosen advertisement's slot (see adAt), or -1 with the reason in `failure`. */
  chooseSlot(need: PlacementNeed, now: number, random: () => number): number {
    const { zone, expires, appCount } = this
    const zoneCount = this.zoneCount.fill(0)
    const pairs = this.byApp.get(need.appGuid)
    if (pairs !== undefined) {
      for (let k = 0; k < pairs.length; k += 2) {
        const slot = pairs[k]!
        appCount[slot] = pairs[k + 1]!
        if (expires[slot]! > now) zoneCount[zone[slot]!]! += pairs[k + 1]!
      }
    }
    try {
      return this.everyAdQualifies(need, now)
        ? this.chooseByOrder(need, pairs, random)
        : this.chooseByScan(need, now, random)
    } finally {
      if (pairs !== undefined) for (let k = 0; k < pairs.length; k += 2) appCount[pairs[k]!] = 0
    }
  }

  /** Whether every advertisement is fresh, has the disk and runs the stack: then only memory filters. */
  private everyAdQualifies(need: PlacementNeed, now: number): boolean {
    if (this.order.length === 0) return false
    if (!(this.earliest > now && this.leastDisk >= need.diskMb) && !this.boundsExact) {
      this.earliest = Number.POSITIVE_INFINITY
      this.leastDisk = Number.POSITIVE_INFINITY
      for (const slot of this.order) {
        this.earliest = Math.min(this.earliest, this.expires[slot]!)
        this.leastDisk = Math.min(this.leastDisk, this.disk[slot]!)
      }
      this.boundsExact = true
    }
    if (!(this.earliest > now && this.leastDisk >= need.diskMb)) return false
    const ok = this.stackOkFor(need.stack)
    for (let set = 0; set < ok.length; set++) if (ok[set] === 0 && this.stackSetUse[set]! > 0) return false
    return true
  }

  /** The way chooseDea goes, over the typed arrays. */
  private chooseByScan(need: PlacementNeed, now: number, random: () => number): number {
    const { zone, memory, disk, expires, appCount, zoneCount } = this
    const stackOk = this.stackOkFor(need.stack)
    const stackSet = this.stackSet
    const candidates = this.candidates
    const hasCandidate = this.zoneHasCandidate.fill(0)
    let kept = 0
    let fresh = 0
    let withDisk = 0
    let withStack = 0
    const order = this.order
    for (let o = 0; o < order.length; o++) {
      const slot = order[o]!
      if (expires[slot]! <= now) continue
      fresh++
      if (disk[slot]! < need.diskMb) continue
      withDisk++
      if (stackOk[stackSet[slot]!] === 0) continue
      withStack++
      if (memory[slot]! < need.memoryMb) continue
      candidates[kept++] = slot
      hasCandidate[zone[slot]!] = 1
    }
    if (kept === 0) return this.fail(whyNoDea(fresh, withDisk, withStack, need))

    let fewestInZone = Number.POSITIVE_INFINITY
    for (let z = 0; z < hasCandidate.length; z++)
      if (hasCandidate[z]) fewestInZone = Math.min(fewestInZone, zoneCount[z]!)
    let fewestOfApp = Number.POSITIVE_INFINITY
    let n = 0
    for (let c = 0; c < kept; c++) {
      const slot = candidates[c]!
      if (zoneCount[zone[slot]!] !== fewestInZone) continue
      candidates[n++] = slot
      if (appCount[slot]! < fewestOfApp) fewestOfApp = appCount[slot]!
    }
    kept = 0
    const memories = this.memories
    for (let c = 0; c < n; c++) {
      const slot = candidates[c]!
      if (appCount[slot] !== fewestOfApp) continue
      candidates[kept] = slot
      memories[kept++] = memory[slot]!
    }
    const floor = nthSmallest(memories.subarray(0, kept), kept >> 1)
    n = 0
    for (let c = 0; c < kept; c++) if (memory[candidates[c]!]! >= floor) candidates[n++] = candidates[c]!
    return this.pick(candidates, n, random)
  }

  /**
   * When only memory filters: the zones from their counts and their sorted memories, the app's own DEAs
   * from its list, and the drawn DEA from the blocks.
   */
  private chooseByOrder(need: PlacementNeed, pairs: number[] | undefined, random: () => number): number {
    if (this.sortedStale) this.buildSorted()
    const zones = this.zoneIds.size
    const { zoneCount, zoneAtLeast, memory, zone, appCount } = this
    const m = need.memoryMb
    let fewestInZone = Number.POSITIVE_INFINITY
    for (let z = 0; z < zones; z++) {
      const size = this.zoneSize[z]!
      zoneAtLeast[z] = size - lowerBound(this.zoneSorted[z]!, size, m)
      if (zoneAtLeast[z]! > 0) fewestInZone = Math.min(fewestInZone, zoneCount[z]!)
    }
    if (fewestInZone === Number.POSITIVE_INFINITY) {
      return this.fail(whyNoDea(this.order.length, this.order.length, this.order.length, need))
    }
    const inZones = this.inZones
    let total = 0
    for (let z = 0; z < zones; z++) {
      inZones[z] = zoneAtLeast[z]! > 0 && zoneCount[z] === fewestInZone ? 1 : 0
      if (inZones[z]) total += zoneAtLeast[z]!
    }
    // The app's own DEAs among the candidates of those zones.
    let holders = 0
    let fewestOfApp = Number.POSITIVE_INFINITY
    if (pairs !== undefined) {
      for (let k = 0; k < pairs.length; k += 2) {
        const slot = pairs[k]!
        if (!inZones[zone[slot]!] || memory[slot]! < m) continue
        holders++
        fewestOfApp = Math.min(fewestOfApp, pairs[k + 1]!)
      }
    }
    const candidates = this.candidates
    if (holders === total) {
      // Every candidate runs the app already: the set is those with the fewest, a short list.
      let n = 0
      for (let k = 0; k < pairs!.length; k += 2) {
        const slot = pairs![k]!
        if (inZones[zone[slot]!] && memory[slot]! >= m && pairs![k + 1] === fewestOfApp) candidates[n++] = slot
      }
      const memories = this.memories
      for (let c = 0; c < n; c++) memories[c] = memory[candidates[c]!]!
      const floor = nthSmallest(memories.subarray(0, n), n >> 1)
      let kept = 0
      for (let c = 0; c < n; c++) if (memory[candidates[c]!]! >= floor) candidates[kept++] = candidates[c]!
      const position = this.position
      candidates.subarray(0, kept).sort((a, b) => position[a]! - position[b]!)
      return this.pick(candidates, kept, random)
    }
    // The set: candidates of the zones with no instance of the app. Its size, its median, then the draw.
    const excluded = this.excluded
    excluded.length = 0
    if (pairs !== undefined) {
      for (let k = 0; k < pairs.length; k += 2) {
        const slot = pairs[k]!
        if (inZones[zone[slot]!] && memory[slot]! >= m) excluded.push(memory[slot]!)
      }
    }
    const size = total - excluded.length
    const floor = this.kthInZones(m, size >> 1)
    let above = 0
    for (let z = 0; z < zones; z++) {
      if (inZones[z]) above += this.zoneSize[z]! - lowerBound(this.zoneSorted[z]!, this.zoneSize[z]!, floor)
    }
    for (const value of excluded) if (value >= floor) above--
    const draw = random()
    if (!(draw >= 0 && draw < 1))
      throw new RangeError(`placement: random() must return a number in [0, 1), got ${draw}`)
    let wanted = Math.floor(draw * above)
    // Whole blocks first, by their counts above the floor (less the app's own DEAs); then the one block, in table
    // order.
    this.countBlocksAbove(floor)
    const { blockAbove, blockHolders, position } = this
    if (pairs !== undefined) {
      for (let k = 0; k < pairs.length; k += 2) {
        const slot = pairs[k]!
        if (inZones[zone[slot]!] && memory[slot]! >= floor) blockHolders[(position[slot]! / this.block) | 0]!++
      }
    }
    const blocks = Math.ceil(this.order.length / this.block)
    let b = 0
    for (; b < blocks; b++) {
      let inBlock = -blockHolders[b]!
      for (let z = 0; z < zones; z++) if (inZones[z]) inBlock += blockAbove[b * zones + z]!
      if (wanted < inBlock) break
      wanted -= inBlock
    }
    if (pairs !== undefined)
      for (let k = 0; k < pairs.length; k += 2) blockHolders[(position[pairs[k]!]! / this.block) | 0] = 0
    const end = Math.min(this.order.length, (b + 1) * this.block)
    for (let p = b * this.block; p < end; p++) {
      const slot = this.order[p]!
      if (!inZones[zone[slot]!] || memory[slot]! < floor || appCount[slot] !== 0) continue
      if (wanted-- === 0) return slot
    }
    throw new Error('placement index: the drawn DEA is past the end of the table')
  }

  /** Counts, per (block, zone), the free memories at least `floor`, unless they are counted for it already. */
  private countBlocksAbove(floor: number): void {
    if (floor === this.blockFloor) return
    const { blockAbove, blockSorted, blockSize } = this
    for (let k = 0; k < blockAbove.length; k++)
      blockAbove[k] = blockSize[k]! - lowerBound(blockSorted[k]!, blockSize[k]!, floor)
    this.blockFloor = floor
  }

  /** How many free memories of the chosen zones, at least m, are below `value` (the excluded ones counted too). */
  private countBelow(m: number, value: number): number {
    let count = 0
    for (let z = 0; z < this.inZones.length; z++) {
      if (!this.inZones[z]) continue
      const sorted = this.zoneSorted[z]!
      const size = this.zoneSize[z]!
      count += lowerBound(sorted, size, value) - (size - this.zoneAtLeast[z]!)
    }
    return m > value ? 0 : count
  }

  /** The t-th smallest (0-based) free memory of at least m in the chosen zones, the excluded ones counted too. */
  private kthOfZones(m: number, t: number): number {
    for (let z = 0; z < this.inZones.length; z++) {
      if (!this.inZones[z]) continue
      const sorted = this.zoneSorted[z]!
      // The last value of this zone with at most t values below it is the answer if t values or fewer are below it
      // and more than t are at most it.
      let lo = this.zoneSize[z]! - this.zoneAtLeast[z]!
      let hi = this.zoneSize[z]! - 1
      let last = -1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        if (this.countBelow(m, sorted[mid]!) <= t) {
          last = mid
          lo = mid + 1
        } else hi = mid - 1
      }
      if (last >= 0 && this.countBelow(m, nextAbove(sorted[last]!)) > t) return sorted[last]!
    }
    throw new Error(`placement index: no ${t}-th free memory in the chosen zones`)
  }

  /** The k-th smallest (0-based) free memory of at least m in the chosen zones, less the excluded ones. */
  private kthInZones(m: number, k: number): number {
    const excluded = this.excluded.sort((a, b) => a - b)
    const recent = this.recentFloors
    for (let i = 0; i < recent.length; i++) {
      const floor = recent[i]!
      if (!this.isKthInZones(m, k, floor, excluded)) continue
      if (i > 0) {
        recent.splice(i, 1)
        recent.unshift(floor)
      }
      return floor
    }
    const floor = this.searchKthInZones(m, k, excluded)
    recent.unshift(floor)
    if (recent.length > RECENT_FLOORS) recent.pop()
    return floor
  }

  /** Whether `value` is the k-th smallest free memory of at least m in the chosen zones, less the excluded ones. */
  private isKthInZones(m: number, k: number, value: number, excluded: readonly number[]): boolean {
    if (value < m) return false
    let excludedBelow = 0
    while (excludedBelow < excluded.length && excluded[excludedBelow]! < value) excludedBelow++
    if (this.countBelow(m, value) - excludedBelow > k) return false
    let excludedUpTo = excludedBelow
    while (excludedUpTo < excluded.length && excluded[excludedUpTo]! <= value) excludedUpTo++
    return this.countBelow(m, nextAbove(value)) - excludedUpTo > k
  }

  /** kthInZones by binary search over the zones' sorted memories. */
  private searchKthInZones(m: number, k: number, excluded: readonly number[]): number {
    let t = k
    for (;;) {
      const x = this.kthOfZones(m, t)
      let excludedUpTo = 0
      while (excludedUpTo < excluded.length && excluded[excludedUpTo]! <= x) excludedUpTo++
      const upTo = this.countBelow(m, nextAbove(x)) - excludedUpTo
      if (upTo >= k + 1) return x
      t += k + 1 - upTo
    }
  }

  private buildSorted(): void {
    const zones = this.zoneIds.size
    const n = this.order.length
    const blocks = Math.ceil(n / this.block)
    const perZone: number[][] = Array.from({ length: zones }, () => [])
    const perBlock: number[][] = Array.from({ length: blocks * zones }, () => [])
    for (let p = 0; p < n; p++) {
      const slot = this.order[p]!
      const z = this.zone[slot]!
      perZone[z]!.push(this.memory[slot]!)
      perBlock[((p / this.block) | 0) * zones + z]!.push(this.memory[slot]!)
    }
    const sortedOf = (values: number[]) => Float64Array.from(values).sort()
    this.zoneSorted = perZone.map(sortedOf)
    this.zoneSize = perZone.map((v) => v.length)
    this.blockSorted = perBlock.map(sortedOf)
    this.blockSize = perBlock.map((v) => v.length)
    this.blockAbove = new Int32Array(blocks * zones)
    this.blockFloor = Number.NaN
    if (this.blockHolders.length < blocks) this.blockHolders = new Int32Array(blocks)
    this.sortedStale = false
  }

  private pick(candidates: Int32Array, n: number, random: () => number): number {
    const draw = random()
    if (!(draw >= 0 && draw < 1))
      throw new RangeError(`placement: random() must return a number in [0, 1), got ${draw}`)
    return candidates[Math.floor(draw * n)]!
  }

  private fail(reason: string): number {
    this.failure = reason
    return -1
  }

  private grow(): number {
    const slot = this.capacity
    const capacity = Math.max(16, this.capacity * 2)
    const widen = <A extends Int32Array | Float64Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity)
      next.set(old)
      return next
    }
    this.zone = widen(this.zone, (n) => new Int32Array(n))
    this.stackSet = widen(this.stackSet, (n) => new Int32Array(n))
    this.memory = widen(this.memory, (n) => new Float64Array(n))
    this.disk = widen(this.disk, (n) => new Float64Array(n))
    this.expires = widen(this.expires, (n) => new Float64Array(n))
    this.position = widen(this.position, (n) => new Int32Array(n))
    this.bumped = widen(this.bumped, (n) => new Uint8Array(n))
    this.appCount = new Int32Array(capacity)
    this.candidates = new Int32Array(capacity)
    this.memories = new Float64Array(capacity)
    for (let s = capacity - 1; s > slot; s--) this.freeSlots.push(s)
    this.capacity = capacity
    this.sortedStale = true
    return slot
  }

  private zoneIdOf(name: string): number {
    let id = this.zoneIds.get(name)
    if (id === undefined) {
      id = this.zoneIds.size
      this.zoneIds.set(name, id)
      this.zoneCount = new Float64Array(id + 1)
      this.zoneHasCandidate = new Uint8Array(id + 1)
      this.zoneAtLeast = new Int32Array(id + 1)
      this.inZones = new Uint8Array(id + 1)
      this.sortedStale = true
    }
    return id
  }

  /** DEAs of the same stacks share a set, so that a placement checks a few sets, not every DEA's list. */
  private stackSetOf(stacks: readonly string[]): number {
    const key = stacks.length === 1 ? stacks[0]! : stacks.join('\u0000')
    let id = this.stackSetIds.get(key)
    if (id === undefined) {
      id = this.stackSets.length
      this.stackSetIds.set(key, id)
      this.stackSets.push(stacks)
      this.stackSetUse.push(0)
      this.stackOk.clear()
    }
    return id
  }

  private stackOkFor(stack: string): Uint8Array {
    let ok = this.stackOk.get(stack)
    if (ok === undefined) {
      ok = Uint8Array.from(this.stackSets, (stacks) => (stacks.includes(stack) ? 1 : 0))
      this.stackOk.set(stack, ok)
    }
    return ok
  }

  private addCount(appGuid: string, slot: number, count: number): void {
    const pairs = this.byApp.get(appGuid)
    if (pairs === undefined) {
      this.byApp.set(appGuid, [slot, count])
      return
    }
    for (let k = 0; k < pairs.length; k += 2) {
      if (pairs[k] === slot) {
        pairs[k + 1]! += count
        return
      }
    }
    pairs.push(slot, count)
  }

  /** Takes every count of a slot out of byApp: those it was set with and, once bumped, those of its counts now. */
  private unlistCounts(slot: number): void {
    const counts = this.bumped[slot] === 1 ? this.ads[slot]?.appInstanceCounts : this.counts[slot]
    if (counts !== undefined) for (const appGuid of counts.keys()) this.unlistCount(appGuid, slot)
    this.bumped[slot] = 0
  }

  private unlistCount(appGuid: string, slot: number): void {
    const pairs = this.byApp.get(appGuid)
    if (pairs === undefined) return
    for (let k = 0; k < pairs.length; k += 2) {
      if (pairs[k] !== slot) continue
      pairs[k] = pairs[pairs.length - 2]!
      pairs[k + 1] = pairs[pairs.length - 1]!
      pairs.length -= 2
      break
    }
    if (pairs.length === 0) this.byApp.delete(appGuid)
  }
}

/** The first index in sorted[0, size) whose value is at least `value`. */
function lowerBound(sorted: Float64Array, size: number, value: number): number {
  let lo = 0
  let hi = size
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

const nextBuffer = new Float64Array(1)
const nextBits = new BigInt64Array(nextBuffer.buffer)

/** The smallest double above `value`. */
function nextAbove(value: number): number {
  if (value === Number.POSITIVE_INFINITY) return value
  if (value === 0) return Number.MIN_VALUE
  nextBuffer[0] = value
  nextBits[0] = value > 0 ? nextBits[0]! + 1n : nextBits[0]! - 1n
  return nextBuffer[0]!
}

/** Moves one occurrence of `before` in sorted[0, size) to where `after` belongs, keeping it sorted. */
function resort(sorted: Float64Array, size: number, before: number, after: number): void {
  let at = lowerBound(sorted, size, before)
  if (after < before) {
    while (at > 0 && sorted[at - 1]! > after) {
      sorted[at] = sorted[at - 1]!
      at--
    }
  } else {
    at = lowerBound(sorted, size, nextAbove(before)) - 1
    while (at + 1 < size && sorted[at + 1]! < after) {
      sorted[at] = sorted[at + 1]!
      at++
    }
  }
  sorted[at] = after
}
