// Builders for the DEA tests: apps, DEAs, and a stand-in for the Cloud Controller's desired state
// (the edge the pool reads from), wired to a pool on a FakeClock.
import type { AppSpec, BackendName, DesiredStateSource } from '../../../src/scheduler/backend.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { DeaPool, type DeaPoolOptions, type DeaSpec } from '../../../src/scheduler/dea/index.js'
import { RouteTable } from '../../../src/scheduler/routes.js'

export function anApp(overrides: Partial<AppSpec> & { appGuid: string }): AppSpec {
  return {
    name: overrides.appGuid,
    version: 'v1',
    instances: 1,
    memoryMb: 256,
    diskMb: 1024,
    stack: 'cflinuxfs2',
    routes: [`${overrides.appGuid}.apps.internal`],
    ...overrides,
  }
}

export function aDea(id: string, overrides: Partial<DeaSpec> = {}): DeaSpec {
  return { id, zone: 'z1', memoryMb: 8192, diskMb: 32_768, ...overrides }
}

/**
 * The CC's side as the DEA backend sees it: which started apps should run on the DEAs. Starting an app
 * records it and sends the start message; flipping or stopping only changes what the CC lists (a stop
 * also sends the stop message), exactly as the CC's bridge does.
 */
export class CloudControllerDouble implements DesiredStateSource {
  readonly apps = new Map<string, AppSpec>()
  pool: DeaPool | undefined

  desiredApps(backend: BackendName): Iterable<AppSpec> {
    return backend === 'dea' ? [...this.apps.values()] : []
  }

  /** What the CC's hm9000 respondent answers: the app as the CC runs it on the DEAs right now. */
  desiredApp(backend: BackendName, appGuid: string): AppSpec | undefined {
    return backend === 'dea' ? this.apps.get(appGuid) : undefined
  }

  start(spec: AppSpec): AppSpec {
    this.apps.set(spec.appGuid, spec)
    this.pool?.desire(spec)
    return spec
  }

  scale(appGuid: string, instances: number): AppSpec {
    return this.start({ ...this.app(appGuid), instances })
  }

  restart(appGuid: string, version: string): AppSpec {
    return this.start({ ...this.app(appGuid), version })
  }

  /** `diego: true`: the CC starts the app on Diego and stops listing it for the DEAs; no message here. */
  flipToDiego(appGuid: string): void {
    this.app(appGuid)
    this.apps.delete(appGuid)
  }

  stop(appGuid: string): void {
    this.apps.delete(appGuid)
    this.pool?.stop(appGuid)
  }

  app(appGuid: string): AppSpec {
    const spec = this.apps.get(appGuid)
    if (!spec) throw new Error(`test CC has no app ${appGuid}`)
    return spec
  }
}

export interface Foundation {
  clock: FakeClock
  cc: CloudControllerDouble
  routes: RouteTable
  pool: DeaPool
}

/** A started pool on a fake clock; a health-manager pass that throws fails the test. */
export function aFoundation(options: Partial<Omit<DeaPoolOptions, 'clock' | 'source' | 'routes'>> = {}): Foundation {
  const clock = new FakeClock()
  const cc = new CloudControllerDouble()
  const routes = new RouteTable()
  const pool = new DeaPool({
    clock,
    source: cc,
    routes,
    deas: [aDea('dea-1', { zone: 'z1' }), aDea('dea-2', { zone: 'z2' }), aDea('dea-3', { zone: 'z1' })],
    onHealthError: (error) => {
      throw error
    },
    ...options,
  })
  cc.pool = pool
  pool.start()
  return { clock, cc, routes, pool }
}

/** Indexes of an app RUNNING on DEAs that take work, sorted. */
export function runningIndexes(pool: DeaPool, appGuid: string): number[] {
  const up = new Set(
    pool
      .deas()
      .filter((d) => d.alive && !d.evacuating)
      .map((d) => d.id),
  )
  return pool
    .instancesOnDeas(appGuid)
    .filter((i) => i.state === 'RUNNING' && up.has(i.deaId))
    .map((i) => i.index)
    .sort((a, b) => a - b)
}
