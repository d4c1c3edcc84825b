export type { JournalEvent, MigrationEvent, MigrationEventBody, MigrationEventType } from './events.js'
export {
  Journal,
  JournalError,
  type JournalListener,
  type JournalOptions,
  LeaseLostError,
  type LockAcquired,
  type NewMigration,
  type StepChange,
} from './journal.js'
export {
  currentProcessOwner,
  DEFAULT_LOCK_STALE_MS,
  isProcessAlive,
  LockHeldError,
  type LockPolicy,
  type LockVerdict,
  lockVerdict,
} from './lock.js'
export { JournalUnavailableError, PgStatementError, redactUrl } from './pg-store.js'
export { SCHEMA_VERSION } from './schema.js'
export { isPostgresUrl } from './store.js'
export {
  type Backend,
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
