// The read side of the CC v2 surface beyond apps: organizations, spaces, stacks, routes and shared
// domains with their nested lists, the org and space summaries, an org's memory and instance usage,
// and an app's environment. Each answers as its CC controller does: what does not exist is the kind's
// 404, what exists but may not be seen is CF-NotAuthorized (403), lists hold only what may be seen,
// paged in CC's envelope with the relations inlined as `inline-relations-depth` asks.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Access } from './access.js'
import type { BackendBridge } from './bridge.js'
import { CfError, type CfErrorName } from './errors.js'
import { FeatureFlags } from './feature-flags.js'
import {
  APP_FILTERS,
  DOMAIN_FILTERS,
  orgFilters,
  ROUTE_FILTERS,
  STACK_FILTERS,
  spaceFilters,
  USER_FILTERS,
} from './filters.js'
import {
  compileFilters,
  envelopeBytes,
  envelopeJson,
  type FilterFields,
  type PageRequest,
  paginate,
  parseFilters,
  parsePageRequest,
  parseRelationParams,
  type RelationParams,
} from './query.js'
import { type Renderer, type Resource, type RouteView, routesOf } from './relations.js'
import { appFields, runningInstanceCount } from './resources.js'
import type { OrgRole, Roles, SpaceRole } from './roles.js'
import type { AppRecord, OrgRecord, SpaceRecord, Store } from './store.js'
import type { Principal } from './uaa.js'

export interface ReadApiDependencies {
  store: Store
  access: Access
  roles: Roles
  renderer: Renderer
  bridge: BackendBridge
  /** Authenticates the request and checks its token may read. */
  read: (req: IncomingMessage) => Principal
  send: (res: ServerResponse, status: number, body: string | Buffer) => void
  log: (line: string) => void
}

/** The member lists of an org and of a space, and the role each lists. */
const ORG_MEMBER_LISTS = new Map<string, OrgRole>([
  ['users', 'user'],
  ['managers', 'manager'],
  ['billing_managers', 'billing_manager'],
  ['auditors', 'auditor'],
])
const SPACE_MEMBER_LISTS = new Map<string, SpaceRole>([
  ['developers', 'developer'],
  ['managers', 'manager'],
  ['auditors', 'auditor'],
])

/** QuotaDefinitionsController: name. */
const QUOTA_FILTERS: FilterFields<Resource> = {
  name: { type: 'string', get: (q) => String(q.entity.name), caseInsensitive: true },
}

// VCAP_APPLICATION's fds: the file descriptor limit every app of this era got by default.
const FILE_DESCRIPTORS = 16_384

export class ReadApi {
  private readonly store: Store
  private readonly access: Access
  private readonly roles: Roles
  private readonly renderer: Renderer
  private readonly bridge: BackendBridge
  private readonly readAs: (req: IncomingMessage) => Principal
  private readonly send: ReadApiDependencies['send']
  private readonly log: (line: string) => void
  private readonly orgFilters: FilterFields<OrgRecord>
  private readonly spaceFilters: FilterFields<SpaceRecord>

  constructor(deps: ReadApiDependencies) {
    this.store = deps.store
    this.access = deps.access
    this.roles = deps.roles
    this.renderer = deps.renderer
    this.bridge = deps.bridge
    this.readAs = deps.read
    this.send = deps.send
    this.log = deps.log
    this.orgFilters = orgFilters(deps.store, deps.roles)
    this.spaceFilters = spaceFilters(deps.store, deps.roles)
  }

  /**
   * Answers `GET /v2/COLLECTION[/GUID[/SUB]]` if it is one of these endpoints; false if not, so the
   * caller answers NotFound.
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    collection: string,
    guid?: string,
    sub?: string,
    query = '',
  ): boolean {
    const params = new URLSearchParams(query)
    switch (collection) {
      case 'organizations':
        return this.organizations(req, res, params, guid, sub)
      case 'spaces':
        return this.spaces(req, res, params, guid, sub)
      case 'stacks':
        if (sub !== undefined) return false
        if (guid === undefined) {
          const principal = this.readAs(req)
          const request = parsePageRequest(params)
          this.list(res, '/v2/stacks', request, this.filter(this.store.stacks(), request, STACK_FILTERS), (s) =>
            this.renderer.stack(s, principal, request.relations),
          )
        } else {
          const principal = this.readAs(req)
          const stack = this.store.stack(guid)
          if (!stack) throw new CfError('StackNotFound', guid)
          this.json(res, this.renderer.stack(stack, principal, parseRelationParams(params)))
        }
        return true
      case 'routes':
        if (sub !== undefined) return false
        if (guid === undefined) {
          const principal = this.readAs(req)
          const request = parsePageRequest(params)
          const routes = routesOf(this.store.apps()).filter((r) =>
            this.access.canSeeRoutesOf(principal, r.app.spaceGuid),
          )
          this.listRoutes(res, '/v2/routes', request, routes, principal)
        } else {
          const principal = this.readAs(req)
          const route = routesOf(this.store.apps()).find((r) => r.route.guid === guid)
          if (!route) throw new CfError('RouteNotFound', guid)
          if (!this.access.canSeeRoutesOf(principal, route.app.spaceGuid)) throw new CfError('NotAuthorized')
          this.json(res, this.renderer.route(route, principal, parseRelationParams(params)))
        }
        return true
      case 'quota_definitions': {
        if (sub !== undefined) return false
        const principal = this.readAs(req)
        const quota = this.renderer.quotaDefinition(principal, parseRelationParams(params))
        if (guid === undefined) {
          const request = parsePageRequest(params)
          this.list(res, '/v2/quota_definitions', request, this.filter([quota], request, QUOTA_FILTERS), (q) => q)
        } else {
          if (guid !== this.store.defaultQuotaDefinitionGuid) throw new CfError('QuotaDefinitionNotFound', guid)
          this.json(res, quota)
        }
        return true
      }
      case 'shared_domains':
      case 'domains':
        if (sub !== undefined) return false
        if (guid === undefined) {
          const principal = this.readAs(req)
          const request = parsePageRequest(params)
          const domains = [...this.store.domains()].sort((a, b) => a.id - b.id)
          this.list(res, `/v2/${collection}`, request, this.filter(domains, request, DOMAIN_FILTERS), (d) =>
            this.renderer.sharedDomain(d, principal, request.relations),
          )
        } else {
          const principal = this.readAs(req)
          const domain = this.store.domains().find((d) => d.guid === guid)
          if (!domain) throw new CfError('DomainNotFound', guid)
          this.json(res, this.renderer.sharedDomain(domain, principal, parseRelationParams(params)))
        }
        return true
      case 'apps':
        if (guid === undefined || sub !== 'env') return false
        this.appEnv(req, res, guid)
        return true
      default:
        return false
    }
  }

  // ---- organizations ----

  private organizations(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    guid: string | undefined,
    sub: string | undefined,
  ): boolean {
    if (guid !== undefined && sub !== undefined && !ORG_SUBS.has(sub)) return false
    const found = this.listOrFind(req, res, params, guid, {
      path: '/v2/organizations',
      visible: (principal) => this.access.visibleOrgs(principal),
      filters: this.orgFilters,
      find: (g) => this.store.org(g),
      notFound: 'OrganizationNotFound',
      canSee: (principal, g) => this.access.canSeeOrg(principal, g),
      render: (o, principal, relations) => this.renderer.organization(o, principal, relations),
    })
    if (!found) return true
    const { principal, item: org } = found
    switch (sub) {
      case undefined:
        this.json(res, this.renderer.organization(org, principal, parseRelationParams(params)))
        break
      case 'domains': {
        const request = parsePageRequest(params)
        const domains = [...this.store.domains()].sort((a, b) => a.id - b.id)
        this.list(
          res,
          `/v2/organizations/${org.guid}/domains`,
          request,
          this.filter(domains, request, DOMAIN_FILTERS),
          (d) => this.renderer.sharedDomain(d, principal, request.relations),
        )
        break
      }
      case 'private_domains':
      case 'space_quota_definitions':
        // This CC has neither private domains nor space quotas: an empty list, as a CC without any.
        this.list(res, `/v2/organizations/${org.guid}/${sub}`, parsePageRequest(params), [], () => null)
        break
      case 'spaces': {
        const request = parsePageRequest(params)
        const spaces = this.store.spacesOfOrg(org.guid).filter((s) => this.access.canSeeSpace(principal, s.guid))
        this.list(
          res,
          `/v2/organizations/${org.guid}/spaces`,
          request,
          this.filter(spaces, request, this.spaceFilters),
          (s) => this.renderer.space(s, principal, request.relations),
        )
        break
      }
      case 'summary':
        this.json(res, this.orgSummary(org, principal))
        break
      case 'users':
      case 'managers':
      case 'billing_managers':
      case 'auditors':
        this.listUsers(
          res,
          `/v2/organizations/${org.guid}/${sub}`,
          params,
          this.roles.orgMembers(org.guid, ORG_MEMBER_LISTS.get(sub)!),
          principal,
        )
        break
      case 'memory_usage':
        this.json(res, { memory_usage_in_mb: this.startedUsage(org).memoryMb })
        break
      case 'instance_usage':
        this.json(res, { instance_usage: this.startedUsage(org).instances })
        break
    }
    return true
  }

  /** OrganizationSummariesController: the org with each visible space's app count and started memory. */
  private orgSummary(org: OrgRecord, principal: Principal): unknown {
    return {
      guid: org.guid,
      name: org.name,
      status: this.roles.status(org.guid),
      spaces: this.store
        .spacesOfOrg(org.guid)
        .filter((s) => this.access.canSeeSpace(principal, s.guid))
        .map((space) => {
          let appCount = 0
          let memDev = 0
          for (const app of this.store.appsInSpace(space.guid)) {
            appCount++
            // No app here is a `production` one, so all started memory is the dev total.
            if (app.state === 'STARTED') memDev += app.instances * app.memoryMb
          }
          return {
            guid: space.guid,
            name: space.name,
            service_count: 0,
            app_count: appCount,
            mem_dev_total: memDev,
            mem_prod_total: 0,
          }
        }),
    }
  }

  /** OrganizationMemoryCalculator (and the instance usage beside it): what the org's started apps use. */
  private startedUsage(org: OrgRecord): { memoryMb: number; instances: number } {
    let memoryMb = 0
    let instances = 0
    for (const space of this.store.spacesOfOrg(org.guid)) {
      for (const app of this.store.appsInSpace(space.guid)) {
        if (app.state !== 'STARTED') continue
        memoryMb += app.instances * app.memoryMb
        instances += app.instances
      }
    }
    return { memoryMb, instances }
  }

  // ---- spaces ----

  private spaces(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    guid: string | undefined,
    sub: string | undefined,
  ): boolean {
    if (guid !== undefined && sub !== undefined && !SPACE_SUBS.has(sub)) return false
    const found = this.listOrFind(req, res, params, guid, {
      path: '/v2/spaces',
      visible: (principal) => this.access.visibleSpaces(principal),
      filters: this.spaceFilters,
      find: (g) => this.store.space(g),
      notFound: 'SpaceNotFound',
      canSee: (principal, g) => this.access.canSeeSpace(principal, g),
      render: (sp, principal, relations) => this.renderer.space(sp, principal, relations),
    })
    if (!found) return true
    const { principal, item: space } = found
    switch (sub) {
      case undefined:
        this.json(res, this.renderer.space(space, principal, parseRelationParams(params)))
        break
      case 'apps': {
        const request = parsePageRequest(params)
        const apps = this.filter(this.store.appsInSpace(space.guid), request, APP_FILTERS)
        const path = `/v2/spaces/${space.guid}/apps`
        this.send(
          res,
          200,
          envelopeBytes(paginate(apps, request), path, request, (a) =>
            this.renderer.appBytes(a, principal, request.relations),
          ),
        )
        break
      }
      case 'service_instances':
        this.list(res, `/v2/spaces/${space.guid}/service_instances`, parsePageRequest(params), [], () => null)
        break
      case 'developers':
      case 'managers':
      case 'auditors':
        this.listUsers(
          res,
          `/v2/spaces/${space.guid}/${sub}`,
          params,
          this.roles.spaceMembers(space.guid, SPACE_MEMBER_LISTS.get(sub)!),
          principal,
        )
        break
      case 'routes': {
        const request = parsePageRequest(params)
        this.listRoutes(
          res,
          `/v2/spaces/${space.guid}/routes`,
          request,
          routesOf(this.store.appsInSpace(space.guid)),
          principal,
        )
        break
      }
      case 'summary':
        this.json(res, this.spaceSummary(space))
        break
    }
    return true
  }

  /** SpaceSummariesController: the space, each app with its routes and running count, no services. */
  private spaceSummary(space: SpaceRecord): unknown {
    return {
      guid: space.guid,
      name: space.name,
      apps: this.store.appsInSpace(space.guid).map((app) => ({
        guid: app.guid,
        urls: app.routes.map((r) => r.hostname),
        routes: app.routes.map((r) => ({
          guid: r.guid,
          host: r.host,
          port: null,
          path: '',
          domain: { guid: r.domainGuid, name: r.domainName },
        })),
        service_count: 0,
        service_names: [],
        running_instances: this.runningInstances(app),
        ...appFields(app),
      })),
      services: [],
    }
  }

  /** Starting and running instances as the backend reports them; -1 when it cannot say, as CC's reporters answer. */
  private runningInstances(app: AppRecord): number {
    if (app.state !== 'STARTED') return 0
    try {
      const statuses = this.bridge.instancesOf(app)
      return statuses ? runningInstanceCount(app, statuses) : -1
    } catch (error) {
      this.log(`cc: instances of ${app.guid} for a space summary failed: ${(error as Error).stack ?? error}`)
      return -1
    }
  }

  // ---- an app's environment ----

  /** AppsController#read_env: an admin or a developer of the app's space; others 403. */
  private appEnv(req: IncomingMessage, res: ServerResponse, guid: string): void {
    const principal = this.readAs(req)
    const app = this.store.app(guid)
    if (!app) throw new CfError('AppNotFound', guid)
    if (!this.access.canReadEnv(principal, app)) throw new CfError('NotAuthorized')
    if (!principal.admin) FeatureFlags.of(this.store).requireEnabled('space_developer_env_var_visibility')
    const space = this.store.space(app.spaceGuid)!
    const uris = app.routes.map((r) => r.hostname)
    this.json(res, {
      staging_env_json: {},
      running_env_json: {},
      environment_json: {},
      system_env_json: { VCAP_SERVICES: {} },
      application_env_json: {
        VCAP_APPLICATION: {
          limits: { fds: FILE_DESCRIPTORS, mem: app.memoryMb, disk: app.diskMb },
          application_name: app.name,
          application_uris: uris,
          name: app.name,
          space_name: space.name,
          space_id: space.guid,
          uris,
          users: null,
          version: app.version,
          application_version: app.version,
          application_id: app.guid,
        },
      },
    })
  }

  // ---- helpers ----

  private filter<T>(items: readonly T[], request: PageRequest, fields: FilterFields<T>): readonly T[] {
    const predicate = compileFilters(parseFilters(request.q, fields), fields)
    return predicate ? items.filter(predicate) : items
  }

  private listRoutes(
    res: ServerResponse,
    path: string,
    request: PageRequest,
    routes: readonly RouteView[],
    principal: Principal,
  ): void {
    this.list(res, path, request, this.filter(routes, request, ROUTE_FILTERS), (r) =>
      this.renderer.route(r, principal, request.relations),
    )
  }

  /** An org's or a space's members, in id order, each with its username. */
  private listUsers(
    res: ServerResponse,
    path: string,
    params: URLSearchParams,
    guids: ReadonlySet<string>,
    principal: Principal,
  ): void {
    const request = parsePageRequest(params)
    const users = this.store.users().filter((u) => guids.has(u.guid))
    this.list(res, path, request, this.filter(users, request, USER_FILTERS), (u) =>
      this.renderer.listedUser(u, principal, request.relations),
    )
  }

  /**
   * A top-level collection as the CC serves it: without a guid, the members the user may see, filtered and
   * paged (sent here; undefined is returned); with one, that member for the caller to answer about, 404 when
   * it does not exist and 403 `NotAuthorized` when it exists but is not the user's to see.
   */
  private listOrFind<T extends { guid: string }>(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    guid: string | undefined,
    collection: {
      path: string
      visible: (principal: Principal) => readonly T[]
      filters: FilterFields<T>
      find: (guid: string) => T | undefined
      notFound: CfErrorName
      canSee: (principal: Principal, guid: string) => boolean
      render: (item: T, principal: Principal, relations: RelationParams) => unknown
    },
  ): { principal: Principal; item: T } | undefined {
    const principal = this.readAs(req)
    if (guid === undefined) {
      const request = parsePageRequest(params)
      const items = this.filter(collection.visible(principal), request, collection.filters)
      this.list(res, collection.path, request, items, (item) => collection.render(item, principal, request.relations))
      return undefined
    }
    const item = collection.find(guid)
    if (!item) throw new CfError(collection.notFound, guid)
    if (!collection.canSee(principal, item.guid)) throw new CfError('NotAuthorized')
    return { principal, item }
  }

  private list<T>(
    res: ServerResponse,
    path: string,
    request: PageRequest,
    items: readonly T[],
    render: (item: T) => unknown,
  ): void {
    this.send(
      res,
      200,
      envelopeJson(paginate(items, request), path, request, (item) => JSON.stringify(render(item))),
    )
  }

  private json(res: ServerResponse, body: unknown): void {
    this.send(res, 200, JSON.stringify(body))
  }
}

const ORG_SUBS = new Set([
  'spaces',
  'domains',
  'private_domains',
  'space_quota_definitions',
  'summary',
  'memory_usage',
  'instance_usage',
  ...ORG_MEMBER_LISTS.keys(),
])
const SPACE_SUBS = new Set(['apps', 'routes', 'summary', 'service_instances', ...SPACE_MEMBER_LISTS.keys()])
