// Who sees and changes what, as CC's access classes decide it for the roles this foundation has:
// an admin (scope cloud_controller.admin) sees and changes everything; a space developer sees the
// apps, spaces and orgs of their spaces and may change those apps; anybody else sees nothing.
// Tokens must also carry cloud_controller.read to read and cloud_controller.write to write.
import { CfError } from './errors.js'
import type { AppRecord, OrgRecord, SpaceRecord, Store } from './store.js'
import { type Principal, READ_SCOPE, WRITE_SCOPE } from './uaa.js'

export class Access {
  private readonly store: Store
  // A developer's visible apps, rebuilt only after a write (any write bumps the store's generation).
  private readonly appsCache = new Map<string, { generation: number; apps: readonly AppRecord[] }>()

  constructor(store: Store) {
    this.store = store
  }

  /** CC's `read_with_token?`: the token must be able to read at all. */
  requireRead(principal: Principal): void {
    if (!principal.admin && !principal.scopes.has(READ_SCOPE)) throw new CfError('InsufficientScope')
  }

  /** CC's `update_with_token?`. */
  requireWrite(principal: Principal): void {
    if (!principal.admin && !principal.scopes.has(WRITE_SCOPE)) throw new CfError('InsufficientScope')
  }

  /** Spaces the principal develops in; null means every space (an admin). */
  spacesOf(principal: Principal): ReadonlySet<string> | null {
    if (principal.admin) return null
    return principal.userGuid ? this.store.developerSpaceGuids(principal.userGuid) : EMPTY
  }

  canSeeSpace(principal: Principal, spaceGuid: string): boolean {
    const spaces = this.spacesOf(principal)
    return spaces === null || spaces.has(spaceGuid)
  }

  canSeeOrg(principal: Principal, orgGuid: string): boolean {
    const spaces = this.spacesOf(principal)
    if (spaces === null) return true
    for (const guid of spaces) if (this.store.space(guid)?.orgGuid === orgGuid) return true
    return false
  }

  /** A space developer may change the apps of their spaces; an admin any app. */
  canChangeApp(principal: Principal, app: AppRecord): boolean {
    return this.canSeeSpace(principal, app.spaceGuid)
  }

  /** The apps the principal may list, in id order; an admin's list is the store's own array. */
  visibleApps(principal: Principal): readonly AppRecord[] {
    const spaces = this.spacesOf(principal)
    if (spaces === null) return this.store.apps()
    if (spaces.size === 0 || !principal.userGuid) return []
    const cached = this.appsCache.get(principal.userGuid)
    if (cached && cached.generation === this.store.generation) return cached.apps
    const apps: AppRecord[] = []
    for (const guid of spaces) apps.push(...this.store.appsInSpace(guid))
    apps.sort((a, b) => a.id - b.id)
    this.appsCache.set(principal.userGuid, { generation: this.store.generation, apps })
    return apps
  }

  visibleSpaces(principal: Principal): readonly SpaceRecord[] {
    const spaces = this.spacesOf(principal)
    if (spaces === null) return this.store.spaces()
    return this.store.spaces().filter((s) => spaces.has(s.guid))
  }

  visibleOrgs(principal: Principal): readonly OrgRecord[] {
    const spaces = this.spacesOf(principal)
    if (spaces === null) return this.store.orgs()
    const orgs = new Set<string>()
    for (const guid of spaces) {
      const space = this.store.space(guid)
      if (space) orgs.add(space.orgGuid)
    }
    return this.store.orgs().filter((o) => orgs.has(o.guid))
  }
}

const EMPTY: ReadonlySet<string> = new Set()
