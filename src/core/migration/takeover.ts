// `cfctl rollback ID` while another cfctl runs the migration forward, as `kubectl rollout undo` works in the
// middle of a rollout: the run there is told to stop (an abort left in the journal: no new app starts, the
// apps in flight finish their step), and once it lets the target go, the rollback runs here. A run that is
// paused is stopped the same way.
import { hostname } from 'node:os'
import type { Clock } from '../../clock.js'
import { UserError } from '../errors.js'
import type { Journal } from '../journal/journal.js'
import { DEFAULT_LOCK_STALE_MS, isProcessAlive } from '../journal/lock.js'
import type { LockRecord } from '../journal/types.js'

export interface TakeOverOptions {
  /** Recorded as who aborted the forward run. */
  by: string
  /** How long to wait for the other cfctl to let go: the apps in flight settle first. */
  timeoutMs: number
  pollMs?: number
  staleAfterMs?: number
  /** Whether a pid runs on this host (default: signal 0). */
  isAlive?: (pid: number) => boolean
}

/**
 * The cfctl that runs the migration now, if any: a lease with a fresh heartbeat, unless it was taken on this
 * host by a pid that is gone (a kill -9 a moment ago), which the runner takes over as dead without waiting.
 */
export function runningLockOf(
  journal: Journal,
  migrationId: string,
  options: { staleAfterMs?: number; isAlive?: (pid: number) => boolean } = {},
): LockRecord | undefined {
  const lock = journal.liveLockOf(migrationId, options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS)
  if (!lock) return undefined
  const isAlive = options.isAlive ?? isProcessAlive
  return lock.hostname === hostname() && lock.pid !== process.pid && !isAlive(lock.pid) ? undefined : lock
}

/**
 * Stops the forward run another cfctl holds for `migrationId`, if any, and waits until it has let the
 * target go. Returns the lock it waited out, or undefined when nothing ran the migration.
 */
export async function stopForwardRun(
  journal: Journal,
  clock: Clock,
  migrationId: string,
  options: TakeOverOptions,
): Promise<LockRecord | undefined> {
  const lock = runningLockOf(journal, migrationId, options)
  if (!lock) return undefined
  const migration = journal.requireMigration(migrationId)
  if (migration.state === 'rolling-back')
    throw new UserError(
      `a rollback of ${migrationId} is running already (pid ${lock.pid} on ${lock.hostname})`,
      `watch it with: cfctl migrations show ${migrationId}`,
    )
  journal.requestControl(migrationId, { type: 'abort', by: options.by })
  const deadline = clock.now() + options.timeoutMs
  while (runningLockOf(journal, migrationId, options)?.token === lock.token) {
    if (clock.now() >= deadline)
      throw new UserError(
        `the cfctl running ${migrationId} (pid ${lock.pid} on ${lock.hostname}) did not stop within ${Math.round(options.timeoutMs / 1000)} s`,
        `it was told to abort; run the rollback again once it has: cfctl rollback ${migrationId}`,
      )
    await clock.sleep(options.pollMs ?? 250)
  }
  return lock
}
