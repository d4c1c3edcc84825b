import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, maxConcurrent, openJournal } from './support.js'

const MINUTE = 60_000

describe('MigrationRunner: moving a fleet', () => {
  it('moves 500 apps at 10/min in 50 simulated minutes (within 1%), never more than 5 in flight', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 15_000 }).addFleet(500)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 5 }, settings: { rate: '10/min' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)
    const start = clock.now()

    const outcome = await settle(clock, runner.run(), { step: 250 })

    const elapsed = clock.now() - start
    expect(outcome.state).toBe('completed')
    expect(outcome.steps.done).toBe(500)
    expect(Math.abs(elapsed - 50 * MINUTE) / (50 * MINUTE)).toBeLessThan(0.01)
    expect(maxConcurrent(events)).toBeLessThanOrEqual(5)
    // No sliding minute holds more than 10 starts.
    const starts = events.filter((e) => e.type === 'step-started').map((e) => e.at)
    for (let i = 10; i < starts.length; i++) expect(starts[i]! - starts[i - 10]!).toBeGreaterThanOrEqual(MINUTE)
    expect(world.fleet().every((app) => app.diego)).toBe(true)
    expect(exitCodeOf(outcome)).toBe(0)
  })

  it('keeps exactly max-in-flight apps moving when there is no rate limit', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(60)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 4 }, settings: { rate: null } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    await settle(clock, runner.run())

    expect(maxConcurrent(events)).toBe(4)
  })

  it('verifies every desired instance RUNNING on the target and the route answering before a step is done', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 20_000 }).add({ name: 'web', instances: 3 })
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    await settle(clock, runner.run())

    const flipped = events.find((e) => e.type === 'step-flipped')!
    const verified = events.find((e) => e.type === 'step-verified')!
    expect(verified.at - flipped.at).toBeGreaterThanOrEqual(20_000)
    expect(world.healthy('guid-web')).toBe(true)
    expect(journal.steps(id)).toMatchObject([{ state: 'done', flipped: true, attempts: 1 }])
  })

  it('writes the intent to the journal before it calls setDiego', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'web' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    const port = world.port()
    const seen: string[] = []
    const spy = {
      ...port,
      setDiego: (guid: string, diego: boolean) => {
        seen.push(journal.steps(id)[0]!.state)
        return port.setDiego(guid, diego)
      },
    }

    await settle(clock, aRunner(journal, id, spy, clock).run())

    expect(seen).toEqual(['flipping'])
  })

  it('flips stopped apps without waiting for instances', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'batch', state: 'STOPPED', instances: 2 })
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    const start = clock.now()

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run(), { step: 10 })

    expect(outcome.state).toBe('completed')
    expect(world.calls.instances).toBe(0)
    expect(clock.now() - start).toBeLessThan(100)
    expect(world.app('guid-batch').diego).toBe(true)
  })

  it('stops before its first flip when an app of it was moved outside it; resumed, leaves that app alone', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'a' }, { name: 'b' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 1 } })
    world.flipAs('dev', 'guid-b', true)
    const flipsBefore = world.flips.length

    const stopped = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(stopped).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips' })
    expect(stopped.foreign).toEqual([{ appGuid: 'guid-b', appName: 'b', diego: true, by: 'dev' }])
    expect(world.flips.length - flipsBefore).toBe(0)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(world.flips.length - flipsBefore).toBe(1)
    expect(journal.steps(id)[1]).toMatchObject({ state: 'done', flipped: false, note: 'already on diego' })
    expect(journal.events(id).find((e) => e.type === 'completed')).toMatchObject({ done: 2, skipped: 1 })
    expect(outcome.foreign).toEqual([{ appGuid: 'guid-b', appName: 'b', diego: true, by: 'dev' }])
  })

  it('moves apps from Diego back to the DEA too', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'a', diego: true, instances: 2 }, { name: 'b', diego: false })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { to: 'dea' } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.steps.done).toBe(1)
    expect(world.app('guid-a').diego).toBe(false)
    expect(world.healthy('guid-a')).toBe(true)
  })

  it('accounts in the journal for every step with its transitions', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(20)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { rate: '60/min' } })

    await settle(clock, aRunner(journal, id, world.port(), clock).run())

    for (const step of journal.steps(id)) {
      expect(step).toMatchObject({ state: 'done', flipped: true, error: null })
      expect(step.flippingAt).not.toBeNull()
      expect(step.verifyingAt!).toBeGreaterThanOrEqual(step.flippingAt!)
      expect(step.doneAt!).toBeGreaterThanOrEqual(step.verifyingAt!)
    }
    const events = journal.events(id)
    for (const type of ['step-started', 'step-flipped', 'step-verified'] as const) {
      expect(events.filter((e) => e.type === type)).toHaveLength(20)
    }
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['planned', 'started'])
    expect(events.at(-1)).toMatchObject({ type: 'completed', done: 20, failed: 0 })
    expect(journal.requireMigration(id).state).toBe('completed')
  })

  it('holds the target lock while it runs and releases it at the end', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(3)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 1 } })
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await clock.advance(1_000)
    expect(journal.lock('https://api.example.test')).toMatchObject({ migrationId: id, pid: process.pid })

    await settle(clock, run)

    expect(journal.lock('https://api.example.test')).toBeUndefined()
  })

  it('runs a completed migration again as a no-op that reports how it ended (a second resume is no error)', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(1)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    await settle(clock, aRunner(journal, id, world.port(), clock).run())
    const calls = { ...world.calls }

    const again = await aRunner(journal, id, world.port(), clock).run()

    expect(again).toMatchObject({ state: 'completed', failures: [] })
    expect(world.calls).toEqual(calls)
  })

  it('refuses to run a rolled-back migration, as a state error and not a usage error', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(1)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    await settle(clock, aRunner(journal, id, world.port(), clock).run())
    await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    const refused = aRunner(journal, id, world.port(), clock).run()
    await expect(refused).rejects.toThrow(/is rolled-back; only a planned, running, paused or failed migration can run/)
    await expect(refused).rejects.toMatchObject({ exitCode: 1 })
  })
})

describe('MigrationRunner: continual routability', () => {
  it('records a gap when the old backend goes before the new one answers, with its length', async () => {
    const clock = new FakeClock()
    // The DEA side winds down 5 s after the flip; Diego takes 12 s to boot: about 7 s with no instance.
    const world = new FakeFoundation(clock, { bootMs: 12_000, drainMs: 5_000 }).add({ name: 'web' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { probeIntervalMs: 500 } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(outcome.gaps).toHaveLength(1)
    expect(outcome.gaps[0]).toMatchObject({ appName: 'web', open: false })
    expect(outcome.gaps[0]!.ms).toBeGreaterThanOrEqual(6_500)
    expect(outcome.gaps[0]!.ms).toBeLessThanOrEqual(7_500)
    expect(outcome.longestGapMs).toBe(outcome.gaps[0]!.ms)
  })

  it('records no gap when the old backend overlaps the new one', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 10_000, drainMs: 30_000 }).addFleet(10)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.gaps).toEqual([])
    expect(world.calls.probe).toBeGreaterThan(10)
  })

  it('records each injected outage of the route as its own gap', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 30_000 }).add({ name: 'web' })
    const t0 = clock.now()
    world.routeDown.set('guid-web', [
      { from: t0 + 3_000, to: t0 + 6_000 },
      { from: t0 + 12_000, to: t0 + 14_000 },
    ])
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { probeIntervalMs: 1_000 } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.gaps.map((g) => [g.startedAt - t0, g.ms])).toEqual([
      [3_000, 3_000],
      [12_000, 2_000],
    ])
  })
})
