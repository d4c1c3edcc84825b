// Chaos: `cfctl migrate` and then `cfctl rollback` killed with SIGKILL at random points from the command
// line, each run again until it finishes. The foundation (in this process) keeps its own account of every
// flag change; after the migration and after the rollback the fleet is sound and the journal matches the CC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FLEET_ORG,
  type Fleet,
  killAtRandom,
  migrateFleetArgs,
  migrationIdOf,
  mulberry32,
  startFleet,
} from '../migration/support.js'
import {
  chaosSeed,
  expectFleetSound,
  expectJournalMatchesCc,
  flipHistogram,
  journalOf,
  printFigures,
} from './support.js'

const APPS = 60
const MIGRATE_KILLS = 5
const ROLLBACK_KILLS = 4
const SEED = chaosSeed()

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(APPS)
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

describe(`chaos: migrate and rollback killed with SIGKILL at random points (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('every run resumed finishes; one flip each way per app; the journal matches the CC', async () => {
    const { world, admin } = fleet
    const random = mulberry32(SEED)
    const kill = { home: admin, random, maxLines: 8, maxDelayMs: 300 }
    const migrate = await killAtRandom({
      ...kill,
      kills: MIGRATE_KILLS,
      // Paced (the rollback keeps the pace): on a loaded machine a run's lines come late, and an unpaced
      // run could finish the fleet before the kill that was meant for it.
      args: [...migrateFleetArgs(6), '--rate', '4/sec'],
      again: (first) => ['migrate', '--resume', migrationIdOf(first.lines), '--json'],
    })
    const id = migrationIdOf(migrate.last.lines)
    expect(migrate.last.lines.at(-1), migrate.last.stderr).toMatchObject({
      type: 'summary',
      state: 'completed',
      exitCode: 0,
    })
    expect(migrate.kills).toBe(MIGRATE_KILLS)
    await expectFleetSound(world)
    const apps = world.appsOf(FLEET_ORG)
    for (const app of apps) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => world.foundation.store.app(guid)!.diego)

    const rollbackArgs = ['rollback', id, '--yes', '--json']
    const rollback = await killAtRandom({
      ...kill,
      kills: ROLLBACK_KILLS,
      args: rollbackArgs,
      again: () => rollbackArgs,
    })
    expect(rollback.last.lines.at(-1), rollback.last.stderr).toMatchObject({ type: 'summary', exitCode: 0 })
    expect(rollback.kills).toBe(ROLLBACK_KILLS)
    await expectFleetSound(world)
    for (const app of apps) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true, false])
    const journal = await journalOf(admin, id)
    expect(journal.state).toBe('rolled-back')
    expectJournalMatchesCc(journal, (guid) => world.foundation.store.app(guid)!.diego)

    printFigures({
      scenario: 'kill -9 migrate and rollback',
      seed: SEED,
      runs: migrate.runs.length + rollback.runs.length,
      kills: migrate.kills + rollback.kills,
      faults: migrate.kills + rollback.kills,
      apps: apps.length,
      flipsPerApp: flipHistogram(apps.map((app) => world.historyOf(app.guid).diegoChanges)),
      migrateRuns: migrate.runs.length,
      rollbackRuns: rollback.runs.length,
    })
  }, 180_000)
})
