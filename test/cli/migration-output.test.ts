// The live output of a run on a terminal: what the operator reads on stderr while it goes on.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rateOption } from '../../src/cli/migrate-run.js'
import { followRun, progressLine, type RunContext } from '../../src/cli/migration-output.js'
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

/**
 * followRun on a terminal, stderr caught: `emit` hands it an event, `stop` ends it and gives the lines it
 * wrote, the progress line's redraws left out.
 */
function followed(about: RunContext = {}, p = progress()) {
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
    () => p,
    about,
  )
  return {
    emit(event: Record<string, unknown>) {
      listener!({
        migrationId: 'm-1',
        at: Date.UTC(2026, 0, 1, 10, 0, 0),
        seq: 1,
        ...event,
      } as unknown as MigrationEvent)
    },
    stop(): string[] {
      stop()
      vi.restoreAllMocks()
      return written
        .join('')
        .split(/[\n\r]/)
        .filter((line) => line !== '' && !line.startsWith('[') && !line.startsWith('\u001b'))
    },
  }
}

describe('followRun on a terminal', () => {
  it('shows a change of rate and in-flight limit made together as the one pace that holds', async () => {
    const run = followed()
    run.emit({ type: 'rate-changed', rate: '30/min', maxInFlight: 5 })
    run.emit({ type: 'rate-changed', rate: '30/min', maxInFlight: 10 })
    await Promise.resolve()
    expect(run.stop().filter((line) => line.includes('rate now'))).toEqual(['rate now 30/min, 10 in flight at most'])
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

describe('a migration cut short (kill -9)', () => {
  it('is interrupted: it says running, its lock is fresh, but the pid on this host is gone', async () => {
    const { FakeClock } = await import('../../src/clock.js')
    const { Journal } = await import('../../src/core/journal/index.js')
    const { createMigration, planMigration } = await import('../../src/core/migration/index.js')
    const { interrupted } = await import('../../src/cli/journal.js')
    const { hostname } = await import('node:os')
    const journal = Journal.open(':memory:', { clock: new FakeClock() })
    const target = 'https://api.example.test'
    const { id } = createMigration(journal, planMigration([], { to: 'diego' }), { target })
    journal.setMigrationState(id, 'running', { event: { type: 'started', recovered: false } })
    const dead = { pid: 2 ** 22 + 17, hostname: hostname(), token: 'killed' }
    journal.acquireLock(target, id, dead)

    expect(journal.liveLockOf(id)?.pid).toBe(dead.pid)
    expect(journal.liveRunnerOf(id)).toBeUndefined()
    expect(interrupted(journal, journal.requireMigration(id))).toBe(true)

    journal.releaseLock(target, 'killed')
    journal.acquireLock(target, id, { pid: process.pid, hostname: hostname(), token: 'alive' })
    expect(interrupted(journal, journal.requireMigration(id))).toBe(false)
    journal.close()
  })
})

describe('the progress line', () => {
  it("counts a rollback's apps back, not the forward run's steps, and gives no forward ETA", () => {
    const p = {
      ...progress(),
      state: 'rolling-back' as const,
      total: 200,
      etaMs: 9 * 60_000,
      steps: { ...progress().steps, done: 14, 'rolled-back': 6, pending: 180 },
    }
    expect(progressLine(p, { rollbackOf: 20 })).toBe('[#######.................] 6/20 back · 0/5 in flight · 0 failed')
  })
})

describe('event lines', () => {
  function linesFor(events: Array<Record<string, unknown>>, about: RunContext = {}, p = progress()): string[] {
    const run = followed(about, p)
    for (const event of events) run.emit(event)
    return run.stop()
  }

  it('says when the canary hold ends on its own and that migrations resume ends it now', () => {
    expect(linesFor([{ type: 'paused', by: 'canary' }], { canaryWaitMs: 10 * 60_000 })).toEqual([
      'paused after the canary: goes on by itself at 10:10:00 UTC (in 10 min); cfctl migrations resume m-1 goes on now',
    ])
    expect(linesFor([{ type: 'paused', by: 'canary' }], { canaryWaitMs: null })).toEqual([
      'paused after the canary until someone resumes it: cfctl migrations resume m-1 goes on now',
    ])
  })

  it('opens a resumed run with where it stands', () => {
    const p = { ...progress(), total: 200, steps: { ...progress().steps, done: 11, pending: 189 } }
    expect(linesFor([{ type: 'resumed', by: 'resume' }], {}, p)).toEqual([
      'resumed (cfctl migrate --resume): 11/200 done, 0 failed',
    ])
  })
})
