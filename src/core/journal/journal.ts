// The durable record of every migration, in one of two stores (store.ts): a SQLite file through node:sqlite,
// in WAL mode, so a CLI in another terminal can read a migration (and leave it a control command) while a
// runner writes to it; or a PostgreSQL database (`--journal postgres://...`) shared by every machine.
// The runner writes each step's intent here before it touches the Cloud Controller, which is what lets a
// crashed migration be resumed by reading the journal and the CC. Timestamps come from the injected clock.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { type Clock, RealClock, type Timer } from '../../clock.js'
import { JournalError } from './errors.js'
import type { JournalEvent, MigrationEvent, MigrationEventBody } from './events.js'
import { DEFAULT_LOCK_STALE_MS, isProcessAlive, LockHeldError, type LockPolicy, lockVerdict } from './lock.js'
import { JournalUnavailableError, PgStatementError, PgStore } from './pg-store.js'
import { SCHEMA_VERSION } from './schema.js'
import { isPostgresUrl, SqliteStore, type SqlStore, type SqlValue } from './store.js'
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

export { JournalError }

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

/**
 * A write of a runner whose lease was taken over: the journal refused it, so nothing it meant to record (the
 * intent of a flip, above all) was recorded, and the runner must stop without touching the CC again.
 */
export class LeaseLostError extends Error {
  readonly migrationId: string
  readonly epoch: number
  readonly holder: LockRecord | undefined

  constructor(migrationId: string, epoch: number, holder: LockRecord | undefined) {
    const now = holder
      ? `; it is now held by pid ${holder.pid} on ${holder.hostname} (epoch ${holder.epoch})`
      : '; it is no longer held'
    super(`lost the lease of migration ${migrationId} (epoch ${epoch})${now}: the journal refused this runner's write`)
    this.name = 'LeaseLostError'
    this.migrationId = migrationId
    this.epoch = epoch
    this.holder = holder
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
  /** The file, or the PostgreSQL URL with its password masked. */
  readonly path: string
  private readonly store: SqlStore
  private readonly clock: Clock
  private readonly listeners = new Set<JournalListener>()
  /** Events written in the transaction in progress; delivered to listeners only once it commits. */
  private outbox: MigrationEvent[] = []
  private closed = false
  private readonly commitDelayMs: number | undefined
  /** The leases this journal took (acquireLock), by migration: every write for one of them is fenced. */
  private readonly fences = new Map<string, { target: string; token: string; epoch: number }>()
  /**
   * PostgreSQL only: the steps of migrations whose lease this journal holds, as last read or written here, so
   * that a transition needs no read first (one round trip instead of two). A write from it is guarded: it
   * changes the row only if the row is still as remembered, and fails otherwise (then the step is read again).
   * Cleared whenever a transaction fails, since what it wrote was not committed.
   */
  private readonly stepCache = new Map<string, StepRecord>()
  /** Nesting of transaction() calls: an inner one joins the outer one. */
  private depth = 0
  /** The group of writes not yet committed (commitDelayMs only), and who waits for it to be. */
  private group:
    | { id: number; timer: Timer; waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> }
    | undefined
  private groupSeq = 0
  /**
   * PostgreSQL: the group whose COMMIT is out (commitAsync), and its outcome. One at a time: the writes made
   * meanwhile gather in the next group, committed when this one is answered (a group commit, pipelined).
   */
  private committing: { id: number; done: Promise<void> } | undefined
  /** The open group's timer fired while a COMMIT was out. */
  private commitDue = false
  /** Groups that failed to commit, by id, with why (few: a failure stops or pauses the runner). */
  private readonly failedGroups = new Map<number, unknown>()
  /** The group that holds the last intent (flipping, rolling-back) written for an app, until it is asked for. */
  private readonly intents = new Map<string, number>()
  /** The migrations whose lease the open transaction (or group) has checked: once a transaction is enough. */
  private readonly fencedInTransaction = new Set<string>()
  /** When a transaction that checked the migration's lease last committed (or checkLease last passed). */
  private readonly leaseConfirmedAt = new Map<string, number>()
  /** Why a group failed to commit; every later write refuses, since what the caller believes was lost. */
  private broken: unknown
  /** Whether the open transaction (or group) holds a write that must be on disk when COMMIT returns. */
  private durableNeeded = true
  /** A group lost to an unreachable database: the next write throws it once (JournalUnavailableError). */
  private lost: JournalUnavailableError | undefined

  /**
   * Opens the journal at `location`: a PostgreSQL URL (`postgres://user@host/db`), else a file (created with
   * its directory when missing), or an in-memory one for ':memory:'.
   */
  static open(location: string, options: JournalOptions = {}): Journal {
    const store = isPostgresUrl(location) ? new PgStore(location) : new SqliteStore(location)
    return new Journal(store, options.clock ?? new RealClock(), options.commitDelayMs)
  }

  private constructor(store: SqlStore, clock: Clock, commitDelayMs: number | undefined) {
    if (commitDelayMs !== undefined && !(Number.isFinite(commitDelayMs) && commitDelayMs >= 0)) {
      store.close()
      throw new RangeError(`commitDelayMs must be 0 or more, got ${commitDelayMs}`)
    }
    this.store = store
    this.path = store.location
    this.clock = clock
    this.commitDelayMs = commitDelayMs
    try {
      this.upgrade()
    } catch (error) {
      store.close()
      throw error
    }
  }

  /** Which store holds this journal. */
  get storeKind(): 'sqlite' | 'postgres' {
    return this.store.kind
  }

  /** The schema version of the open journal. */
  get schemaVersion(): number {
    return this.store.schemaVersion()
  }

  /** The journal mode SQLite reports ('wal' for a file, 'memory' for ':memory:'); 'postgres' on PostgreSQL. */
  get journalMode(): string {
    return this.store.mode()
  }

  close(): void {
    if (this.closed) return
    try {
      this.flush()
    } finally {
      this.closed = true
      this.store.close()
    }
  }

  /** Whether some writes wait in a group to be committed. */
  get pending(): boolean {
    return this.group !== undefined || this.committing !== undefined
  }

  /** Commits the grouped writes now; their events then reach the listeners. */
  flush(): void {
    const group = this.group
    if (!group) return
    this.group = undefined
    group.timer.cancel()
    try {
      this.relaxUnlessDurable()
      this.store.run('COMMIT')
    } catch (error) {
      throw this.failGroup(group, error)
    }
    this.confirmFences()
    for (const waiter of group.waiters) waiter.resolve()
    this.deliver()
  }

  /**
   * The group's writes are lost (its COMMIT failed, or a statement of it failed on the server): what the
   * callers believe written is not. A database that could not be reached may answer again: the next write
   * says so once (see transaction()), so that its caller rechecks. A lease found taken over is the runner's
   * LeaseLostError; anything else breaks the journal. Returns the error to throw.
   */
  private failGroup(group: NonNullable<Journal['group']>, cause: unknown): unknown {
    if (this.group === group) this.group = undefined
    group.timer.cancel()
    const error = this.leaseLostOr(cause)
    this.rollbackQuietly()
    this.outbox = []
    this.stepCache.clear()
    this.fencedInTransaction.clear()
    this.failedGroups.set(group.id, error)
    if (error instanceof JournalUnavailableError) this.lost = error
    else this.broken = error
    for (const waiter of group.waiters) waiter.reject(error)
    return error
  }

  /** A fence refusal (see checkFence) of the open transaction as the LeaseLostError of its migration. */
  private leaseLostOr(error: unknown): unknown {
    if (!isFenceRefusal(error)) return error
    this.rollbackQuietly()
    return this.leaseLostFor([...this.fencedInTransaction], error)
  }

  private leaseLostFor(fenced: readonly string[], error: unknown): unknown {
    if (!isFenceRefusal(error)) return error
    for (const migrationId of fenced) {
      const fence = this.fences.get(migrationId)
      if (!fence) continue
      let holder: LockRecord | undefined
      // Not inside a transaction (a group opened since): a read would send its statements, and a failure there
      // would go unseen by the group.
      if (!this.store.inTransaction) {
        try {
          holder = this.lock(fence.target)
        } catch {
          holder = undefined
        }
      }
      return new LeaseLostError(migrationId, fence.epoch, holder)
    }
    return error
  }

  private confirmFences(): void {
    const now = this.clock.now()
    for (const migrationId of this.fencedInTransaction) this.leaseConfirmedAt.set(migrationId, now)
    this.fencedInTransaction.clear()
  }

  /**
   * Resolves once the last intent (flipping, rolling-back) written for the app is committed; rejects when
   * it was lost (its group failed to commit). What the runner awaits before the PUT that carries it out.
   */
  intentDurable(migrationId: string, appGuid: string): Promise<void> {
    const key = stepKey(migrationId, appGuid)
    const groupId = this.intents.get(key)
    if (groupId === undefined) return Promise.resolve()
    const group = this.group
    if (group && group.id === groupId) return new Promise((resolve, reject) => group.waiters.push({ resolve, reject }))
    if (this.committing?.id === groupId) return this.committing.done
    this.intents.delete(key)
    if (this.failedGroups.has(groupId)) return Promise.reject(this.failedGroups.get(groupId))
    return Promise.resolve()
  }

  /** Whether the journal saw the migration's lease held (a fenced commit, checkLease) within the last `ms`. */
  leaseConfirmedWithin(migrationId: string, ms: number): boolean {
    const at = this.leaseConfirmedAt.get(migrationId)
    return at !== undefined && this.clock.now() - at < ms
  }

  /** Resolves once every write made so far is committed: at once when none waits in a group. */
  durable(): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.brokenError())
    const group = this.group
    if (!group) return this.committing?.done ?? Promise.resolve()
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
      // Many rows per INSERT: on PostgreSQL each statement is a round trip, and a plan may hold 10,000 apps.
      for (let start = 0; start < input.steps.length; start += STEP_ROWS_PER_INSERT) {
        const chunk = input.steps.slice(start, start + STEP_ROWS_PER_INSERT)
        const values: SqlValue[] = []
        chunk.forEach((step, offset) => {
          values.push(
            id,
            start + offset,
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
        this.run(
          `INSERT INTO steps (migration_id, position, app_guid, app_name, org, space, app_state, instances, memory_mb,
             canary, original_diego, target_diego, state, created_at, updated_at)
           VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)").join(', ')}`,
          ...values,
        )
      }
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
    return this.fenced(id, () => {
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
    return this.fenced(id, () => {
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
    return this.fenced(id, () => {
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
    const steps = rows.map(toStep)
    for (const step of steps) this.remember(step)
    return steps.filter((s) => inStates(s.state, filter.states))
  }

  step(id: string, position: number): StepRecord | undefined {
    const row = this.get<StepRow>('SELECT * FROM steps WHERE migration_id = ? AND position = ?', id, position)
    const step = row ? toStep(row) : undefined
    if (step) this.remember(step)
    return step
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
    const lazy = LAZY_STEP_STATES.includes(to)
    const step = this.withStep(id, position, (current) =>
      this.fenced(
        id,
        () => {
          current ??= this.requireStep(id, position)
          if (!STEP_TRANSITIONS[current.state].includes(to)) {
            throw new JournalError(
              `step ${position} (${current.appName}) of migration ${id} cannot go from ${current.state} to ${to}`,
            )
          }
          return this.writeStep(current, to, change, event)
        },
        true,
        lazy,
      ),
    )
    // An intent waiting in a group: intentDurable() tells its PUT when it is committed.
    if (!lazy && this.group) this.intents.set(stepKey(id, step.appGuid), this.group.id)
    return step
  }

  /** Changes a step's details without changing its state (an error noted while rolling back, say). */
  updateStep(id: string, position: number, change: StepChange, event?: MigrationEventBody): StepRecord {
    return this.withStep(id, position, (current) =>
      this.fenced(id, () => this.writeStep(current ?? this.requireStep(id, position), undefined, change, event), true),
    )
  }

  // ---- events ----

  /** Appends an event stamped with the clock's time; listeners hear it once the transaction commits. */
  appendEvent(migrationId: string, body: MigrationEventBody): MigrationEvent {
    const event = { ...body, migrationId, at: this.clock.now() } as MigrationEvent
    const { type, ...rest } = body
    const appGuid = 'appGuid' in body ? body.appGuid : null
    this.fenced(
      migrationId,
      () => {
        this.defer(
          'INSERT INTO events (migration_id, at, type, app_guid, data) VALUES (?, ?, ?, ?, ?)',
          migrationId,
          event.at,
          type,
          appGuid,
          JSON.stringify(rest),
        )
        this.outbox.push(event)
      },
      true,
    )
    return event
  }

  /** In the order written. */
  events(migrationId: string, options: { afterSeq?: number; limit?: number } = {}): JournalEvent[] {
    const rows =
      options.limit === undefined
        ? this.all<EventRow>(
            'SELECT * FROM events WHERE migration_id = ? AND seq > ? ORDER BY seq',
            migrationId,
            options.afterSeq ?? 0,
          )
        : this.all<EventRow>(
            'SELECT * FROM events WHERE migration_id = ? AND seq > ? ORDER BY seq LIMIT ?',
            migrationId,
            options.afterSeq ?? 0,
            options.limit,
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

  // ---- the per-target lease ----

  /**
   * Takes the target's lease for `migrationId`, or throws LockHeldError naming the holder. A lease whose
   * heartbeat is stale, or whose pid is gone from this host, is taken over (and the takeover is reported).
   * Each acquisition has the next epoch of the target; from here on, every write this journal makes for
   * `migrationId` checks, in its own transaction, that the lease still has that epoch and this owner, and is
   * refused with LeaseLostError otherwise (see fenced()).
   */
  acquireLock(target: string, migrationId: string, owner: LockOwner, policy: Partial<LockPolicy> = {}): LockAcquired {
    const full: LockPolicy = {
      staleAfterMs: policy.staleAfterMs ?? DEFAULT_LOCK_STALE_MS,
      isAlive: policy.isAlive ?? isProcessAlive,
    }
    for (;;) {
      const acquired = this.transaction(() => {
        const now = this.clock.now()
        // The row, released or not, locked until the end of the transaction (PostgreSQL; SQLite's write
        // transaction already excludes every other writer).
        const row = this.get<LockRow>(`SELECT * FROM locks WHERE target = ?${this.store.lockRows}`, target)
        const held = row && row.released_at === null ? toLock(row) : undefined
        let tookOver: LockAcquired['tookOver']
        if (held) {
          const verdict = lockVerdict(held, owner, now, full)
          if (verdict.kind === 'held') throw new LockHeldError(held, now)
          if (verdict.kind === 'stale' || verdict.kind === 'dead') tookOver = { previous: held, reason: verdict.kind }
        }
        const values = [migrationId, owner.token, owner.pid, owner.hostname, now, now]
        if (row) {
          this.run(
            `UPDATE locks SET migration_id = ?, token = ?, pid = ?, hostname = ?, acquired_at = ?, heartbeat_at = ?,
               epoch = epoch + 1, released_at = NULL
             WHERE target = ?`,
            ...values,
            target,
          )
        } else {
          const inserted = this.run(
            `INSERT INTO locks (migration_id, token, pid, hostname, acquired_at, heartbeat_at, target, epoch)
             VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (target) DO NOTHING`,
            ...values,
            target,
          )
          // Another cfctl inserted the first row of this target at the same moment: look again.
          if (inserted !== 1) return undefined
        }
        const lock = this.lock(target)!
        this.fences.set(migrationId, { target, token: owner.token, epoch: lock.epoch })
        this.forgetSteps(migrationId)
        return tookOver ? { lock, tookOver } : { lock }
      })
      if (acquired) return acquired
    }
  }

  /** Refreshes the heartbeat; false when the lease is no longer this owner's (it was taken over). */
  heartbeat(target: string, token: string): boolean {
    const changed = this.transaction(() =>
      this.run(
        'UPDATE locks SET heartbeat_at = ? WHERE target = ? AND token = ? AND released_at IS NULL',
        this.clock.now(),
        target,
        token,
      ),
    )
    return changed === 1
  }

  /**
   * heartbeat() without blocking this thread on PostgreSQL: a statement of its own, whose answer is awaited
   * while the runner goes on (a heartbeat is no part of any migration's writes, so it waits for no group).
   */
  async heartbeatAsync(target: string, token: string): Promise<boolean> {
    if (!this.store.queryAsync || this.broken !== undefined || this.closed) return this.heartbeat(target, token)
    const { rowCount } = await this.store.queryAsync(
      'UPDATE locks SET heartbeat_at = ? WHERE target = ? AND token = ? AND released_at IS NULL',
      [this.clock.now(), target, token],
    )
    return rowCount === 1
  }

  releaseLock(target: string, token: string): boolean {
    const changed = this.transaction(() =>
      this.run(
        'UPDATE locks SET released_at = ? WHERE target = ? AND token = ? AND released_at IS NULL',
        this.clock.now(),
        target,
        token,
      ),
    )
    for (const [migrationId, fence] of this.fences) {
      if (fence.target === target && fence.token === token) {
        this.fences.delete(migrationId)
        this.forgetSteps(migrationId)
      }
    }
    return changed === 1
  }

  lock(target: string): LockRecord | undefined {
    const row = this.get<LockRow>('SELECT * FROM locks WHERE target = ? AND released_at IS NULL', target)
    return row ? toLock(row) : undefined
  }

  /** The lease held for this migration with a heartbeat fresher than `staleAfterMs`, if any. */
  liveLockOf(migrationId: string, staleAfterMs = DEFAULT_LOCK_STALE_MS): LockRecord | undefined {
    const row = this.get<LockRow>('SELECT * FROM locks WHERE migration_id = ? AND released_at IS NULL', migrationId)
    if (!row) return undefined
    const lock = toLock(row)
    return this.clock.now() - lock.heartbeatAt <= staleAfterMs ? lock : undefined
  }

  /**
   * The live lock of a migration whose runner still exists: on this host its pid must exist too (after a
   * kill -9 the heartbeat stays fresh for up to the stale limit, but the pid is gone at once).
   */
  liveRunnerOf(migrationId: string): LockRecord | undefined {
    const lock = this.liveLockOf(migrationId)
    if (!lock) return undefined
    if (lock.hostname === hostname() && !isProcessAlive(lock.pid)) return undefined
    return lock
  }

  /**
   * Throws LeaseLostError unless the lease this journal took for `migrationId` still has its epoch: what the
   * runner asks right before a PUT when time passed since its last journal write (a frozen process, say).
   */
  checkLease(migrationId: string): void {
    const fence = this.fences.get(migrationId)
    if (!fence) return
    const held = this.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM locks WHERE target = ? AND epoch = ? AND token = ? AND released_at IS NULL',
      fence.target,
      fence.epoch,
      fence.token,
    )
    if (Number(held?.n) !== 1) throw new LeaseLostError(migrationId, fence.epoch, this.lock(fence.target))
    this.leaseConfirmedAt.set(migrationId, this.clock.now())
  }

  /** The epoch of the lease this journal holds for the migration, if it holds one. */
  leaseEpoch(migrationId: string): number | undefined {
    return this.fences.get(migrationId)?.epoch
  }

  // ---- control commands from other processes ----

  requestControl(migrationId: string, command: ControlCommand): ControlRecord {
    const parsed = ControlCommand.parse(command)
    this.requireMigration(migrationId)
    const at = this.clock.now()
    const row = this.transaction(() =>
      this.get<{ seq: number }>(
        'INSERT INTO controls (migration_id, at, command) VALUES (?, ?, ?) RETURNING seq',
        migrationId,
        at,
        JSON.stringify(parsed),
      ),
    )
    return { seq: Number(row!.seq), migrationId, at, command: parsed }
  }

  /**
   * Whether commands wait for the runner of `migrationId`: a read that does not block this thread on
   * PostgreSQL (where the runner asks every second, while its writes are on their way to the server).
   */
  async controlsWaiting(migrationId: string): Promise<boolean> {
    const sql = 'SELECT 1 AS waiting FROM controls WHERE migration_id = ? AND taken_at IS NULL LIMIT 1'
    if (!this.store.queryAsync || this.closed) return this.all(sql, migrationId).length > 0
    return (await this.store.queryAsync(sql, [migrationId])).rows.length > 0
  }

  /** The commands not yet taken, oldest first, marking them taken. */
  takeControls(migrationId: string): ControlRecord[] {
    return this.fenced(migrationId, () => {
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

  /**
   * In the transaction of a write for `migrationId`: when this journal holds the migration's lease, the write
   * goes ahead only if the lease still has this journal's epoch and owner. The no-op UPDATE locks the lease
   * row until the commit (PostgreSQL), so a takeover waits for the write rather than passing it.
   */
  private checkFence(migrationId: string): void {
    const fence = this.fences.get(migrationId)
    if (!fence) return
    // The first check of a transaction holds the lease row (locked until the commit; SQLite's write lock
    // excludes every other writer): a second one in the same transaction could find nothing new.
    if (this.fencedInTransaction.has(migrationId)) return
    this.fencedInTransaction.add(migrationId)
    if (this.store.kind === 'postgres') {
      // The same check as one statement that fails (division by zero) when no lease row has this epoch, sent
      // with the transaction's next statements: the transaction is refused as a whole (see fenced()).
      this.store.defer(
        `WITH held AS (
           UPDATE locks SET epoch = epoch WHERE target = ? AND epoch = ? AND token = ? AND released_at IS NULL
           RETURNING 1
         ) SELECT 1 / COUNT(*) AS held FROM held`,
        [fence.target, fence.epoch, fence.token],
      )
      return
    }
    const changed = this.run(
      'UPDATE locks SET epoch = epoch WHERE target = ? AND epoch = ? AND token = ? AND released_at IS NULL',
      fence.target,
      fence.epoch,
      fence.token,
    )
    if (changed === 1) return
    const now = this.lock(fence.target)
    throw new LeaseLostError(migrationId, fence.epoch, now)
  }

  /** A write for `migrationId`, fenced by its lease (checked once, by the outermost of nested writes). */
  private fenced<T>(migrationId: string, fn: () => T, groupable = false, lazy = false): T {
    const outermost = this.depth === 0
    try {
      return this.transaction(
        () => {
          if (outermost) this.checkFence(migrationId)
          return fn()
        },
        groupable,
        lazy,
      )
    } catch (error) {
      const fence = this.fences.get(migrationId)
      if (outermost && fence && isFenceRefusal(error)) {
        throw new LeaseLostError(migrationId, fence.epoch, this.lock(fence.target))
      }
      throw error
    }
  }

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
    const values: SqlValue[] = [
      next.state,
      next.error,
      next.note,
      next.flipped ? 1 : 0,
      next.attempts,
      now,
      ...(stamp ? [now] : []),
      current.migrationId,
      current.position,
    ]
    const update = `UPDATE steps SET state = ?, error = ?, note = ?, flipped = ?, attempts = ?, updated_at = ?
         ${stamp ? `, ${stamp.column} = ?` : ''}
       WHERE migration_id = ? AND position = ?`
    if (this.caching(current.migrationId)) {
      // Written from what this journal remembers of the row: only if the row is still so, else ln(0) fails
      // the statement (STALE_STEP) and withStep() reads the row and tries again. The state is compared as
      // `state || ''` so that PostgreSQL finds the row by its primary key: with `state = ?` it took the
      // steps_by_state index and scanned every step in that state (all the pending ones, early in a run) for
      // one row, which made each write cost in proportion to the plan, and a group commit of a 10,000-app
      // migration most of the runner's time.
      this.defer(
        `WITH changed AS (
           ${update} AND state || '' = ? AND error IS NOT DISTINCT FROM ? AND note IS NOT DISTINCT FROM ?
             AND flipped = ? AND attempts = ? AND updated_at = ?
           RETURNING 1
         ) SELECT ln(COUNT(*)) AS stale FROM changed`,
        ...values,
        current.state,
        current.error,
        current.note,
        current.flipped ? 1 : 0,
        current.attempts,
        current.updatedAt,
      )
      this.stepCache.set(stepKey(current.migrationId, current.position), next)
    } else {
      this.defer(update, ...values)
    }
    if (event) this.appendEvent(current.migrationId, event)
    return next
  }

  /** Whether this journal keeps the steps of `migrationId` (PostgreSQL, under the migration's lease). */
  private caching(migrationId: string): boolean {
    return this.store.kind === 'postgres' && this.fences.has(migrationId)
  }

  private forgetSteps(migrationId: string): void {
    for (const key of this.stepCache.keys()) if (key.startsWith(`${migrationId}\u0000`)) this.stepCache.delete(key)
  }

  private remember(step: StepRecord): void {
    if (this.caching(step.migrationId)) this.stepCache.set(stepKey(step.migrationId, step.position), step)
  }

  /**
   * fn with the step as this journal remembers it (undefined when it does not: fn reads it). When the row
   * had changed meanwhile, the guarded write fails, and fn runs again with the row read afresh.
   */
  private withStep<T>(id: string, position: number, fn: (current: StepRecord | undefined) => T): T {
    const remembered = this.depth === 0 ? this.stepCache.get(stepKey(id, position)) : undefined
    if (!remembered) return fn(undefined)
    try {
      return fn(remembered)
    } catch (error) {
      if (!isStaleStep(error)) throw error
      this.stepCache.delete(stepKey(id, position))
      return fn(undefined)
    }
  }

  private upgrade(): void {
    const check = (version: number) => {
      if (version > SCHEMA_VERSION) {
        throw new JournalError(
          `the journal ${this.path} has schema version ${version}, written by a newer cfctl; this one reads up to ${SCHEMA_VERSION}`,
        )
      }
    }
    // Read first without a write transaction: the usual journal is current, and a reader needs no lock.
    const seen = this.store.schemaVersion()
    check(seen)
    if (seen === SCHEMA_VERSION) return
    this.transaction(() => {
      this.store.lockSchema()
      const version = this.store.schemaVersion()
      check(version)
      for (let v = version; v < SCHEMA_VERSION; v++) {
        this.store.exec(this.store.upgrades[v]!)
        this.store.setSchemaVersion(v + 1)
      }
    })
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
  private transaction<T>(fn: () => T, groupable = false, lazy = false): T {
    if (this.depth > 0) return fn()
    if (this.broken !== undefined) throw this.brokenError()
    if (this.lost !== undefined) {
      const lost = this.lost
      this.lost = undefined
      throw new JournalUnavailableError(this.path, `the last group of writes was not committed (${lost.message})`)
    }
    if (groupable && this.commitDelayMs !== undefined) return this.inGroup(fn, lazy)
    this.flush()
    let result: T
    this.depth++
    try {
      this.store.defer('BEGIN IMMEDIATE')
      this.durableNeeded = !lazy
      try {
        result = fn()
        this.relaxUnlessDurable()
        this.store.run('COMMIT')
      } catch (error) {
        this.rollbackQuietly()
        this.outbox = []
        this.stepCache.clear()
        this.fencedInTransaction.clear()
        throw error
      }
    } finally {
      this.depth--
    }
    this.confirmFences()
    this.deliver()
    return result
  }

  /** fn inside the open group (opening it), as a savepoint: a write that fails leaves the others in place. */
  private inGroup<T>(fn: () => T, lazy: boolean): T {
    if (!this.group) {
      this.store.defer('BEGIN IMMEDIATE')
      this.durableNeeded = false
      this.group = {
        id: ++this.groupSeq,
        waiters: [],
        timer: this.clock.after(this.commitDelayMs!, () => this.commitGroup()),
      }
    }
    const mark = this.outbox.length
    if (this.store.kind === 'postgres') return this.inDeferredGroup(fn, lazy, mark)
    this.store.defer('SAVEPOINT grouped_write')
    this.depth++
    try {
      const result = fn()
      this.store.run('RELEASE grouped_write')
      if (!lazy) this.durableNeeded = true
      return result
    } catch (error) {
      this.stepCache.clear()
      this.store.run('ROLLBACK TO grouped_write')
      this.store.run('RELEASE grouped_write')
      this.outbox.length = mark
      throw error
    } finally {
      this.depth--
    }
  }

  /**
   * On PostgreSQL a grouped write sends nothing: its statements wait in the store and go with the group's
   * COMMIT, one round trip for the whole group (a round trip per write, with the runner's event loop blocked
   * on it, was most of a migration's time). A write that fails here, before any of it was sent, is dropped
   * alone; one whose statements reached the server and failed there (a read sent them early) loses the group.
   */
  private inDeferredGroup<T>(fn: () => T, lazy: boolean, mark: number): T {
    const queued = this.store.mark()
    const fences = this.fencedInTransaction.size
    this.depth++
    try {
      const result = fn()
      if (!lazy) this.durableNeeded = true
      return result
    } catch (error) {
      this.stepCache.clear()
      if (this.store.discardTo(queued)) {
        this.outbox.length = mark
        for (const migrationId of [...this.fencedInTransaction].slice(fences))
          this.fencedInTransaction.delete(migrationId)
        throw error
      }
      throw this.failGroup(this.group!, error)
    } finally {
      this.depth--
    }
  }

  /** The group's timer: a failure is kept (every later write throws it), since no caller is there to hear it. */
  private commitGroup(): void {
    if (this.store.commitAsync) {
      this.startCommit()
      return
    }
    try {
      this.flush()
    } catch {
      // Kept in this.broken by flush().
    }
  }

  /**
   * PostgreSQL: sends the open group's COMMIT and returns; its waiters hear the answer. A failure is kept as
   * flush() keeps one (lost or broken). The next group, opened meanwhile, is left to its own commit: what it
   * wrote on the strength of the lost group's writes cannot commit, since each step write of a runner is
   * guarded by the row as it should be (see writeStep), and an intent's PUT waits for its own group.
   */
  private startCommit(): void {
    if (this.committing) {
      this.commitDue = true
      return
    }
    const group = this.group
    if (!group) return
    this.group = undefined
    group.timer.cancel()
    this.relaxUnlessDurable()
    const events = this.outbox
    this.outbox = []
    const fenced = [...this.fencedInTransaction]
    this.fencedInTransaction.clear()
    const done = this.store.commitAsync!().then(
      () => {
        const now = this.clock.now()
        for (const migrationId of fenced) this.leaseConfirmedAt.set(migrationId, now)
        for (const waiter of group.waiters) waiter.resolve()
        this.deliverEvents(events)
      },
      (cause: unknown) => {
        const error = this.leaseLostFor(fenced, cause)
        this.stepCache.clear()
        this.failedGroups.set(group.id, error)
        if (error instanceof JournalUnavailableError) this.lost = error
        else this.broken = error
        for (const waiter of group.waiters) waiter.reject(error)
        throw error
      },
    )
    this.committing = { id: group.id, done }
    done
      .catch(() => {})
      .finally(() => {
        this.committing = undefined
        if (this.commitDue && !this.closed) {
          this.commitDue = false
          this.startCommit()
        }
      })
  }

  private brokenError(): Error {
    if (this.broken instanceof LeaseLostError) return this.broken
    const why = this.broken instanceof Error ? this.broken.message : String(this.broken)
    return new JournalError(
      `the journal ${this.path} could not commit its last writes (${why}); nothing more is written`,
    )
  }

  private deliver(): void {
    const delivered = this.outbox
    this.outbox = []
    this.deliverEvents(delivered)
  }

  private deliverEvents(events: readonly MigrationEvent[]): void {
    for (const event of events) for (const listener of this.listeners) listener(event)
  }

  /**
   * On PostgreSQL, a transaction that holds only writes a crash may lose (a step found flipped, a step
   * verified: after a crash the runner reads the CC and finds them again) commits without waiting for its
   * WAL to reach the disk. Every intent (flipping, rolling-back) and everything else waits, as it must.
   * SQLite's WAL in synchronous=NORMAL already commits without an fsync.
   */
  private relaxUnlessDurable(): void {
    if (this.store.kind === 'postgres' && !this.durableNeeded) this.store.defer('SET LOCAL synchronous_commit = off')
  }

  /** Ends a failed transaction; a store that cannot even do that (its connection is gone) ends it itself. */
  private rollbackQuietly(): void {
    if (!this.store.inTransaction) return
    try {
      this.store.run('ROLLBACK')
    } catch {
      // The connection broke: the server rolled the transaction back with it.
    }
  }

  private all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.read(() => this.store.all<T>(sql, params))
  }

  private get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.read(() => this.store.get<T>(sql, params))
  }

  /**
   * A read outside any write, while a group is open: on PostgreSQL it goes in the group's transaction, with
   * the group's deferred statements ahead of it, so a failure there (the lease's fence refusing, a server gone)
   * is the group's: it is lost as a whole and the read throws what the group's commit would have (a
   * LeaseLostError for a fence), rather than a bare error that leaves the group to commit into an aborted
   * transaction.
   */
  private read<T>(fn: () => T): T {
    const group = this.depth === 0 && this.store.kind === 'postgres' ? this.group : undefined
    if (!group) return fn()
    try {
      return fn()
    } catch (error) {
      if (this.group !== group) throw error
      throw this.failGroup(group, error)
    }
  }

  /** A write; how many rows it changed. */
  private run(sql: string, ...params: SqlValue[]): number {
    return this.store.run(sql, params)
  }

  /** A write whose count is not needed: on PostgreSQL it goes with the next statement (store.defer). */
  private defer(sql: string, ...params: SqlValue[]): void {
    this.store.defer(sql, params)
  }
}

function stepKey(migrationId: string, position: number | string): string {
  return `${migrationId}\u0000${position}`
}

/** A guarded step write (writeStep) found the row other than this journal remembered it: ln(0). */
function isStaleStep(error: unknown): boolean {
  return error instanceof PgStatementError && error.code === '2201E'
}

/** The PostgreSQL fence statement (checkFence) found no lease row with this journal's epoch. */
function isFenceRefusal(error: unknown): boolean {
  return error instanceof PgStatementError && error.code === '22012'
}

/** Transitions whose loss in a crash of the database costs a recheck, not an intent (see relaxUnlessDurable). */
const LAZY_STEP_STATES: readonly StepState[] = ['verifying', 'done']

/** 14 values a row: well inside SQLite's 32,766 and PostgreSQL's 65,535 parameters a statement. */
const STEP_ROWS_PER_INSERT = 500

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
  epoch: number
  released_at: number | null
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
    epoch: Number(row.epoch),
    acquiredAt: Number(row.acquired_at),
    heartbeatAt: Number(row.heartbeat_at),
  }
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value)
}
