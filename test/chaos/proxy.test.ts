// Chaos: `cfctl migrate` through a proxy that answers 503 to 20% of the CC's /v2 calls, half of them
// refused before the CC sees them and half after the CC acted (the answer lost). The run completes, and the
// CC's own account shows one flip per app, every app on exactly one backend and running, the journal agreeing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLEET_ORG, type Fleet, migrateFleetArgs, StreamedCli, startFleet } from '../migration/support.js'
import { half503 } from '../support/fault-proxy.js'
import {
  chaosSeed,
  expectFleetSound,
  expectJournalMatchesCc,
  flipHistogram,
  journalOf,
  printFigures,
} from './support.js'

const APPS = 40
const SHARE = 0.2
const SEED = chaosSeed()

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(APPS, { proxy: { mix: half503(SHARE), seed: SEED } })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

describe(`chaos: a CC behind a proxy failing 20% of calls with 503 (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('completes with exit 0: one flip per app, every app running on Diego, journal matching the CC', async () => {
    const { world, admin } = fleet
    const proxy = fleet.proxy!
    const cli = new StreamedCli(admin, migrateFleetArgs(6))
    const { code } = await cli.exited
    expect(code, `${cli.stderr} ${JSON.stringify(cli.lines.at(-1))}`).toBe(0)
    const id = cli.lines.at(-1).migrationId as string
    await expectFleetSound(world)
    const apps = world.appsOf(FLEET_ORG)
    for (const app of apps) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => world.foundation.store.app(guid)!.diego)
    expect(proxy.counts.refused).toBeGreaterThan(0)
    expect(proxy.counts.lost).toBeGreaterThan(0)

    printFigures({
      scenario: '20% 503 (half before, half after the CC acted)',
      seed: SEED,
      runs: 1,
      kills: 0,
      faults: proxy.faults,
      apps: apps.length,
      flipsPerApp: flipHistogram(apps.map((app) => world.historyOf(app.guid).diegoChanges)),
      refused: proxy.counts.refused,
      lostAfterApplied: proxy.counts.lost,
      passed: proxy.counts.passed,
    })
  })
})
