// `cfctl migrations pause|resume|abort|set-rate ID` from any terminal. When a live runner holds the
// migration (its lock's heartbeat is fresh), the command is left in the journal and that runner applies it
// within a second; when none does (never started, paused and exited, or crashed), the journal is changed
// directly, since there is nothing in flight to wait for.
import type { Journal } from '../journal/journal.js'
import { DEFAULT_LOCK_STALE_MS } from '../journal/lock.js'
import type { ControlCommand, LockRecord, MigrationRecord, MigrationState } from '../journal/types.js'
import { MigrationStateError } from './errors.js'
import { rateFrom } from './rate.js'

export type ControlResult =
  /** Left for the runner that holds the migration; it applies it on its next poll. */
  | { delivered: 'runner'; lock: LockRecord; migration: MigrationRecord }
  /** Applied to the journal, since no runner holds the migration. */
  | { delivered: 'journal'; migration: MigrationRecord }

export function controlMigration(
  journal: Journal,
  migrationId: string,
  command: ControlCommand,
  options: { staleAfterMs?: number } = {},
): ControlResult {
  const migration = journal.requireMigration(migrationId)
  if (command.type === 'set-rate') rateFrom(command.rate)
  requireUnfinished(migration, command)
  const lock = journal.liveLockOf(migrationId, options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS)
  if (lock) {
    journal.requestControl(migrationId, command)
    return { delivered: 'runner', lock, migration }
  }
  return { delivered: 'journal', migration: applyOffline(journal, migration, command) }
}

/**
 * `migrations set-rate ID [RATE] [--max-in-flight N]`: both at once. With no runner, one change of the
 * journal and one event that states the new pace whole (two would show a pace that never was: the new
 * rate with the old in-flight limit).
 */
export function changePace(
  journal: Journal,
  migrationId: string,
  pace: { rate?: string | null; maxInFlight?: number },
  options: { staleAfterMs?: number } = {},
): ControlResult {
  const migration = journal.requireMigration(migrationId)
  const rate = pace.rate === undefined ? undefined : (rateFrom(pace.rate)?.text ?? null)
  const commands: ControlCommand[] = [
    ...(rate !== undefined ? [{ type: 'set-rate' as const, rate }] : []),
    ...(pace.maxInFlight !== undefined ? [{ type: 'set-max-in-flight' as const, maxInFlight: pace.maxInFlight }] : []),
  ]
  for (const command of commands) requireUnfinished(migration, command)
  const lock = journal.liveLockOf(migrationId, options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS)
  if (lock) {
    for (const command of commands) journal.requestControl(migrationId, command)
    return { delivered: 'runner', lock, migration }
  }
  const next = {
    rate: rate === undefined ? migration.parameters.rate : rate,
    maxInFlight: pace.maxInFlight ?? migration.parameters.maxInFlight,
  }
  return {
    delivered: 'journal',
    migration: journal.updateParameters(migrationId, next, { type: 'rate-changed', ...next }),
  }
}

function applyOffline(journal: Journal, migration: MigrationRecord, command: ControlCommand): MigrationRecord {
  const id = migration.id
  const stoppable = migration.state === 'planned' || migration.state === 'running' || migration.state === 'paused'
  switch (command.type) {
    case 'pause':
      if (!stoppable) throw new MigrationStateError(`migration ${id} is ${migration.state}; there is nothing to pause`)
      return journal.setMigrationState(id, 'paused', {
        pausedBy: command.by,
        event: { type: 'paused', by: command.by },
      })
    case 'resume':
      throw new MigrationStateError(
        `no cfctl is running migration ${id} (it is ${migration.state}); resuming needs a process to run it`,
        migration.state === 'rolling-back' ? `run: cfctl rollback ${id}` : `run: cfctl migrate --resume ${id}`,
      )
    case 'abort': {
      if (!stoppable) throw new MigrationStateError(`migration ${id} is ${migration.state}; there is nothing to abort`)
      const pending = journal.stepCounts(id).pending
      return journal.setMigrationState(id, 'aborted', {
        pausedBy: null,
        event: { type: 'aborted', by: command.by, pending },
      })
    }
    case 'set-rate': {
      const rate = rateFrom(command.rate)?.text ?? null
      return journal.updateParameters(
        id,
        { rate },
        { type: 'rate-changed', rate, maxInFlight: migration.parameters.maxInFlight },
      )
    }
    case 'set-max-in-flight':
      return journal.updateParameters(
        id,
        { maxInFlight: command.maxInFlight },
        { type: 'rate-changed', rate: migration.parameters.rate, maxInFlight: command.maxInFlight },
      )
  }
}

/** The states a migration ends in: nothing runs it again, only a rollback (of all but a rolled-back one). */
export const FINISHED_STATES: readonly MigrationState[] = ['completed', 'failed', 'aborted', 'rolled-back']

/** A finished migration takes no pause, resume, abort or change of pace: one line says so and what is left. */
function requireUnfinished(migration: MigrationRecord, command: ControlCommand): void {
  if (!FINISHED_STATES.includes(migration.state)) return
  const what = command.type === 'set-max-in-flight' ? 'set-rate' : command.type
  throw new MigrationStateError(
    `migration ${migration.id} is ${migration.state}; a finished migration takes no ${what}`,
    migration.state === 'rolled-back' ? undefined : `what is left is a rollback: cfctl rollback ${migration.id}`,
  )
}
