// The cells' reps: they run what the auction gave them. A claimed instance becomes RUNNING after its cell's
// boot delay (a slow cell is the "slow to start" fault); a Task runs for its run time and completes. Every
// wait is a timer on the injected clock, and each callback checks that the world it was set up for still
// holds, since a cell can vanish, drain or lose the instance before the timer fires.

import type { Clock, Timer } from '../clock.js'
import { CLAIMED, ORDINARY } from './actual-lrps.js'
import type { Bbs, Task } from './bbs.js'

export interface RepHooks {
  /** The record in this slot reported RUNNING. */
  lrpRunning(slot: number): void
  taskCompleted(task: Task): void
}

/** Instances due to report RUNNING at one moment, each with the instance id it was claimed under. */
interface BootGroup {
  slots: number[]
  instanceIds: number[]
}

export class Rep {
  private readonly timers = new Set<Timer>()
  /**
   * Boots by the moment they finish. An auction batch claims thousands of instances at once on cells of the
   * same boot delay; they share one timer instead of holding one each, which at 250,000 instances is the
   * difference between a few timers and a quarter of a million closures waiting on the clock.
   */
  private readonly boots = new Map<number, BootGroup>()
  // The group booted into last: a batch's instances mostly share their moment.
  private lastDue = Number.NaN
  private lastBoots: BootGroup | undefined = undefined

  constructor(
    private readonly bbs: Bbs,
    private readonly clock: Clock,
    private readonly hooks: RepHooks,
  ) {}

  /** Starts the container of a freshly claimed instance; it reports RUNNING after the cell's boot delay. */
  boot(slot: number): void {
    const table = this.bbs.table
    const cell = table.cellOf(slot)
    if (!cell)
      throw new Error(`cannot boot ${table.handle(slot).processGuid}/${table.index[slot]}: it holds no container`)
    const due = this.clock.now() + cell.bootDelayMs
    let group = due === this.lastDue ? this.lastBoots : this.boots.get(due)
    if (group === undefined) {
      const created: BootGroup = { slots: [], instanceIds: [] }
      this.boots.set(due, created)
      this.wait(cell.bootDelayMs, () => {
        this.boots.delete(due)
        if (this.lastBoots === created) this.lastBoots = undefined
        this.finishBoots(created)
      })
      group = created
    }
    this.lastDue = due
    this.lastBoots = group
    group.slots.push(slot)
    group.instanceIds.push(table.instanceId[slot]!)
  }

  /** Each instance still claimed under the same instance id, on a cell still there, reports RUNNING. */
  private finishBoots(group: BootGroup): void {
    const { slots, instanceIds } = group
    const table = this.bbs.table
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!
      // The instance id is unique per claim, so a match also means the same record on the same cell.
      if (table.flags[slot] !== CLAIMED + ORDINARY || table.instanceId[slot] !== instanceIds[k]) continue
      if (!this.bbs.isCurrentSlot(slot) || !table.cellOf(slot)?.alive) continue
      this.bbs.startSlot(slot, this.clock.now())
      this.hooks.lrpRunning(slot)
    }
  }

  /** Runs a started Task: its container boots, it runs for its run time, and it completes with its outcome. */
  run(task: Task): void {
    const cell = this.bbs.cell(task.cellId)
    if (!cell) throw new Error(`cannot run task ${task.taskGuid}: cell ${task.cellId} is unknown`)
    const def = task.definition
    this.wait(cell.bootDelayMs + def.runMs, () => {
      // A vanished cell takes its task with it; the converger fails it, it never completes here.
      if (task.state !== 'RUNNING' || task.cellId !== cell.id || !cell.alive) return
      const failed = def.failureReason !== undefined
      this.bbs.completeTask(task, this.clock.now(), {
        failed,
        failureReason: def.failureReason ?? '',
        result: failed ? '' : def.result,
      })
      this.hooks.taskCompleted(task)
    })
  }

  /** Cancels every pending boot and run. */
  shutdown(): void {
    for (const timer of this.timers) timer.cancel()
    this.timers.clear()
    this.boots.clear()
    this.lastBoots = undefined
  }

  get pendingTimers(): number {
    return this.timers.size
  }

  private wait(ms: number, fn: () => void): void {
    const timer = this.clock.after(ms, () => {
      this.timers.delete(timer)
      fn()
    })
    this.timers.add(timer)
  }
}
