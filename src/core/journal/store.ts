// Where the journal's rows live. The Journal speaks SQL that both stores understand (`?` placeholders,
// ON CONFLICT, RETURNING, SAVEPOINT) through this small synchronous interface; the SQLite store is a file
// on this machine (node:sqlite), the PostgreSQL store a database any machine can reach (pg-store.ts).
import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { SQLITE_UPGRADES } from './schema.js'

export type SqlValue = string | number | bigint | null

export interface SqlStore {
  readonly kind: 'sqlite' | 'postgres'
  /** The file, or the URL without its password: safe to print. */
  readonly location: string
  /** UPGRADES[v] takes this store's schema from version v to v + 1. */
  readonly upgrades: readonly string[]
  all<T>(sql: string, params?: readonly SqlValue[]): T[]
  get<T>(sql: string, params?: readonly SqlValue[]): T | undefined
  /** A write; how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): number
  /**
   * A statement whose answer the caller does not need: it may be sent with the next call that needs one (one
   * round trip for both, on PostgreSQL), and its error, if any, is thrown by that call. Run at once by SQLite.
   */
  defer(sql: string, params?: readonly SqlValue[]): void
  /** A mark of the deferred statements so far, for discardTo(). */
  mark(): number
  /**
   * Drops the statements deferred since `mark`, when none of them has been sent yet (true); false when some
   * were (SQLite runs each at once: always false).
   */
  discardTo(mark: number): boolean
  /**
   * Commits the open transaction without waiting for the answer (PostgreSQL): this thread goes on while the
   * server writes; the promise settles with the answer. Absent where a commit costs no round trip (SQLite).
   */
  commitAsync?(): Promise<void>
  /**
   * A statement on its own (outside the open transaction, unless that one already reached the server) whose
   * answer this thread awaits without blocking (PostgreSQL). Absent on SQLite.
   */
  queryAsync?(sql: string, params?: readonly SqlValue[]): Promise<{ rows: unknown[]; rowCount: number }>
  /** Statements without parameters, several allowed (the schema). */
  exec(sql: string): void
  /** Appended to a SELECT that must lock its rows until the commit: ' FOR UPDATE', or '' where BEGIN IMMEDIATE does. */
  readonly lockRows: string
  /** Whether a transaction is open on this connection (so a failed one is rolled back, not left open). */
  readonly inTransaction: boolean
  /** Inside a transaction: keeps a second cfctl from upgrading the same schema at once. */
  lockSchema(): void
  schemaVersion(): number
  /** Inside a transaction. */
  setSchemaVersion(version: number): void
  /** What the store's engine says of its durability mode ('wal' for a SQLite file). */
  mode(): string
  close(): void
}

/** A journal location is a PostgreSQL URL or a file path (':memory:' for a throwaway one). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/** How long a statement waits for another cfctl's lock on the journal file. */
const BUSY_TIMEOUT_MS = 5_000
const SQLITE_BUSY = 5
/** Something to wait on for a synchronous pause. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

export class SqliteStore implements SqlStore {
  readonly kind = 'sqlite'
  readonly location: string
  readonly upgrades = SQLITE_UPGRADES
  readonly lockRows = ''
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()

  constructor(path: string) {
    // ~/.cfctl may not exist yet on a first run; it is the user's own, so only they may read it.
    if (path !== ':memory:' && !path.startsWith('file:')) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      // The journal names apps, orgs and targets: the user's alone, like the directory it lives in.
      // Created (or tightened) 0600 before SQLite opens it; its -wal and -shm files take this mode.
      const fd = openSync(path, 'a', 0o600)
      try {
        fchmodSync(fd, 0o600)
      } finally {
        closeSync(fd)
      }
    }
    this.location = path
    this.db = new DatabaseSync(path)
    try {
      // Another cfctl (a `migrations pause` in a second terminal) may hold the write lock for a moment.
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
      if (path !== ':memory:') {
        this.switchToWal()
        this.db.exec('PRAGMA synchronous = NORMAL')
      }
      this.db.exec('PRAGMA foreign_keys = ON')
    } catch (error) {
      this.db.close()
      throw error
    }
  }

  /**
   * Switches a new file to WAL (a no-op once it is). The switch takes the file's exclusive lock, and two cfctl
   * starting on a fresh journal at once each hold a read lock while they ask for it: SQLite answers one of them
   * "database is locked" at once rather than wait (waiting could never end). That one tries again shortly.
   */
  private switchToWal(): void {
    const deadline = Date.now() + BUSY_TIMEOUT_MS
    for (;;) {
      try {
        this.db.exec('PRAGMA journal_mode = WAL')
        return
      } catch (error) {
        if ((error as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() > deadline) throw error
        Atomics.wait(PAUSE, 0, 0, 5 + Math.random() * 20)
      }
    }
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    return this.statement(sql).all(...(params as SQLInputValue[])) as unknown as T[]
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): T | undefined {
    return this.statement(sql).get(...(params as SQLInputValue[])) as unknown as T | undefined
  }

  run(sql: string, params: readonly SqlValue[] = []): number {
    return Number(this.statement(sql).run(...(params as SQLInputValue[])).changes)
  }

  defer(sql: string, params: readonly SqlValue[] = []): void {
    this.run(sql, params)
  }

  mark(): number {
    return 0
  }

  discardTo(_mark: number): boolean {
    return false
  }

  exec(sql: string): void {
    this.db.exec(sql)
  }

  get inTransaction(): boolean {
    return this.db.isTransaction
  }

  /** BEGIN IMMEDIATE already holds the file's write lock. */
  lockSchema(): void {}

  schemaVersion(): number {
    return Number(this.get<{ user_version: number }>('PRAGMA user_version')?.user_version)
  }

  setSchemaVersion(version: number): void {
    this.db.exec(`PRAGMA user_version = ${Math.trunc(version)}`)
  }

  mode(): string {
    return String(this.get<{ journal_mode: string }>('PRAGMA journal_mode')?.journal_mode)
  }

  close(): void {
    this.db.close()
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }
}
