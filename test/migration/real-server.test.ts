// Acceptance: against the real server (a Foundation on 127.0.0.1, its backends on a fast clock), `cfctl
// migrate` moves 200 apps with no failure and no routability gap longer than the probe interval, and `cfctl
// rollback` returns every flag to its original value. The CLI runs as its own process; the evidence is its
// JSON lines and the server's own store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  anAdminAt,
  aTempDir,
  BYSTANDER_ORG,
  type CliHome,
  FLEET_ORG,
  type Json,
  jsonLines,
  migrationIdOf,
  summaryOf,
  WatchedFoundation,
  writeSeedFile,
} from './support.js'

const APPS = 200
const PROBE_INTERVAL_MS = 200
// The backends run this many times faster than real time: a Diego boot of 5 s takes 100 ms.
const SPEED = 50

let world: WatchedFoundation
let admin: CliHome
let migrationId: string

beforeAll(async () => {
  const seed = writeSeedFile(aTempDir(), { apps: APPS, bystanders: 10 })
  world = await WatchedFoundation.start({ seed, speed: SPEED })
  admin = await anAdminAt(world.apiUrl)
}, 60_000)

afterAll(async () => {
  await world?.stop()
})

describe('cfctl migrate on the embedded foundation', () => {
  it('moves 200 apps to Diego with no failure and no routability gap longer than the probe interval', async () => {
    const result = await admin.run([
      'migrate',
      '--to',
      'diego',
      '--org',
      FLEET_ORG,
      '--max-in-flight',
      '6',
      '--probe-interval',
      `${PROBE_INTERVAL_MS}ms`,
      '--yes',
      '--json',
    ])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = jsonLines(result.stdout)
    migrationId = migrationIdOf(lines)
    expect(lines[0]).toMatchObject({ type: 'plan', to: 'diego', totals: { apps: APPS } })
    expect(lines.every((e: Json) => e.type === 'plan' || e.migrationId === migrationId)).toBe(true)

    const summary = summaryOf(result)
    expect(summary).toMatchObject({ state: 'completed', exitCode: 0, failures: [] })
    expect(summary.steps).toMatchObject({ done: APPS, failed: 0, pending: 0 })
    expect(lines.filter((e: Json) => e.type === 'step-verified')).toHaveLength(APPS)
    expect(lines.filter((e: Json) => e.type === 'step-failed')).toEqual([])

    // A gap is measured from the first probe that found no instance to the next that found one, so its
    // resolution is the probe interval; a gap longer than that would mean two probes in a row missed.
    const gaps = lines.filter((e: Json) => e.type === 'gap')
    expect(gaps).toEqual(summary.gaps.map((g: Json) => expect.objectContaining({ appGuid: g.appGuid, ms: g.ms })))
    for (const gap of gaps) {
      expect(gap.open, `${gap.appName}: gap still open when its step ended`).toBe(false)
      expect(gap.ms, `${gap.appName}: gap of ${gap.ms} ms`).toBeLessThanOrEqual(PROBE_INTERVAL_MS)
    }
    expect(summary.longestGapMs).toBeLessThanOrEqual(PROBE_INTERVAL_MS)

    const fleet = world.appsOf(FLEET_ORG)
    expect(fleet).toHaveLength(APPS)
    for (const app of fleet) {
      expect(app.diego, `${app.name} on Diego`).toBe(true)
      expect(world.historyOf(app.guid).diegoChanges, `${app.name} flipped once`).toEqual([true])
      if (app.state === 'STARTED') expect(world.runningInstances(app), `${app.name} running`).toBe(app.instances)
    }
    for (const app of world.appsOf(BYSTANDER_ORG)) {
      expect(app.diego, `${app.name} (not selected) still on the DEA`).toBe(false)
      expect(world.historyOf(app.guid).updates, `${app.name} untouched`).toBe(0)
    }
  }, 90_000)

  it('rolls back: every flag returns to its original value, every started app running there', async () => {
    expect(migrationId, 'the migration of the previous test').toBeDefined()
    const result = await admin.run(['rollback', migrationId, '--max-in-flight', '6', '--yes', '--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const summary = summaryOf(result)
    expect(summary).toMatchObject({ migrationId, state: 'rolled-back', exitCode: 0 })
    expect(summary.steps).toMatchObject({ 'rolled-back': APPS, done: 0, failed: 0 })

    // Last moved, first back.
    const back = jsonLines(result.stdout)
      .filter((e: Json) => e.type === 'step-rolled-back')
      .map((e: Json) => e.position)
    expect(back).toHaveLength(APPS)
    expect(back.slice(0, 6).every((p: number) => p >= APPS - 12)).toBe(true)

    for (const app of world.appsOf(FLEET_ORG)) {
      expect(app.diego, `${app.name} back`).toBe(world.original.get(app.guid))
      expect(world.historyOf(app.guid).diegoChanges, `${app.name} flipped there and back once`).toEqual([true, false])
      if (app.state === 'STARTED') expect(world.runningInstances(app), `${app.name} running`).toBe(app.instances)
    }
    const listed = await admin.run(['migrations', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: migrationId, state: 'rolled-back' })])
  }, 90_000)
})

const SLOW_BOOT_MS = 150_000

describe('cfctl migrate: the routability evidence', () => {
  it('reports a gap for each app whose DEA instances go before its slow Diego cells answer', async () => {
    // Diego cells that take 150 s (engine time, 3 s here) to boot, while the DEA winds the old instances
    // down at its health manager's next fetch of the desired state (every 60 s, 1.2 s here) and the pass
    // after it: every started app has no instance answering for a good part of the boot. Probing every
    // 100 ms, each of those outages must show as a gap no longer than the boot.
    const slow = await WatchedFoundation.start({
      seed: writeSeedFile(aTempDir(), { apps: 8 }),
      speed: SPEED,
      cells: ['z1', 'z2', 'z3'].map((zone, i) => ({
        id: `slow-cell-${i + 1}`,
        zone,
        memoryMb: 32 * 1024,
        diskMb: 64 * 1024,
        bootDelayMs: SLOW_BOOT_MS,
      })),
    })
    try {
      const operator = await anAdminAt(slow.apiUrl)
      const result = await operator.run([
        'migrate',
        '--to',
        'diego',
        '--max-in-flight',
        '8',
        '--probe-interval',
        '100ms',
        '--yes',
        '--json',
      ])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const gaps = jsonLines(result.stdout).filter((e: Json) => e.type === 'gap')
      const started = slow.appsOf(FLEET_ORG).filter((app) => app.state === 'STARTED')
      expect(new Set(gaps.map((g: Json) => g.appGuid))).toEqual(new Set(started.map((app) => app.guid)))
      for (const gap of gaps) {
        expect(gap.open).toBe(false)
        expect(gap.ms, `${gap.appName}: ${gap.ms} ms`).toBeGreaterThan(150)
        expect(gap.ms, `${gap.appName}: ${gap.ms} ms`).toBeLessThan(SLOW_BOOT_MS / SPEED + 200)
      }
      expect(summaryOf(result).longestGapMs).toBe(Math.max(...gaps.map((g: Json) => g.ms)))
    } finally {
      await slow.stop()
    }
  }, 60_000)
})

describe('cfctl migrate --to dea on the embedded foundation', () => {
  it('moves a migrated fleet back to the DEAs: they have no container limit, as cfctl backends says', async () => {
    const small = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: 20 }), speed: SPEED })
    try {
      const operator = await anAdminAt(small.apiUrl)
      const there = await operator.run(['migrate', '--to', 'diego', '--max-in-flight', '10', '--yes', '--json'])
      expect(there.code).toBe(0)

      const backends = await operator.run(['backends', '--json'])
      expect(JSON.parse(backends.stdout).dea.capacity.containers).toMatchObject({ total: null })
      const back = await operator.run(['migrate', '--to', 'dea', '--max-in-flight', '10', '--yes', '--json'])
      expect(back.stderr).toBe('')
      expect(back.code).toBe(0)
      const plan = jsonLines(back.stdout)[0]
      expect(plan.capacity).toMatchObject({ ok: true, target: { backend: 'dea', ok: true } })
      expect(plan.capacity.target.message).not.toMatch(/containers/)
      for (const app of small.appsOf(FLEET_ORG)) {
        expect(app.diego, `${app.name} back on the DEA`).toBe(false)
        expect(small.historyOf(app.guid).diegoChanges, `${app.name} there and back once`).toEqual([true, false])
      }
    } finally {
      await small.stop()
    }
  }, 60_000)
})
