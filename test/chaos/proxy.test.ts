// Chaos: `cfctl migrate` through a proxy that answers 503 to 20% of the CC's /v2 calls, half of them
// refused before the CC sees them and half after the CC acted (the answer lost). The run completes, and the
// CC's own account shows one flip per app, every app on exactly one backend and running, the journal agreeing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  anAdminAt,
  aTempDir,
  type CliHome,
  FLEET_ORG,
  FlakyProxy,
  StreamedCli,
  WatchedFoundation,
  writeSeedFile,
} from '../migration/support.js'
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

let world: WatchedFoundation
let proxy: FlakyProxy
let admin: CliHome

beforeAll(async () => {
  world = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: APPS }), speed: 50 })
  proxy = await FlakyProxy.start(world.apiUrl, SHARE, SEED)
  admin = await anAdminAt(proxy.url)
  proxy.armed = true
}, 60_000)

afterAll(async () => {
  await proxy?.stop()
  await world?.stop()
})

describe(`chaos: a CC behind a proxy failing 20% of calls with 503 (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('completes with exit 0: one flip per app, every app running on Diego, journal matching the CC', async () => {
    const cli = new StreamedCli(admin, [
      'migrate',
      '--to',
      'diego',
      '--org',
      FLEET_ORG,
      '--max-in-flight',
      '6',
      '--probe-interval',
      '200ms',
      '--yes',
      '--json',
    ])
    const { code } = await cli.exited
    expect(code, `${cli.stderr} ${JSON.stringify(cli.lines.at(-1))}`).toBe(0)
    const id = cli.lines.at(-1).migrationId as string
    await expectFleetSound(world)
    const fleet = world.appsOf(FLEET_ORG)
    for (const app of fleet) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => world.foundation.store.app(guid)!.diego)
    expect(proxy.counts.refused).toBeGreaterThan(0)
    expect(proxy.counts.lost).toBeGreaterThan(0)

    printFigures({
      scenario: '20% 503 (half before, half after the CC acted)',
      seed: SEED,
      runs: 1,
      kills: 0,
      faults: proxy.counts.refused + proxy.counts.lost,
      apps: fleet.length,
      flipsPerApp: flipHistogram(fleet.map((app) => world.historyOf(app.guid).diegoChanges)),
      refused: proxy.counts.refused,
      lostAfterApplied: proxy.counts.lost,
      passed: proxy.counts.passed,
    })
  })
})
