import { UsageError, UserError } from '../errors.js'

/** The migration is in a state that does not allow what was asked (resume a completed one, say). */
export class MigrationStateError extends UsageError {}

/** Another runner took the target's lock while this one ran (this one's heartbeat had gone stale). */
export class LockLostError extends UserError {
  constructor(migrationId: string) {
    super(
      `lost the lease of migration ${migrationId}: another cfctl took it over after this one's heartbeat went ` +
        'stale; this one flips nothing more',
      `see who runs it with: cfctl migrations show ${migrationId}`,
      3,
    )
  }
}
