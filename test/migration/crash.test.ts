// Acceptance: `cfctl migrate` killed with SIGKILL at random points, again and again, and resumed each time
// with `cfctl migrate --resume ID`: every resume takes over the lock the dead process left, the migration
// finishes with every app on Diego, the CC applied exactly one change of `diego` per app (its own account,
// from the store, not the journal's), and the journal accounts for every step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FLEET_ORG,
  type Fleet,
  type Json,
  killAtRandom,
  migrateFleetArgs,
  migrationIdOf,
  mulberry32,
  startFleet,
} from './support.js'

const APPS = 80
const KILLS = 12
const SEED = Number(process.env.CFCTL_CRASH_SEED ?? Date.now() % 1_000_000)

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(APPS)
}, 60_000)

afterAll(async () => {
  await fleet?.stop()
})

interface Run {
  pid: number
  lines: Json[]
  killed: boolean
  code: number | null
}

describe('cfctl migrate killed with SIGKILL', () => {
  it(`resumes after ${KILLS} kills at random points and flips no app twice (seed ${SEED}; CFCTL_CRASH_SEED repeats it)`, async () => {
    const { world, admin } = fleet
    const killed = await killAtRandom({
      home: admin,
      random: mulberry32(SEED),
      kills: KILLS,
      args: migrateFleetArgs(4),
      again: (first) => ['migrate', '--resume', migrationIdOf(first.lines), '--json'],
      maxLines: 6,
      maxDelayMs: 150,
      // Counted from the run's `started` line: a run killed while it takes the lock over, before it records
      // `started`, has no start of its own in the journal (the chaos kills cover that window), and this test
      // counts one `started` per run.
      armedBy: (line) => line.type === 'started',
    })
    const runs: Run[] = killed.runs.map((r) => ({ pid: r.cli.pid, lines: r.cli.lines, killed: r.killed, code: r.code }))
    const kills = killed.kills
    const migrationId = migrationIdOf(killed.last.lines)

    expect(kills, 'kills before the migration finished').toBe(KILLS)
    const last = runs.at(-1)!
    expect(last.killed).toBe(false)
    expect(last.code, JSON.stringify(last.lines.slice(-3))).toBe(0)
    expect(last.lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', exitCode: 0, failures: [] })

    // Each resume found the lock of the process killed before it, held by a pid that no longer exists here.
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.lines[0], `run ${i} takes over the lock of run ${i - 1}`).toMatchObject({
        type: 'lock-taken-over',
        fromPid: runs[i - 1]!.pid,
        reason: 'dead',
      })
    }

    // The server's account: every app on Diego, running there, its flag changed exactly once by one PUT.
    for (const app of world.appsOf(FLEET_ORG)) {
      expect(app.diego, `${app.name} on Diego`).toBe(true)
      const history = world.historyOf(app.guid)
      expect(history.diegoChanges, `${app.name} flipped once`).toEqual([true])
      expect(history.updates, `${app.name} set by one PUT`).toBe(1)
      if (app.state === 'STARTED') expect(world.runningInstances(app), `${app.name} running`).toBe(app.instances)
    }

    // The journal's account: every step done, each started once, flipped once (by a run, or found flipped
    // by the next one after a kill), and verified once.
    const shown = await admin.run(['migrations', 'show', migrationId, '--events', '100000', '--json'])
    expect(shown.code).toBe(0)
    const journal = JSON.parse(shown.stdout)
    expect(journal).toMatchObject({ state: 'completed', done: APPS, failed: 0, total: APPS, runner: null })
    expect(journal.steps).toHaveLength(APPS)
    const events: Json[] = journal.events
    expect(events.filter((e) => e.type === 'started').map((e) => e.recovered)).toEqual([
      false,
      ...Array(KILLS).fill(true),
    ])
    expect(events.filter((e) => e.type === 'lock-taken-over').map((e) => e.fromPid)).toEqual(
      runs.slice(0, -1).map((r) => r.pid),
    )
    const flippedHow = new Map<string, number>()
    for (const step of journal.steps) {
      expect(step, `step ${step.position}`).toMatchObject({ state: 'done', from: 'dea', to: 'diego', error: null })
      const of = (type: string) => events.filter((e) => e.type === type && e.position === step.position)
      expect(of('step-started'), `${step.app} started once`).toHaveLength(1)
      expect(of('step-verified'), `${step.app} verified once`).toHaveLength(1)
      const flipped = of('step-flipped')
      expect(flipped, `${step.app} flipped once`).toHaveLength(1)
      flippedHow.set(flipped[0].how, (flippedHow.get(flipped[0].how) ?? 0) + 1)
      expect(of('step-failed')).toEqual([])
    }
    expect([...flippedHow.keys()].every((how) => how === 'flipped' || how === 'reconciled')).toBe(true)
    expect(events.at(-1)).toMatchObject({ type: 'completed', done: APPS, failed: 0 })
  }, 240_000)
})
