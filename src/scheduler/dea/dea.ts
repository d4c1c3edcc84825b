// The DEA backend as the Cloud Controller drives it: the CC's start and stop messages, its choice of
// DEA from their advertisements, its /instances view (DEA states: STARTING, RUNNING, FLAPPING, DOWN),
// and the HM9000-style health manager that reconciles the DEAs with the CC's desired state on its own
// interval. That loop is what winds an app down here once the CC has flipped it to Diego.

import type {
  AppCrash,
  AppSpec,
  BackendCapacity,
  DesiredStateSource,
  InstanceState,
  InstanceStatus,
  RuntimeBackend,
  StagingOutcome,
  StagingRequest,
} from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import { DesiredSync } from '../desired-sync.js'
import type { RouteTable } from '../routes.js'
import {
  type CrashRestartPolicy,
  DEFAULT_CRASH_POLICY,
  DEFAULT_HEALTH_CONFIG,
  type DesiredApp,
  DesiredIndex,
  type DesiredState,
  type HealthConfig,
  type PendingStart,
  type PendingStop,
} from './health.js'
import { HealthManager, type HealthPassReport } from './health-manager.js'
import { seededRandom } from './placement.js'
import { type Dea, DeaFleet, type DeaInstance, type DeaSpec, validateBootMs } from './pool.js'

export interface DeaPoolOptions {
  clock: Clock
  /** The CC's desired state; the health manager reads `desiredApps('dea')` every pass. */
  source: DesiredStateSource
  routes: RouteTable
  deas: DeaSpec[]
  /** Health-manager pass interval; default 10 s (HM9000 analyses on every heartbeat). */
  hmIntervalMs?: number
  /**
   * How often the health manager fetches the CC's desired state; between fetches it analyses against the
   * last one. Default 60 s (HM9000's fetcher: every 6 heartbeats). An app flipped to Diego so keeps its DEA
   * instances until the next fetch, which gives Diego time to start it: the overlap a real migration had.
   * 0 fetches on every analysis pass.
   */
  desiredFetchIntervalMs?: number
  /**
   * When the fetcher first runs after start, then every `desiredFetchIntervalMs`. HM9000's fetcher and
   * analyzer are separate daemons, each on its own timer, so a fetched state is analysed on the analyzer's
   * next pass, not at the moment of the fetch. Default half the analysis interval (the mean of a random phase).
   */
  desiredFetchOffsetMs?: number
  /** An evacuating DEA shuts down after this long even if instances are left on it; default 10 min (dea_ng). */
  evacuationBailOutMs?: number
  /** DEA heartbeat interval; default 10 s. */
  heartbeatIntervalMs?: number
  /** DEA advertisement interval; default 5 s. */
  advertiseIntervalMs?: number
  /** An advertisement is stale this long after it was sent; default 10 s. */
  advertisementTtlMs?: number
  /** STARTING to RUNNING, for DEAs without their own; default 1 s, as Diego's cells (see Diego's defaultBootMs). */
  defaultBootMs?: number
  /** An instance is missing once its DEA missed this many heartbeats; default 3. */
  missedHeartbeats?: number
  /** How long a missing instance waits before the HM starts it; default 30 s. */
  gracePeriodMs?: number
  crashPolicy?: Partial<CrashRestartPolicy>
  /** The CC reports an index FLAPPING from this many crashes (cc.flapping_crash_count_threshold); default 3. */
  flappingCrashCountThreshold?: number
  /** For the CC's random pick among equal DEAs; default a PRNG with a fixed seed. */
  random?: () => number
  /** Called with an error thrown by a health-manager pass; the loop carries on either way. */
  onHealthError?: (error: unknown) => void
  /** Told of each crash, as the CC is by droplet.exited (it writes the app.crash event). */
  onAppCrash?: (crash: AppCrash) => void
}

/** What the CC knows of an app it has started on the DEAs. */
type DesiredRecord = AppSpec & DesiredApp

/** An instance as a report shows it. */
export interface DeaInstanceView {
  instanceGuid: string
  appGuid: string
  version: string
  index: number
  state: 'STARTING' | 'RUNNING' | 'CRASHED'
  since: number
  deaId: string
  port: number
  memoryMb: number
  diskMb: number
}

export interface DeaView {
  id: string
  zone: string
  stacks: readonly string[]
  alive: boolean
  evacuating: boolean
  bootMs: number
  memoryMb: number
  diskMb: number
  reservedMemoryMb: number
  reservedDiskMb: number
  /** STARTING and RUNNING instances. */
  instances: number
}

export class DeaPool implements RuntimeBackend {
  readonly name = 'dea' as const
  private readonly clock: Clock
  private readonly source: DesiredStateSource
  private readonly random: () => number
  private readonly flappingThreshold: number
  private readonly fleet: DeaFleet
  private readonly health: HealthManager
  /** The CC's view of what it started here: from its start messages and from each desired-state read. */
  private readonly desired = new Map<string, DesiredRecord>()
  /** What the health manager analyses: the records of the apps the CC listed at its last read. */
  private readonly desiredIndex = new DesiredIndex()
  private readonly sync: DesiredSync
  private readonly desiredFetchIntervalMs: number
  private readonly desiredFetchOffsetMs: number
  private fetcher: Timer | undefined
  private readonly onHealthError: ((error: unknown) => void) | undefined
  private fetchedOnce = false
  /** Why an index could not be placed, by app guid and index; shown as `details` on a DOWN instance. */
  private readonly placementErrors = new Map<string, Map<number, string>>()
  private started = false
  /** Staging runs under way, cancelled with the pool. */
  private readonly stagings = new Set<Timer>()

  constructor(options: DeaPoolOptions) {
    if (!options?.clock) throw new TypeError('DeaPool: clock is required')
    if (!options.source || typeof options.source.desiredApps !== 'function') {
      throw new TypeError('DeaPool: source must be a DesiredStateSource')
    }
    if (!options.routes) throw new TypeError('DeaPool: routes is required')
    if (!Array.isArray(options.deas)) throw new TypeError('DeaPool: deas must be a list of DEA specs')
    const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 10_000)
    const config: HealthConfig = {
      heartbeatIntervalMs,
      missedHeartbeats: positive('missedHeartbeats', options.missedHeartbeats, DEFAULT_HEALTH_CONFIG.missedHeartbeats),
      gracePeriodMs: atLeastZero('gracePeriodMs', options.gracePeriodMs, DEFAULT_HEALTH_CONFIG.gracePeriodMs),
      crash: crashPolicy(options.crashPolicy),
    }
    this.clock = options.clock
    this.source = options.source
    this.sync = new DesiredSync(options.source, 'dea')
    this.onHealthError = options.onHealthError
    this.desiredFetchIntervalMs = atLeastZero('desiredFetchIntervalMs', options.desiredFetchIntervalMs, 60_000)
    const hmIntervalMs = positive('hmIntervalMs', options.hmIntervalMs, 10_000)
    this.desiredFetchOffsetMs = atLeastZero('desiredFetchOffsetMs', options.desiredFetchOffsetMs, hmIntervalMs / 2)
    this.random = options.random ?? seededRandom(0xdea)
    this.flappingThreshold = positive('flappingCrashCountThreshold', options.flappingCrashCountThreshold, 3)
    this.health = new HealthManager({
      clock: this.clock,
      intervalMs: hmIntervalMs,
      config,
      onError: options.onHealthError,
      ports: {
        fetchDesired: () => this.desiredForAnalysis(),
        instancesOf: (appGuid) => this.fleet.instancesOf(appGuid),
        isEvacuating: (deaId) => this.fleet.get(deaId)?.evacuating ?? false,
        start: (order) => this.startFromHealthManager(order),
        stop: (order) => this.stopFromHealthManager(order),
      },
    })
    this.fleet = new DeaFleet({
      clock: this.clock,
      routes: options.routes,
      defaultBootMs: atLeastZero('defaultBootMs', options.defaultBootMs, 1_000),
      advertiseIntervalMs: positive('advertiseIntervalMs', options.advertiseIntervalMs, 5_000),
      advertisementTtlMs: positive('advertisementTtlMs', options.advertisementTtlMs, 10_000),
      heartbeatIntervalMs,
      evacuationBailOutMs: positive('evacuationBailOutMs', options.evacuationBailOutMs, 600_000),
      onHeartbeat: (heartbeat) => this.health.receiveHeartbeat(heartbeat),
      onCrash: (instance, ranForMs) => {
        this.health.recordCrash(instance.appGuid, instance.version, instance.index, instance.since, ranForMs)
        options.onAppCrash?.({
          appGuid: instance.appGuid,
          index: instance.index,
          instance: instance.instanceGuid,
          exitStatus: 1,
          exitDescription: 'app instance exited',
        })
      },
    })
    for (const spec of options.deas) this.fleet.add(spec)
  }

  /** Starts the DEAs' advertisement and heartbeat loops and the health manager. */
  start(): void {
    if (this.started) return
    this.started = true
    this.fleet.start()
    this.health.start()
    if (this.desiredFetchIntervalMs > 0) {
      this.fetcher = this.clock.after(this.desiredFetchOffsetMs, () => {
        this.fetchOnTimer()
        if (this.started) this.fetcher = this.clock.every(this.desiredFetchIntervalMs, () => this.fetchOnTimer())
      })
    }
  }

  /** Cancels every timer: loops and instance boots. */
  shutdown(): void {
    this.started = false
    for (const timer of this.stagings) timer.cancel()
    this.stagings.clear()
    this.fetcher?.cancel()
    this.fetcher = undefined
    this.health.shutdown()
    this.fleet.shutdown()
  }

  /**
   * The CC's start message: it remembers the app and places every desired index that has no STARTING,
   * RUNNING or CRASHED instance of this version right away, picking each DEA from the advertisements.
   * Extras (a scale-down, an older version) are left to the health manager, as on a real DEA backend.
   */
  desire(spec: AppSpec): void {
    validateAppSpec(spec)
    const record = this.remember(spec, this.clock.now())
    const running = this.fleet.instancesOf(spec.appGuid)
    // An app started for the first time (every app of a seed) has nothing running to look through.
    if (running.length === 0) {
      for (let index = 0; index < record.instances; index++) this.place(record, index)
      return
    }
    const taken = new Set<number>()
    for (const instance of running) {
      if (instance.version !== spec.version || this.fleet.get(instance.deaId)?.evacuating) continue
      taken.add(instance.index)
    }
    for (let index = 0; index < record.instances; index++) {
      if (!taken.has(index)) this.place(record, index)
    }
  }

  /**
   * The CC's DEA stager: a staging run on a DEA picked from the advertisements as for an instance (enough
   * disk and memory, the app's stack); it ends after the buildpack's time, failed if no DEA could take it
   * or the DEA went away meanwhile.
   */
  stage(request: StagingRequest, done: (outcome: StagingOutcome) => void): void {
    const need = { appGuid: request.appGuid, memoryMb: request.memoryMb, diskMb: request.diskMb, stack: request.stack }
    const choice = this.fleet.choose(need, this.random)
    const timer = this.clock.after(choice.ok ? request.durationMs : 0, () => {
      this.stagings.delete(timer)
      if (!choice.ok) done({ ok: false, error: choice.reason })
      else if (!this.fleet.get(choice.deaId)?.alive)
        done({ ok: false, error: `DEA ${choice.deaId} went away while staging` })
      else done(request.failure === undefined ? { ok: true } : { ok: false, error: request.failure })
    })
    this.stagings.add(timer)
  }

  /** The CC's stop of one index (`dea.stop` with the app's version and indices); the health manager restarts it. */
  stopIndex(appGuid: string, index: number): void {
    for (const instance of [...this.fleet.instancesOf(appGuid)]) {
      if (instance.index === index && instance.state !== 'CRASHED') this.fleet.stopInstance(instance)
    }
  }

  /** The CC's stop message: every instance of the app on every DEA stops now. */
  stop(appGuid: string): void {
    if (typeof appGuid !== 'string' || appGuid === '') throw new TypeError('stop: appGuid must be a non-empty string')
    this.desired.delete(appGuid)
    this.placementErrors.delete(appGuid)
    this.health.forgetApp(appGuid)
    for (const instance of [...this.fleet.instancesOf(appGuid)]) this.fleet.stopInstance(instance)
  }

  /**
   * What the CC's /instances shows for an app on the DEAs: one entry per desired index (RUNNING or
   * STARTING from the DEAs, else FLAPPING from the HM's crash counts, else DOWN), then any instance
   * still running at an index past the desired count. For an app no longer desired here (stopped,
   * or flipped to Diego) it lists what still runs, so that the CC can see it on both backends.
   */
  instances(appGuid: string): InstanceStatus[] {
    const now = this.clock.now()
    const live = this.fleet.instancesOf(appGuid)
    const record = this.desired.get(appGuid)
    const statuses: InstanceStatus[] = []
    if (record) {
      for (let index = 0; index < record.instances; index++) {
        const best = this.bestAt(live, record.version, index)
        statuses.push(best ? this.statusOf(best, now) : this.notRunning(record, index, now))
      }
    }
    const extras = live
      .filter((i) => i.state !== 'CRASHED' && !this.isEvacuating(i) && (!record || i.index >= record.instances))
      .sort((a, b) => a.index - b.index || a.since - b.since)
    for (const instance of extras) statuses.push(this.statusOf(instance, now))
    return statuses
  }

  /**
   * Sums the DEAs that are up. DEAs have no container limit: `unlimitedContainers`, and `total.containers`
   * is only what runs.
   */
  capacity(): BackendCapacity {
    const total = { memoryMb: 0, diskMb: 0, containers: 0 }
    const used = { memoryMb: 0, diskMb: 0, containers: 0 }
    let nodes = 0
    let nodesUp = 0
    for (const dea of this.fleet.all()) {
      if (!dea.alive) continue
      nodes++
      if (!dea.evacuating) nodesUp++
      total.memoryMb += dea.memoryMb
      total.diskMb += dea.diskMb
      used.memoryMb += dea.reservedMemoryMb
      used.diskMb += dea.reservedDiskMb
      for (const instance of dea.instances) if (instance.state !== 'CRASHED') used.containers++
    }
    total.containers = used.containers
    return { total, used, nodes, nodesUp, unlimitedContainers: true }
  }

  // --- Faults -------------------------------------------------------------------------------------

  /** The app's instance at this index exits with a crash (a RUNNING one if there are several). */
  crashInstance(appGuid: string, index: number): void {
    const candidates = this.fleet
      .instancesOf(appGuid)
      .filter((i) => i.index === index && i.state !== 'CRASHED')
      .sort((a, b) => stateRank(a) - stateRank(b))
    const victim = candidates[0]
    if (!victim) throw new Error(`app ${appGuid} has no running or starting instance at index ${index} on the DEAs`)
    this.fleet.crash(victim)
  }

  /** The DEA vanishes with its instances; the HM restarts them elsewhere after its missing and grace rules. */
  loseDea(deaId: string): void {
    this.fleet.lose(deaId)
  }

  /**
   * The DEA stops taking work; the HM starts its instances elsewhere, then stops them here. The DEA shuts
   * down once nothing on it runs (crashed instances aside), or at the bail-out time.
   */
  evacuateDea(deaId: string): void {
    this.fleet.evacuate(deaId)
  }

  /** The slow-to-start fault: instances started on this DEA from now on take `ms` to run. */
  setDeaBootDelay(deaId: string, ms: number): void {
    validateBootMs(`DEA ${deaId}`, ms)
    this.fleet.require(deaId).bootMs = ms
  }

  /** A DEA comes up (or comes back, empty, under the id of a lost one) and advertises at once. */
  addDea(spec: DeaSpec): void {
    this.fleet.add(spec)
  }

  // --- Reports ------------------------------------------------------------------------------------

  /** Every instance the DEAs that are up hold for an app, crashed ones included. */
  instancesOnDeas(appGuid: string): DeaInstanceView[] {
    return this.fleet.instancesOf(appGuid).map(view)
  }

  /** Every instance on every DEA that is up. */
  allInstances(): DeaInstanceView[] {
    const all: DeaInstanceView[] = []
    for (const dea of this.fleet.all()) for (const instance of dea.instances) all.push(view(instance))
    return all
  }

  deas(): DeaView[] {
    return [...this.fleet.all()].map((dea) => ({
      id: dea.id,
      zone: dea.zone,
      stacks: dea.stacks,
      alive: dea.alive,
      evacuating: dea.evacuating,
      bootMs: dea.bootMs,
      memoryMb: dea.memoryMb,
      diskMb: dea.diskMb,
      reservedMemoryMb: dea.reservedMemoryMb,
      reservedDiskMb: dea.reservedDiskMb,
      instances: dea.instances.filter((i) => i.state !== 'CRASHED').length,
    }))
  }

  /** The last health-manager pass, if one ran. */
  get lastHealthPass(): HealthPassReport | undefined {
    return this.health.lastPass
  }

  /** Runs one health-manager pass now (a pass also runs on the HM's interval once started). */
  runHealthPass(): HealthPassReport {
    return this.health.pass()
  }

  // --- The CC's side ------------------------------------------------------------------------------

  private remember(spec: AppSpec, now: number): DesiredRecord {
    const previous = this.desired.get(spec.appGuid)
    const sameRun = previous !== undefined && previous.version === spec.version
    const desiredAt = sameRun && spec.instances <= previous.instances ? previous.desiredAt : now
    const appKey = this.fleet.appKeys.keyOf(spec.appGuid)
    const record: DesiredRecord = { ...spec, routes: [...spec.routes], desiredAt, appKey }
    if (!sameRun) this.placementErrors.delete(spec.appGuid)
    if (sameRun && !sameList(previous.routes, record.routes)) {
      for (const instance of this.fleet.instancesOf(spec.appGuid)) {
        if (instance.version === spec.version) this.fleet.updateRoutes(instance, record.routes)
      }
    }
    this.desired.set(spec.appGuid, record)
    return record
  }

  /**
   * The HM's read of the CC: every started app that should run on the DEAs. Between full reads (HM9000's
   * bulk fetch) only the apps the CC says changed since the last read are read and re-indexed.
   */
  private fetchDesired(): DesiredState {
    const now = this.clock.now()
    this.fetchedOnce = true
    const read = this.sync.read()
    if (read.kind === 'changes') {
      for (const appGuid of read.appGuids) {
        const spec = read.app(appGuid)
        if (spec) this.desiredIndex.set(this.recordOf(spec, now))
        else this.forgetDesired(appGuid)
      }
      return this.desiredIndex
    }
    this.desiredIndex.clear()
    for (const spec of read.apps) {
      this.desiredIndex.requireUnlisted(spec?.appGuid) // before recordOf, which may re-route running instances
      this.desiredIndex.set(this.recordOf(spec, now))
    }
    for (const appGuid of [...this.desired.keys()]) {
      if (!this.desiredIndex.slots.has(appGuid)) this.forgetDesired(appGuid)
    }
    return this.desiredIndex
  }

  /** What an analysis pass works on: the last fetch (the pass fetches itself only before the fetcher's first run, or when told to fetch every pass). */
  private desiredForAnalysis(): DesiredState {
    if (this.desiredFetchIntervalMs === 0 || !this.fetchedOnce) return this.fetchDesired()
    return this.desiredIndex
  }

  private fetchOnTimer(): void {
    try {
      this.fetchDesired()
    } catch (error) {
      this.onHealthError?.(error)
    }
  }

  /** The record for a spec the CC lists: the one kept, when nothing in it changed. */
  private recordOf(spec: AppSpec, now: number): DesiredRecord {
    validateAppSpec(spec)
    const previous = this.desired.get(spec.appGuid)
    const unchanged =
      previous !== undefined &&
      previous.version === spec.version &&
      previous.instances === spec.instances &&
      previous.memoryMb === spec.memoryMb &&
      previous.diskMb === spec.diskMb &&
      previous.stack === spec.stack &&
      sameList(previous.routes, spec.routes)
    return unchanged ? previous : this.remember(spec, now)
  }

  private forgetDesired(appGuid: string): void {
    this.desired.delete(appGuid)
    this.placementErrors.delete(appGuid)
    this.desiredIndex.delete(appGuid)
  }

  private startFromHealthManager(order: PendingStart): void {
    // The respondent again: no start for an app the CC no longer runs here (flipped, stopped, rescaled).
    if (this.source.desiredApp) {
      const current = this.source.desiredApp('dea', order.appGuid)
      if (!current || current.version !== order.version || order.index >= current.instances) return
    }
    const record = this.desired.get(order.appGuid)
    if (record && record.version === order.version) this.place(record, order.index)
  }

  /**
   * HM9000 asks the CC before each stop (the CC's hm9000 respondent): an extra instance of the app's
   * current version, within its instance count, of an app the CC runs on the DEAs right now, is kept. That
   * is what saves an app desired here since the HM's last fetch (moved back from Diego) from being stopped.
   */
  private stopFromHealthManager(order: PendingStop): void {
    if (order.reason === 'extra') {
      const current = this.source.desiredApp?.('dea', order.appGuid)
      if (current && current.version === order.version && order.index < current.instances) return
    }
    const instance = this.fleet.instancesOf(order.appGuid).find((i) => i.instanceGuid === order.instanceGuid)
    if (instance) this.fleet.stopInstance(instance)
  }

  /**
   * Picks a DEA as the CC does and sends it the start. A start sent to a DEA that has died since its
   * last advertisement is lost, as it was on NATS; the health manager notices the index missing later.
   */
  private place(record: DesiredRecord, index: number): void {
    const outcome = this.fleet.place(
      record,
      index,
      record.appKey ?? this.fleet.appKeys.keyOf(record.appGuid),
      this.random,
    )
    if (typeof outcome === 'string') this.notePlacementError(record.appGuid, index, outcome)
    else if (outcome !== undefined && this.placementErrors.size > 0)
      this.placementErrors.get(record.appGuid)?.delete(index)
  }

  private notePlacementError(appGuid: string, index: number, reason: string): void {
    let errors = this.placementErrors.get(appGuid)
    if (!errors) this.placementErrors.set(appGuid, (errors = new Map()))
    errors.set(index, reason)
  }

  private isEvacuating(instance: DeaInstance): boolean {
    return this.fleet.get(instance.deaId)?.evacuating ?? false
  }

  /**
   * The instance the CC would report at an index: the DEAs answer `find.droplet` for the app's current
   * version in STARTING or RUNNING only (an evacuating DEA's instances are EVACUATING to dea_ng).
   */
  private bestAt(live: readonly DeaInstance[], version: string, index: number): DeaInstance | undefined {
    let best: DeaInstance | undefined
    for (const instance of live) {
      if (instance.index !== index || instance.version !== version || instance.state === 'CRASHED') continue
      if (this.isEvacuating(instance)) continue
      if (!best || stateRank(instance) < stateRank(best)) best = instance
    }
    return best
  }

  private statusOf(instance: DeaInstance, now: number): InstanceStatus {
    const dea: Dea | undefined = this.fleet.get(instance.deaId)
    const status: InstanceStatus = {
      index: instance.index,
      state: instance.state as InstanceState,
      since: instance.since,
      backend: 'dea',
      host: dea?.id ?? instance.deaId,
      port: instance.port,
      memoryMb: instance.memoryMb,
      diskMb: instance.diskMb,
    }
    if (instance.runningSince !== undefined) status.uptimeSec = Math.floor((now - instance.runningSince) / 1000)
    return status
  }

  /** FLAPPING once the index crashed `flappingCrashCountThreshold` times (the CC's `>=`), else DOWN. */
  private notRunning(record: DesiredRecord, index: number, now: number): InstanceStatus {
    const crashes = this.health.crashCount(record.appGuid, record.version, index)
    if (crashes && crashes.count >= this.flappingThreshold) {
      return {
        index,
        state: 'FLAPPING',
        since: crashes.firstCrashAt,
        backend: 'dea',
        details: `crashed ${crashes.count} times`,
      }
    }
    const status: InstanceStatus = { index, state: 'DOWN', since: now, backend: 'dea' }
    const details = this.downDetails(record, index)
    if (details !== undefined) status.details = details
    return status
  }

  private downDetails(record: DesiredRecord, index: number): string | undefined {
    for (const instance of this.fleet.instancesOf(record.appGuid)) {
      if (instance.index !== index || instance.version !== record.version) continue
      if (instance.state === 'CRASHED') return 'crashed'
      if (this.isEvacuating(instance)) return `evacuating DEA ${instance.deaId}`
    }
    return this.placementErrors.get(record.appGuid)?.get(index)
  }
}

function stateRank(instance: DeaInstance): number {
  return instance.state === 'RUNNING' ? 0 : instance.state === 'STARTING' ? 1 : 2
}

function view(instance: DeaInstance): DeaInstanceView {
  return {
    instanceGuid: instance.instanceGuid,
    appGuid: instance.appGuid,
    version: instance.version,
    index: instance.index,
    state: instance.state,
    since: instance.since,
    deaId: instance.deaId,
    port: instance.port,
    memoryMb: instance.memoryMb,
    diskMb: instance.diskMb,
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Checks an AppSpec from the CC; throws naming the app and the field that is wrong. */
export function validateAppSpec(spec: AppSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('app spec must be an object')
  if (typeof spec.appGuid !== 'string' || spec.appGuid === '')
    throw new TypeError('app spec: appGuid must be a non-empty string')
  const where = `app ${spec.appGuid}`
  if (typeof spec.version !== 'string' || spec.version === '')
    throw new TypeError(`${where}: version must be a non-empty string`)
  if (!Number.isSafeInteger(spec.instances) || spec.instances < 0) {
    throw new RangeError(`${where}: instances must be a whole number >= 0, got ${spec.instances}`)
  }
  for (const key of ['memoryMb', 'diskMb'] as const) {
    const value = spec[key]
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${where}: ${key} must be a number above 0, got ${value}`)
    }
  }
  if (typeof spec.stack !== 'string' || spec.stack === '')
    throw new TypeError(`${where}: stack must be a non-empty string`)
  if (!Array.isArray(spec.routes) || spec.routes.some((r) => typeof r !== 'string' || r === '')) {
    throw new TypeError(`${where}: routes must be a list of hostnames`)
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`DeaPool: ${name} must be a number above 0, got ${value}`)
  }
  return value
}

function atLeastZero(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`DeaPool: ${name} must be a number >= 0, got ${value}`)
  }
  return value
}

function crashPolicy(overrides: Partial<CrashRestartPolicy> | undefined): CrashRestartPolicy {
  const policy = { ...DEFAULT_CRASH_POLICY, ...overrides }
  for (const [key, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`DeaPool: crashPolicy.${key} must be a number >= 0, got ${value}`)
    }
  }
  return policy
}
