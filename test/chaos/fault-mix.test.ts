// Chaos: `cfctl migrate` through a proxy mixing every fault a CC's front end shows: 503 before and after the
// CC acted, the connection reset before the call reached the CC and after the CC acted (the client sees a
// reset socket, not a status), and answers held back 2 s; PUTs of the flag get more of them than reads. The
// run completes (exit 0), and both the CC's own account and the proxy's log of the PUTs the CC acted on show
// one flip per app; every app runs on exactly one backend, its flag's; the journal agrees with the CC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLEET_ORG, type Fleet, migrateFleetArgs, StreamedCli, startFleet } from '../migration/support.js'
import type { ActedPut, FaultMix } from '../support/fault-proxy.js'
import {
  chaosSeed,
  expectFleetSound,
  expectJournalMatchesCc,
  flipHistogram,
  journalOf,
  printFigures,
} from './support.js'

const APPS = 40
const SEED = chaosSeed()
/** Of every other /v2 call: 23% faulted (each kind expected several times in a run of ~150 such calls). */
const MIX: FaultMix = { refuse: 0.04, lose: 0.03, resetBefore: 0.04, resetAfter: 0.06, delay: 0.06, delayMs: 2_000 }
/** Of the PUTs that set the flag: 60% faulted, a quarter reset after the CC acted. */
const PUT_MIX: FaultMix = { refuse: 0.05, lose: 0.1, resetBefore: 0.05, resetAfter: 0.25, delay: 0.15, delayMs: 2_000 }

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(APPS, { proxy: { mix: MIX, seed: SEED, putMix: PUT_MIX } })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

/** Per app, the changes of `diego` the CC made on the PUTs it acted on, as the proxy saw them pass. */
function flipsOnTheWire(puts: readonly ActedPut[], original: (guid: string) => boolean): Map<string, boolean[]> {
  const changes = new Map<string, boolean[]>()
  const now = new Map<string, boolean>()
  for (const put of puts) {
    const guid = /^\/v2\/apps\/([^/?]+)/.exec(put.path)?.[1]
    const diego = put.body.diego
    if (!guid || typeof diego !== 'boolean') continue
    if (diego !== (now.get(guid) ?? original(guid))) changes.set(guid, [...(changes.get(guid) ?? []), diego])
    now.set(guid, diego)
  }
  return changes
}

describe(`chaos: a CC behind a proxy with 503s, resets before and after the CC acted, 2 s delays (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('completes with exit 0: one flip per app on the CC and on the wire, every app running on Diego, journal matching', async () => {
    const { world, admin } = fleet
    const proxy = fleet.proxy!
    const cli = new StreamedCli(admin, migrateFleetArgs(6))
    const { code } = await cli.exited
    expect(code, `${cli.stderr} ${JSON.stringify(cli.lines.at(-1))}`).toBe(0)
    expect(cli.lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', exitCode: 0, failures: [] })
    const id = cli.lines.at(-1).migrationId as string

    await expectFleetSound(world)
    const apps = world.appsOf(FLEET_ORG)
    for (const app of apps) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    const wire = flipsOnTheWire(proxy.actedPuts, (guid) => world.original.get(guid)!)
    for (const app of apps) expect(wire.get(app.guid), `${app.name} on the wire`).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => world.foundation.store.app(guid)!.diego)
    // Each kind happened, and a flip's PUT was acted on by the CC and answered with a reset socket.
    for (const kind of ['refused', 'lost', 'resetBefore', 'resetAfter', 'delayed'] as const)
      expect(proxy.counts[kind], kind).toBeGreaterThan(0)
    expect(proxy.actedPuts.filter((put) => put.fault === 'resetAfter').length).toBeGreaterThan(0)

    printFigures({
      scenario: 'fault mix: 503 before/after, reset before/after the CC acted, 2 s delays',
      seed: SEED,
      runs: 1,
      kills: 0,
      faults: proxy.faults,
      apps: apps.length,
      flipsPerApp: flipHistogram(apps.map((app) => world.historyOf(app.guid).diegoChanges)),
      ...proxy.counts,
      flipPutsActedOn: proxy.actedPuts.length,
      flipPutsResetAfterActed: proxy.actedPuts.filter((put) => put.fault === 'resetAfter').length,
      flipPutsDelayed: proxy.actedPuts.filter((put) => put.fault === 'delayed').length,
    })
  })
})
