// Acceptance: `cfctl migrate` killed with SIGKILL at random points, again and again, and resumed each time
// with `cfctl migrate --resume ID`: every resume takes over the lock the dead process left, the migration
// finishes with every app on Diego, the CC applied exactly one change of `diego` per app (its own account,
// from the store, not the journal's), and the journal accounts for every step.
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
} from './support.js'

const APPS = 80
const KILLS = 12
const SEED = Number(process.env.CFCTL_CRASH_SEED ?? Date.now() % 1_000_000)

let world: WatchedFoundation
let admin: CliHome

beforeAll(async () => {
  world = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: APPS }), speed: 50 })
  admin = await anAdminAt(world.apiUrl)
}, 60_000)

afterAll(async () => {
  await world?.stop()
})

interface Run {
  pid: number
  lines: Json[]
  killed: boolean
  code: number | null
}

describe('cfctl migrate killed with SIGKILL', () => {
  it(`resumes after ${KILLS} kills at random points and flips no app twice (seed ${SEED}; CFCTL_CRASH_SEED repeats it)`, async () => {
    const random = mulberry32(SEED)
    const runs: Run[] = []
    let migrationId: string | undefined
    let kills = 0
    for (let attempt = 0; attempt < KILLS + 10; attempt++) {
      const args = migrationId
        ? ['migrate', '--resume', migrationId, '--json']
        : ['migrate', '--to', 'diego', '--org', FLEET_ORG, '--max-in-flight', '4', '--probe-interval', '200ms']
      if (!migrationId) args.push('--yes', '--json')
      const cli = new StreamedCli(admin, args)
      // Counted from the first line of the migration itself (the plan line comes before it is recorded).
      const first = await cli.waitFor((line) => typeof line.migrationId === 'string')
      expect(first, `run ${attempt} never got going: ${cli.stderr}`).toBe(true)
      const start = cli.lines.findIndex((line) => typeof line.migrationId === 'string')
      migrationId ??= cli.lines[start].migrationId as string
      let killed = false
      if (kills < KILLS) {
        const k = 1 + Math.floor(random() * 6)
        await cli.waitFor((_, i) => i >= start + k - 1)
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 150)))
        killed = cli.child.kill('SIGKILL')
      }
      const exit = await cli.exited
      runs.push({ pid: cli.pid, lines: cli.lines, killed: killed && exit.signal === 'SIGKILL', code: exit.code })
      if (runs.at(-1)!.killed) kills++
      else break
    }

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
    const shown = await admin.run(['migrations', 'show', migrationId!, '--events', '100000', '--json'])
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
