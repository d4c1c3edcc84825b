// The CC API v2 surface as a node:http request handler: routing, bearer-token checks, visibility,
// and the endpoints cfctl needs, answering with CC's shapes and CC's errors. Bad input is always a
// CF error; anything unexpected is logged and answered as CC's UnknownError (500), never a crash.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BackendName } from '../backend.js'
import type { Clock } from '../clock.js'
import { refuseTooLarge } from '../http-limits.js'
import type { Access } from './access.js'
import type { AppLimits } from './app-limits.js'
import { needsNewVersion, parseAppUpdate, validateAppUpdate } from './app-update.js'
import { type BackendBridge, backendNameOf } from './bridge.js'
import { CfError, UNKNOWN_ERROR_BODY } from './errors.js'
import { type Actor, auditRequest, type EventLog, eventVisibility, getEventBody, listEventsBody } from './events.js'
import { FeatureFlags, requireAppScaling } from './feature-flags.js'
import { APP_FILTERS } from './filters.js'
import { newGuid } from './guid.js'
import { ListCache } from './list-cache.js'
import { handleLoginInfo } from './login-info.js'
import { updateOrgStatus } from './org-update.js'
import {
  compileFilters,
  envelopeBytes,
  envelopeJson,
  type Filter,
  paginate,
  parseFilters,
  parsePageRequest,
  parseRelationParams,
} from './query.js'
import { ReadApi } from './read-api.js'
import { Renderer, routesOf } from './relations.js'
import {
  appResourceBytes,
  appSummary,
  type BackendCapacityBody,
  backendCapacityBody,
  type InfoConfig,
  infoBody,
  instancesReport,
  runningInstanceCount,
  statsReport,
} from './resources.js'
import { ResponseBuffers } from './response-buffers.js'
import { needsStaging, type Stager } from './staging.js'
import type { AppRecord, Store } from './store.js'
import { BodyTooLargeError, type Principal, readBody, type TokenService } from './uaa.js'

export interface ApiSettings {
  /** The API's external URL; when absent, taken from each request's Host header. */
  baseUrl: string | undefined
  /** The embedded router's URL for /v2/info's `x_cfctl_router_url`; read per request, so it may be set late. */
  routerUrl: string | undefined
  /** CC's users_can_select_backend: may space developers change `diego`? */
  usersCanSelectBackend: boolean
  limits: AppLimits
  info: InfoConfig
}

export interface ApiDependencies {
  store: Store
  clock: Clock
  tokens: TokenService
  access: Access
  bridge: BackendBridge
  events: EventLog
  stager: Stager
  settings: ApiSettings
  log: (line: string) => void
}

const MAX_BODY_BYTES = 1024 * 1024
const BACKEND_NAMES: readonly BackendName[] = ['dea', 'diego']

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

export function createApiHandler(deps: ApiDependencies): RequestHandler {
  const api = new Api(deps)
  return (req, res) => {
    api.route(req, res).catch((error: unknown) => api.fail(res, error, req))
  }
}

class Api {
  private readonly store: Store
  private readonly clock: Clock
  private readonly tokens: TokenService
  private readonly access: Access
  private readonly bridge: BackendBridge
  private readonly events: EventLog
  private readonly stager: Stager
  private readonly settings: ApiSettings
  private readonly log: (line: string) => void
  private readonly flags: FeatureFlags
  private readonly buffers = new ResponseBuffers()
  private readonly filteredApps: ListCache<AppRecord>
  private readonly renderer: Renderer
  private readonly reads: ReadApi

  constructor(deps: ApiDependencies) {
    this.store = deps.store
    this.clock = deps.clock
    this.tokens = deps.tokens
    this.access = deps.access
    this.bridge = deps.bridge
    this.events = deps.events
    this.stager = deps.stager
    this.settings = deps.settings
    this.log = deps.log
    this.filteredApps = new ListCache(deps.store)
    this.flags = FeatureFlags.of(deps.store)
    this.renderer = new Renderer(deps.store, deps.access.roles, deps.access)
    this.reads = new ReadApi({
      store: deps.store,
      access: deps.access,
      roles: deps.access.roles,
      renderer: this.renderer,
      bridge: deps.bridge,
      read: (req) => this.read(req),
      send,
      log: deps.log,
    })
  }

  async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    const mark = url.indexOf('?')
    const path = mark < 0 ? url : url.slice(0, mark)
    const query = mark < 0 ? '' : url.slice(mark + 1)
    const method = req.method ?? 'GET'

    if (path === '/oauth/token') return this.tokens.handleTokenRequest(req, res, this.baseUrl(req))
    if (path === '/login') return handleLoginInfo(req, res, this.baseUrl(req), this.clock)
    // /v2/... split: ['', 'v2', collection, guid?, sub?]
    const parts = path.split('/')
    // InstancesController's `DELETE /v2/apps/:guid/instances/:index`: the one route six segments long.
    if (parts.length === 6 && parts[2] === 'apps' && parts[4] === 'instances' && parts[3] && method === 'DELETE') {
      return this.stopIndex(req, res, parts[3], parts[5]!)
    }
    if (parts[1] !== 'v2' || parts.length > 5) throw new CfError('NotFound')
    const [, , collection = '', guid, sub] = parts
    if (guid === '' || sub === '') throw new CfError('NotFound')

    if (collection === 'info' && guid === undefined && method === 'GET') return this.info(req, res)
    if (collection === 'config' && guid === 'feature_flags') return this.featureFlags(req, res, method, sub)
    if (collection === 'apps') {
      if (guid === undefined) {
        if (method === 'GET') return this.listApps(req, res, query)
      } else if (sub === undefined) {
        if (method === 'GET') return this.getApp(req, res, guid, query)
        if (method === 'PUT') return this.updateApp(req, res, guid)
        if (method === 'DELETE') return this.deleteApp(req, res, guid, query)
      } else if (method === 'GET') {
        if (sub === 'stats') return this.appStats(req, res, guid)
        if (sub === 'instances') return this.appInstances(req, res, guid)
        if (sub === 'summary') return this.appSummary(req, res, guid)
        if (sub === 'routes') return this.appRoutes(req, res, guid, query)
      } else if (method === 'POST' && sub === 'restage') return this.restage(req, res, guid)
    }
    // Extension: a real CC has no /v2/x-cfctl; `cfctl backends` reads capacity here.
    if (collection === 'x-cfctl' && guid === 'backends' && sub === undefined && method === 'GET') {
      return this.backends(req, res)
    }
    if (collection === 'events' && sub === undefined && method === 'GET')
      return this.listOrGetEvents(req, res, guid, query)
    if (collection === 'organizations' && guid && sub === undefined && method === 'PUT') {
      return this.updateOrg(req, res, guid)
    }
    if (method === 'GET' && this.reads.handle(req, res, collection, guid, sub, query)) return
    throw new CfError('NotFound')
  }

  /** Answers an error: CF errors as themselves, anything else as UnknownError, logged. */
  fail(res: ServerResponse, error: unknown, req: IncomingMessage): void {
    if (res.headersSent) {
      this.log(`cc: ${req.method} ${req.url} failed after the answer began: ${(error as Error)?.stack ?? error}`)
      res.destroy()
      return
    }
    // A body past the limit is refused as the CC's nginx refuses it: 413, the connection closed.
    if (error instanceof BodyTooLargeError) {
      refuseTooLarge(res)
      return
    }
    if (error instanceof CfError) {
      send(res, error.status, JSON.stringify(error.body()))
      return
    }
    this.log(`cc: ${req.method} ${req.url} answered UnknownError: ${(error as Error)?.stack ?? error}`)
    send(res, 500, JSON.stringify(UNKNOWN_ERROR_BODY))
  }

  private baseUrl(req: IncomingMessage): string {
    return this.settings.baseUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`
  }

  private read(req: IncomingMessage): Principal {
    const principal = this.tokens.authenticate(req.headers.authorization)
    this.access.requireRead(principal)
    return principal
  }

  private write(req: IncomingMessage): Principal {
    const principal = this.tokens.authenticate(req.headers.authorization)
    this.access.requireWrite(principal)
    return principal
  }

  // ---- /v2/info ----

  private info(req: IncomingMessage, res: ServerResponse): void {
    let userGuid: string | null = null
    if (req.headers.authorization) {
      try {
        userGuid = this.tokens.authenticate(req.headers.authorization).userGuid
      } catch {
        // /v2/info needs no token; a bad one just means no `user` field.
      }
    }
    send(res, 200, JSON.stringify(infoBody(this.baseUrl(req), this.settings.info, userGuid, this.settings.routerUrl)))
  }

  /** `PUT /v2/organizations/:guid`: its status (active, suspended); answers 201 and the org. */
  private async updateOrg(req: IncomingMessage, res: ServerResponse, guid: string): Promise<void> {
    const principal = this.write(req)
    const text = await readBody(req, MAX_BODY_BYTES)
    const org = this.store.org(guid)
    if (!org) throw new CfError('OrganizationNotFound', guid)
    if (!this.access.canSeeOrg(principal, org.guid)) throw new CfError('NotAuthorized')
    updateOrgStatus(this.access, principal, org, text)
    send(
      res,
      201,
      JSON.stringify(this.renderer.organization(org, principal, { depth: null, include: null, exclude: null })),
    )
  }

  // ---- /v2/config/feature_flags ----

  /** FeatureFlagsController: anyone with a token reads; only an admin sets a flag. */
  private async featureFlags(req: IncomingMessage, res: ServerResponse, method: string, name?: string): Promise<void> {
    if (method === 'GET') {
      this.read(req)
      return send(res, 200, JSON.stringify(name === undefined ? this.flags.list() : this.flags.body(name)))
    }
    if (method !== 'PUT' || name === undefined) throw new CfError('NotFound')
    const principal = this.write(req)
    if (!principal.admin) throw new CfError('NotAuthorized')
    send(res, 200, JSON.stringify(this.flags.update(name, await readBody(req, MAX_BODY_BYTES))))
  }

  // ---- /v2/x-cfctl/backends (an extension) ----

  /** Each attached backend's capacity from its own capacity(); admins only, as an operator's view. */
  private backends(req: IncomingMessage, res: ServerResponse): void {
    const principal = this.read(req)
    if (!principal.admin) throw new CfError('NotAuthorized')
    const body: Partial<Record<BackendName, BackendCapacityBody>> = {}
    for (const name of BACKEND_NAMES) {
      const backend = this.bridge.backend(name)
      if (backend) body[name] = backendCapacityBody(backend.capacity())
    }
    send(res, 200, JSON.stringify(body))
  }

  // ---- apps ----

  private listApps(req: IncomingMessage, res: ServerResponse, query: string): void {
    const principal = this.read(req)
    const params = new URLSearchParams(query)
    const request = parsePageRequest(params)
    const filters = parseFilters(request.q, APP_FILTERS)
    const items =
      filters.length === 0
        ? this.access.visibleApps(principal)
        : this.filteredApps.get(JSON.stringify([visibilityKey(principal), ...request.q]), () =>
            this.filterApps(principal, filters),
          )
    const body = envelopeBytes(
      paginate(items, request),
      '/v2/apps',
      request,
      (app) => this.renderer.appBytes(app, principal, request.relations),
      (length) => this.buffers.take(length),
    )
    this.buffers.releaseAfter(res, body)
    send(res, 200, body)
  }

  /** The visible apps that pass every filter, in id order: what one `q` lists, before paging. */
  private filterApps(principal: Principal, filters: readonly Filter[]): AppRecord[] {
    let candidates = this.access.visibleApps(principal)
    // A space filter (what a client paging one space sends) starts from that space's index.
    const bySpace = filters.find((f) => f.key === 'space_guid' && f.op === ':')
    if (bySpace) {
      const spaceGuid = bySpace.values[0]!
      candidates = this.access.canSeeSpace(principal, spaceGuid) ? this.store.appsInSpace(spaceGuid) : []
    }
    const predicate = compileFilters(filters, APP_FILTERS)!
    return candidates.filter(predicate)
  }

  private visibleApp(principal: Principal, guid: string): AppRecord {
    const app = this.store.app(guid)
    if (!app) throw new CfError('AppNotFound', guid)
    // find_guid_and_validate_access: what exists but may not be seen is 403, not 404.
    if (!this.access.canSeeSpace(principal, app.spaceGuid)) throw new CfError('NotAuthorized')
    return app
  }

  private getApp(req: IncomingMessage, res: ServerResponse, guid: string, query: string): void {
    const principal = this.read(req)
    const app = this.visibleApp(principal, guid)
    send(res, 200, this.renderer.appBytes(app, principal, parseRelationParams(new URLSearchParams(query))))
  }

  private async updateApp(req: IncomingMessage, res: ServerResponse, guid: string): Promise<void> {
    const principal = this.write(req)
    const update = parseAppUpdate(await readBody(req, MAX_BODY_BYTES))
    const app = this.visibleApp(principal, guid)
    if (!this.access.canChangeApp(principal, app)) throw new CfError('NotAuthorized')
    requireAppScaling(this.flags, principal.admin, app, update as Readonly<Record<string, unknown>>)
    // AppAccess#read_for_update?: with selection off only an admin may *change* the flag; a PUT
    // that repeats the current value is fine. Checked before anything is applied.
    if (
      !principal.admin &&
      !this.settings.usersCanSelectBackend &&
      update.diego !== undefined &&
      update.diego !== app.diego
    ) {
      throw new CfError('BackendSelectionNotAuthorized')
    }
    const next = validateAppUpdate(
      app,
      update,
      this.settings.limits,
      // App names are citext in CC: unique within a space without regard to case.
      (name) =>
        this.store
          .appsInSpace(app.spaceGuid)
          .some((other) => other.guid !== app.guid && other.name.toLowerCase() === name.toLowerCase()),
    )
    const now = this.clock.now()
    const after = this.store.transaction(() => {
      const updated = this.store.updateApp(
        app.guid,
        {
          name: next.name,
          instances: next.instances,
          memoryMb: next.memoryMb,
          diskMb: next.diskMb,
          state: next.state,
          diego: next.diego,
          healthCheckType: next.healthCheckType,
          enableSsh: next.enableSsh,
          ports: next.ports,
          version: needsNewVersion(app, next, update) ? newGuid() : app.version,
        },
        now,
      )
      // AppsController#after_update: every accepted PUT is audited with what it asked for.
      this.events.recordAppEvent(
        'audit.app.update',
        updated,
        actorOf(principal),
        { request: auditRequest({ ...update }) },
        now,
      )
      return updated
    })
    this.bridge.appChanged(app, after)
    // AppObserver: a start of an app whose package is not staged stages it first.
    const answer = app.state !== 'STARTED' && needsStaging(after) ? this.stager.stage(after) : after
    // CC answers an update with 201 Created and the app.
    send(res, 201, appResourceBytes(answer))
  }

  private deleteApp(req: IncomingMessage, res: ServerResponse, guid: string, query: string): void {
    const principal = this.write(req)
    const app = this.visibleApp(principal, guid)
    // CC's recursive_delete?: only the string 'true' is true; the event records the answer either way.
    const recursive = new URLSearchParams(query).get('recursive') === 'true'
    const now = this.clock.now()
    this.store.transaction(() => {
      this.store.deleteApp(app.guid)
      this.events.recordAppEvent('audit.app.delete-request', app, actorOf(principal), { request: { recursive } }, now)
    })
    this.bridge.appChanged(app, undefined)
    res.writeHead(204, { 'X-VCAP-Request-ID': randomUUID() })
    res.end()
  }

  private appStats(req: IncomingMessage, res: ServerResponse, guid: string): void {
    const app = this.visibleApp(this.read(req), guid)
    if (app.state === 'STOPPED') throw new CfError('AppStoppedStatsError', app.name)
    const statuses = this.backendReport(
      app,
      () => new CfError('StatsUnavailable', 'Stats server temporarily unavailable.'),
    )
    send(res, 200, JSON.stringify(statsReport(app, statuses, this.clock.now())))
  }

  private appInstances(req: IncomingMessage, res: ServerResponse, guid: string): void {
    const app = this.visibleApp(this.read(req), guid)
    // InstancesController: the staging's outcome is answered before the stopped check.
    if (app.packageState === 'FAILED') {
      throw new CfError(app.stagingFailedReason ?? 'StagingError', 'cannot get instances since staging failed')
    }
    if (app.packageState === 'PENDING') throw new CfError('NotStaged')
    if (app.state === 'STOPPED') {
      throw new CfError('InstancesError', `Request failed for app: ${app.name} as the app is in stopped state.`)
    }
    const statuses = this.backendReport(
      app,
      () => new CfError('InstancesUnavailable', `the ${app.diego ? 'Diego' : 'DEA'} backend is not available`),
    )
    send(res, 200, JSON.stringify(instancesReport(app, statuses, this.clock.now())))
  }

  private appSummary(req: IncomingMessage, res: ServerResponse, guid: string): void {
    const app = this.visibleApp(this.read(req), guid)
    // The reporters' number_of_starting_and_running_instances_for_app: 0 when not started (or, on
    // the DEAs, when staging failed), -1 when the backend cannot answer.
    let running = 0
    if (app.state === 'STARTED' && !(app.packageState === 'FAILED' && !app.diego)) {
      try {
        const statuses = this.bridge.instancesOf(app)
        running = statuses === undefined ? -1 : runningInstanceCount(app, statuses)
      } catch (error) {
        this.log(`cc: instances of ${app.guid} for its summary failed: ${(error as Error).stack ?? error}`)
        running = -1
      }
    }
    send(res, 200, JSON.stringify(appSummary(app, running, this.store.domains())))
  }

  /**
   * RestagesController: read access suffices; a PENDING package is NotStaged; otherwise App#restage!
   * (stop, mark for restaging, start) and the staging it sets off, audited as audit.app.restage.
   */
  private restage(req: IncomingMessage, res: ServerResponse, guid: string): void {
    const principal = this.read(req)
    const app = this.visibleApp(principal, guid)
    if (app.packageState === 'PENDING') throw new CfError('NotStaged')
    const now = this.clock.now()
    const stopped = this.store.updateApp(app.guid, { state: 'STOPPED' }, now)
    this.bridge.appChanged(app, stopped)
    const started = this.store.transaction(() => {
      const updated = this.store.updateApp(
        app.guid,
        { state: 'STARTED', packageState: 'PENDING', version: newGuid() },
        now,
      )
      this.events.recordAppEvent('audit.app.restage', updated, actorOf(principal), {}, now)
      return updated
    })
    this.bridge.appChanged(stopped, started)
    const answer = needsStaging(started) ? this.stager.stage(started, app) : started
    res.setHeader('Location', `/v2/apps/${app.guid}`)
    send(res, 201, appResourceBytes(answer))
  }

  /** `DELETE /v2/apps/:guid/instances/:index`: IndexStopper, on update access; the backend restarts it. */
  private stopIndex(req: IncomingMessage, res: ServerResponse, guid: string, indexText: string): void {
    const principal = this.write(req)
    const app = this.visibleApp(principal, guid)
    if (!this.access.canChangeApp(principal, app)) throw new CfError('NotAuthorized')
    // Ruby's `index.to_i`: the leading digits, 0 when there are none.
    const index = Number.parseInt(/^\d+/.exec(indexText)?.[0] ?? '0', 10)
    try {
      this.bridge.backend(backendNameOf(app))?.stopIndex?.(app.guid, index)
    } catch (error) {
      this.log(`cc: stop of instance ${index} of ${app.guid} failed: ${(error as Error).stack ?? error}`)
    }
    res.writeHead(204, { 'X-VCAP-Request-ID': randomUUID() })
    res.end()
  }

  /** `GET /v2/apps/:guid/routes`: the app's routes in CC's envelope (an app here has one page of them). */
  private appRoutes(req: IncomingMessage, res: ServerResponse, guid: string, query: string): void {
    const principal = this.read(req)
    const app = this.visibleApp(principal, guid)
    const request = parsePageRequest(new URLSearchParams(query))
    send(
      res,
      200,
      envelopeJson(paginate(routesOf([app]), request), `/v2/apps/${app.guid}/routes`, request, (route) =>
        JSON.stringify(this.renderer.route(route, principal, request.relations)),
      ),
    )
  }

  /** What the app's backend runs; `unavailable` when no backend is attached or it fails. */
  private backendReport(app: AppRecord, unavailable: () => CfError) {
    let statuses: ReturnType<BackendBridge['instancesOf']>
    try {
      statuses = this.bridge.instancesOf(app)
    } catch (error) {
      this.log(`cc: instances of ${app.guid} failed: ${(error as Error).stack ?? error}`)
      throw unavailable()
    }
    if (!statuses) throw unavailable()
    return statuses
  }

  // ---- events ----

  /** `GET /v2/events` and `/v2/events/:guid`: admins see all; others the events of their spaces. */
  private listOrGetEvents(req: IncomingMessage, res: ServerResponse, guid: string | undefined, query: string): void {
    const principal = this.read(req)
    const visible = principal.admin ? null : eventVisibility(this.access.roles, principal.userGuid)
    send(
      res,
      200,
      guid === undefined ? listEventsBody(this.events, query, visible) : getEventBody(this.events, guid, visible),
    )
  }
}

/**
 * What decides which apps a principal sees (Access.spacesOf): admin or not, and whose spaces. Role
 * changes are store writes, so a list kept under this key is dropped when they happen.
 */
function visibilityKey(principal: Principal): string {
  return principal.admin ? 'admin' : `user:${principal.userGuid ?? ''}`
}

/** Who an event names: the token's user (CC keeps a client's token as a user named by its client id). */
function actorOf(principal: Principal): Actor {
  return principal.userGuid === null
    ? { guid: principal.clientId, type: 'user', name: null }
    : { guid: principal.userGuid, type: 'user', name: principal.userName }
}

function send(res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=utf-8',
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    'X-Content-Type-Options': 'nosniff',
    'X-VCAP-Request-ID': randomUUID(),
  })
  res.end(body)
}
