// The live output of a run on a terminal: what the operator reads on stderr while it goes on.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rateOption } from '../../src/cli/migrate-run.js'
import { followRun } from '../../src/cli/migration-output.js'
import type { MigrationEvent } from '../../src/core/journal/index.js'
import type { MigrationProgress } from '../../src/core/migration/index.js'

const progress = (): MigrationProgress => ({
  migrationId: 'm',
  state: 'running',
  pausedBy: null,
  total: 10,
  steps: { pending: 10, flipping: 0, verifying: 0, done: 0, failed: 0, 'rolling-back': 0, 'rolled-back': 0 },
  inFlight: 0,
  maxInFlight: 5,
  rate: '10/min',
  startsInLastPeriod: 0,
  etaMs: 0,
})

afterEach(() => vi.restoreAllMocks())

describe('followRun on a terminal', () => {
  it('shows a change of rate and in-flight limit made together as the one pace that holds', async () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    let listener: ((event: MigrationEvent) => void) | undefined
    const stop = followRun(
      'tty',
      (l) => {
        listener = l
        return () => {}
      },
      progress,
    )
    const base = { migrationId: 'm', at: 0, seq: 1 }
    listener!({ ...base, type: 'rate-changed', rate: '30/min', maxInFlight: 5 } as MigrationEvent)
    listener!({ ...base, type: 'rate-changed', rate: '30/min', maxInFlight: 10 } as MigrationEvent)
    await Promise.resolve()
    stop()

    const paceLines = written
      .join('')
      .split('\n')
      .filter((line) => line.includes('rate now'))
    expect(paceLines).toEqual(['rate now 30/min, 10 in flight at most'])
  })
})

describe('--rate', () => {
  it('takes unlimited wherever a rate is taken (migrate, rollback), as set-rate does', () => {
    expect(rateOption('unlimited')).toBeNull()
    expect(rateOption('10/min')?.text).toBe('10/min')
    expect(rateOption(undefined)).toBeUndefined()
    expect(() => rateOption('fast')).toThrow(/--rate must look like/)
  })
})
