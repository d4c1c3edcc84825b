// The BBS: Diego's in-memory record of what should run (DesiredLRPs, Tasks), what does (ActualLRPs), and
// where (Cells). Every state change goes through a method here, so the indexes (by process guid, by cell,
// by state) and the cells' resource accounts can never drift from the records. No timers: the shells
// (auctioneer, reps, converger) decide when; the BBS only records.

import type { RouteEndpoint, RouteSource } from '../routes.js'
import {
  ACTUAL_LRP_STATES,
  type ActualLrp,
  type ActualLrpState,
  CLAIMED,
  CRASHED,
  LrpTable,
  NONE,
  ORDINARY,
  PRESENCE_CODE,
  type Reservation,
  RUNNING,
  UNCLAIMED,
} from './actual-lrps.js'
import { matchesPlacementTags, matchesRootfs, type Resources } from './auction.js'
import { type RestartPolicy, shouldRestartImmediately } from './restart-calculator.js'

export {
  ACTUAL_LRP_STATES,
  ActualLrp,
  type ActualLrpPresence,
  type ActualLrpState,
  formatInstanceGuid,
  type Reservation,
} from './actual-lrps.js'
export type TaskState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'RESOLVING'

/** Diego's rep advertises 250 containers unless told otherwise. */
export const DEFAULT_CELL_CONTAINERS = 250
export const DEFAULT_ROOTFS_PROVIDERS: readonly string[] = ['cflinuxfs2', 'cflinuxfs3', 'cflinuxfs4', 'docker']

export interface DesiredLrp {
  processGuid: string
  appGuid: string
  version: string
  instances: number
  memoryMb: number
  diskMb: number
  /** A preloaded stack (`cflinuxfs4`, `preloaded:cflinuxfs4`) or `docker:///image`. */
  rootfs: string
  placementTags: readonly string[]
  routes: readonly string[]
}

const NO_RESERVATION: Reservation = Object.freeze({ memoryMb: 0, diskMb: 0 })

/**
 * Every ActualLRP of one process guid: the ORDINARY record per index, and any EVACUATING or SUSPECT copies.
 * It is also the route source of its running instances (the route emitter registers it under its routes).
 */
export class ActualGroup implements RouteSource {
  /** The slot of the ORDINARY record of each index (NONE where there is none); only the BBS changes it. */
  instances: number[] = []
  /** The slots of its EVACUATING and SUSPECT copies. */
  copies: number[] | undefined = undefined
  desired: DesiredLrp | undefined = undefined
  /**
   * What a container of this process reserves: its DesiredLRP's memory and disk (kept when the DesiredLRP goes,
   * for the records still holding containers). A record claimed under other sizes keeps its own.
   */
  reservation: Reservation = NO_RESERVATION
  /** The routes running instances are registered under (the route emitter keeps this in step). */
  registeredRoutes: readonly string[] = []
  /** How many of its instances the route emitter counts as registered; the group is in the table while above 0. */
  routedInstances = 0

  constructor(
    readonly processGuid: string,
    readonly appGuid: string,
    private readonly table: LrpTable,
  ) {}

  get isEmpty(): boolean {
    return this.desired === undefined && this.instances.length === 0 && !this.copies?.length
  }

  /** The ORDINARY record of this index. */
  instance(index: number): ActualLrp | undefined {
    const slot = this.instances[index]
    return slot === undefined || slot === NONE ? undefined : this.table.handle(slot)
  }

  /** An endpoint for each RUNNING record, ordinary or copy: what the route emitter has registered. */
  routeEndpoints(into: RouteEndpoint[]): void {
    for (const slot of this.instances)
      if (slot !== NONE && this.table.state(slot) === RUNNING) into.push(this.endpoint(slot))
    if (this.copies)
      for (const slot of this.copies) if (this.table.state(slot) === RUNNING) into.push(this.endpoint(slot))
  }

  private endpoint(slot: number): RouteEndpoint {
    const lrp = this.table.handle(slot)
    return {
      appGuid: this.appGuid,
      backend: 'diego',
      index: lrp.index,
      instanceGuid: lrp.instanceGuid,
      host: lrp.cellId,
    }
  }

  /** Its EVACUATING and SUSPECT copies. */
  *copyRecords(): IterableIterator<ActualLrp> {
    if (this.copies) for (const slot of this.copies) yield this.table.handle(slot)
  }

  /** Every record, ordinary and copies. */
  *records(): IterableIterator<ActualLrp> {
    for (const slot of this.instances) if (slot !== NONE) yield this.table.handle(slot)
    if (this.copies) for (const slot of this.copies) yield this.table.handle(slot)
  }
}

export interface CellSpec {
  id: string
  zone: string
  memoryMb: number
  diskMb: number
  containers?: number
  rootfsProviders?: readonly string[]
  placementTags?: readonly string[]
  optionalPlacementTags?: readonly string[]
  /** How long an instance takes from CLAIMED to RUNNING on this cell; the engine's default when absent. */
  bootDelayMs?: number
}

/**
 * The ActualLRPs holding a container on one cell. The records' cell column says where each is, so the cell
 * keeps only their number; walking them reads that column (a drain, a lost cell: rare), which costs less than
 * a list per cell at 250,000 records. Callers that change the cell while walking it walk a copy.
 */
export class CellLrps implements Iterable<ActualLrp> {
  /** How many records hold a container on the cell (the BBS keeps it in step). */
  size = 0
  /** The BBS's records, once the cell is in one. */
  table: LrpTable | undefined = undefined

  constructor(private readonly cell: Cell) {}

  has(lrp: ActualLrp): boolean {
    return lrp.exists && lrp.cell === this.cell
  }

  *[Symbol.iterator](): IterableIterator<ActualLrp> {
    const table = this.table
    if (table === undefined || this.size === 0) return
    for (const slot of table.slotsOn(this.cell.number)) yield table.handle(slot)
  }
}

const NO_TASKS: ReadonlySet<Task> = new Set()
/** Shared by every cell and DesiredLRP without placement tags. */
export const NO_TAGS: readonly string[] = Object.freeze([])
// Cells of one size share one (frozen) capacity record.
const capacities = new Map<string, Readonly<Resources>>()

function capacityOf(memoryMb: number, diskMb: number, containers: number): Readonly<Resources> {
  const key = `${memoryMb}/${diskMb}/${containers}`
  let capacity = capacities.get(key)
  if (capacity === undefined) {
    capacity = Object.freeze({ memoryMb, diskMb, containers })
    capacities.set(key, capacity)
  }
  return capacity
}

export class Cell {
  /** Its number in the BBS that holds it (the records' cell column), or NONE before it is added. */
  number = NONE
  alive = true
  evacuating = false
  usedMemoryMb = 0
  usedDiskMb = 0
  usedContainers = 0
  startingContainers = 0
  readonly lrps = new CellLrps(this)
  // Made on a cell's first Task: most cells never run one, and thousands of empty sets add up.
  private taskSet: Set<Task> | undefined = undefined

  constructor(
    readonly id: string,
    readonly zone: string,
    readonly capacity: Readonly<Resources>,
    readonly rootfsProviders: readonly string[],
    readonly placementTags: readonly string[],
    readonly optionalPlacementTags: readonly string[],
    public bootDelayMs: number,
  ) {}

  // The last rootfs and placement tags (by identity) this cell was found to accept: a batch claims thousands
  // of instances of a few DesiredLRP shapes, and matching strings for each costs more than the claim.
  private acceptedRootfs: string | undefined = undefined
  private acceptedTags: readonly string[] | undefined = undefined

  /** The cell offers this rootfs and its placement tags match (the rep's rules, see auction.ts). */
  accepts(rootfs: string, placementTags: readonly string[]): boolean {
    const known = this.acceptedTags
    if (
      rootfs === this.acceptedRootfs &&
      (placementTags === known || (placementTags.length === 0 && known?.length === 0))
    ) {
      return true
    }
    if (!matchesRootfs(this.rootfsProviders, rootfs) || !matchesPlacementTags(this, placementTags)) return false
    this.acceptedRootfs = rootfs
    this.acceptedTags = placementTags
    return true
  }

  /** The Tasks running on the cell. */
  get tasks(): ReadonlySet<Task> {
    return this.taskSet ?? NO_TASKS
  }

  addTask(task: Task): void {
    if (this.taskSet === undefined) this.taskSet = new Set()
    this.taskSet.add(task)
  }

  deleteTask(task: Task): boolean {
    if (this.taskSet?.delete(task) !== true) return false
    if (this.taskSet.size === 0) this.taskSet = undefined
    return true
  }

  /** Alive and not evacuating: the auctioneer may give it work. */
  get takesWork(): boolean {
    return this.alive && !this.evacuating
  }

  /** Room for one more container of this size. */
  fits(memoryMb: number, diskMb: number): boolean {
    const { capacity } = this
    return (
      this.usedContainers < capacity.containers &&
      this.usedMemoryMb + memoryMb <= capacity.memoryMb &&
      this.usedDiskMb + diskMb <= capacity.diskMb
    )
  }

  get available(): Resources {
    return {
      memoryMb: this.capacity.memoryMb - this.usedMemoryMb,
      diskMb: this.capacity.diskMb - this.usedDiskMb,
      containers: this.capacity.containers - this.usedContainers,
    }
  }
}

export interface TaskDefinition {
  taskGuid: string
  memoryMb: number
  diskMb: number
  rootfs: string
  placementTags: readonly string[]
  /** How long the task runs once its container is up. */
  runMs: number
  /** What the task reports on success. */
  result: string
  /** When set, the task exits with this failure instead. */
  failureReason: string | undefined
}

export class Task {
  state: TaskState = 'PENDING'
  cellId = ''
  failed = false
  failureReason = ''
  result = ''
  auctionAttempts = 0
  startedAt = 0
  firstCompletedAt = 0

  constructor(
    readonly definition: TaskDefinition,
    readonly createdAt: number,
    public updatedAt: number,
  ) {}

  get taskGuid(): string {
    return this.definition.taskGuid
  }
}

/** Told when an instance starts or stops being routable: the route emitter listens. */
export interface BbsObserver {
  lrpRunning(group: ActualGroup, slot: number): void
  lrpNoLongerRunning(group: ActualGroup, slot: number): void
}

/** What the converger reads. */
export interface BbsView {
  groups(): Iterable<ActualGroup>
  unclaimed(): Iterable<ActualLrp>
  crashed(): Iterable<ActualLrp>
  cells(): Iterable<Cell>
  tasks(): Iterable<Task>
  group(processGuid: string): ActualGroup | undefined
  /** The record in this slot (one of a group's instances or copies). */
  record(slot: number): ActualLrp
  /** The records holding a container on a cell that is no longer alive. */
  lrpsOnLostCells(): Iterable<ActualLrp>
}

export function validateCellSpec(spec: CellSpec, defaultBootMs: number): Cell {
  const where = `cell ${JSON.stringify(spec?.id)}`
  if (typeof spec?.id !== 'string' || spec.id === '') throw new TypeError('a cell needs a non-empty string id')
  if (typeof spec.zone !== 'string' || spec.zone === '')
    throw new TypeError(`${where}: zone must be a non-empty string`)
  const positive = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${where}: ${name} must be a positive number, got ${value}`)
    }
    return value
  }
  const containers = spec.containers ?? DEFAULT_CELL_CONTAINERS
  if (!Number.isInteger(containers) || containers <= 0) {
    throw new RangeError(`${where}: containers must be a positive integer, got ${containers}`)
  }
  const bootDelayMs = spec.bootDelayMs ?? defaultBootMs
  if (!Number.isFinite(bootDelayMs) || bootDelayMs < 0) {
    throw new RangeError(`${where}: bootDelayMs must be 0 or more, got ${bootDelayMs}`)
  }
  const strings = (name: string, value: readonly string[] | undefined, fallback: readonly string[]) => {
    if (value === undefined) return fallback
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
      throw new TypeError(`${where}: ${name} must be a list of non-empty strings`)
    }
    return value.length === 0 ? NO_TAGS : [...value]
  }
  return new Cell(
    spec.id,
    spec.zone,
    capacityOf(positive('memoryMb', spec.memoryMb), positive('diskMb', spec.diskMb), containers),
    strings('rootfsProviders', spec.rootfsProviders, DEFAULT_ROOTFS_PROVIDERS),
    strings('placementTags', spec.placementTags, NO_TAGS),
    strings('optionalPlacementTags', spec.optionalPlacementTags, NO_TAGS),
    bootDelayMs,
  )
}

export class Bbs implements BbsView {
  private readonly groupByGuid = new Map<string, ActualGroup>()
  /** Process guids (desired or with records) of each app: an app has several while versions overlap. */
  // The group itself for an app's one process (nearly every app), an array while versions overlap: a Set of
  // process guids per app cost more than the app's DesiredLRP.
  private readonly processesByApp = new Map<string, ActualGroup | ActualGroup[]>()
  private readonly cellById = new Map<string, Cell>()
  /** The cells by number (Cell.number), for the records' cell column. */
  private readonly cellByNumber: (Cell | undefined)[] = []
  private readonly taskByGuid = new Map<string, Task>()
  /** The ActualLRP records. */
  readonly table = new LrpTable(this.cellByNumber)
  // By state: counts of every ordinary record, and the two sets the converger walks.
  private readonly stateCounts: Record<ActualLrpState, number> = { UNCLAIMED: 0, CLAIMED: 0, RUNNING: 0, CRASHED: 0 }
  private readonly unclaimedSet = new Set<number>()
  private readonly crashedSet = new Set<number>()
  private copyCount = 0
  private nextInstanceId = 1
  observer: BbsObserver | undefined

  // ---- queries -------------------------------------------------------------------------------------

  desiredLrp(processGuid: string): DesiredLrp | undefined {
    return this.groupByGuid.get(processGuid)?.desired
  }

  /** Every DesiredLRP, from its group: a group is kept while its process is desired. */
  *desiredLrps(): IterableIterator<DesiredLrp> {
    for (const group of this.groupByGuid.values()) if (group.desired) yield group.desired
  }

  /** The app's current DesiredLRP (an app has at most one desired version at a time). */
  desiredForApp(appGuid: string): DesiredLrp | undefined {
    return this.desiredOfApp(appGuid)[0]
  }

  /** Every DesiredLRP of the app: one, or none, unless a restart left the old version's behind. */
  desiredOfApp(appGuid: string): DesiredLrp[] {
    const found: DesiredLrp[] = []
    for (const group of this.groupsOfApp(appGuid)) if (group.desired) found.push(group.desired)
    return found
  }

  group(processGuid: string): ActualGroup | undefined {
    return this.groupByGuid.get(processGuid)
  }

  groups(): IterableIterator<ActualGroup> {
    return this.groupByGuid.values()
  }

  groupsOfApp(appGuid: string): ActualGroup[] {
    const held = this.processesByApp.get(appGuid)
    return held === undefined ? [] : Array.isArray(held) ? [...held] : [held]
  }

  actual(processGuid: string, index: number): ActualLrp | undefined {
    return this.groupByGuid.get(processGuid)?.instance(index)
  }

  record(slot: number): ActualLrp {
    return this.table.handle(slot)
  }

  /** The records holding a container on a cell that is no longer alive: one walk of the records, when there is such a cell. */
  *lrpsOnLostCells(): IterableIterator<ActualLrp> {
    let lost = false
    for (const cell of this.cellById.values()) if (!cell.alive && cell.lrps.size > 0) lost = true
    if (!lost) return
    for (const slot of this.table.slotsOnLostCells()) yield this.table.handle(slot)
  }

  /** Whether this is the current ORDINARY record of its index. */
  isCurrent(lrp: ActualLrp): boolean {
    return lrp.exists && this.isCurrentSlot(lrp.slot)
  }

  /** Whether the slot holds the current ORDINARY record of its index (a slot in use is its group's). */
  isCurrentSlot(slot: number): boolean {
    const group = this.table.group[slot]
    return group !== undefined && group.instances[this.table.index[slot]!] === slot
  }

  /** Whether this is one of its process's current EVACUATING or SUSPECT copies. */
  isCurrentCopy(lrp: ActualLrp): boolean {
    return lrp.exists && lrp.presence !== 'ORDINARY' && this.groupByGuid.get(lrp.processGuid) === lrp.group
  }

  /** Ordinary records in this state. */
  count(state: ActualLrpState): number {
    return this.stateCounts[state]
  }

  /** EVACUATING and SUSPECT copies. */
  get copies(): number {
    return this.copyCount
  }

  *unclaimed(): IterableIterator<ActualLrp> {
    for (const slot of this.unclaimedSet) yield this.table.handle(slot)
  }

  *crashed(): IterableIterator<ActualLrp> {
    for (const slot of this.crashedSet) yield this.table.handle(slot)
  }

  cell(id: string): Cell | undefined {
    return this.cellById.get(id)
  }

  cells(): IterableIterator<Cell> {
    return this.cellById.values()
  }

  task(taskGuid: string): Task | undefined {
    return this.taskByGuid.get(taskGuid)
  }

  tasks(): IterableIterator<Task> {
    return this.taskByGuid.values()
  }

  // ---- cells ---------------------------------------------------------------------------------------

  addCell(cell: Cell): void {
    if (this.cellById.has(cell.id)) throw new Error(`cell ${cell.id} already exists`)
    if (cell.number !== NONE) throw new Error(`cell ${cell.id} is in a BBS already`)
    cell.number = this.cellByNumber.length
    cell.lrps.table = this.table
    this.cellByNumber.push(cell)
    this.cellById.set(cell.id, cell)
  }

  /** The cell vanished: it takes no work and its containers are gone, but its records stay until convergence. */
  loseCell(cell: Cell): void {
    cell.alive = false
    cell.evacuating = false
    this.forgetCellIfEmpty(cell)
  }

  private forgetCellIfEmpty(cell: Cell): void {
    if (!cell.alive && cell.lrps.size === 0 && cell.tasks.size === 0 && this.cellById.get(cell.id) === cell) {
      this.cellById.delete(cell.id)
      // Its number is not given again; only the entry goes (the array keeps one slot per cell ever added).
      this.cellByNumber[cell.number] = undefined
    }
  }

  // ---- desired state -------------------------------------------------------------------------------

  desireLrp(desired: DesiredLrp): ActualGroup {
    if (this.desiredLrp(desired.processGuid)) throw new Error(`DesiredLRP ${desired.processGuid} already exists`)
    const group = this.ensureGroup(desired.processGuid, desired.appGuid)
    this.setDesired(group, desired)
    return group
  }

  /** Replaces the DesiredLRP record (same process guid); the caller reconciles instances and routes. */
  updateDesiredLrp(desired: DesiredLrp): void {
    const group = this.groupByGuid.get(desired.processGuid)
    if (!group?.desired) throw new Error(`DesiredLRP ${desired.processGuid} does not exist`)
    this.setDesired(group, desired)
  }

  /**
   * The group's DesiredLRP, and with it the reservation its claims make from now on. Records holding a
   * container under other sizes keep theirs, so that releasing one gives back exactly what it took.
   */
  private setDesired(group: ActualGroup, desired: DesiredLrp): void {
    const old = group.reservation
    if (old.memoryMb !== desired.memoryMb || old.diskMb !== desired.diskMb) {
      const { table } = this
      const keep = (slot: number) => {
        if (table.cell[slot] !== NONE && !table.reservations.has(slot)) table.reservations.set(slot, old)
      }
      for (const slot of group.instances) if (slot !== NONE) keep(slot)
      if (group.copies) for (const slot of group.copies) keep(slot)
    }
    group.desired = desired
    group.reservation = desired
  }

  /** Forgets the DesiredLRP; its records stay until someone retires them. */
  removeDesiredLrp(processGuid: string): void {
    const group = this.groupByGuid.get(processGuid)
    if (!group) return
    group.desired = undefined
    this.forgetGroupIfEmpty(group)
  }

  private ensureGroup(processGuid: string, appGuid: string): ActualGroup {
    let group = this.groupByGuid.get(processGuid)
    if (!group) {
      group = new ActualGroup(processGuid, appGuid, this.table)
      this.groupByGuid.set(processGuid, group)
      const held = this.processesByApp.get(appGuid)
      if (held === undefined) this.processesByApp.set(appGuid, group)
      else if (Array.isArray(held)) held.push(group)
      else this.processesByApp.set(appGuid, [held, group])
    }
    return group
  }

  private forgetGroupIfEmpty(group: ActualGroup): void {
    if (!group.isEmpty) return
    this.groupByGuid.delete(group.processGuid)
    const held = this.processesByApp.get(group.appGuid)
    if (held === group) this.processesByApp.delete(group.appGuid)
    else if (Array.isArray(held)) {
      const at = held.indexOf(group)
      if (at >= 0) held.splice(at, 1)
      if (held.length === 1) this.processesByApp.set(group.appGuid, held[0]!)
    }
  }

  // ---- ActualLRP lifecycle -------------------------------------------------------------------------

  /** A new ORDINARY record in UNCLAIMED for a desired index that has none. */
  createUnclaimed(processGuid: string, index: number, now: number): ActualLrp {
    return this.table.handle(this.createUnclaimedSlot(processGuid, index, now))
  }

  private createUnclaimedSlot(processGuid: string, index: number, now: number): number {
    const group = this.groupByGuid.get(processGuid)
    if (!group?.desired) throw new Error(`cannot create ActualLRP ${processGuid}/${index}: no such DesiredLRP`)
    const held = group.instances[index]
    if (held !== undefined && held !== NONE) throw new Error(`ActualLRP ${processGuid}/${index} already exists`)
    const slot = this.table.take(group, index, UNCLAIMED_ORDINARY, now)
    while (group.instances.length < index) group.instances.push(NONE)
    group.instances[index] = slot
    this.enterState(slot)
    return slot
  }

  /**
   * An UNCLAIMED record for every index of the group's DesiredLRP that has none; returns the slots of its
   * records that are UNCLAIMED now, new or not. The group's array is then made exactly as long as its records:
   * grown a push at a time it keeps up to 16 spare slots, 8 bytes each, which over 24,000 apps of a few
   * instances each adds up.
   */
  createMissing(group: ActualGroup, now: number): number[] {
    const desired = group.desired
    if (!desired) throw new Error(`cannot create ActualLRPs of ${group.processGuid}: no such DesiredLRP`)
    const before = group.instances.length
    const unclaimed: number[] = []
    for (let index = 0; index < desired.instances; index++) {
      const held = group.instances[index]
      const slot = held === undefined || held === NONE ? this.createUnclaimedSlot(group.processGuid, index, now) : held
      if (this.table.state(slot) === UNCLAIMED) unclaimed.push(slot)
    }
    if (group.instances.length > before) group.instances = group.instances.slice()
    return unclaimed
  }

  /** The auction's winner claims it: a container is reserved on the cell, and the instance is starting. */
  claim(lrp: ActualLrp, cell: Cell, now: number): void {
    this.expect(lrp, 'UNCLAIMED', 'claim')
    this.claimSlot(lrp.slot, cell, now)
  }

  /** claim() for a slot: the auctioneer's path, which checked the record is current and UNCLAIMED. */
  claimSlot(slot: number, cell: Cell, now: number): void {
    const { table } = this
    const group = table.group[slot]
    if (
      group === undefined ||
      table.flags[slot] !== UNCLAIMED_ORDINARY ||
      group.instances[table.index[slot]!] !== slot
    ) {
      this.expect(table.handle(slot), 'UNCLAIMED', 'claim') // throws, saying which
    }
    const desired = group!.desired
    if (!desired) throw new Error(`cannot claim ${this.describeSlot(slot)}: its DesiredLRP is gone`)
    if (!cell.takesWork) throw new Error(`cannot claim ${this.describeSlot(slot)} on cell ${cell.id}: it takes no work`)
    if (!cell.accepts(desired.rootfs, desired.placementTags)) {
      throw new Error(
        `cannot claim ${this.describeSlot(slot)} on cell ${cell.id}: rootfs or placement tags do not match`,
      )
    }
    if (!cell.fits(desired.memoryMb, desired.diskMb)) {
      throw new Error(`cannot claim ${this.describeSlot(slot)} on cell ${cell.id}: not enough room`)
    }
    if (cell.number === NONE || this.cellByNumber[cell.number] !== cell) {
      throw new Error(`cannot claim ${this.describeSlot(slot)} on cell ${cell.id}: it is not in this BBS`)
    }
    this.leaveState(slot)
    table.setState(slot, CLAIMED)
    table.since[slot] = now
    table.instanceId[slot] = this.nextInstanceId++
    if (table.notes.size > 0) table.setNotes(slot, '', table.crashReason(slot))
    // An UNCLAIMED record holds no reservation of its own: it takes its DesiredLRP's (the group's).
    this.occupy(cell, slot)
    cell.startingContainers++
    this.enterState(slot)
  }

  /** The auction found no cell: the record stays UNCLAIMED with Diego's placement error. */
  failPlacement(lrp: ActualLrp, error: string): void {
    this.expect(lrp, 'UNCLAIMED', 'fail placement of')
    this.table.setNotes(lrp.slot, error, this.table.crashReason(lrp.slot))
  }

  /** The rep reports the container running. Any EVACUATING or SUSPECT copy of this index has served its turn. */
  start(lrp: ActualLrp, now: number): void {
    this.expect(lrp, 'CLAIMED', 'start')
    this.startSlot(lrp.slot, now)
  }

  /** start() for a slot the caller found current and CLAIMED (the rep). */
  startSlot(slot: number, now: number): void {
    const { table } = this
    if (table.flags[slot] !== CLAIMED_ORDINARY || !this.isCurrentSlot(slot)) {
      this.expect(table.handle(slot), 'CLAIMED', 'start') // throws, saying which
    }
    const cell = table.cellOf(slot)
    if (cell) cell.startingContainers--
    this.leaveState(slot)
    table.setState(slot, RUNNING)
    table.since[slot] = now
    this.enterState(slot)
    const group = table.group[slot]!
    this.observer?.lrpRunning(group, slot)
    if (group.copies) {
      const index = table.index[slot]!
      for (const copy of [...group.copies]) if (table.index[copy] === index) this.removeCopy(copy)
    }
  }

  /**
   * The container exited. Diego's CrashActualLRP: the count restarts at 1 when the instance had been running
   * longer than the reset timeout; the first crashes restart at once (back to UNCLAIMED), later ones wait
   * in CRASHED for the converger. Returns whether it restarts at once.
   */
  crash(lrp: ActualLrp, now: number, reason: string, policy: RestartPolicy): boolean {
    // Gone first: a removed record's slot may hold another record, and its presence and state say nothing.
    if (!lrp.exists) throw new Error(`cannot crash ${describe(lrp)}: it is no longer in the BBS`)
    if (lrp.presence !== 'ORDINARY') throw new Error(`crash of a ${lrp.presence} copy: remove it instead`)
    if (lrp.state !== 'CLAIMED' && lrp.state !== 'RUNNING') {
      throw new Error(`cannot crash ${describe(lrp)}: it is ${lrp.state}, not CLAIMED or RUNNING`)
    }
    if (!this.isCurrent(lrp)) throw new Error(`cannot crash ${describe(lrp)}: it is no longer the current record`)
    const { table } = this
    const slot = lrp.slot
    const ranLongEnough = lrp.state === 'RUNNING' && now - table.since[slot]! > policy.crashResetMs
    const crashCount = ranLongEnough ? 1 : table.crashCount(slot) + 1
    this.releaseContainer(slot)
    this.leaveState(slot)
    table.setCrashCount(slot, crashCount)
    table.setNotes(slot, table.placementError(slot), reason)
    table.since[slot] = now
    const restartNow = shouldRestartImmediately(policy, crashCount)
    table.setState(slot, restartNow ? UNCLAIMED : CRASHED)
    this.enterState(slot)
    return restartNow
  }

  /** A CRASHED record whose backoff is over, or a CLAIMED one whose cell vanished, goes back to the auction. */
  unclaim(lrp: ActualLrp, now: number): void {
    if (!lrp.exists || lrp.presence !== 'ORDINARY' || (lrp.state !== 'CRASHED' && lrp.state !== 'CLAIMED')) {
      throw new Error(`cannot unclaim ${describe(lrp)}`)
    }
    const slot = lrp.slot
    if (this.table.state(slot) === CLAIMED) this.releaseContainer(slot)
    this.leaveState(slot)
    this.table.setState(slot, UNCLAIMED)
    this.table.since[slot] = now
    this.enterState(slot)
  }

  /** Stops an instance and deletes its record (ordinary or copy). */
  retire(lrp: ActualLrp): void {
    if (!lrp.exists) throw new Error(`${describe(lrp)} is not a current record`)
    if (lrp.presence !== 'ORDINARY') {
      this.removeCopy(lrp.slot)
      return
    }
    const slot = lrp.slot
    const group = this.groupByGuid.get(lrp.processGuid)
    if (group?.instances[lrp.index] !== slot) throw new Error(`${describe(lrp)} is not a current record`)
    this.releaseContainer(slot)
    this.leaveState(slot)
    group.instances[lrp.index] = NONE
    while (group.instances.length > 0 && group.instances.at(-1) === NONE) group.instances.pop()
    this.table.release(slot)
    this.forgetGroupIfEmpty(group)
  }

  /**
   * Evacuation: the running instance keeps serving as an EVACUATING copy on its cell (same instance guid,
   * still routable), while the ordinary record goes back to UNCLAIMED to be placed elsewhere.
   */
  evacuate(lrp: ActualLrp, now: number): ActualLrp {
    this.expect(lrp, 'RUNNING', 'evacuate')
    return this.splitOff(lrp.slot, PRESENCE_CODE.EVACUATING, now)
  }

  /** The cell vanished under a running instance: it lives on as SUSPECT until a replacement runs. */
  markSuspect(lrp: ActualLrp, now: number): ActualLrp {
    this.expect(lrp, 'RUNNING', 'mark suspect')
    return this.splitOff(lrp.slot, PRESENCE_CODE.SUSPECT, now)
  }

  private splitOff(slot: number, presence: number, now: number): ActualLrp {
    const { table } = this
    const group = table.group[slot]!
    const copy = table.take(group, table.index[slot]!, presence | RUNNING, table.since[slot]!)
    table.instanceId[copy] = table.instanceId[slot]!
    table.setCrashCount(copy, table.crashCount(slot))
    const own = table.reservations.get(slot)
    if (own !== undefined) table.reservations.set(copy, own)
    // The copy takes over the container; the ordinary record holds nothing until it is claimed again.
    const cell = table.cellOf(slot)
    if (cell) table.cell[copy] = cell.number
    if (!group.copies) group.copies = []
    group.copies.push(copy)
    this.copyCount++
    this.leaveState(slot)
    table.setState(slot, UNCLAIMED)
    table.since[slot] = now
    table.cell[slot] = NONE
    table.instanceId[slot] = 0
    table.reservations.delete(slot)
    this.enterState(slot)
    return table.handle(copy)
  }

  private removeCopy(copy: number): void {
    const { table } = this
    const group = table.group[copy]
    const at = group?.copies?.indexOf(copy) ?? -1
    if (!group || at < 0 || this.groupByGuid.get(group.processGuid) !== group) {
      throw new Error(`${this.describeSlot(copy)} is not a current copy`)
    }
    group.copies!.splice(at, 1)
    if (group.copies!.length === 0) group.copies = undefined
    this.copyCount--
    // Copies are always running; the emitter unregisters by instance guid, so tell it before the container goes.
    this.observer?.lrpNoLongerRunning(group, copy)
    this.releaseContainer(copy)
    table.release(copy)
    this.forgetGroupIfEmpty(group)
  }

  // ---- Tasks -----------------------------------------------------------------------------------------

  desireTask(definition: TaskDefinition, now: number): Task {
    if (this.taskByGuid.has(definition.taskGuid)) throw new Error(`task ${definition.taskGuid} already exists`)
    const task = new Task(definition, now, now)
    this.taskByGuid.set(definition.taskGuid, task)
    return task
  }

  /** The rep starts the task as it takes it, so a placed task is RUNNING: it can never be started twice. */
  startTask(task: Task, cell: Cell, now: number): void {
    if (task.state !== 'PENDING' || task.startedAt !== 0)
      throw new Error(`task ${task.taskGuid} cannot start: ${task.state}`)
    const def = task.definition
    if (!cell.takesWork) throw new Error(`cannot start task ${task.taskGuid} on cell ${cell.id}: it takes no work`)
    if (!cell.fits(def.memoryMb, def.diskMb)) {
      throw new Error(`cannot start task ${task.taskGuid} on cell ${cell.id}: not enough room`)
    }
    task.state = 'RUNNING'
    task.cellId = cell.id
    task.startedAt = now
    task.updatedAt = now
    cell.usedMemoryMb += def.memoryMb
    cell.usedDiskMb += def.diskMb
    cell.usedContainers++
    cell.addTask(task)
  }

  completeTask(task: Task, now: number, outcome: { failed: boolean; failureReason: string; result: string }): void {
    if (task.state !== 'PENDING' && task.state !== 'RUNNING') {
      throw new Error(`task ${task.taskGuid} cannot complete: ${task.state}`)
    }
    const cell = task.cellId ? this.cellById.get(task.cellId) : undefined
    if (cell?.deleteTask(task)) {
      cell.usedMemoryMb -= task.definition.memoryMb
      cell.usedDiskMb -= task.definition.diskMb
      cell.usedContainers--
      this.forgetCellIfEmpty(cell)
    }
    task.state = 'COMPLETED'
    task.failed = outcome.failed
    task.failureReason = outcome.failureReason
    task.result = outcome.result
    task.updatedAt = now
    task.firstCompletedAt = now
  }

  /** Someone took charge of the completed task's outcome (Diego's ResolvingTask). */
  resolvingTask(task: Task, now: number): void {
    if (task.state !== 'COMPLETED') throw new Error(`task ${task.taskGuid} cannot be resolving: it is ${task.state}`)
    task.state = 'RESOLVING'
    task.updatedAt = now
  }

  deleteTask(task: Task): void {
    if (task.state !== 'COMPLETED' && task.state !== 'RESOLVING') {
      throw new Error(`task ${task.taskGuid} cannot be deleted: it is ${task.state}`)
    }
    this.taskByGuid.delete(task.taskGuid)
  }

  // ---- bookkeeping -----------------------------------------------------------------------------------

  private occupy(cell: Cell, slot: number): void {
    const { memoryMb, diskMb } = this.table.reservation(slot)
    cell.usedMemoryMb += memoryMb
    cell.usedDiskMb += diskMb
    cell.usedContainers++
    cell.lrps.size++
    this.table.cell[slot] = cell.number
  }

  /** Frees the record's container (if it holds one) and clears its instance. */
  private releaseContainer(slot: number): void {
    const { table } = this
    const cell = table.cellOf(slot)
    if (cell === undefined) return
    cell.lrps.size--
    const { memoryMb, diskMb } = table.reservation(slot)
    cell.usedMemoryMb -= memoryMb
    cell.usedDiskMb -= diskMb
    cell.usedContainers--
    if (table.state(slot) === CLAIMED) cell.startingContainers--
    this.forgetCellIfEmpty(cell)
    if (table.flags[slot] === RUNNING_ORDINARY) this.observer?.lrpNoLongerRunning(table.group[slot]!, slot)
    table.cell[slot] = NONE
    table.instanceId[slot] = 0
    table.reservations.delete(slot)
  }

  private enterState(slot: number): void {
    const flags = this.table.flags[slot]!
    if (!this.table.isOrdinary(slot)) return
    this.stateCounts[ACTUAL_LRP_STATES[flags]!]++
    if (flags === UNCLAIMED_ORDINARY) this.unclaimedSet.add(slot)
    else if (flags === CRASHED_ORDINARY) this.crashedSet.add(slot)
  }

  private leaveState(slot: number): void {
    const flags = this.table.flags[slot]!
    if (!this.table.isOrdinary(slot)) return
    this.stateCounts[ACTUAL_LRP_STATES[flags]!]--
    if (flags === UNCLAIMED_ORDINARY) this.unclaimedSet.delete(slot)
    else if (flags === CRASHED_ORDINARY) this.crashedSet.delete(slot)
  }

  private expect(lrp: ActualLrp, state: ActualLrpState, action: string): void {
    if (!lrp.exists || lrp.presence !== 'ORDINARY' || lrp.state !== state) {
      throw new Error(`cannot ${action} ${describe(lrp)}: expected an ORDINARY ${state} record`)
    }
    if (!this.isCurrentSlot(lrp.slot)) {
      throw new Error(`cannot ${action} ${describe(lrp)}: it is no longer the current record`)
    }
  }

  private describeSlot(slot: number): string {
    return describe(this.table.handle(slot))
  }
}

const UNCLAIMED_ORDINARY = UNCLAIMED + ORDINARY
const CLAIMED_ORDINARY = CLAIMED + ORDINARY
const RUNNING_ORDINARY = RUNNING + ORDINARY
const CRASHED_ORDINARY = CRASHED + ORDINARY

function describe(lrp: ActualLrp): string {
  return lrp.exists
    ? `ActualLRP ${lrp.processGuid}/${lrp.index} (${lrp.state}, ${lrp.presence})`
    : 'a removed ActualLRP'
}
