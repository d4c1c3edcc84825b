// The embedded Cloud Controller as one object: a request handler (CC API v2 and UAA's token endpoint)
// over a store, the desired-state source the backends read, and the hook that connects the backends.
// The backends take `source` in their constructors and the CC takes the backends afterwards:
//
//   const cc = createCloudController({ store, clock, config: { usersCanSelectBackend: false } })
//   const diego = new Diego({ clock, source: cc.source, ... })
//   const dea = new DeaPool({ clock, source: cc.source, ... })
//   cc.attachBackends({ diego, dea })
//   createServer(cc.handle).listen(port)
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AppCrash, BackendName, DesiredStateSource, RuntimeBackend } from '../backend.js'
import type { Clock } from '../clock.js'
import { Access } from './access.js'
import { createApiHandler } from './api.js'
import { type AppLimits, DEFAULT_APP_LIMITS } from './app-limits.js'
import { BackendBridge } from './bridge.js'
import { EventLog } from './events.js'
import { DEFAULT_INFO, type InfoConfig } from './resources.js'
import { type SeedOptions, type SeedResult, type SeedSize, seed } from './seed.js'
import { DEFAULT_STAGING, Stager, type StagingConfig } from './staging.js'
import type { Store } from './store.js'
import { adminClient, CF_CLIENT, type OAuthClient, TokenService } from './uaa.js'

export interface CloudControllerConfig {
  /** The URL clients reach the API at (also the token endpoint's); default: each request's Host. */
  baseUrl?: string
  /**
   * The embedded router's URL, shown in /v2/info as `x_cfctl_router_url` (an extension: a real CC has
   * no such field). Usually set later with setRouterUrl, once the router listens.
   */
  routerUrl?: string
  /** CC's users_can_select_backend (default true): may space developers change `diego`? */
  usersCanSelectBackend?: boolean
  /** CC's default_to_diego_backend (default false): `diego` of apps created without one. */
  defaultToDiegoBackend?: boolean
  /** Access token lifetime in seconds (default 1200, UAA's for the cf client). */
  tokenTtlSec?: number
  /** Refresh token lifetime in seconds (default 30 days). */
  refreshTokenTtlSec?: number
  /** The client_credentials admin client for CI (default cfctl-ci / cfctl-ci); null for none. */
  adminClient?: { id: string; secret: string } | null
  limits?: Partial<AppLimits>
  info?: Partial<InfoConfig>
  /** How long staging runs (backend clock) and when it times out (CC clock). */
  staging?: Partial<StagingConfig>
  /** Where unexpected errors and backend failures are reported (default: stderr). */
  log?: (line: string) => void
}

export interface ResolvedConfig {
  baseUrl: string | undefined
  routerUrl: string | undefined
  usersCanSelectBackend: boolean
  defaultToDiegoBackend: boolean
  tokenTtlSec: number
  refreshTokenTtlSec: number
  adminClient: { id: string; secret: string } | null
  limits: AppLimits
  info: InfoConfig
  staging: StagingConfig
}

export interface CloudController {
  /** The node:http handler: `/v2/...` and `POST /oauth/token`. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void
  /** What each backend's sync loop reads: the STARTED apps whose flag points at it. */
  readonly source: DesiredStateSource
  readonly store: Store
  readonly tokens: TokenService
  /** The audit events (`/v2/events`). */
  readonly events: EventLog
  readonly config: Readonly<ResolvedConfig>
  /** A backend's crash report: written as the app's `app.crash` event (AppEventRepository#create_app_exit_event). */
  recordAppCrash(crash: AppCrash): void
  /** Connects the backends, which were built with `source`. */
  attachBackends(backends: Partial<Record<BackendName, RuntimeBackend>>): void
  /** Tells the CC where the router listens (or undefined: no router), for /v2/info. */
  setRouterUrl(url: string | undefined): void
  /** Whether some app owns this route (`host.domain`), running or not: the router's 404 vs 502. */
  isKnownRoute(hostname: string): boolean
  /** Fills an empty store (built-in size or seed file), with this CC's default_to_diego_backend. */
  seed(source: SeedSize | string, options?: Omit<SeedOptions, 'defaultToDiegoBackend' | 'limits'>): SeedResult
}

export interface CloudControllerOptions {
  store: Store
  clock: Clock
  config?: CloudControllerConfig
}

export const DEFAULT_ADMIN_CLIENT = Object.freeze({ id: 'cfctl-ci', secret: 'cfctl-ci' })

export function createCloudController(options: CloudControllerOptions): CloudController {
  const { store, clock } = options
  const config = resolveConfig(options.config ?? {})
  const log = options.config?.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const clients: OAuthClient[] = [CF_CLIENT]
  if (config.adminClient) clients.push(adminClient(config.adminClient.id, config.adminClient.secret))
  const tokens = new TokenService({
    store,
    clock,
    accessTokenTtlSec: config.tokenTtlSec,
    refreshTokenTtlSec: config.refreshTokenTtlSec,
    clients,
    log,
  })
  const bridge = new BackendBridge(store, log)
  const settings = {
    baseUrl: config.baseUrl,
    routerUrl: config.routerUrl,
    usersCanSelectBackend: config.usersCanSelectBackend,
    limits: config.limits,
    info: config.info,
  }
  const events = new EventLog(store)
  const stager = new Stager(store, bridge, clock, config.staging, log)
  const handle = createApiHandler({
    store,
    clock,
    tokens,
    access: new Access(store),
    bridge,
    events,
    stager,
    settings,
    log,
  })
  return {
    handle,
    source: bridge,
    store,
    tokens,
    events,
    config,
    attachBackends: (backends) => bridge.attach(backends),
    recordAppCrash: (crash) => {
      const app = store.app(crash.appGuid)
      if (!app || !store.database.isOpen) return
      events.recordAppEvent(
        'app.crash',
        app,
        { guid: app.guid, type: 'app', name: app.name },
        {
          instance: crash.instance,
          index: crash.index,
          exit_status: crash.exitStatus,
          exit_description: crash.exitDescription,
          reason: 'CRASHED',
        },
        clock.now(),
      )
    },
    setRouterUrl: (url) => {
      const checked = url === undefined ? undefined : httpUrl(url, 'routerUrl')
      settings.routerUrl = checked
      config.routerUrl = checked
    },
    isKnownRoute: (hostname) => store.appByHostname(hostname) !== undefined,
    seed: (source, seedOptions) =>
      seed(store, source, {
        ...seedOptions,
        defaultToDiegoBackend: config.defaultToDiegoBackend,
        limits: config.limits,
      }),
  }
}

/** `value` without trailing slashes, if it is an absolute http(s) URL; throws naming `field` if not. */
function httpUrl(value: string, field: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${field} must be an absolute http(s) URL, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${field} must be an http or https URL, got "${value}"`)
  }
  return value.replace(/\/+$/, '')
}

function resolveConfig(config: CloudControllerConfig): ResolvedConfig {
  const baseUrl = config.baseUrl === undefined ? undefined : httpUrl(config.baseUrl, 'baseUrl')
  const routerUrl = config.routerUrl === undefined ? undefined : httpUrl(config.routerUrl, 'routerUrl')
  const limits = { ...DEFAULT_APP_LIMITS, ...config.limits }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`limits.${key} must be a positive integer, got ${value}`)
  }
  return {
    baseUrl,
    routerUrl,
    usersCanSelectBackend: config.usersCanSelectBackend ?? true,
    defaultToDiegoBackend: config.defaultToDiegoBackend ?? false,
    tokenTtlSec: config.tokenTtlSec ?? 1200,
    refreshTokenTtlSec: config.refreshTokenTtlSec ?? 2_592_000,
    adminClient: config.adminClient === undefined ? DEFAULT_ADMIN_CLIENT : config.adminClient,
    limits,
    info: { ...DEFAULT_INFO, ...config.info },
    staging: { ...DEFAULT_STAGING, ...config.staging },
  }
}
