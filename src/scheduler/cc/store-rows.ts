// Where the store's rows go. In a data file (`cfctl server --data FILE`) every row is written to SQLite in the
// store's transaction, and read back into the in-memory index when the file is opened again. In memory there
// is nothing to read back: the index is the only copy the store needs, so its rows are not written twice (a
// second copy in an in-memory SQLite cost a large foundation 24 MB and a quarter of its boot). Either way the
// store checks every write itself before it writes (names, sizes, states, references), so the two agree on
// what is refused; SQLite's constraints stay on the file as a second line.
import type { DatabaseSync, StatementSync } from 'node:sqlite'

export interface AppColumns {
  guid: string
  name: string
  state: string
  instances: number
  memoryMb: number
  diskMb: number
  diego: boolean
  version: string
  healthCheckType: string
  enableSsh: boolean
  ports: readonly number[] | null
  packageState: string
  stagingFailedReason: string | null
  stagingFailedDescription: string | null
  detectedBuildpack: string | null
  detectedStartCommand: string
  packageUpdatedAt: number
  createdAt: number
  updatedAt: number
}

/** What the store keeps of each table; ids come from here (SQLite's rowids, or counters in memory). */
export interface StoreRows {
  /** Whether rows are written (a data file): a user's row then needs its password hash when it is inserted. */
  readonly written: boolean
  /** The value under `key`, made by `create` (and kept) the first time. */
  meta(key: string, create: () => string): string
  insertStack(guid: string, name: string, description: string): number
  insertDomain(guid: string, name: string): number
  insertOrg(guid: string, name: string, at: number): number
  insertSpace(guid: string, orgId: number, name: string, at: number): number
  insertApp(app: AppColumns, spaceId: number, stackId: number): number
  updateApp(id: number, app: AppColumns): void
  /** Deletes the app and its routes. */
  deleteApp(id: number): void
  insertRoute(guid: string, host: string, domainId: number, appId: number): number
  /** `hash` is a Buffer wherever rows are written; in memory it may be one to come. */
  insertUser(
    guid: string,
    username: string,
    hash: Buffer | Promise<Buffer>,
    salt: Buffer,
    admin: boolean,
    at: number,
  ): number
  insertDeveloper(userId: number, spaceId: number): void
  /** A store transaction begins (the database's own BEGIN is the store's). */
  begin(): void
  /** The transaction rolled back: ids handed out since begin() are free again. */
  rollback(): void
  /** Every row kept from an earlier run (none in memory). */
  stored(): StoredRows
}

/** Each table's rows, read as they are iterated (each table once, in this order). */
export interface StoredRows {
  stacks: Iterable<StackRow>
  domains: Iterable<DomainRow>
  orgs: Iterable<OrgRow>
  spaces: Iterable<SpaceRow>
  routes: Iterable<RouteRow>
  apps: Iterable<AppRow>
  users: Iterable<UserRow>
  developers: Iterable<DeveloperRow>
}

const TABLES = ['stacks', 'domains', 'orgs', 'spaces', 'apps', 'routes', 'users'] as const
type Table = (typeof TABLES)[number]

/**
 * Rows of an in-memory store: none are written; each table's ids count up from 1, as SQLite's rowids do in
 * a table nothing was deleted from (a deleted app's id is not handed out again, which only SQLite's did
 * when the app was the newest; order by id, all that ids are used for, is the same either way).
 */
export class MemoryRows implements StoreRows {
  readonly written = false
  private readonly last: Record<Table, number> = {
    stacks: 0,
    domains: 0,
    orgs: 0,
    spaces: 0,
    apps: 0,
    routes: 0,
    users: 0,
  }
  private atBegin: Record<Table, number> = { ...this.last }

  meta(_key: string, create: () => string): string {
    return create()
  }
  insertStack(): number {
    return ++this.last.stacks
  }
  insertDomain(): number {
    return ++this.last.domains
  }
  insertOrg(): number {
    return ++this.last.orgs
  }
  insertSpace(): number {
    return ++this.last.spaces
  }
  insertApp(): number {
    return ++this.last.apps
  }
  updateApp(): void {}
  deleteApp(): void {}
  insertRoute(): number {
    return ++this.last.routes
  }
  insertUser(): number {
    return ++this.last.users
  }
  insertDeveloper(): void {}
  begin(): void {
    this.atBegin = { ...this.last }
  }
  rollback(): void {
    Object.assign(this.last, this.atBegin)
  }
  stored(): StoredRows {
    return { stacks: [], domains: [], orgs: [], spaces: [], routes: [], apps: [], users: [], developers: [] }
  }
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

/** Rows of a data file: each write is a statement in the store's SQLite transaction. */
export class SqliteRows implements StoreRows {
  readonly written = true
  private readonly sql: Statements

  constructor(private readonly db: DatabaseSync) {
    db.exec('PRAGMA foreign_keys = ON')
    db.exec(SCHEMA)
    addMissingColumns(db)
    this.sql = prepareStatements(db)
  }

  meta(key: string, create: () => string): string {
    const row = this.sql.getMeta.get(key) as { value: string } | undefined
    if (row) return row.value
    const value = create()
    this.sql.setMeta.run(key, value)
    return value
  }

  insertStack(guid: string, name: string, description: string): number {
    return Number(this.sql.insertStack.run(guid, name, description).lastInsertRowid)
  }

  insertDomain(guid: string, name: string): number {
    return Number(this.sql.insertDomain.run(guid, name).lastInsertRowid)
  }

  insertOrg(guid: string, name: string, at: number): number {
    return Number(this.sql.insertOrg.run(guid, name, at, at).lastInsertRowid)
  }

  insertSpace(guid: string, orgId: number, name: string, at: number): number {
    return Number(this.sql.insertSpace.run(guid, orgId, name, at, at).lastInsertRowid)
  }

  insertApp(app: AppColumns, spaceId: number, stackId: number): number {
    return Number(
      this.sql.insertApp.run(
        app.guid,
        spaceId,
        app.name,
        app.state,
        app.instances,
        app.memoryMb,
        app.diskMb,
        app.diego ? 1 : 0,
        app.version,
        stackId,
        app.healthCheckType,
        app.packageState,
        app.detectedBuildpack,
        app.detectedStartCommand,
        app.packageUpdatedAt,
        app.createdAt,
        app.updatedAt,
        app.enableSsh ? 1 : 0,
        app.ports === null ? null : JSON.stringify(app.ports),
        app.stagingFailedReason,
        app.stagingFailedDescription,
      ).lastInsertRowid,
    )
  }

  updateApp(id: number, app: AppColumns): void {
    this.sql.updateApp.run(
      app.name,
      app.state,
      app.instances,
      app.memoryMb,
      app.diskMb,
      app.diego ? 1 : 0,
      app.version,
      app.healthCheckType,
      app.enableSsh ? 1 : 0,
      app.ports === null ? null : JSON.stringify(app.ports),
      app.packageState,
      app.stagingFailedReason,
      app.stagingFailedDescription,
      app.packageUpdatedAt,
      app.updatedAt,
      id,
    )
  }

  deleteApp(id: number): void {
    this.sql.deleteRoutesOfApp.run(id)
    this.sql.deleteApp.run(id)
  }

  insertRoute(guid: string, host: string, domainId: number, appId: number): number {
    return Number(this.sql.insertRoute.run(guid, host, domainId, appId).lastInsertRowid)
  }

  insertUser(
    guid: string,
    username: string,
    hash: Buffer | Promise<Buffer>,
    salt: Buffer,
    admin: boolean,
    at: number,
  ): number {
    if (!Buffer.isBuffer(hash)) throw new Error(`user ${username}: a data file's row needs the hash itself`)
    return Number(
      this.sql.insertUser.run(guid, username, hash.toString('hex'), salt.toString('hex'), admin ? 1 : 0, at)
        .lastInsertRowid,
    )
  }

  insertDeveloper(userId: number, spaceId: number): void {
    this.sql.insertDeveloper.run(userId, spaceId)
  }

  begin(): void {}

  rollback(): void {}

  stored(): StoredRows {
    // Stepped through, not read whole: 50,000 apps as one array of row objects, all alive at once until the
    // last was indexed, took a reopened large foundation about three times as long to read.
    return {
      stacks: stream<StackRow>(this.db, 'SELECT id, guid, name, description FROM stacks'),
      domains: stream<DomainRow>(this.db, 'SELECT id, guid, name FROM domains'),
      orgs: stream<OrgRow>(this.db, 'SELECT * FROM orgs ORDER BY id'),
      spaces: stream<SpaceRow>(this.db, 'SELECT * FROM spaces ORDER BY id'),
      routes: stream<RouteRow>(this.db, 'SELECT * FROM routes ORDER BY id'),
      apps: stream<AppRow>(this.db, 'SELECT * FROM apps ORDER BY id'),
      users: stream<UserRow>(this.db, 'SELECT * FROM users ORDER BY id'),
      developers: stream<DeveloperRow>(this.db, 'SELECT user_id, space_id FROM space_developers'),
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
        created_at, updated_at, enable_ssh, ports, staging_failed_reason, staging_failed_description)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

export interface StackRow {
  id: number
  guid: string
  name: string
  description: string
}
export interface DomainRow {
  id: number
  guid: string
  name: string
}
export interface OrgRow {
  id: number
  guid: string
  name: string
  created_at: number
  updated_at: number
}
export interface SpaceRow extends OrgRow {
  org_id: number
}
export interface RouteRow {
  id: number
  guid: string
  host: string
  domain_id: number
  app_id: number
}
export interface AppRow {
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
export interface UserRow {
  id: number
  guid: string
  username: string
  password_hash: string
  password_salt: string
  admin: number
  created_at: number
}
export interface DeveloperRow {
  user_id: number
  space_id: number
}

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

/** The rows of a query one at a time, as they are iterated. */
function stream<T>(db: DatabaseSync, sql: string): Iterable<T> {
  return db.prepare(sql).iterate() as unknown as Iterable<T>
}
