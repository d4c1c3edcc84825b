// Leases with fencing, at the runner: a runner that froze past the lease timeout (SIGSTOP, a paused VM)
// and wakes after another took over flips nothing more and says it lost the lease. On both stores; the
// PostgreSQL one on a throwaway server (test/support/postgres.ts).
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Clock, FakeClock, type Timer } from '../../../src/clock.js'
import { Journal } from '../../../src/core/journal/index.js'
import { LockLostError, type MigrationPort } from '../../../src/core/migration/index.js'
import { RUNNER_JOURNAL_COMMIT_DELAY_MS } from '../../../src/core/migration/operation.js'
import { freshSchema, startPostgres, type TestPostgres } from '../../support/postgres.js'
import { advanceUntil, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, aTempDir } from './support.js'

/** A process that can be frozen and thawed: while frozen its calls and timers wait, as under SIGSTOP. */
class Freezable {
  frozen = false
  private waiting: Array<() => void> = []
  readonly port: MigrationPort
  readonly clock: Clock

  constructor(port: MigrationPort, base: FakeClock) {
    const gate = async <T>(fn: () => Promise<T>): Promise<T> => {
      const result = await fn()
      while (this.frozen) await new Promise<void>((resolve) => this.waiting.push(resolve))
      return result
    }
    this.port = {
      getApp: (guid) => gate(() => port.getApp(guid)),
      setDiego: (guid, diego) => gate(() => port.setDiego(guid, diego)),
      instances: (guid) => gate(() => port.instances(guid)),
      probe: (guid) => gate(() => port.probe(guid)),
    }
    const frozen = () => this.frozen
    this.clock = {
      now: () => base.now(),
      // A timer due while frozen fires on the thaw, as under SIGSTOP; a periodic one skips what it missed.
      after: (ms: number, fn: () => void): Timer => base.after(ms, () => (frozen() ? this.waiting.push(fn) : fn())),
      every: (ms: number, fn: () => void): Timer => base.every(ms, () => (frozen() ? undefined : fn())),
      sleep: (ms: number) =>
        new Promise<void>((resolve) => {
          base.after(ms, async () => {
            while (frozen()) await new Promise<void>((wake) => this.waiting.push(wake))
            resolve()
          })
        }),
    }
  }

  thaw(): void {
    this.frozen = false
    for (const wake of this.waiting.splice(0)) wake()
  }
}

let server: TestPostgres | undefined
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server?.destroy()
})

const STORES = [
  { name: 'sqlite', location: async () => join(aTempDir(), 'journal.db') },
  { name: 'postgres', location: () => freshSchema(server!) },
]

describe.each(STORES)('MigrationRunner on $name: a frozen runner that wakes after a takeover', ({ location }) => {
  it.each([
    { commits: 'one transaction a write' },
    { commits: 'grouped as the CLI groups them', commitDelayMs: RUNNER_JOURNAL_COMMIT_DELAY_MS },
  ])(
    'flips nothing more, says it lost the lease, and the new holder finished every app once (commits: $commits)',
    async ({ commitDelayMs }) => {
      const clock = new FakeClock()
      const world = new FakeFoundation(clock, { bootMs: 2_000, drainMs: 2_000 })
      for (let i = 0; i < 8; i++) world.add({ name: `app-${i}`, instances: 1 })
      const where = await location()
      const journalA = Journal.open(where, { clock, ...(commitDelayMs === undefined ? {} : { commitDelayMs }) })
      const journalB = Journal.open(where, { clock })
      try {
        const id = aMigration(world, journalA, { plan: { maxInFlight: 1 }, settings: { rate: '6/min' } })
        const a = new Freezable(world.port(), clock)
        const options = { heartbeatMs: 5_000, lockStaleMs: 30_000, isAlive: () => true }
        const runA = aRunner(journalA, id, a.port, a.clock, {
          ...options,
          owner: { pid: 100, hostname: 'machine-a', token: 'a' },
        }).run()
        runA.catch(() => undefined)
        // Freeze A once it has moved a few apps, in the middle of a step.
        await advanceUntil(clock, () => world.flips.length >= 3)
        a.frozen = true
        await settle(clock, new Promise((resolve) => setTimeout(resolve, 0)))
        const putsBefore = world.puts.length
        // Past the lease timeout, B on another machine takes over and finishes.
        await clock.advance(31_000)
        const outcome = await settle(
          clock,
          aRunner(journalB, id, world.port(), clock, {
            ...options,
            owner: { pid: 200, hostname: 'machine-b', token: 'b' },
          }).run(),
        )
        expect(outcome.state).toBe('completed')
        expect(journalB.events(id).find((e) => e.type === 'lock-taken-over')).toMatchObject({
          fromHostname: 'machine-a',
        })
        const putsAfterB = world.puts.length
        expect(putsAfterB).toBeGreaterThan(putsBefore)
        // A wakes: it flips nothing, and stops saying it lost the lease.
        a.thaw()
        await expect(settle(clock, runA)).rejects.toThrow(LockLostError)
        await expect(runA).rejects.toThrow(/lost the lease of migration .*; this one flips nothing more/)
        expect(world.puts.length).toBe(putsAfterB)
        for (const app of world.fleet()) {
          expect(app.diego).toBe(true)
          expect(world.putsOf(app.guid)).toHaveLength(1)
        }
        expect(journalB.requireMigration(id).state).toBe('completed')
      } finally {
        journalA.close()
        journalB.close()
      }
    },
  )
})
