// DEA health manager: one HM9000-style analysis pass over 100,000 instances (engine.hm_pass_ms),
// 25,000 apps x 4 instances on 500 DEAs, with a few percent missing, extra, crashed, duplicated, an
// evacuating DEA and a DEA whose heartbeats stopped. The note adds a whole pass through the real
// DeaPool (desired-state read, analysis, sending) on a foundation of the same size, for context.
import type { AppSpec, DesiredStateSource } from '../src/scheduler/backend.js'
import { FakeClock } from '../src/scheduler/clock.js'
import {
  AppKeys,
  analyze,
  type CrashCount,
  DEFAULT_HEALTH_CONFIG,
  type DeaHeartbeat,
  DeaPool,
  type DesiredApp,
  desiredState,
  type HealthView,
  type InstanceHeartbeat,
  seededRandom,
} from '../src/scheduler/dea/index.js'
import { RouteTable } from '../src/scheduler/routes.js'
import { gc, median, type Results, timeMs } from './lib.js'

const APPS = 25_000
const INSTANCES = 4
const DEAS = 500
const NOW = Date.UTC(2026, 0, 1)

interface Fixture {
  desired: ReturnType<typeof desiredState>
  view: HealthView
  instances: number
}

function fixture(): Fixture {
  const random = seededRandom(2016)
  const apps: DesiredApp[] = []
  const lists: InstanceHeartbeat[][] = Array.from({ length: DEAS }, () => [])
  const crashCounts = new Map<string, CrashCount[]>()
  let instances = 0
  let seq = 0
  // Keys as the pool stamps them: on every instance it admits and every app it is asked to run.
  const keys = new AppKeys()
  const put = (inst: Omit<InstanceHeartbeat, 'instanceGuid' | 'appKey'>) => {
    lists[Math.floor(random() * DEAS)]!.push({ instanceGuid: `i-${++seq}`, appKey: keys.keyOf(inst.appGuid), ...inst })
    instances++
  }
  for (let a = 0; a < APPS; a++) {
    const appGuid = `app-${a.toString(16).padStart(8, '0')}`
    // 1% of the apps have been flipped to Diego: every instance is extra.
    const desiredHere = random() >= 0.01
    if (desiredHere) {
      apps.push({
        appGuid,
        appKey: keys.keyOf(appGuid),
        version: 'v1',
        instances: INSTANCES,
        desiredAt: NOW - 3_600_000,
      })
    }
    for (let index = 0; index < INSTANCES; index++) {
      const roll = random()
      if (roll < 0.02) continue // missing
      if (roll < 0.04) {
        put({ appGuid, version: 'v1', index, state: 'CRASHED', since: NOW - 20_000 })
        const list = crashCounts.get(appGuid) ?? []
        list.push({
          version: 'v1',
          index,
          count: 1 + Math.floor(random() * 6),
          firstCrashAt: NOW - 99_000,
          lastCrashAt: NOW - 20_000,
        })
        crashCounts.set(appGuid, list)
        continue
      }
      put({ appGuid, version: 'v1', index, state: roll < 0.06 ? 'STARTING' : 'RUNNING', since: NOW - 60_000 })
      if (roll > 0.995) put({ appGuid, version: 'v1', index, state: 'RUNNING', since: NOW - 60_000 }) // duplicate
    }
    if (random() < 0.02) put({ appGuid, version: 'v1', index: INSTANCES, state: 'RUNNING', since: NOW - 60_000 }) // scaled down
    if (random() < 0.01) put({ appGuid, version: 'v0', index: 0, state: 'RUNNING', since: NOW - 60_000 }) // old version
  }
  const heartbeats: DeaHeartbeat[] = lists.map((list, d) => ({
    deaId: `dea-${d}`,
    at: d === 0 ? NOW - 45_000 : NOW - 2_000, // dea-0 stopped heartbeating
    evacuating: d === 1,
    instances: list,
  }))
  return {
    desired: desiredState(apps),
    view: { heartbeats, crashCounts, pendingStarts: new Map(), pendingStops: new Map() },
    instances,
  }
}

async function analysisPass(results: Results): Promise<void> {
  const f = fixture()
  let orders = 0
  for (let i = 0; i < 5; i++) analyze(f.desired, f.view, NOW, DEFAULT_HEALTH_CONFIG) // warm up the JIT and scratch
  const times: number[] = []
  for (let i = 0; i < 21; i++) {
    gc()
    times.push(
      await timeMs(() => {
        const a = analyze(f.desired, f.view, NOW, DEFAULT_HEALTH_CONFIG)
        orders = a.starts.length + a.stops.length
      }),
    )
  }
  const full = await fullPass()
  results.record(
    'engine.hm_pass_ms',
    median(times),
    'ms',
    `analysis, median of 21: ${f.instances.toLocaleString('en')} heartbeat instances of ${APPS.toLocaleString('en')} apps on ${DEAS} DEAs, ${orders.toLocaleString('en')} orders; ` +
      `whole DeaPool pass (read 25k desired apps, analyse, send): ${full.first.toFixed(1)} ms with 1% flipped + 1 lost DEA, ${full.steady.toFixed(1)} ms steady`,
  )
}

/** A whole pass through the real pool: desired-state read, analysis, sending the due orders. */
async function fullPass(): Promise<{ first: number; steady: number }> {
  const clock = new FakeClock(NOW)
  const specs = new Map<string, AppSpec>()
  const source: DesiredStateSource = { desiredApps: (backend) => (backend === 'dea' ? specs.values() : []) }
  const deas = Array.from({ length: DEAS }, (_, d) => ({
    id: `dea-${d}`,
    zone: `z${d % 3}`,
    memoryMb: 262_144,
    diskMb: 1_048_576,
  }))
  const pool = new DeaPool({ clock, source, routes: new RouteTable(), deas, defaultBootMs: 1_000 })
  for (let a = 0; a < APPS; a++) {
    const spec: AppSpec = {
      appGuid: `app-${a}`,
      name: `app-${a}`,
      version: 'v1',
      instances: INSTANCES,
      memoryMb: 256,
      diskMb: 1024,
      stack: 'cflinuxfs2',
      routes: [`app-${a}.apps.internal`],
    }
    specs.set(spec.appGuid, spec)
    pool.desire(spec)
  }
  pool.start()
  await clock.advance(10_000)
  for (let a = 0; a < APPS; a += 100) specs.delete(`app-${a}`) // flipped to Diego
  pool.loseDea('dea-7')
  await clock.advance(40_000 - 1) // the lost DEA's heartbeat has expired by the next pass
  gc()
  const first = await timeMs(() => pool.runHealthPass())
  const steady: number[] = []
  for (let i = 0; i < 5; i++) {
    gc()
    steady.push(await timeMs(() => pool.runHealthPass()))
  }
  pool.shutdown()
  return { first, steady: median(steady) }
}

export default async function deaBench(results: Results): Promise<void> {
  await analysisPass(results)
}
