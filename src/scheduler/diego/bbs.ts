// The BBS: Diego's in-memory record of what should run (DesiredLRPs, Tasks), what does (ActualLRPs), and
// where (Cells). Every state change goes through a method here, so the indexes (by process guid, by cell,
// by state) and the cells' resource accounts can never drift from the records. No timers: the shells
// (auctioneer, reps, converger) decide when; the BBS only records.

import type { RouteEndpoint, RouteSource } from '../routes.js'
import { matchesPlacementTags, matchesRootfs, type Resources } from './auction.js'
import { type RestartPolicy, shouldRestartImmediately } from './restart-calculator.js'

export type ActualLrpState = 'UNCLAIMED' | 'CLAIMED' | 'RUNNING' | 'CRASHED'
export type ActualLrpPresence = 'ORDINARY' | 'EVACUATING' | 'SUSPECT'
export type TaskState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'RESOLVING'

export const ACTUAL_LRP_STATES: readonly ActualLrpState[] = ['UNCLAIMED', 'CLAIMED', 'RUNNING', 'CRASHED']

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

/** Diego's presences, by their code in an ActualLrp's flags (times 4). */
const PRESENCES: readonly ActualLrpPresence[] = ['ORDINARY', 'EVACUATING', 'SUSPECT']
const STATE_CODE: Readonly<Record<ActualLrpState, number>> = { UNCLAIMED: 0, CLAIMED: 1, RUNNING: 2, CRASHED: 3 }
const PRESENCE_CODE: Readonly<Record<ActualLrpPresence, number>> = { ORDINARY: 0, EVACUATING: 4, SUSPECT: 8 }
// The other bits of an ActualLrp's flags: whether it has notes, or a reservation of its own; the crash count
// is kept above them, as a multiple of CRASH_UNIT.
const HAS_NOTES = 16
const OWN_RESERVATION = 32
const LOW_BITS = 63
const CRASH_UNIT = 64

/** What a container reserves on its cell. */
export interface Reservation {
  readonly memoryMb: number
  readonly diskMb: number
}

// What few records have is kept beside them rather than in a field of every record: the placement error and
// the crash reason, and a reservation that differs from its process's current one (its DesiredLRP was resized
// while it held a container).
const notesOf = new WeakMap<ActualLrp, { placementError: string; crashReason: string }>()
const reservationOf = new WeakMap<ActualLrp, Reservation>()

/**
 * One ActualLRP record. Kept small and of one shape: 250,000 of them must fit comfortably in one process, so
 * a record has six fields (72 bytes) and derives the rest: its process guid from its group, its cell id from
 * its cell, state, presence and crash count from one number, its reservation from its process's. Times are
 * ms on the engine's clock; no cell or a zero instanceId means "none".
 */
export class ActualLrp {
  /** The cell it holds a container on (the record is then in that cell's `lrps`), or undefined. */
  cell: Cell | undefined = undefined
  instanceId = 0
  /** The state's and the presence's codes, HAS_NOTES, OWN_RESERVATION, plus the crash count in CRASH_UNITs. */
  private flags: number
  /** `since` as an offset from SINCE_BASE: a small integer V8 keeps in the field, where an epoch time is a boxed double. */
  private sinceOffset: number

  constructor(
    /** The process it belongs to (a group with records is its process guid's current group). */
    readonly group: ActualGroup,
    readonly index: number,
    state: ActualLrpState,
    presence: ActualLrpPresence,
    since: number,
  ) {
    this.flags = STATE_CODE[state] + PRESENCE_CODE[presence]
    this.sinceOffset = sinceOffsetOf(since)
  }

  get processGuid(): string {
    return this.group.processGuid
  }

  // Bit operations see the flags modulo 2^32, so the low bits read right even for a crash count past 2^25;
  // every change is plain arithmetic (no |=, which would cut the count to 32 bits).
  get state(): ActualLrpState {
    return ACTUAL_LRP_STATES[this.flags & 3]!
  }

  set state(state: ActualLrpState) {
    this.flags = this.flags - (this.flags & 3) + STATE_CODE[state]
  }

  get presence(): ActualLrpPresence {
    return PRESENCES[(this.flags & 12) >> 2]!
  }

  get crashCount(): number {
    return Math.floor(this.flags / CRASH_UNIT)
  }

  set crashCount(count: number) {
    this.flags = count * CRASH_UNIT + (this.flags & LOW_BITS)
  }

  get cellId(): string {
    return this.cell === undefined ? '' : this.cell.id
  }

  /** What its container reserved on its cell (0 without one), so that releasing it gives back exactly that. */
  get memoryMb(): number {
    return this.cell === undefined ? 0 : this.reservation.memoryMb
  }

  get diskMb(): number {
    return this.cell === undefined ? 0 : this.reservation.diskMb
  }

  /** The reservation its container holds (or would hold): its own when its process was resized meanwhile. */
  get reservation(): Reservation {
    return this.flags & OWN_RESERVATION ? reservationOf.get(this)! : this.group.reservation
  }

  /** Keeps this reservation whatever its process's becomes (the BBS: its process is being resized). */
  keepReservation(reservation: Reservation): void {
    reservationOf.set(this, reservation)
    if (!(this.flags & OWN_RESERVATION)) this.flags += OWN_RESERVATION
  }

  /** Back to its process's reservation (the BBS: the record gave its container up). */
  dropReservation(): void {
    if (!(this.flags & OWN_RESERVATION)) return
    reservationOf.delete(this)
    this.flags -= OWN_RESERVATION
  }

  get since(): number {
    return this.sinceOffset + sinceBase
  }

  set since(at: number) {
    this.sinceOffset = sinceOffsetOf(at)
  }

  get placementError(): string {
    return this.flags & HAS_NOTES ? notesOf.get(this)!.placementError : ''
  }

  set placementError(error: string) {
    this.setNotes(error, this.crashReason)
  }

  get crashReason(): string {
    return this.flags & HAS_NOTES ? notesOf.get(this)!.crashReason : ''
  }

  set crashReason(reason: string) {
    this.setNotes(this.placementError, reason)
  }

  private setNotes(placementError: string, crashReason: string): void {
    if (placementError === '' && crashReason === '') {
      if (!(this.flags & HAS_NOTES)) return
      notesOf.delete(this)
      this.flags -= HAS_NOTES
      return
    }
    notesOf.set(this, { placementError, crashReason })
    if (!(this.flags & HAS_NOTES)) this.flags += HAS_NOTES
  }

  get instanceGuid(): string {
    return this.instanceId === 0 ? '' : formatInstanceGuid(this.instanceId)
  }
}

// The first time any record is given: every `since` is kept as its distance from it, which stays a small integer
// (within about 24 days either way) and so costs no heap number per record. Past that it is a double again:
// still exact, only bigger. Set once, never moved, so every offset keeps its meaning.
let sinceBase = Number.NaN

function sinceOffsetOf(at: number): number {
  if (Number.isNaN(sinceBase)) sinceBase = at
  return at - sinceBase
}

const NO_RESERVATION: Reservation = Object.freeze({ memoryMb: 0, diskMb: 0 })

const INSTANCE_GUID_PREFIX = 'd1e90000-0000-4000-8000-'

/** Instance guids are formatted on demand from a counter: a string per record would cost more than the record. */
export function formatInstanceGuid(id: number): string {
  // join() builds one flat string; a template literal would leave a rope of two, and the route table keeps
  // one of these per running instance as a map key.
  return [INSTANCE_GUID_PREFIX, id.toString(16).padStart(12, '0')].join('')
}

/**
 * Every ActualLRP of one process guid: the ORDINARY record per index, and any EVACUATING or SUSPECT copies.
 * It is also the route source of its running instances (the route emitter registers it under its routes).
 */
export class ActualGroup implements RouteSource {
  /** The ORDINARY record of each index (undefined where there is none); only the BBS changes it. */
  instances: (ActualLrp | undefined)[] = []
  copies: ActualLrp[] | undefined = undefined
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
  ) {}

  get isEmpty(): boolean {
    return this.desired === undefined && this.instances.length === 0 && !this.copies?.length
  }

  /** An endpoint for each RUNNING record, ordinary or copy: what the route emitter has registered. */
  routeEndpoints(into: RouteEndpoint[]): void {
    for (const lrp of this.instances) if (lrp?.state === 'RUNNING') into.push(this.endpoint(lrp))
    if (this.copies) for (const copy of this.copies) if (copy.state === 'RUNNING') into.push(this.endpoint(copy))
  }

  private endpoint(lrp: ActualLrp): RouteEndpoint {
    return {
      appGuid: this.appGuid,
      backend: 'diego',
      index: lrp.index,
      instanceGuid: lrp.instanceGuid,
      host: lrp.cellId,
    }
  }

  /** Every record, ordinary and copies. */
  *records(): IterableIterator<ActualLrp> {
    for (const lrp of this.instances) if (lrp) yield lrp
    if (this.copies) yield* this.copies
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
 * The ActualLRPs holding a container on one cell, in an array: adding costs no hashing and a record costs one
 * slot here instead of a hash-set entry, which at 250,000 records is the difference that shows. A cell holds
 * at most its containers (250 by default), so removal finds the record by a scan and moves the last record
 * into the gap: the order is not the order of arrival; callers that change the cell while walking it walk a copy.
 */
export class CellLrps implements Iterable<ActualLrp> {
  private readonly records: ActualLrp[] = []

  get size(): number {
    return this.records.length
  }

  has(lrp: ActualLrp): boolean {
    return this.records.includes(lrp)
  }

  /** Adds a record that is not on the cell yet (the BBS adds each record once, as it takes a container). */
  add(lrp: ActualLrp): void {
    this.records.push(lrp)
  }

  delete(lrp: ActualLrp): boolean {
    const at = this.records.lastIndexOf(lrp)
    if (at < 0) return false
    const last = this.records.pop()!
    if (last !== lrp) this.records[at] = last
    return true
  }

  [Symbol.iterator](): IterableIterator<ActualLrp> {
    return this.records.values()
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
  alive = true
  evacuating = false
  usedMemoryMb = 0
  usedDiskMb = 0
  usedContainers = 0
  startingContainers = 0
  readonly lrps = new CellLrps()
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
  lrpRunning(group: ActualGroup, lrp: ActualLrp): void
  lrpNoLongerRunning(group: ActualGroup, lrp: ActualLrp): void
}

/** What the converger reads. */
export interface BbsView {
  groups(): Iterable<ActualGroup>
  unclaimed(): Iterable<ActualLrp>
  crashed(): Iterable<ActualLrp>
  cells(): Iterable<Cell>
  tasks(): Iterable<Task>
  group(processGuid: string): ActualGroup | undefined
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
  private readonly taskByGuid = new Map<string, Task>()
  // By state: counts of every ordinary record, and the two sets the converger walks.
  private readonly stateCounts: Record<ActualLrpState, number> = { UNCLAIMED: 0, CLAIMED: 0, RUNNING: 0, CRASHED: 0 }
  private readonly unclaimedSet = new Set<ActualLrp>()
  private readonly crashedSet = new Set<ActualLrp>()
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
    return this.groupByGuid.get(processGuid)?.instances[index]
  }

  /** Ordinary records in this state. */
  count(state: ActualLrpState): number {
    return this.stateCounts[state]
  }

  /** EVACUATING and SUSPECT copies. */
  get copies(): number {
    return this.copyCount
  }

  unclaimed(): IterableIterator<ActualLrp> {
    return this.unclaimedSet.values()
  }

  crashed(): IterableIterator<ActualLrp> {
    return this.crashedSet.values()
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
      for (const lrp of group.records()) if (lrp.cell !== undefined && lrp.reservation === old) lrp.keepReservation(old)
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
      group = new ActualGroup(processGuid, appGuid)
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
    const group = this.groupByGuid.get(processGuid)
    if (!group?.desired) throw new Error(`cannot create ActualLRP ${processGuid}/${index}: no such DesiredLRP`)
    if (group.instances[index]) throw new Error(`ActualLRP ${processGuid}/${index} already exists`)
    const lrp = new ActualLrp(group, index, 'UNCLAIMED', 'ORDINARY', now)
    while (group.instances.length < index) group.instances.push(undefined)
    group.instances[index] = lrp
    this.enterState(lrp)
    return lrp
  }

  /**
   * An UNCLAIMED record for every index of the group's DesiredLRP that has none. The group's array is then
   * made exactly as long as its records: grown a push at a time it keeps up to 16 spare slots, 8 bytes each,
   * which over 24,000 apps of a few instances each costs more than the arrays' records.
   */
  createMissing(group: ActualGroup, now: number): void {
    const desired = group.desired
    if (!desired) throw new Error(`cannot create ActualLRPs of ${group.processGuid}: no such DesiredLRP`)
    const before = group.instances.length
    for (let index = 0; index < desired.instances; index++) {
      if (!group.instances[index]) this.createUnclaimed(group.processGuid, index, now)
    }
    if (group.instances.length > before) group.instances = group.instances.slice()
  }

  /** The auction's winner claims it: a container is reserved on the cell, and the instance is starting. */
  claim(lrp: ActualLrp, cell: Cell, now: number, group = this.groupByGuid.get(lrp.processGuid)): void {
    // A group that holds the record at its index is its current group: a group with records is never forgotten.
    if (lrp.presence !== 'ORDINARY' || lrp.state !== 'UNCLAIMED' || group?.instances[lrp.index] !== lrp) {
      this.expect(lrp, 'UNCLAIMED', 'claim') // throws, saying which
    }
    const desired = group?.desired
    if (!desired) throw new Error(`cannot claim ${describe(lrp)}: its DesiredLRP is gone`)
    if (!cell.takesWork) throw new Error(`cannot claim ${describe(lrp)} on cell ${cell.id}: it takes no work`)
    if (!cell.accepts(desired.rootfs, desired.placementTags)) {
      throw new Error(`cannot claim ${describe(lrp)} on cell ${cell.id}: rootfs or placement tags do not match`)
    }
    if (!cell.fits(desired.memoryMb, desired.diskMb)) {
      throw new Error(`cannot claim ${describe(lrp)} on cell ${cell.id}: not enough room`)
    }
    this.leaveState(lrp)
    lrp.state = 'CLAIMED'
    lrp.since = now
    lrp.instanceId = this.nextInstanceId++
    lrp.placementError = ''
    // An UNCLAIMED record holds no reservation of its own: it takes its DesiredLRP's (the group's).
    this.occupy(cell, lrp)
    cell.startingContainers++
    this.enterState(lrp)
  }

  /** The auction found no cell: the record stays UNCLAIMED with Diego's placement error. */
  failPlacement(lrp: ActualLrp, error: string): void {
    this.expect(lrp, 'UNCLAIMED', 'fail placement of')
    lrp.placementError = error
  }

  /** The rep reports the container running. Any EVACUATING or SUSPECT copy of this index has served its turn. */
  start(lrp: ActualLrp, now: number): void {
    this.expect(lrp, 'CLAIMED', 'start')
    if (lrp.cell) lrp.cell.startingContainers--
    this.leaveState(lrp)
    lrp.state = 'RUNNING'
    lrp.since = now
    this.enterState(lrp)
    // expect() found it current, and a current record's group is its process's current group.
    const group = lrp.group
    this.observer?.lrpRunning(group, lrp)
    for (const copy of [...(group.copies ?? [])]) if (copy.index === lrp.index) this.removeCopy(copy)
  }

  /**
   * The container exited. Diego's CrashActualLRP: the count restarts at 1 when the instance had been running
   * longer than the reset timeout; the first crashes restart at once (back to UNCLAIMED), later ones wait
   * in CRASHED for the converger. Returns whether it restarts at once.
   */
  crash(lrp: ActualLrp, now: number, reason: string, policy: RestartPolicy): boolean {
    if (lrp.presence !== 'ORDINARY') throw new Error(`crash of a ${lrp.presence} copy: remove it instead`)
    if (lrp.state !== 'CLAIMED' && lrp.state !== 'RUNNING') {
      throw new Error(`cannot crash ${describe(lrp)}: it is ${lrp.state}, not CLAIMED or RUNNING`)
    }
    const ranLongEnough = lrp.state === 'RUNNING' && now - lrp.since > policy.crashResetMs
    const crashCount = ranLongEnough ? 1 : lrp.crashCount + 1
    this.releaseContainer(lrp)
    this.leaveState(lrp)
    lrp.crashCount = crashCount
    lrp.crashReason = reason
    lrp.since = now
    const restartNow = shouldRestartImmediately(policy, crashCount)
    lrp.state = restartNow ? 'UNCLAIMED' : 'CRASHED'
    this.enterState(lrp)
    return restartNow
  }

  /** A CRASHED record whose backoff is over, or a CLAIMED one whose cell vanished, goes back to the auction. */
  unclaim(lrp: ActualLrp, now: number): void {
    if (lrp.presence !== 'ORDINARY' || (lrp.state !== 'CRASHED' && lrp.state !== 'CLAIMED')) {
      throw new Error(`cannot unclaim ${describe(lrp)}`)
    }
    if (lrp.state === 'CLAIMED') this.releaseContainer(lrp)
    this.leaveState(lrp)
    lrp.state = 'UNCLAIMED'
    lrp.since = now
    this.enterState(lrp)
  }

  /** Stops an instance and deletes its record (ordinary or copy). */
  retire(lrp: ActualLrp): void {
    if (lrp.presence !== 'ORDINARY') {
      this.removeCopy(lrp)
      return
    }
    const group = this.groupByGuid.get(lrp.processGuid)
    if (group?.instances[lrp.index] !== lrp) throw new Error(`${describe(lrp)} is not a current record`)
    this.releaseContainer(lrp)
    this.leaveState(lrp)
    group.instances[lrp.index] = undefined
    while (group.instances.length > 0 && group.instances.at(-1) === undefined) group.instances.pop()
    this.forgetGroupIfEmpty(group)
  }

  /**
   * Evacuation: the running instance keeps serving as an EVACUATING copy on its cell (same instance guid,
   * still routable), while the ordinary record goes back to UNCLAIMED to be placed elsewhere.
   */
  evacuate(lrp: ActualLrp, now: number): ActualLrp {
    this.expect(lrp, 'RUNNING', 'evacuate')
    return this.splitOff(lrp, 'EVACUATING', now)
  }

  /** The cell vanished under a running instance: it lives on as SUSPECT until a replacement runs. */
  markSuspect(lrp: ActualLrp, now: number): ActualLrp {
    this.expect(lrp, 'RUNNING', 'mark suspect')
    return this.splitOff(lrp, 'SUSPECT', now)
  }

  private splitOff(lrp: ActualLrp, presence: 'EVACUATING' | 'SUSPECT', now: number): ActualLrp {
    const group = this.groupByGuid.get(lrp.processGuid)!
    const cell = lrp.cell
    const copy = new ActualLrp(group, lrp.index, 'RUNNING', presence, lrp.since)
    copy.instanceId = lrp.instanceId
    copy.crashCount = lrp.crashCount
    if (lrp.reservation !== group.reservation) copy.keepReservation(lrp.reservation)
    // The copy takes over the container; the ordinary record holds nothing until it is claimed again.
    if (cell?.lrps.delete(lrp)) {
      cell.lrps.add(copy)
      copy.cell = cell
    }
    if (!group.copies) group.copies = []
    group.copies.push(copy)
    this.copyCount++
    this.leaveState(lrp)
    lrp.state = 'UNCLAIMED'
    lrp.since = now
    lrp.cell = undefined
    lrp.instanceId = 0
    lrp.dropReservation()
    this.enterState(lrp)
    return copy
  }

  private removeCopy(copy: ActualLrp): void {
    const group = this.groupByGuid.get(copy.processGuid)
    const at = group?.copies?.indexOf(copy) ?? -1
    if (!group || at < 0) throw new Error(`${describe(copy)} is not a current copy`)
    group.copies!.splice(at, 1)
    if (group.copies!.length === 0) group.copies = undefined
    this.copyCount--
    // Copies are always running; the emitter unregisters by instance guid, so tell it before the container goes.
    this.observer?.lrpNoLongerRunning(group, copy)
    this.releaseContainer(copy)
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

  private occupy(cell: Cell, lrp: ActualLrp): void {
    const { memoryMb, diskMb } = lrp.reservation
    cell.usedMemoryMb += memoryMb
    cell.usedDiskMb += diskMb
    cell.usedContainers++
    cell.lrps.add(lrp)
    lrp.cell = cell
  }

  /** Frees the record's container (if it holds one) and clears its instance. */
  private releaseContainer(lrp: ActualLrp): void {
    const cell = lrp.cell
    if (cell === undefined) return
    if (cell.lrps.delete(lrp)) {
      const { memoryMb, diskMb } = lrp.reservation
      cell.usedMemoryMb -= memoryMb
      cell.usedDiskMb -= diskMb
      cell.usedContainers--
      if (lrp.state === 'CLAIMED') cell.startingContainers--
      this.forgetCellIfEmpty(cell)
    }
    if (lrp.state === 'RUNNING' && lrp.presence === 'ORDINARY') {
      this.observer?.lrpNoLongerRunning(this.groupByGuid.get(lrp.processGuid)!, lrp)
    }
    lrp.cell = undefined
    lrp.instanceId = 0
    lrp.dropReservation()
  }

  private enterState(lrp: ActualLrp): void {
    if (lrp.presence !== 'ORDINARY') return
    this.stateCounts[lrp.state]++
    if (lrp.state === 'UNCLAIMED') this.unclaimedSet.add(lrp)
    else if (lrp.state === 'CRASHED') this.crashedSet.add(lrp)
  }

  private leaveState(lrp: ActualLrp): void {
    if (lrp.presence !== 'ORDINARY') return
    this.stateCounts[lrp.state]--
    if (lrp.state === 'UNCLAIMED') this.unclaimedSet.delete(lrp)
    else if (lrp.state === 'CRASHED') this.crashedSet.delete(lrp)
  }

  private expect(lrp: ActualLrp, state: ActualLrpState, action: string): void {
    if (lrp.presence !== 'ORDINARY' || lrp.state !== state) {
      throw new Error(`cannot ${action} ${describe(lrp)}: expected an ORDINARY ${state} record`)
    }
    if (this.groupByGuid.get(lrp.processGuid)?.instances[lrp.index] !== lrp) {
      throw new Error(`cannot ${action} ${describe(lrp)}: it is no longer the current record`)
    }
  }
}

function describe(lrp: ActualLrp): string {
  return `ActualLRP ${lrp.processGuid}/${lrp.index} (${lrp.state}, ${lrp.presence})`
}
