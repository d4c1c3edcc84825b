import { describe, expect, it } from 'vitest'
import { nextStepsHint } from '../../../src/core/migration/hints.js'
import type { StepFailure } from '../../../src/core/migration/index.js'

const failure = (appName: string, error: string): StepFailure => ({
  appGuid: `guid-${appName}`,
  appName,
  position: 0,
  error,
  restored: true,
})

describe('nextStepsHint', () => {
  const base = { migrationId: 'm1', to: 'diego' as const, pausedBy: null, failures: [] }

  it('names the command that finishes the migration before rollback, never rollback alone', () => {
    expect(nextStepsHint({ ...base, state: 'paused', pausedBy: 'cc-unreachable' })).toBe(
      'the CC did not answer; once it does, finish with: cfctl migrate --resume m1   roll back with: cfctl rollback m1',
    )
    expect(nextStepsHint({ ...base, state: 'paused', pausedBy: 'failure-threshold' })).toMatch(
      /^finish with: cfctl migrate --resume m1 .*roll back with: cfctl rollback m1$/,
    )
    const unreachable = failure('web', 'setting diego=true failed (after 3 tries): connect ECONNREFUSED')
    expect(nextStepsHint({ ...base, state: 'failed', failures: [unreachable] })).toBe(
      'finish with: cfctl migrate --resume m1   roll back with: cfctl rollback m1',
    )
    const sick = failure('api', 'not healthy on diego within 3 min: 0 of 2 instances RUNNING')
    expect(nextStepsHint({ ...base, state: 'failed', failures: [sick] })).toBe(
      'once the failed apps are fixed, move them with: cfctl migrate --to diego --app api   roll back with: cfctl rollback m1',
    )
    expect(nextStepsHint({ ...base, state: 'completed' })).toBeUndefined()
  })
})
