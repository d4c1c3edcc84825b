// The v2 resources of orgs, spaces, apps, stacks, routes, domains, users and quota definitions, with
// their relations rendered as CC's PreloadedObjectSerializer renders them: every relation gets its
// `NAME_url` (a to-one only when its object exists), and with `inline-relations-depth` N the objects
// themselves are inlined under NAME, N levels deep: to-one relations as a resource, to-many ones as a
// list of resources (left out when longer than 50), never a relation back to a kind already being
// rendered on the way down, link-only relations never, and as `include-relations` and
// `exclude-relations` allow. Inlined lists hold only what the principal may see.
import type { Access } from './access.js'
import type { RelationParams } from './query.js'
import { appFields, appResourceBytes, isoTimestamp } from './resources.js'
import type { Roles } from './roles.js'
import type {
  AppRecord,
  DomainRecord,
  OrgRecord,
  RouteRecord,
  SpaceRecord,
  StackRecord,
  Store,
  UserRecord,
} from './store.js'
import type { Principal } from './uaa.js'

export type Kind =
  | 'organization'
  | 'space'
  | 'app'
  | 'stack'
  | 'route'
  | 'shared_domain'
  | 'private_domain'
  | 'user'
  | 'quota_definition'
  | 'space_quota_definition'
  | 'service_instance'
  | 'service_binding'
  | 'security_group'
  | 'event'
  | 'route_mapping'

/** A route with the app that holds it (here every route is mapped to exactly one app). */
export interface RouteView {
  route: RouteRecord
  app: AppRecord
}

/** The org quota every org has: CC's `default` quota definition. */
export interface QuotaView {
  guid: string
}

type Item =
  | { kind: 'organization'; record: OrgRecord }
  | { kind: 'space'; record: SpaceRecord }
  | { kind: 'app'; record: AppRecord }
  | { kind: 'stack'; record: StackRecord }
  | { kind: 'route'; record: RouteView }
  | { kind: 'shared_domain'; record: DomainRecord }
  | { kind: 'user'; record: UserRecord }
  | { kind: 'quota_definition'; record: QuotaView }

interface ToOne {
  name: string
  target: Item | null
}

interface ToMany {
  name: string
  kind: Kind
  linkOnly?: boolean
  items?: () => Item[]
}

interface Described {
  url: string
  created: number
  updated: number | null
  fields: Record<string, unknown>
  toOne: ToOne[]
  toMany: ToMany[]
}

export type Resource = { metadata: Record<string, unknown>; entity: Record<string, unknown> }

/** CC's PreloadedObjectSerializer::MAX_INLINE_DEFAULT: longer to-many relations are not inlined. */
export const MAX_INLINE = 50

// Stacks and quota definitions come with the CC rather than from a seed; dated at its install.
const INSTALLED_AT = Date.UTC(2016, 0, 1, 0, 0, 0)

export class Renderer {
  constructor(
    private readonly store: Store,
    private readonly roles: Roles,
    private readonly access: Access,
  ) {}

  organization(org: OrgRecord, principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'organization', record: org }, principal, params)
  }

  space(space: SpaceRecord, principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'space', record: space }, principal, params)
  }

  stack(stack: StackRecord, principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'stack', record: stack }, principal, params)
  }

  route(route: RouteView, principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'route', record: route }, principal, params)
  }

  sharedDomain(domain: DomainRecord, principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'shared_domain', record: domain }, principal, params)
  }

  /**
   * A user as an org's or a space's user lists show it: UsernamePopulator adds `username` (from UAA)
   * to the entity of each user such a list returns.
   */
  listedUser(user: UserRecord, principal: Principal, params: RelationParams): Resource {
    const resource = this.render({ kind: 'user', record: user }, principal, params)
    const { admin, active, default_space_guid, ...relations } = resource.entity
    resource.entity = { admin, active, default_space_guid, username: user.username, ...relations }
    return resource
  }

  /** The one quota definition (CC's `default`). */
  quotaDefinition(principal: Principal, params: RelationParams): Resource {
    return this.render({ kind: 'quota_definition', record: this.quota() }, principal, params)
  }

  /** An app as JSON bytes: the cached rendering when nothing is inlined, else a fresh one. */
  appBytes(app: AppRecord, principal: Principal, params: RelationParams): Buffer {
    if ((params.depth ?? 0) <= 0) return appResourceBytes(app)
    return Buffer.from(JSON.stringify(this.render({ kind: 'app', record: app }, principal, params)), 'utf8')
  }

  private render(item: Item, principal: Principal, params: RelationParams): Resource {
    return this.toHash(item, principal, params, 0, [])
  }

  private toHash(item: Item, principal: Principal, params: RelationParams, depth: number, parents: Kind[]): Resource {
    const d = this.describe(item)
    const entity: Record<string, unknown> = { ...d.fields }
    parents.push(item.kind)
    for (const rel of d.toOne) {
      const target = rel.target && this.visible(rel.target, principal) ? rel.target : null
      if (!target) continue
      entity[`${rel.name}_url`] = this.describe(target).url
      if (this.linkOnly(rel.name, target.kind, false, params, depth, parents)) continue
      entity[rel.name] = this.toHash(target, principal, params, depth + 1, parents)
    }
    for (const rel of d.toMany) {
      entity[`${rel.name}_url`] = `${d.url}/${rel.name}`
      if (this.linkOnly(rel.name, rel.kind, rel.linkOnly === true, params, depth, parents)) continue
      const items = (rel.items?.() ?? []).filter((i) => this.visible(i, principal))
      if (items.length > MAX_INLINE) continue
      entity[rel.name] = items.map((i) => this.toHash(i, principal, params, depth + 1, parents))
    }
    parents.pop()
    const metadata: Record<string, unknown> = { guid: guidOf(item), url: d.url, created_at: isoTimestamp(d.created) }
    metadata.updated_at = d.updated === null ? null : isoTimestamp(d.updated)
    return { metadata, entity }
  }

  /** PreloadedObjectSerializer#relationship_link_only?. */
  private linkOnly(
    name: string,
    kind: Kind,
    linkOnly: boolean,
    params: RelationParams,
    depth: number,
    parents: readonly Kind[],
  ): boolean {
    if (linkOnly) return true
    if (params.exclude?.includes(name)) return true
    if (params.include && !params.include.includes(name)) return true
    return depth >= (params.depth ?? 0) || parents.includes(kind)
  }

  /** What an inlined object must pass: the user_visibility_filter of its kind. */
  private visible(item: Item, principal: Principal): boolean {
    if (principal.admin) return true
    switch (item.kind) {
      case 'organization':
        return this.access.canSeeOrg(principal, item.record.guid)
      case 'space':
        return this.access.canSeeSpace(principal, item.record.guid)
      case 'app':
        return this.access.canSeeSpace(principal, item.record.spaceGuid)
      case 'route':
        return this.access.canSeeRoutesOf(principal, item.record.app.spaceGuid)
      default:
        return true
    }
  }

  private describe(item: Item): Described {
    switch (item.kind) {
      case 'organization':
        return this.describeOrg(item.record)
      case 'space':
        return this.describeSpace(item.record)
      case 'app':
        return this.describeApp(item.record)
      case 'stack':
        return {
          url: `/v2/stacks/${item.record.guid}`,
          created: INSTALLED_AT,
          updated: INSTALLED_AT,
          fields: { name: item.record.name, description: item.record.description },
          toOne: [],
          toMany: [],
        }
      case 'route':
        return this.describeRoute(item.record)
      case 'shared_domain':
        return {
          url: `/v2/shared_domains/${item.record.guid}`,
          created: INSTALLED_AT,
          updated: INSTALLED_AT,
          fields: { name: item.record.name, router_group_guid: null, router_group_type: null },
          toOne: [],
          toMany: [],
        }
      case 'user':
        return this.describeUser(item.record)
      case 'quota_definition':
        return {
          url: `/v2/quota_definitions/${item.record.guid}`,
          created: INSTALLED_AT,
          updated: INSTALLED_AT,
          fields: DEFAULT_QUOTA,
          toOne: [],
          toMany: [],
        }
    }
  }

  private describeOrg(org: OrgRecord): Described {
    const members = (role: 'user' | 'manager' | 'billing_manager' | 'auditor') => () =>
      this.users(this.roles.orgMembers(org.guid, role))
    return {
      url: `/v2/organizations/${org.guid}`,
      created: org.createdAt,
      updated: org.updatedAt,
      fields: {
        name: org.name,
        billing_enabled: false,
        quota_definition_guid: this.store.defaultQuotaDefinitionGuid,
        status: this.roles.status(org.guid),
      },
      toOne: [{ name: 'quota_definition', target: { kind: 'quota_definition', record: this.quota() } }],
      toMany: [
        { name: 'spaces', kind: 'space', items: () => this.store.spacesOfOrg(org.guid).map(spaceItem) },
        { name: 'domains', kind: 'shared_domain', items: () => this.domains() },
        { name: 'private_domains', kind: 'private_domain' },
        { name: 'users', kind: 'user', items: members('user') },
        { name: 'managers', kind: 'user', items: members('manager') },
        { name: 'billing_managers', kind: 'user', items: members('billing_manager') },
        { name: 'auditors', kind: 'user', items: members('auditor') },
        { name: 'app_events', kind: 'event', linkOnly: true },
        { name: 'space_quota_definitions', kind: 'space_quota_definition' },
      ],
    }
  }

  private describeSpace(space: SpaceRecord): Described {
    const org = this.store.org(space.orgGuid)
    const members = (role: 'developer' | 'manager' | 'auditor') => () =>
      this.users(this.roles.spaceMembers(space.guid, role))
    return {
      url: `/v2/spaces/${space.guid}`,
      created: space.createdAt,
      updated: space.updatedAt,
      fields: {
        name: space.name,
        organization_guid: space.orgGuid,
        space_quota_definition_guid: null,
        allow_ssh: true,
      },
      toOne: [{ name: 'organization', target: org ? { kind: 'organization', record: org } : null }],
      toMany: [
        { name: 'developers', kind: 'user', items: members('developer') },
        { name: 'managers', kind: 'user', items: members('manager') },
        { name: 'auditors', kind: 'user', items: members('auditor') },
        { name: 'apps', kind: 'app', items: () => this.store.appsInSpace(space.guid).map(appItem) },
        { name: 'routes', kind: 'route', items: () => routesOf(this.store.appsInSpace(space.guid)).map(routeItem) },
        { name: 'domains', kind: 'shared_domain', items: () => this.domains() },
        { name: 'service_instances', kind: 'service_instance' },
        { name: 'app_events', kind: 'event', linkOnly: true },
        { name: 'events', kind: 'event', linkOnly: true },
        { name: 'security_groups', kind: 'security_group' },
      ],
    }
  }

  private describeApp(app: AppRecord): Described {
    const space = this.store.space(app.spaceGuid)
    const stack = this.store.stack(app.stackGuid)
    return {
      url: `/v2/apps/${app.guid}`,
      created: app.createdAt,
      updated: app.updatedAt,
      fields: appFields(app),
      toOne: [
        { name: 'space', target: space ? spaceItem(space) : null },
        { name: 'stack', target: stack ? { kind: 'stack', record: stack } : null },
      ],
      toMany: [
        { name: 'routes', kind: 'route', items: () => routesOf([app]).map(routeItem) },
        { name: 'events', kind: 'event', linkOnly: true },
        { name: 'service_bindings', kind: 'service_binding' },
        { name: 'route_mappings', kind: 'route_mapping', linkOnly: true },
      ],
    }
  }

  private describeRoute({ route, app }: RouteView): Described {
    const space = this.store.space(app.spaceGuid)
    const domain = this.store.domains().find((d) => d.guid === route.domainGuid)
    return {
      url: `/v2/routes/${route.guid}`,
      created: app.createdAt,
      updated: app.createdAt,
      fields: {
        host: route.host,
        path: '',
        domain_guid: route.domainGuid,
        space_guid: app.spaceGuid,
        service_instance_guid: null,
        port: null,
      },
      toOne: [
        { name: 'domain', target: domain ? { kind: 'shared_domain', record: domain } : null },
        { name: 'space', target: space ? spaceItem(space) : null },
      ],
      toMany: [
        { name: 'apps', kind: 'app', items: () => [appItem(app)] },
        { name: 'route_mappings', kind: 'route_mapping', linkOnly: true },
      ],
    }
  }

  private describeUser(user: UserRecord): Described {
    const orgs = (role: 'user' | 'manager' | 'billing_manager' | 'auditor') => () =>
      this.orgItems(this.roles.orgsOf(user.guid, role))
    const spaces = (role: 'developer' | 'manager' | 'auditor') => () =>
      this.spaceItems(this.roles.spacesOf(user.guid, role))
    return {
      url: `/v2/users/${user.guid}`,
      created: user.createdAt,
      updated: user.createdAt,
      fields: { admin: user.admin, active: true, default_space_guid: null },
      toOne: [],
      toMany: [
        { name: 'spaces', kind: 'space', items: spaces('developer') },
        { name: 'organizations', kind: 'organization', items: orgs('user') },
        { name: 'managed_organizations', kind: 'organization', items: orgs('manager') },
        { name: 'billing_managed_organizations', kind: 'organization', items: orgs('billing_manager') },
        { name: 'audited_organizations', kind: 'organization', items: orgs('auditor') },
        { name: 'managed_spaces', kind: 'space', items: spaces('manager') },
        { name: 'audited_spaces', kind: 'space', items: spaces('auditor') },
      ],
    }
  }

  private quota(): QuotaView {
    return { guid: this.store.defaultQuotaDefinitionGuid }
  }

  private domains(): Item[] {
    return this.store.domains().map((record) => ({ kind: 'shared_domain', record }))
  }

  private users(guids: ReadonlySet<string>): Item[] {
    const users: UserRecord[] = []
    for (const guid of guids) {
      const user = this.store.user(guid)
      if (user) users.push(user)
    }
    return users.sort((a, b) => a.id - b.id).map((record) => ({ kind: 'user', record }))
  }

  private orgItems(guids: ReadonlySet<string>): Item[] {
    return this.store
      .orgs()
      .filter((o) => guids.has(o.guid))
      .map((record) => ({ kind: 'organization', record }))
  }

  private spaceItems(guids: ReadonlySet<string>): Item[] {
    return this.store
      .spaces()
      .filter((s) => guids.has(s.guid))
      .map(spaceItem)
  }
}

/** CC's `default` quota definition as cf-release configured it. */
const DEFAULT_QUOTA: Record<string, unknown> = {
  name: 'default',
  non_basic_services_allowed: true,
  total_services: 100,
  total_routes: 1000,
  total_private_domains: -1,
  memory_limit: 10240,
  trial_db_allowed: false,
  instance_memory_limit: -1,
  app_instance_limit: -1,
  app_task_limit: -1,
  total_service_keys: -1,
  total_reserved_route_ports: 0,
}

function spaceItem(record: SpaceRecord): Item {
  return { kind: 'space', record }
}

function appItem(record: AppRecord): Item {
  return { kind: 'app', record }
}

function routeItem(record: RouteView): Item {
  return { kind: 'route', record }
}

/** Every route of the apps, each with its app, in route id order. */
export function routesOf(apps: readonly AppRecord[]): RouteView[] {
  const views: RouteView[] = []
  for (const app of apps) for (const route of app.routes) views.push({ route, app })
  return views.sort((a, b) => a.route.id - b.route.id)
}

function guidOf(item: Item): string {
  return item.kind === 'route' ? item.record.route.guid : item.record.guid
}
