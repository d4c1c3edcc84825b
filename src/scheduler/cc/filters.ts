// The `q` keys of each v2 list, as each controller's `query_parameters` names them at 2.54. Names are
// case-insensitive (CC keeps them as citext). The to-many keys of orgs and spaces (`user_guid`,
// `developer_guid`, ...) match an org or space when any of its members or children has the guid.
import type { FilterFields } from './query.js'
import type { RouteView } from './relations.js'
import type { OrgRole, Roles, SpaceRole } from './roles.js'
import type { AppRecord, DomainRecord, OrgRecord, SpaceRecord, StackRecord, Store, UserRecord } from './store.js'

/** AppsController: name, space_guid, organization_guid, diego, stack_guid. Nothing else (no `state`). */
export const APP_FILTERS: FilterFields<AppRecord> = {
  name: { type: 'string', get: (a) => a.name, caseInsensitive: true },
  space_guid: { type: 'string', get: (a) => a.spaceGuid },
  organization_guid: { type: 'string', get: (a) => a.orgGuid },
  diego: { type: 'boolean', get: (a) => a.diego },
  stack_guid: { type: 'string', get: (a) => a.stackGuid },
}

/** OrganizationsController: name, space_guid, user_guid, manager_guid, billing_manager_guid, auditor_guid, status. */
export function orgFilters(store: Store, roles: Roles): FilterFields<OrgRecord> {
  const members = (role: OrgRole) => (o: OrgRecord) => roles.orgMembers(o.guid, role)
  return {
    name: { type: 'string', get: (o) => o.name, caseInsensitive: true },
    space_guid: { type: 'strings', get: (o) => store.spacesOfOrg(o.guid).map((s) => s.guid) },
    user_guid: { type: 'strings', get: members('user') },
    manager_guid: { type: 'strings', get: members('manager') },
    billing_manager_guid: { type: 'strings', get: members('billing_manager') },
    auditor_guid: { type: 'strings', get: members('auditor') },
    status: { type: 'string', get: (o) => roles.status(o.guid) },
  }
}

/** SpacesController: name, organization_guid, developer_guid, app_guid. */
export function spaceFilters(store: Store, roles: Roles): FilterFields<SpaceRecord> {
  const members = (role: SpaceRole) => (s: SpaceRecord) => roles.spaceMembers(s.guid, role)
  return {
    name: { type: 'string', get: (s) => s.name, caseInsensitive: true },
    organization_guid: { type: 'string', get: (s) => s.orgGuid },
    developer_guid: { type: 'strings', get: members('developer') },
    app_guid: { type: 'strings', get: (s) => store.appsInSpace(s.guid).map((a) => a.guid) },
  }
}

/**
 * UsersController's keys name a user's orgs and spaces (space_guid, organization_guid, ...); within
 * one org's or space's member list this CC answers none of them yet, so each is a bad query.
 */
export const USER_FILTERS: FilterFields<UserRecord> = {}

/** StacksController: name. */
export const STACK_FILTERS: FilterFields<StackRecord> = {
  name: { type: 'string', get: (s) => s.name, caseInsensitive: true },
}

/** SharedDomainsController: name. */
export const DOMAIN_FILTERS: FilterFields<DomainRecord> = {
  name: { type: 'string', get: (d) => d.name, caseInsensitive: true },
}

/** RoutesController: host, domain_guid, organization_guid, path, port (no route here has a port: null). */
export const ROUTE_FILTERS: FilterFields<RouteView> = {
  host: { type: 'string', get: (r) => r.route.host, caseInsensitive: true },
  domain_guid: { type: 'string', get: (r) => r.route.domainGuid },
  organization_guid: { type: 'string', get: (r) => r.app.orgGuid },
  path: { type: 'string', get: () => '' },
  port: { type: 'string', get: () => null },
}
