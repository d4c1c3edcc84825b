// The intent rule when the shared journal cannot be reached: PostgreSQL stopped in the middle of a run.
// No app starts while it is down; the steps in flight are left in doubt and taken up again (reading the
// CC) once it is back; every app ends on the target, each set by one PUT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { Journal, JournalUnavailableError } from '../../../src/core/journal/index.js'
import type { MigrationPort } from '../../../src/core/migration/index.js'
import { freshSchema, startPostgres, type TestPostgres } from '../../support/postgres.js'
import { advance, advanceUntil, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner } from './support.js'

let server: TestPostgres | undefined
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server?.destroy()
})

describe.each([
  { commits: 'one by one', commitDelayMs: undefined },
  { commits: 'grouped, as cfctl migrate writes them', commitDelayMs: 0 },
])('MigrationRunner on PostgreSQL, commits $commits: the database goes away mid-run', ({ commitDelayMs }) => {
  it('admits no app while it is down, takes up the ones in doubt when it is back, and flips none twice', async () => {
    const clock = new FakeClock()
    const world = new FakeFoundation(clock, { bootMs: 3_000, drainMs: 3_000 })
    for (let i = 0; i < 12; i++) world.add({ name: `app-${String(i).padStart(2, '0')}`, instances: 1 })
    const url = await freshSchema(server!)
    const journal = Journal.open(url, { clock, ...(commitDelayMs === undefined ? {} : { commitDelayMs }) })
    try {
      const id = aMigration(world, journal, { plan: { maxInFlight: 3 }, settings: { rate: '30/min' } })
      let down = false
      const putsWhileDown: string[] = []
      const port = world.port()
      const watched: MigrationPort = {
        ...port,
        getApp: (guid) => port.getApp(guid),
        instances: (guid) => port.instances(guid),
        probe: (guid) => port.probe(guid),
        setDiego: (guid, diego) => {
          if (down) putsWhileDown.push(guid)
          return port.setDiego(guid, diego)
        },
      }
      const run = aRunner(journal, id, watched, clock, { heartbeatMs: 1_000, controlPollMs: 500 }).run()
      run.catch(() => undefined)
      await advanceUntil(clock, () => world.flips.length >= 4)
      await server!.stop()
      down = true
      expect(() => journal.steps(id)).toThrow(JournalUnavailableError)
      await advance(clock, 20_000)
      // Every PUT made while it was down was of an app whose intent was recorded before: at most the ones in flight.
      expect(putsWhileDown.length).toBeLessThanOrEqual(3)
      const flipsWhileDown = world.flips.length
      await advance(clock, 10_000)
      expect(world.flips.length).toBe(flipsWhileDown)
      await server!.start()
      down = false
      const outcome = await settle(clock, run)

      expect(outcome.state).toBe('completed')
      for (const app of world.fleet()) {
        expect(app.diego, app.name).toBe(true)
        expect(world.putsOf(app.guid), app.name).toHaveLength(1)
      }
      const events = journal.events(id)
      expect(events.find((e) => e.type === 'journal-reconnected')).toMatchObject({ downMs: expect.any(Number) })
      for (const step of journal.steps(id)) {
        expect(step.state).toBe('done')
        const own = events.filter((e) => 'appGuid' in e && e.appGuid === step.appGuid)
        expect(own.filter((e) => e.type === 'step-verified')).toHaveLength(1)
      }
    } finally {
      journal.close()
    }
  })
})
