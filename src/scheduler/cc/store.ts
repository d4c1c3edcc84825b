// The Cloud Controller's database: orgs, spaces, apps (with the `diego` column), routes, users and
// their space developer roles, in SQLite through node:sqlite, either in memory or in a WAL-mode file
// that survives a restart. Reads never touch SQLite: every row is mirrored in an in-memory index
// (apps in id order, by guid, by space) that each write updates in step, inside the same transaction,
// so a listing of 50,000 apps costs no query and no COUNT(*). Records are immutable: an update
// replaces the record, so anything cached per record (its serialized JSON) is invalidated by identity.
import { randomBytes, randomUUID, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fchmodSync, openSync } from 'node:fs'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { PreparedSecrets } from './secrets.js'

export type AppState = 'STARTED' | 'STOPPED'
// CC 2.54's App::HEALTH_CHECK_TYPES is port, none and process; http came later and is kept for seeds.
export type HealthCheckType = 'port' | 'none' | 'process' | 'http'
export type PackageState = 'PENDING' | 'STAGED' | 'FAILED'

export const APP_STATES: readonly AppState[] = ['STARTED', 'STOPPED']

/** App::STAGING_FAILED_REASONS: each is also the name of the CF error /instances answers with. */
export type StagingFailedReason =
  | 'StagingError'
  | 'StagingTimeExpired'
  | 'NoAppDetectedError'
  | 'BuildpackCompileFailed'
  | 'BuildpackReleaseFailed'
  | 'InsufficientResources'
  | 'NoCompatibleCell'

export interface OrgRecord {
  readonly id: number
  readonly guid: string
  readonly name: string
  readonly createdAt: number
  readonly updatedAt: number
}

export interface SpaceRecord {
  readonly id: number
  readonly guid: string
  readonly name: string
  readonly orgGuid: string
  readonly createdAt: number
  readonly updatedAt: number
}

export interface StackRecord {
  readonly id: number
  readonly guid: string
  readonly name: string
  readonly description: string
}

export interface DomainRecord {
  readonly id: number
  readonly guid: string
  readonly name: string
}

export interface RouteRecord {
  readonly id: number
  readonly guid: string
  readonly host: string
  readonly domainGuid: string
  readonly domainName: string
  /** `host.domain`, lower-cased: what the router matches a Host header against. */
  readonly hostname: string
}

export interface AppRecord {
  readonly id: number
  readonly guid: string
  readonly name: string
  readonly spaceGuid: string
  readonly orgGuid: string
  readonly state: AppState
  readonly instances: number
  readonly memoryMb: number
  readonly diskMb: number
  readonly diego: boolean
  /** Changes whenever the running app must be replaced (start, memory change): CC's `version`. */
  readonly version: string
  readonly stackGuid: string
  readonly stackName: string
  readonly healthCheckType: HealthCheckType
  readonly enableSsh: boolean
  /** The ports the user gave (Diego only); null when none were given. */
  readonly ports: readonly number[] | null
  readonly packageState: PackageState
  readonly stagingFailedReason: StagingFailedReason | null
  readonly stagingFailedDescription: string | null
  readonly detectedBuildpack: string | null
  readonly detectedStartCommand: string
  readonly packageUpdatedAt: number
  readonly createdAt: number
  readonly updatedAt: number
  readonly routes: readonly RouteRecord[]
}

export interface UserRecord {
  readonly id: number
  readonly guid: string
  readonly username: string
  /** Holds `cloud_controller.admin`. */
  readonly admin: boolean
  readonly createdAt: number
}

export interface NewApp {
  spaceGuid: string
  name: string
  instances: number
  memoryMb: number
  diskMb: number
  state: AppState
  diego: boolean
  at: number
  guid?: string
  version?: string
  stackGuid?: string
  healthCheckType?: HealthCheckType
  packageState?: PackageState
  stagingFailedReason?: StagingFailedReason | null
  stagingFailedDescription?: string | null
  enableSsh?: boolean
  detectedBuildpack?: string | null
  detectedStartCommand?: string
  /** Hosts on a domain; the pair must be unique across the foundation. */
  routes?: { host: string; domainGuid: string; guid?: string }[]
}

export interface AppPatch {
  name?: string
  instances?: number
  memoryMb?: number
  diskMb?: number
  state?: AppState
  diego?: boolean
  version?: string
  healthCheckType?: HealthCheckType
  enableSsh?: boolean
  /** null clears the user's ports. */
  ports?: readonly number[] | null
  packageState?: PackageState
  stagingFailedReason?: StagingFailedReason | null
  stagingFailedDescription?: string | null
  packageUpdatedAt?: number
}

/** A write the store refuses: what is wrong, in words a caller can show. Nothing was written. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreError'
  }
}

export const DEFAULT_STACK = { name: 'cflinuxfs2', description: 'Cloud Foundry Linux-based filesystem' }

export interface OpenStoreOptions {
  /** A SQLite file (created if missing, WAL mode); in memory when absent or ':memory:'. */
  path?: string
}

export function openStore(options: OpenStoreOptions = {}): Store {
  return new Store(options.path ?? ':memory:')
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stacks (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domains (id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS orgs (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spaces (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, org_id INTEGER NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (org_id, name));
CREATE TABLE IF NOT EXISTS apps (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, space_id INTEGER NOT NULL REFERENCES spaces(id),
  name TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('STARTED', 'STOPPED')),
  instances INTEGER NOT NULL CHECK (instances >= 0), memory INTEGER NOT NULL CHECK (memory > 0),
  disk_quota INTEGER NOT NULL CHECK (disk_quota > 0), diego INTEGER NOT NULL CHECK (diego IN (0, 1)),
  version TEXT NOT NULL, stack_id INTEGER NOT NULL REFERENCES stacks(id), health_check_type TEXT NOT NULL,
  package_state TEXT NOT NULL, detected_buildpack TEXT, detected_start_command TEXT NOT NULL,
  package_updated_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  enable_ssh INTEGER NOT NULL DEFAULT 1, ports TEXT, staging_failed_reason TEXT, staging_failed_description TEXT,
  UNIQUE (space_id, name));
CREATE TABLE IF NOT EXISTS routes (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, host TEXT NOT NULL, domain_id INTEGER NOT NULL REFERENCES domains(id),
  app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE, UNIQUE (host, domain_id));
CREATE INDEX IF NOT EXISTS routes_app ON routes (app_id);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  password_salt TEXT NOT NULL, admin INTEGER NOT NULL CHECK (admin IN (0, 1)), created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS space_developers (
  user_id INTEGER NOT NULL REFERENCES users(id), space_id INTEGER NOT NULL REFERENCES spaces(id),
  PRIMARY KEY (user_id, space_id));
`

// scrypt's cost (N = 2^14) is the node default; a login takes tens of milliseconds, off the hot path.
const SCRYPT_KEYLEN = 32

interface UserSecret {
  record: UserRecord
  hash: Buffer
  salt: Buffer
}

export class Store {
  readonly path: string
  private readonly db: DatabaseSync
  private readonly sql: Statements
  /** Undo steps of the in-memory index for the transaction in progress; null outside one. */
  private undo: (() => void)[] | null = null
  private generationCounter = 0

  private readonly orgList: OrgRecord[] = []
  private readonly orgByGuid = new Map<string, OrgRecord>()
  private readonly orgIdByName = new Map<string, number>()
  private readonly spaceList: SpaceRecord[] = []
  private readonly spaceByGuid = new Map<string, SpaceRecord>()
  private readonly spacesByOrg = new Map<string, SpaceRecord[]>()
  private readonly stackByGuid = new Map<string, StackRecord>()
  private readonly domainByGuid = new Map<string, DomainRecord>()
  private readonly appList: AppRecord[] = []
  private readonly appByGuid = new Map<string, AppRecord>()
  private readonly appsBySpace = new Map<string, AppRecord[]>()
  private readonly appGuidBySpaceAndName = new Map<string, string>()
  private readonly appGuidByHostname = new Map<string, string>()
  private readonly userByGuid = new Map<string, UserSecret>()
  private readonly userByName = new Map<string, UserSecret>()
  private readonly developerSpaces = new Map<string, Set<string>>()
  /** Salted hashes made ahead of createUser (see prepareSecrets). */
  private preparedSecrets: PreparedSecrets | undefined
  private defaultStackGuid = ''
  private signingKeyValue: Buffer
  private quotaGuid = ''

  constructor(path: string) {
    this.path = path
    if (path !== ':memory:') restrictToOwner(path)
    this.db = new DatabaseSync(path)
    if (path !== ':memory:') {
      this.db.exec('PRAGMA journal_mode = WAL')
      this.db.exec('PRAGMA synchronous = NORMAL')
    }
    this.db.exec('PRAGMA foreign_keys = ON')
    this.db.exec(SCHEMA)
    addMissingColumns(this.db)
    this.sql = prepareStatements(this.db)
    this.signingKeyValue = Buffer.alloc(0)
    this.transaction(() => {
      this.signingKeyValue = Buffer.from(
        this.metaOr('token_signing_key', () => randomBytes(32).toString('hex')),
        'hex',
      )
      this.quotaGuid = this.metaOr('default_quota_definition_guid', () => randomUUID())
      this.load()
      if (!this.stackByName(DEFAULT_STACK.name)) this.createStack(DEFAULT_STACK.name, DEFAULT_STACK.description)
      this.defaultStackGuid = this.stackByName(DEFAULT_STACK.name)!.guid
    })
  }

  /** Bumped by every committed write; caches keyed on it stay in step with the data. */
  get generation(): number {
    return this.generationCounter
  }

  /** The HS256 key that signs tokens; persisted, so tokens outlive a restart with the same file. */
  get signingKey(): Buffer {
    return this.signingKeyValue
  }

  /** The one quota definition every org has (CC's `default` quota). */
  get defaultQuotaDefinitionGuid(): string {
    return this.quotaGuid
  }

  /** The SQLite database, for tables kept beside the store's own (the audit events, events.ts). */
  get database(): DatabaseSync {
    return this.db
  }

  /** Inside a transaction: a step that undoes an in-memory change of the caller's if it rolls back. */
  onRollback(step: () => void): void {
    this.onUndo(step)
  }

  isEmpty(): boolean {
    return this.orgList.length === 0
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
  }

  // ---- reads (memory only) ----

  orgs(): readonly OrgRecord[] {
    return this.orgList
  }

  org(guid: string): OrgRecord | undefined {
    return this.orgByGuid.get(guid)
  }

  spaces(): readonly SpaceRecord[] {
    return this.spaceList
  }

  space(guid: string): SpaceRecord | undefined {
    return this.spaceByGuid.get(guid)
  }

  spacesOfOrg(orgGuid: string): readonly SpaceRecord[] {
    return this.spacesByOrg.get(orgGuid) ?? EMPTY
  }

  /** Every app, in id (creation) order: CC's default listing order. */
  apps(): readonly AppRecord[] {
    return this.appList
  }

  app(guid: string): AppRecord | undefined {
    return this.appByGuid.get(guid)
  }

  appsInSpace(spaceGuid: string): readonly AppRecord[] {
    return this.appsBySpace.get(spaceGuid) ?? EMPTY
  }

  appNamed(spaceGuid: string, name: string): AppRecord | undefined {
    const guid = this.appGuidBySpaceAndName.get(spaceAppKey(spaceGuid, name))
    return guid === undefined ? undefined : this.appByGuid.get(guid)
  }

  /** The app that owns a route (`host.domain`), whatever its state. */
  appByHostname(hostname: string): AppRecord | undefined {
    const guid = this.appGuidByHostname.get(hostname.toLowerCase())
    return guid === undefined ? undefined : this.appByGuid.get(guid)
  }

  stack(guid: string): StackRecord | undefined {
    return this.stackByGuid.get(guid)
  }

  /** Every stack, in id order. */
  stacks(): readonly StackRecord[] {
    return [...this.stackByGuid.values()].sort((a, b) => a.id - b.id)
  }

  stackByName(name: string): StackRecord | undefined {
    for (const stack of this.stackByGuid.values()) if (stack.name === name) return stack
    return undefined
  }

  get defaultStack(): StackRecord {
    return this.stackByGuid.get(this.defaultStackGuid)!
  }

  domains(): readonly DomainRecord[] {
    return [...this.domainByGuid.values()]
  }

  domainByName(name: string): DomainRecord | undefined {
    for (const domain of this.domainByGuid.values()) if (domain.name === name) return domain
    return undefined
  }

  user(guid: string): UserRecord | undefined {
    return this.userByGuid.get(guid)?.record
  }

  userNamed(username: string): UserRecord | undefined {
    return this.userByName.get(username)?.record
  }

  users(): readonly UserRecord[] {
    return [...this.userByGuid.values()].map((u) => u.record).sort((a, b) => a.id - b.id)
  }

  /** Guids of the spaces the user is a space developer in (live: role changes show at once). */
  developerSpaceGuids(userGuid: string): ReadonlySet<string> {
    return this.developerSpaces.get(userGuid) ?? EMPTY_SET
  }

  /** The user whose password this is, or undefined; scrypt runs off the event loop. */
  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const secret = this.userByName.get(username)
    // Hash even for an unknown user, so the answer takes as long either way.
    const salt = secret?.salt ?? DUMMY_SALT
    const hash = await scryptAsync(password, salt)
    if (!secret) return undefined
    return timingSafeEqual(hash, secret.hash) ? secret.record : undefined
  }

  /**
   * Starts hashing these passwords on a worker thread for the createUser calls that follow (each takes one made
   * for its password, with a salt of its own), so a seed's users cost its boot nothing while it writes the
   * fleet. forgetPreparedSecrets() stops the worker and drops what no createUser took.
   */
  prepareSecrets(passwords: readonly string[]): void {
    this.preparedSecrets?.close()
    this.preparedSecrets = new PreparedSecrets(passwords, SCRYPT_KEYLEN)
  }

  forgetPreparedSecrets(): void {
    this.preparedSecrets?.close()
    this.preparedSecrets = undefined
  }

  // ---- writes (SQLite and index together, in one transaction) ----

  /**
   * Runs fn in one SQLite transaction. If fn throws, the database rolls back and the in-memory index
   * is restored, so a failed multi-row change leaves nothing behind. Nested calls join the outer one.
   */
  transaction<T>(fn: () => T): T {
    if (this.undo) return fn()
    this.db.exec('BEGIN IMMEDIATE')
    const undo: (() => void)[] = []
    this.undo = undo
    try {
      const result = fn()
      this.db.exec('COMMIT')
      this.undo = null
      this.generationCounter++
      return result
    } catch (error) {
      this.undo = null
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!()
      throw error
    }
  }

  createStack(name: string, description: string): StackRecord {
    requireName(name, 'stack name')
    return this.transaction(() => {
      if (this.stackByName(name)) throw new StoreError(`stack "${name}" already exists`)
      const guid = randomUUID()
      const id = Number(this.sql.insertStack.run(guid, name, description).lastInsertRowid)
      const stack: StackRecord = { id, guid, name, description }
      this.stackByGuid.set(guid, stack)
      this.onUndo(() => this.stackByGuid.delete(guid))
      return stack
    })
  }

  createDomain(name: string, guid: string = randomUUID()): DomainRecord {
    requireName(name, 'domain name')
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(name)) {
      throw new StoreError(`domain "${name}" is not a valid lower-case DNS name with at least two labels`)
    }
    return this.transaction(() => {
      if (this.domainByName(name)) throw new StoreError(`domain "${name}" already exists`)
      const id = Number(this.sql.insertDomain.run(guid, name).lastInsertRowid)
      const domain: DomainRecord = { id, guid, name }
      this.domainByGuid.set(guid, domain)
      this.onUndo(() => this.domainByGuid.delete(guid))
      return domain
    })
  }

  createOrg(input: { name: string; at: number; guid?: string }): OrgRecord {
    requireName(input.name, 'organization name')
    return this.transaction(() => {
      if (this.orgIdByName.has(input.name)) throw new StoreError(`organization "${input.name}" already exists`)
      const guid = input.guid ?? randomUUID()
      const id = Number(this.sql.insertOrg.run(guid, input.name, input.at, input.at).lastInsertRowid)
      const org: OrgRecord = { id, guid, name: input.name, createdAt: input.at, updatedAt: input.at }
      this.indexOrg(org)
      this.onUndo(() => {
        removeById(this.orgList, id)
        this.orgByGuid.delete(guid)
        this.orgIdByName.delete(org.name)
      })
      return org
    })
  }

  createSpace(input: { orgGuid: string; name: string; at: number; guid?: string }): SpaceRecord {
    requireName(input.name, 'space name')
    return this.transaction(() => {
      const org = this.orgByGuid.get(input.orgGuid)
      if (!org) throw new StoreError(`organization ${input.orgGuid} does not exist`)
      if (this.spacesOfOrg(org.guid).some((s) => s.name === input.name)) {
        throw new StoreError(`space "${input.name}" already exists in organization "${org.name}"`)
      }
      const guid = input.guid ?? randomUUID()
      const id = Number(this.sql.insertSpace.run(guid, org.id, input.name, input.at, input.at).lastInsertRowid)
      const space: SpaceRecord = {
        id,
        guid,
        name: input.name,
        orgGuid: org.guid,
        createdAt: input.at,
        updatedAt: input.at,
      }
      this.indexSpace(space)
      this.onUndo(() => {
        removeById(this.spaceList, id)
        this.spaceByGuid.delete(guid)
        removeById(this.spacesByOrg.get(org.guid)!, id)
      })
      return space
    })
  }

  createApp(input: NewApp): AppRecord {
    requireName(input.name, 'app name')
    requireAppNumbers(input)
    if (!APP_STATES.includes(input.state))
      throw new StoreError(`app state must be STARTED or STOPPED, got ${input.state}`)
    return this.transaction(() => {
      const space = this.spaceByGuid.get(input.spaceGuid)
      if (!space) throw new StoreError(`space ${input.spaceGuid} does not exist`)
      if (this.appNamed(space.guid, input.name)) {
        throw new StoreError(`app "${input.name}" already exists in space "${space.name}"`)
      }
      const stack = this.stackByGuid.get(input.stackGuid ?? this.defaultStackGuid)
      if (!stack) throw new StoreError(`stack ${input.stackGuid} does not exist`)
      const guid = input.guid ?? randomUUID()
      const app0 = {
        guid,
        name: input.name,
        spaceGuid: space.guid,
        orgGuid: space.orgGuid,
        state: input.state,
        instances: input.instances,
        memoryMb: input.memoryMb,
        diskMb: input.diskMb,
        diego: input.diego,
        version: input.version ?? randomUUID(),
        stackGuid: stack.guid,
        stackName: stack.name,
        healthCheckType: input.healthCheckType ?? 'port',
        enableSsh: input.enableSsh ?? true,
        ports: null,
        packageState: input.packageState ?? 'STAGED',
        stagingFailedReason: input.stagingFailedReason ?? null,
        stagingFailedDescription: input.stagingFailedDescription ?? null,
        detectedBuildpack: input.detectedBuildpack ?? null,
        detectedStartCommand: input.detectedStartCommand ?? '',
        packageUpdatedAt: input.at,
        createdAt: input.at,
        updatedAt: input.at,
      }
      const id = Number(
        this.sql.insertApp.run(
          app0.guid,
          space.id,
          app0.name,
          app0.state,
          app0.instances,
          app0.memoryMb,
          app0.diskMb,
          app0.diego ? 1 : 0,
          app0.version,
          stack.id,
          app0.healthCheckType,
          app0.packageState,
          app0.detectedBuildpack,
          app0.detectedStartCommand,
          app0.packageUpdatedAt,
          app0.createdAt,
          app0.updatedAt,
          app0.enableSsh ? 1 : 0,
          app0.stagingFailedReason,
          app0.stagingFailedDescription,
        ).lastInsertRowid,
      )
      const routes = (input.routes ?? []).map((r) => this.insertRoute(id, r))
      const app: AppRecord = { id, ...app0, routes }
      this.indexApp(app)
      this.onUndo(() => this.unindexApp(app))
      return app
    })
  }

  /** Applies a patch; the updated record replaces the old one (which callers may still hold). */
  updateApp(guid: string, patch: AppPatch, at: number): AppRecord {
    return this.transaction(() => {
      const before = this.appByGuid.get(guid)
      if (!before) throw new StoreError(`app ${guid} does not exist`)
      const after: AppRecord = { ...before, ...definedOnly(patch), updatedAt: at }
      if (patch.ports === null) (after as { ports: readonly number[] | null }).ports = null
      requireName(after.name, 'app name')
      requireAppNumbers(after)
      if (!APP_STATES.includes(after.state))
        throw new StoreError(`app state must be STARTED or STOPPED, got ${after.state}`)
      if (after.name !== before.name && this.appNamed(after.spaceGuid, after.name)) {
        throw new StoreError(`app "${after.name}" already exists in this space`)
      }
      this.sql.updateApp.run(
        after.name,
        after.state,
        after.instances,
        after.memoryMb,
        after.diskMb,
        after.diego ? 1 : 0,
        after.version,
        after.healthCheckType,
        after.enableSsh ? 1 : 0,
        after.ports === null ? null : JSON.stringify(after.ports),
        after.packageState,
        after.stagingFailedReason,
        after.stagingFailedDescription,
        after.packageUpdatedAt,
        after.updatedAt,
        before.id,
      )
      this.reindexApp(before, after)
      this.onUndo(() => this.reindexApp(after, before))
      return after
    })
  }

  deleteApp(guid: string): AppRecord {
    return this.transaction(() => {
      const app = this.appByGuid.get(guid)
      if (!app) throw new StoreError(`app ${guid} does not exist`)
      this.sql.deleteRoutesOfApp.run(app.id)
      this.sql.deleteApp.run(app.id)
      this.unindexApp(app)
      this.onUndo(() => this.indexApp(app))
      return app
    })
  }

  createUser(input: { username: string; password: string; admin: boolean; at: number; guid?: string }): UserRecord {
    requireName(input.username, 'username')
    if (typeof input.password !== 'string' || input.password.length === 0) {
      throw new StoreError(`user "${input.username}" needs a non-empty password`)
    }
    return this.transaction(() => {
      if (this.userByName.has(input.username)) throw new StoreError(`user "${input.username}" already exists`)
      const guid = input.guid ?? randomUUID()
      const prepared = this.preparedSecrets?.take(input.password)
      const salt = prepared?.salt ?? randomBytes(16)
      const hash = prepared?.hash ?? scryptSync(input.password, salt, SCRYPT_KEYLEN)
      const id = Number(
        this.sql.insertUser.run(
          guid,
          input.username,
          hash.toString('hex'),
          salt.toString('hex'),
          input.admin ? 1 : 0,
          input.at,
        ).lastInsertRowid,
      )
      const record: UserRecord = { id, guid, username: input.username, admin: input.admin, createdAt: input.at }
      const secret = { record, hash, salt }
      this.userByGuid.set(guid, secret)
      this.userByName.set(input.username, secret)
      this.onUndo(() => {
        this.userByGuid.delete(guid)
        this.userByName.delete(input.username)
      })
      return record
    })
  }

  addSpaceDeveloper(userGuid: string, spaceGuid: string): void {
    this.transaction(() => {
      const user = this.userByGuid.get(userGuid)
      if (!user) throw new StoreError(`user ${userGuid} does not exist`)
      const space = this.spaceByGuid.get(spaceGuid)
      if (!space) throw new StoreError(`space ${spaceGuid} does not exist`)
      let spaces = this.developerSpaces.get(userGuid)
      if (spaces?.has(spaceGuid)) return
      this.sql.insertDeveloper.run(user.record.id, space.id)
      if (!spaces) this.developerSpaces.set(userGuid, (spaces = new Set()))
      spaces.add(spaceGuid)
      this.onUndo(() => this.developerSpaces.get(userGuid)?.delete(spaceGuid))
    })
  }

  // ---- internals ----

  private onUndo(step: () => void): void {
    if (!this.undo) throw new Error('index change outside a transaction')
    this.undo.push(step)
  }

  private metaOr(key: string, create: () => string): string {
    const row = this.sql.getMeta.get(key) as { value: string } | undefined
    if (row) return row.value
    const value = create()
    this.sql.setMeta.run(key, value)
    return value
  }

  private insertRoute(appId: number, route: { host: string; domainGuid: string; guid?: string }): RouteRecord {
    const domain = this.domainByGuid.get(route.domainGuid)
    if (!domain) throw new StoreError(`domain ${route.domainGuid} does not exist`)
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(route.host)) {
      throw new StoreError(`route host "${route.host}" must be a lower-case DNS label`)
    }
    const hostname = `${route.host}.${domain.name}`
    if (this.appGuidByHostname.has(hostname)) throw new StoreError(`route ${hostname} is taken`)
    const guid = route.guid ?? randomUUID()
    const id = Number(this.sql.insertRoute.run(guid, route.host, domain.id, appId).lastInsertRowid)
    return { id, guid, host: route.host, domainGuid: domain.guid, domainName: domain.name, hostname }
  }

  private indexOrg(org: OrgRecord): void {
    insertById(this.orgList, org)
    this.orgByGuid.set(org.guid, org)
    this.orgIdByName.set(org.name, org.id)
  }

  private indexSpace(space: SpaceRecord): void {
    insertById(this.spaceList, space)
    this.spaceByGuid.set(space.guid, space)
    let list = this.spacesByOrg.get(space.orgGuid)
    if (!list) this.spacesByOrg.set(space.orgGuid, (list = []))
    insertById(list, space)
  }

  private indexApp(app: AppRecord): void {
    upsertById(this.appList, app)
    this.appByGuid.set(app.guid, app)
    let list = this.appsBySpace.get(app.spaceGuid)
    if (!list) this.appsBySpace.set(app.spaceGuid, (list = []))
    upsertById(list, app)
    this.appGuidBySpaceAndName.set(spaceAppKey(app.spaceGuid, app.name), app.guid)
    for (const route of app.routes) this.appGuidByHostname.set(route.hostname, app.guid)
  }

  /** Swaps an app's record for its update in place (same id, space and routes). */
  private reindexApp(before: AppRecord, after: AppRecord): void {
    upsertById(this.appList, after)
    this.appByGuid.set(after.guid, after)
    upsertById(this.appsBySpace.get(after.spaceGuid)!, after)
    this.appGuidBySpaceAndName.delete(spaceAppKey(before.spaceGuid, before.name))
    this.appGuidBySpaceAndName.set(spaceAppKey(after.spaceGuid, after.name), after.guid)
  }

  private unindexApp(app: AppRecord): void {
    removeById(this.appList, app.id)
    this.appByGuid.delete(app.guid)
    const list = this.appsBySpace.get(app.spaceGuid)
    if (list) removeById(list, app.id)
    this.appGuidBySpaceAndName.delete(spaceAppKey(app.spaceGuid, app.name))
    for (const route of app.routes) this.appGuidByHostname.delete(route.hostname)
  }

  /** Reads every table into the in-memory index (once, at open). */
  private load(): void {
    for (const row of rows<StackRow>(this.db, 'SELECT id, guid, name, description FROM stacks')) {
      this.stackByGuid.set(row.guid, { id: row.id, guid: row.guid, name: row.name, description: row.description })
    }
    for (const row of rows<DomainRow>(this.db, 'SELECT id, guid, name FROM domains')) {
      this.domainByGuid.set(row.guid, { id: row.id, guid: row.guid, name: row.name })
    }
    const orgById = new Map<number, OrgRecord>()
    for (const row of rows<OrgRow>(this.db, 'SELECT * FROM orgs ORDER BY id')) {
      const org: OrgRecord = {
        id: row.id,
        guid: row.guid,
        name: row.name,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
      orgById.set(org.id, org)
      this.indexOrg(org)
    }
    const spaceById = new Map<number, SpaceRecord>()
    for (const row of rows<SpaceRow>(this.db, 'SELECT * FROM spaces ORDER BY id')) {
      const space: SpaceRecord = {
        id: row.id,
        guid: row.guid,
        name: row.name,
        orgGuid: orgById.get(row.org_id)!.guid,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
      spaceById.set(space.id, space)
      this.indexSpace(space)
    }
    const stackById = new Map([...this.stackByGuid.values()].map((s) => [s.id, s]))
    const domainById = new Map([...this.domainByGuid.values()].map((d) => [d.id, d]))
    const routesByApp = new Map<number, RouteRecord[]>()
    for (const row of rows<RouteRow>(this.db, 'SELECT * FROM routes ORDER BY id')) {
      const domain = domainById.get(row.domain_id)!
      let list = routesByApp.get(row.app_id)
      if (!list) routesByApp.set(row.app_id, (list = []))
      list.push({
        id: row.id,
        guid: row.guid,
        host: row.host,
        domainGuid: domain.guid,
        domainName: domain.name,
        hostname: `${row.host}.${domain.name}`,
      })
    }
    for (const row of rows<AppRow>(this.db, 'SELECT * FROM apps ORDER BY id')) {
      const space = spaceById.get(row.space_id)!
      const stack = stackById.get(row.stack_id)!
      this.indexApp({
        id: row.id,
        guid: row.guid,
        name: row.name,
        spaceGuid: space.guid,
        orgGuid: space.orgGuid,
        state: row.state as AppState,
        instances: row.instances,
        memoryMb: row.memory,
        diskMb: row.disk_quota,
        diego: row.diego === 1,
        version: row.version,
        stackGuid: stack.guid,
        stackName: stack.name,
        healthCheckType: row.health_check_type as HealthCheckType,
        enableSsh: row.enable_ssh === 1,
        ports: row.ports === null ? null : (JSON.parse(row.ports) as number[]),
        packageState: row.package_state as PackageState,
        stagingFailedReason: row.staging_failed_reason as StagingFailedReason | null,
        stagingFailedDescription: row.staging_failed_description,
        detectedBuildpack: row.detected_buildpack,
        detectedStartCommand: row.detected_start_command,
        packageUpdatedAt: row.package_updated_at,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        routes: routesByApp.get(row.id) ?? [],
      })
    }
    const userById = new Map<number, UserSecret>()
    for (const row of rows<UserRow>(this.db, 'SELECT * FROM users ORDER BY id')) {
      const record: UserRecord = {
        id: row.id,
        guid: row.guid,
        username: row.username,
        admin: row.admin === 1,
        createdAt: row.created_at,
      }
      const secret = {
        record,
        hash: Buffer.from(row.password_hash, 'hex'),
        salt: Buffer.from(row.password_salt, 'hex'),
      }
      userById.set(row.id, secret)
      this.userByGuid.set(record.guid, secret)
      this.userByName.set(record.username, secret)
    }
    for (const row of rows<DeveloperRow>(this.db, 'SELECT user_id, space_id FROM space_developers')) {
      const userGuid = userById.get(row.user_id)!.record.guid
      let spaces = this.developerSpaces.get(userGuid)
      if (!spaces) this.developerSpaces.set(userGuid, (spaces = new Set()))
      spaces.add(spaceById.get(row.space_id)!.guid)
    }
  }
}

interface Statements {
  getMeta: StatementSync
  setMeta: StatementSync
  insertStack: StatementSync
  insertDomain: StatementSync
  insertOrg: StatementSync
  insertSpace: StatementSync
  insertApp: StatementSync
  updateApp: StatementSync
  deleteApp: StatementSync
  insertRoute: StatementSync
  deleteRoutesOfApp: StatementSync
  insertUser: StatementSync
  insertDeveloper: StatementSync
}

function prepareStatements(db: DatabaseSync): Statements {
  return {
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
    insertStack: db.prepare('INSERT INTO stacks (guid, name, description) VALUES (?, ?, ?)'),
    insertDomain: db.prepare('INSERT INTO domains (guid, name) VALUES (?, ?)'),
    insertOrg: db.prepare('INSERT INTO orgs (guid, name, created_at, updated_at) VALUES (?, ?, ?, ?)'),
    insertSpace: db.prepare('INSERT INTO spaces (guid, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    insertApp: db.prepare(
      `INSERT INTO apps (guid, space_id, name, state, instances, memory, disk_quota, diego, version, stack_id,
        health_check_type, package_state, detected_buildpack, detected_start_command, package_updated_at,
        created_at, updated_at, enable_ssh, staging_failed_reason, staging_failed_description)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateApp: db.prepare(
      `UPDATE apps SET name = ?, state = ?, instances = ?, memory = ?, disk_quota = ?, diego = ?, version = ?,
        health_check_type = ?, enable_ssh = ?, ports = ?, package_state = ?, staging_failed_reason = ?,
        staging_failed_description = ?, package_updated_at = ?, updated_at = ? WHERE id = ?`,
    ),
    deleteApp: db.prepare('DELETE FROM apps WHERE id = ?'),
    insertRoute: db.prepare('INSERT INTO routes (guid, host, domain_id, app_id) VALUES (?, ?, ?, ?)'),
    deleteRoutesOfApp: db.prepare('DELETE FROM routes WHERE app_id = ?'),
    insertUser: db.prepare(
      'INSERT INTO users (guid, username, password_hash, password_salt, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertDeveloper: db.prepare('INSERT INTO space_developers (user_id, space_id) VALUES (?, ?)'),
  }
}

interface StackRow {
  id: number
  guid: string
  name: string
  description: string
}
interface DomainRow {
  id: number
  guid: string
  name: string
}
interface OrgRow {
  id: number
  guid: string
  name: string
  created_at: number
  updated_at: number
}
interface SpaceRow extends OrgRow {
  org_id: number
}
interface RouteRow {
  id: number
  guid: string
  host: string
  domain_id: number
  app_id: number
}
interface AppRow {
  id: number
  guid: string
  space_id: number
  name: string
  state: string
  instances: number
  memory: number
  disk_quota: number
  diego: number
  version: string
  stack_id: number
  health_check_type: string
  package_state: string
  detected_buildpack: string | null
  detected_start_command: string
  package_updated_at: number
  created_at: number
  updated_at: number
  enable_ssh: number
  ports: string | null
  staging_failed_reason: string | null
  staging_failed_description: string | null
}
interface UserRow {
  id: number
  guid: string
  username: string
  password_hash: string
  password_salt: string
  admin: number
  created_at: number
}
interface DeveloperRow {
  user_id: number
  space_id: number
}

const EMPTY: readonly never[] = Object.freeze([])
const EMPTY_SET: ReadonlySet<string> = new Set()
const DUMMY_SALT = randomBytes(16)

/** Columns added to `apps` after its first release: a data file from then gets them, with their defaults. */
const LATER_APP_COLUMNS: ReadonlyArray<[string, string]> = [
  ['enable_ssh', 'INTEGER NOT NULL DEFAULT 1'],
  ['ports', 'TEXT'],
  ['staging_failed_reason', 'TEXT'],
  ['staging_failed_description', 'TEXT'],
]

function addMissingColumns(db: DatabaseSync): void {
  const present = new Set(rows<{ name: string }>(db, 'PRAGMA table_info(apps)').map((c) => c.name))
  for (const [name, type] of LATER_APP_COLUMNS) {
    if (!present.has(name)) db.exec(`ALTER TABLE apps ADD COLUMN ${name} ${type}`)
  }
}

/** The rows of a query, typed as the caller's row shape (node:sqlite hands back plain records). */
function rows<T>(db: DatabaseSync, sql: string): T[] {
  return db.prepare(sql).all() as unknown as T[]
}

/**
 * The file holds the token-signing key and password hashes: whoever reads it can mint an admin token.
 * It is created (or tightened) to 0600 before SQLite opens it; SQLite gives its -wal and -shm files the
 * main file's mode, and any left from an earlier, looser run are tightened too.
 */
function restrictToOwner(path: string): void {
  const fd = openSync(path, 'a', 0o600)
  try {
    fchmodSync(fd, 0o600)
  } finally {
    closeSync(fd)
  }
  for (const companion of [`${path}-wal`, `${path}-shm`]) if (existsSync(companion)) chmodSync(companion, 0o600)
}

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT_KEYLEN, (error, key) => (error ? reject(error) : resolve(key))),
  )
}

function spaceAppKey(spaceGuid: string, name: string): string {
  return `${spaceGuid}\u0000${name}`
}

function requireName(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.trim().length === 0) throw new StoreError(`${what} must be a non-empty string`)
}

function requireAppNumbers(app: { name: string; instances: number; memoryMb: number; diskMb: number }): void {
  if (!Number.isInteger(app.instances) || app.instances < 0) {
    throw new StoreError(`app "${app.name}": instances must be an integer >= 0, got ${app.instances}`)
  }
  if (!Number.isInteger(app.memoryMb) || app.memoryMb <= 0) {
    throw new StoreError(`app "${app.name}": memory must be an integer number of MB above 0, got ${app.memoryMb}`)
  }
  if (!Number.isInteger(app.diskMb) || app.diskMb <= 0) {
    throw new StoreError(`app "${app.name}": disk_quota must be an integer number of MB above 0, got ${app.diskMb}`)
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>
}

// Sorted-by-id arrays: ids only grow, so inserts land at the end and a binary search finds the rest.
function indexOfId(list: readonly { id: number }[], id: number): number {
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const midId = list[mid]!.id
    if (midId === id) return mid
    if (midId < id) lo = mid + 1
    else hi = mid - 1
  }
  return -(lo + 1)
}

function insertById<T extends { id: number }>(list: T[], item: T): void {
  const at = indexOfId(list, item.id)
  if (at >= 0) throw new Error(`duplicate id ${item.id} in index`)
  const slot = -at - 1
  if (slot === list.length) list.push(item)
  else list.splice(slot, 0, item)
}

function upsertById<T extends { id: number }>(list: T[], item: T): void {
  const at = indexOfId(list, item.id)
  if (at >= 0) list[at] = item
  else insertById(list, item)
}

function removeById(list: { id: number }[], id: number): void {
  const at = indexOfId(list, id)
  if (at >= 0) list.splice(at, 1)
}
