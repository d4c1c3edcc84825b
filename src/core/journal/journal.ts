// The durable record of every migration: SQLite through node:sqlite, in WAL mode when on a file, so a CLI
// in another terminal can read a migration (and leave it a control command) while a runner writes to it.
// The runner writes each step's intent here before it touches the Cloud Controller, which is what lets a
// crashed migration be resumed by reading this file and the CC. Timestamps come from the injected clock.
import { randomBytes } from 'node:crypto'
import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { type Clock, RealClock, type Timer } from '../../clock.js'
import type { JournalEvent, MigrationEvent, MigrationEventBody } from './events.js'
import { DEFAULT_LOCK_STALE_MS, isProcessAlive, LockHeldError, type LockPolicy, lockVerdict } from './lock.js'
import { SCHEMA_VERSION, UPGRADES } from './schema.js'
import {
  ControlCommand,
  type ControlRecord,
  type LockOwner,
  type LockRecord,
  MIGRATION_STATES,
  MigrationParameters,
  type MigrationRecord,
  type MigrationState,
  type PlannedStep,
  STEP_STATES,
  type StepRecord,
  type StepState,
} from './types.js'

export interface JournalOptions {
  clock?: Clock
  /**
   * Group the writes of step transitions and events into one transaction, committed this many ms (on the
   * clock) after the first of them, or at once by flush(), durable() or any other write. Unset (the
   * default): every write is its own transaction. A runner with hundreds of apps in flight writes three
   * transitions per app, and each commit costs several WAL page writes; grouped, a handful of apps share one.
   * Writes that must be durable before the caller acts (the intent before a flip) are awaited with durable().
   */
  commitDelayMs?: number
}

export interface NewMigration {
  target: string
  parameters: MigrationParameters
  steps: readonly PlannedStep[]
  /** Chosen by the journal when absent: `YYYYMMDD-HHMMSS-xxxx` in UTC, sortable and short enough to type. */
  id?: string
}

/** What a step transition may change besides the state. */
export interface StepChange {
  error?: string | null
  note?: string | null
  flipped?: boolean
  /** Added to `attempts`. */
  attempts?: number
}

export interface LockAcquired {
  lock: LockRecord
  /** The lock this one replaced, and why it could be taken. */
  tookOver?: { previous: LockRecord; reason: 'stale' | 'dead' }
}

export type JournalListener = (event: MigrationEvent) => void

/** A journal operation that the journal's state does not allow: a bug in the caller, or a user's stale id. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JournalError'
  }
}

const MIGRATION_TRANSITIONS: Record<MigrationState, readonly MigrationState[]> = {
  planned: ['running', 'paused', 'aborted', 'rolling-back'],
  // running -> running is a recovery: the process that ran it died and another takes it up.
  running: ['running', 'paused', 'completed', 'failed', 'aborted', 'rolling-back'],
  // A pause that comes while the last steps are in flight leaves nothing to hold: the run settles anyway.
  paused: ['running', 'paused', 'completed', 'failed', 'aborted', 'rolling-back'],
  completed: ['rolling-back'],
  // A resume retries the steps that failed only because the CC did not answer.
  failed: ['running', 'rolling-back'],
  aborted: ['rolling-back'],
  // A rollback that was interrupted is taken up again from where it stood.
  'rolling-back': ['rolling-back', 'rolled-back'],
  'rolled-back': [],
}

const STEP_TRANSITIONS: Record<StepState, readonly StepState[]> = {
  pending: ['flipping'],
  flipping: ['verifying', 'failed', 'rolling-back'],
  verifying: ['done', 'failed', 'rolling-back'],
  done: ['rolling-back'],
  // A step that failed only because the CC did not answer is tried again on resume.
  failed: ['flipping', 'rolling-back'],
  'rolling-back': ['failed', 'rolled-back'],
  'rolled-back': [],
}

/** The column, and the record field, that a transition into each state stamps. */
const STEP_STAMP: Record<StepState, { column: string; field: keyof StepRecord } | undefined> = {
  pending: undefined,
  flipping: { column: 'flipping_at', field: 'flippingAt' },
  verifying: { column: 'verifying_at', field: 'verifyingAt' },
  done: { column: 'done_at', field: 'doneAt' },
  failed: { column: 'failed_at', field: 'failedAt' },
  'rolling-back': { column: 'rolling_back_at', field: 'rollingBackAt' },
  'rolled-back': { column: 'rolled_back_at', field: 'rolledBackAt' },
}

export class Journal {
  readonly path: string
  private readonly db: DatabaseSync
  private readonly clock: Clock
  private readonly listeners = new Set<JournalListener>()
  /** Events written in the transaction in progress; delivered to listeners only once it commits. */
  private outbox: MigrationEvent[] = []
  private readonly statements: Map<string, StatementSync> = new Map()
  private closed = false
  private readonly commitDelayMs: number | undefined
  /** Nesting of transaction() calls: an inner one joins the outer one. */
  private depth = 0
  /** The group of writes not yet committed (commitDelayMs only), and who waits for it to be. */
  private group: { timer: Timer; waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> } | undefined
  /** Why a group failed to commit; every later write refuses, since what the caller believes was lost. */
  private broken: unknown

  /** Opens (creating it and its directory when missing) the journal at `path`, or an in-memory one for ':memory:'. */
  static open(path: string, options: JournalOptions = {}): Journal {
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
    return new Journal(path, options.clock ?? new RealClock(), options.commitDelayMs)
  }

  private constructor(path: string, clock: Clock, commitDelayMs: number | undefined) {
    if (commitDelayMs !== undefined && !(Number.isFinite(commitDelayMs) && commitDelayMs >= 0))
      throw new RangeError(`commitDelayMs must be 0 or more, got ${commitDelayMs}`)
    this.path = path
    this.clock = clock
    this.commitDelayMs = commitDelayMs
    this.db = new DatabaseSync(path)
    try {
      if (path !== ':memory:') {
        this.db.exec('PRAGMA journal_mode = WAL')
        this.db.exec('PRAGMA synchronous = NORMAL')
      }
      // Another cfctl (a `migrations pause` in a second terminal) may hold the write lock for a moment.
      this.db.exec('PRAGMA busy_timeout = 5000')
      this.db.exec('PRAGMA foreign_keys = ON')
      this.upgrade()
    } catch (error) {
      this.db.close()
      throw error
    }
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return Number(this.get<{ user_version: number }>('PRAGMA user_version')?.user_version)
  }

  /** The journal mode SQLite reports ('wal' for a file, 'memory' for ':memory:'). */
  get journalMode(): string {
    return String(this.get<{ journal_mode: string }>('PRAGMA journal_mode')?.journal_mode)
  }

  close(): void {
    if (this.closed) return
    try {
      this.flush()
    } finally {
      this.closed = true
      this.db.close()
    }
  }

  /** Whether some writes wait in a group to be committed. */
  get pending(): boolean {
    return this.group !== undefined
  }

  /** Commits the grouped writes now; their events then reach the listeners. */
  flush(): void {
    const group = this.group
    if (!group) return
    this.group = undefined
    group.timer.cancel()
    try {
      this.statement('COMMIT').run()
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      this.outbox = []
      this.broken = error
      for (const waiter of group.waiters) waiter.reject(error)
      throw error
    }
    for (const waiter of group.waiters) waiter.resolve()
    this.deliver()
  }

  /** Resolves once every write made so far is committed: at once when none waits in a group. */
  durable(): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.brokenError())
    const group = this.group
    if (!group) return Promise.resolve()
    return new Promise((resolve, reject) => group.waiters.push({ resolve, reject }))
  }

  /** Listens to every event written through this journal, after its transaction commits. */
  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ---- migrations ----

  createMigration(input: NewMigration): MigrationRecord {
    const parameters = MigrationParameters.parse(input.parameters)
    if (input.target.trim() === '') throw new JournalError('target must be the URL of a Cloud Controller, got ""')
    const seen = new Set<string>()
    for (const step of input.steps) {
      if (seen.has(step.appGuid)) throw new JournalError(`app ${step.appGuid} appears twice in the plan`)
      seen.add(step.appGuid)
    }
    return this.transaction(() => {
      const now = this.clock.now()
      const id = input.id ?? this.freshId(now)
      if (this.migration(id)) throw new JournalError(`migration ${id} already exists`)
      this.run(
        `INSERT INTO migrations (id, target, direction, parameters, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'planned', ?, ?)`,
        id,
        input.target,
        parameters.to,
        JSON.stringify(parameters),
        now,
        now,
      )
      const insert = this.statement(
        `INSERT INTO steps (migration_id, position, app_guid, app_name, org, space, app_state, instances, memory_mb,
           canary, original_diego, target_diego, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      input.steps.forEach((step, position) => {
        insert.run(
          id,
          position,
          step.appGuid,
          step.appName,
          step.org,
          step.space,
          step.appState,
          step.instances,
          step.memoryMb,
          step.canary ? 1 : 0,
          step.originalDiego ? 1 : 0,
          step.targetDiego ? 1 : 0,
          now,
          now,
        )
      })
      this.appendEvent(id, {
        type: 'planned',
        to: parameters.to,
        steps: input.steps.length,
        canary: input.steps.filter((s) => s.canary).length,
      })
      return this.requireMigration(id)
    })
  }

  migration(id: string): MigrationRecord | undefined {
    const row = this.get<MigrationRow>('SELECT * FROM migrations WHERE id = ?', id)
    return row ? toMigration(row) : undefined
  }

  requireMigration(id: string): MigrationRecord {
    const found = this.migration(id)
    if (!found) throw new JournalError(`no migration ${id} in the journal ${this.path}`)
    return found
  }

  /** Newest first. */
  migrations(filter: { target?: string; states?: readonly MigrationState[] } = {}): MigrationRecord[] {
    const rows = this.all<MigrationRow>('SELECT * FROM migrations ORDER BY created_at DESC, id DESC')
    return rows
      .map(toMigration)
      .filter((m) => (filter.target === undefined || m.target === filter.target) && inStates(m.state, filter.states))
  }

  /** Moves a migration to `to` (checked against the state machine), with the event that tells of it. */
  setMigrationState(
    id: string,
    to: MigrationState,
    change: { pausedBy?: string | null; error?: string | null; event?: MigrationEventBody } = {},
  ): MigrationRecord {
    return this.transaction(() => {
      const current = this.requireMigration(id)
      if (!MIGRATION_TRANSITIONS[current.state].includes(to)) {
        throw new JournalError(`migration ${id} cannot go from ${current.state} to ${to}`)
      }
      this.run(
        'UPDATE migrations SET state = ?, paused_by = ?, error = ?, updated_at = ? WHERE id = ?',
        to,
        change.pausedBy === undefined ? current.pausedBy : change.pausedBy,
        change.error === undefined ? current.error : change.error,
        this.clock.now(),
        id,
      )
      if (change.event) this.appendEvent(id, change.event)
      return this.requireMigration(id)
    })
  }

  /** Changes the live settings (rate, max in flight) so that a resumed run keeps them. */
  updateParameters(id: string, patch: Partial<MigrationParameters>, event?: MigrationEventBody): MigrationRecord {
    return this.transaction(() => {
      const current = this.requireMigration(id)
      const parameters = MigrationParameters.parse({ ...current.parameters, ...patch })
      this.run(
        'UPDATE migrations SET parameters = ?, updated_at = ? WHERE id = ?',
        JSON.stringify(parameters),
        this.clock.now(),
        id,
      )
      if (event) this.appendEvent(id, event)
      return this.requireMigration(id)
    })
  }

  /** Records that the canary passed and the rest may go, so a resumed run does not hold again. */
  confirmCanary(id: string): MigrationRecord {
    return this.transaction(() => {
      const now = this.clock.now()
      this.run(
        'UPDATE migrations SET canary_confirmed_at = COALESCE(canary_confirmed_at, ?), updated_at = ? WHERE id = ?',
        now,
        now,
        id,
      )
      return this.requireMigration(id)
    })
  }

  // ---- steps ----

  /** In plan order. */
  steps(id: string, filter: { states?: readonly StepState[] } = {}): StepRecord[] {
    const rows = this.all<StepRow>('SELECT * FROM steps WHERE migration_id = ? ORDER BY position', id)
    return rows.map(toStep).filter((s) => inStates(s.state, filter.states))
  }

  step(id: string, position: number): StepRecord | undefined {
    const row = this.get<StepRow>('SELECT * FROM steps WHERE migration_id = ? AND position = ?', id, position)
    return row ? toStep(row) : undefined
  }

  stepCounts(id: string): Record<StepState, number> {
    const counts = Object.fromEntries(STEP_STATES.map((s) => [s, 0])) as Record<StepState, number>
    const rows = this.all<{ state: StepState; n: number }>(
      'SELECT state, COUNT(*) AS n FROM steps WHERE migration_id = ? GROUP BY state',
      id,
    )
    for (const row of rows) counts[row.state] = Number(row.n)
    return counts
  }

  /** Moves a step to `to` (checked against the step state machine), stamping the time of the transition. */
  transitionStep(
    id: string,
    position: number,
    to: StepState,
    change: StepChange = {},
    event?: MigrationEventBody,
  ): StepRecord {
    return this.transaction(() => {
      const current = this.requireStep(id, position)
      if (!STEP_TRANSITIONS[current.state].includes(to)) {
        throw new JournalError(
          `step ${position} (${current.appName}) of migration ${id} cannot go from ${current.state} to ${to}`,
        )
      }
      return this.writeStep(current, to, change, event)
    }, true)
  }

  /** Changes a step's details without changing its state (an error noted while rolling back, say). */
  updateStep(id: string, position: number, change: StepChange, event?: MigrationEventBody): StepRecord {
    return this.transaction(() => this.writeStep(this.requireStep(id, position), undefined, change, event), true)
  }

  // ---- events ----

  /** Appends an event stamped with the clock's time; listeners hear it once the transaction commits. */
  appendEvent(migrationId: string, body: MigrationEventBody): MigrationEvent {
    const event = { ...body, migrationId, at: this.clock.now() } as MigrationEvent
    const { type, ...rest } = body
    const appGuid = 'appGuid' in body ? body.appGuid : null
    this.transaction(() => {
      this.run(
        'INSERT INTO events (migration_id, at, type, app_guid, data) VALUES (?, ?, ?, ?, ?)',
        migrationId,
        event.at,
        type,
        appGuid,
        JSON.stringify(rest),
      )
      this.outbox.push(event)
    }, true)
    return event
  }

  /** In the order written. */
  events(migrationId: string, options: { afterSeq?: number; limit?: number } = {}): JournalEvent[] {
    const rows = this.all<EventRow>(
      'SELECT * FROM events WHERE migration_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      migrationId,
      options.afterSeq ?? 0,
      options.limit ?? -1,
    )
    return rows.map(
      (row) =>
        ({
          ...(JSON.parse(row.data) as object),
          type: row.type,
          migrationId: row.migration_id,
          at: Number(row.at),
          seq: Number(row.seq),
        }) as JournalEvent,
    )
  }

  // ---- the per-target lock ----

  /**
   * Takes the target's lock for `migrationId`, or throws LockHeldError naming the holder. A lock whose
   * heartbeat is stale, or whose pid is gone from this host, is taken over (and the takeover is reported).
   */
  acquireLock(target: string, migrationId: string, owner: LockOwner, policy: Partial<LockPolicy> = {}): LockAcquired {
    const full: LockPolicy = {
      staleAfterMs: policy.staleAfterMs ?? DEFAULT_LOCK_STALE_MS,
      isAlive: policy.isAlive ?? isProcessAlive,
    }
    return this.transaction(() => {
      const now = this.clock.now()
      const held = this.lock(target)
      let tookOver: LockAcquired['tookOver']
      if (held) {
        const verdict = lockVerdict(held, owner, now, full)
        if (verdict.kind === 'held') throw new LockHeldError(held, now)
        if (verdict.kind === 'stale' || verdict.kind === 'dead') tookOver = { previous: held, reason: verdict.kind }
      }
      this.run(
        `INSERT INTO locks (target, migration_id, token, pid, hostname, acquired_at, heartbeat_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET migration_id = excluded.migration_id, token = excluded.token,
           pid = excluded.pid, hostname = excluded.hostname, acquired_at = excluded.acquired_at,
           heartbeat_at = excluded.heartbeat_at`,
        target,
        migrationId,
        owner.token,
        owner.pid,
        owner.hostname,
        now,
        now,
      )
      const lock = this.lock(target)!
      return tookOver ? { lock, tookOver } : { lock }
    })
  }

  /** Refreshes the heartbeat; false when the lock is no longer this owner's (it was taken over). */
  heartbeat(target: string, token: string): boolean {
    const result = this.transaction(() =>
      this.run('UPDATE locks SET heartbeat_at = ? WHERE target = ? AND token = ?', this.clock.now(), target, token),
    )
    return Number(result.changes) === 1
  }

  releaseLock(target: string, token: string): boolean {
    const result = this.transaction(() => this.run('DELETE FROM locks WHERE target = ? AND token = ?', target, token))
    return Number(result.changes) === 1
  }

  lock(target: string): LockRecord | undefined {
    const row = this.get<LockRow>('SELECT * FROM locks WHERE target = ?', target)
    return row ? toLock(row) : undefined
  }

  /** The lock held for this migration with a heartbeat fresher than `staleAfterMs`, if any. */
  liveLockOf(migrationId: string, staleAfterMs = DEFAULT_LOCK_STALE_MS): LockRecord | undefined {
    const row = this.get<LockRow>('SELECT * FROM locks WHERE migration_id = ?', migrationId)
    if (!row) return undefined
    const lock = toLock(row)
    return this.clock.now() - lock.heartbeatAt <= staleAfterMs ? lock : undefined
  }

  // ---- control commands from other processes ----

  requestControl(migrationId: string, command: ControlCommand): ControlRecord {
    const parsed = ControlCommand.parse(command)
    this.requireMigration(migrationId)
    const at = this.clock.now()
    const result = this.transaction(() =>
      this.run(
        'INSERT INTO controls (migration_id, at, command) VALUES (?, ?, ?)',
        migrationId,
        at,
        JSON.stringify(parsed),
      ),
    )
    return { seq: Number(result.lastInsertRowid), migrationId, at, command: parsed }
  }

  /** The commands not yet taken, oldest first, marking them taken. */
  takeControls(migrationId: string): ControlRecord[] {
    return this.transaction(() => {
      const rows = this.all<ControlRow>(
        'SELECT * FROM controls WHERE migration_id = ? AND taken_at IS NULL ORDER BY seq',
        migrationId,
      )
      if (rows.length === 0) return []
      this.run(
        'UPDATE controls SET taken_at = ? WHERE migration_id = ? AND taken_at IS NULL AND seq <= ?',
        this.clock.now(),
        migrationId,
        rows[rows.length - 1]!.seq,
      )
      return rows.map((row) => ({
        seq: Number(row.seq),
        migrationId: row.migration_id,
        at: Number(row.at),
        command: ControlCommand.parse(JSON.parse(row.command)),
      }))
    })
  }

  // ---- internals ----

  private requireStep(id: string, position: number): StepRecord {
    const step = this.step(id, position)
    if (!step) throw new JournalError(`migration ${id} has no step ${position}`)
    return step
  }

  private writeStep(
    current: StepRecord,
    to: StepState | undefined,
    change: StepChange,
    event: MigrationEventBody | undefined,
  ): StepRecord {
    const now = this.clock.now()
    const stamp = to ? STEP_STAMP[to] : undefined
    // The row after the update, built here rather than read back: a step is written several times per app.
    const next: StepRecord = {
      ...current,
      state: to ?? current.state,
      error: change.error === undefined ? current.error : change.error,
      note: change.note === undefined ? current.note : change.note,
      flipped: change.flipped ?? current.flipped,
      attempts: current.attempts + (change.attempts ?? 0),
      updatedAt: now,
      ...(stamp ? { [stamp.field]: now } : {}),
    }
    this.run(
      `UPDATE steps SET state = ?, error = ?, note = ?, flipped = ?, attempts = ?, updated_at = ?
         ${stamp ? `, ${stamp.column} = ?` : ''}
       WHERE migration_id = ? AND position = ?`,
      next.state,
      next.error,
      next.note,
      next.flipped ? 1 : 0,
      next.attempts,
      now,
      ...(stamp ? [now] : []),
      current.migrationId,
      current.position,
    )
    if (event) this.appendEvent(current.migrationId, event)
    return next
  }

  private upgrade(): void {
    const version = this.schemaVersion
    if (version > SCHEMA_VERSION) {
      throw new JournalError(
        `the journal ${this.path} has schema version ${version}, written by a newer cfctl; this one reads up to ${SCHEMA_VERSION}`,
      )
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.transaction(() => {
        this.db.exec(UPGRADES[v]!)
        this.db.exec(`PRAGMA user_version = ${v + 1}`)
      })
    }
  }

  private freshId(now: number): string {
    const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
    for (;;) {
      const id = `${stamp}-${randomBytes(2).toString('hex')}`
      if (!this.migration(id)) return id
    }
  }

  /**
   * Runs fn in one IMMEDIATE transaction (joining the one in progress, if any). A `groupable` write (a step
   * transition, an event) joins the open group when the journal groups commits; any other write commits the
   * group first, so that what it records is never durable before what was written ahead of it.
   */
  private transaction<T>(fn: () => T, groupable = false): T {
    if (this.depth > 0) return fn()
    if (this.broken !== undefined) throw this.brokenError()
    if (groupable && this.commitDelayMs !== undefined) return this.inGroup(fn)
    this.flush()
    let result: T
    this.depth++
    try {
      this.statement('BEGIN IMMEDIATE').run()
      try {
        result = fn()
        this.statement('COMMIT').run()
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK')
        this.outbox = []
        throw error
      }
    } finally {
      this.depth--
    }
    this.deliver()
    return result
  }

  /** fn inside the open group (opening it), as a savepoint: a write that fails leaves the others in place. */
  private inGroup<T>(fn: () => T): T {
    if (!this.group) {
      this.statement('BEGIN IMMEDIATE').run()
      this.group = { waiters: [], timer: this.clock.after(this.commitDelayMs!, () => this.commitGroup()) }
    }
    const mark = this.outbox.length
    this.statement('SAVEPOINT grouped_write').run()
    this.depth++
    try {
      const result = fn()
      this.statement('RELEASE grouped_write').run()
      return result
    } catch (error) {
      this.statement('ROLLBACK TO grouped_write').run()
      this.statement('RELEASE grouped_write').run()
      this.outbox.length = mark
      throw error
    } finally {
      this.depth--
    }
  }

  /** The group's timer: a failure is kept (every later write throws it), since no caller is there to hear it. */
  private commitGroup(): void {
    try {
      this.flush()
    } catch {
      // Kept in this.broken by flush().
    }
  }

  private brokenError(): JournalError {
    const why = this.broken instanceof Error ? this.broken.message : String(this.broken)
    return new JournalError(
      `the journal ${this.path} could not commit its last writes (${why}); nothing more is written`,
    )
  }

  private deliver(): void {
    const delivered = this.outbox
    this.outbox = []
    for (const event of delivered) for (const listener of this.listeners) listener(event)
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.statement(sql).all(...params) as unknown as T[]
  }

  private get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.statement(sql).get(...params) as unknown as T | undefined
  }

  private run(sql: string, ...params: SQLInputValue[]) {
    return this.statement(sql).run(...params)
  }
}

function inStates<S extends string>(state: S, states: readonly S[] | undefined): boolean {
  return states === undefined || states.includes(state)
}

interface MigrationRow {
  id: string
  target: string
  direction: 'dea' | 'diego'
  parameters: string
  state: string
  paused_by: string | null
  error: string | null
  canary_confirmed_at: number | null
  created_at: number
  updated_at: number
}

interface StepRow {
  migration_id: string
  position: number
  app_guid: string
  app_name: string
  org: string
  space: string
  app_state: 'STARTED' | 'STOPPED'
  instances: number
  memory_mb: number
  canary: number
  original_diego: number
  target_diego: number
  state: string
  flipped: number
  attempts: number
  error: string | null
  note: string | null
  created_at: number
  updated_at: number
  flipping_at: number | null
  verifying_at: number | null
  done_at: number | null
  failed_at: number | null
  rolling_back_at: number | null
  rolled_back_at: number | null
}

interface EventRow {
  seq: number
  migration_id: string
  at: number
  type: string
  app_guid: string | null
  data: string
}

interface LockRow {
  target: string
  migration_id: string
  token: string
  pid: number
  hostname: string
  acquired_at: number
  heartbeat_at: number
}

interface ControlRow {
  seq: number
  migration_id: string
  at: number
  command: string
  taken_at: number | null
}

function toMigration(row: MigrationRow): MigrationRecord {
  if (!(MIGRATION_STATES as readonly string[]).includes(row.state)) {
    throw new JournalError(`migration ${row.id} has an unknown state "${row.state}"`)
  }
  return {
    id: row.id,
    target: row.target,
    to: row.direction,
    parameters: MigrationParameters.parse(JSON.parse(row.parameters)),
    state: row.state as MigrationState,
    pausedBy: row.paused_by,
    error: row.error,
    canaryConfirmedAt: nullableNumber(row.canary_confirmed_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

function toStep(row: StepRow): StepRecord {
  return {
    migrationId: row.migration_id,
    position: Number(row.position),
    appGuid: row.app_guid,
    appName: row.app_name,
    org: row.org,
    space: row.space,
    appState: row.app_state,
    instances: Number(row.instances),
    memoryMb: Number(row.memory_mb),
    canary: row.canary === 1,
    originalDiego: row.original_diego === 1,
    targetDiego: row.target_diego === 1,
    state: row.state as StepState,
    flipped: row.flipped === 1,
    attempts: Number(row.attempts),
    error: row.error,
    note: row.note,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    flippingAt: nullableNumber(row.flipping_at),
    verifyingAt: nullableNumber(row.verifying_at),
    doneAt: nullableNumber(row.done_at),
    failedAt: nullableNumber(row.failed_at),
    rollingBackAt: nullableNumber(row.rolling_back_at),
    rolledBackAt: nullableNumber(row.rolled_back_at),
  }
}

function toLock(row: LockRow): LockRecord {
  return {
    target: row.target,
    migrationId: row.migration_id,
    token: row.token,
    pid: Number(row.pid),
    hostname: row.hostname,
    acquiredAt: Number(row.acquired_at),
    heartbeatAt: Number(row.heartbeat_at),
  }
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value)
}
