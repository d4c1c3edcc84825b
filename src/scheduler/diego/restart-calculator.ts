// When a crashed instance may start again: Diego's RestartCalculator (bbs/models). The first crashes restart
// at once; after that the wait doubles from 30 s up to a cap, and past a maximum count it never restarts.

export interface RestartPolicy {
  /** Crash counts below this restart at once (Diego: 3, so counts 1 and 2). */
  immediateRestarts: number
  /** The first wait, doubled for each further crash (Diego: 30 s). */
  minBackoffMs: number
  /** The longest wait (Diego: 16 min, reached at the 8th crash). */
  maxBackoffMs: number
  /** From this count on, no restart at all (Diego: 200). */
  maxRestarts: number
  /** A crash after running longer than this starts the count again at 1 (Diego: 5 min). */
  crashResetMs: number
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  immediateRestarts: 3,
  minBackoffMs: 30_000,
  maxBackoffMs: 16 * 60_000,
  maxRestarts: 200,
  crashResetMs: 5 * 60_000,
})

export function validateRestartPolicy(policy: RestartPolicy): RestartPolicy {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`restart policy: ${name} must be a number of 0 or more, got ${value}`)
    }
  }
  if (policy.maxBackoffMs < policy.minBackoffMs) {
    throw new RangeError(
      `restart policy: maxBackoffMs (${policy.maxBackoffMs}) is below minBackoffMs (${policy.minBackoffMs})`,
    )
  }
  return policy
}

export function shouldRestartImmediately(policy: RestartPolicy, crashCount: number): boolean {
  return crashCount < policy.immediateRestarts
}

/**
 * How long after the crash a restart is due: 0 for the immediate ones, then minBackoff × 2^(count − immediate),
 * capped; undefined when the instance is never restarted again.
 */
export function restartDelayMs(policy: RestartPolicy, crashCount: number): number | undefined {
  if (crashCount < policy.immediateRestarts) return 0
  if (crashCount >= policy.maxRestarts) return undefined
  // Diego caps the exponent at log2(maxBackoff / minBackoff) and the duration at maxBackoff; capping the
  // exponent first keeps 2^n finite for crash counts near 200.
  const maxExponent = Math.floor(Math.log2(Math.ceil(policy.maxBackoffMs / Math.max(1, policy.minBackoffMs))))
  const exponent = Math.min(crashCount - policy.immediateRestarts, Math.max(0, maxExponent))
  return Math.min(policy.minBackoffMs * 2 ** exponent, policy.maxBackoffMs)
}

export function shouldRestart(policy: RestartPolicy, now: number, crashedAt: number, crashCount: number): boolean {
  const delay = restartDelayMs(policy, crashCount)
  return delay !== undefined && crashedAt + delay <= now
}
