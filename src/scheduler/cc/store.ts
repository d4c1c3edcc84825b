// The Cloud Controller's database: orgs, spaces, apps (with the `diego` column), routes, users and
// their space developer roles, in an in-memory index (apps in id order, by guid, by space) that every read
// uses, so a listing of 50,000 apps costs no query and no COUNT(*). With a data file, each write goes to
// SQLite (node:sqlite, a WAL-mode file that survives a restart) in the same transaction that updates the
// index, and the index is read back from it at open; in memory the index is the only copy (store-rows.ts).
// Records are immutable: an update replaces the record, so anything cached per record (its serialized
// JSON) is invalidated by identity.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import { chmodSync, closeSync, existsSync, fchmodSync, openSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import { newGuid } from './guid.js'
import { PreparedSecrets } from './secrets.js'
import { MemoryRows, SqliteRows, type StoreRows } from './store-rows.js'

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
  routes?: RouteInput[]
}

export interface RouteInput {
  host: string
  domainGuid: string
  /** Unique across the foundation's routes; a new one if not given. */
  guid?: string
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

// scrypt's cost (N = 2^14) is the node default; a login takes tens of milliseconds, off the hot path.
export const SCRYPT_KEYLEN = 32

interface UserSecret {
  record: UserRecord
  /** In memory, until scrypt is through (off the caller's thread), the hash to come. */
  hash: Buffer | Promise<Buffer>
  salt: Buffer
}

export class Store {
  readonly path: string
  private readonly db: DatabaseSync
  private readonly rows: StoreRows
  /** Undo steps of the in-memory index for the transaction in progress; null outside one. */
  private undo: UndoStep[] | null = null
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
  /** Per space, its apps by name (a key of space and name joined would be a string per app). */
  private readonly appsBySpaceAndName = new Map<string, Map<string, AppRecord>>()
  private readonly appGuidByHostname = new Map<string, string>()
  /** Every route's guid: a guid a caller gives must be new (in memory there is no UNIQUE behind the check). */
  private readonly routeGuids = new Set<string>()
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
    this.rows = path === ':memory:' ? new MemoryRows() : new SqliteRows(this.db)
    this.signingKeyValue = Buffer.alloc(0)
    this.transaction(() => {
      this.signingKeyValue = Buffer.from(
        this.rows.meta('token_signing_key', () => randomBytes(32).toString('hex')),
        'hex',
      )
      this.quotaGuid = this.rows.meta('default_quota_definition_guid', () => newGuid())
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
    return this.appsBySpaceAndName.get(spaceGuid)?.get(name)
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
    return timingSafeEqual(hash, await secret.hash) ? secret.record : undefined
  }

  /**
   * Starts hashing these passwords on a worker thread for the createUser calls that follow (each takes one made
   * for its password, with a salt of its own), so a seed's users cost its boot nothing while it writes the
   * fleet. forgetPreparedSecrets() stops the worker and drops what no createUser took.
   */
  prepareSecrets(passwords: readonly string[] | PreparedSecrets): void {
    this.preparedSecrets?.close()
    // Hashes begun before the store was open (PreparedSecrets of SCRYPT_KEYLEN bytes) are taken as they are.
    this.preparedSecrets =
      passwords instanceof PreparedSecrets ? passwords : new PreparedSecrets(passwords, SCRYPT_KEYLEN)
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
    this.rows.begin()
    const undo: UndoStep[] = []
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
      this.rows.rollback()
      for (let i = undo.length - 1; i >= 0; i--) {
        const step = undo[i]!
        if (typeof step === 'function') step()
        else this.unindexApp(step)
      }
      throw error
    }
  }

  createStack(name: string, description: string): StackRecord {
    requireName(name, 'stack name')
    return this.transaction(() => {
      if (this.stackByName(name)) throw new StoreError(`stack "${name}" already exists`)
      const guid = newGuid()
      const id = this.rows.insertStack(guid, name, description)
      const stack: StackRecord = { id, guid, name, description }
      this.stackByGuid.set(guid, stack)
      this.onUndo(() => this.stackByGuid.delete(guid))
      return stack
    })
  }

  createDomain(name: string, guid: string = newGuid()): DomainRecord {
    requireName(name, 'domain name')
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(name)) {
      throw new StoreError(`domain "${name}" is not a valid lower-case DNS name with at least two labels`)
    }
    return this.transaction(() => {
      if (this.domainByName(name)) throw new StoreError(`domain "${name}" already exists`)
      this.requireNewGuid(this.domainByGuid, guid, 'domain')
      const id = this.rows.insertDomain(guid, name)
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
      const guid = input.guid ?? newGuid()
      this.requireNewGuid(this.orgByGuid, guid, 'organization')
      const id = this.rows.insertOrg(guid, input.name, input.at)
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
      const guid = input.guid ?? newGuid()
      this.requireNewGuid(this.spaceByGuid, guid, 'space')
      const id = this.rows.insertSpace(guid, org.id, input.name, input.at)
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
      const guid = input.guid ?? newGuid()
      this.requireNewGuid(this.appByGuid, guid, 'app')
      // One object, its id and routes filled in once written: no copy per app (a seed makes 50,000), and every
      // field in the object itself.
      const app: Mutable<AppRecord> = {
        id: 0,
        guid,
        name: input.name,
        spaceGuid: space.guid,
        orgGuid: space.orgGuid,
        state: input.state,
        instances: input.instances,
        memoryMb: input.memoryMb,
        diskMb: input.diskMb,
        diego: input.diego,
        version: input.version ?? newGuid(),
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
        routes: EMPTY,
      }
      app.id = this.rows.insertApp(app, space.id, stack.id)
      if (input.routes && input.routes.length > 0) app.routes = this.insertRoutes(app.id, input.routes)
      this.indexApp(app)
      // The record itself is the step (unindex it): a seed writes 50,000 apps in one transaction, and a
      // closure for each, kept until the commit, was a third of the seed's time in young-generation GC.
      this.onUndo(app)
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
      this.rows.updateApp(before.id, after)
      this.reindexApp(before, after)
      this.onUndo(() => this.reindexApp(after, before))
      return after
    })
  }

  deleteApp(guid: string): AppRecord {
    return this.transaction(() => {
      const app = this.appByGuid.get(guid)
      if (!app) throw new StoreError(`app ${guid} does not exist`)
      this.rows.deleteApp(app.id)
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
      const guid = input.guid ?? newGuid()
      this.requireNewGuid(this.userByGuid, guid, 'user')
      const { salt, hash } = this.rows.written ? this.hashNow(input.password) : this.hashLater(input.password)
      const id = this.rows.insertUser(guid, input.username, hash, salt, input.admin, input.at)
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
      this.rows.insertDeveloper(user.record.id, space.id)
      if (!spaces) this.developerSpaces.set(userGuid, (spaces = new Set()))
      spaces.add(spaceGuid)
      this.onUndo(() => this.developerSpaces.get(userGuid)?.delete(spaceGuid))
    })
  }

  // ---- internals ----

  /** A salted hash of the password, made (or taken from the prepared ones) before this returns. */
  private hashNow(password: string): { salt: Buffer; hash: Buffer } {
    const prepared = this.preparedSecrets?.take(password)
    const salt = prepared?.salt ?? randomBytes(16)
    return { salt, hash: prepared?.hash ?? scryptSync(password, salt, SCRYPT_KEYLEN) }
  }

  /**
   * In memory there is no row to write the hash into, so a new user need not wait for it: a login awaits it.
   * The seed's eight users then cost the boot no scrypt on its own thread and no waiting for the worker's.
   */
  private hashLater(password: string): { salt: Buffer; hash: Promise<Buffer> } {
    const prepared = this.preparedSecrets?.takeLater(password)
    if (prepared) return prepared
    const salt = randomBytes(16)
    return { salt, hash: scryptAsync(password, salt).catch(() => scryptSync(password, salt, SCRYPT_KEYLEN)) }
  }

  /** A guid a caller gave must be new (the data file's UNIQUE says so too; in memory this is the check). */
  private requireNewGuid(index: ReadonlyMap<string, unknown>, guid: string, what: string): void {
    if (index.has(guid)) throw new StoreError(`${what} guid ${guid} is taken`)
  }

  private onUndo(step: UndoStep): void {
    if (!this.undo) throw new Error('index change outside a transaction')
    this.undo.push(step)
  }

  /**
   * An app's routes, each new: its host on its domain, and a guid the caller gives, taken by no other route,
   * this app's others included (they are indexed with the app, after all of them are written).
   */
  private insertRoutes(appId: number, routes: readonly RouteInput[]): RouteRecord[] {
    for (let i = 1; i < routes.length; i++) {
      const route = routes[i]!
      for (let j = 0; j < i; j++) {
        const other = routes[j]!
        if (other.host === route.host && other.domainGuid === route.domainGuid) {
          throw new StoreError(`route host "${route.host}" is given twice on domain ${route.domainGuid}`)
        }
        if (route.guid !== undefined && other.guid === route.guid) {
          throw new StoreError(`route guid ${route.guid} is given twice`)
        }
      }
    }
    // map() makes the array exactly as long as the routes: pushed one by one it would keep spare room, per app.
    return routes.map((route) => this.insertRoute(appId, route))
  }

  private insertRoute(appId: number, route: RouteInput): RouteRecord {
    const domain = this.domainByGuid.get(route.domainGuid)
    if (!domain) throw new StoreError(`domain ${route.domainGuid} does not exist`)
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(route.host)) {
      throw new StoreError(`route host "${route.host}" must be a lower-case DNS label`)
    }
    const hostname = hostnameOf(route.host, domain.name)
    if (this.appGuidByHostname.has(hostname)) throw new StoreError(`route ${hostname} is taken`)
    if (route.guid !== undefined && this.routeGuids.has(route.guid)) {
      throw new StoreError(`route guid ${route.guid} is taken`)
    }
    const guid = route.guid ?? newGuid()
    const id = this.rows.insertRoute(guid, route.host, domain.id, appId)
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
    let byName = this.appsBySpaceAndName.get(app.spaceGuid)
    if (!byName) this.appsBySpaceAndName.set(app.spaceGuid, (byName = new Map()))
    byName.set(app.name, app)
    for (const route of app.routes) {
      this.appGuidByHostname.set(route.hostname, app.guid)
      this.routeGuids.add(route.guid)
    }
  }

  /** Swaps an app's record for its update in place (same id, space and routes). */
  private reindexApp(before: AppRecord, after: AppRecord): void {
    upsertById(this.appList, after)
    this.appByGuid.set(after.guid, after)
    upsertById(this.appsBySpace.get(after.spaceGuid)!, after)
    const byName = this.appsBySpaceAndName.get(after.spaceGuid)!
    byName.delete(before.name)
    byName.set(after.name, after)
  }

  private unindexApp(app: AppRecord): void {
    removeById(this.appList, app.id)
    this.appByGuid.delete(app.guid)
    const list = this.appsBySpace.get(app.spaceGuid)
    if (list) removeById(list, app.id)
    this.appsBySpaceAndName.get(app.spaceGuid)?.delete(app.name)
    for (const route of app.routes) {
      this.appGuidByHostname.delete(route.hostname)
      this.routeGuids.delete(route.guid)
    }
  }

  /** Reads every table into the in-memory index (once, at open). */
  private load(): void {
    const stored = this.rows.stored()
    for (const row of stored.stacks) {
      this.stackByGuid.set(row.guid, { id: row.id, guid: row.guid, name: row.name, description: row.description })
    }
    for (const row of stored.domains) {
      this.domainByGuid.set(row.guid, { id: row.id, guid: row.guid, name: row.name })
    }
    const orgById = new Map<number, OrgRecord>()
    for (const row of stored.orgs) {
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
    for (const row of stored.spaces) {
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
    for (const row of stored.routes) {
      const domain = domainById.get(row.domain_id)!
      let list = routesByApp.get(row.app_id)
      if (!list) routesByApp.set(row.app_id, (list = []))
      list.push({
        id: row.id,
        guid: row.guid,
        host: row.host,
        domainGuid: domain.guid,
        domainName: domain.name,
        hostname: hostnameOf(row.host, domain.name),
      })
    }
    for (const row of stored.apps) {
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
    for (const row of stored.users) {
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
    for (const row of stored.developers) {
      const userGuid = userById.get(row.user_id)!.record.guid
      let spaces = this.developerSpaces.get(userGuid)
      if (!spaces) this.developerSpaces.set(userGuid, (spaces = new Set()))
      spaces.add(spaceById.get(row.space_id)!.guid)
    }
  }
}

/** A function to run, or an app this transaction created, to take out of the index. */
type UndoStep = (() => void) | AppRecord

const EMPTY: readonly never[] = Object.freeze([])
type Mutable<T> = { -readonly [K in keyof T]: T[K] }
const EMPTY_SET: ReadonlySet<string> = new Set()
const DUMMY_SALT = randomBytes(16)

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

/**
 * `host.domain` as one flat string: joined, it would stay a rope of three strings (two 32-byte links per route)
 * for as long as the route lives. Both parts are lower-case DNS labels, ASCII, which normalize() leaves as is.
 */
function hostnameOf(host: string, domain: string): string {
  return `${host}.${domain}`.normalize()
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
