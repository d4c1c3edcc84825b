// The embedded foundation, assembled: a store, the Cloud Controller (API and UAA) over it, a Diego
// engine and a DEA pool sized to hold what the store starts, a route table both backends fill, and
// the router reading it. `cfctl server`, `--embedded` and the integration tests all start this.
//
// The CC keeps real time (tokens expire as a real UAA's do); the backends run on their own clock,
// `speed` times faster than the base one, so boots and convergence intervals shrink for demos and tests.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { BackendName } from './backend.js'
import {
  appSpecOf,
  type CloudController,
  type Credentials,
  createCloudController,
  DEFAULT_USERS,
  isSeedSize,
  openStore,
  ROLE_USERS,
  SeedError,
  type SeedSize,
  type StartedDemand,
  type Store,
  StoreError,
  seedPasswords,
  startedDemand,
} from './cc/index.js'
import { type Clock, RealClock, ScaledClock } from './clock.js'
import { DeaPool } from './dea/dea.js'
import type { DeaSpec } from './dea/pool.js'
import type { CellSpec } from './diego/bbs.js'
import { Diego } from './diego/diego.js'
import { boundedServer, type HttpLimits } from './http-limits.js'
import { Router } from './router.js'
import { RouteTable } from './routes.js'
import { takeSeedSecrets } from './secrets-ahead.js'

export interface FoundationOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string
  /** API port; 0 (the default) picks a free one. */
  port?: number
  routerPort?: number
  /** SQLite file that survives restarts; in memory when absent. */
  dataFile?: string
  /** What an empty store is filled with: a built-in size, a seed file's path, or false for nothing. */
  seed?: SeedSize | string | false
  usersCanSelectBackend?: boolean
  defaultToDiegoBackend?: boolean
  /** The backends run this many times faster than the base clock (default 1). */
  speed?: number
  users?: { admin?: Credentials; developer?: Credentials }
  /** The CC's clock (default: real time). */
  clock?: Clock
  /** The backends' clock (default: the CC's clock scaled by `speed`). */
  engineClock?: Clock
  /** Explicit fleets instead of ones sized from the seed. */
  cells?: CellSpec[]
  deas?: DeaSpec[]
  /** Where the CC reports unexpected errors (default stderr). */
  log?: (line: string) => void
  /** Request time, header and body limits of the API and the router (default DEFAULT_HTTP_LIMITS). */
  httpLimits?: Partial<HttpLimits>
}

/**
 * An option the foundation cannot start with (a seed file it cannot load, a data file it cannot open,
 * a port already taken), naming the option, so `cfctl server` can name the flag.
 */
export class FoundationOptionError extends Error {
  constructor(
    readonly option: 'host' | 'port' | 'routerPort' | 'dataFile' | 'seed' | 'speed' | 'users',
    message: string,
  ) {
    super(message)
    this.name = 'FoundationOptionError'
  }
}

export const ZONES = ['z1', 'z2', 'z3'] as const

// Node sizes of the kind a 2016 foundation ran: DEAs and cells of 32 GiB with room for 250 containers.
const NODE_MEMORY_MB = 32 * 1024
const NODE_DISK_MB = 64 * 1024
const NODE_CONTAINERS = 250
const HEADROOM = 1.5
const MIN_NODES = 3

/**
 * How many nodes of one size hold `demand` with headroom (at least one per zone, and enough that
 * losing a zone's worth still leaves the rest able to run everything), spread across the zones.
 */
export function fleetFor(
  demand: StartedDemand,
  prefix: string,
): Array<{ id: string; zone: string; memoryMb: number; diskMb: number }> {
  const memoryMb = Math.max(NODE_MEMORY_MB, demand.largestInstance.memoryMb * 2)
  const diskMb = Math.max(NODE_DISK_MB, demand.largestInstance.diskMb * 2)
  const needed = Math.max(
    MIN_NODES,
    Math.ceil((demand.memoryMb * HEADROOM) / memoryMb),
    Math.ceil((demand.diskMb * HEADROOM) / diskMb),
    Math.ceil((demand.instances * HEADROOM) / NODE_CONTAINERS),
  )
  const count = Math.ceil(needed / ZONES.length) * ZONES.length
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i + 1).padStart(String(count).length, '0')}`,
    zone: ZONES[i % ZONES.length]!,
    memoryMb,
    diskMb,
  }))
}

/** No engine loop runs more often than this in real time, however high `--speed` is. */
export const MIN_LOOP_REAL_MS = 20

/**
 * The engines' loop intervals (engine time) at a speed. At speed 1 to a few hundred they are Diego's and the
 * DEA's own; above that they are stretched so no loop fires more often than MIN_LOOP_REAL_MS of real time
 * (at --speed 10000 a 100 ms auction batch would be 10 us and a 10 s heartbeat 1 ms: the engines would spin
 * and starve the API). The DEA's heartbeat, advertisement and health-manager intervals stretch together,
 * so their ratios (and the missed-heartbeat expiry built on them) stay as the DEA has them. Boot times are
 * not stretched: instances still start `speed` times faster.
 */
export function loopIntervals(speed: number) {
  const floor = MIN_LOOP_REAL_MS * speed
  const dea = Math.max(1, floor / 5_000)
  return {
    auctionIntervalMs: Math.max(100, floor),
    convergeIntervalMs: Math.max(30_000, floor),
    hmIntervalMs: 10_000 * dea,
    desiredFetchIntervalMs: 60_000 * dea,
    heartbeatIntervalMs: 10_000 * dea,
    advertiseIntervalMs: 5_000 * dea,
    advertisementTtlMs: 10_000 * dea,
  }
}

export class Foundation {
  readonly cc: CloudController
  readonly store: Store
  readonly diego: Diego
  readonly dea: DeaPool
  readonly routes: RouteTable
  readonly router: Router
  readonly speed: number
  readonly users: { admin: Credentials; developer: Credentials }
  private readonly api: Server
  private readonly dataFile: string | undefined
  // Kept from when the listeners were up, so the URLs still read (say, in a log line) after stop().
  private readonly apiUrlValue: string
  private readonly routerUrlValue: string
  private stopped = false

  private constructor(parts: {
    cc: CloudController
    diego: Diego
    dea: DeaPool
    routes: RouteTable
    router: Router
    api: Server
    speed: number
    users: { admin: Credentials; developer: Credentials }
    dataFile: string | undefined
  }) {
    this.cc = parts.cc
    this.store = parts.cc.store
    this.diego = parts.diego
    this.dea = parts.dea
    this.routes = parts.routes
    this.router = parts.router
    this.api = parts.api
    this.speed = parts.speed
    this.users = parts.users
    this.dataFile = parts.dataFile
    this.apiUrlValue = urlOf(parts.api)
    this.routerUrlValue = parts.router.url
  }

  static async start(options: FoundationOptions = {}): Promise<Foundation> {
    const host = options.host ?? '127.0.0.1'
    const speed = options.speed ?? 1
    if (!(Number.isFinite(speed) && speed > 0))
      throw new FoundationOptionError('speed', `speed must be a number above 0, got ${speed}`)
    const seedSource = options.seed ?? 'small'
    if (seedSource !== false && !isSeedSize(seedSource) && seedSource.trim() === '')
      throw new FoundationOptionError('seed', 'seed must be small, medium, large or the path of a seed file')
    const clock = options.clock ?? new RealClock()
    const engineClock = options.engineClock ?? (speed === 1 ? clock : new ScaledClock(speed, clock))

    const store = openData(options.dataFile)
    let api: Server | undefined
    let router: Router | undefined
    let backends: Array<{ shutdown(): void }> = []
    try {
      const cc = createCloudController({
        store,
        clock,
        config: {
          usersCanSelectBackend: options.usersCanSelectBackend ?? true,
          defaultToDiegoBackend: options.defaultToDiegoBackend ?? false,
          log: options.log,
        },
      })
      if (seedSource !== false) {
        if (store.isEmpty()) {
          const passwords = seedPasswords(options.users)
          store.prepareSecrets(takeSeedSecrets(passwords) ?? passwords)
        }
        try {
          seedStore(cc, seedSource, options.users)
        } finally {
          store.forgetPreparedSecrets()
        }
      }
      const users = {
        admin: options.users?.admin ?? { username: 'admin', password: 'admin' },
        developer: options.users?.developer ?? { username: 'developer', password: 'developer' },
      }

      // Either backend must be able to hold every started app: all of them move to Diego in a
      // migration, and all of them may come back to the DEAs in a rollback.
      const demand = startedDemand(store)
      const routes = new RouteTable()
      const loops = loopIntervals(speed)
      const diego = new Diego({
        clock: engineClock,
        source: cc.source,
        routes,
        convergeIntervalMs: loops.convergeIntervalMs,
        onAppCrash: (crash) => cc.recordAppCrash(crash),
        auctionIntervalMs: loops.auctionIntervalMs,
        cells: options.cells ?? fleetFor(demand, 'cell').map((node) => ({ ...node, containers: NODE_CONTAINERS })),
      })
      const dea = new DeaPool({
        clock: engineClock,
        source: cc.source,
        routes,
        hmIntervalMs: loops.hmIntervalMs,
        desiredFetchIntervalMs: loops.desiredFetchIntervalMs,
        onAppCrash: (crash) => cc.recordAppCrash(crash),
        heartbeatIntervalMs: loops.heartbeatIntervalMs,
        advertiseIntervalMs: loops.advertiseIntervalMs,
        advertisementTtlMs: loops.advertisementTtlMs,
        deas: options.deas ?? fleetFor(demand, 'dea'),
      })
      backends = [diego, dea]
      cc.attachBackends({ diego, dea })
      // What the store says is started runs from the first moment, as it would have on a foundation
      // that was up all along; the backends' own loops keep it so from here on.
      const byName: Record<BackendName, Diego | DeaPool> = { diego, dea }
      for (const app of store.apps()) {
        if (app.state === 'STARTED' && app.packageState === 'STAGED')
          byName[app.diego ? 'diego' : 'dea'].desire(appSpecOf(app))
      }
      // The DEA side placed each instance as it was desired; Diego's starts are placed here, in auction
      // batches, rather than by the first timed batch after the API is up: when the API answers, every
      // seeded instance has its place.
      if (diego.queuedAuctions > 0) diego.auctionNow()
      diego.start()
      dea.start()

      router = new Router({
        routes,
        isKnownRoute: (hostname) => cc.isKnownRoute(hostname),
        httpLimits: options.httpLimits,
      })
      await bound('routerPort', host, options.routerPort ?? 0, () => router!.listen(options.routerPort ?? 0, host))
      cc.setRouterUrl(router.url)
      api = boundedServer(cc.handle, options.httpLimits)
      await bound('port', host, options.port ?? 0, () => listen(api!, options.port ?? 0, host))
      return new Foundation({ cc, diego, dea, routes, router, api, speed, users, dataFile: options.dataFile })
    } catch (error) {
      for (const backend of backends) backend.shutdown()
      await router?.close().catch(() => {})
      if (api?.listening) await closeServer(api)
      store.close()
      throw error
    }
  }

  /** `http://127.0.0.1:PORT`: the CC API (and its token endpoint). */
  get apiUrl(): string {
    return this.apiUrlValue
  }

  get routerUrl(): string {
    return this.routerUrlValue
  }

  /** What `cfctl server` prints: where to point cfctl, curl or the cf CLI, and how to log in. */
  describe(): string {
    const apps = this.store.apps()
    const onDiego = apps.filter((app) => app.diego).length
    const diego = this.diego.capacity()
    const dea = this.dea.capacity()
    const example = apps.find((app) => app.state === 'STARTED' && app.routes.length > 0)?.routes[0]?.hostname
    return [
      `API:      ${this.apiUrl}`,
      `Router:   ${this.routerUrl}  (send an app's route as the Host header${example ? `, e.g. ${example}` : ''})`,
      `Token:    ${this.apiUrl}/oauth/token  (client "cf", empty secret)`,
      `Logins:   ${shownLogin(this.users.admin, DEFAULT_USERS.admin)} (cloud_controller.admin), ${shownLogin(this.users.developer, DEFAULT_USERS.developer)} (space developer)`,
      ...this.roleLogins(),
      `Apps:     ${apps.length} (${apps.length - onDiego} on DEA, ${onDiego} on Diego)`,
      `Backends: ${dea.nodes} DEAs, ${diego.nodes} Diego cells${this.speed === 1 ? '' : `, running ${this.speed}x real time`}`,
      `Data:     ${this.dataFile ?? 'in memory (use --data FILE to keep it)'}`,
      '',
      `Try:      curl -s -d grant_type=password -d username=${this.users.admin.username} -d password=${shownPassword(this.users.admin, DEFAULT_USERS.admin, 'PASSWORD')} -u cf: ${this.apiUrl}/oauth/token`,
    ].join('\n')
  }

  /** The seeded demo logins of the other roles that this store holds (none in an older data file). */
  private roleLogins(): string[] {
    const taken = new Set([this.users.admin.username, this.users.developer.username])
    const shown = ROLE_USERS.filter((u) => !taken.has(u.username) && this.store.userNamed(u.username))
    if (shown.length === 0) return []
    const names = shown.map((u) => `${u.username} (${u.describe})`).join(', ')
    return [`Roles:    ${names}; each user's password is its name; in the first org and its first space`]
  }

  /** Stops listening, then the backends, then closes the store. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all([closeServer(this.api), this.router.close()])
    this.diego.shutdown()
    this.dea.shutdown()
    this.store.close()
  }
}

/**
 * A password is shown only when it is the built-in demo login the README documents; one the operator
 * chose (--admin-user USER:PASSWORD) stays off the screen, out of scrollback and CI logs.
 */
function shownPassword(login: Credentials, demo: Credentials, placeholder: string): string {
  return login.username === demo.username && login.password === demo.password ? login.password : placeholder
}

function shownLogin(login: Credentials, demo: Credentials): string {
  return `${login.username}/${shownPassword(login, demo, '(the password given)')}`
}

function openData(dataFile: string | undefined): Store {
  if (!dataFile) return openStore()
  try {
    return openStore({ path: dataFile })
  } catch (error) {
    throw new FoundationOptionError(
      'dataFile',
      `cannot open ${dataFile} as a SQLite database (${(error as Error).message})`,
    )
  }
}

function seedStore(cc: CloudController, source: SeedSize | string, users: FoundationOptions['users']): void {
  try {
    cc.seed(source, { users })
  } catch (error) {
    if (error instanceof SeedError) throw new FoundationOptionError('seed', error.message)
    if (error instanceof StoreError) throw new FoundationOptionError('users', error.message)
    throw error
  }
}

/** Runs a listen, turning the errors of a taken port or a foreign address into option errors. */
async function bound(
  option: 'port' | 'routerPort',
  host: string,
  port: number,
  listenOn: () => Promise<unknown>,
): Promise<void> {
  try {
    await listenOn()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new FoundationOptionError(option, `${host}:${port} is already in use`)
    if (code === 'EACCES') throw new FoundationOptionError(option, `no permission to listen on ${host}:${port}`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new FoundationOptionError('host', `${host} is not an address of this machine`)
    throw error
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

function urlOf(server: Server): string {
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
