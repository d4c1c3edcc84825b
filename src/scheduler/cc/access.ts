// Who sees and changes what, as CC's access classes and user_visibility_filters decide it (2.54):
// - an admin (scope cloud_controller.admin) sees and changes everything;
// - an org is seen by its users, managers, billing managers and auditors;
// - a space, its apps and its app summaries by the space's developers, managers and auditors and by
//   the org's managers; routes also by the org's auditors;
// - an app is changed (AppAccess#create?) only by a developer of its space, and not while its org is
//   suspended; its env is read only by a developer (AppAccess#read_env?);
// - stacks, shared domains and users are seen by everybody.
// Something that exists but may not be seen is CF-NotAuthorized (403), as find_guid_and_validate_access
// answers; only what does not exist is a 404. Tokens must also carry cloud_controller.read to read and
// cloud_controller.write to write.
import { CfError } from './errors.js'
import { Roles } from './roles.js'
import type { AppRecord, OrgRecord, SpaceRecord, Store } from './store.js'
import { type Principal, READ_SCOPE, WRITE_SCOPE } from './uaa.js'

interface Visibility {
  generation: number
  /** Spaces whose apps the user sees: developer, manager, auditor, or a manager of the org. */
  spaces: ReadonlySet<string>
  /** Spaces whose routes the user sees: the above and the spaces of orgs the user audits. */
  routeSpaces: ReadonlySet<string>
  orgs: ReadonlySet<string>
  apps: readonly AppRecord[]
}

export class Access {
  private readonly store: Store
  readonly roles: Roles
  // A user's visibility, rebuilt only after a write (any write, roles included, bumps the generation).
  private readonly cache = new Map<string, Visibility>()

  constructor(store: Store) {
    this.store = store
    this.roles = Roles.of(store)
  }

  /** CC's `read_with_token?`: the token must be able to read at all. */
  requireRead(principal: Principal): void {
    if (!principal.admin && !principal.scopes.has(READ_SCOPE)) throw new CfError('InsufficientScope')
  }

  /** CC's `update_with_token?`. */
  requireWrite(principal: Principal): void {
    if (!principal.admin && !principal.scopes.has(WRITE_SCOPE)) throw new CfError('InsufficientScope')
  }

  /** Spaces whose apps the principal sees; null means every space (an admin). */
  spacesOf(principal: Principal): ReadonlySet<string> | null {
    if (principal.admin) return null
    return this.visibility(principal)?.spaces ?? EMPTY
  }

  canSeeSpace(principal: Principal, spaceGuid: string): boolean {
    const spaces = this.spacesOf(principal)
    return spaces === null || spaces.has(spaceGuid)
  }

  canSeeOrg(principal: Principal, orgGuid: string): boolean {
    if (principal.admin) return true
    return this.visibility(principal)?.orgs.has(orgGuid) ?? false
  }

  canSeeRoutesOf(principal: Principal, spaceGuid: string): boolean {
    if (principal.admin) return true
    return this.visibility(principal)?.routeSpaces.has(spaceGuid) ?? false
  }

  /** AppAccess#create?: a developer of the app's space, while its org is not suspended; an admin always. */
  canChangeApp(principal: Principal, app: AppRecord): boolean {
    if (principal.admin) return true
    if (!principal.userGuid || this.roles.isSuspended(app.orgGuid)) return false
    return this.roles.hasSpaceRole(principal.userGuid, app.spaceGuid, 'developer')
  }

  /** AppAccess#read_env?: an admin or a developer of the app's space. */
  canReadEnv(principal: Principal, app: AppRecord): boolean {
    if (principal.admin) return true
    return principal.userGuid !== null && this.roles.hasSpaceRole(principal.userGuid, app.spaceGuid, 'developer')
  }

  /** The apps the principal may list, in id order; an admin's list is the store's own array. */
  visibleApps(principal: Principal): readonly AppRecord[] {
    if (principal.admin) return this.store.apps()
    return this.visibility(principal)?.apps ?? []
  }

  visibleSpaces(principal: Principal): readonly SpaceRecord[] {
    const spaces = this.spacesOf(principal)
    if (spaces === null) return this.store.spaces()
    return this.store.spaces().filter((s) => spaces.has(s.guid))
  }

  visibleOrgs(principal: Principal): readonly OrgRecord[] {
    if (principal.admin) return this.store.orgs()
    const orgs = this.visibility(principal)?.orgs ?? EMPTY
    return this.store.orgs().filter((o) => orgs.has(o.guid))
  }

  private visibility(principal: Principal): Visibility | undefined {
    const user = principal.userGuid
    if (!user) return undefined
    const cached = this.cache.get(user)
    if (cached && cached.generation === this.store.generation) return cached
    const roles = this.roles
    const managed = roles.orgsOf(user, 'manager')
    const spaces = new Set<string>()
    for (const role of ['developer', 'manager', 'auditor'] as const) {
      for (const guid of roles.spacesOf(user, role)) spaces.add(guid)
    }
    for (const org of managed) for (const space of this.store.spacesOfOrg(org)) spaces.add(space.guid)
    const routeSpaces = new Set(spaces)
    for (const org of roles.orgsOf(user, 'auditor')) {
      for (const space of this.store.spacesOfOrg(org)) routeSpaces.add(space.guid)
    }
    const orgs = new Set<string>()
    for (const role of ['user', 'manager', 'billing_manager', 'auditor'] as const) {
      for (const guid of roles.orgsOf(user, role)) orgs.add(guid)
    }
    // CC makes every holder of a space role a user of its org; a store written before the org roles
    // existed has only the space developers, so their orgs count as theirs too.
    for (const guid of roles.spacesOf(user, 'developer')) {
      const space = this.store.space(guid)
      if (space) orgs.add(space.orgGuid)
    }
    const apps: AppRecord[] = []
    for (const guid of spaces) apps.push(...this.store.appsInSpace(guid))
    apps.sort((a, b) => a.id - b.id)
    const visibility = { generation: this.store.generation, spaces, routeSpaces, orgs, apps }
    this.cache.set(user, visibility)
    return visibility
  }
}

const EMPTY: ReadonlySet<string> = new Set()
