// Route probes that stop working for every app at once are a broken probe path, not broken apps: the run
// pauses and says so instead of rolling healthy apps back; a router that moved is found again through the
// CC's /v2/info; an app whose own route is broken while the others answer still fails as before.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { advanceUntil, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

function aWorld(clock: FakeClock) {
  return new FakeFoundation(clock, { bootMs: 2_000, drainMs: 5_000 }).addFleet(40)
}

describe('MigrationRunner: the probe path', () => {
  it('pauses (exit 3) when no route answers, moving app or not, with every instance running; rolls nothing back', async () => {
    const clock = new FakeClock()
    const world = aWorld(clock)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { timeoutMs: 30_000, maxFailures: '0' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)
    const run = runner.run()
    await advanceUntil(clock, () => journal.stepCounts(id).done >= 10)
    world.probePathDown = true

    const outcome = await settle(clock, run)

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'probe-path-down', failures: [] })
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.steps.failed).toBe(0)
    expect(events.filter((e) => e.type === 'step-rolling-back')).toEqual([])
    for (const app of world.fleet()) expect(world.flipsOf(app.guid).length).toBeLessThanOrEqual(1)
    const down = events.find((e) => e.type === 'probe-path-down')
    expect(down).toMatchObject({ detail: expect.stringMatching(/nor do those of apps that are not moving/) })

    // The router answers again: a resume verifies the steps left in flight and finishes.
    world.probePathDown = false
    const resumed = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(resumed.state).toBe('completed')
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
  })

  it('probes where the CC says the router is now, and goes on without a pause or a failure', async () => {
    const clock = new FakeClock()
    const world = aWorld(clock)
    world.routerFromInfo = { url: 'http://127.0.0.1:40001', heals: true }
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { timeoutMs: 30_000, maxFailures: '0' } })
    const run = aRunner(journal, id, world.port(), clock).run()
    await advanceUntil(clock, () => journal.stepCounts(id).done >= 10)
    world.probePathDown = true

    const outcome = await settle(clock, run)

    expect(outcome).toMatchObject({ state: 'completed', failures: [] })
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
  })

  it('still fails, and puts back, an app whose own route does not answer while the others do', async () => {
    const clock = new FakeClock()
    const world = aWorld(clock)
    world.routeDown.set('guid-app-0020', [{ from: 0, to: Number.POSITIVE_INFINITY }])
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { timeoutMs: 30_000, maxFailures: '5' } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('failed')
    expect(outcome.failures).toEqual([
      expect.objectContaining({
        appName: 'app-0020',
        restored: true,
        error: expect.stringMatching(/route did not answer/),
      }),
    ])
  })
})
