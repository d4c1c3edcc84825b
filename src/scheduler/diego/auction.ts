// Diego's auction as a pure function: given the cells' state and one batch of start requests, decide
// where each LRP instance and Task goes. No clock, no I/O; the auctioneer shell applies the results.
//
// Two implementations of the same decision live here. `runAuction` is the fast one: it keeps, per zone
// and per class of identical cells, a min-heap of the cells' current scores, so that a placement looks
// at a handful of cells instead of all of them. `runAuctionByFullScan` scores every cell for every
// request, as Diego's scheduler does; it is the reference the property tests hold the fast one to.

export const LOCALITY_OFFSET = 1000
export const DEFAULT_STARTING_CONTAINER_WEIGHT = 0.25

// Verbatim from cloudfoundry/auction (auctiontypes) and cloudfoundry/rep (InsufficientResourcesError).
export const ERROR_CELL_COMMUNICATION = 'unable to communicate to compatible cells'
export const ERROR_CELL_MISMATCH = 'found no compatible cell for required rootfs'

export interface Resources {
  memoryMb: number
  diskMb: number
  containers: number
}

/** A cell as the auctioneer sees it at the start of a batch (what a rep's State() reports). */
export interface AuctionCell {
  id: string
  zone: string
  total: Resources
  available: Resources
  /** Containers created but not yet running; each adds the starting-container weight to the score. */
  startingContainers: number
  /** Tasks on the cell; a Task's locality term counts them. */
  tasks: number
  rootfsProviders: readonly string[]
  placementTags: readonly string[]
  optionalPlacementTags: readonly string[]
}

export interface PlacementConstraint {
  rootfs: string
  placementTags: readonly string[]
}

export interface LrpStartRequest extends PlacementConstraint {
  processGuid: string
  index: number
  memoryMb: number
  diskMb: number
}

export interface TaskStartRequest extends PlacementConstraint {
  taskGuid: string
  memoryMb: number
  diskMb: number
}

export interface AuctionState {
  readonly cells: readonly AuctionCell[]
  /** Ids of the cells holding a container of this process, one entry per container. */
  cellsHolding(processGuid: string): Iterable<string>
}

/**
 * One batch of start requests. The results hand back the very request objects of the batch, so a caller may
 * extend them (the auctioneer carries its BBS record along) instead of keeping a lookup table beside them.
 */
export interface AuctionBatch<
  L extends LrpStartRequest = LrpStartRequest,
  T extends TaskStartRequest = TaskStartRequest,
> {
  lrps: readonly L[]
  tasks: readonly T[]
}

export interface AuctionResults<
  L extends LrpStartRequest = LrpStartRequest,
  T extends TaskStartRequest = TaskStartRequest,
> {
  placedLrps: { start: L; cellId: string }[]
  failedLrps: { start: L; error: string }[]
  placedTasks: { start: T; cellId: string }[]
  failedTasks: { start: T; error: string }[]
}

export interface AuctionConfig {
  startingContainerWeight: number
}

const DEFAULT_CONFIG: AuctionConfig = { startingContainerWeight: DEFAULT_STARTING_CONTAINER_WEIGHT }

/** Diego's wording: `found no compatible cell with placement tag "a"`, `... tags "a", "b" and "c"`. */
export function placementTagMismatchError(tags: readonly string[]): string {
  if (tags.length === 0) return 'found no compatible cell with no placement tags'
  if (tags.length === 1) return `found no compatible cell with placement tag "${tags[0]}"`
  const quoted = tags.map((t) => `"${t}"`)
  return `found no compatible cell with placement tags ${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`
}

const LACKS_CONTAINERS = 1
const LACKS_DISK = 2
const LACKS_MEMORY = 4
const LACKS_ALL = LACKS_CONTAINERS | LACKS_DISK | LACKS_MEMORY

/** The rep's InsufficientResourcesError: the problems every candidate cell shared, sorted by name. */
export function insufficientResourcesError(lacks: number): string {
  const names: string[] = []
  if (lacks & LACKS_CONTAINERS) names.push('containers')
  if (lacks & LACKS_DISK) names.push('disk')
  if (lacks & LACKS_MEMORY) names.push('memory')
  return names.length === 0 ? 'insufficient resources' : `insufficient resources: ${names.join(', ')}`
}

/** A cell offers a rootfs when it has the preloaded stack (`cflinuxfs4` or `preloaded:cflinuxfs4`), or `docker` for images. */
export function matchesRootfs(providers: readonly string[], rootfs: string): boolean {
  if (rootfs.startsWith('docker:')) return providers.includes('docker')
  const stack = rootfs.startsWith('preloaded:') ? rootfs.slice('preloaded:'.length) : rootfs
  return providers.includes(stack) || providers.includes(`preloaded:${stack}`)
}

/** The rep's rule: every tag the cell requires is desired, and every desired tag is one the cell offers. */
export function matchesPlacementTags(
  cell: Pick<AuctionCell, 'placementTags' | 'optionalPlacementTags'>,
  desired: readonly string[],
): boolean {
  for (const tag of cell.placementTags) if (!desired.includes(tag)) return false
  for (const tag of desired)
    if (!cell.placementTags.includes(tag) && !cell.optionalPlacementTags.includes(tag)) return false
  return true
}

/**
 * Diego's order within a batch: LRPs of index 0, then Tasks, then LRPs of index 1 and up. LRPs sort by
 * index and then larger memory first (auctionrunner's SortableLRPAuctions), Tasks by larger memory first.
 */
export function auctionOrder<L extends LrpStartRequest, T extends TaskStartRequest>(
  batch: AuctionBatch<L, T>,
): {
  lrpsBeforeTasks: L[]
  tasks: T[]
  lrpsAfterTasks: L[]
} {
  const lrps = [...batch.lrps].sort((a, b) => a.index - b.index || b.memoryMb - a.memoryMb)
  const split = lrps.findIndex((l) => l.index > 0)
  const tasks = [...batch.tasks].sort((a, b) => b.memoryMb - a.memoryMb)
  return split < 0
    ? { lrpsBeforeTasks: lrps, tasks, lrpsAfterTasks: [] }
    : { lrpsBeforeTasks: lrps.slice(0, split), tasks, lrpsAfterTasks: lrps.slice(split) }
}

/**
 * The same order as auctionOrder, without a comparator: each LRP falls in a bucket, (index, rank of its memory
 * from the largest), and the buckets are laid out in order, each in batch order as the stable sort keeps
 * equal requests. Falls back to auctionOrder when the numbers would
 * not be exact (indexes or memories that are not plain numbers, or a batch too large for 2^53).
 */
function fastAuctionOrder<L extends LrpStartRequest, T extends TaskStartRequest>(
  batch: AuctionBatch<L, T>,
): ReturnType<typeof auctionOrder<L, T>> {
  const input = batch.lrps
  const n = input.length
  const rankOf = new Map<number, number>()
  let maxIndex = 0
  for (let p = 0; p < n; p++) {
    const lrp = input[p]!
    const index = lrp.index
    if (!Number.isSafeInteger(index) || index < 0 || Number.isNaN(lrp.memoryMb)) return auctionOrder(batch)
    if (index > maxIndex) maxIndex = index
    rankOf.set(lrp.memoryMb, 0)
  }
  const memories = [...rankOf.keys()].sort((a, b) => b - a)
  const ranks = memories.length
  if ((maxIndex + 1) * ranks * n >= Number.MAX_SAFE_INTEGER) return auctionOrder(batch)
  for (let r = 0; r < ranks; r++) rankOf.set(memories[r]!, r)
  // Each request's bucket, (index, memory rank); with a few hundred buckets, a counting sort (stable: each
  // bucket is filled in batch order) beats sorting keys that carry the position.
  const buckets = (maxIndex + 1) * ranks
  const bucket = new Int32Array(n)
  let split = 0
  for (let p = 0; p < n; p++) {
    const lrp = input[p]!
    if (lrp.index === 0) split++
    bucket[p] = lrp.index * ranks + rankOf.get(lrp.memoryMb)!
  }
  const sorted: L[] = new Array(n)
  if (buckets <= 4 * n + 64) {
    const start = new Int32Array(buckets + 1)
    for (let p = 0; p < n; p++) start[bucket[p]! + 1]!++
    for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!
    for (let p = 0; p < n; p++) sorted[start[bucket[p]!]!++] = input[p]!
  } else {
    const keys = new Float64Array(n)
    for (let p = 0; p < n; p++) keys[p] = bucket[p]! * n + p
    keys.sort()
    for (let k = 0; k < n; k++) sorted[k] = input[keys[k]! % n]!
  }
  const lrpsBeforeTasks = sorted.slice(0, split)
  const lrpsAfterTasks = sorted.slice(split)
  const tasks = batch.tasks.length === 0 ? [] : [...batch.tasks].sort((a, b) => b.memoryMb - a.memoryMb)
  return { lrpsBeforeTasks, tasks, lrpsAfterTasks }
}

// Scores are kept on a fixed-point grid of 2^-32. Diego's score is the mean of the fractions used after the
// placement, which equals (fractions used now) + (the request's own share); on the grid that sum is exact, so
// adding one request's share to every cell of a class keeps their order. That exactness is what lets the heap
// order stand in for the full scan's order, ties included. The grid moves a score by at most 2^-31.
const GRID = 2 ** 32
const onGrid = (x: number): number => Math.round(x * GRID) / GRID

/**
 * The batch's working copy of the cells: what is left on each, as reservations are made. Cells are held
 * sorted by id, so "lowest index" is "lowest cell id", the tie-break both implementations use.
 */
class Ledger {
  readonly cells: AuctionCell[]
  readonly n: number
  readonly zones: string[] = []
  readonly zoneOf: Int32Array
  readonly memory: Float64Array
  readonly disk: Float64Array
  readonly containers: Float64Array
  readonly starting: Float64Array
  readonly tasks: Float64Array
  readonly indexById = new Map<string, number>()
  /** Cells (by index) that received an instance of a process earlier in this batch. */
  readonly placedInBatch = new Map<string, number[]>()
  readonly weight: number
  /** The fast auction's score index, told of each reservation. */
  index: ScoreIndex | undefined

  constructor(state: AuctionState, config: AuctionConfig) {
    this.weight = config.startingContainerWeight
    this.cells = byId(state.cells)
    const n = (this.n = this.cells.length)
    this.zoneOf = new Int32Array(n)
    this.memory = new Float64Array(n)
    this.disk = new Float64Array(n)
    this.containers = new Float64Array(n)
    this.starting = new Float64Array(n)
    this.tasks = new Float64Array(n)
    const zoneIndex = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const cell = this.cells[i]!
      if (this.indexById.has(cell.id)) throw new Error(`auction: cell ${cell.id} appears twice`)
      this.indexById.set(cell.id, i)
      let z = zoneIndex.get(cell.zone)
      if (z === undefined) {
        z = this.zones.length
        zoneIndex.set(cell.zone, z)
        this.zones.push(cell.zone)
      }
      this.zoneOf[i] = z
      this.memory[i] = cell.available.memoryMb
      this.disk[i] = cell.available.diskMb
      this.containers[i] = cell.available.containers
      this.starting[i] = cell.startingContainers
      this.tasks[i] = cell.tasks
    }
  }

  /** The part of a cell's score that does not depend on the request: fractions used now, plus starting containers. */
  base(i: number): number {
    const total = this.cells[i]!.total
    const used =
      (total.memoryMb - this.memory[i]!) / total.memoryMb +
      (total.diskMb - this.disk[i]!) / total.diskMb +
      (total.containers - this.containers[i]!) / total.containers
    return onGrid(used / 3) + onGrid(this.weight * this.starting[i]!)
  }

  /** The request's own share of a cell of these totals: what its placement adds to the mean of fractions used. */
  static share(total: Resources, memoryMb: number, diskMb: number): number {
    return onGrid((memoryMb / total.memoryMb + diskMb / total.diskMb + 1 / total.containers) / 3)
  }

  lacks(i: number, memoryMb: number, diskMb: number): number {
    let lacks = 0
    if (this.containers[i]! < 1) lacks |= LACKS_CONTAINERS
    if (this.disk[i]! < diskMb) lacks |= LACKS_DISK
    if (this.memory[i]! < memoryMb) lacks |= LACKS_MEMORY
    return lacks
  }

  reserve(i: number, memoryMb: number, diskMb: number, isTask: boolean): void {
    this.memory[i]! -= memoryMb
    this.disk[i]! -= diskMb
    this.containers[i]! -= 1
    this.starting[i]! += 1
    if (isTask) this.tasks[i]! += 1
    this.index?.rekey(i)
  }

  recordPlacement(processGuid: string, i: number): void {
    const placed = this.placedInBatch.get(processGuid)
    if (placed) placed.push(i)
    else this.placedInBatch.set(processGuid, [i])
  }

  /** Why no cell takes this constraint, or undefined when some cell does. Rootfs first, then placement tags. */
  constraintError(constraint: PlacementConstraint, isCompatible: (i: number) => boolean): string | undefined {
    if (this.n === 0) return ERROR_CELL_COMMUNICATION
    let rootfsMatched = false
    for (let i = 0; i < this.n; i++) {
      if (isCompatible(i)) return undefined
      if (!rootfsMatched && matchesRootfs(this.cells[i]!.rootfsProviders, constraint.rootfs)) rootfsMatched = true
    }
    return rootfsMatched ? placementTagMismatchError(constraint.placementTags) : ERROR_CELL_MISMATCH
  }

  compatible(i: number, constraint: PlacementConstraint): boolean {
    const cell = this.cells[i]!
    return (
      matchesRootfs(cell.rootfsProviders, constraint.rootfs) && matchesPlacementTags(cell, constraint.placementTags)
    )
  }
}

/** The cells sorted by id; the reps usually report them in that order already, and then nothing is sorted. */
function byId(cells: readonly AuctionCell[]): AuctionCell[] {
  let sorted = true
  for (let i = 1; i < cells.length && sorted; i++) sorted = cells[i - 1]!.id < cells[i]!.id
  const copy = [...cells]
  return sorted ? copy : copy.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

function validateConfig(config: AuctionConfig): AuctionConfig {
  if (!(config.startingContainerWeight >= 0)) {
    throw new RangeError(`startingContainerWeight must be 0 or more, got ${config.startingContainerWeight}`)
  }
  return config
}

function emptyResults<L extends LrpStartRequest, T extends TaskStartRequest>(): AuctionResults<L, T> {
  return { placedLrps: [], failedLrps: [], placedTasks: [], failedTasks: [] }
}

/**
 * Tasks go to the best-scoring compatible cell in any zone; their locality term counts the cell's Tasks.
 * Both implementations place Tasks this way (a scan of every cell): Tasks are few, LRPs are the volume.
 */
function placeTask<T extends TaskStartRequest>(
  ledger: Ledger,
  task: T,
  results: AuctionResults<LrpStartRequest, T>,
): void {
  const compatible = (i: number) => ledger.compatible(i, task)
  const mismatch = ledger.constraintError(task, compatible)
  if (mismatch) {
    results.failedTasks.push({ start: task, error: mismatch })
    return
  }
  let best = -1
  let bestScore = Number.POSITIVE_INFINITY
  let lacksEverywhere = LACKS_ALL
  for (let i = 0; i < ledger.n; i++) {
    if (!compatible(i)) continue
    const lacks = ledger.lacks(i, task.memoryMb, task.diskMb)
    if (lacks) {
      lacksEverywhere &= lacks
      continue
    }
    const score =
      ledger.base(i) +
      Ledger.share(ledger.cells[i]!.total, task.memoryMb, task.diskMb) +
      LOCALITY_OFFSET * ledger.tasks[i]!
    if (score < bestScore) {
      bestScore = score
      best = i
    }
  }
  if (best < 0) {
    results.failedTasks.push({ start: task, error: insufficientResourcesError(lacksEverywhere) })
    return
  }
  ledger.reserve(best, task.memoryMb, task.diskMb, true)
  results.placedTasks.push({ start: task, cellId: ledger.cells[best]!.id })
}

/** Decides where one LRP goes (a cell index, or why none), and hears where it went. */
interface LrpPlacer {
  place(lrp: LrpStartRequest): number | string
  placed(lrp: LrpStartRequest, cell: number): void
}

function auctionWith<L extends LrpStartRequest, T extends TaskStartRequest>(
  state: AuctionState,
  batch: AuctionBatch<L, T>,
  config: AuctionConfig,
  order: typeof auctionOrder<L, T>,
  makePlacer: (ledger: Ledger) => LrpPlacer,
): AuctionResults<L, T> {
  validateConfig(config)
  const ledger = new Ledger(state, config)
  const placer = makePlacer(ledger)
  const results = emptyResults<L, T>()
  const { lrpsBeforeTasks, tasks, lrpsAfterTasks } = order(batch)
  auctionLrps(ledger, placer, lrpsBeforeTasks, results)
  for (const task of tasks) placeTask(ledger, task, results)
  auctionLrps(ledger, placer, lrpsAfterTasks, results)
  return results
}

function auctionLrps<L extends LrpStartRequest>(
  ledger: Ledger,
  placer: LrpPlacer,
  lrps: readonly L[],
  results: AuctionResults<L, TaskStartRequest>,
): void {
  const cells = ledger.cells
  for (let k = 0; k < lrps.length; k++) {
    const lrp = lrps[k]!
    const outcome = placer.place(lrp)
    if (typeof outcome === 'string') {
      results.failedLrps.push({ start: lrp, error: outcome })
      continue
    }
    ledger.reserve(outcome, lrp.memoryMb, lrp.diskMb, false)
    placer.placed(lrp, outcome)
    results.placedLrps.push({ start: lrp, cellId: cells[outcome]!.id })
  }
}

/** Instances of a process per cell index, from the cells' state and this batch's earlier placements. */
function instancesPerCell(ledger: Ledger, state: AuctionState, processGuid: string): Map<number, number> {
  const counts = new Map<number, number>()
  for (const id of state.cellsHolding(processGuid)) {
    const i = ledger.indexById.get(id)
    if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1)
  }
  for (const i of ledger.placedInBatch.get(processGuid) ?? []) counts.set(i, (counts.get(i) ?? 0) + 1)
  return counts
}

/**
 * The reference: Diego's scheduleLRPAuction, scoring every compatible cell of every zone. Zones are tried
 * from the fewest instances of this process upward, zones with equal counts together; the first zone
 * group with a winner ends the search.
 */
export function runAuctionByFullScan<L extends LrpStartRequest, T extends TaskStartRequest>(
  state: AuctionState,
  batch: AuctionBatch<L, T>,
  config: AuctionConfig = DEFAULT_CONFIG,
): AuctionResults<L, T> {
  return auctionWith(state, batch, config, auctionOrder, (ledger) => ({
    placed: (lrp, i) => ledger.recordPlacement(lrp.processGuid, i),
    place: (lrp) => placeByFullScan(ledger, state, lrp),
  }))
}

function placeByFullScan(ledger: Ledger, state: AuctionState, lrp: LrpStartRequest): number | string {
  const compatible = (i: number) => ledger.compatible(i, lrp)
  const mismatch = ledger.constraintError(lrp, compatible)
  if (mismatch) return mismatch
  const counts = instancesPerCell(ledger, state, lrp.processGuid)
  const zones = ledger.zones.map((_, _z) => ({ instances: 0, cells: [] as number[] }))
  for (const [i, count] of counts) zones[ledger.zoneOf[i]!]!.instances += count
  for (let i = 0; i < ledger.n; i++) if (compatible(i)) zones[ledger.zoneOf[i]!]!.cells.push(i)
  const sorted = zones.filter((z) => z.cells.length > 0).sort((a, b) => a.instances - b.instances)
  let winner = -1
  let winnerScore = Number.POSITIVE_INFINITY
  let lacksEverywhere = LACKS_ALL
  for (let z = 0; z < sorted.length; z++) {
    for (const i of sorted[z]!.cells) {
      const lacks = ledger.lacks(i, lrp.memoryMb, lrp.diskMb)
      if (lacks) {
        lacksEverywhere &= lacks
        continue
      }
      const score =
        ledger.base(i) +
        Ledger.share(ledger.cells[i]!.total, lrp.memoryMb, lrp.diskMb) +
        LOCALITY_OFFSET * (counts.get(i) ?? 0)
      if (score < winnerScore || (score === winnerScore && i < winner)) {
        winnerScore = score
        winner = i
      }
    }
    if (z + 1 < sorted.length && sorted[z]!.instances === sorted[z + 1]!.instances) continue
    if (winner >= 0) break
  }
  return winner >= 0 ? winner : insufficientResourcesError(lacksEverywhere)
}

/** Cells of one zone that share totals, rootfs providers and placement tags: one request's share is the same on each. */
interface CellClass {
  zone: number
  total: Resources
  members: number[]
  /** A min-heap of member cell indexes by (base score, index); cells with no free container are left out. */
  heap: Int32Array
  size: number
}

/**
 * The fast auction. Per batch it builds one heap per cell class, keyed by each cell's base score; a placement
 * walks its compatible classes' heaps best-first and stops as soon as no unseen cell can beat the best found,
 * so it usually looks at one cell per class. Only the winner's key changes afterwards.
 */
export function runAuction<L extends LrpStartRequest, T extends TaskStartRequest>(
  state: AuctionState,
  batch: AuctionBatch<L, T>,
  config: AuctionConfig = DEFAULT_CONFIG,
): AuctionResults<L, T> {
  return auctionWith(state, batch, config, fastAuctionOrder, (ledger) => new ScoreIndex(ledger, state))
}

const listKeys = new WeakMap<readonly string[], string>()

/** The same key for the same set of names, whatever their order (kept per list: cells keep theirs). */
function listKey(names: readonly string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return names[0]!
  let key = listKeys.get(names)
  if (key === undefined) {
    key = [...names].sort().join(',')
    listKeys.set(names, key)
  }
  return key
}

class ScoreIndex implements LrpPlacer {
  private readonly classes: CellClass[] = []
  private readonly classOf: Int32Array
  private readonly position: Int32Array
  private readonly key: Float64Array
  /** Per constraint: the compatible classes, or why there are none. */
  private readonly constraintCache = new Map<string, number[] | string>()
  // The last constraint looked up, by identity: a batch's requests mostly share their rootfs and tags.
  private lastRootfs: string | undefined = undefined
  private lastTags: readonly string[] | undefined = undefined
  private lastClasses: number[] | string = ''
  /**
   * Per process: the cell indexes holding its containers, one entry per container: those held when the batch
   * began (the cells' state does not change during a batch, so they are read once per process), then those
   * placed in this batch. The entry of the process placed last is kept at hand for placed().
   */
  private readonly holding = new Map<string, number[]>()
  private lastProcess = ''
  private lastHeld: number[] = []
  // Scratch space reused by every placement, so the hot path allocates nothing per cell.
  private readonly count: Int32Array
  private readonly touched: Int32Array
  private readonly zoneInstances: Int32Array
  private readonly zoneOrder: Int32Array
  private readonly zoneSeen: Uint8Array
  private readonly frontier: Int32Array

  constructor(
    private readonly ledger: Ledger,
    private readonly state: AuctionState,
  ) {
    const n = ledger.n
    this.classOf = new Int32Array(n)
    this.position = new Int32Array(n).fill(-1)
    this.key = new Float64Array(n)
    this.count = new Int32Array(n)
    this.touched = new Int32Array(n)
    this.frontier = new Int32Array(n)
    this.zoneInstances = new Int32Array(ledger.zones.length)
    this.zoneOrder = new Int32Array(ledger.zones.length)
    this.zoneSeen = new Uint8Array(ledger.zones.length)
    const byShape = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const cell = ledger.cells[i]!
      const { total } = cell
      const shape = `${ledger.zoneOf[i]}\u0000${total.memoryMb}\u0000${total.diskMb}\u0000${total.containers}\u0000${listKey(cell.rootfsProviders)}\u0000${listKey(cell.placementTags)}\u0000${listKey(cell.optionalPlacementTags)}`
      let c = byShape.get(shape)
      if (c === undefined) {
        c = this.classes.length
        byShape.set(shape, c)
        this.classes.push({ zone: ledger.zoneOf[i]!, total: cell.total, members: [], heap: new Int32Array(0), size: 0 })
      }
      this.classOf[i] = c
      this.classes[c]!.members.push(i)
    }
    for (const cls of this.classes) {
      cls.heap = new Int32Array(cls.members.length)
      for (const i of cls.members) {
        this.key[i] = ledger.base(i)
        if (ledger.containers[i]! >= 1) this.insert(cls, i)
      }
    }
    ledger.index = this
  }

  placed(lrp: LrpStartRequest, i: number): void {
    const held = lrp.processGuid === this.lastProcess ? this.lastHeld : this.holdingOf(lrp.processGuid)
    held.push(i)
  }

  place(lrp: LrpStartRequest): number | string {
    let classes: number[] | string
    const tags = lrp.placementTags
    const lastTags = this.lastTags
    if (lrp.rootfs === this.lastRootfs && (tags === lastTags || (tags.length === 0 && lastTags?.length === 0))) {
      classes = this.lastClasses
    } else {
      classes = this.compatibleClasses(lrp)
      this.lastRootfs = lrp.rootfs
      this.lastTags = lrp.placementTags
      this.lastClasses = classes
    }
    if (typeof classes === 'string') return classes
    const touchedCount = this.countInstances(lrp.processGuid)
    try {
      const zones = this.orderZones(classes)
      const zoneInstances = this.zoneInstances
      let winner = -1
      let winnerScore = Number.POSITIVE_INFINITY
      for (let z = 0; z < zones; z++) {
        const zone = this.zoneOrder[z]!
        for (const c of classes) {
          const cls = this.classes[c]!
          if (cls.zone !== zone) continue
          const found = this.bestInClass(cls, lrp, winner, winnerScore)
          if (found >= 0) {
            winner = found
            winnerScore = this.lastScore
          }
        }
        if (z + 1 < zones && zoneInstances[zone] === zoneInstances[this.zoneOrder[z + 1]!]) continue
        if (winner >= 0) break
      }
      return winner >= 0 ? winner : this.whyNoCell(classes, lrp)
    } finally {
      for (let t = 0; t < touchedCount; t++) this.count[this.touched[t]!] = 0
    }
  }

  private lastScore = 0

  /**
   * Best cell of one class that beats (winnerScore, winner), walking the heap in (key, index) order.
   * Every unseen cell scores at least its key plus the request's share, so the walk stops at the first
   * cell whose lower bound cannot beat the best so far. Returns -1 when none beats it.
   */
  private bestInClass(cls: CellClass, lrp: LrpStartRequest, winner: number, winnerScore: number): number {
    if (cls.size === 0) return -1
    const share = Ledger.share(cls.total, lrp.memoryMb, lrp.diskMb)
    const heap = cls.heap
    const key = this.key
    const frontier = this.frontier
    let best = winner
    let bestScore = winnerScore
    let found = -1
    // The frontier is a small min-heap of heap positions still to visit.
    let size = 1
    frontier[0] = 0
    while (size > 0) {
      const pos = frontier[0]!
      const last = frontier[--size]!
      if (size > 0) this.siftFrontierDown(heap, last, size)
      const i = heap[pos]!
      const lower = key[i]! + share
      if (lower > bestScore || (lower === bestScore && i > best)) break
      if (this.ledger.lacks(i, lrp.memoryMb, lrp.diskMb) === 0) {
        const score = lower + LOCALITY_OFFSET * this.count[i]!
        if (score < bestScore || (score === bestScore && i < best)) {
          best = i
          bestScore = score
          found = i
        }
      }
      const left = 2 * pos + 1
      if (left < cls.size) size = this.pushFrontier(heap, left, size)
      if (left + 1 < cls.size) size = this.pushFrontier(heap, left + 1, size)
    }
    this.lastScore = bestScore
    return found
  }

  private before(a: number, b: number): boolean {
    const ka = this.key[a]!
    const kb = this.key[b]!
    return ka < kb || (ka === kb && a < b)
  }

  private pushFrontier(heap: Int32Array, pos: number, size: number): number {
    const frontier = this.frontier
    let at = size
    while (at > 0) {
      const parent = (at - 1) >> 1
      if (!this.before(heap[pos]!, heap[frontier[parent]!]!)) break
      frontier[at] = frontier[parent]!
      at = parent
    }
    frontier[at] = pos
    return size + 1
  }

  private siftFrontierDown(heap: Int32Array, pos: number, size: number): void {
    const frontier = this.frontier
    let at = 0
    for (;;) {
      const left = 2 * at + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && this.before(heap[frontier[right]!]!, heap[frontier[left]!]!) ? right : left
      if (!this.before(heap[frontier[child]!]!, heap[pos]!)) break
      frontier[at] = frontier[child]!
      at = child
    }
    frontier[at] = pos
  }

  private compatibleClasses(constraint: PlacementConstraint): number[] | string {
    const tags = constraint.placementTags
    // Most requests carry no placement tags: their key is the rootfs alone, with nothing built per placement.
    const cacheKey = tags.length === 0 ? constraint.rootfs : `${constraint.rootfs}\u0000${tags.join('\u0000')}`
    let cached = this.constraintCache.get(cacheKey)
    if (cached === undefined) {
      const classes: number[] = []
      for (let c = 0; c < this.classes.length; c++) {
        if (this.ledger.compatible(this.classes[c]!.members[0]!, constraint)) classes.push(c)
      }
      cached =
        classes.length > 0 ? classes : (this.ledger.constraintError(constraint, () => false) ?? ERROR_CELL_MISMATCH)
      this.constraintCache.set(cacheKey, cached)
    }
    return cached
  }

  /** Fills `count` for the cells holding this process; returns how many entries of `touched` to reset. */
  private countInstances(processGuid: string): number {
    const count = this.count
    const touched = this.touched
    const zoneInstances = this.zoneInstances
    const zoneOf = this.ledger.zoneOf
    zoneInstances.fill(0)
    let touchedCount = 0
    const held = this.holdingOf(processGuid)
    this.lastProcess = processGuid
    this.lastHeld = held
    for (let k = 0; k < held.length; k++) {
      const i = held[k]!
      if (count[i]! === 0) touched[touchedCount++] = i
      count[i]! += 1
      zoneInstances[zoneOf[i]!]! += 1
    }
    return touchedCount
  }

  private holdingOf(processGuid: string): number[] {
    let held = this.holding.get(processGuid)
    if (held === undefined) {
      held = []
      for (const id of this.state.cellsHolding(processGuid)) {
        const i = this.ledger.indexById.get(id)
        if (i !== undefined) held.push(i)
      }
      this.holding.set(processGuid, held)
    }
    return held
  }

  /** Writes the zones that have a compatible class into zoneOrder, fewest instances first; returns how many. */
  private orderZones(classes: number[]): number {
    const order = this.zoneOrder
    const seen = this.zoneSeen
    const instances = this.zoneInstances
    let zones = 0
    for (const c of classes) {
      const zone = this.classes[c]!.zone
      if (seen[zone]) continue
      seen[zone] = 1
      // Insertion sort: there are a handful of zones.
      let at = zones++
      while (at > 0 && instances[order[at - 1]!]! > instances[zone]!) {
        order[at] = order[at - 1]!
        at--
      }
      order[at] = zone
    }
    for (let z = 0; z < zones; z++) seen[order[z]!] = 0
    return zones
  }

  /** The resources every compatible cell lacks: only reached when no cell fits, so a full scan is fine. */
  private whyNoCell(classes: number[], lrp: LrpStartRequest): string {
    let lacksEverywhere = LACKS_ALL
    for (const c of classes) {
      for (const i of this.classes[c]!.members) lacksEverywhere &= this.ledger.lacks(i, lrp.memoryMb, lrp.diskMb)
    }
    return insufficientResourcesError(lacksEverywhere)
  }

  /** A reservation only raises a cell's key, so the cell sinks, or leaves the heap when its last container goes. */
  rekey(i: number): void {
    const cls = this.classes[this.classOf[i]!]!
    this.key[i] = this.ledger.base(i)
    if (this.position[i]! < 0) return
    if (this.ledger.containers[i]! < 1) this.remove(cls, i)
    else this.siftDown(cls, this.position[i]!)
  }

  private insert(cls: CellClass, i: number): void {
    const at = cls.size++
    cls.heap[at] = i
    this.position[i] = at
    this.siftUp(cls, at)
  }

  private remove(cls: CellClass, i: number): void {
    const at = this.position[i]!
    const last = cls.heap[--cls.size]!
    this.position[i] = -1
    if (at === cls.size) return
    cls.heap[at] = last
    this.position[last] = at
    this.siftUp(cls, at)
    this.siftDown(cls, this.position[last]!)
  }

  private siftUp(cls: CellClass, at: number): void {
    const heap = cls.heap
    const i = heap[at]!
    while (at > 0) {
      const parent = (at - 1) >> 1
      const p = heap[parent]!
      if (!this.before(i, p)) break
      heap[at] = p
      this.position[p] = at
      at = parent
    }
    heap[at] = i
    this.position[i] = at
  }

  private siftDown(cls: CellClass, at: number): void {
    const heap = cls.heap
    const i = heap[at]!
    for (;;) {
      const left = 2 * at + 1
      if (left >= cls.size) break
      const right = left + 1
      const child = right < cls.size && this.before(heap[right]!, heap[left]!) ? right : left
      const c = heap[child]!
      if (!this.before(c, i)) break
      heap[at] = c
      this.position[c] = at
      at = child
    }
    heap[at] = i
    this.position[i] = at
  }
}
