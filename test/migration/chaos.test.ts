// Acceptance: with the CC answering 503 to 5% of /v2 calls (half of them refused, half applied with the
// answer lost) and Diego cells lost mid-migration, `cfctl migrate` completes, or stops at --max-failures with
// every failed app back on its source and running. The faults come from a proxy in front of the CC; the
// cells are lost on the foundation itself while the CLI runs as its own process.
import { afterEach, describe, expect, it } from 'vitest'
import type { CellSpec } from '../../src/scheduler/diego/bbs.js'
import { FaultProxy, half503 } from '../support/fault-proxy.js'
import { anAdminAt, aTempDir, FLEET_ORG, type Json, StreamedCli, WatchedFoundation, writeSeedFile } from './support.js'

const SPEED = 50
const FAULT_SHARE = 0.05
const SEED = Number(process.env.CFCTL_CHAOS_SEED ?? Date.now() % 1_000_000)

function cells(count: number, memoryMb: number): CellSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `cell-${i + 1}`,
    zone: ['z1', 'z2', 'z3'][i % 3]!,
    memoryMb,
    diskMb: 64 * 1024,
  }))
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function chaosWorld(apps: number, diegoCells: CellSpec[]) {
  const world = await WatchedFoundation.start({
    seed: writeSeedFile(aTempDir(), { apps }),
    speed: SPEED,
    cells: diegoCells,
  })
  cleanups.push(() => world.stop())
  const proxy = await FaultProxy.start(world.apiUrl, half503(FAULT_SHARE), SEED)
  cleanups.push(() => proxy.stop())
  const admin = await anAdminAt(proxy.url)
  proxy.armed = true
  return { world, proxy, admin }
}

/** Polls until `check` holds (the backends converge on their own clock), or fails with what it saw last. */
async function eventually(check: () => string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let problem = check()
  while (problem !== undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    problem = check()
  }
  expect(problem).toBeUndefined()
}

/**
 * What the acceptance asks of either ending: a completed migration has every app on Diego and running
 * there; a stopped one has each failed app back on the DEA, running, and each pending app untouched. No app
 * was flipped more than there and back.
 */
async function expectCompletedOrStoppedCleanly(world: WatchedFoundation, lines: Json[], code: number | null) {
  const summary = lines.at(-1)
  expect(summary.type).toBe('summary')
  expect(summary.exitCode).toBe(code)
  const failed = new Map<string, Json>(summary.failures.map((f: Json) => [f.appGuid, f]))
  if (code === 0) {
    expect(summary).toMatchObject({ state: 'completed', failures: [] })
  } else {
    expect(code).toBe(1)
    expect(['paused', 'failed']).toContain(summary.state)
    if (summary.state === 'paused') expect(summary.pausedBy).toBe('failure-threshold')
    for (const failure of summary.failures) expect(failure, failure.appName).toMatchObject({ restored: true })
  }
  const verified = new Set(lines.filter((e) => e.type === 'step-verified').map((e) => e.appGuid))
  const fleet = world.appsOf(FLEET_ORG)
  for (const app of fleet) {
    const changes = world.historyOf(app.guid).diegoChanges
    if (verified.has(app.guid)) {
      expect(app.diego, `${app.name} moved`).toBe(true)
      expect(changes, `${app.name} flipped once`).toEqual([true])
    } else if (failed.has(app.guid)) {
      expect(app.diego, `${app.name} failed, back on the DEA`).toBe(false)
      expect([[], [true, false]], `${app.name}: ${JSON.stringify(changes)}`).toContainEqual(changes)
    } else {
      expect(code, `${app.name} neither moved nor failed`).not.toBe(0)
      expect(app.diego, `${app.name} not reached, still on the DEA`).toBe(false)
      expect(world.historyOf(app.guid).updates, `${app.name} not reached, untouched`).toBe(0)
    }
  }
  await eventually(() => {
    const down = fleet.filter(
      (app) => app.state === 'STARTED' && world.runningInstances(world.foundation.store.app(app.guid)!) < app.instances,
    )
    return down.length === 0 ? undefined : `not all running: ${down.map((a) => a.name).join(', ')}`
  })
}

describe('cfctl migrate through a flaky CC, losing Diego cells', () => {
  it(`completes with 5% of CC calls failing and two of six cells lost mid-run (seed ${SEED}; CFCTL_CHAOS_SEED repeats it)`, async () => {
    const { world, proxy, admin } = await chaosWorld(120, cells(6, 32 * 1024))
    const cli = new StreamedCli(admin, [
      'migrate',
      '--to',
      'diego',
      '--max-in-flight',
      '6',
      '--max-failures',
      '5%',
      '--timeout',
      '20s',
      '--probe-interval',
      '200ms',
      '--yes',
      '--json',
    ])
    const verified = (n: number) => (_: Json, i: number) =>
      cli.lines.slice(0, i + 1).filter((e) => e.type === 'step-verified').length >= n
    expect(await cli.waitFor(verified(30))).toBe(true)
    world.foundation.diego.loseCell('cell-2')
    expect(await cli.waitFor(verified(70))).toBe(true)
    world.foundation.diego.loseCell('cell-5')
    const lostAt = cli.lines.filter((e) => e.type === 'step-verified').length
    const { code } = await cli.exited

    expect(lostAt, 'the second cell went while apps were still to move').toBeLessThan(120)
    expect(proxy.counts.refused, 'calls refused with 503').toBeGreaterThan(0)
    expect(proxy.counts.lost, 'calls applied whose answer was lost').toBeGreaterThan(0)
    expect(world.foundation.diego.capacity().nodes).toBe(4)
    await expectCompletedOrStoppedCleanly(world, cli.lines, code)
    // With this much room left, nothing should have failed.
    expect(code, cli.stderr).toBe(0)
  }, 120_000)

  it(`stops at --max-failures when lost cells leave Diego too small, every failed app back on the DEA and running (seed ${SEED})`, async () => {
    // 60 apps need about 15 GB; six 4 GB cells hold them, two do not.
    const { world, proxy, admin } = await chaosWorld(60, cells(6, 4 * 1024))
    const cli = new StreamedCli(admin, [
      'migrate',
      '--to',
      'diego',
      '--max-in-flight',
      '4',
      '--max-failures',
      '3',
      '--timeout',
      '3s',
      '--probe-interval',
      '200ms',
      '--yes',
      '--json',
    ])
    expect(await cli.waitFor((e) => e.type === 'step-verified')).toBe(true)
    for (const id of ['cell-1', 'cell-2', 'cell-3', 'cell-4']) world.foundation.diego.loseCell(id)
    const { code } = await cli.exited

    expect(proxy.counts.refused + proxy.counts.lost).toBeGreaterThan(0)
    const summary = cli.lines.at(-1)
    expect(summary, cli.stderr).toMatchObject({ type: 'summary', state: 'paused', pausedBy: 'failure-threshold' })
    expect(code).toBe(1)
    // The fourth failure stops it; the apps in flight then finish their step, and may fail too.
    expect(summary.failures.length).toBeGreaterThanOrEqual(4)
    expect(summary.failures.length).toBeLessThanOrEqual(4 + 3)
    expect(summary.steps.pending).toBeGreaterThan(0)
    await expectCompletedOrStoppedCleanly(world, cli.lines, code)

    const shown = await admin.run(['migrations', 'show', summary.migrationId, '--json'])
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'paused', pausedBy: 'failure-threshold', runner: null })
  }, 120_000)
})
