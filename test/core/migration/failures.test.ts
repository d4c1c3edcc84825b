import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

describe('MigrationRunner: failures', () => {
  it('puts an app that never becomes healthy back on its source, verified, and marks it failed', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'good' }, { name: 'sick', instances: 2, unhealthyOn: 'diego' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { timeoutMs: 60_000, maxFailures: '1' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    const outcome = await settle(clock, runner.run())

    expect(outcome.state).toBe('failed')
    expect(exitCodeOf(outcome)).toBe(1)
    expect(world.app('guid-sick').diego).toBe(false)
    expect(world.healthy('guid-sick')).toBe(true)
    expect(world.app('guid-good').diego).toBe(true)
    expect(outcome.failures).toEqual([
      {
        appGuid: 'guid-sick',
        appName: 'sick',
        position: 1,
        restored: true,
        error: 'not healthy on diego within 60 s: 0 of 2 instances RUNNING; index 0 CRASHED, index 1 CRASHED',
      },
    ])
    const sick = events.filter((e) => 'appGuid' in e && e.appGuid === 'guid-sick').map((e) => e.type)
    // The DEA side wound down while Diego crashed: the route was down until the app ran on the DEA again.
    expect(sick).toEqual([
      'step-started',
      'step-flipped',
      'step-rolling-back',
      'gap',
      'step-rolled-back',
      'step-failed',
    ])
    expect(events.find((e) => e.type === 'step-rolled-back')).toMatchObject({
      auto: true,
      verified: true,
      diego: false,
    })
    expect(journal.steps(id)[1]).toMatchObject({ state: 'failed', flipped: false })
  })

  it('gives up on a flip the CC refuses, without retrying, and leaves the app where it was', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'locked' })
    world.refuseFlag.set('guid-locked', 403)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { maxFailures: '5' } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(world.calls.setDiego).toBe(1)
    expect(outcome.failures[0]).toMatchObject({ restored: true })
    expect(outcome.failures[0]!.error).toMatch(
      /^setting diego=true failed: CF-BackendSelectionNotAuthorized \(code 320005\)/,
    )
    expect(journal.steps(id)[0]).toMatchObject({ state: 'failed', attempts: 1, flipped: false })
  })

  it('retries a flip answered 503, and fails the step after the last try', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'web' })
    world.refuseFlag.set('guid-web', 503)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { maxFailures: '5' } })

    await settle(clock, aRunner(journal, id, world.port(), clock, { flipAttempts: 4, retryDelayMs: 500 }).run())

    expect(world.calls.setDiego).toBe(4)
    expect(journal.steps(id)[0]).toMatchObject({ state: 'failed', attempts: 4 })
    expect(journal.steps(id)[0]!.error).toMatch(/^setting diego=true failed \(after 4 tries\): CF-ServiceUnavailable/)
  })

  it('does not flip again when the answer to a flip that took effect was lost', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { lostAnswerRate: 1 }).addFleet(5)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(world.calls.setDiego).toBe(5)
    expect(world.flips).toHaveLength(5)
  })

  it('completes through a CC that answers 503 to 5% of calls, each app flipped once', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, {
      seed: 7,
      setDiegoFailureRate: 0.05,
      lostAnswerRate: 0.02,
      readFailureRate: 0.05,
    }).addFleet(200)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 10 }, settings: { maxFailures: '2%' } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(world.fleet().every((app) => app.diego)).toBe(true)
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
    expect(journal.steps(id).some((s) => s.attempts > 1)).toBe(true)
  })

  it('pauses the migration past max-failures, with every failed app back on its source and running', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock)
    for (let i = 0; i < 30; i++) {
      world.add({
        name: `app-${String(i).padStart(2, '0')}`,
        ...(i % 3 === 0 ? { unhealthyOn: 'diego' as const } : {}),
      })
    }
    const journal = openJournal(clock)
    const id = aMigration(world, journal, {
      plan: { maxInFlight: 2 },
      settings: { maxFailures: '2', timeoutMs: 30_000, rate: '20/min' },
    })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'failure-threshold' })
    expect(exitCodeOf(outcome)).toBe(1)
    // The third failure stops new steps; the one still in flight with it finishes (and may fail too).
    expect(outcome.steps.failed).toBeGreaterThanOrEqual(3)
    expect(outcome.steps.failed).toBeLessThanOrEqual(4)
    expect(outcome.steps.pending).toBeGreaterThan(0)
    expect(outcome.steps.flipping + outcome.steps.verifying + outcome.steps['rolling-back']).toBe(0)
    for (const failure of outcome.failures) {
      expect(world.app(failure.appGuid).diego).toBe(false)
      expect(world.healthy(failure.appGuid)).toBe(true)
    }
    expect(journal.events(id).filter((e) => e.type === 'paused')).toMatchObject([{ by: 'failure-threshold' }])
  })

  it('reads max-failures as a share of the apps', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock)
    for (let i = 0; i < 20; i++) {
      world.add({ name: `app-${String(i).padStart(2, '0')}`, ...(i < 3 ? { unhealthyOn: 'diego' as const } : {}) })
    }
    const journal = openJournal(clock)
    // 10% of 20 apps tolerates 2 failures; the third stops it.
    const id = aMigration(world, journal, {
      plan: { maxInFlight: 1 },
      settings: { maxFailures: '10%', timeoutMs: 20_000 },
    })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'failure-threshold' })
    expect(outcome.steps).toMatchObject({ failed: 3, done: 0, pending: 17 })
  })

  it('gives a resumed run a fresh failure allowance', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add(
      { name: 'a', unhealthyOn: 'diego' },
      { name: 'b', unhealthyOn: 'diego' },
      { name: 'c' },
    )
    const journal = openJournal(clock)
    const id = aMigration(world, journal, {
      plan: { maxInFlight: 1 },
      settings: { maxFailures: '0', timeoutMs: 20_000 },
    })
    const first = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(first).toMatchObject({ state: 'paused', pausedBy: 'failure-threshold', steps: { failed: 1, pending: 2 } })
    world.heal('guid-b')

    const second = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(second.state).toBe('failed')
    expect(second.steps).toMatchObject({ failed: 1, done: 2 })
    expect(journal.events(id).filter((e) => e.type === 'resumed')).toMatchObject([{ by: 'resume' }])
  })

  it('keeps the app marked flipped when putting it back fails, so a rollback finds it', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'sick', unhealthyOn: 'diego' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { timeoutMs: 20_000, maxFailures: '5' } })
    const port = world.port()
    let calls = 0
    const flaky = {
      ...port,
      // The flip goes through; the way back is refused.
      setDiego: (guid: string, diego: boolean) =>
        ++calls === 1
          ? port.setDiego(guid, diego)
          : Promise.reject(Object.assign(new Error('CF-NotAuthorized (code 10003): no'), { status: 403 })),
    }

    const outcome = await settle(clock, aRunner(journal, id, flaky, clock).run())

    expect(outcome.failures).toMatchObject([{ restored: false }])
    expect(outcome.failures[0]!.error).toMatch(
      /^not healthy on diego .*; putting it back failed: setting diego=false failed/,
    )
    expect(journal.steps(id)[0]).toMatchObject({ state: 'failed', flipped: true })
    expect(world.app('guid-sick').diego).toBe(true)
  })
})
