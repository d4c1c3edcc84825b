// The Diego backend of the embedded foundation: BBS, auctioneer, reps, converger, evacuation and route
// emitter wired into one RuntimeBackend. The Cloud Controller drives it through desire/stop/instances; the
// engine's own loops (auction batches, convergence, boots) run on the injected clock. Faults are public
// methods, so tests and demos can crash instances, lose or drain cells, and slow cells down.

import type {
  AppCrash,
  AppSpec,
  BackendCapacity,
  DesiredStateSource,
  InstanceStatus,
  ResourceTotals,
  RuntimeBackend,
  StagingOutcome,
  StagingRequest,
} from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import type { RouteTable } from '../routes.js'
import { DEFAULT_STARTING_CONTAINER_WEIGHT } from './auction.js'
import { Auctioneer, type AuctionReport } from './auctioneer.js'
import {
  type ActualGroup,
  type ActualLrp,
  Bbs,
  type Cell,
  type CellSpec,
  type DesiredLrp,
  type Task,
  type TaskState,
  validateCellSpec,
} from './bbs.js'
import {
  CELL_DISAPPEARED,
  type ConvergeActions,
  type ConvergeConfig,
  type DesiredChanges,
  desiredLrpFrom,
  sameDesire,
} from './converge.js'
import { type ConvergencePass, Converger } from './converger.js'
import { Rep } from './rep.js'
import { DEFAULT_RESTART_POLICY, type RestartPolicy, validateRestartPolicy } from './restart-calculator.js'
import { RouteEmitter } from './route-emitter.js'

export interface DiegoOptions {
  clock: Clock
  /** The CC's view of what should run on Diego, read by the converger's sync (nsync's bulker). */
  source: DesiredStateSource
  /** Where the route emitter registers running instances. */
  routes: RouteTable
  cells: readonly CellSpec[]
  /** Diego: 30 s. */
  convergeIntervalMs?: number
  /** The wait between a start request and its auction batch. Default 100 ms. */
  auctionIntervalMs?: number
  /**
   * CLAIMED to RUNNING on cells that do not set their own. Default 1 s: a container from a cached rootfs and
   * droplet, a small app's process and its first passing port check (an app's own start-up is not modelled).
   */
  defaultBootMs?: number
  /** How long a drained cell keeps its EVACUATING copies before its rep exits. Diego: 10 min. */
  evacuationTimeoutMs?: number
  /** Diego: 0.25. */
  startingContainerWeight?: number
  /** A Task's failed auction is retried this many times before it completes as failed. Default 3. */
  maxTaskAuctionRetries?: number
  staleUnclaimedMs?: number
  kickPendingTaskMs?: number
  expireCompletedTaskMs?: number
  restartPolicy?: Partial<RestartPolicy>
  /** How long a Task runs when its spec says nothing. Default 1 s. */
  defaultTaskRunMs?: number
  /** Told of each thing the engine does, for dashboards and tests. */
  observe?: (event: DiegoEvent) => void
  /** Told of each crash, as the CC is by Diego's crash reports (it writes the app.crash event). */
  onAppCrash?: (crash: AppCrash) => void
}

export type DiegoEvent =
  | { type: 'lrp-placed'; at: number; processGuid: string; index: number; cellId: string }
  | { type: 'lrp-unplaced'; at: number; processGuid: string; index: number; error: string }
  | { type: 'lrp-running'; at: number; processGuid: string; index: number; cellId: string; instanceGuid: string }
  | { type: 'lrp-crashed'; at: number; processGuid: string; index: number; crashCount: number; restartsNow: boolean }
  | { type: 'task-started'; at: number; taskGuid: string; cellId: string }
  | { type: 'task-completed'; at: number; taskGuid: string; failed: boolean; failureReason: string }
  | { type: 'auction'; report: AuctionReport }
  | { type: 'convergence'; at: number; summary: Record<string, number> }
  | { type: 'desired-sync-rejected'; at: number; appGuid: string; error: string }

export interface TaskSpec {
  taskGuid: string
  memoryMb: number
  diskMb: number
  /** A stack such as `cflinuxfs4`, or `docker:///image`. */
  rootfs: string
  placementTags?: string[]
  runMs?: number
  result?: string
  /** Makes the task exit with this failure, to simulate one that fails. */
  failureReason?: string
}

export interface TaskSnapshot {
  taskGuid: string
  state: TaskState
  cellId: string
  failed: boolean
  failureReason: string
  result: string
  auctionAttempts: number
  createdAt: number
  updatedAt: number
  startedAt: number | undefined
  firstCompletedAt: number | undefined
}

export class Diego implements RuntimeBackend {
  readonly name = 'diego' as const
  readonly bbs = new Bbs()
  private readonly clock: Clock
  private readonly source: DesiredStateSource
  private readonly emitter: RouteEmitter
  private readonly rep: Rep
  private readonly auctioneer: Auctioneer
  private readonly converger: Converger
  private readonly restartPolicy: RestartPolicy
  private readonly defaultBootMs: number
  private readonly evacuationTimeoutMs: number
  private readonly defaultTaskRunMs: number
  private readonly observe: ((event: DiegoEvent) => void) | undefined
  private readonly onAppCrash: ((crash: AppCrash) => void) | undefined
  private readonly evacuationTimers = new Map<string, Timer>()
  /** Who waits for a Task's end: the CC's stager, told once when its staging Task completes. */
  private readonly taskWatchers = new Map<string, (task: TaskSnapshot) => void>()

  constructor(options: DiegoOptions) {
    if (!options?.clock) throw new TypeError('Diego needs a clock')
    if (typeof options.source?.desiredApps !== 'function') throw new TypeError('Diego needs a DesiredStateSource')
    if (!options.routes) throw new TypeError('Diego needs a RouteTable')
    if (!Array.isArray(options.cells)) throw new TypeError('Diego needs a list of cells (it may be empty)')
    this.clock = options.clock
    this.source = options.source
    this.observe = options.observe
    this.onAppCrash = options.onAppCrash
    this.defaultBootMs = nonNegative('defaultBootMs', options.defaultBootMs ?? 1_000)
    this.evacuationTimeoutMs = nonNegative('evacuationTimeoutMs', options.evacuationTimeoutMs ?? 600_000)
    this.defaultTaskRunMs = nonNegative('defaultTaskRunMs', options.defaultTaskRunMs ?? 1_000)
    this.restartPolicy = validateRestartPolicy({ ...DEFAULT_RESTART_POLICY, ...options.restartPolicy })
    const convergeConfig: ConvergeConfig = {
      staleUnclaimedMs: nonNegative('staleUnclaimedMs', options.staleUnclaimedMs ?? 30_000),
      kickPendingTaskMs: nonNegative('kickPendingTaskMs', options.kickPendingTaskMs ?? 30_000),
      expireCompletedTaskMs: nonNegative('expireCompletedTaskMs', options.expireCompletedTaskMs ?? 120_000),
      restart: this.restartPolicy,
    }

    this.emitter = new RouteEmitter(options.routes)
    this.bbs.observer = this.emitter
    this.rep = new Rep(this.bbs, this.clock, {
      lrpRunning: (slot) => {
        // Events per instance are built only when someone listens: a batch places thousands.
        if (this.observe) {
          const lrp = this.bbs.table.handle(slot)
          this.emit({
            type: 'lrp-running',
            at: this.clock.now(),
            ...keyOf(lrp),
            cellId: lrp.cellId,
            instanceGuid: lrp.instanceGuid,
          })
        }
        this.retireDrainedCells()
      },
      taskCompleted: (task) => {
        this.emitTaskCompleted(task)
        this.retireDrainedCells()
      },
    })
    this.auctioneer = new Auctioneer(
      this.bbs,
      this.rep,
      this.clock,
      {
        intervalMs: nonNegative('auctionIntervalMs', options.auctionIntervalMs ?? 100),
        startingContainerWeight: nonNegative(
          'startingContainerWeight',
          options.startingContainerWeight ?? DEFAULT_STARTING_CONTAINER_WEIGHT,
        ),
        maxTaskRetries: nonNegative('maxTaskAuctionRetries', options.maxTaskAuctionRetries ?? 3),
      },
      {
        lrpPlaced: (slot) => {
          if (!this.observe) return
          const lrp = this.bbs.table.handle(slot)
          this.emit({ type: 'lrp-placed', at: this.clock.now(), ...keyOf(lrp), cellId: lrp.cellId })
        },
        lrpUnplaced: (lrp) =>
          this.emit({ type: 'lrp-unplaced', at: this.clock.now(), ...keyOf(lrp), error: lrp.placementError }),
        taskStarted: (task) =>
          this.emit({ type: 'task-started', at: this.clock.now(), taskGuid: task.taskGuid, cellId: task.cellId }),
        taskCompleted: (task) => this.emitTaskCompleted(task),
        batchDone: (report) => this.emit({ type: 'auction', report }),
      },
    )
    this.converger = new Converger({
      clock: this.clock,
      intervalMs: positive('convergeIntervalMs', options.convergeIntervalMs ?? 30_000),
      source: this.source,
      bbs: this.bbs,
      config: convergeConfig,
      target: {
        applyDesiredChanges: (changes) => this.applyDesiredChanges(changes),
        applyConvergence: (actions) => this.applyConvergence(actions),
      },
    })
    for (const spec of options.cells) this.addCell(spec)
  }

  // ---- RuntimeBackend ------------------------------------------------------------------------------

  /** Creates or updates the app's DesiredLRP and asks for auctions of its missing instances right away. */
  desire(spec: AppSpec): void {
    validateAppSpec(spec)
    const desired = desiredLrpFrom(spec)
    // A new version replaces the old one as CC's restart does: the old process stops now.
    for (const group of this.bbs.groupsOfApp(spec.appGuid)) {
      if (group.processGuid !== desired.processGuid && group.desired) this.removeProcess(group)
    }
    const existing = this.bbs.desiredLrp(desired.processGuid)
    const group = existing ? this.updateDesired(existing, desired) : this.bbs.desireLrp(desired)
    if (!existing) this.emitter.routesChanged(group, desired.routes)
    this.requestMissing(group)
  }

  stop(appGuid: string): void {
    if (typeof appGuid !== 'string' || appGuid === '') throw new TypeError('stop needs an app guid')
    for (const group of this.bbs.groupsOfApp(appGuid)) this.removeProcess(group)
  }

  instances(appGuid: string): InstanceStatus[] {
    if (typeof appGuid !== 'string' || appGuid === '') throw new TypeError('instances needs an app guid')
    const now = this.clock.now()
    const desired = this.bbs.desiredForApp(appGuid)
    const statuses: InstanceStatus[] = []
    const current = desired ? this.bbs.group(desired.processGuid) : undefined
    if (desired) {
      for (let index = 0; index < desired.instances; index++) {
        statuses.push(this.statusOf(current, index, desired, now))
      }
    }
    // Anything else of the app still running: past the desired count, or of a version on its way out.
    for (const group of this.bbs.groupsOfApp(appGuid)) {
      for (const lrp of group.records()) {
        if (lrp.state !== 'RUNNING') continue
        if (group === current && lrp.index < desired!.instances) continue
        statuses.push(runningStatus(lrp, now))
      }
    }
    return statuses
  }

  capacity(): BackendCapacity {
    const total: ResourceTotals = { memoryMb: 0, diskMb: 0, containers: 0 }
    const used: ResourceTotals = { memoryMb: 0, diskMb: 0, containers: 0 }
    let nodes = 0
    let nodesUp = 0
    for (const cell of this.bbs.cells()) {
      if (!cell.alive) continue
      nodes++
      if (cell.takesWork) nodesUp++
      total.memoryMb += cell.capacity.memoryMb
      total.diskMb += cell.capacity.diskMb
      total.containers += cell.capacity.containers
      used.memoryMb += cell.usedMemoryMb
      used.diskMb += cell.usedDiskMb
      used.containers += cell.usedContainers
    }
    return { total, used, nodes, nodesUp }
  }

  /** Starts the auction loop and the converger. */
  start(): void {
    this.auctioneer.start()
    this.converger.start()
  }

  /** Cancels every timer the engine holds: auctions, convergence, boots, task runs, evacuation deadlines. */
  shutdown(): void {
    this.auctioneer.stop()
    this.converger.stop()
    this.rep.shutdown()
    for (const timer of this.evacuationTimers.values()) timer.cancel()
    this.evacuationTimers.clear()
  }

  // ---- faults --------------------------------------------------------------------------------------

  /** The instance's process exits: Diego's crash handling and restart backoff follow. */
  crashInstance(appGuid: string, index: number, reason = 'Exited with status 1'): void {
    const desired = this.bbs.desiredForApp(appGuid)
    if (!desired) throw new Error(`app ${appGuid} is not desired on Diego`)
    if (!Number.isInteger(index) || index < 0 || index >= desired.instances) {
      throw new RangeError(`app ${appGuid} has no instance index ${index} (it has ${desired.instances})`)
    }
    const group = this.bbs.group(desired.processGuid)!
    const lrp = group.instance(index)
    if (lrp && (lrp.state === 'RUNNING' || lrp.state === 'CLAIMED')) {
      const instance = lrp.instanceGuid
      const restartsNow = this.bbs.crash(lrp, this.clock.now(), reason, this.restartPolicy)
      this.emit({ type: 'lrp-crashed', at: this.clock.now(), ...keyOf(lrp), crashCount: lrp.crashCount, restartsNow })
      const exitStatus = Number(/status (\d+)/.exec(reason)?.[1] ?? 1)
      this.onAppCrash?.({ appGuid, index, instance, exitStatus, exitDescription: reason })
      if (restartsNow) this.auctioneer.requestLrp(lrp)
      return
    }
    // While its replacement is not yet running, the instance serving this index is an evacuating or suspect copy.
    const copy = [...group.copyRecords()].find((c) => c.index === index)
    if (!copy) throw new Error(`app ${appGuid} instance ${index} is not running (${lrp?.state ?? 'no record'})`)
    this.bbs.retire(copy)
    this.retireDrainedCells()
  }

  /** The cell vanishes. Its instances are noticed on the next convergence pass, as Diego notices a missing cell. */
  loseCell(cellId: string): void {
    const cell = this.liveCell(cellId)
    this.evacuationTimers.get(cellId)?.cancel()
    this.evacuationTimers.delete(cellId)
    this.bbs.loseCell(cell)
  }

  /**
   * Evacuation: the cell takes no new work; each running instance stays up as an EVACUATING copy (still routed)
   * while its record is auctioned elsewhere, and the copy goes once the replacement runs. Instances still
   * starting are simply moved. After the evacuation timeout the cell's rep exits with whatever is left.
   */
  drainCell(cellId: string): void {
    const cell = this.liveCell(cellId)
    if (cell.evacuating) return
    cell.evacuating = true
    const now = this.clock.now()
    for (const lrp of [...cell.lrps]) {
      if (lrp.presence !== 'ORDINARY') continue
      if (lrp.state === 'RUNNING') this.bbs.evacuate(lrp, now)
      else if (lrp.state === 'CLAIMED') this.bbs.unclaim(lrp, now)
      else continue
      this.auctioneer.requestLrp(lrp)
    }
    this.evacuationTimers.set(
      cellId,
      this.clock.after(this.evacuationTimeoutMs, () => this.finishEvacuation(cell)),
    )
    this.retireDrainedCells()
  }

  setCellBootDelay(cellId: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`boot delay must be 0 or more ms, got ${ms}`)
    this.liveCell(cellId).bootDelayMs = ms
  }

  addCell(spec: CellSpec): void {
    this.bbs.addCell(validateCellSpec(spec, this.defaultBootMs))
  }

  /**
   * CC's Diego stager: the staging is a Task in the BBS (run at most once, placed by the auctioneer like
   * any Task, failed with the placement error when no cell can take it). When it completes, `done` is
   * told and the Task is resolved and deleted, as the stager's completion callback has it done.
   */
  stage(request: StagingRequest, done: (outcome: StagingOutcome) => void): void {
    const taskGuid = request.stagingGuid
    this.taskWatchers.set(taskGuid, (task) => {
      this.clock.after(0, () => {
        const current = this.bbs.task(taskGuid)
        if (current?.state === 'COMPLETED') this.bbs.resolvingTask(current, this.clock.now())
        if (current) this.bbs.deleteTask(current)
      })
      done(task.failed ? { ok: false, error: task.failureReason } : { ok: true })
    })
    try {
      this.desireTask({
        taskGuid,
        memoryMb: request.memoryMb,
        diskMb: request.diskMb,
        rootfs: request.stack,
        runMs: request.durationMs,
        ...(request.failure === undefined ? {} : { failureReason: request.failure }),
      })
    } catch (error) {
      this.taskWatchers.delete(taskGuid)
      throw error
    }
  }

  /** CC's `stop_index` (BBS RetireActualLRP): the instance stops; convergence starts it again. */
  stopIndex(appGuid: string, index: number): void {
    const desired = this.bbs.desiredForApp(appGuid)
    const lrp = desired ? this.bbs.group(desired.processGuid)?.instance(index) : undefined
    if (!lrp) return
    this.bbs.retire(lrp)
    this.retireDrainedCells()
  }

  // ---- Tasks ---------------------------------------------------------------------------------------

  desireTask(spec: TaskSpec): void {
    const def = validateTaskSpec(spec, this.defaultTaskRunMs)
    this.bbs.desireTask(def, this.clock.now())
    this.auctioneer.requestTask(def.taskGuid)
  }

  task(taskGuid: string): TaskSnapshot | undefined {
    const task = this.bbs.task(taskGuid)
    return task ? snapshotOf(task) : undefined
  }

  /** Someone took charge of a completed task's outcome. */
  resolvingTask(taskGuid: string): void {
    this.bbs.resolvingTask(this.knownTask(taskGuid), this.clock.now())
  }

  deleteTask(taskGuid: string): void {
    this.bbs.deleteTask(this.knownTask(taskGuid))
  }

  // ---- loops, callable by hand ---------------------------------------------------------------------

  /** Runs one convergence pass now (the converger's timer does this every interval once started). */
  convergeNow(): ConvergencePass {
    return this.converger.pass()
  }

  /** Runs the auction for everything queued now, without waiting for the batch timer. */
  auctionNow(): AuctionReport {
    return this.auctioneer.runBatch()
  }

  /** Start requests waiting for the next batch. */
  get queuedAuctions(): number {
    return this.auctioneer.queued
  }

  // ---- applying decisions --------------------------------------------------------------------------

  private applyDesiredChanges(changes: DesiredChanges): void {
    for (const processGuid of changes.remove) {
      // The records are retired by the convergence pass that follows, as stale or extra instances.
      if (this.bbs.desiredLrp(processGuid)) this.bbs.removeDesiredLrp(processGuid)
    }
    for (const spec of [...changes.create, ...changes.update]) {
      try {
        this.desire(spec)
      } catch (error) {
        const appGuid = typeof spec?.appGuid === 'string' ? spec.appGuid : '?'
        this.emit({ type: 'desired-sync-rejected', at: this.clock.now(), appGuid, error: (error as Error).message })
      }
    }
  }

  private applyConvergence(actions: ConvergeActions): void {
    const now = this.clock.now()
    const bbs = this.bbs
    const isCurrent = (lrp: ActualLrp) => bbs.isCurrent(lrp)
    for (const lrp of actions.retire) if (isCurrent(lrp)) bbs.retire(lrp)
    for (const copy of actions.removeCopies) {
      if (bbs.isCurrentCopy(copy)) bbs.retire(copy)
    }
    for (const { processGuid, index } of actions.startMissing) {
      const desired = bbs.desiredLrp(processGuid)
      if (!desired || index >= desired.instances || bbs.actual(processGuid, index)) continue
      this.auctioneer.requestLrp(bbs.createUnclaimed(processGuid, index, now))
    }
    for (const lrp of actions.restartCrashed) {
      if (!isCurrent(lrp) || lrp.state !== 'CRASHED') continue
      bbs.unclaim(lrp, now)
      this.auctioneer.requestLrp(lrp)
    }
    for (const lrp of actions.reauctionUnclaimed) {
      if (isCurrent(lrp) && lrp.state === 'UNCLAIMED') this.auctioneer.requestLrp(lrp)
    }
    for (const lrp of actions.suspectLost) {
      if (!isCurrent(lrp) || lrp.state !== 'RUNNING') continue
      bbs.markSuspect(lrp, now)
      this.auctioneer.requestLrp(lrp)
    }
    for (const lrp of actions.unclaimLost) {
      if (!isCurrent(lrp) || lrp.state !== 'CLAIMED') continue
      bbs.unclaim(lrp, now)
      this.auctioneer.requestLrp(lrp)
    }
    for (const task of actions.failTasks) {
      if (task.state !== 'RUNNING') continue
      bbs.completeTask(task, now, { failed: true, failureReason: CELL_DISAPPEARED, result: '' })
      this.emitTaskCompleted(task)
    }
    for (const task of actions.auctionTasks) if (task.state === 'PENDING') this.auctioneer.requestTask(task.taskGuid)
    for (const task of actions.expireTasks) if (bbs.task(task.taskGuid) === task) bbs.deleteTask(task)
    this.retireDrainedCells()
    const summary: Record<string, number> = {}
    for (const [name, list] of Object.entries(actions)) summary[name] = (list as unknown[]).length
    this.emit({ type: 'convergence', at: now, summary })
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private updateDesired(existing: DesiredLrp, desired: DesiredLrp): ActualGroup {
    const group = this.bbs.group(desired.processGuid)!
    if (sameDesire(existing, desired)) return group
    this.bbs.updateDesiredLrp(desired)
    this.emitter.routesChanged(group, desired.routes)
    // Scaling down retires the instances past the new count at once, as Diego's UpdateDesiredLRP does.
    for (const lrp of [...group.records()]) if (lrp.index >= desired.instances) this.bbs.retire(lrp)
    return group
  }

  private requestMissing(group: ActualGroup): void {
    for (const slot of this.bbs.createMissing(group, this.clock.now())) this.auctioneer.requestSlot(slot)
  }

  private removeProcess(group: ActualGroup): void {
    for (const lrp of [...group.records()]) this.bbs.retire(lrp)
    this.bbs.removeDesiredLrp(group.processGuid)
    this.retireDrainedCells()
  }

  private statusOf(group: ActualGroup | undefined, index: number, desired: DesiredLrp, now: number): InstanceStatus {
    const lrp = group?.instance(index)
    const sizes = { memoryMb: desired.memoryMb, diskMb: desired.diskMb }
    if (lrp?.state === 'RUNNING') return { ...runningStatus(lrp, now), ...sizes }
    // Diego resolves an index to its evacuating or suspect copy while the replacement is not running yet.
    const copy = group?.copies
      ? [...group.copyRecords()].find((c) => c.index === index && c.state === 'RUNNING')
      : undefined
    if (copy) return { ...runningStatus(copy, now), ...sizes }
    if (!lrp) return { index, state: 'DOWN', since: now, backend: 'diego', ...sizes }
    const status: InstanceStatus = {
      index,
      state: lrp.state === 'CRASHED' ? 'CRASHED' : 'STARTING',
      since: lrp.since,
      backend: 'diego',
      ...sizes,
    }
    if (lrp.cellId) status.host = lrp.cellId
    const details = lrp.state === 'CRASHED' ? lrp.crashReason : lrp.placementError
    if (details) status.details = details
    return status
  }

  private liveCell(cellId: string): Cell {
    const cell = this.bbs.cell(cellId)
    if (!cell?.alive) throw new Error(`no live cell ${JSON.stringify(cellId)}`)
    return cell
  }

  private knownTask(taskGuid: string): Task {
    const task = this.bbs.task(taskGuid)
    if (!task) throw new Error(`no task ${JSON.stringify(taskGuid)}`)
    return task
  }

  /** The evacuation deadline: the rep exits, taking its remaining copies and tasks with it. */
  private finishEvacuation(cell: Cell): void {
    this.evacuationTimers.delete(cell.id)
    if (!cell.alive) return
    for (const lrp of [...cell.lrps]) if (lrp.presence === 'EVACUATING') this.bbs.retire(lrp)
    this.bbs.loseCell(cell)
  }

  /** An evacuating cell with nothing left on it is done: its rep exits and the cell leaves. */
  private retireDrainedCells(): void {
    if (this.evacuationTimers.size === 0) return
    for (const cellId of this.evacuationTimers.keys()) {
      const cell = this.bbs.cell(cellId)
      if (!cell?.alive) continue
      if (cell.lrps.size === 0 && cell.tasks.size === 0) {
        this.evacuationTimers.get(cellId)!.cancel()
        this.evacuationTimers.delete(cellId)
        this.bbs.loseCell(cell)
      }
    }
  }

  private emitTaskCompleted(task: Task): void {
    const watcher = this.taskWatchers.get(task.taskGuid)
    if (watcher) {
      this.taskWatchers.delete(task.taskGuid)
      watcher(snapshotOf(task))
    }
    this.emit({
      type: 'task-completed',
      at: this.clock.now(),
      taskGuid: task.taskGuid,
      failed: task.failed,
      failureReason: task.failureReason,
    })
  }

  private emit(event: DiegoEvent): void {
    this.observe?.(event)
  }
}

function keyOf(lrp: ActualLrp): { processGuid: string; index: number } {
  return { processGuid: lrp.processGuid, index: lrp.index }
}

function runningStatus(lrp: ActualLrp, now: number): InstanceStatus {
  return {
    index: lrp.index,
    state: 'RUNNING',
    since: lrp.since,
    backend: 'diego',
    host: lrp.cellId,
    uptimeSec: Math.max(0, Math.floor((now - lrp.since) / 1000)),
    memoryMb: lrp.memoryMb,
    diskMb: lrp.diskMb,
  }
}

function snapshotOf(task: Task): TaskSnapshot {
  return {
    taskGuid: task.taskGuid,
    state: task.state,
    cellId: task.cellId,
    failed: task.failed,
    failureReason: task.failureReason,
    result: task.result,
    auctionAttempts: task.auctionAttempts,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    startedAt: task.startedAt || undefined,
    firstCompletedAt: task.firstCompletedAt || undefined,
  }
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a number of 0 or more, got ${value}`)
  }
  return value
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${value}`)
  }
  return value
}

function nonEmptyString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${where}: ${name} must be a non-empty string`)
  return value
}

function stringList(where: string, name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new TypeError(`${where}: ${name} must be a list of non-empty strings`)
  }
  return value
}

export function validateAppSpec(spec: AppSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('desire needs an AppSpec object')
  const where = `app ${JSON.stringify(spec.appGuid)}`
  nonEmptyString('desire', 'appGuid', spec.appGuid)
  nonEmptyString(where, 'version', spec.version)
  nonEmptyString(where, 'stack', spec.stack)
  if (!Number.isInteger(spec.instances) || spec.instances < 0) {
    throw new RangeError(`${where}: instances must be an integer of 0 or more, got ${spec.instances}`)
  }
  if (!Number.isFinite(spec.memoryMb) || spec.memoryMb <= 0) {
    throw new RangeError(`${where}: memoryMb must be positive, got ${spec.memoryMb}`)
  }
  if (!Number.isFinite(spec.diskMb) || spec.diskMb < 0) {
    throw new RangeError(`${where}: diskMb must be 0 or more, got ${spec.diskMb}`)
  }
  stringList(where, 'routes', spec.routes)
  if (spec.placementTags !== undefined) stringList(where, 'placementTags', spec.placementTags)
}

function validateTaskSpec(spec: TaskSpec, defaultRunMs: number) {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('desireTask needs a TaskSpec object')
  const taskGuid = nonEmptyString('desireTask', 'taskGuid', spec.taskGuid)
  const where = `task ${JSON.stringify(taskGuid)}`
  if (!Number.isFinite(spec.memoryMb) || spec.memoryMb <= 0) {
    throw new RangeError(`${where}: memoryMb must be positive, got ${spec.memoryMb}`)
  }
  if (!Number.isFinite(spec.diskMb) || spec.diskMb < 0) {
    throw new RangeError(`${where}: diskMb must be 0 or more, got ${spec.diskMb}`)
  }
  const runMs = spec.runMs ?? defaultRunMs
  if (!Number.isFinite(runMs) || runMs < 0) throw new RangeError(`${where}: runMs must be 0 or more, got ${runMs}`)
  if (spec.failureReason !== undefined) nonEmptyString(where, 'failureReason', spec.failureReason)
  return {
    taskGuid,
    memoryMb: spec.memoryMb,
    diskMb: spec.diskMb,
    rootfs: nonEmptyString(where, 'rootfs', spec.rootfs),
    placementTags: spec.placementTags === undefined ? [] : [...stringList(where, 'placementTags', spec.placementTags)],
    runMs,
    result: spec.result ?? '',
    failureReason: spec.failureReason,
  }
}
