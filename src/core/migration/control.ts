// `cfctl migrations pause|resume|abort|set-rate ID` from any terminal. When a live runner holds the
// migration (its lock's heartbeat is fresh), the command is left in the journal and that runner applies it
// within a second; when none does (never started, paused and exited, or crashed), the journal is changed
// directly, since there is nothing in flight to wait for.
import type { Journal } from '../journal/journal.js'
import { DEFAULT_LOCK_STALE_MS } from '../journal/lock.js'
import type { ControlCommand, LockRecord, MigrationRecord } from '../journal/types.js'
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
  const lock = journal.liveLockOf(migrationId, options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS)
  if (lock) {
    journal.requestControl(migrationId, command)
    return { delivered: 'runner', lock, migration }
  }
  return { delivered: 'journal', migration: applyOffline(journal, migration, command) }
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
        `run: cfctl migrate --resume ${id}`,
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
