// An app with no route has nothing to probe: its instances alone verify it, and the outcome names it.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { NO_ROUTE_NOTE } from '../../../src/core/migration/runner.js'
import { FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, eventsOf, openJournal } from './support.js'

describe('an app with no route', () => {
  it('is verified by its instances alone, and the outcome and its event say so', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock).add(
      { name: 'web' },
      { name: 'worker', noRoute: true, instances: 2 },
      { name: 'idle', state: 'STOPPED', noRoute: true },
    )
    const journal = openJournal(clock)
    const id = aMigration(world, journal)
    const runner = aRunner(journal, id, world.port(), clock)
    const events = eventsOf(runner)

    const outcome = await settle(clock, runner.run())

    expect(outcome.state).toBe('completed')
    expect(world.healthy('guid-worker')).toBe(true)
    expect(outcome.unrouted).toEqual([{ appGuid: 'guid-worker', appName: 'worker' }])
    expect(journal.steps(id).find((s) => s.appName === 'worker')?.note).toBe(NO_ROUTE_NOTE)
    const verified = events.filter((e) => e.type === 'step-verified')
    expect(verified.find((e) => 'appName' in e && e.appName === 'worker')).toMatchObject({ noRoute: true })
    expect(verified.find((e) => 'appName' in e && e.appName === 'web')).not.toHaveProperty('noRoute')
  })
})

describe('the plan', () => {
  it('says how an app with no route is verified', async () => {
    const { planJson, renderPlan } = await import('../../../src/cli/migration-output.js')
    const { checkCapacity, planMigration } = await import('../../../src/core/migration/index.js')
    const world = new FakeFoundation(new FakeClock()).add({ name: 'worker', noRoute: true })
    const plan = planMigration(world.fleet(), { to: 'diego' })
    const capacity = checkCapacity(plan, {})
    expect(planJson(plan, capacity, null).routes).toMatch(/no route is verified by its instances alone/)
    expect(renderPlan(plan, capacity, null)).toMatch(/no route is verified by its instances alone/)
  })
})
