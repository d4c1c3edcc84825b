// Rolling back a migration that another cfctl runs: the forward run there is stopped first, then the
// rollback can take the target (as `kubectl rollout undo` does mid-rollout).
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { runningLockOf, stopForwardRun } from '../../../src/core/migration/takeover.js'
import { FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, openJournal, TARGET } from './support.js'

function setUp(apps: number) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  const journal = openJournal(clock)
  const id = aMigration(world, journal, { settings: { rate: '30/min' } })
  return { clock, world, journal, id }
}

describe('rollback of a migration another cfctl runs', () => {
  it('stops the forward run (aborted, the apps in flight settled), then rolls every moved app back', async () => {
    const { clock, world, journal, id } = setUp(20)
    const forward = aRunner(journal, id, world.port(), clock).run()
    await clock.advance(10_000)

    const stopped = await settle(clock, stopForwardRun(journal, clock, id, { by: 'operator:ann', timeoutMs: 200_000 }))

    expect(stopped?.pid).toBe(process.pid)
    const ended = await settle(clock, forward)
    expect(ended.state).toBe('aborted')
    expect(ended.steps.flipping + ended.steps.verifying).toBe(0)
    expect(journal.lock(TARGET)).toBeUndefined()
    const back = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())
    expect(back.state).toBe('rolled-back')
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
  })

  it('stops a run that holds the migration paused the same way', async () => {
    const { clock, world, journal, id } = setUp(10)
    const runner = aRunner(journal, id, world.port(), clock)
    const forward = runner.run()
    await clock.advance(5_000)
    runner.pause('operator:bob')
    await clock.advance(5_000)

    await settle(clock, stopForwardRun(journal, clock, id, { by: 'operator:ann', timeoutMs: 200_000 }))

    expect((await settle(clock, forward)).state).toBe('aborted')
    expect((await settle(clock, aRunner(journal, id, world.port(), clock).rollback())).state).toBe('rolled-back')
  })

  it('does nothing when no cfctl runs the migration', async () => {
    const { clock, journal, id } = setUp(3)
    expect(await stopForwardRun(journal, clock, id, { by: 'operator', timeoutMs: 1_000 })).toBeUndefined()
    expect(journal.requireMigration(id).state).toBe('planned')
  })

  it('takes a lease left by a cfctl killed on this host (kill -9 of a rollback) for no run: nothing to stop, no refusal', async () => {
    const { clock, journal, id } = setUp(3)
    journal.acquireLock(TARGET, id, { pid: 2_000_000, hostname: hostname(), token: 'killed' })
    journal.setMigrationState(id, 'rolling-back')
    const gone = { isAlive: () => false }

    expect(runningLockOf(journal, id, gone)).toBeUndefined()
    expect(await stopForwardRun(journal, clock, id, { by: 'operator', timeoutMs: 1_000, ...gone })).toBeUndefined()
    // While that pid runs, it is a rollback running already.
    expect(runningLockOf(journal, id, { isAlive: () => true })?.pid).toBe(2_000_000)
    await expect(
      stopForwardRun(journal, clock, id, { by: 'operator', timeoutMs: 1_000, isAlive: () => true }),
    ).rejects.toThrow(/a rollback of .* is running already \(pid 2000000/)
  })
})
