// The CC's roles beside the store's space developers: an org's users, managers, billing managers and
// auditors, a space's managers and auditors, and each org's status (active or suspended). Kept in the
// store's SQLite file, in tables of their own, and mirrored in memory; a write goes through the
// store's transaction, so it commits or rolls back with the rest. One Roles per store (Roles.of).
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { type Store, StoreError } from './store.js'

export type OrgRole = 'user' | 'manager' | 'billing_manager' | 'auditor'
export type SpaceRole = 'developer' | 'manager' | 'auditor'
export type OrgStatus = 'active' | 'suspended'

export const ORG_ROLES: readonly OrgRole[] = ['user', 'manager', 'billing_manager', 'auditor']
export const SPACE_ROLES: readonly SpaceRole[] = ['developer', 'manager', 'auditor']

const SCHEMA = `
CREATE TABLE IF NOT EXISTS organization_roles (
  user_guid TEXT NOT NULL, organization_guid TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'manager', 'billing_manager', 'auditor')),
  PRIMARY KEY (user_guid, organization_guid, role));
CREATE TABLE IF NOT EXISTS space_roles (
  user_guid TEXT NOT NULL, space_guid TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('manager', 'auditor')),
  PRIMARY KEY (user_guid, space_guid, role));
CREATE TABLE IF NOT EXISTS organization_statuses (
  organization_guid TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('active', 'suspended')));
`

const EMPTY_SET: ReadonlySet<string> = new Set()
const instances = new WeakMap<Store, Roles>()

export class Roles {
  /** The roles of this store (created, with its tables, on first use). */
  static of(store: Store): Roles {
    let roles = instances.get(store)
    if (!roles) instances.set(store, (roles = new Roles(store)))
    return roles
  }

  private readonly store: Store
  private readonly sql: { orgRole: StatementSync; spaceRole: StatementSync; status: StatementSync }
  // role -> user guid -> org (or space) guids, and the reverse: role -> org (space) guid -> user guids.
  private readonly orgsByUser = new Map<OrgRole, Map<string, Set<string>>>()
  private readonly usersByOrg = new Map<OrgRole, Map<string, Set<string>>>()
  private readonly spacesByUser = new Map<SpaceRole, Map<string, Set<string>>>()
  private readonly usersBySpace = new Map<SpaceRole, Map<string, Set<string>>>()
  private readonly suspended = new Set<string>()

  private constructor(store: Store) {
    this.store = store
    const db: DatabaseSync = store.database
    db.exec(SCHEMA)
    this.sql = {
      orgRole: db.prepare(
        'INSERT OR IGNORE INTO organization_roles (user_guid, organization_guid, role) VALUES (?, ?, ?)',
      ),
      spaceRole: db.prepare('INSERT OR IGNORE INTO space_roles (user_guid, space_guid, role) VALUES (?, ?, ?)'),
      status: db.prepare('INSERT OR REPLACE INTO organization_statuses (organization_guid, status) VALUES (?, ?)'),
    }
    for (const role of ORG_ROLES) {
      this.orgsByUser.set(role, new Map())
      this.usersByOrg.set(role, new Map())
    }
    for (const role of SPACE_ROLES) {
      this.spacesByUser.set(role, new Map())
      this.usersBySpace.set(role, new Map())
    }
    const orgRows = db.prepare('SELECT * FROM organization_roles').all() as unknown as OrgRoleRow[]
    for (const row of orgRows) this.indexOrgRole(row.user_guid, row.organization_guid, row.role)
    const spaceRows = db.prepare('SELECT * FROM space_roles').all() as unknown as SpaceRoleRow[]
    for (const row of spaceRows) this.indexSpaceRole(row.user_guid, row.space_guid, row.role)
    const statusRows = db.prepare('SELECT * FROM organization_statuses').all() as unknown as StatusRow[]
    for (const row of statusRows) if (row.status === 'suspended') this.suspended.add(row.organization_guid)
  }

  // ---- reads ----

  /** The orgs where the user holds `role`. */
  orgsOf(userGuid: string, role: OrgRole): ReadonlySet<string> {
    return this.orgsByUser.get(role)!.get(userGuid) ?? EMPTY_SET
  }

  /** The spaces where the user holds `role` (developers are the store's own table). */
  spacesOf(userGuid: string, role: SpaceRole): ReadonlySet<string> {
    if (role === 'developer') return this.store.developerSpaceGuids(userGuid)
    return this.spacesByUser.get(role)!.get(userGuid) ?? EMPTY_SET
  }

  hasOrgRole(userGuid: string, orgGuid: string, role: OrgRole): boolean {
    return this.orgsOf(userGuid, role).has(orgGuid)
  }

  hasSpaceRole(userGuid: string, spaceGuid: string, role: SpaceRole): boolean {
    return this.spacesOf(userGuid, role).has(spaceGuid)
  }

  /** The guids of the users holding `role` in the org, in no particular order. */
  orgMembers(orgGuid: string, role: OrgRole): ReadonlySet<string> {
    return this.usersByOrg.get(role)!.get(orgGuid) ?? EMPTY_SET
  }

  /** The guids of the users holding `role` in the space. */
  spaceMembers(spaceGuid: string, role: SpaceRole): ReadonlySet<string> {
    if (role === 'developer') {
      const developers = new Set<string>()
      for (const user of this.store.users()) {
        if (this.store.developerSpaceGuids(user.guid).has(spaceGuid)) developers.add(user.guid)
      }
      return developers
    }
    return this.usersBySpace.get(role)!.get(spaceGuid) ?? EMPTY_SET
  }

  status(orgGuid: string): OrgStatus {
    return this.suspended.has(orgGuid) ? 'suspended' : 'active'
  }

  isSuspended(orgGuid: string): boolean {
    return this.suspended.has(orgGuid)
  }

  // ---- writes ----

  addOrgRole(userGuid: string, orgGuid: string, role: OrgRole): void {
    this.store.transaction(() => {
      if (!this.store.user(userGuid)) throw new StoreError(`user ${userGuid} does not exist`)
      if (!this.store.org(orgGuid)) throw new StoreError(`organization ${orgGuid} does not exist`)
      if (this.hasOrgRole(userGuid, orgGuid, role)) return
      this.sql.orgRole.run(userGuid, orgGuid, role)
      this.indexOrgRole(userGuid, orgGuid, role)
      this.store.onRollback(() => {
        this.orgsByUser.get(role)!.get(userGuid)?.delete(orgGuid)
        this.usersByOrg.get(role)!.get(orgGuid)?.delete(userGuid)
      })
    })
  }

  /** A space role; as CC requires, the user becomes a user of the space's org too. */
  addSpaceRole(userGuid: string, spaceGuid: string, role: SpaceRole): void {
    this.store.transaction(() => {
      const space = this.store.space(spaceGuid)
      if (!space) throw new StoreError(`space ${spaceGuid} does not exist`)
      this.addOrgRole(userGuid, space.orgGuid, 'user')
      if (role === 'developer') {
        this.store.addSpaceDeveloper(userGuid, spaceGuid)
        return
      }
      if (this.hasSpaceRole(userGuid, spaceGuid, role)) return
      this.sql.spaceRole.run(userGuid, spaceGuid, role)
      this.indexSpaceRole(userGuid, spaceGuid, role)
      this.store.onRollback(() => {
        this.spacesByUser.get(role)!.get(userGuid)?.delete(spaceGuid)
        this.usersBySpace.get(role)!.get(spaceGuid)?.delete(userGuid)
      })
    })
  }

  setStatus(orgGuid: string, status: OrgStatus): void {
    this.store.transaction(() => {
      if (!this.store.org(orgGuid)) throw new StoreError(`organization ${orgGuid} does not exist`)
      const was = this.suspended.has(orgGuid)
      this.sql.status.run(orgGuid, status)
      if (status === 'suspended') this.suspended.add(orgGuid)
      else this.suspended.delete(orgGuid)
      this.store.onRollback(() => (was ? this.suspended.add(orgGuid) : this.suspended.delete(orgGuid)))
    })
  }

  private indexOrgRole(userGuid: string, orgGuid: string, role: OrgRole): void {
    addTo(this.orgsByUser.get(role)!, userGuid, orgGuid)
    addTo(this.usersByOrg.get(role)!, orgGuid, userGuid)
  }

  private indexSpaceRole(userGuid: string, spaceGuid: string, role: SpaceRole): void {
    addTo(this.spacesByUser.get(role)!, userGuid, spaceGuid)
    addTo(this.usersBySpace.get(role)!, spaceGuid, userGuid)
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key)
  if (!set) map.set(key, (set = new Set()))
  set.add(value)
}

interface OrgRoleRow {
  user_guid: string
  organization_guid: string
  role: OrgRole
}
interface SpaceRoleRow {
  user_guid: string
  space_guid: string
  role: SpaceRole
}
interface StatusRow {
  organization_guid: string
  status: OrgStatus
}
