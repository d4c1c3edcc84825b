// Chaos: `cfctl migrate` and then `cfctl rollback` killed with SIGKILL at random points from the command
// line, each run again until it finishes. The foundation (in this process) keeps its own account of every
// flag change; after the migration and after the rollback the fleet is sound and the journal matches the CC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  anAdminAt,
  aTempDir,
  type CliHome,
  FLEET_ORG,
  type Json,
  mulberry32,
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

const APPS = 60
const MIGRATE_KILLS = 5
const ROLLBACK_KILLS = 4
const SEED = chaosSeed()

let world: WatchedFoundation
let admin: CliHome

beforeAll(async () => {
  world = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: APPS }), speed: 50 })
  admin = await anAdminAt(world.apiUrl)
}, 60_000)

afterAll(async () => {
  await world?.stop()
})

interface Runs {
  runs: number
  kills: number
  last: StreamedCli
}

/**
 * Runs `args` (then `again`) until a run ends on its own, killing the first `kills` runs at a random point:
 * after 1 to 8 of their lines, plus up to 300 ms.
 */
async function killAtRandom(
  random: () => number,
  kills: number,
  args: string[],
  again: (first: StreamedCli) => string[],
): Promise<Runs> {
  let runs = 0
  let killed = 0
  let first: StreamedCli | undefined
  for (;;) {
    const cli = new StreamedCli(admin, first ? again(first) : args)
    first ??= cli
    runs++
    if (killed < kills) {
      const k = 1 + Math.floor(random() * 8)
      await cli.waitFor((_, i) => i >= k - 1)
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 300)))
      if (cli.running && cli.child.kill('SIGKILL') && (await cli.exited).signal === 'SIGKILL') {
        killed++
        continue
      }
    }
    const exit = await cli.exited
    if (exit.code === 0 || runs > kills + 10) return { runs, kills: killed, last: cli }
    throw new Error(`run ${runs} ended ${JSON.stringify(exit)}: ${JSON.stringify(cli.lines.slice(-2))} ${cli.stderr}`)
  }
}

const migrationIdIn = (cli: StreamedCli): string => {
  const id = cli.lines.find((l: Json) => typeof l.migrationId === 'string')?.migrationId
  if (!id) throw new Error(`no migration id: ${cli.stderr}`)
  return id
}

describe(`chaos: migrate and rollback killed with SIGKILL at random points (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('every run resumed finishes; one flip each way per app; the journal matches the CC', async () => {
    const random = mulberry32(SEED)
    const migrate = await killAtRandom(
      random,
      MIGRATE_KILLS,
      [
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
      ],
      (first) => ['migrate', '--resume', migrationIdIn(first), '--json'],
    )
    const id = migrationIdIn(migrate.last)
    expect(migrate.last.lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', exitCode: 0 })
    expect(migrate.kills).toBe(MIGRATE_KILLS)
    await expectFleetSound(world)
    const fleet = world.appsOf(FLEET_ORG)
    for (const app of fleet) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    expectJournalMatchesCc(await journalOf(admin, id), (guid) => world.foundation.store.app(guid)!.diego)

    const rollback = await killAtRandom(random, ROLLBACK_KILLS, ['rollback', id, '--yes', '--json'], () => [
      'rollback',
      id,
      '--yes',
      '--json',
    ])
    expect(rollback.last.lines.at(-1), rollback.last.stderr).toMatchObject({ type: 'summary', exitCode: 0 })
    expect(rollback.kills).toBe(ROLLBACK_KILLS)
    await expectFleetSound(world)
    for (const app of fleet) expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true, false])
    const journal = await journalOf(admin, id)
    expect(journal.state).toBe('rolled-back')
    expectJournalMatchesCc(journal, (guid) => world.foundation.store.app(guid)!.diego)

    printFigures({
      scenario: 'kill -9 migrate and rollback',
      seed: SEED,
      runs: migrate.runs + rollback.runs,
      kills: migrate.kills + rollback.kills,
      faults: migrate.kills + rollback.kills,
      apps: fleet.length,
      flipsPerApp: flipHistogram(fleet.map((app) => world.historyOf(app.guid).diegoChanges)),
      migrateRuns: migrate.runs,
      rollbackRuns: rollback.runs,
    })
  }, 180_000)
})
