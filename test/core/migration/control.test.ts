import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import type { MigrationEvent } from '../../../src/core/journal/index.js'
import { changePace } from '../../../src/core/migration/control.js'
import { controlMigration, exitCodeOf } from '../../../src/core/migration/index.js'
import { advance, advanceUntil, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, aTempDir, eventsOf, maxConcurrent, openJournal, TARGET } from './support.js'

const MINUTE = 60_000

function startsBetween(events: readonly MigrationEvent[], from: number, to: number): number {
  return events.filter((e) => e.type === 'step-started' && e.at >= from && e.at < to).length
}

function setUp(apps: number, settings: Parameters<typeof aMigration>[2] = {}) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  const journal = openJournal(clock)
  const id = aMigration(world, journal, { settings: { rate: '60/min' }, ...settings })
  return { clock, world, journal, id }
}

describe('MigrationRunner: live control', () => {
  it('pauses: no step starts while paused, the steps in flight finish, and resume carries on', async () => {
    const { clock, world, journal, id } = setUp(20)
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)
    const run = runner.run()
    await advance(clock, 5_500)
    runner.pause()
    const pausedAt = clock.now()
    const inFlight =
      events.filter((e) => e.type === 'step-started').length - events.filter((e) => e.type === 'step-verified').length
    expect(inFlight).toBeGreaterThan(0)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'operator' })

    await advance(clock, 2 * MINUTE)

    expect(startsBetween(events, pausedAt, clock.now())).toBe(0)
    expect(journal.stepCounts(id)).toMatchObject({ flipping: 0, verifying: 0 })
    runner.resume()
    const outcome = await settle(clock, run)
    expect(outcome.state).toBe('completed')
    expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed')).toMatchObject([
      { type: 'paused', by: 'operator' },
      { type: 'resumed', by: 'operator' },
    ])
  })

  it('aborts: the steps in flight finish, the rest stay pending, the migration is aborted', async () => {
    const { clock, world, journal, id } = setUp(20)
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 5_500)
    runner.abort('operator')

    const outcome = await settle(clock, run)

    expect(outcome.state).toBe('aborted')
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.steps.done).toBeGreaterThanOrEqual(5)
    expect(outcome.steps.pending).toBe(20 - outcome.steps.done)
    expect(journal.events(id).at(-1)).toMatchObject({ type: 'aborted', by: 'operator', pending: outcome.steps.pending })
    await expect(aRunner(journal, id, world.port(), clock).run()).rejects.toThrow(/is aborted/)
  })

  it('aborts a paused migration', async () => {
    const { clock, world, journal, id } = setUp(5)
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 1_500)
    runner.pause()
    await advance(clock, MINUTE)
    runner.abort()

    expect((await settle(clock, run)).state).toBe('aborted')
  })

  it('changes the rate live, and keeps the new rate in the journal', async () => {
    const { clock, world, journal, id } = setUp(60, { settings: { rate: '6/min' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)
    const start = clock.now()
    const run = runner.run()
    await advance(clock, 5 * MINUTE)
    runner.setRate('30/min')
    const changedAt = clock.now()
    await advance(clock, 60_000)

    expect(startsBetween(events, start, changedAt)).toBe(30)
    expect(startsBetween(events, changedAt, changedAt + MINUTE)).toBe(30)
    expect(journal.requireMigration(id).parameters.rate).toBe('30/min')
    expect(events.find((e) => e.type === 'rate-changed')).toMatchObject({ rate: '30/min', maxInFlight: 5 })
    runner.setRate(null)
    await settle(clock, run)
  })

  it('changes max-in-flight live', async () => {
    const { clock, world, journal, id } = setUp(40, { settings: { rate: null }, plan: { maxInFlight: 2 } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)
    const run = runner.run()
    await advance(clock, 30_000)
    expect(maxConcurrent(events)).toBe(2)
    runner.setMaxInFlight(6)

    await settle(clock, run)

    expect(maxConcurrent(events)).toBe(6)
    expect(journal.requireMigration(id).parameters.maxInFlight).toBe(6)
  })

  it('interrupts (Ctrl-C): returns paused once the steps in flight finish, and a new run resumes it', async () => {
    const { clock, world, journal, id } = setUp(10)
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 3_500)
    runner.interrupt()

    const stopped = await settle(clock, run)

    expect(stopped).toMatchObject({ state: 'paused', pausedBy: 'interrupt' })
    expect(stopped.steps.flipping + stopped.steps.verifying).toBe(0)
    expect(journal.lock(TARGET)).toBeUndefined()
    const resumed = await settle(clock, aRunner(journal, id, world.port(), clock).run())
    expect(resumed.state).toBe('completed')
    expect(world.flips).toHaveLength(10)
  })

  it('takes commands another process leaves in the journal', async () => {
    const { clock, world, journal, id } = setUp(20)
    const runner = aRunner(journal, id, world.port(), clock, { controlPollMs: 1_000 })
    const events = eventsOf(runner)
    const run = runner.run()
    await advance(clock, 3_000)

    const result = controlMigration(journal, id, { type: 'pause', by: 'operator@cli' })
    expect(result.delivered).toBe('runner')
    await advance(clock, 1_000)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'operator@cli' })
    const pausedAt = clock.now()
    await advance(clock, MINUTE)
    expect(startsBetween(events, pausedAt, clock.now())).toBe(0)

    controlMigration(journal, id, { type: 'set-rate', rate: '120/min' })
    controlMigration(journal, id, { type: 'resume', by: 'operator@cli' })
    await advance(clock, 1_000)
    expect(journal.requireMigration(id).state).toBe('running')
    expect((await settle(clock, run)).state).toBe('completed')
    expect(journal.requireMigration(id).parameters.rate).toBe('120/min')
  })
})

describe('MigrationRunner: progress', () => {
  it('shows the counts, the pace against its limit, and the time left', async () => {
    const { clock, world, journal, id } = setUp(30, { settings: { rate: '20/min' }, plan: { maxInFlight: 10 } })
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    // Starts at 0, 3, 6, ... s; the last minute, (1.5 s, 61.5 s], holds those at 3 to 60 s.
    await advance(clock, 61_500)

    const progress = runner.progress()

    expect(progress).toMatchObject({ migrationId: id, state: 'running', total: 30, rate: '20/min', maxInFlight: 10 })
    expect(progress.startsInLastPeriod).toBe(20)
    const left = progress.steps.pending + progress.steps.flipping + progress.steps.verifying
    expect(progress.inFlight).toBe(progress.steps.flipping + progress.steps.verifying)
    expect(left).toBe(30 - progress.steps.done)
    expect(progress.etaMs).toBeGreaterThanOrEqual(left * 3_000)
    await settle(clock, run)
    expect(runner.progress()).toMatchObject({ state: 'completed', inFlight: 0, etaMs: 0 })
  })
})

describe('MigrationRunner: the pause file', () => {
  it('holds the run while the file exists and goes on by itself once it is gone', async () => {
    const { clock, world, journal, id } = setUp(10)
    const pauseFile = join(aTempDir(), 'pause')
    const runner = aRunner(journal, id, world.port(), clock, { pauseFile, pauseFilePollMs: 1_000 })
    const events = eventsOf(runner)
    const run = runner.run()
    await advance(clock, 2_500)
    writeFileSync(pauseFile, '')
    await advance(clock, 1_000)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'pause-file' })
    const heldFrom = clock.now()
    await advance(clock, 5 * MINUTE)
    expect(startsBetween(events, heldFrom, clock.now())).toBe(0)

    rmSync(pauseFile)
    const outcome = await settle(clock, run)

    expect(outcome.state).toBe('completed')
    expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed')).toMatchObject([
      { type: 'paused', by: 'pause-file' },
      { type: 'resumed', by: 'pause-file' },
    ])
  })

  it('starts nothing when the file is there before the run begins', async () => {
    const { clock, world, journal, id } = setUp(3)
    const pauseFile = join(aTempDir(), 'pause')
    writeFileSync(pauseFile, '')
    const runner = aRunner(journal, id, world.port(), clock, { pauseFile })
    const run = runner.run()
    await advance(clock, 10 * MINUTE)
    expect(world.flips).toHaveLength(0)
    runner.interrupt()
    expect((await settle(clock, run)).pausedBy).toBe('pause-file')
  })

  it('does not resume an operator pause when the pause file goes away', async () => {
    const { clock, world, journal, id } = setUp(5)
    const pauseFile = join(aTempDir(), 'pause')
    const runner = aRunner(journal, id, world.port(), clock, { pauseFile })
    const run = runner.run()
    await advance(clock, 1_500)
    writeFileSync(pauseFile, '')
    await advance(clock, 2_000)
    runner.pause('operator')
    rmSync(pauseFile)
    await advance(clock, MINUTE)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'operator' })
    runner.resume()
    expect((await settle(clock, run)).state).toBe('completed')
  })
})

describe('MigrationRunner: the canary', () => {
  it('moves the canary apps first and holds until an operator confirms', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(10)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { canary: 3 }, settings: { rate: null } })
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advanceUntil(clock, () => journal.requireMigration(id).pausedBy === 'canary')
    expect(journal.stepCounts(id)).toMatchObject({ done: 3, pending: 7 })
    await advance(clock, 30 * MINUTE)
    expect(journal.stepCounts(id)).toMatchObject({ done: 3, pending: 7 })

    runner.resume('operator')

    expect((await settle(clock, run)).steps.done).toBe(10)
    expect(journal.requireMigration(id).canaryConfirmedAt).not.toBeNull()
  })

  it('goes on by itself after --canary-wait when the canary is healthy', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(6)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { canary: 2 }, settings: { rate: null, canaryWaitMs: 5 * MINUTE } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    const outcome = await settle(clock, runner.run())

    expect(outcome.state).toBe('completed')
    const paused = events.find((e) => e.type === 'paused')!
    const resumed = events.find((e) => e.type === 'resumed')!
    expect(resumed).toMatchObject({ by: 'canary-wait' })
    expect(resumed.at - paused.at).toBe(5 * MINUTE)
  })

  it('waits for an operator, whatever --canary-wait says, when a canary app failed', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add({ name: 'a', unhealthyOn: 'diego' }, { name: 'b' }, { name: 'c' })
    const journal = openJournal(clock)
    const id = aMigration(world, journal, {
      plan: { canary: 1 },
      settings: { rate: null, canaryWaitMs: MINUTE, timeoutMs: 20_000, maxFailures: '5' },
    })
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 30 * MINUTE)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'canary' })
    expect(journal.stepCounts(id)).toMatchObject({ failed: 1, pending: 2 })
    runner.interrupt()
    await settle(clock, run)
  })

  it('does not hold again when a run resumes after the canary was confirmed', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(6)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { plan: { canary: 2, maxInFlight: 1 }, settings: { rate: '6/min' } })
    const first = aRunner(journal, id, world.port(), clock)
    const run = first.run()
    await advanceUntil(clock, () => journal.requireMigration(id).pausedBy === 'canary')
    first.resume()
    await advance(clock, 15_000)
    first.interrupt()
    await settle(clock, run)

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(journal.events(id).filter((e) => e.type === 'paused' && e.by === 'canary')).toHaveLength(1)
  })
})

describe('controlMigration with no runner', () => {
  it('applies pause, abort and set-rate to the journal directly', () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(2)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)

    expect(controlMigration(journal, id, { type: 'set-rate', rate: '5/hour' })).toMatchObject({
      delivered: 'journal',
      migration: { parameters: { rate: '5/hour' } },
    })
    expect(controlMigration(journal, id, { type: 'pause', by: 'operator' }).migration).toMatchObject({
      state: 'paused',
      pausedBy: 'operator',
    })
    expect(controlMigration(journal, id, { type: 'abort', by: 'operator' }).migration.state).toBe('aborted')
    expect(() => controlMigration(journal, id, { type: 'pause', by: 'operator' })).toThrow(
      /is aborted; a finished migration takes no pause/,
    )
  })

  it('says that resuming needs a process, and how to start one', () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(1)
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    expect(() => controlMigration(journal, id, { type: 'resume', by: 'operator' })).toThrow(
      expect.objectContaining({ hint: `run: cfctl migrate --resume ${id}` }),
    )
  })

  it('refuses set-rate, pause, resume and abort on a finished migration, the journal untouched', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(2)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { rate: '1/min' } })
    await settle(clock, aRunner(journal, id, world.port(), clock).run())
    const before = { migration: journal.requireMigration(id), events: journal.events(id) }
    expect(before.migration.state).toBe('completed')

    for (const command of [
      { type: 'set-rate', rate: '5/min' },
      { type: 'set-max-in-flight', maxInFlight: 4 },
      { type: 'pause', by: 'operator' },
      { type: 'resume', by: 'operator' },
      { type: 'abort', by: 'operator' },
    ] as const) {
      expect(() => controlMigration(journal, id, command)).toThrow(
        expect.objectContaining({
          message: expect.stringMatching(new RegExp(`^migration ${id} is completed; a finished migration takes no`)),
          hint: `what is left is a rollback: cfctl rollback ${id}`,
        }),
      )
    }
    expect(journal.requireMigration(id)).toEqual(before.migration)
    expect(journal.events(id)).toEqual(before.events)
  })

  it('changes rate and in-flight limit together in one journal change and one event', () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(2)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { rate: '1/min', maxInFlight: 2 } })

    changePace(journal, id, { rate: null, maxInFlight: 10 })

    expect(journal.requireMigration(id).parameters).toMatchObject({ rate: null, maxInFlight: 10 })
    expect(journal.events(id).filter((e) => e.type === 'rate-changed')).toEqual([
      expect.objectContaining({ rate: null, maxInFlight: 10 }),
    ])
  })

  it('rejects a malformed rate before touching the journal', () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).addFleet(1)
    const journal = openJournal(clock)
    const id = aMigration(world, journal, { settings: { rate: '1/min' } })
    expect(() => controlMigration(journal, id, { type: 'set-rate', rate: 'fast' })).toThrow(/--rate must look like/)
    expect(journal.requireMigration(id).parameters.rate).toBe('1/min')
  })
})
