import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { advance, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

async function aMigratedFleet(apps: number, setUp: (world: FakeFoundation) => void = () => {}) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  setUp(world)
  const journal = openJournal(clock)
  const id = aMigration(world, journal, { plan: { maxInFlight: 3 }, settings: { rate: null, timeoutMs: 30_000 } })
  await settle(clock, aRunner(journal, id, world.port(), clock).run())
  return { clock, world, journal, id, flipsForward: world.flips.length }
}

describe('MigrationRunner: rollback', () => {
  it('returns every moved app to its original backend, last moved first, verified', async () => {
    const { clock, world, journal, id, flipsForward } = await aMigratedFleet(8)
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    const outcome = await settle(clock, runner.rollback({ maxInFlight: 1 }))

    expect(outcome.state).toBe('rolled-back')
    expect(exitCodeOf(outcome)).toBe(0)
    const back = world.flips.slice(flipsForward)
    const forward = world.flips.slice(0, flipsForward)
    expect(back.map((f) => f.name)).toEqual(forward.map((f) => f.name).reverse())
    for (const app of world.fleet()) {
      expect(app.diego).toBe(false)
      expect(world.healthy(app.guid)).toBe(true)
    }
    expect(journal.steps(id).every((s) => s.state === 'rolled-back' && !s.flipped && s.rolledBackAt !== null)).toBe(
      true,
    )
    expect(events.filter((e) => e.type === 'step-rolled-back')).toHaveLength(8)
    expect(events.every((e) => e.type !== 'step-rolled-back' || e.verified)).toBe(true)
    expect(events.at(-1)).toMatchObject({ type: 'rolled-back', steps: 8, failed: 0 })
  })

  it('rolls back in an emergency without waiting on health', async () => {
    const { clock, world, journal, id } = await aMigratedFleet(10)
    const instancesBefore = world.calls.instances
    const start = clock.now()

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).rollback({ verify: false }), {
      step: 10,
    })

    expect(outcome.state).toBe('rolled-back')
    expect(clock.now() - start).toBeLessThan(100)
    expect(world.calls.instances).toBe(instancesBefore)
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
    expect(journal.events(id).find((e) => e.type === 'rollback-started')).toMatchObject({ verify: false })
  })

  it('honours a rate on the way back', async () => {
    const { clock, world, journal, id } = await aMigratedFleet(6)
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    await settle(clock, runner.rollback({ rate: '2/min' }))

    const starts = events.filter((e) => e.type === 'step-rolling-back').map((e) => e.at)
    expect(starts).toHaveLength(6)
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(30_000)
  })

  it('leaves alone the apps it never moved: failed ones already put back, and pending ones', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add(
      { name: 'a' },
      { name: 'b', unhealthyOn: 'diego' },
      { name: 'c' },
      { name: 'd' },
    )
    const journal = openJournal(clock)
    const id = aMigration(world, journal, {
      plan: { maxInFlight: 1 },
      settings: { rate: null, timeoutMs: 20_000, maxFailures: '0' },
    })
    const first = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(first).toMatchObject({ state: 'paused', steps: { done: 1, failed: 1, pending: 2 } })
    const setsBefore = world.puts.length

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(outcome.state).toBe('rolled-back')
    expect(world.puts.slice(setsBefore).map((p) => [p.name, p.diego])).toEqual([['a', false]])
    expect(journal.steps(id).map((s) => s.state)).toEqual(['rolled-back', 'failed', 'pending', 'pending'])
  })

  it('puts back a failed app whose own way back had failed', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'sick', unhealthyOn: 'diego' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { rate: null, timeoutMs: 20_000, maxFailures: '5' } })
    // Let the flip through, then refuse the way back.
    const port = world.port()
    let sets = 0
    const first = await settle(
      clock,
      aRunner(
        journal,
        id,
        {
          ...port,
          setDiego: (guid, diego) => {
            if (++sets === 1) world.refuseFlag.delete(guid)
            else world.refuseFlag.set(guid, 503)
            return port.setDiego(guid, diego)
          },
        },
        clock,
        { retryDelayMs: 100 },
      ).run(),
    )
    expect(first.failures).toMatchObject([{ restored: false }])
    world.refuseFlag.delete('guid-sick')

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(outcome.state).toBe('rolled-back')
    expect(world.app('guid-sick').diego).toBe(false)
    expect(world.healthy('guid-sick')).toBe(true)
    expect(journal.steps(id)[0]).toMatchObject({ state: 'rolled-back', flipped: false })
  })

  it('stays rolling-back when an app cannot be put back, and a second rollback finishes it', async () => {
    const { clock, world, journal, id } = await aMigratedFleet(4)
    world.refuseFlag.set('guid-app-0002', 403)

    const first = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(first.state).toBe('rolling-back')
    expect(exitCodeOf(first)).toBe(1)
    expect(first.failures).toMatchObject([{ appName: 'app-0002', restored: false }])
    expect(journal.requireMigration(id).error).toBe('1 app could not be rolled back; run the rollback again')
    world.refuseFlag.delete('guid-app-0002')

    const second = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(second.state).toBe('rolled-back')
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
    expect(world.putsOf('guid-app-0001').map((p) => p.diego)).toEqual([true, false])
  })

  it('rolls back an aborted migration, including the steps a crash left in flight', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(10)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 2 }, settings: { rate: '30/min' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 8_500)
    runner.abort()
    expect((await settle(clock, run)).state).toBe('aborted')
    const moved = world.fleet().filter((app) => app.diego).length
    expect(moved).toBeGreaterThan(0)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(outcome.state).toBe('rolled-back')
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
    expect(journal.steps(id).filter((s) => s.state === 'rolled-back')).toHaveLength(moved)
  })

  it('can pause and resume a rollback', async () => {
    const { clock, world, journal, id } = await aMigratedFleet(6)
    const runner = aRunner(journal, id, world.port(), clock)
    const rollback = runner.rollback({ rate: '6/min' })
    await advance(clock, 1_000)
    runner.pause()
    expect(journal.requireMigration(id)).toMatchObject({ state: 'rolling-back', pausedBy: 'operator' })
    const backBefore = world.flips.length
    await advance(clock, 5 * 60_000)
    expect(world.flips.length - backBefore).toBe(0)
    runner.resume()

    expect((await settle(clock, rollback)).state).toBe('rolled-back')
  })

  it('refuses to run a migration that is rolled back', async () => {
    const { clock, world, journal, id } = await aMigratedFleet(1)
    await settle(clock, aRunner(journal, id, world.port(), clock).rollback())
    await expect(aRunner(journal, id, world.port(), clock).run()).rejects.toThrow(/is rolled-back/)
  })
})
