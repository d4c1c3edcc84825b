// The DEAs themselves: what each one has, runs, advertises to the CC and heartbeats to the health
// manager, all as state moved along by the injected clock rather than as NATS messages.

import type { AppSpec } from '../backend.js'
import type { Clock, Timer } from '../clock.js'
import type { RouteTable } from '../routes.js'
import { AppKeys, type DeaHeartbeat, type HeartbeatState, type LiveInstance } from './health.js'
import { AdvertisementIndex, type DeaAdvertisement, type Placement, type PlacementNeed } from './placement.js'

/** The character codes of an instance guid being made (see DeaFleet.nextInstanceGuid), and of the hex digits. */
const GUID_CODES = Array.from('de000000-0000-4000-8000-000000000000', (c) => c.charCodeAt(0))
const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0))

/** The stack the DEA era ran on. */
export const DEFAULT_STACK = 'cflinuxfs2'

export interface DeaSpec {
  id: string
  /** `placement_properties.zone`; `default` when unset, as the CC reads it. */
  zone?: string
  memoryMb: number
  diskMb: number
  stacks?: readonly string[]
  /** How long its instances take from STARTING to RUNNING; the pool's default when unset. */
  bootMs?: number
}

/** One app instance on a DEA. It doubles as its own heartbeat entry: the HM reads these objects. */
export interface DeaInstance extends LiveInstance {
  state: HeartbeatState
  since: number
  readonly port: number
  readonly memoryMb: number
  readonly diskMb: number
  /** The hostnames it is registered under while RUNNING. */
  routes: readonly string[]
  /** When it last became RUNNING. */
  runningSince: number | undefined
  bootTimer: Timer | undefined
}

export function validateDeaSpec(spec: DeaSpec): void {
  if (typeof spec?.id !== 'string' || spec.id.trim() === '')
    throw new TypeError('DEA spec: id must be a non-empty string')
  const where = `DEA ${spec.id}`
  if (spec.zone !== undefined && (typeof spec.zone !== 'string' || spec.zone === '')) {
    throw new TypeError(`${where}: zone must be a non-empty string when given`)
  }
  for (const key of ['memoryMb', 'diskMb'] as const) {
    const value = spec[key]
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${where}: ${key} must be a number above 0, got ${value}`)
    }
  }
  if (spec.stacks !== undefined) {
    if (!Array.isArray(spec.stacks) || spec.stacks.length === 0)
      throw new TypeError(`${where}: stacks must be a non-empty list`)
    for (const stack of spec.stacks) {
      if (typeof stack !== 'string' || stack === '')
        throw new TypeError(`${where}: each stack must be a non-empty string`)
    }
  }
  if (spec.bootMs !== undefined) validateBootMs(where, spec.bootMs)
}

export function validateBootMs(where: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${where}: boot delay must be a number of ms >= 0, got ${ms}`)
  }
}

export class Dea {
  readonly id: string
  readonly zone: string
  readonly stacks: readonly string[]
  readonly memoryMb: number
  readonly diskMb: number
  bootMs: number
  alive = true
  evacuating = false
  /** When the evacuation began (ms), for the bail-out. */
  evacuatingSince = 0
  /**
   * What it runs, crashed instances included (they hold no resources). Replaced, never emptied in
   * place, when the DEA is lost: the HM keeps reading the list from the last heartbeat it got.
   */
  instances: DeaInstance[] = []
  reservedMemoryMb = 0
  reservedDiskMb = 0
  /**
   * STARTING and RUNNING instances per app, as its advertisements carry them: counted from `instances` when the
   * DEA next advertises after a change, and the same map again while nothing changes.
   */
  private advertisedCounts: ReadonlyMap<string, number> | undefined
  private nextPort = 61_001

  constructor(spec: DeaSpec, defaultBootMs: number) {
    validateDeaSpec(spec)
    this.id = spec.id
    this.zone = spec.zone ?? 'default'
    this.stacks = [...(spec.stacks ?? [DEFAULT_STACK])]
    this.memoryMb = spec.memoryMb
    this.diskMb = spec.diskMb
    this.bootMs = spec.bootMs ?? defaultBootMs
  }

  get availableMemoryMb(): number {
    return this.memoryMb - this.reservedMemoryMb
  }

  get availableDiskMb(): number {
    return this.diskMb - this.reservedDiskMb
  }

  /** Why the DEA itself would refuse a start (its resource manager's check), or undefined if it fits. */
  refusal(spec: AppSpec): string | undefined {
    if (!this.stacks.includes(spec.stack)) return `DEA ${this.id} does not run stack "${spec.stack}"`
    if (spec.memoryMb > this.availableMemoryMb) return `DEA ${this.id} refused the start: insufficient memory`
    if (spec.diskMb > this.availableDiskMb) return `DEA ${this.id} refused the start: insufficient disk`
    return undefined
  }

  /** Creates a STARTING instance and reserves its memory and disk. */
  admit(instanceGuid: string, spec: AppSpec, index: number, now: number, appKey: number): DeaInstance {
    const instance: DeaInstance = {
      instanceGuid,
      appGuid: spec.appGuid,
      appKey,
      version: spec.version,
      index,
      state: 'STARTING',
      since: now,
      deaId: this.id,
      port: this.nextPort++,
      memoryMb: spec.memoryMb,
      diskMb: spec.diskMb,
      routes: spec.routes,
      runningSince: undefined,
      bootTimer: undefined,
    }
    this.instances.push(instance)
    this.hold(instance)
    return instance
  }

  /** Frees what a STARTING or RUNNING instance held, when it crashes or stops. */
  release(instance: DeaInstance): void {
    if (instance.state === 'CRASHED') return
    this.reservedMemoryMb -= instance.memoryMb
    this.reservedDiskMb -= instance.diskMb
    this.advertisedCounts = undefined
  }

  /** Takes an instance off the DEA, releasing what it held. */
  remove(instance: DeaInstance): void {
    const at = this.instances.indexOf(instance)
    if (at < 0) return
    this.release(instance)
    const last = this.instances.pop()!
    if (at < this.instances.length) this.instances[at] = last
  }

  /** The `dea.advertise` message, as the CC stores it. */
  advertise(expiresAt: number): KeptAdvertisement {
    return new KeptAdvertisement(this, (this.advertisedCounts ??= this.countInstances()), expiresAt)
  }

  heartbeat(at: number): DeaHeartbeat {
    return { deaId: this.id, at, evacuating: this.evacuating, instances: this.instances }
  }

  /** The DEA vanishes: it runs nothing from now on; the instances it ran are returned. */
  lose(): DeaInstance[] {
    const lost = this.instances
    this.alive = false
    this.instances = []
    this.reservedMemoryMb = 0
    this.reservedDiskMb = 0
    this.advertisedCounts = undefined
    return lost
  }

  private hold(instance: DeaInstance): void {
    this.reservedMemoryMb += instance.memoryMb
    this.reservedDiskMb += instance.diskMb
    this.advertisedCounts = undefined
  }

  /** STARTING and RUNNING instances per app guid. */
  private countInstances(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const instance of this.instances) {
      if (instance.state !== 'CRASHED') counts.set(instance.appGuid, (counts.get(instance.appGuid) ?? 0) + 1)
    }
    return counts
  }
}

/**
 * The CC's copy of one advertisement: what the DEA sent, then bumped by the CC's own starts (mark_app_started,
 * reserve_app_memory) until the DEA's next one replaces it. A bump is noted, not applied: the counts with the
 * bumps in are made when someone reads them (a report, a test's reference scan), since placement itself reads
 * the index the fleet keeps of this table.
 */
export class KeptAdvertisement implements DeaAdvertisement {
  readonly deaId: string
  readonly zone: string
  readonly stacks: readonly string[]
  availableMemoryMb: number
  readonly availableDiskMb: number
  /** Apps started here since the advertisement (one entry a start), not yet in `bumped`. */
  private pending: string[] | undefined
  private bumped: Map<string, number> | undefined

  constructor(
    /** The DEA that sent it. */
    readonly dea: Dea,
    /** Its counts as the DEA sent them: shared with its other advertisements, never changed. */
    private readonly advertised: ReadonlyMap<string, number>,
    readonly expiresAt: number,
  ) {
    this.deaId = dea.id
    this.zone = dea.zone
    this.stacks = dea.stacks
    this.availableMemoryMb = dea.availableMemoryMb
    this.availableDiskMb = dea.availableDiskMb
  }

  get appInstanceCounts(): ReadonlyMap<string, number> {
    if (this.pending === undefined) return this.bumped ?? this.advertised
    const counts = (this.bumped ??= new Map(this.advertised))
    for (const appGuid of this.pending) counts.set(appGuid, (counts.get(appGuid) ?? 0) + 1)
    this.pending = undefined
    return counts
  }

  /** The CC sent a start of the app here: one more instance of it, less free memory. */
  bump(appGuid: string, memoryMb: number): void {
    this.availableMemoryMb -= memoryMb
    if (this.pending === undefined) this.pending = [appGuid]
    else this.pending.push(appGuid)
  }
}

export interface DeaFleetOptions {
  clock: Clock
  routes: RouteTable
  defaultBootMs: number
  advertiseIntervalMs: number
  advertisementTtlMs: number
  heartbeatIntervalMs: number
  /** Where heartbeats go (the health manager). */
  onHeartbeat: (heartbeat: DeaHeartbeat) => void
  /** `droplet.exited` with reason CRASHED; `ranForMs` is how long it had been RUNNING. */
  onCrash: (instance: DeaInstance, ranForMs: number) => void
  /** An evacuating DEA shuts down after this long even with instances left (dea_ng's bail-out). */
  evacuationBailOutMs: number
  /** Table positions per block of the placement index (default ADVERTISEMENT_BLOCK); tests use a few. */
  advertisementBlock?: number
}

/**
 * Every DEA, plus the CC's table of their advertisements and an index of instances by app. Lost DEAs
 * stay listed (not alive) so that a report can say so; a DEA added again under the same id replaces one.
 */
export class DeaFleet {
  private readonly deas = new Map<string, Dea>()
  private readonly ads = new Map<string, KeptAdvertisement>()
  /** The same table, indexed for placement; every change to `ads` is mirrored there. */
  private readonly adIndex: AdvertisementIndex
  private adList: DeaAdvertisement[] = []
  private adsChanged = false
  private earliestExpiry = Number.POSITIVE_INFINITY
  private readonly byApp = new Map<string, DeaInstance[]>()
  private readonly timers: Timer[] = []
  private instanceSeq = 0
  /** The app keys its instances carry; the DEA backend stamps its desired apps from the same set. */
  readonly appKeys = new AppKeys()

  /** Instances started before start(), booted once it runs (see startInstance). */
  private bootOnStart: DeaInstance[] = []
  /** The timers of those boots. */
  private readonly bootTimers = new Set<Timer>()
  /** When the DEAs last advertised together while the loops were not running (see choose). */
  private lastAdvertisedWithoutLoops: number

  constructor(private readonly options: DeaFleetOptions) {
    this.adIndex = new AdvertisementIndex(options.advertisementBlock)
    this.lastAdvertisedWithoutLoops = options.clock.now()
  }

  get size(): number {
    return this.deas.size
  }

  all(): IterableIterator<Dea> {
    return this.deas.values()
  }

  get(deaId: string): Dea | undefined {
    return this.deas.get(deaId)
  }

  /** The DEA by id, or an error naming it. */
  require(deaId: string): Dea {
    const dea = this.deas.get(deaId)
    if (!dea) throw new Error(`no DEA with id ${JSON.stringify(deaId)}`)
    return dea
  }

  /** Boots a DEA: it advertises and heartbeats at once, as a DEA does when it comes up. */
  add(spec: DeaSpec): Dea {
    const existing = this.deas.get(spec?.id)
    if (existing?.alive) throw new Error(`a DEA with id ${JSON.stringify(spec.id)} is already running`)
    const dea = new Dea(spec, this.options.defaultBootMs)
    this.deas.set(dea.id, dea)
    this.advertise(dea)
    this.options.onHeartbeat(dea.heartbeat(this.options.clock.now()))
    return dea
  }

  /** Starts the advertisement and heartbeat loops. */
  start(): void {
    if (this.timers.length > 0) return
    const { clock } = this.options
    this.bootWaiting()
    this.timers.push(
      clock.every(this.options.advertiseIntervalMs, () => {
        for (const dea of this.deas.values()) if (dea.alive && !dea.evacuating) this.advertise(dea)
      }),
      clock.every(this.options.heartbeatIntervalMs, () => {
        const now = clock.now()
        for (const dea of this.deas.values()) {
          if (!dea.alive) continue
          if (dea.evacuating && this.canShutDown(dea, now)) this.lose(dea.id)
          else this.options.onHeartbeat(dea.heartbeat(now))
        }
      }),
    )
  }

  shutdown(): void {
    for (const timer of this.timers.splice(0)) timer.cancel()
    for (const timer of this.bootTimers) timer.cancel()
    this.bootTimers.clear()
    this.bootOnStart = []
    for (const dea of this.deas.values()) {
      for (const instance of dea.instances) {
        instance.bootTimer?.cancel()
        instance.bootTimer = undefined
      }
    }
  }

  /**
   * A DEA advertises every interval from the moment it is up, whether or not this fleet's loops run yet. Before
   * start() (a foundation placing its seeded apps, which on a loaded machine can take longer than an
   * advertisement lives) the placements themselves keep that schedule: when an interval has passed since the
   * last round, every DEA that is up advertises again, as its loop would have. Without it a slow boot found
   * every advertisement stale part-way through and left the rest of the seed unplaced.
   */
  private advertiseWithoutLoops(now: number): void {
    if (this.timers.length > 0) return
    if (now - this.lastAdvertisedWithoutLoops < this.options.advertiseIntervalMs) return
    this.lastAdvertisedWithoutLoops = now
    for (const dea of this.deas.values()) if (dea.alive && !dea.evacuating) this.advertise(dea)
  }

  /** The CC's advertisement table, without the stale entries (prune_stale_deas). */
  advertisements(): readonly DeaAdvertisement[] {
    this.prune(this.options.clock.now())
    if (this.adsChanged) {
      this.adList = [...this.ads.values()]
      this.adsChanged = false
    }
    return this.adList
  }

  /** Drops the advertisements that are stale at `now` (prune_stale_deas). */
  private prune(now: number): void {
    if (now < this.earliestExpiry) return
    this.earliestExpiry = Number.POSITIVE_INFINITY
    for (const [id, ad] of this.ads) {
      if (ad.expiresAt <= now) {
        this.ads.delete(id)
        this.adIndex.delete(id)
      } else this.earliestExpiry = Math.min(this.earliestExpiry, ad.expiresAt)
    }
    this.adsChanged = true
  }

  /** What the CC does to its copy of an advertisement after sending a start there (mark_app_started, reserve_app_memory). */
  noteStartSent(deaId: string, appGuid: string, memoryMb: number): void {
    const ad = this.ads.get(deaId)
    if (!ad) return
    ad.bump(appGuid, memoryMb)
    this.adIndex.noteStart(ad, appGuid)
  }

  /**
   * The CC's choice of a DEA for one instance (see chooseDea), made from the kept index of its advertisement
   * table: the same answer as chooseDea over advertisements() for the same random draw.
   */
  choose(need: PlacementNeed, random: () => number): Placement {
    const now = this.options.clock.now()
    this.advertiseWithoutLoops(now)
    this.prune(now) // drops the stale entries, as the CC's prune does before a placement
    return this.adIndex.choose(need, now, random)
  }

  /**
   * The CC's placement of one instance of an app and the start it sends: choose, noteStartSent, then the DEA's
   * startInstance, as one step that looks nothing up twice. Answers the instance started, why none could be
   * placed or started, or undefined when the start went to a DEA that has died since it advertised (lost, as
   * on NATS).
   */
  place(spec: AppSpec, index: number, appKey: number, random: () => number): DeaInstance | string | undefined {
    const now = this.options.clock.now()
    this.advertiseWithoutLoops(now)
    this.prune(now)
    const slot = this.adIndex.chooseSlot(spec, now, random)
    if (slot < 0) return this.adIndex.failure
    const ad = this.adIndex.adAt(slot) as KeptAdvertisement
    ad.bump(spec.appGuid, spec.memoryMb)
    this.adIndex.noteStartAt(slot, ad.availableMemoryMb, spec.appGuid)
    if (!ad.dea.alive) return undefined
    return this.startOn(ad.dea, spec, index, appKey, now)
  }

  /** Live instances of an app, on DEAs that are up (evacuating ones included), crashed ones included. */
  instancesOf(appGuid: string): readonly DeaInstance[] {
    return this.byApp.get(appGuid) ?? []
  }

  appGuids(): IterableIterator<string> {
    return this.byApp.keys()
  }

  /**
   * The DEA's side of `dea.<id>.start`: admits the instance if it has room, boots it after its boot
   * delay, then registers its routes. Returns the instance, or why the DEA did not start it.
   */
  startInstance(dea: Dea, spec: AppSpec, index: number): DeaInstance | string {
    return this.startOn(dea, spec, index, this.appKeys.keyOf(spec.appGuid), this.options.clock.now())
  }

  private startOn(dea: Dea, spec: AppSpec, index: number, appKey: number, now: number): DeaInstance | string {
    if (!dea.alive) return `DEA ${dea.id} is gone`
    const refusal = dea.refusal(spec)
    if (refusal !== undefined) return refusal
    // A crashed record at this index is superseded by the new instance (the DEA would reap it later). The list
    // is copied only when there is one to remove: a start of a 50-instance app would copy it 50 times.
    let known = this.byApp.get(spec.appGuid)
    if (known?.some((old) => old.index === index && old.state === 'CRASHED')) {
      for (const old of [...known]) if (old.index === index && old.state === 'CRASHED') this.removeInstance(old)
      known = this.byApp.get(spec.appGuid)
    }
    const instance = dea.admit(this.nextInstanceGuid(), spec, index, now, appKey)
    if (known !== undefined) known.push(instance)
    else this.byApp.set(spec.appGuid, [instance])
    // Before start() (a foundation placing its seed) the DEAs boot what they were given once they are up: a
    // seed of thousands placed over more than a boot delay would otherwise be that many overdue timers, all
    // run before the API could answer its first request.
    if (this.timers.length === 0) this.bootOnStart.push(instance)
    else instance.bootTimer = this.options.clock.after(dea.bootMs, () => this.finishBoot(dea, instance))
    return instance
  }

  /** The container is up: a STARTING instance still on its DEA runs, and its routes are registered. */
  private finishBoot(dea: Dea, instance: DeaInstance): void {
    instance.bootTimer = undefined
    if (instance.state !== 'STARTING' || !dea.alive || !dea.instances.includes(instance)) return
    instance.state = 'RUNNING'
    instance.since = this.options.clock.now()
    instance.runningSince = instance.since
    this.register(instance)
  }

  /** Boots the instances started before start(): one timer per boot delay, each checking its instances then. */
  private bootWaiting(): void {
    const waiting = this.bootOnStart
    this.bootOnStart = []
    if (waiting.length === 0) return
    const delays = new Set<number>()
    for (const dea of this.deas.values()) delays.add(dea.bootMs)
    // Most often every DEA boots in the same time: one timer for the whole list, as it is.
    const byDelay = new Map<number, DeaInstance[]>()
    if (delays.size === 1) byDelay.set(delays.values().next().value!, waiting)
    else {
      for (const instance of waiting) {
        const ms = this.deas.get(instance.deaId)?.bootMs
        if (ms === undefined) continue
        const due = byDelay.get(ms)
        if (due) due.push(instance)
        else byDelay.set(ms, [instance])
      }
    }
    for (const [ms, due] of byDelay) {
      const timer = this.options.clock.after(ms, () => {
        this.bootTimers.delete(timer)
        for (const instance of due) {
          const dea = this.deas.get(instance.deaId)
          if (dea) this.finishBoot(dea, instance)
        }
      })
      this.bootTimers.add(timer)
    }
  }

  /** The DEA's side of a stop: the instance goes away, its routes first. */
  stopInstance(instance: DeaInstance): boolean {
    const dea = this.deas.get(instance.deaId)
    if (!dea?.alive || !dea.instances.includes(instance)) return false
    this.removeInstance(instance)
    return true
  }

  /** The crash fault: the instance exits, its routes go, and the DEA reports droplet.exited. */
  crash(instance: DeaInstance): void {
    if (instance.state === 'CRASHED') throw new Error(`instance ${instance.instanceGuid} has already crashed`)
    const dea = this.require(instance.deaId)
    const now = this.options.clock.now()
    const ranForMs = instance.runningSince === undefined ? 0 : now - instance.runningSince
    this.unregister(instance)
    instance.bootTimer?.cancel()
    instance.bootTimer = undefined
    dea.release(instance)
    instance.state = 'CRASHED'
    instance.since = now
    instance.runningSince = undefined
    this.options.onCrash(instance, ranForMs)
  }

  /** The DEA vanishes with its instances; the CC keeps its last advertisement until it goes stale. */
  lose(deaId: string): DeaInstance[] {
    const dea = this.require(deaId)
    if (!dea.alive) throw new Error(`DEA ${deaId} is already gone`)
    const lost = dea.lose()
    for (const instance of lost) {
      instance.bootTimer?.cancel()
      instance.bootTimer = undefined
      this.unregister(instance)
      this.unindex(instance)
    }
    return lost
  }

  /**
   * dea_ng's EvacuationHandler: an evacuating DEA shuts down once nothing on it runs or starts any more
   * (crashed instances do not hold it back), or when the bail-out time has passed. Without this, a crash
   * on a draining DEA would be reported in its heartbeats for as long as the process lived.
   */
  private canShutDown(dea: Dea, now: number): boolean {
    if (now - dea.evacuatingSince >= this.options.evacuationBailOutMs) return true
    return dea.instances.every((instance) => instance.state === 'CRASHED')
  }

  /** dea_ng's evacuation: stop advertising (dea.shutdown drops the CC's entry) and say so in a heartbeat now. */
  evacuate(deaId: string): void {
    const dea = this.require(deaId)
    if (!dea.alive) throw new Error(`DEA ${deaId} is gone; there is nothing to evacuate`)
    if (dea.evacuating) return
    dea.evacuating = true
    dea.evacuatingSince = this.options.clock.now()
    // Not `adsChanged ||= ads.delete(...)`: that skips the delete whenever the table had already changed.
    if (this.ads.delete(deaId)) this.adsChanged = true
    this.adIndex.delete(deaId)
    this.options.onHeartbeat(dea.heartbeat(this.options.clock.now()))
  }

  private advertise(dea: Dea): void {
    const ad = dea.advertise(this.options.clock.now() + this.options.advertisementTtlMs)
    this.ads.set(dea.id, ad)
    this.adIndex.set(ad)
    this.earliestExpiry = Math.min(this.earliestExpiry, ad.expiresAt)
    this.adsChanged = true
  }

  private removeInstance(instance: DeaInstance): void {
    instance.bootTimer?.cancel()
    instance.bootTimer = undefined
    this.unregister(instance)
    this.deas.get(instance.deaId)?.remove(instance)
    this.unindex(instance)
  }

  private register(instance: DeaInstance): void {
    for (const hostname of instance.routes) {
      this.options.routes.register(hostname, {
        appGuid: instance.appGuid,
        backend: 'dea',
        index: instance.index,
        instanceGuid: instance.instanceGuid,
        host: instance.deaId,
      })
    }
  }

  private unregister(instance: DeaInstance): void {
    if (instance.state !== 'RUNNING') return
    for (const hostname of instance.routes) this.options.routes.unregister(hostname, instance.instanceGuid)
  }

  /** `dea.update`: a running instance's routes change in place. */
  updateRoutes(instance: DeaInstance, routes: readonly string[]): void {
    this.unregister(instance)
    instance.routes = routes
    if (instance.state === 'RUNNING') this.register(instance)
  }

  private unindex(instance: DeaInstance): void {
    const list = this.byApp.get(instance.appGuid)
    if (!list) return
    const at = list.indexOf(instance)
    if (at < 0) return
    const last = list.pop()!
    if (at < list.length) list[at] = last
    if (list.length === 0) this.byApp.delete(instance.appGuid)
  }

  /** `de000000-0000-4000-8000-` and the sequence number in 12 hex digits, as one flat string (not a rope of two). */
  private nextInstanceGuid(): string {
    let n = ++this.instanceSeq
    for (let i = GUID_CODES.length - 1; i >= GUID_CODES.length - 12; i--) {
      GUID_CODES[i] = HEX_CODES[n % 16]!
      n = Math.floor(n / 16)
    }
    return String.fromCharCode.apply(null, GUID_CODES)
  }
}
