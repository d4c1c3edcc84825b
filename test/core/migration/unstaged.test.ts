// Apps whose staging failed or is pending, in a migration: listed in the plan, skipped by default (or moved
// by their flag alone with --unstaged move), never a failed step, and named in the outcome and the events.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import type { Unstaged } from '../../../src/core/cc/index.js'
import { exitCodeOf, planMigration } from '../../../src/core/migration/index.js'
import { unstagedNote, unstagedOfNote } from '../../../src/core/migration/unstaged.js'
import { FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

const compileFailed: Unstaged = {
  state: 'FAILED',
  errorCode: 'CF-BuildpackCompileFailed',
  reason: 'staging failed: App staging failed in the buildpack compile phase (CF-BuildpackCompileFailed)',
}
const pending: Unstaged = {
  state: 'PENDING',
  errorCode: 'CF-NotStaged',
  reason: 'staging has not finished (or never ran)',
}

function aWorld() {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).add(
    { name: 'good', instances: 2 },
    { name: 'broken', instances: 2, unstaged: compileFailed },
    { name: 'waiting', unstaged: pending },
    { name: 'parked', state: 'STOPPED', unstaged: pending },
  )
  return { clock, world, journal: openJournal(clock) }
}

describe('the plan', () => {
  it('lists the apps that are not staged, with the reason and what will happen to them', () => {
    const { world } = aWorld()
    const plan = planMigration(world.fleet(), { to: 'diego' })
    expect(plan.unstaged.map((u) => [u.appName, u.state, u.errorCode, u.action])).toEqual([
      ['broken', 'FAILED', 'CF-BuildpackCompileFailed', 'skip'],
      ['parked', 'PENDING', 'CF-NotStaged', 'skip'],
      ['waiting', 'PENDING', 'CF-NotStaged', 'skip'],
    ])
    expect(plan.warnings.join('\n')).toContain('3 apps are not staged (staging failed or pending), left where they are')
    expect(plan.warnings.join('\n')).toContain('--unstaged move')
    const moving = planMigration(world.fleet(), { to: 'diego', unstaged: 'move' })
    expect(moving.unstaged.every((u) => u.action === 'move')).toBe(true)
  })
})

describe('--unstaged skip (the default)', () => {
  it('leaves them where they are, completes with exit 0, and names each in the outcome and the events', async () => {
    const { clock, world, journal } = aWorld()
    const id = aMigration(world, journal, { settings: { maxFailures: '0' } })
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    const outcome = await settle(clock, runner.run())

    expect(outcome.state).toBe('completed')
    expect(exitCodeOf(outcome)).toBe(0)
    expect(outcome.failures).toEqual([])
    expect(world.app('guid-good').diego).toBe(true)
    for (const name of ['broken', 'waiting', 'parked']) {
      expect(world.app(`guid-${name}`).diego).toBe(false)
      expect(world.putsOf(`guid-${name}`)).toEqual([])
    }
    expect(outcome.unstaged.map((u) => [u.appName, u.action, u.errorCode])).toEqual([
      ['broken', 'skip', 'CF-BuildpackCompileFailed'],
      ['parked', 'skip', 'CF-NotStaged'],
      ['waiting', 'skip', 'CF-NotStaged'],
    ])
    const skipped = events.filter((e) => e.type === 'step-skipped')
    expect(skipped.map((e) => ('appName' in e ? e.appName : ''))).toEqual(['broken', 'parked', 'waiting'])
    expect(skipped[0]).toMatchObject({ reason: compileFailed.reason, errorCode: 'CF-BuildpackCompileFailed' })
    expect(events.find((e) => e.type === 'completed')).toMatchObject({ done: 4, failed: 0, skipped: 3 })
  })

  it('rolls back only what it moved', async () => {
    const { clock, world, journal } = aWorld()
    const id = aMigration(world, journal)
    await settle(clock, aRunner(journal, id, world.port(), clock).run())
    const back = await settle(clock, aRunner(journal, id, world.port(), clock).rollback())
    expect(back.state).toBe('rolled-back')
    expect(world.flips.map((f) => [f.name, f.diego])).toEqual([
      ['good', true],
      ['good', false],
    ])
  })
})

describe('--unstaged move', () => {
  it('sets their flags, verified by the flag alone, without waiting out the timeout or failing', async () => {
    const { clock, world, journal } = aWorld()
    const id = aMigration(world, journal, { settings: { unstaged: 'move', maxFailures: '0', timeoutMs: 600_000 } })
    const started = clock.now()

    const outcome = await settle(clock, aRunner(journal, id, world.port(), clock).run())

    expect(outcome.state).toBe('completed')
    expect(outcome.failures).toEqual([])
    for (const name of ['good', 'broken', 'waiting', 'parked']) expect(world.app(`guid-${name}`).diego).toBe(true)
    expect(outcome.unstaged.map((u) => [u.appName, u.action])).toEqual([
      ['broken', 'move'],
      ['parked', 'move'],
      ['waiting', 'move'],
    ])
    expect(clock.now() - started).toBeLessThan(600_000)
  })

  it('puts their flags back on rollback', async () => {
    const { clock, world, journal } = aWorld()
    const id = aMigration(world, journal, { settings: { unstaged: 'move' } })
    await settle(clock, aRunner(journal, id, world.port(), clock).run())
    await settle(clock, aRunner(journal, id, world.port(), clock).rollback())
    for (const name of ['good', 'broken', 'waiting', 'parked']) expect(world.app(`guid-${name}`).diego).toBe(false)
  })
})

describe('the step note', () => {
  it('reads back what it wrote, and nothing else', () => {
    expect(unstagedOfNote(unstagedNote('skip', compileFailed))).toEqual({ action: 'skip', ...compileFailed })
    expect(unstagedOfNote(unstagedNote('move', pending))).toEqual({ action: 'move', ...pending })
    expect(unstagedOfNote('already on diego')).toBeUndefined()
    expect(unstagedOfNote(null)).toBeUndefined()
  })
})
