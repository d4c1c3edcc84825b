// The health manager's decisions, after HM9000's analyzer: compare what the CC wants on the DEAs
// with what the DEAs' heartbeats say they run, and queue starts and stops. Pure: no clock, no timers,
// no I/O. The shell (health-manager.ts) keeps the queues and sends what falls due.
//
// One pass touches every heartbeat once or twice and every desired index once, through flat typed
// scratch arrays, so a pass over 100,000 instances allocates only for the orders it issues.

/** A DEA's own state for an instance, as its heartbeat reports it. */
export type HeartbeatState = 'STARTING' | 'RUNNING' | 'CRASHED'

export interface InstanceHeartbeat {
  readonly instanceGuid: string
  readonly appGuid: string
  /** The app guid as the pool interned it (AppKeys): lets the analysis find the app without hashing the guid. */
  readonly appKey?: number
  readonly version: string
  readonly index: number
  readonly state: HeartbeatState
  /** When the instance entered its state (ms); for a crashed one, when it crashed. */
  readonly since: number
}

/** The last heartbeat the HM holds from one DEA. */
export interface DeaHeartbeat {
  readonly deaId: string
  /** When it arrived (ms). */
  readonly at: number
  /** An evacuating DEA's instances are to be started elsewhere, then stopped. */
  readonly evacuating: boolean
  readonly instances: readonly InstanceHeartbeat[]
}

/** What the CC wants on the DEAs for one app. */
export interface DesiredApp {
  readonly appGuid: string
  /** The app guid as the pool interned it (AppKeys), when it did. */
  readonly appKey?: number
  readonly version: string
  readonly instances: number
  /** When the CC last asked for this version or more instances; a never-placed index's grace runs from here. */
  readonly desiredAt: number
}

/** The CC's desired state, indexed for the pass. Build it with desiredState(). */
export interface DesiredState {
  readonly apps: readonly DesiredApp[]
  /** App guid -> position in `apps`. */
  readonly slots: ReadonlyMap<string, number>
  /** App key -> position in `apps`, -1 where no desired app has the key. */
  readonly slotsByKey: Int32Array
}

/**
 * Small whole numbers for app guids, handed out once per guid and never reused. The pool stamps its
 * instances and desired apps with them, so that a pass over 100,000 heartbeat instances finds each
 * one's app by an array read instead of a hash lookup of its guid. A key is only a hint: the analysis
 * checks the guid behind it and falls back to the guid when they differ.
 */
export class AppKeys {
  private readonly keys = new Map<string, number>()

  keyOf(appGuid: string): number {
    let key = this.keys.get(appGuid)
    if (key === undefined) {
      key = this.keys.size
      this.keys.set(appGuid, key)
    }
    return key
  }

  get size(): number {
    return this.keys.size
  }
}

/** Crashes of one index of one version of an app, since the count was last reset. */
export interface CrashCount {
  readonly version: string
  readonly index: number
  count: number
  /** First crash since the last reset: the CC reports a FLAPPING instance `since` then. */
  firstCrashAt: number
  lastCrashAt: number
}

export type StartReason = 'missing' | 'crashed' | 'evacuating'
export type StopReason = 'extra' | 'duplicate' | 'evacuated'

export interface PendingStart {
  readonly appGuid: string
  readonly version: string
  readonly index: number
  /** Not sent before this instant (ms): the grace period, or the crash backoff. */
  readonly sendAt: number
  readonly reason: StartReason
}

export interface PendingStop {
  readonly instanceGuid: string
  readonly appGuid: string
  readonly version: string
  readonly index: number
  readonly deaId: string
  readonly sendAt: number
  readonly reason: StopReason
}

/** The HM's store, as the analysis reads it. */
export interface HealthView {
  readonly heartbeats: readonly DeaHeartbeat[]
  /** By app guid. */
  readonly crashCounts: ReadonlyMap<string, readonly CrashCount[]>
  /** By app guid: starts queued in earlier passes and not yet sent. */
  readonly pendingStarts: ReadonlyMap<string, readonly PendingStart[]>
  /** By instance guid. */
  readonly pendingStops: ReadonlyMap<string, PendingStop>
}

/** Diego's crash restart curve, which HM9000 shares. */
export interface CrashRestartPolicy {
  /** Crash counts up to this restart at once. */
  immediateRestarts: number
  /** The first backoff; each further crash doubles it. */
  minBackoffMs: number
  maxBackoffMs: number
  /** Past this many crashes the instance is left crashed. */
  maxRestarts: number
  /** An instance that ran this long before crashing starts counting from zero again. */
  resetAfterRunningMs: number
}

export interface HealthConfig {
  heartbeatIntervalMs: number
  /** An instance is missing once its DEA has missed this many heartbeats. */
  missedHeartbeats: number
  /** A missing instance is started this long after it went missing; duplicates are stopped this far apart. */
  gracePeriodMs: number
  crash: CrashRestartPolicy
}

export const DEFAULT_CRASH_POLICY: CrashRestartPolicy = Object.freeze({
  immediateRestarts: 2,
  minBackoffMs: 30_000,
  maxBackoffMs: 16 * 60_000,
  maxRestarts: 200,
  resetAfterRunningMs: 5 * 60_000,
})

export const DEFAULT_HEALTH_CONFIG: HealthConfig = Object.freeze({
  heartbeatIntervalMs: 10_000,
  missedHeartbeats: 3,
  gracePeriodMs: 30_000,
  crash: DEFAULT_CRASH_POLICY,
})

export interface Analysis {
  /** New starts to queue (or earlier ones brought forward). */
  starts: PendingStart[]
  /** New stops to queue. */
  stops: PendingStop[]
}

/**
 * How long after its latest crash an instance with `crashCount` crashes is restarted, or undefined
 * when it is never restarted again: counts 1 and 2 at once, then 30 s doubling to 16 min, none past 200.
 */
export function restartDelayMs(
  crashCount: number,
  policy: CrashRestartPolicy = DEFAULT_CRASH_POLICY,
): number | undefined {
  if (crashCount > policy.maxRestarts) return undefined
  if (crashCount <= policy.immediateRestarts) return 0
  const doublings = Math.min(crashCount - policy.immediateRestarts - 1, 30)
  return Math.min(policy.minBackoffMs * 2 ** doublings, policy.maxBackoffMs)
}

/** Indexes the CC's desired apps by guid; rejects what the analysis cannot reason about. */
export function desiredState(apps: Iterable<DesiredApp>): DesiredState {
  const index = new DesiredIndex()
  for (const app of apps) index.add(app)
  return index
}

/**
 * The CC's desired apps as the analysis reads them, kept up to date one app at a time: a backend whose
 * source says which apps changed since its last read applies just those, instead of indexing every app
 * again on every pass. `apps` is in no particular order (a removal moves the last app into the gap).
 */
export class DesiredIndex implements DesiredState {
  readonly apps: DesiredApp[] = []
  readonly slots = new Map<string, number>()
  slotsByKey = new Int32Array(0)

  /** Adds an app not listed yet: a guid the CC lists twice is an error. */
  add(app: DesiredApp): void {
    this.requireUnlisted(app?.appGuid)
    this.set(app)
  }

  requireUnlisted(appGuid: string): void {
    if (this.slots.has(appGuid)) throw new Error(`desired app ${appGuid} is listed twice`)
  }

  /** Adds the app, or replaces the one with its guid. */
  set(app: DesiredApp): void {
    validateDesiredApp(app)
    const slot = this.slots.get(app.appGuid)
    if (slot === undefined) {
      this.claimKey(app, this.apps.length)
      this.slots.set(app.appGuid, this.apps.length)
      this.apps.push(app)
      return
    }
    const old = this.apps[slot]!
    if (old.appKey !== app.appKey) {
      this.claimKey(app, slot)
      if (old.appKey !== undefined) this.slotsByKey[old.appKey] = -1
    }
    this.apps[slot] = app
  }

  delete(appGuid: string): void {
    const slot = this.slots.get(appGuid)
    if (slot === undefined) return
    const gone = this.apps[slot]!
    if (gone.appKey !== undefined) this.slotsByKey[gone.appKey] = -1
    this.slots.delete(appGuid)
    const last = this.apps.pop()!
    if (last === gone) return
    this.apps[slot] = last
    this.slots.set(last.appGuid, slot)
    if (last.appKey !== undefined) this.slotsByKey[last.appKey] = slot
  }

  clear(): void {
    this.apps.length = 0
    this.slots.clear()
    this.slotsByKey.fill(-1)
  }

  private claimKey(app: DesiredApp, slot: number): void {
    const key = app.appKey
    if (key === undefined) return
    if (key >= this.slotsByKey.length) {
      const grown = new Int32Array(Math.max(key + 1, this.slotsByKey.length * 2, 64)).fill(-1)
      grown.set(this.slotsByKey)
      this.slotsByKey = grown
    }
    const holder = this.slotsByKey[key]!
    if (holder !== -1 && holder !== slot) {
      throw new Error(`desired apps ${this.apps[holder]!.appGuid} and ${app.appGuid} share appKey ${key}`)
    }
    this.slotsByKey[key] = slot
  }
}

function validateDesiredApp(app: DesiredApp): void {
  if (typeof app?.appGuid !== 'string' || app.appGuid === '') throw new TypeError('desired app without an appGuid')
  if (!Number.isSafeInteger(app.instances) || app.instances < 0) {
    throw new RangeError(`desired app ${app.appGuid}: instances must be a whole number >= 0, got ${app.instances}`)
  }
  if (app.appKey !== undefined && (!Number.isSafeInteger(app.appKey) || app.appKey < 0)) {
    throw new RangeError(`desired app ${app.appGuid}: appKey must be a whole number >= 0, got ${app.appKey}`)
  }
}

export function findCrashCount(
  counts: ReadonlyMap<string, readonly CrashCount[]>,
  appGuid: string,
  version: string,
  index: number,
): CrashCount | undefined {
  const list = counts.get(appGuid)
  if (list === undefined) return undefined
  for (const c of list) if (c.index === index && c.version === version) return c
  return undefined
}

export function findPendingStart(
  pending: ReadonlyMap<string, readonly PendingStart[]>,
  appGuid: string,
  version: string,
  index: number,
): PendingStart | undefined {
  const list = pending.get(appGuid)
  if (list === undefined) return undefined
  for (const p of list) if (p.index === index && p.version === version) return p
  return undefined
}

// Scratch space reused across passes (the analysis is synchronous, so one set suffices). Per desired
// index: live = STARTING/RUNNING instances on DEAs that are not evacuating, running = of those RUNNING,
// evacuating = STARTING/RUNNING on evacuating DEAs, crashedAt = latest crash (-1: none), marks = what
// the second scan must stop, stagger = duplicates seen so far. Per app slot: offsets into the above,
// liveInApp = STARTING/RUNNING instances of the desired version, startQueued = a start was queued.
const DUPLICATE = 1
const EVACUATED = 2
let live = new Int32Array(0)
let running = new Int32Array(0)
let evacuating = new Int32Array(0)
let stagger = new Int32Array(0)
let crashedAt = new Float64Array(0)
let marks = new Uint8Array(0)
let offsets = new Int32Array(0)
let liveInApp = new Int32Array(0)
let startQueued = new Uint8Array(0)
// Per heartbeat instance, in the order the first scan visits them: its desired index (-1: extra or
// CRASHED) and app slot, so that the second scan reads only these and touches just the marked instances.
let visitPos = new Int32Array(0)
let visitSlot = new Int32Array(0)
const versions: string[] = []
const guids: string[] = []
const extras: InstanceHeartbeat[] = []
const extraDeas: DeaHeartbeat[] = []

function reserve(indexes: number, apps: number, instances: number): void {
  if (visitPos.length < instances) {
    const size = Math.max(instances, visitPos.length * 2, 1024)
    visitPos = new Int32Array(size)
    visitSlot = new Int32Array(size)
  }
  if (live.length < indexes) {
    const size = Math.max(indexes, live.length * 2, 1024)
    live = new Int32Array(size)
    running = new Int32Array(size)
    evacuating = new Int32Array(size)
    stagger = new Int32Array(size)
    crashedAt = new Float64Array(size)
    marks = new Uint8Array(size)
  }
  if (offsets.length < apps + 1) {
    const size = Math.max(apps + 1, offsets.length * 2, 256)
    offsets = new Int32Array(size)
    liveInApp = new Int32Array(size)
    startQueued = new Uint8Array(size)
  }
}

/**
 * One health-manager pass, HM9000's rules:
 * - a desired index with no STARTING/RUNNING/CRASHED instance is missing: start it one grace period
 *   after it went missing (after the app was desired, for an index never placed);
 * - a desired index with only a CRASHED instance is restarted on the crash curve, counted from the
 *   crash; indexes above 0 wait while the app runs nothing at all, so a broken app crashes one at a time;
 * - an evacuating DEA's instance is started elsewhere at once, and stopped once its replacement RUNS;
 * - an instance of an app or version no longer desired, or at an index >= the desired count, is
 *   extra, and several at one index are duplicates (stopped a grace period apart, so that the shell
 *   can keep the last); extras and duplicates are stopped only in a pass that queued no start for
 *   the app, so that a scale-down racing a crash does not stop what is about to be needed.
 * Instances of a DEA whose heartbeat is older than `missedHeartbeats` intervals count as gone.
 * Orders already pending (same app, version and index; same instance) are not queued again, unless this pass
 * would send them sooner: a start brought forward, or a duplicate's later stop once the instance is extra.
 */
export function analyze(desired: DesiredState, actual: HealthView, now: number, config: HealthConfig): Analysis {
  const apps = desired.apps
  const slots = desired.slots
  const slotsByKey = desired.slotsByKey
  let total = 0
  for (const app of apps) total += app.instances
  const expiry = config.missedHeartbeats * config.heartbeatIntervalMs
  const heartbeats = actual.heartbeats
  let visits = 0
  for (let h = 0; h < heartbeats.length; h++) {
    const hb = heartbeats[h]!
    if (now - hb.at < expiry) visits += hb.instances.length
  }
  reserve(total, apps.length, visits)
  versions.length = apps.length
  guids.length = apps.length
  let offset = 0
  for (let s = 0; s < apps.length; s++) {
    const app = apps[s]!
    offsets[s] = offset
    versions[s] = app.version
    guids[s] = app.appGuid
    offset += app.instances
  }
  offsets[apps.length] = offset
  live.fill(0, 0, total)
  running.fill(0, 0, total)
  evacuating.fill(0, 0, total)
  crashedAt.fill(-1, 0, total)
  marks.fill(0, 0, total)
  liveInApp.fill(0, 0, apps.length)
  startQueued.fill(0, 0, apps.length)
  extras.length = 0
  extraDeas.length = 0

  // 1. Tally what the fresh heartbeats report, per desired index; set the extras aside.
  let visit = 0
  for (let h = 0; h < heartbeats.length; h++) {
    const hb = heartbeats[h]!
    if (now - hb.at >= expiry) continue
    const list = hb.instances
    for (let k = 0; k < list.length; k++, visit++) {
      const inst = list[k]!
      const key = inst.appKey
      const hinted = key !== undefined && key < slotsByKey.length ? slotsByKey[key]! : -1
      const slot = hinted !== -1 && guids[hinted] === inst.appGuid ? hinted : (slots.get(inst.appGuid) ?? -1)
      visitPos[visit] = -1
      // The app's desired version and index range, read from the flat per-slot arrays, not the app.
      const sameVersion = slot !== -1 && versions[slot] === inst.version
      const pos = sameVersion ? offsets[slot]! + inst.index : -1
      if (!sameVersion || inst.index < 0 || pos >= offsets[slot + 1]!) {
        extras.push(inst)
        extraDeas.push(hb)
        if (sameVersion && inst.state !== 'CRASHED' && !hb.evacuating) liveInApp[slot]!++
        continue
      }
      if (inst.state === 'CRASHED') {
        if (inst.since > crashedAt[pos]!) crashedAt[pos] = inst.since
        continue
      }
      visitPos[visit] = pos
      visitSlot[visit] = slot
      if (hb.evacuating) {
        evacuating[pos]!++
      } else {
        live[pos]!++
        liveInApp[slot]!++
        if (inst.state === 'RUNNING') running[pos]!++
      }
    }
  }

  // 2. Decide per desired index.
  const starts: PendingStart[] = []
  const stops: PendingStop[] = []
  const grace = config.gracePeriodMs
  let secondScan = false
  const queueStart = (slot: number, app: DesiredApp, index: number, sendAt: number, reason: StartReason): void => {
    const pending = findPendingStart(actual.pendingStarts, app.appGuid, app.version, index)
    if (pending !== undefined && pending.sendAt <= sendAt) return
    starts.push({ appGuid: app.appGuid, version: app.version, index, sendAt, reason })
    startQueued[slot] = 1
  }
  for (let s = 0; s < apps.length; s++) {
    const app = apps[s]!
    const base = offsets[s]!
    for (let i = 0; i < app.instances; i++) {
      const pos = base + i
      if (evacuating[pos]! > 0) {
        if (running[pos]! > 0) {
          marks[pos]! |= EVACUATED
          secondScan = true
        } else if (live[pos] === 0) {
          queueStart(s, app, i, now, 'evacuating')
        }
      } else if (live[pos] === 0) {
        if (crashedAt[pos]! < 0) {
          const sinceDesired = app.desiredAt + grace
          queueStart(s, app, i, sinceDesired > now ? sinceDesired : now + grace, 'missing')
        } else if (i === 0 || liveInApp[s]! > 0) {
          const crashes = findCrashCount(actual.crashCounts, app.appGuid, app.version, i)?.count ?? 1
          const delay = restartDelayMs(crashes, config.crash)
          if (delay !== undefined) queueStart(s, app, i, crashedAt[pos]! + delay, 'crashed')
        }
      }
      if (live[pos]! > 1) {
        marks[pos]! |= DUPLICATE
        secondScan = true
      }
    }
  }

  // 3. Extras: stopped at once, unless this pass queued a start for the app.
  for (let k = 0; k < extras.length; k++) {
    const inst = extras[k]!
    const slot = slots.get(inst.appGuid)
    if (slot !== undefined && startQueued[slot] === 1) continue
    // A stop queued for later (a duplicate's, a grace period or more away) is brought forward.
    if ((actual.pendingStops.get(inst.instanceGuid)?.sendAt ?? Number.POSITIVE_INFINITY) <= now) continue
    stops.push(stopOrder(inst, extraDeas[k]!.deaId, now, 'extra'))
  }
  extras.length = 0
  extraDeas.length = 0

  // 4. Duplicates and evacuated instances, found by a second look at the heartbeats.
  if (secondScan) {
    stagger.fill(0, 0, total)
    for (let h = 0, visit = 0; h < heartbeats.length; h++) {
      const hb = heartbeats[h]!
      if (now - hb.at >= expiry) continue
      const list = hb.instances
      for (let k = 0; k < list.length; k++, visit++) {
        const pos = visitPos[visit]!
        if (pos < 0) continue
        const mark = marks[pos]!
        if (mark === 0) continue
        const inst = list[k]!
        const slot = visitSlot[visit]!
        const pending = actual.pendingStops.get(inst.instanceGuid)
        if (hb.evacuating) {
          if (mark & EVACUATED && (pending?.sendAt ?? Number.POSITIVE_INFINITY) > now) {
            stops.push(stopOrder(inst, hb.deaId, now, 'evacuated'))
          }
        } else if (pending === undefined && mark & DUPLICATE && startQueued[slot] === 0) {
          const nth = ++stagger[pos]!
          stops.push(stopOrder(inst, hb.deaId, now + nth * grace, 'duplicate'))
        }
      }
    }
  }
  return { starts, stops }
}

function stopOrder(inst: InstanceHeartbeat, deaId: string, sendAt: number, reason: StopReason): PendingStop {
  return {
    instanceGuid: inst.instanceGuid,
    appGuid: inst.appGuid,
    version: inst.version,
    index: inst.index,
    deaId,
    sendAt,
    reason,
  }
}

/** An instance as the sender sees it just before sending: what the DEAs run now. */
export interface LiveInstance extends InstanceHeartbeat {
  readonly deaId: string
}

/**
 * HM9000's sender re-checks a due start against the latest state before sending it: the app is still
 * desired at this version and index, and no DEA that is not evacuating runs (or is starting) the index.
 */
export function startStillNeeded(
  order: PendingStart,
  app: DesiredApp | undefined,
  current: readonly LiveInstance[],
  isEvacuating: (deaId: string) => boolean,
): boolean {
  if (app === undefined || app.version !== order.version || order.index >= app.instances) return false
  for (const inst of current) {
    if (inst.index !== order.index || inst.version !== order.version || inst.state === 'CRASHED') continue
    if (!isEvacuating(inst.deaId)) return false
  }
  return true
}

/**
 * The same check for a due stop: the instance is still there, and stopping it loses nothing: an extra
 * is still extra; a duplicate still has a twin (a RUNNING one, if it is RUNNING itself); an evacuated
 * instance has a RUNNING replacement or is no longer wanted.
 */
export function stopStillWanted(
  order: PendingStop,
  app: DesiredApp | undefined,
  current: readonly LiveInstance[],
  isEvacuating: (deaId: string) => boolean,
): boolean {
  let target: LiveInstance | undefined
  for (const inst of current) if (inst.instanceGuid === order.instanceGuid) target = inst
  if (target === undefined) return false
  const wanted = app !== undefined && app.version === target.version && target.index < app.instances
  if (order.reason === 'extra') return !wanted
  if (!wanted) return true
  for (const inst of current) {
    if (inst === target || inst.index !== target.index || inst.version !== target.version) continue
    if (inst.state === 'CRASHED' || isEvacuating(inst.deaId)) continue
    if (order.reason === 'evacuated' && inst.state === 'RUNNING') return true
    if (order.reason === 'duplicate' && (inst.state === 'RUNNING' || target.state !== 'RUNNING')) return true
  }
  return false
}
