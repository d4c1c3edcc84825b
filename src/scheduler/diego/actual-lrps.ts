// Where the BBS keeps its ActualLRP records: one typed column per field, a record is a slot number. 250,000
// records as objects cost 72 bytes each plus a pointer in their process's array and one in their cell's; as
// slots they cost ~37 bytes of columns and two small integers. The BBS, the auctioneer, the reps and the
// converger work on slots; an ActualLrp is a handle on a slot, made when something hands a record out.

import type { ActualGroup, Cell } from './bbs.js'

export type ActualLrpState = 'UNCLAIMED' | 'CLAIMED' | 'RUNNING' | 'CRASHED'
export type ActualLrpPresence = 'ORDINARY' | 'EVACUATING' | 'SUSPECT'

export const ACTUAL_LRP_STATES: readonly ActualLrpState[] = ['UNCLAIMED', 'CLAIMED', 'RUNNING', 'CRASHED']
const PRESENCES: readonly ActualLrpPresence[] = ['ORDINARY', 'EVACUATING', 'SUSPECT']
export const STATE_CODE: Readonly<Record<ActualLrpState, number>> = {
  UNCLAIMED: 0,
  CLAIMED: 1,
  RUNNING: 2,
  CRASHED: 3,
}
export const PRESENCE_CODE: Readonly<Record<ActualLrpPresence, number>> = { ORDINARY: 0, EVACUATING: 4, SUSPECT: 8 }
// A slot's flags: its state's code (the low two bits) plus its presence's.
export const UNCLAIMED = 0
export const CLAIMED = 1
export const RUNNING = 2
export const CRASHED = 3
export const ORDINARY = 0
const STATE_BITS = 3
const PRESENCE_BITS = 12

/** What a container reserves on its cell. */
export interface Reservation {
  readonly memoryMb: number
  readonly diskMb: number
}

/** No slot. */
export const NONE = -1

/**
 * The records' columns. A slot is in use from take() to release(); its generation changes on release, so a
 * handle made before tells that its record is gone. What few records have (a crash count, a placement error or
 * crash reason, a reservation of their own) is kept in maps beside the columns.
 */
export class LrpTable {
  private capacity = 0
  private used = 0
  private readonly freed: number[] = []
  group: (ActualGroup | undefined)[] = []
  index = new Int32Array(0)
  flags = new Uint8Array(0)
  /** The cell's number (Cell.number) whose container the record holds, or NONE. */
  cell = new Int32Array(0)
  instanceId = new Float64Array(0)
  since = new Float64Array(0)
  generation = new Int32Array(0)
  readonly crashCounts = new Map<number, number>()
  readonly notes = new Map<number, { placementError: string; crashReason: string }>()
  /** Reservations of records claimed under other sizes than their process's now (it was resized since). */
  readonly reservations = new Map<number, Reservation>()

  /**
   * One handle that lives as long as the table. Handles are short-lived (the converger makes thousands in a
   * pass and drops them); when a full collection finds none alive, V8 forgets their shape and throws away the
   * code compiled for it, and the next pass runs slow until it is compiled again.
   */
  readonly keepsShape: ActualLrp

  constructor(
    /** The cells by number, as the BBS keeps them. */
    readonly cells: (Cell | undefined)[],
  ) {
    this.keepsShape = new ActualLrp(this, NONE, 0)
  }

  /** Records in use. */
  get size(): number {
    return this.used - this.freed.length
  }

  take(group: ActualGroup, index: number, flags: number, since: number): number {
    let slot = this.freed.pop()
    if (slot === undefined) {
      if (this.used === this.capacity) this.grow()
      slot = this.used++
    }
    this.group[slot] = group
    this.index[slot] = index
    this.flags[slot] = flags
    this.cell[slot] = NONE
    this.instanceId[slot] = 0
    this.since[slot] = since
    return slot
  }

  release(slot: number): void {
    this.group[slot] = undefined
    this.cell[slot] = NONE
    this.generation[slot] = (this.generation[slot]! + 1) | 0
    this.crashCounts.delete(slot)
    this.notes.delete(slot)
    this.reservations.delete(slot)
    this.freed.push(slot)
  }

  // Grown by a quarter (at least 1,024 slots): a doubling could leave half of a large table unused.
  private grow(): void {
    const capacity = Math.max(1024, Math.ceil(this.capacity * 1.25))
    const grown = <T extends Int32Array | Uint8Array | Float64Array | Uint32Array>(old: T, make: (n: number) => T) => {
      const next = make(capacity)
      next.set(old)
      return next
    }
    this.index = grown(this.index, (n) => new Int32Array(n))
    this.flags = grown(this.flags, (n) => new Uint8Array(n))
    this.cell = grown(this.cell, (n) => new Int32Array(n))
    this.instanceId = grown(this.instanceId, (n) => new Float64Array(n))
    this.since = grown(this.since, (n) => new Float64Array(n))
    this.generation = grown(this.generation, (n) => new Int32Array(n))
    this.capacity = capacity
  }

  state(slot: number): number {
    return this.flags[slot]! & STATE_BITS
  }

  setState(slot: number, state: number): void {
    this.flags[slot] = (this.flags[slot]! & PRESENCE_BITS) | state
  }

  isOrdinary(slot: number): boolean {
    return (this.flags[slot]! & PRESENCE_BITS) === ORDINARY
  }

  /** The slots of the records holding a container on the cell of this number, in slot order. */
  *slotsOn(cellNumber: number): IterableIterator<number> {
    const { cell, group } = this
    for (let slot = 0; slot < this.used; slot++) if (cell[slot] === cellNumber && group[slot] !== undefined) yield slot
  }

  /** The slots of the records holding a container on a cell that is no longer alive, in slot order. */
  *slotsOnLostCells(): IterableIterator<number> {
    const { cell, cells, group } = this
    for (let slot = 0; slot < this.used; slot++) {
      const number = cell[slot]!
      if (number !== NONE && group[slot] !== undefined && cells[number]?.alive === false) yield slot
    }
  }

  cellOf(slot: number): Cell | undefined {
    const number = this.cell[slot]!
    return number === NONE ? undefined : this.cells[number]
  }

  crashCount(slot: number): number {
    return this.crashCounts.get(slot) ?? 0
  }

  setCrashCount(slot: number, count: number): void {
    if (count === 0) this.crashCounts.delete(slot)
    else this.crashCounts.set(slot, count)
  }

  placementError(slot: number): string {
    return this.notes.get(slot)?.placementError ?? ''
  }

  crashReason(slot: number): string {
    return this.notes.get(slot)?.crashReason ?? ''
  }

  setNotes(slot: number, placementError: string, crashReason: string): void {
    if (placementError === '' && crashReason === '') this.notes.delete(slot)
    else this.notes.set(slot, { placementError, crashReason })
  }

  /** What the record's container reserves (or would): its own, or its process's. */
  reservation(slot: number): Reservation {
    return this.reservations.size === 0
      ? this.group[slot]!.reservation
      : (this.reservations.get(slot) ?? this.group[slot]!.reservation)
  }

  handle(slot: number): ActualLrp {
    return new ActualLrp(this, slot, this.generation[slot]!)
  }
}

/**
 * One ActualLRP record, as the BBS hands it out: a handle on its slot, three fields, nothing read until asked
 * (the converger makes thousands in a pass). Two handles on one record are two objects that read and write the
 * same record (compare them with `is`). Once the record is gone (retired, or a copy removed) its handle says
 * so (`exists`) and reads as nothing: no process, index -1, no state or presence (''), since 0, no cell or
 * instance, no crashes or notes, whatever record its slot holds by then. The BBS refuses to act on it.
 */
export class ActualLrp {
  constructor(
    private readonly table: LrpTable,
    readonly slot: number,
    private readonly generation: number,
  ) {}

  /** Its process, while it exists. */
  get group(): ActualGroup | undefined {
    return this.exists ? this.table.group[this.slot] : undefined
  }

  get index(): number {
    return this.exists ? this.table.index[this.slot]! : -1
  }

  /** Whether the record is still in the BBS. */
  get exists(): boolean {
    return this.table.generation[this.slot] === this.generation && this.table.group[this.slot] !== undefined
  }

  /** The same record. */
  is(other: ActualLrp | undefined): boolean {
    return other !== undefined && other.slot === this.slot && other.generation === this.generation
  }

  get processGuid(): string {
    return this.group?.processGuid ?? ''
  }

  /** Its state; '' once it is gone. */
  get state(): ActualLrpState | '' {
    return this.exists ? ACTUAL_LRP_STATES[this.table.state(this.slot)]! : ''
  }

  /** Its presence; '' once it is gone. */
  get presence(): ActualLrpPresence | '' {
    return this.exists ? PRESENCES[(this.table.flags[this.slot]! & PRESENCE_BITS) >> 2]! : ''
  }

  get crashCount(): number {
    return this.exists ? this.table.crashCount(this.slot) : 0
  }

  set crashCount(count: number) {
    if (this.exists) this.table.setCrashCount(this.slot, count)
  }

  get cell(): Cell | undefined {
    return this.exists ? this.table.cellOf(this.slot) : undefined
  }

  get cellId(): string {
    return this.cell?.id ?? ''
  }

  get instanceId(): number {
    return this.exists ? this.table.instanceId[this.slot]! : 0
  }

  get instanceGuid(): string {
    const id = this.instanceId
    return id === 0 ? '' : formatInstanceGuid(id)
  }

  /** What its container reserved on its cell (0 without one), so that releasing it gives back exactly that. */
  get memoryMb(): number {
    return this.cell === undefined ? 0 : this.table.reservation(this.slot).memoryMb
  }

  get diskMb(): number {
    return this.cell === undefined ? 0 : this.table.reservation(this.slot).diskMb
  }

  /** When it last changed state; 0 once it is gone. */
  get since(): number {
    return this.exists ? this.table.since[this.slot]! : 0
  }

  get placementError(): string {
    return this.exists ? this.table.placementError(this.slot) : ''
  }

  get crashReason(): string {
    return this.exists ? this.table.crashReason(this.slot) : ''
  }
}

const INSTANCE_GUID_PREFIX = 'd1e90000-0000-4000-8000-'

/** Instance guids are formatted on demand from a counter: a string per record would cost more than the record. */
export function formatInstanceGuid(id: number): string {
  // join() builds one flat string; a template literal would leave a rope of two, and the route table keeps
  // one of these per running instance as a map key.
  return [INSTANCE_GUID_PREFIX, id.toString(16).padStart(12, '0')].join('')
}
