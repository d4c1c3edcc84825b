// The auctioneer: collects start requests into batches and runs the pure auction over the cells' state on
// its clock. Requests that arrive while a batch is being decided or applied wait for the next one, as in
// Diego's batch. A failed LRP stays UNCLAIMED with its placement error for the converger to retry; a failed
// Task is retried in the next batches up to maxTaskRetries times, then completed as failed.

import type { Clock, Timer } from '../clock.js'
import { NONE, ORDINARY, UNCLAIMED } from './actual-lrps.js'
import {
  type AuctionCell,
  type AuctionResults,
  type AuctionState,
  type LrpStartRequest,
  runAuction,
  type TaskStartRequest,
} from './auction.js'
import type { ActualLrp, Bbs, Cell, Task } from './bbs.js'
import type { Rep } from './rep.js'

export interface AuctioneerOptions {
  /** The wait between a request and its batch, and between batches. */
  intervalMs: number
  startingContainerWeight: number
  maxTaskRetries: number
}

export interface AuctioneerHooks {
  /** The record in this slot was placed (a slot, so that nothing is made per placement unless someone asks). */
  lrpPlaced(slot: number): void
  lrpUnplaced(lrp: ActualLrp): void
  taskStarted(task: Task): void
  taskCompleted(task: Task): void
  batchDone(report: AuctionReport): void
}

export interface AuctionReport {
  at: number
  lrpsPlaced: number
  lrpsFailed: number
  tasksPlaced: number
  tasksFailed: number
}

/** A start request that carries its BBS record's slot, so that applying the results needs no lookup. */
interface QueuedLrp extends LrpStartRequest {
  slot: number
}

export class Auctioneer {
  /**
   * The records to place, as slot -> the slot's generation when its record was requested, in request order. A
   * record that is no longer current by its batch (retired, replaced) is skipped; a new record requested in a
   * slot whose queued record is gone goes to the end of the queue, not to the place of the one it replaced.
   */
  private lrpQueue = new Map<number, number>()
  private taskQueue = new Set<string>()
  private timer: Timer | undefined
  private started = false

  constructor(
    private readonly bbs: Bbs,
    private readonly rep: Rep,
    private readonly clock: Clock,
    private readonly options: AuctioneerOptions,
    private readonly hooks: AuctioneerHooks,
  ) {}

  /** Queues the record for the next batch; a record already gone is not queued (its slot may hold another). */
  requestLrp(lrp: ActualLrp): void {
    if (lrp.exists) this.requestSlot(lrp.slot)
  }

  /** requestLrp() for the record in this slot now. */
  requestSlot(slot: number): void {
    const queue = this.lrpQueue
    const generation = this.bbs.table.generation[slot]!
    const queued = queue.get(slot)
    if (queued !== generation) {
      // A Map keeps a key at its first insertion: deleting first puts the slot's new record at the end.
      if (queued !== undefined) queue.delete(slot)
      queue.set(slot, generation)
    }
    this.schedule()
  }

  requestTask(taskGuid: string): void {
    this.taskQueue.add(taskGuid)
    this.schedule()
  }

  get queued(): number {
    return this.lrpQueue.size + this.taskQueue.size
  }

  start(): void {
    this.started = true
    this.schedule()
  }

  stop(): void {
    this.started = false
    this.timer?.cancel()
    this.timer = undefined
  }

  private schedule(): void {
    if (!this.started || this.timer || this.queued === 0) return
    this.timer = this.clock.after(this.options.intervalMs, () => {
      this.timer = undefined
      this.runBatch()
      this.schedule()
    })
  }

  /** Takes everything queued so far as one batch, decides it, and applies the results. */
  runBatch(): AuctionReport {
    const lrpRequests = this.lrpQueue
    const taskRequests = this.taskQueue
    this.lrpQueue = new Map()
    this.taskQueue = new Set()

    const lrps: QueuedLrp[] = []
    const table = this.bbs.table
    const generations = table.generation
    for (const [slot, generation] of lrpRequests) {
      const group = table.group[slot]
      // The world moves between request and batch: skip what got placed, stopped, replaced or scaled away
      // meanwhile, and a record gone whose slot another record took (that one is queued by its own request).
      if (group === undefined || generations[slot] !== generation || table.flags[slot] !== UNCLAIMED_ORDINARY) {
        continue
      }
      const index = table.index[slot]!
      const desired = group.desired
      if (!desired || group.instances[index] !== slot || index >= desired.instances) continue
      lrps.push({
        processGuid: group.processGuid,
        index,
        memoryMb: desired.memoryMb,
        diskMb: desired.diskMb,
        rootfs: desired.rootfs,
        placementTags: desired.placementTags,
        slot,
      })
    }
    const tasks: TaskStartRequest[] = []
    for (const taskGuid of taskRequests) {
      const task = this.bbs.task(taskGuid)
      if (task?.state !== 'PENDING' || task.startedAt !== 0) continue
      const def = task.definition
      tasks.push({
        taskGuid,
        memoryMb: def.memoryMb,
        diskMb: def.diskMb,
        rootfs: def.rootfs,
        placementTags: def.placementTags,
      })
    }
    const results: AuctionResults<QueuedLrp> =
      lrps.length + tasks.length === 0
        ? { placedLrps: [], failedLrps: [], placedTasks: [], failedTasks: [] }
        : runAuction(this.auctionState(), { lrps, tasks }, this.options)
    return this.apply(results)
  }

  /** The cells that take work, as the reps would report them now. */
  auctionState(): AuctionState {
    const cells: AuctionCell[] = []
    for (const cell of this.bbs.cells()) if (cell.takesWork) cells.push(auctionCellOf(cell))
    const bbs = this.bbs
    const table = bbs.table
    const holding = (slot: number, ids: string[]) => {
      const cell = slot === NONE ? undefined : table.cellOf(slot)
      if (cell) ids.push(cell.id)
    }
    return {
      cells,
      cellsHolding(processGuid: string): string[] {
        const group = bbs.group(processGuid)
        const ids: string[] = []
        if (!group) return ids
        for (const slot of group.instances) holding(slot, ids)
        if (group.copies) for (const slot of group.copies) holding(slot, ids)
        return ids
      },
    }
  }

  private apply(results: AuctionResults<QueuedLrp>): AuctionReport {
    const now = this.clock.now()
    for (const { start, cellId } of results.placedLrps) {
      const cell = this.bbs.cell(cellId)!
      this.bbs.claimSlot(start.slot, cell, now)
      this.rep.boot(start.slot)
      this.hooks.lrpPlaced(start.slot)
    }
    for (const { start, error } of results.failedLrps) {
      const lrp = this.bbs.table.handle(start.slot)
      this.bbs.failPlacement(lrp, error)
      this.hooks.lrpUnplaced(lrp)
    }
    for (const { start, cellId } of results.placedTasks) {
      const task = this.bbs.task(start.taskGuid)!
      task.auctionAttempts++
      this.bbs.startTask(task, this.bbs.cell(cellId)!, now)
      this.rep.run(task)
      this.hooks.taskStarted(task)
    }
    for (const { start, error } of results.failedTasks) {
      const task = this.bbs.task(start.taskGuid)!
      task.auctionAttempts++
      task.updatedAt = now
      if (task.auctionAttempts <= this.options.maxTaskRetries) {
        this.requestTask(task.taskGuid)
        continue
      }
      this.bbs.completeTask(task, now, { failed: true, failureReason: error, result: '' })
      this.hooks.taskCompleted(task)
    }
    const report: AuctionReport = {
      at: now,
      lrpsPlaced: results.placedLrps.length,
      lrpsFailed: results.failedLrps.length,
      tasksPlaced: results.placedTasks.length,
      tasksFailed: results.failedTasks.length,
    }
    this.hooks.batchDone(report)
    return report
  }
}

const UNCLAIMED_ORDINARY = UNCLAIMED + ORDINARY

export function auctionCellOf(cell: Cell): AuctionCell {
  return {
    id: cell.id,
    zone: cell.zone,
    total: cell.capacity,
    available: cell.available,
    startingContainers: cell.startingContainers,
    tasks: cell.tasks.size,
    rootfsProviders: cell.rootfsProviders,
    placementTags: cell.placementTags,
    optionalPlacementTags: cell.optionalPlacementTags,
  }
}
