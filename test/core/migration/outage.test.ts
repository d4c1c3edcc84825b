// A CC that stops answering mid-migration, on the fake clock: 12 s and 40 s outages (PUTs held 3 s, so some
// are lost with the CC, half of those after it acted), outages longer than --outage-wait, then resume and
// rollback. The run never fails an app for want of an answer, never flips one twice, and its journal never
// says a flag is somewhere the CC does not have it.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import type { Journal } from '../../../src/core/journal/index.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { isUnreachable } from '../../../src/core/migration/outage.js'
import { advance, FakeCfError, FakeFoundation, FakeNetworkError, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

/** Every settled step as the CC has it: done and failed-but-flipped on the target, the others on the source. */
function expectJournalMatchesCc(journal: Journal, id: string, world: FakeFoundation): void {
  const mismatches: string[] = []
  for (const step of journal.steps(id)) {
    const cc = world.app(step.appGuid).diego
    const expected =
      step.state === 'done' || (step.state === 'failed' && step.flipped)
        ? step.targetDiego
        : step.state === 'failed' || step.state === 'rolled-back' || step.state === 'pending'
          ? step.originalDiego
          : undefined
    if (expected !== undefined && cc !== expected) mismatches.push(`${step.appName} ${step.state}: CC diego=${cc}`)
    if (step.flipped && cc !== step.targetDiego) mismatches.push(`${step.appName} flipped, CC diego=${cc}`)
  }
  expect(mismatches).toEqual([])
}

function expectOneFlipEach(world: FakeFoundation): void {
  const twice = world.fleet().filter((app) => world.flipsOf(app.guid).length !== 1)
  expect(twice.map((app) => `${app.name}: ${world.flipsOf(app.guid).length} flips`)).toEqual([])
}

async function migrationThroughOutage(apps: number, outageMs: number, outageWaitMs?: number) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock, { seed: 14, putHoldMs: 3_000, bootMs: 2_000, drainMs: 5_000 }).addFleet(apps)
  const journal = openJournal(clock)
  const id = aMigration(world, journal, { plan: { maxInFlight: 50 }, settings: { maxFailures: '0' } })
  const runner = aRunner(journal, id, world.port(), clock, outageWaitMs === undefined ? {} : { outageWaitMs })
  const events = eventsOf(runner)
  // The CC goes down 10 s in, with PUTs of the first wave still held.
  world.outage(outageMs, clock.now() + 10_000)
  const outcome = await settle(clock, runner.run())
  return { clock, world, journal, id, outcome, events }
}

describe('isUnreachable', () => {
  it('takes no answer, and a gateway’s or a down CC’s 502/503/504/429, as an outage; the CC’s own verdicts not', () => {
    expect(isUnreachable(new FakeNetworkError('ECONNREFUSED'))).toBe(true)
    expect(isUnreachable(new FakeCfError(502, 0, 'UnknownError', 'Bad Gateway'))).toBe(true)
    expect(isUnreachable(new FakeCfError(503, 10015, 'CF-ServiceUnavailable', 'down'))).toBe(true)
    expect(isUnreachable(new FakeCfError(504, 170008, 'CF-StagingTimeExpired', 'staging'))).toBe(false)
    expect(isUnreachable(new FakeCfError(503, 230001, 'CF-InstancesUnavailable', 'instances'))).toBe(false)
    expect(isUnreachable(new FakeCfError(500, 10001, 'CF-ServerError', 'bug'))).toBe(false)
    expect(isUnreachable(new FakeCfError(404, 100004, 'CF-AppNotFound', 'gone'))).toBe(false)
    expect(isUnreachable(new TypeError('a bug'))).toBe(false)
  })
})

describe('MigrationRunner: a CC that does not answer', () => {
  it.each([12_000, 40_000])('waits out a %i ms outage (PUTs held 3 s): completes, one flip per app', async (ms) => {
    const { world, journal, id, outcome, events } = await migrationThroughOutage(300, ms)

    expect(outcome.state).toBe('completed')
    expect(exitCodeOf(outcome)).toBe(0)
    expect(outcome.failures).toEqual([])
    expect(world.fleet().every((app) => app.diego)).toBe(true)
    expectOneFlipEach(world)
    expectJournalMatchesCc(journal, id, world)
    expect(journal.steps(id).every((s) => s.state === 'done' && s.flipped)).toBe(true)
    // The outage was seen, and no step started while the CC did not answer.
    const down = events.find((e) => e.type === 'cc-unreachable')!
    const up = events.find((e) => e.type === 'cc-answered')!
    expect(down).toBeDefined()
    expect(up).toMatchObject({ type: 'cc-answered' })
    const startedWhileDown = events.filter((e) => e.type === 'step-started' && e.at > down.at && e.at < up.at)
    expect(startedWhileDown).toEqual([])
  })

  it('moves the medium seed (2,000 apps, 50 in flight) through a 40 s outage: exit 0, one flip each', async () => {
    const { world, journal, id, outcome } = await migrationThroughOutage(2_000, 40_000)

    expect(exitCodeOf(outcome)).toBe(0)
    expect(outcome.steps.done).toBe(2_000)
    expectOneFlipEach(world)
    expectJournalMatchesCc(journal, id, world)
  })

  it('pauses (exit 3) past --outage-wait with the steps in flight in doubt, not failed; resume finishes', async () => {
    const first = await migrationThroughOutage(300, 120_000, 30_000)
    const { clock, world, journal, id } = first

    expect(first.outcome).toMatchObject({ state: 'paused', pausedBy: 'cc-unreachable', failures: [] })
    expect(exitCodeOf(first.outcome)).toBe(3)
    expect(first.outcome.steps.failed).toBe(0)
    const inDoubt = first.events.filter((e) => e.type === 'step-in-doubt')
    expect(inDoubt.length).toBeGreaterThan(0)
    expect(inDoubt.length).toBeLessThanOrEqual(50)
    expectJournalMatchesCc(journal, id, world)

    // A resume while the CC is still down waits again; once it answers, the run finishes.
    await advance(clock, 60_000)
    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(exitCodeOf(outcome)).toBe(0)
    expect(world.fleet().every((app) => app.diego)).toBe(true)
    expectOneFlipEach(world)
    expectJournalMatchesCc(journal, id, world)
  })

  it('rolls back a migration paused by an outage: each step in doubt read from the CC, none flipped twice', async () => {
    const { clock, world, journal, id } = await migrationThroughOutage(200, 120_000, 30_000)
    await advance(clock, 90_000)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())

    expect(outcome.state).toBe('rolled-back')
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
    for (const app of world.fleet()) expect(world.flipsOf(app.guid).length).toBeLessThanOrEqual(2)
    expectJournalMatchesCc(journal, id, world)
  })

  it('resumes a migration an older cfctl failed for want of an answer, and a second resume is no error', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000 }).addFleet(6)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    // As cfctl left it before: three steps failed "flipped, putting it back failed" with the flag never changed.
    journal.setMigrationState(id, 'running')
    for (const position of [0, 1, 2]) {
      journal.transitionStep(id, position, 'flipping')
      journal.transitionStep(id, position, 'rolling-back', { error: 'could not read the app' })
      journal.transitionStep(id, position, 'failed', {
        flipped: true,
        error:
          'setting diego=true failed (after 3 tries): PUT http://127.0.0.1/v2/apps/x failed after 4 attempts: connect ECONNREFUSED; putting it back failed',
      })
    }
    journal.setMigrationState(id, 'paused', { pausedBy: 'failure-threshold' })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(world.fleet().every((app) => app.diego)).toBe(true)
    expectOneFlipEach(world)
    expectJournalMatchesCc(journal, id, world)
    const again = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(exitCodeOf(again)).toBe(0)
    expect(world.flips).toHaveLength(6)
  })

  it('retries on resume a failed migration whose failures were the CC not answering', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000 }).addFleet(3)
    world.refuseFlag.set('guid-app-0001', 503)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    const first = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(first).toMatchObject({ state: 'failed' })
    expect(journal.steps(id)[1]).toMatchObject({ state: 'failed', flipped: false })

    world.refuseFlag.delete('guid-app-0001')
    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expectOneFlipEach(world)
    expectJournalMatchesCc(journal, id, world)
  })
})
