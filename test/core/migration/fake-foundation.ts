// An in-memory foundation on a FakeClock, behind the MigrationPort: each app has instances on the DEA side
// and the Diego side; flipping the flag starts the app on the new side (RUNNING after a boot delay) and the
// old side winds its instances down after a drain delay, as the DEA health manager and Diego's converger
// would. The route answers while any instance runs anywhere. Failures are injected from a seeded generator,
// and a "process" wraps the port and the clock so a test can kill a runner at an exact call.
import type { Clock, FakeClock, Timer } from '../../../src/clock.js'
import { AppNotStagedError, STAGING_ERRORS, type Unstaged } from '../../../src/core/cc/index.js'
import type { Backend } from '../../../src/core/journal/index.js'
import type { FleetApp, MigrationPort, PortApp, PortInstance } from '../../../src/core/migration/index.js'
import type { FlagEvent } from '../../../src/core/migration/port.js'

export interface FakeAppSpec {
  guid?: string
  name: string
  org?: string
  space?: string
  state?: 'STARTED' | 'STOPPED'
  instances?: number
  memoryMb?: number
  diego?: boolean
  bootMs?: number
  /** Instances on this backend crash instead of running. */
  unhealthyOn?: Backend
  /** Not staged: nothing of it runs, and /instances answers the staging error. */
  unstaged?: Unstaged
  /** Has no route: nothing to probe (probes answer true, as FoundationPort's do). */
  noRoute?: boolean
}

export interface FakeFoundationOptions {
  bootMs?: number
  /** How long after a flip the old backend's instances go away. */
  drainMs?: number
  /** Every call takes this long (simulated). */
  latencyMs?: number
  seed?: number
  /** Fraction of setDiego calls answered 503 without any change. */
  setDiegoFailureRate?: number
  /** Fraction of setDiego calls that make the change but whose answer is lost (504). */
  lostAnswerRate?: number
  /** Fraction of getApp and instances calls answered 503. */
  readFailureRate?: number
  /** A PUT is held this long before the CC acts on it (a slow CC, a proxy holding it). */
  putHoldMs?: number
}

type InstanceState = 'STARTING' | 'RUNNING' | 'CRASHED'

interface SimApp extends Required<Omit<FakeAppSpec, 'bootMs' | 'unhealthyOn' | 'unstaged' | 'noRoute'>> {
  noRoute: boolean
  bootMs: number | undefined
  unhealthyOn: Backend | undefined
  unstaged: Unstaged | undefined
  sides: Record<Backend, Map<number, InstanceState>>
}

export interface Flip {
  at: number
  guid: string
  name: string
  diego: boolean
}

/** An error shaped like the CC client's CfNetworkError: no answer came. */
export class FakeNetworkError extends Error {
  readonly reason: string

  constructor(reason: string) {
    super(`PUT/GET failed after 1 attempt: ${reason}`)
    this.name = 'CfNetworkError'
    this.reason = reason
  }
}

/** An error shaped like the CC client's CfApiError. */
export class FakeCfError extends Error {
  readonly status: number
  readonly code: number
  readonly errorCode: string
  readonly description: string

  constructor(status: number, code: number, errorCode: string, description: string) {
    super(`${errorCode} (code ${code}): ${description}`)
    this.name = 'FakeCfError'
    this.status = status
    this.code = code
    this.errorCode = errorCode
    this.description = description
  }
}

function stagingAnswer(unstaged: Unstaged) {
  const known = STAGING_ERRORS[unstaged.errorCode] ?? STAGING_ERRORS['CF-StagingError']!
  return { status: known.status, code: known.code, errorCode: unstaged.errorCode, description: known.message }
}

export class FakeFoundation {
  readonly clock: FakeClock
  /** Every change of a flag, in order (calls that set the value it already had are not flips). */
  readonly flips: Flip[] = []
  readonly calls = { getApp: 0, setDiego: 0, instances: 0, probe: 0 }
  /** Every setDiego the CC carried out, including those that set the value the flag already had. */
  readonly puts: Flip[] = []
  /** Apps whose setDiego always fails, with the status to answer. */
  readonly refuseFlag = new Map<string, number>()
  /** Windows in which the app's route does not answer whatever runs. */
  readonly routeDown = new Map<string, Array<{ from: number; to: number }>>()
  /**
   * Windows in which the whole foundation is down: every call is refused (no answer), probes fail, and a
   * held PUT whose hold ends inside one is lost, half the time after the CC acted on it.
   */
  readonly outages: Array<{ from: number; to: number }> = []
  /** While set, no probe reaches any app (the router moved, or the way to it is down). */
  probePathDown = false
  /** What refreshProbePath answers (the router /v2/info names), and whether reading it heals the path. */
  routerFromInfo: { url: string; heals: boolean } | undefined
  /** The CC's audit trail of flag changes (every PUT that set `diego`, as audit.app.update records it). */
  readonly flagEvents: FlagEvent[] = []
  private readonly apps = new Map<string, SimApp>()
  private readonly options: Required<FakeFoundationOptions>
  private random: () => number
  private nextPid = 1000
  private readonly livePids = new Set<number>()

  constructor(clock: FakeClock, options: FakeFoundationOptions = {}) {
    this.clock = clock
    this.options = {
      bootMs: 10_000,
      drainMs: 30_000,
      latencyMs: 0,
      seed: 1,
      setDiegoFailureRate: 0,
      lostAnswerRate: 0,
      readFailureRate: 0,
      putHoldMs: 0,
      ...options,
    }
    this.random = mulberry32(this.options.seed)
  }

  add(...specs: FakeAppSpec[]): this {
    for (const spec of specs) {
      const app: SimApp = {
        guid: spec.guid ?? `guid-${spec.name}`,
        name: spec.name,
        org: spec.org ?? 'org',
        space: spec.space ?? 'space',
        state: spec.state ?? 'STARTED',
        instances: spec.instances ?? 1,
        memoryMb: spec.memoryMb ?? 256,
        diego: spec.diego ?? false,
        bootMs: spec.bootMs,
        unhealthyOn: spec.unhealthyOn,
        unstaged: spec.unstaged,
        noRoute: spec.noRoute ?? false,
        sides: { dea: new Map(), diego: new Map() },
      }
      if (this.apps.has(app.guid)) throw new Error(`duplicate app ${app.guid}`)
      this.apps.set(app.guid, app)
      if (app.state === 'STARTED' && !app.unstaged) {
        const side = app.sides[backendOf(app.diego)]
        for (let i = 0; i < app.instances; i++)
          side.set(i, app.unhealthyOn === backendOf(app.diego) ? 'CRASHED' : 'RUNNING')
      }
    }
    return this
  }

  /** `count` started apps named app-000.., on the DEA. */
  addFleet(count: number, spec: Partial<FakeAppSpec> = {}): this {
    for (let i = 0; i < count; i++) {
      this.add({ instances: 1 + (i % 3), memoryMb: 128 * (1 + (i % 4)), ...spec, name: `app-${pad(i)}` })
    }
    return this
  }

  fleet(): FleetApp[] {
    return [...this.apps.values()].map(({ guid, name, org, space, state, instances, memoryMb, diego, unstaged }) => ({
      guid,
      name,
      org,
      space,
      state,
      instances,
      memoryMb,
      diego,
      ...(unstaged ? { unstaged } : {}),
    }))
  }

  app(guid: string): SimApp {
    const app = this.apps.get(guid)
    if (!app) throw new Error(`no app ${guid}`)
    return app
  }

  /** Whether every desired instance runs on the backend the flag points at. */
  healthy(guid: string): boolean {
    const app = this.app(guid)
    if (app.state !== 'STARTED') return true
    const side = app.sides[backendOf(app.diego)]
    for (let i = 0; i < app.instances; i++) if (side.get(i) !== 'RUNNING') return false
    return true
  }

  flipsOf(guid: string): Flip[] {
    return this.flips.filter((f) => f.guid === guid)
  }

  putsOf(guid: string): Flip[] {
    return this.puts.filter((f) => f.guid === guid)
  }

  /** Heals an app: from now on it runs on either backend. */
  heal(guid: string): void {
    this.app(guid).unhealthyOn = undefined
  }

  /** A port as one user sees the foundation: the flips it makes are recorded as `actor`'s. */
  port(actor = 'admin'): MigrationPort {
    return {
      getApp: (guid) => this.getApp(guid),
      setDiego: (guid, diego) => this.setDiego(guid, diego, actor),
      flagEvents: async (since) => {
        this.refuseWhenDown()
        return this.flagEvents.filter((e) => e.at >= since.getTime())
      },
      instances: (guid) => this.instances(guid),
      probe: (guid) => this.probe(guid),
      hasRoute: async (guid) => !this.app(guid).noRoute,
      capacity: async () => undefined,
      refreshProbePath: async () => {
        this.refuseWhenDown()
        if (!this.routerFromInfo) return undefined
        if (this.routerFromInfo.heals) this.probePathDown = false
        return this.routerFromInfo.url
      },
    }
  }

  /** A runner's process: its own pid, a port and a clock that both go silent when it is killed. */
  process(): FakeProcess {
    const pid = this.nextPid++
    this.livePids.add(pid)
    return new FakeProcess(pid, this.port(), this.clock, () => this.livePids.delete(pid))
  }

  isAlive(pid: number): boolean {
    return this.livePids.has(pid)
  }

  // ---- the CC and the backends ----

  /** Whether the foundation is down at this moment (see outages). */
  down(at = this.clock.now()): boolean {
    return this.outages.some((w) => at >= w.from && at < w.to)
  }

  /** Takes the foundation down for `ms` from `at` (default now). */
  outage(ms: number, at = this.clock.now()): this {
    this.outages.push({ from: at, to: at + ms })
    return this
  }

  private refuseWhenDown(): void {
    if (this.down()) throw new FakeNetworkError('ECONNREFUSED')
  }

  private async getApp(guid: string): Promise<PortApp> {
    await this.latency()
    this.calls.getApp++
    this.refuseWhenDown()
    if (this.random() < this.options.readFailureRate) throw unavailable()
    const { name, diego, state, instances, unstaged } = this.app(guid)
    return { guid, name, diego, state, instances, ...(unstaged ? { unstaged } : {}) }
  }

  /** Someone other than the migration sets the flag (a developer's cf enable-diego, another cfctl). */
  flipAs(actor: string, guid: string, diego: boolean): void {
    const app = this.app(guid)
    this.puts.push({ at: this.clock.now(), guid, name: app.name, diego })
    this.recordFlagEvent(guid, diego, actor)
    this.applyFlag(app, diego)
  }

  private recordFlagEvent(guid: string, diego: boolean, actor: string): void {
    this.flagEvents.push({
      id: `event-${this.flagEvents.length + 1}`,
      appGuid: guid,
      diego,
      at: this.clock.now(),
      actor,
    })
  }

  private async setDiego(guid: string, diego: boolean, actor = 'admin'): Promise<void> {
    await this.latency()
    this.calls.setDiego++
    this.refuseWhenDown()
    const app = this.app(guid)
    if (this.options.putHoldMs > 0) {
      await this.clock.sleep(this.options.putHoldMs)
      if (this.down()) {
        // The connection went with the CC: the PUT may or may not have been carried out.
        if (this.random() < 0.5) {
          this.puts.push({ at: this.clock.now(), guid, name: app.name, diego })
          this.recordFlagEvent(guid, diego, actor)
          this.applyFlag(app, diego)
        }
        throw new FakeNetworkError('ECONNRESET')
      }
    }
    const refused = this.refuseFlag.get(guid)
    if (refused === 403) {
      throw new FakeCfError(
        403,
        320005,
        'CF-BackendSelectionNotAuthorized',
        'You cannot select the backend on which to run this application',
      )
    }
    if (refused !== undefined) throw new FakeCfError(refused, 10015, 'CF-ServiceUnavailable', 'refused by the test')
    if (this.random() < this.options.setDiegoFailureRate) throw unavailable()
    this.puts.push({ at: this.clock.now(), guid, name: app.name, diego })
    this.recordFlagEvent(guid, diego, actor)
    this.applyFlag(app, diego)
    if (this.random() < this.options.lostAnswerRate) throw new FakeCfError(504, 0, 'UnknownError', 'gateway timeout')
  }

  private async instances(guid: string): Promise<PortInstance[]> {
    await this.latency()
    this.calls.instances++
    this.refuseWhenDown()
    if (this.random() < this.options.readFailureRate) throw unavailable()
    const app = this.app(guid)
    // As a real CC: the staging error comes before the stopped check.
    if (app.unstaged) throw new AppNotStagedError(stagingAnswer(app.unstaged), app.unstaged)
    if (app.state !== 'STARTED') {
      throw new FakeCfError(400, 220001, 'CF-InstancesError', 'Instances error: app is stopped')
    }
    const side = app.sides[backendOf(app.diego)]
    const list: PortInstance[] = []
    for (let index = 0; index < app.instances; index++) list.push({ index, state: side.get(index) ?? 'DOWN' })
    return list
  }

  private async probe(guid: string): Promise<boolean> {
    await this.latency()
    this.calls.probe++
    if (this.down() || this.probePathDown) return false
    const app = this.app(guid)
    if (app.noRoute) return true
    if (app.state !== 'STARTED') return false
    const now = this.clock.now()
    if (this.routeDown.get(guid)?.some((w) => now >= w.from && now < w.to)) return false
    const running = (side: Map<number, InstanceState>) => [...side.values()].some((s) => s === 'RUNNING')
    return running(app.sides.dea) || running(app.sides.diego)
  }

  private applyFlag(app: SimApp, diego: boolean): void {
    if (app.diego === diego) return
    app.diego = diego
    this.flips.push({ at: this.clock.now(), guid: app.guid, name: app.name, diego })
    if (app.state !== 'STARTED' || app.unstaged) return
    const to = backendOf(diego)
    const from = backendOf(!diego)
    const side = app.sides[to]
    for (let index = 0; index < app.instances; index++) {
      if (side.has(index)) continue
      side.set(index, 'STARTING')
      this.clock.after(app.bootMs ?? this.options.bootMs, () => {
        if (app.diego !== diego || side.get(index) !== 'STARTING') return
        side.set(index, app.unhealthyOn === to ? 'CRASHED' : 'RUNNING')
      })
    }
    this.clock.after(this.options.drainMs, () => {
      if (app.diego === (from === 'diego')) return
      app.sides[from].clear()
    })
  }

  private async latency(): Promise<void> {
    if (this.options.latencyMs > 0) await this.clock.sleep(this.options.latencyMs)
  }
}

/**
 * A runner's process. kill() stops it dead: every call of its port and every timer or sleep of its clock
 * never completes, so the runner does nothing more, as after a SIGKILL. crashAtCall(n) kills it at its
 * n-th port call, either before the foundation sees the call or after the foundation acted on it.
 */
export class FakeProcess {
  readonly pid: number
  readonly port: MigrationPort
  readonly clock: Clock
  calls = 0
  /** The port methods called, in order. */
  readonly log: Array<keyof MigrationPort> = []
  killed = false
  private crashAt: { call: number; when: 'before' | 'after' } | undefined
  private readonly onKill: () => void

  constructor(pid: number, port: MigrationPort, clock: FakeClock, onKill: () => void) {
    this.pid = pid
    this.onKill = onKill
    this.clock = new KillableClock(clock, () => this.killed)
    this.port = {
      getApp: (guid) => this.call('getApp', () => port.getApp(guid)),
      setDiego: (guid, diego) => this.call('setDiego', () => port.setDiego(guid, diego)),
      instances: (guid) => this.call('instances', () => port.instances(guid)),
      probe: (guid) => this.call('probe', () => port.probe(guid)),
    }
  }

  crashAtCall(call: number, when: 'before' | 'after'): void {
    this.crashAt = { call, when }
  }

  kill(): void {
    if (this.killed) return
    this.killed = true
    this.onKill()
  }

  private async call<T>(name: keyof MigrationPort, fn: () => Promise<T>): Promise<T> {
    if (this.killed) return never()
    this.calls++
    this.log.push(name)
    if (this.crashAt?.call === this.calls && this.crashAt.when === 'before') {
      this.kill()
      return never()
    }
    const result = fn()
    if (this.crashAt?.call === this.calls && this.crashAt.when === 'after') {
      await result.catch(() => undefined)
      this.kill()
      return never()
    }
    const value = await result
    if (this.killed) return never()
    return value
  }
}

class KillableClock implements Clock {
  private readonly base: FakeClock
  private readonly dead: () => boolean

  constructor(base: FakeClock, dead: () => boolean) {
    this.base = base
    this.dead = dead
  }

  now(): number {
    return this.base.now()
  }

  after(ms: number, fn: () => void): Timer {
    return this.base.after(ms, () => {
      if (!this.dead()) fn()
    })
  }

  every(ms: number, fn: () => void): Timer {
    const timer = this.base.every(ms, () => {
      if (this.dead()) timer.cancel()
      else fn()
    })
    return timer
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.base.after(ms, () => {
        if (!this.dead()) resolve()
      })
    })
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => {})
}

function unavailable(): FakeCfError {
  return new FakeCfError(503, 10015, 'CF-ServiceUnavailable', 'Service Unavailable')
}

function backendOf(diego: boolean): Backend {
  return diego ? 'diego' : 'dea'
}

function pad(n: number): string {
  return String(n).padStart(4, '0')
}

// The engine's seeded PRNG, so that a failing run repeats with the seed it prints.
import { mulberry32 } from '../../../src/scheduler/random.js'

export { mulberry32 }

/**
 * Advances the fake clock until the promise settles, and returns (or throws) what it settled with. Between
 * steps it lets every pending promise callback run (the FakeClock itself flushes only a few turns between
 * timers), so a chain of awaits never lags the clock by more than one step.
 */
export async function settle<T>(
  clock: FakeClock,
  promise: Promise<T>,
  { step = 100, limit = 6 * 3_600_000 } = {},
): Promise<T> {
  let settled = false
  let failed = false
  let value: T | undefined
  let error: unknown
  promise.then(
    (v) => {
      settled = true
      value = v
    },
    (e) => {
      settled = true
      failed = true
      error = e
    },
  )
  await drainCallbacks()
  const start = clock.now()
  while (!settled) {
    if (clock.now() - start >= limit) throw new Error(`not settled within ${limit} ms of simulated time`)
    await clock.advance(step)
    await drainCallbacks()
  }
  if (failed) throw error
  return value as T
}

/** Advances the clock by ms in steps, letting promise callbacks run fully after each. */
export async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  const end = clock.now() + ms
  await drainCallbacks()
  while (clock.now() < end) {
    await clock.advance(Math.min(step, end - clock.now()))
    await drainCallbacks()
  }
}

/** Advances until the condition holds, letting promise callbacks run fully after each step. */
export async function advanceUntil(
  clock: FakeClock,
  done: () => boolean,
  { step = 100, limit = 6 * 3_600_000 } = {},
): Promise<void> {
  const start = clock.now()
  await drainCallbacks()
  while (!done()) {
    if (clock.now() - start >= limit) throw new Error(`condition not reached within ${limit} ms of simulated time`)
    await clock.advance(step)
    await drainCallbacks()
  }
}

function drainCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
