import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RESTART_POLICY,
  restartDelayMs,
  shouldRestart,
  shouldRestartImmediately,
  validateRestartPolicy,
} from '../../../src/scheduler/diego/restart-calculator.js'

const policy = DEFAULT_RESTART_POLICY
const MIN = 60_000

describe('Diego crash restart backoff', () => {
  it('restarts the first and second crash at once', () => {
    expect(shouldRestartImmediately(policy, 1)).toBe(true)
    expect(shouldRestartImmediately(policy, 2)).toBe(true)
    expect(shouldRestartImmediately(policy, 3)).toBe(false)
  })

  it('then waits 30 s, 60 s, 120 s, 240 s, 480 s, and 16 min from the 8th crash on', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 199].map((count) => restartDelayMs(policy, count))
    expect(delays).toEqual([0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 16 * MIN, 16 * MIN, 16 * MIN, 16 * MIN])
  })

  it('never restarts from the 200th crash on', () => {
    expect(restartDelayMs(policy, 200)).toBeUndefined()
    expect(shouldRestart(policy, 10 ** 12, 0, 200)).toBe(false)
  })

  it('is due exactly when the wait has passed since the crash', () => {
    const crashedAt = 1_000_000
    expect(shouldRestart(policy, crashedAt + 59_999, crashedAt, 4)).toBe(false)
    expect(shouldRestart(policy, crashedAt + 60_000, crashedAt, 4)).toBe(true)
  })

  it('rejects a policy whose longest wait is below its first', () => {
    expect(() => validateRestartPolicy({ ...policy, maxBackoffMs: 1_000 })).toThrow(/maxBackoffMs \(1000\) is below/)
    expect(() => validateRestartPolicy({ ...policy, maxRestarts: -1 })).toThrow(/maxRestarts must be/)
  })
})
