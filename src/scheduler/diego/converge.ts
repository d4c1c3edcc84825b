// Convergence as pure decisions over the BBS: what to start, stop, restart and re-auction so that what runs
// matches what is desired. Also nsync's bulker: how the DesiredLRPs must change to match the CC's view.
// Nothing here changes state or reads a clock; the converger shell applies the answers.

import type { AppSpec } from '../backend.js'
import { NONE } from './actual-lrps.js'
import { type ActualLrp, type BbsView, type DesiredLrp, NO_TAGS, type Task } from './bbs.js'
import { type RestartPolicy, shouldRestart } from './restart-calculator.js'

export interface ConvergeConfig {
  /** UNCLAIMED records older than this go back to the auction (Diego: 30 s). */
  staleUnclaimedMs: number
  /** PENDING Tasks untouched this long are auctioned again (Diego's kick duration: 30 s). */
  kickPendingTaskMs: number
  /** COMPLETED or RESOLVING Tasks nobody deleted within this are deleted (Diego: 2 min). */
  expireCompletedTaskMs: number
  restart: RestartPolicy
}

export interface MissingInstance {
  processGuid: string
  index: number
}

export interface ConvergeActions {
  /** Desired indexes with no record: create them UNCLAIMED and auction them. */
  startMissing: MissingInstance[]
  /** Records past the desired count, or of a DesiredLRP that is gone (an old version included): stop them. */
  retire: ActualLrp[]
  /** CRASHED records whose backoff is over: back to UNCLAIMED and the auction. */
  restartCrashed: ActualLrp[]
  /** UNCLAIMED records left unplaced too long (a failed or lost auction): auction them again. */
  reauctionUnclaimed: ActualLrp[]
  /** RUNNING records on a cell that vanished: keep them as SUSPECT, auction replacements. */
  suspectLost: ActualLrp[]
  /** CLAIMED records on a cell that vanished: back to UNCLAIMED and the auction. */
  unclaimLost: ActualLrp[]
  /** EVACUATING or SUSPECT copies that no longer serve: their cell is gone, or their index is no longer desired. */
  removeCopies: ActualLrp[]
  /** PENDING Tasks whose auction was lost. */
  auctionTasks: Task[]
  /** RUNNING Tasks on a cell that vanished: complete them as failed (a Task never runs twice). */
  failTasks: Task[]
  /** Completed Tasks nobody resolved in time. */
  expireTasks: Task[]
}

export const CELL_DISAPPEARED = 'cell disappeared before completion'

function emptyActions(): ConvergeActions {
  return {
    startMissing: [],
    retire: [],
    restartCrashed: [],
    reauctionUnclaimed: [],
    suspectLost: [],
    unclaimLost: [],
    removeCopies: [],
    auctionTasks: [],
    failTasks: [],
    expireTasks: [],
  }
}

/**
 * One convergence pass. The hot loop walks every ordinary record once by index and allocates only for the
 * records it acts on; crashed, unclaimed and lost records are found through the BBS's own indexes.
 */
export function converge(view: BbsView, now: number, config: ConvergeConfig): ConvergeActions {
  const actions = emptyActions()
  // The slots of records past their desired count: their handles are made after the walk, which keeps
  // the hot loop to reading small integers.
  const retired: number[] = []

  for (const group of view.groups()) {
    const desired = group.desired
    const wanted = desired ? desired.instances : 0
    const instances = group.instances
    const length = instances.length
    // Three loops that never read past the array's end: a read there (undefined) slows the hot loop down.
    const held = Math.min(wanted, length)
    for (let index = 0; index < held; index++) {
      if (instances[index] === NONE) actions.startMissing.push({ processGuid: group.processGuid, index })
    }
    for (let index = length; index < wanted; index++)
      actions.startMissing.push({ processGuid: group.processGuid, index })
    for (let index = wanted; index < length; index++) if (instances[index] !== NONE) retired.push(instances[index]!)
    if (group.copies !== undefined) {
      for (const copy of group.copyRecords()) if (copy.index >= wanted) actions.removeCopies.push(copy)
    }
  }

  for (const slot of retired) actions.retire.push(view.record(slot))

  for (const lrp of view.crashed()) {
    if (!isWanted(view, lrp)) continue
    if (shouldRestart(config.restart, now, lrp.since, lrp.crashCount)) actions.restartCrashed.push(lrp)
  }

  for (const lrp of view.unclaimed()) {
    if (!isWanted(view, lrp)) continue
    if (now - lrp.since >= config.staleUnclaimedMs) actions.reauctionUnclaimed.push(lrp)
  }

  for (const lrp of view.lrpsOnLostCells()) {
    // A copy of an index no longer wanted is on the list already, from its group.
    if (lrp.presence === 'EVACUATING') {
      if (isWanted(view, lrp)) actions.removeCopies.push(lrp)
    } else if (lrp.presence === 'SUSPECT' || !isWanted(view, lrp)) continue
    else if (lrp.state === 'RUNNING') actions.suspectLost.push(lrp)
    else if (lrp.state === 'CLAIMED') actions.unclaimLost.push(lrp)
  }
  for (const cell of view.cells()) {
    if (cell.alive) continue
    for (const task of cell.tasks) if (task.state === 'RUNNING') actions.failTasks.push(task)
  }

  for (const task of view.tasks()) {
    if (task.state === 'PENDING' && now - task.updatedAt >= config.kickPendingTaskMs) actions.auctionTasks.push(task)
    else if (
      (task.state === 'COMPLETED' || task.state === 'RESOLVING') &&
      now - task.firstCompletedAt >= config.expireCompletedTaskMs
    ) {
      actions.expireTasks.push(task)
    }
  }

  return actions
}

/** Still within its DesiredLRP's instance count (records past it are retired by the same pass instead). */
function isWanted(view: BbsView, lrp: ActualLrp): boolean {
  const desired = view.group(lrp.processGuid)?.desired
  return desired !== undefined && lrp.index < desired.instances
}

/** The CC's version of an app maps to one process guid, as CC's ProcessGuid does: `APPGUID-VERSION`. */
export function processGuidFor(appGuid: string, version: string): string {
  return `${appGuid}-${version}`
}

/**
 * The DesiredLRP of an app spec. A frozen spec (the CC hands the backends frozen specs, cached per app record,
 * and never changes one or its lists) is kept rather than copied: a copy of every started app's spec, routes
 * included, was ~150 bytes an app beside the CC's own. Any other spec is copied, lists and all.
 */
export function desiredLrpFrom(spec: AppSpec): DesiredLrp {
  if (Object.isFrozen(spec)) return new SpecDesiredLrp(spec, processGuidFor(spec.appGuid, spec.version))
  return {
    processGuid: processGuidFor(spec.appGuid, spec.version),
    appGuid: spec.appGuid,
    version: spec.version,
    instances: spec.instances,
    memoryMb: spec.memoryMb,
    diskMb: spec.diskMb,
    rootfs: spec.stack,
    placementTags: spec.placementTags?.length ? [...spec.placementTags] : NO_TAGS,
    routes: [...spec.routes],
  }
}

/** A DesiredLRP that reads a frozen AppSpec. */
class SpecDesiredLrp implements DesiredLrp {
  constructor(
    private readonly spec: AppSpec,
    readonly processGuid: string,
  ) {}

  get appGuid(): string {
    return this.spec.appGuid
  }

  get version(): string {
    return this.spec.version
  }

  get instances(): number {
    return this.spec.instances
  }

  get memoryMb(): number {
    return this.spec.memoryMb
  }

  get diskMb(): number {
    return this.spec.diskMb
  }

  get rootfs(): string {
    return this.spec.stack
  }

  get placementTags(): readonly string[] {
    return this.spec.placementTags?.length ? this.spec.placementTags : NO_TAGS
  }

  get routes(): readonly string[] {
    return this.spec.routes
  }
}

export interface DesiredChanges {
  create: AppSpec[]
  update: AppSpec[]
  /** Process guids the CC no longer wants: apps moved off Diego, stopped, deleted, or restarted as a new version. */
  remove: string[]
}

/**
 * nsync's bulker: compare the CC's started Diego apps with the DesiredLRPs and say what to create, update
 * and remove. A new version is a new process guid, so a restarted app shows up as one create and one remove.
 * It runs every converger interval over every app, so it matches by app guid (the CC lists an app once) and
 * compares fields in place: no process-guid string or DesiredLRP is built per app per pass.
 */
export function diffDesired(current: Iterable<DesiredLrp>, wanted: Iterable<AppSpec>): DesiredChanges {
  const changes: DesiredChanges = { create: [], update: [], remove: [] }
  const wantedByApp = new Map<string, AppSpec>()
  for (const spec of wanted) wantedByApp.set(spec.appGuid, spec)
  const matched = new Set<string>()
  for (const desired of current) {
    const spec = wantedByApp.get(desired.appGuid)
    if (spec === undefined || spec.version !== desired.version) {
      changes.remove.push(desired.processGuid)
      continue
    }
    matched.add(desired.appGuid)
    if (!desiresSpec(desired, spec)) changes.update.push(spec)
  }
  if (matched.size < wantedByApp.size) {
    for (const spec of wantedByApp.values()) if (!matched.has(spec.appGuid)) changes.create.push(spec)
  }
  return changes
}

/**
 * diffDesired for some apps only: the ones the CC says may have changed since the last sync. Gives what
 * diffDesired over every app would give for these apps; the others are left as they are.
 */
export function diffDesiredApps(
  appGuids: Iterable<string>,
  desiredOfApp: (appGuid: string) => readonly DesiredLrp[],
  wanted: (appGuid: string) => AppSpec | undefined,
): DesiredChanges {
  const changes: DesiredChanges = { create: [], update: [], remove: [] }
  for (const appGuid of new Set(appGuids)) {
    const spec = wanted(appGuid)
    let matched = false
    for (const desired of desiredOfApp(appGuid)) {
      if (spec === undefined || spec.version !== desired.version) {
        changes.remove.push(desired.processGuid)
        continue
      }
      matched = true
      if (!desiresSpec(desired, spec)) changes.update.push(spec)
    }
    if (spec !== undefined && !matched) changes.create.push(spec)
  }
  return changes
}

/** sameDesire(desired, desiredLrpFrom(spec)), without building the DesiredLRP. */
function desiresSpec(desired: DesiredLrp, spec: AppSpec): boolean {
  return (
    desired.instances === spec.instances &&
    desired.memoryMb === spec.memoryMb &&
    desired.diskMb === spec.diskMb &&
    desired.rootfs === spec.stack &&
    sameList(desired.routes, spec.routes) &&
    sameList(desired.placementTags, spec.placementTags ?? [])
  )
}

export function sameDesire(a: DesiredLrp, b: DesiredLrp): boolean {
  return (
    a.instances === b.instances &&
    a.memoryMb === b.memoryMb &&
    a.diskMb === b.diskMb &&
    a.rootfs === b.rootfs &&
    sameList(a.routes, b.routes) &&
    sameList(a.placementTags, b.placementTags)
  )
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((v, i) => v === b[i]))
}
