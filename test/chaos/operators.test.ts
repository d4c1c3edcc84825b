// Chaos: two operators on one target, each with a home (CFCTL_HOME) and a SQLite journal of their own, so
// that neither cfctl's lock nor its journal knows of the other. A migrates the fleet to Diego; B starts a
// migration while A runs, once to Diego as well and once back to DEA, at a random point of A's run. B is
// stopped (paused, exit 3) before it flips anything, from the CC's audit events; A completes; A's rollback
// puts back what A moved and nothing else. Whatever happens, checked on the CC's own account: no app's flag
// changed more than once in a direction, every app on exactly one backend (its flag's) and running there,
// and each journal agreeing with the CC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliHome } from '../cli/run-cli.js'
import {
  anAdminAt,
  FLEET_ORG,
  type Fleet,
  type Json,
  migrateFleetArgs,
  migrationIdOf,
  mulberry32,
  StreamedCli,
  startFleet,
} from '../migration/support.js'
import {
  chaosSeed,
  expectFleetSound,
  expectJournalMatchesCc,
  flagChangesProblem,
  flipHistogram,
  journalOf,
  printFigures,
} from './support.js'

const APPS = 60
const BYSTANDERS = 10
const SEED = chaosSeed()

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(APPS, { bystanders: BYSTANDERS })
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

const verifiedIn = (cli: StreamedCli): number => cli.lines.filter((line) => line.type === 'step-verified').length
const flippedIn = (lines: Json[]): Json[] =>
  lines.filter((line) => line.type === 'step-flipped' && line.how === 'flipped')

interface Round {
  /** A's verified steps before B started. */
  bStartedAfter: number
  bExit: number | null
  bPausedBy: string | null
  bFlips: number
  bForeignSeen: number
  aFlips: number
  aRolledBack: number
}

/**
 * One round: A migrates the fleet to Diego, B (a fresh home) starts to `bTo` once A has verified a random
 * number of apps; both end; A rolls back; the fleet is checked. The CC's flag changes of this round alone.
 */
async function round(a: CliHome, bTo: 'diego' | 'dea', random: () => number): Promise<Round> {
  const { world } = fleet
  const apps = world.appsOf(FLEET_ORG)
  const bystanders = world.appsOf('bystanders')
  const changesBefore = new Map(
    [...apps, ...bystanders].map((app) => [app.guid, world.historyOf(app.guid).diegoChanges.length]),
  )
  const changesOfRound = (guid: string) => world.historyOf(guid).diegoChanges.slice(changesBefore.get(guid))
  const original = new Map(apps.map((app) => [app.guid, app.diego]))
  const sound = () => expectFleetSound(world, FLEET_ORG, { changes: changesOfRound, original: (g) => original.get(g)! })
  const b = await anAdminAt(world.apiUrl)

  const aRun = new StreamedCli(a, migrateFleetArgs(3))
  // Once A has flipped at least one app, so that B's first look has it to see (B started before A's first
  // flip is the race of the test below, which allows either to go first).
  const after = 1 + Math.floor(random() * 8)
  expect(await aRun.waitFor((line) => typeof line.migrationId === 'string'), aRun.stderr).toBe(true)
  await aRun.waitFor(() => verifiedIn(aRun) >= after)
  const bRun = new StreamedCli(b, migrateFleetArgs(3, bTo))
  const [bExit, aExit] = await Promise.all([bRun.exited, aRun.exited])
  const aId = migrationIdOf(aRun.lines)
  const bSummary = bRun.lines.at(-1)
  const bFlips = flippedIn(bRun.lines).length

  // B is stopped by what A did before B flips anything: paused (exit 3), A's flips named; A is not held up.
  expect(bFlips, `B flipped apps: ${JSON.stringify(flippedIn(bRun.lines).map((l) => l.appName))}`).toBe(0)
  expect(bExit.code, bRun.stderr).toBe(3)
  expect(bSummary).toMatchObject({ type: 'summary', state: 'paused', pausedBy: 'foreign-flips' })
  expect(bSummary.foreign.length).toBeGreaterThan(0)
  expect(aExit.code, `${aRun.stderr} ${JSON.stringify(aRun.lines.at(-1))}`).toBe(0)
  expect(aRun.lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', foreign: [] })
  await sound()
  for (const app of apps) expect(changesOfRound(app.guid), app.name).toEqual([true])
  expectJournalMatchesCc(await journalOf(a, aId), (guid) => world.foundation.store.app(guid)!.diego)
  const bId = bSummary.migrationId as string
  const bJournal = await journalOf(b, bId)
  // Its plan is stale now (A moved those apps); it records that B started none of them.
  expect(
    bJournal.steps.every((step: Json) => step.state === 'pending'),
    'B flipped nothing',
  ).toBe(true)

  // A's rollback: every app A moved goes back; none other changes (the bystanders, B's nothing).
  const back = await a.run(['rollback', aId, '--yes', '--json'])
  expect(back.code, back.stderr).toBe(0)
  await sound()
  for (const app of apps) expect(changesOfRound(app.guid), app.name).toEqual([true, false])
  for (const app of bystanders) expect(changesOfRound(app.guid), app.name).toEqual([])
  const aJournal = await journalOf(a, aId)
  expect(aJournal.state).toBe('rolled-back')
  expectJournalMatchesCc(aJournal, (guid) => world.foundation.store.app(guid)!.diego)
  for (const app of [...apps, ...bystanders])
    expect(flagChangesProblem(false, changesOfRound(app.guid)), app.name).toBeUndefined()

  return {
    bStartedAfter: after,
    bExit: bExit.code,
    bPausedBy: bSummary.pausedBy,
    bFlips,
    bForeignSeen: bSummary.foreign.length,
    aFlips: flippedIn(aRun.lines).length,
    aRolledBack: aJournal.steps.filter((step: Json) => step.state === 'rolled-back').length,
  }
}

describe(`chaos: two operators with separate homes on one target (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, () => {
  it('B, to the same and to the other backend, is stopped before it flips; A completes; A rollback moves only its apps', async () => {
    const random = mulberry32(SEED)
    const a = fleet.admin
    const same = await round(a, 'diego', random)
    const opposite = await round(a, 'dea', random)

    const { world } = fleet
    const apps = world.appsOf(FLEET_ORG)
    printFigures({
      scenario: 'two operators, separate homes: B to Diego, then B to DEA, while A migrates; A rolls back',
      seed: SEED,
      runs: 6,
      kills: 0,
      faults: 2,
      apps: apps.length,
      flipsPerApp: flipHistogram(apps.map((app) => world.historyOf(app.guid).diegoChanges)),
      same,
      opposite,
    })
  })

  it('A and B started together: one stops on seeing the other, no app flipped twice, each rollback moves its own', async () => {
    const { world } = fleet
    const apps = world.appsOf(FLEET_ORG)
    const before = new Map(apps.map((app) => [app.guid, world.historyOf(app.guid).diegoChanges.length]))
    const changesOfRound = (guid: string) => world.historyOf(guid).diegoChanges.slice(before.get(guid))
    const original = new Map(apps.map((app) => [app.guid, app.diego]))
    const sound = () =>
      expectFleetSound(world, FLEET_ORG, { changes: changesOfRound, original: (g) => original.get(g)! })
    const a = fleet.admin
    const b = await anAdminAt(world.apiUrl)

    const aRun = new StreamedCli(a, migrateFleetArgs(3))
    const bRun = new StreamedCli(b, migrateFleetArgs(3))
    await Promise.all([aRun.exited, bRun.exited])
    const ends = [aRun, bRun].map((run) => run.lines.at(-1))
    // Each completed, or stopped on the other's flips (exit 3); not both completed over a split fleet.
    for (const [run, end] of [
      [aRun, ends[0]],
      [bRun, ends[1]],
    ] as const) {
      expect(end, run.stderr).toMatchObject({ type: 'summary' })
      if (end.state !== 'completed')
        expect(end).toMatchObject({ state: 'paused', pausedBy: 'foreign-flips', exitCode: 3 })
    }
    expect(ends.filter((end) => end.state === 'completed').length).toBeLessThanOrEqual(1)
    await sound()
    const aFlipped = new Set(flippedIn(aRun.lines).map((line) => line.appGuid as string))
    const bFlipped = new Set(flippedIn(bRun.lines).map((line) => line.appGuid as string))
    for (const app of apps) {
      const on = world.foundation.store.app(app.guid)!.diego
      expect(on, `${app.name} on Diego only if one of them flipped it`).toBe(
        aFlipped.has(app.guid) || bFlipped.has(app.guid),
      )
    }

    // A's rollback puts back what A flipped; what only B flipped stays where B put it, and A reports it.
    const aBack = await a.run(['rollback', migrationIdOf(aRun.lines), '--yes', '--json'])
    expect(aBack.code, aBack.stderr).toBe(0)
    await sound()
    for (const app of apps) {
      const onlyB = bFlipped.has(app.guid) && !aFlipped.has(app.guid)
      expect(world.foundation.store.app(app.guid)!.diego, `${app.name} after A's rollback`).toBe(onlyB)
    }
    const bBack = await b.run(['rollback', migrationIdOf(bRun.lines), '--yes', '--json'])
    expect(bBack.code, bBack.stderr).toBe(0)
    await sound()
    for (const app of apps) {
      expect(world.foundation.store.app(app.guid)!.diego, app.name).toBe(false)
      expect(flagChangesProblem(false, changesOfRound(app.guid)), app.name).toBeUndefined()
    }

    printFigures({
      scenario: 'two operators, separate homes, started together; each rolls back',
      seed: SEED,
      runs: 4,
      kills: 0,
      faults: 1,
      apps: apps.length,
      flipsPerApp: flipHistogram(apps.map((app) => changesOfRound(app.guid))),
      aEnded: `${ends[0].state}${ends[0].pausedBy ? ` (${ends[0].pausedBy})` : ''}`,
      bEnded: `${ends[1].state}${ends[1].pausedBy ? ` (${ends[1].pausedBy})` : ''}`,
      aFlipped: aFlipped.size,
      bFlipped: bFlipped.size,
      flippedByBoth: [...aFlipped].filter((guid) => bFlipped.has(guid)).length,
    })
  })
})
