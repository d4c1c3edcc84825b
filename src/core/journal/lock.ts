// One running migration per target, held by a row in the journal rather than an OS lock, so that a CLI on
// another terminal can see who holds it. A process that dies cannot release it, hence two ways to take it
// over: its heartbeat is older than the stale limit (any host), or it was held from this host by a pid that
// no longer exists (no need to wait out the stale limit after a kill -9 on the same machine).
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { LockOwner, LockRecord } from './types.js'

/** Heartbeats older than this mark a lock as abandoned. The runner refreshes it far more often. */
export const DEFAULT_LOCK_STALE_MS = 30_000

export type LockVerdict = { kind: 'held' } | { kind: 'own' } | { kind: 'stale' } | { kind: 'dead' }

export interface LockPolicy {
  staleAfterMs: number
  /** Whether a pid runs on this host. */
  isAlive: (pid: number) => boolean
}

/** Decides whether `owner` may take the lock `held` at time `now`. Pure. */
export function lockVerdict(held: LockRecord, owner: LockOwner, now: number, policy: LockPolicy): LockVerdict {
  if (held.token === owner.token) return { kind: 'own' }
  if (now - held.heartbeatAt > policy.staleAfterMs) return { kind: 'stale' }
  if (held.hostname === owner.hostname && held.pid !== owner.pid && !policy.isAlive(held.pid)) return { kind: 'dead' }
  return { kind: 'held' }
}

/** This process as a lock owner, with a token of its own. */
export function currentProcessOwner(): LockOwner {
  return { pid: process.pid, hostname: hostname(), token: randomUUID() }
}

/** Signal 0 checks for existence without touching the process; EPERM means it exists but is not ours. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Another runner holds the target; says who, for which migration, and how fresh its heartbeat is. */
export class LockHeldError extends Error {
  readonly lock: LockRecord

  constructor(lock: LockRecord, now: number) {
    const age = Math.max(0, Math.round((now - lock.heartbeatAt) / 1000))
    super(
      `migration ${lock.migrationId} is running against ${lock.target} (pid ${lock.pid} on ${lock.hostname}, ` +
        `heartbeat ${age} s ago); one migration per target runs at a time`,
    )
    this.name = 'LockHeldError'
    this.lock = lock
  }
}
