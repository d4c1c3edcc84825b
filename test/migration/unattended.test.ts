// An unattended runner (a CI job, a script: no person at the process) on the fake clock: a pause that waits
// for a person ends the run paused, once the steps in flight settle; the pause file, which lifts on its own,
// still holds; so does a canary with a wait set.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { controlMigration, exitCodeOf } from '../../src/core/migration/index.js'
import { advance, advanceUntil, FakeFoundation, settle } from '../core/migration/fake-foundation.js'
import { aMigration, aRunner, aTempDir, eventsOf, openJournal } from '../core/migration/support.js'

const MINUTE = 60_000

function setUp(apps: number, setup: Parameters<typeof aMigration>[2] = { settings: { rate: '60/min' } }) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  const journal = openJournal(clock)
  const id = aMigration(world, journal, setup)
  return { clock, world, journal, id }
}

describe('MigrationRunner, unattended', () => {
  it("ends the run paused on an operator's pause from another process, the steps in flight settled", async () => {
    const { clock, world, journal, id } = setUp(20)
    const runner = aRunner(journal, id, world.port(), clock, { unattended: true })
    const events = eventsOf(runner)
    const run = runner.run()
    await advance(clock, 5_500)
    controlMigration(journal, id, { type: 'pause', by: 'operator:alice' })

    const outcome = await settle(clock, run)

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'operator:alice' })
    expect(exitCodeOf(outcome)).toBe(3)
    expect(outcome.steps).toMatchObject({ flipping: 0, verifying: 0 })
    expect(outcome.steps.done).toBeGreaterThan(0)
    expect(outcome.steps.pending).toBeGreaterThan(0)
    expect(journal.lock('https://api.example.test')).toBeUndefined()
    const pausedAt = events.find((e) => e.type === 'paused')!.at
    expect(events.filter((e) => e.type === 'step-started' && e.at > pausedAt)).toEqual([])

    const resumed = await settle(clock, aRunner(journal, id, world.port(), clock, { unattended: true }).run())
    expect(resumed.state).toBe('completed')
    expect(world.flips).toHaveLength(20)
  })

  it('still holds while the pause file exists, and goes on once it is gone', async () => {
    const { clock, world, journal, id } = setUp(6)
    const pauseFile = join(aTempDir(), 'pause')
    writeFileSync(pauseFile, '')
    const runner = aRunner(journal, id, world.port(), clock, { unattended: true, pauseFile })
    const run = runner.run()
    await advance(clock, 10 * MINUTE)
    expect(runner.running).toBe(true)
    expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'pause-file' })
    expect(world.flips).toEqual([])

    rmSync(pauseFile)

    expect((await settle(clock, run)).state).toBe('completed')
  })

  it('ends the run after the canary when no --canary-wait says to go on, and a resume goes on', async () => {
    const { clock, world, journal, id } = setUp(8, { plan: { canary: 2 }, settings: { rate: null } })

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock, { unattended: true }).run())

    expect(outcome).toMatchObject({ state: 'paused', pausedBy: 'canary', steps: { done: 2, pending: 6 } })
    const resumed = await settle(clock, aRunner(journal, id, world.port(), clock, { unattended: true }).run())
    expect(resumed).toMatchObject({ state: 'completed', steps: { done: 8 } })
  })

  it('waits out a --canary-wait, which lifts the pause on its own', async () => {
    const { clock, world, journal, id } = setUp(8, {
      plan: { canary: 2 },
      settings: { rate: null, canaryWaitMs: 5 * MINUTE },
    })
    const runner = aRunner(journal, id, world.port(), clock, { unattended: true })
    const run = runner.run()
    await advanceUntil(clock, () => journal.requireMigration(id).pausedBy === 'canary')
    expect(runner.running).toBe(true)

    expect((await settle(clock, run)).state).toBe('completed')
  })

  it('holds on a pause when someone is there (the default)', async () => {
    const { clock, world, journal, id } = setUp(10)
    const runner = aRunner(journal, id, world.port(), clock)
    const run = runner.run()
    await advance(clock, 3_000)
    controlMigration(journal, id, { type: 'pause', by: 'operator:alice' })
    await advance(clock, 30 * MINUTE)
    expect(runner.running).toBe(true)
    controlMigration(journal, id, { type: 'resume', by: 'operator:alice' })
    expect((await settle(clock, run)).state).toBe('completed')
  })
})
