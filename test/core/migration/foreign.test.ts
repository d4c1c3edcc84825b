// Flips this migration did not make: a developer's mid-run, and a second operator's with a journal of
// their own. Seen from the CC's audit events, they pause the run and are named, with who made them; a
// rollback puts back only what this migration moved.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { exitCodeOf } from '../../../src/core/migration/index.js'
import { advanceUntil, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

describe('MigrationRunner: flips it did not make', () => {
  it('pauses when someone flips an app of the migration back mid-run, and says who; rollback leaves it', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000, drainMs: 5_000 }).addFleet(30)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 2 } })
    const runner = aRunner(journal, id, world.port('operator'), clock)
    const events = eventsOf(runner)
    const run = runner.run()
    await advanceUntil(clock, () => journal.stepCounts(id).done >= 5)
    const moved = journal.steps(id, { states: ['done'] })[0]!
    world.flipAs('dev', moved.appGuid, false)

    const outcome = await settle(clock, run)

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips' })
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.foreign).toEqual([{ appGuid: moved.appGuid, appName: moved.appName, diego: false, by: 'dev' }])
    expect(events.filter((e) => e.type === 'foreign-flip')).toHaveLength(1)
    expect(journal.stepCounts(id).pending).toBeGreaterThan(0)

    const back = await settle(clock, aRunner(journal, id, world.port('operator'), clock).rollback())

    expect(back.state).toBe('rolled-back')
    expect(back.foreign).toHaveLength(1)
    expect(world.fleet().every((app) => !app.diego)).toBe(true)
    // The developer's flip back is not made again by the rollback: one flip each way, theirs included.
    expect(world.flipsOf(moved.appGuid)).toHaveLength(2)
    expect(world.putsOf(moved.appGuid).filter((p) => !p.diego)).toHaveLength(1)
  })

  it('a second operator with a journal of their own stops before flipping anything while the first is at work', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000, drainMs: 5_000 }).addFleet(60)
    const alice = openJournal(clock)
    const bob = openJournal(clock)
    const aliceId = aMigration(world, alice, { plan: { maxInFlight: 3 } })
    const aliceRun = aRunner(alice, aliceId, world.port('alice'), clock).run()
    await advanceUntil(clock, () => alice.stepCounts(aliceId).done >= 5)
    // Bob plans now: the apps Alice moved are not in his selection, the rest are in both.
    const bobId = aMigration(world, bob, { plan: { maxInFlight: 3, order: 'memory' } })
    expect(bob.steps(bobId).length).toBeLessThan(60)

    const bobOutcome = await settle(clock, aRunner(bob, bobId, world.port('bob'), clock).run(), { limit: 60_000 })

    expect(bobOutcome).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips' })
    expect(bobOutcome.foreign.length).toBeGreaterThanOrEqual(5)
    expect(new Set(bobOutcome.foreign.map((f) => f.by))).toEqual(new Set(['alice']))
    expect(bob.steps(bobId).every((s) => s.state === 'pending')).toBe(true)
    expect(world.flagEvents.filter((e) => e.actor === 'bob')).toEqual([])

    const aliceOutcome = await settle(clock, aliceRun)
    expect(aliceOutcome).toMatchObject({ state: 'completed', foreign: [] })
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
  })

  it('an app found already on its target when its step starts pauses the run, with no events to read', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000, drainMs: 5_000 }).addFleet(30)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 2 } })
    // A CC that does not show its events: the flag read back is all the runner has.
    const run = aRunner(journal, id, world.port('operator'), clock, { foreignPollMs: 0 }).run()
    await advanceUntil(clock, () => journal.stepCounts(id).done >= 3)
    const ahead = journal.steps(id, { states: ['pending'] })[2]!
    world.flipAs('bob', ahead.appGuid, true)

    const outcome = await settle(clock, run)

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips' })
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.foreign.map((f) => f.appGuid)).toEqual([ahead.appGuid])
    expect(journal.step(id, ahead.position)).toMatchObject({ state: 'done', flipped: false })
    expect(journal.stepCounts(id).pending).toBeGreaterThan(0)
    expect(world.flipsOf(ahead.appGuid)).toHaveLength(1)

    // Resumed: the operator has seen it; the run completes without stopping on that app again.
    const resumed = await settle(clock, aRunner(journal, id, world.port('operator'), clock, { foreignPollMs: 0 }).run())
    expect(resumed.state).toBe('completed')
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
  })

  it('a run shorter than the poll takes a last look before it calls itself completed', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 2_000, drainMs: 5_000 }).addFleet(10)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { maxInFlight: 2 } })
    const run = aRunner(journal, id, world.port('operator'), clock, { foreignPollMs: 3_600_000 }).run()
    await advanceUntil(clock, () => journal.stepCounts(id).done >= 3)
    const moved = journal.steps(id, { states: ['done'] })[0]!
    world.flipAs('dev', moved.appGuid, false)

    const outcome = await settle(clock, run)

    expect(journal.stepCounts(id).done).toBe(10)
    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips' })
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.foreign).toEqual([{ appGuid: moved.appGuid, appName: moved.appName, diego: false, by: 'dev' }])
  })
})
