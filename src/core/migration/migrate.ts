// `cfctl migrate` as a flow, without a terminal: check the target's lock, plan, show, confirm, take the lock,
// record, run. The one-per-target lock is checked before the plan is shown, so an operator is never asked
// about a run that cannot start, and taken (atomically, in the journal) before the migration is recorded, so
// a run refused by it writes nothing: no `planned` record is left for a dashboard to pick up and start.
// The command keeps the flags and the printing; the hooks are where they meet.
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import { UserError } from '../errors.js'
import type { Journal } from '../journal/journal.js'
import {
  currentProcessOwner,
  DEFAULT_LOCK_STALE_MS,
  isProcessAlive,
  LockHeldError,
  type LockPolicy,
  lockVerdict,
} from '../journal/lock.js'
import type { LockOwner, LockRecord, MigrationRecord } from '../journal/types.js'
import {
  type MigrateOptions,
  type PreparedMigration,
  recordMigration,
  requireMigration,
  requireSameTarget,
} from './operation.js'
import type { MigrationOutcome, MigrationRunner } from './runner.js'

export interface MigrateContext {
  journal: Journal
  clock: Clock
  /** The CC's URL: one running migration per target. */
  target: string
  /** Plans from the fleet as the target shows it now, with both backends' room. */
  prepare: (options: MigrateOptions) => Promise<PreparedMigration>
  /** A runner for a recorded migration that holds the lock as `owner`. */
  runnerFor: (migrationId: string, owner: LockOwner) => MigrationRunner
  owner?: LockOwner
  lock?: Partial<LockPolicy>
}

export type MigrateRequest =
  | { kind: 'new'; options: MigrateOptions; dryRun?: boolean; force?: boolean; yes?: boolean }
  /** `wait`: while another cfctl's lease on the target is fresh, wait for it to lapse (or be let go) rather than refuse. */
  | { kind: 'resume'; id: string; yes?: boolean; wait?: boolean }

export interface MigrateHooks {
  /** The plan, once the target is known to be free (a dry run shows it and ends). */
  plan?: (prepared: PreparedMigration) => void
  /** Asks the operator; only called without `yes`. */
  confirm: (question: string) => Promise<boolean>
  /** The migration is recorded and this process holds the target: the runner to run. */
  recorded?: (migration: MigrationRecord, prepared: PreparedMigration | undefined) => void
  /** A resume with `wait` found the target's lease held: it waits until `lapsesAt` at most, or until it is let go. */
  waiting?: (lock: LockRecord, lapsesAt: number) => void
  /** Runs it (following its events, handling signals) and returns how it ended. */
  run: (runner: MigrationRunner) => Promise<MigrationOutcome>
}

export type MigrateResult =
  | { kind: 'dry-run'; prepared: PreparedMigration }
  /** The operator said no: nothing was written. */
  | { kind: 'declined' }
  | { kind: 'ran'; migrationId: string; outcome: MigrationOutcome }

export async function migrate(
  context: MigrateContext,
  request: MigrateRequest,
  hooks: MigrateHooks,
): Promise<MigrateResult> {
  const owner = context.owner ?? currentProcessOwner()
  const policy: LockPolicy = {
    staleAfterMs: context.lock?.staleAfterMs ?? DEFAULT_LOCK_STALE_MS,
    isAlive: context.lock?.isAlive ?? isProcessAlive,
  }
  const { journal } = context
  let migration: MigrationRecord
  let prepared: PreparedMigration | undefined
  if (request.kind === 'resume') {
    migration = requireMigration(journal, request.id)
    requireSameTarget(migration, context.target)
    if (request.wait) await waitForLease(context, owner, policy, hooks)
    requireFree(context, owner, policy, migration.id)
    if (migration.state === 'planned' && !request.yes) {
      // A planned record was never started: a crash between recording and running, or a journal from an
      // older cfctl that recorded before it checked the lock. Nobody has said yes to it in this process.
      const steps = journal.steps(migration.id).length
      if (
        !(await hooks.confirm(
          `Migration ${migration.id} was never started. Move its ${steps} apps to ${migration.to}?`,
        ))
      )
        return { kind: 'declined' }
    }
    const acquired = journal.acquireLock(migration.target, migration.id, owner, policy)
    // The runner finds the lock its own; the takeover of a dead or stale runner is recorded here, where it happened.
    if (acquired.tookOver) {
      const { previous, reason } = acquired.tookOver
      journal.appendEvent(migration.id, {
        type: 'lock-taken-over',
        fromPid: previous.pid,
        fromHostname: previous.hostname,
        heartbeatAt: previous.heartbeatAt,
        reason,
      })
    }
  } else {
    requireFree(context, owner, policy)
    prepared = await context.prepare(request.options)
    if (prepared.plan.steps.length === 0) throw nothingToMove(request.options)
    hooks.plan?.(prepared)
    if (request.dryRun) return { kind: 'dry-run', prepared }
    if (!prepared.capacity.ok && !request.force)
      throw new UserError(
        `refusing to start: ${prepared.capacity.messages.filter(Boolean).join('; ')}`,
        'add capacity, narrow the selection, or pass --force',
      )
    if (!request.yes && !(await hooks.confirm(`Move ${prepared.plan.steps.length} apps to ${request.options.to}?`)))
      return { kind: 'declined' }
    migration = recordHoldingLock(context, owner, policy, prepared, request.options)
  }
  hooks.recorded?.(migration, prepared)
  let runner: MigrationRunner
  try {
    runner = context.runnerFor(migration.id, owner)
  } catch (error) {
    journal.releaseLock(migration.target, owner.token)
    throw error
  }
  const outcome = await hooks.run(runner)
  // The runner releases the lock when it ends; this covers a run that never reached it.
  if (journal.lock(migration.target)?.token === owner.token) journal.releaseLock(migration.target, owner.token)
  return { kind: 'ran', migrationId: migration.id, outcome }
}

/** Refuses, naming the holder, when another live cfctl runs a migration on the target. */
function requireFree(context: MigrateContext, owner: LockOwner, policy: LockPolicy, migrationId?: string): void {
  const held = heldLease(context, owner, policy)
  if (!held) return
  const now = context.clock.now()
  if (migrationId !== undefined && held.migrationId === migrationId) {
    // The holder may be gone (kill -9, a lost machine or CI runner) with its lease still fresh: say until when.
    const lapsesAt = held.heartbeatAt + policy.staleAfterMs
    const age = Math.max(0, Math.round((now - held.heartbeatAt) / 1000))
    throw new UserError(
      `migration ${migrationId} is being run by pid ${held.pid} on ${held.hostname} (heartbeat ${age} s ago); ` +
        `if that cfctl is gone, its lease lapses at ${new Date(lapsesAt).toISOString()} (in ${secondsUntil(lapsesAt, now)} s)`,
      `run this again then, or add --wait to wait for it; steer the live run with: cfctl migrations pause|resume|abort ${migrationId}, or watch it: cfctl dashboard`,
    )
  }
  throw new LockHeldError(held, now)
}

/** The target's lease, when another live cfctl holds it (one that may not be taken over now). */
function heldLease(context: MigrateContext, owner: LockOwner, policy: LockPolicy): LockRecord | undefined {
  const held = context.journal.lock(context.target)
  if (!held) return undefined
  return lockVerdict(held, owner, context.clock.now(), policy).kind === 'held' ? held : undefined
}

/**
 * `--resume --wait`: until the target's lease may be taken (its holder let it go, or stopped heartbeating
 * for the stale limit), looking again every second. A holder that keeps heartbeating is waited for until it
 * ends its run; the resume then finds the migration as it left it.
 */
async function waitForLease(
  context: MigrateContext,
  owner: LockOwner,
  policy: LockPolicy,
  hooks: MigrateHooks,
): Promise<void> {
  let told: string | undefined
  for (;;) {
    const held = heldLease(context, owner, policy)
    if (!held) return
    const lapsesAt = held.heartbeatAt + policy.staleAfterMs
    // Told once per holder (a live one moves its lapse on with each heartbeat).
    if (told !== held.token) hooks.waiting?.(held, lapsesAt)
    told = held.token
    await context.clock.sleep(Math.min(LEASE_POLL_MS, Math.max(1, lapsesAt + 1 - context.clock.now())))
  }
}

const LEASE_POLL_MS = 1_000

function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/**
 * Takes the target's lock for a fresh id, then records the migration under that id. The lock is taken
 * first and atomically (a check and a write in one journal transaction), so two cfctls that planned at once
 * cannot both record: the second is refused with nothing written.
 */
function recordHoldingLock(
  context: MigrateContext,
  owner: LockOwner,
  policy: LockPolicy,
  prepared: PreparedMigration,
  options: MigrateOptions,
): MigrationRecord {
  const id = freshMigrationId(context.journal, context.clock.now())
  context.journal.acquireLock(context.target, id, owner, policy)
  try {
    return recordMigration(context.journal, context.target, prepared, options, id)
  } catch (error) {
    context.journal.releaseLock(context.target, owner.token)
    throw error
  }
}

/** An id as the journal makes them (20261123-111318-9093), chosen here since the lock names it before it is recorded. */
function freshMigrationId(journal: Journal, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  for (;;) {
    const id = `${stamp}-${randomBytes(2).toString('hex')}`
    if (!journal.migration(id)) return id
  }
}

function nothingToMove(options: MigrateOptions): UserError {
  return new UserError(`no app to move to ${options.to}`, 'check --org, --space, --app and --app-pattern')
}
