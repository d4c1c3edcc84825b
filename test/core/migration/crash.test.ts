import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { Journal, LockHeldError } from '../../../src/core/journal/index.js'
import { LockLostError, type MigrationRunner } from '../../../src/core/migration/index.js'
import { advance, advanceUntil, FakeFoundation, type FakeProcess, settle } from './fake-foundation.js'
import { aMigration, aRunner, aTempDir, TARGET } from './support.js'

/** Twelve apps: started ones of 1 to 3 instances and two stopped ones. */
function aWorld(clock: FakeClock): FakeFoundation {
  const world = new FakeFoundation(clock, { bootMs: 8_000, drainMs: 20_000 })
  for (let i = 0; i < 12; i++) {
    world.add({
      name: `app-${String(i).padStart(2, '0')}`,
      instances: 1 + (i % 3),
      state: i % 5 === 4 ? 'STOPPED' : 'STARTED',
    })
  }
  return world
}

function runnerIn(journal: Journal, id: string, world: FakeFoundation, process: FakeProcess): MigrationRunner {
  return aRunner(journal, id, process.port, process.clock, {
    owner: { pid: process.pid, hostname: 'test-host', token: `token-${process.pid}` },
    isAlive: (pid) => world.isAlive(pid),
  })
}

interface Scenario {
  call: number
  when: 'before' | 'after'
  label: string
}

/** Starts a migration or rollback in a process that dies at the given call; returns once it is dead. */
async function crashAt(
  clock: FakeClock,
  world: FakeFoundation,
  path: string,
  id: string,
  scenario: Pick<Scenario, 'call' | 'when'>,
  work: (runner: MigrationRunner) => Promise<unknown>,
): Promise<void> {
  const journal = Journal.open(path, { clock })
  const process = world.process()
  process.crashAtCall(scenario.call, scenario.when)
  work(runnerIn(journal, id, world, process)).catch(() => undefined)
  await advanceUntil(clock, () => process.killed, { limit: 3_600_000 })
  // The dead process's connection goes with it.
  journal.close()
}

function expectEveryStepAccountedFor(journal: Journal, id: string, final: 'done' | 'rolled-back'): void {
  const events = journal.events(id)
  for (const step of journal.steps(id)) {
    expect(step.state).toBe(final)
    const own = events.filter((e) => 'appGuid' in e && e.appGuid === step.appGuid)
    expect(own.filter((e) => e.type === 'step-started').length).toBeGreaterThanOrEqual(1)
    expect(own.filter((e) => e.type === 'step-verified')).toHaveLength(1)
    if (final === 'rolled-back')
      expect(own.filter((e) => e.type === 'step-rolled-back').length).toBeGreaterThanOrEqual(1)
  }
}

const MIGRATION = { plan: { maxInFlight: 3 }, settings: { rate: '30/min' } }

/** A fresh world and the migration of its twelve apps, recorded in the journal file at `path` (closed again). */
function aRecordedMigration(): { clock: FakeClock; world: FakeFoundation; path: string; id: string } {
  const clock = new FakeClock()
  const world = aWorld(clock)
  const path = join(aTempDir(), 'journal.db')
  const setup = Journal.open(path, { clock })
  const id = aMigration(world, setup, MIGRATION)
  setup.close()
  return { clock, world, path, id }
}

describe('MigrationRunner: resume after a crash', () => {
  const scenarios: Scenario[] = []
  let flipCalls: number[] = []
  let totalCalls = 0

  beforeAll(async () => {
    // One run without a crash tells which call is which; the crash runs repeat it call for call:
    // every flip, killed just before the CC sees it and just after it made the change, and points
    // spread over the whole run.
    const clock = new FakeClock()
    const world = aWorld(clock)
    const journal = Journal.open(join(aTempDir(), 'journal.db'), { clock })
    const id = aMigration(world, journal, MIGRATION)
    const process = world.process()
    const outcome = await settle(clock, runnerIn(journal, id, world, process).run())
    expect(outcome.state).toBe('completed')
    totalCalls = process.calls
    flipCalls = process.log.flatMap((name, i) => (name === 'setDiego' ? [i + 1] : []))
    journal.close()
    for (const call of flipCalls) {
      scenarios.push({ call, when: 'before', label: `before flip call ${call}` })
      scenarios.push({ call, when: 'after', label: `after flip call ${call}` })
    }
    for (let i = 1; i <= 16; i++) {
      const call = Math.round((i * totalCalls) / 17)
      scenarios.push({ call, when: i % 2 ? 'before' : 'after', label: `${i % 2 ? 'before' : 'after'} call ${call}` })
    }
  })

  it('knows the calls of an uninterrupted run', () => {
    expect(flipCalls).toHaveLength(12)
    expect(totalCalls).toBeGreaterThan(100)
  })

  it('finishes after a crash at each of 40 points, every app on the target, none flipped twice', async () => {
    expect(scenarios.length).toBe(40)
    for (const scenario of scenarios) {
      const { clock, world, path, id } = aRecordedMigration()

      await crashAt(clock, world, path, id, scenario, (runner) => runner.run())
      const journal = Journal.open(path, { clock })
      const outcome = await settle(clock, runnerIn(journal, id, world, world.process()).run())

      const context = `crash ${scenario.label}`
      expect(outcome.state, context).toBe('completed')
      for (const app of world.fleet()) {
        expect(app.diego, `${context}: ${app.name} on diego`).toBe(true)
        expect(world.healthy(app.guid), `${context}: ${app.name} healthy`).toBe(true)
        expect(world.flipsOf(app.guid), `${context}: ${app.name} flipped once`).toHaveLength(1)
        expect(world.putsOf(app.guid), `${context}: ${app.name} set once`).toHaveLength(1)
      }
      expectEveryStepAccountedFor(journal, id, 'done')
      const events = journal.events(id)
      expect(events.filter((e) => e.type === 'started').map((e) => e.type === 'started' && e.recovered)).toEqual([
        false,
        true,
      ])
      expect(
        events.find((e) => e.type === 'lock-taken-over'),
        context,
      ).toMatchObject({ reason: 'dead' })
      journal.close()
    }
  })

  it('finishes after two crashes in a row', async () => {
    for (const [first, second] of [
      [flipCalls[2]!, 15],
      [flipCalls[5]!, flipCalls[1]!],
      [Math.round(totalCalls / 2), 3],
    ] as const) {
      const { clock, world, path, id } = aRecordedMigration()

      await crashAt(clock, world, path, id, { call: first, when: 'after' }, (runner) => runner.run())
      await crashAt(clock, world, path, id, { call: second, when: 'after' }, (runner) => runner.run())
      const journal = Journal.open(path, { clock })
      const outcome = await settle(clock, runnerIn(journal, id, world, world.process()).run())

      expect(outcome.state).toBe('completed')
      for (const app of world.fleet()) expect(world.putsOf(app.guid)).toHaveLength(1)
      expectEveryStepAccountedFor(journal, id, 'done')
      journal.close()
    }
  })

  it('finishes a rollback after a crash at many points, every app back, none flipped back twice', async () => {
    for (let i = 1; i <= 12; i++) {
      const clock = new FakeClock()
      const world = aWorld(clock)
      const path = join(aTempDir(), 'journal.db')
      const journal = Journal.open(path, { clock })
      const id = aMigration(world, journal, MIGRATION)
      await settle(clock, runnerIn(journal, id, world, world.process()).run())
      journal.close()
      const flipsForward = world.flips.length

      await crashAt(clock, world, path, id, { call: i * 11, when: i % 2 ? 'after' : 'before' }, (runner) =>
        runner.rollback(),
      )
      const reopened = Journal.open(path, { clock })
      const outcome = await settle(clock, runnerIn(reopened, id, world, world.process()).rollback())

      expect(outcome.state).toBe('rolled-back')
      expect(world.flips.length - flipsForward).toBe(12)
      for (const app of world.fleet()) {
        expect(app.diego).toBe(false)
        expect(world.healthy(app.guid)).toBe(true)
        expect(world.putsOf(app.guid).map((f) => f.diego)).toEqual([true, false])
      }
      expectEveryStepAccountedFor(reopened, id, 'rolled-back')
      reopened.close()
    }
  })
})

describe('MigrationRunner: the lock across processes', () => {
  it('waits out a live lock of another host, and takes it over once its heartbeat is stale', async () => {
    const clock = new FakeClock()
    const world = aWorld(clock)
    const path = join(aTempDir(), 'journal.db')
    const journal = Journal.open(path, { clock })
    const id = aMigration(world, journal, MIGRATION)
    // A runner on another host that froze (its clock and calls hang) while holding the lock.
    const frozen = world.process()
    frozen.crashAtCall(20, 'before')
    aRunner(journal, id, frozen.port, frozen.clock, {
      owner: { pid: 4242, hostname: 'other-host', token: 'other' },
    })
      .run()
      .catch(() => undefined)
    await advanceUntil(clock, () => frozen.killed)

    const mine = world.process()
    const options = {
      owner: { pid: mine.pid, hostname: 'test-host', token: 'mine' },
      isAlive: () => true,
      lockStaleMs: 30_000,
    }
    await expect(aRunner(journal, id, mine.port, mine.clock, options).run()).rejects.toThrow(LockHeldError)
    await advance(clock, 31_000)
    const outcome = await settle(clock, aRunner(journal, id, mine.port, mine.clock, options).run())

    expect(outcome.state).toBe('completed')
    expect(journal.events(id).find((e) => e.type === 'lock-taken-over')).toMatchObject({
      reason: 'stale',
      fromPid: 4242,
      fromHostname: 'other-host',
    })
    for (const app of world.fleet()) expect(world.flipsOf(app.guid)).toHaveLength(1)
  })

  it('stops starting steps and says so when another runner takes its lock', async () => {
    const clock = new FakeClock()
    const world = aWorld(clock)
    const journal = Journal.open(':memory:', { clock })
    const id = aMigration(world, journal, MIGRATION)
    const runner = aRunner(journal, id, world.port(), clock, { heartbeatMs: 5_000 })
    const run = runner.run()
    await advance(clock, 4_000)
    journal.acquireLock(TARGET, id, { pid: 1, hostname: 'elsewhere', token: 'thief' }, { staleAfterMs: -1 })

    await expect(settle(clock, run)).rejects.toThrow(LockLostError)
    expect(journal.stepCounts(id)).toMatchObject({ flipping: 0, verifying: 0 })
    expect(journal.stepCounts(id).pending).toBeGreaterThan(0)
    expect(journal.lock(TARGET)).toMatchObject({ token: 'thief' })
  })
})
