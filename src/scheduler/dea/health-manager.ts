// The health manager's shell (HM9000's listener, store, analyzer loop and sender): it keeps the DEAs'
// last heartbeats, the crash counts and the queues of pending starts and stops; on its own interval it
// reads the CC's desired state, runs the pure analysis, queues what it finds and sends what is due,
// re-checking each order against the latest state first.

import type { Clock, Timer } from '../clock.js'
import {
  type Analysis,
  analyze,
  type CrashCount,
  type DeaHeartbeat,
  type DesiredState,
  findCrashCount,
  type HealthConfig,
  type LiveInstance,
  type PendingStart,
  type PendingStop,
  startStillNeeded,
  stopStillWanted,
} from './health.js'

/** What the health manager needs from the CC and the DEAs. */
export interface HealthManagerPorts {
  /** The CC's desired state for the DEAs (bulk app state), read every pass. */
  fetchDesired(): DesiredState
  /** What the DEAs that are up run for an app right now, for re-checking an order before it is sent. */
  instancesOf(appGuid: string): readonly LiveInstance[]
  isEvacuating(deaId: string): boolean
  /** Asks the CC to start one instance (the CC picks the DEA). */
  start(order: PendingStart): void
  /** Tells a DEA to stop one instance. */
  stop(order: PendingStop): void
}

export interface HealthPassReport {
  at: number
  /** Apps desired on the DEAs. */
  desiredApps: number
  startsQueued: number
  stopsQueued: number
  startsSent: number
  stopsSent: number
}

export interface HealthManagerOptions {
  clock: Clock
  intervalMs: number
  config: HealthConfig
  ports: HealthManagerPorts
  /** A pass that throws is reported here and the loop carries on; by default the error is kept in lastError. */
  onError?: (error: unknown) => void
}

export class HealthManager {
  private readonly heartbeats = new Map<string, DeaHeartbeat>()
  private readonly crashCounts = new Map<string, CrashCount[]>()
  private readonly pendingStarts = new Map<string, PendingStart[]>()
  private readonly pendingStops = new Map<string, PendingStop>()
  private timer: Timer | undefined
  lastPass: HealthPassReport | undefined
  lastError: unknown

  constructor(private readonly options: HealthManagerOptions) {
    if (!(options.intervalMs > 0))
      throw new RangeError(`health manager: interval must be above 0 ms, got ${options.intervalMs}`)
  }

  start(): void {
    this.timer ??= this.options.clock.every(this.options.intervalMs, () => {
      try {
        this.pass()
      } catch (error) {
        this.lastError = error
        this.options.onError?.(error)
      }
    })
  }

  shutdown(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  /** A DEA's heartbeat replaces the last one it sent. */
  receiveHeartbeat(heartbeat: DeaHeartbeat): void {
    this.heartbeats.set(heartbeat.deaId, heartbeat)
  }

  /**
   * A `droplet.exited` with reason CRASHED. The count restarts from one when the instance had run
   * longer than the reset period (Diego's rule, which keeps a long-lived app from ever backing off).
   */
  recordCrash(appGuid: string, version: string, index: number, crashedAt: number, ranForMs: number): CrashCount {
    let list = this.crashCounts.get(appGuid)
    if (!list) this.crashCounts.set(appGuid, (list = []))
    let entry = findCrashCount(this.crashCounts, appGuid, version, index)
    if (!entry) list.push((entry = { version, index, count: 0, firstCrashAt: crashedAt, lastCrashAt: crashedAt }))
    if (ranForMs > this.options.config.crash.resetAfterRunningMs) {
      entry.count = 0
      entry.firstCrashAt = crashedAt
    }
    entry.count++
    entry.lastCrashAt = crashedAt
    return entry
  }

  crashCount(appGuid: string, version: string, index: number): CrashCount | undefined {
    return findCrashCount(this.crashCounts, appGuid, version, index)
  }

  /** The CC stopped the app: nothing queued for it is wanted any more, and its crashes are forgotten. */
  forgetApp(appGuid: string): void {
    this.crashCounts.delete(appGuid)
    this.pendingStarts.delete(appGuid)
    for (const [guid, stop] of this.pendingStops) if (stop.appGuid === appGuid) this.pendingStops.delete(guid)
  }

  get pending(): { starts: number; stops: number } {
    let starts = 0
    for (const list of this.pendingStarts.values()) starts += list.length
    return { starts, stops: this.pendingStops.size }
  }

  /** One pass: fetch, analyse, queue, send what is due. Runs on the interval; callable directly. */
  pass(): HealthPassReport {
    const { clock, config, ports } = this.options
    const now = clock.now()
    const desired = ports.fetchDesired()
    const expiry = config.missedHeartbeats * config.heartbeatIntervalMs
    for (const [deaId, heartbeat] of this.heartbeats) if (now - heartbeat.at >= expiry) this.heartbeats.delete(deaId)

    const analysis = this.analyze(desired, now)
    for (const start of analysis.starts) this.queueStart(start)
    for (const stop of analysis.stops) this.pendingStops.set(stop.instanceGuid, stop)

    let startsSent = 0
    for (const [appGuid, list] of this.pendingStarts) {
      const slot = desired.slots.get(appGuid)
      const app = slot === undefined ? undefined : desired.apps[slot]
      if (app === undefined) {
        this.pendingStarts.delete(appGuid)
        continue
      }
      const due = list.filter((start) => start.sendAt <= now)
      if (due.length === 0) continue
      const waiting = list.filter((start) => start.sendAt > now)
      if (waiting.length > 0) this.pendingStarts.set(appGuid, waiting)
      else this.pendingStarts.delete(appGuid)
      for (const start of due) {
        if (!startStillNeeded(start, app, ports.instancesOf(appGuid), ports.isEvacuating)) continue
        ports.start(start)
        startsSent++
      }
    }

    let stopsSent = 0
    for (const [instanceGuid, stop] of this.pendingStops) {
      if (stop.sendAt > now) continue
      this.pendingStops.delete(instanceGuid)
      const slot = desired.slots.get(stop.appGuid)
      const app = slot === undefined ? undefined : desired.apps[slot]
      if (!stopStillWanted(stop, app, ports.instancesOf(stop.appGuid), ports.isEvacuating)) continue
      ports.stop(stop)
      stopsSent++
    }

    for (const appGuid of this.crashCounts.keys()) if (!desired.slots.has(appGuid)) this.crashCounts.delete(appGuid)

    this.lastPass = {
      at: now,
      desiredApps: desired.apps.length,
      startsQueued: analysis.starts.length,
      stopsQueued: analysis.stops.length,
      startsSent,
      stopsSent,
    }
    return this.lastPass
  }

  private analyze(desired: DesiredState, now: number): Analysis {
    return analyze(
      desired,
      {
        heartbeats: [...this.heartbeats.values()],
        crashCounts: this.crashCounts,
        pendingStarts: this.pendingStarts,
        pendingStops: this.pendingStops,
      },
      now,
      this.options.config,
    )
  }

  /** A start replaces a pending one for the same index (the analysis only returns one that is sooner). */
  private queueStart(start: PendingStart): void {
    const list = this.pendingStarts.get(start.appGuid)
    if (!list) {
      this.pendingStarts.set(start.appGuid, [start])
      return
    }
    const at = list.findIndex((p) => p.index === start.index && p.version === start.version)
    if (at >= 0) list[at] = start
    else list.push(start)
  }
}
