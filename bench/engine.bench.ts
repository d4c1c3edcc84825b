import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppSpec } from '../src/scheduler/backend.js'
import { FakeClock } from '../src/scheduler/clock.js'
import {
  Bbs,
  type CellSpec,
  type ConvergeConfig,
  converge,
  DEFAULT_RESTART_POLICY,
  Diego,
  desiredLrpFrom,
  validateCellSpec,
} from '../src/scheduler/diego/index.js'
import { mulberry32 } from '../src/scheduler/random.js'
import { RouteTable } from '../src/scheduler/routes.js'
import { apiUrlOf, cannotMeasureRss, cfctlTree, rssMb, startCfctl, stop } from './cfctl-process.js'
import { adminToken, gc, median, type Results, round, timeMs } from './lib.js'

const CELLS = 1_000
const ZONES = 3
const INSTANCES = 250_000
/** Start requests per auction batch. */
const BATCH = 5_000
const NOW = Date.UTC(2026, 0, 1)

/** Cells as Diego deploys them by default: 250 containers each, spread over three zones. */
function cellSpecs(): CellSpec[] {
  return Array.from({ length: CELLS }, (_, c) => ({
    id: `cell-${String(c).padStart(4, '0')}`,
    zone: `z${c % ZONES}`,
    memoryMb: 131_072,
    diskMb: 524_288,
    containers: 250,
  }))
}

/** A fleet of about 24,000 apps of mixed sizes and instance counts, 250,000 instances in all. */
function fleet(): AppSpec[] {
  const random = mulberry32(250_000)
  const counts = [1, 2, 2, 3, 4, 5, 8, 10, 20, 50]
  const memories = [128, 256, 256, 512, 512, 1024]
  const disks = [512, 1024, 1024, 2048]
  const apps: AppSpec[] = []
  let total = 0
  for (let a = 0; total < INSTANCES; a++) {
    const appGuid = `app-${a.toString(16).padStart(8, '0')}`
    const instances = Math.min(counts[Math.floor(random() * counts.length)]!, INSTANCES - total)
    total += instances
    apps.push({
      appGuid,
      name: appGuid,
      version: 'v1',
      instances,
      memoryMb: memories[Math.floor(random() * memories.length)]!,
      diskMb: disks[Math.floor(random() * disks.length)]!,
      stack: 'cflinuxfs4',
      routes: [`${appGuid}.apps.internal`],
    })
  }
  return apps
}

interface Placement {
  diego: Diego
  clock: FakeClock
  apps: AppSpec[]
  auctionMs: number
  batches: number
  placed: number
  failed: number
}

/**
 * The CC desires every app; each time BATCH start requests are queued the auctioneer runs one batch. Only the
 * batches are timed: each reads its requests from the BBS, runs the auction over the cells' current state,
 * claims the winners in the BBS and hands them to the reps to boot.
 */
async function placeFleet(apps: AppSpec[]): Promise<Placement> {
  const clock = new FakeClock(NOW)
  const wanted = new Map(apps.map((a) => [a.appGuid, a]))
  const diego = new Diego({
    clock,
    routes: new RouteTable(),
    cells: cellSpecs(),
    source: { desiredApps: (backend) => (backend === 'diego' ? wanted.values() : []) },
  })
  let auctionMs = 0
  let batches = 0
  let placed = 0
  let failed = 0
  const batch = async () => {
    auctionMs += await timeMs(() => {
      const report = diego.auctionNow()
      placed += report.lrpsPlaced
      failed += report.lrpsFailed
    })
    batches++
  }
  for (const spec of apps) {
    diego.desire(spec)
    if (diego.queuedAuctions >= BATCH) await batch()
  }
  if (diego.queuedAuctions > 0) await batch()
  return { diego, clock, apps, auctionMs, batches, placed, failed }
}

async function placement(results: Results): Promise<void> {
  const apps = fleet()
  await placeFleet(apps.slice(0, 2_000)).then((p) => p.diego.shutdown()) // warm up the JIT
  const totals: number[] = []
  let batches = 0
  for (let i = 0; i < 5; i++) {
    gc()
    // Only the figures outlive the run, so each run starts from an empty heap.
    const run = await placeFleet(apps)
    run.diego.shutdown()
    if (run.placed !== INSTANCES) {
      throw new Error(`placed ${run.placed} of ${INSTANCES} instances (${run.failed} failed): the fleet should fit`)
    }
    totals.push(run.auctionMs)
    batches = run.batches
  }
  const total = median(totals)
  results.record(
    'engine.place_us_per_instance',
    (total * 1000) / INSTANCES,
    'us',
    `${INSTANCES.toLocaleString('en')} instances of ${apps.length.toLocaleString('en')} apps on ${CELLS.toLocaleString('en')} cells in ${ZONES} zones, ` +
      `${batches} auction batches of ${BATCH.toLocaleString('en')}; total ${round(total)} ms, median of ${totals.length} ` +
      `(${totals.map((t) => Math.round(t)).join(', ')} ms)`,
  )
}

const CONVERGE_CONFIG: ConvergeConfig = {
  staleUnclaimedMs: 30_000,
  kickPendingTaskMs: 30_000,
  expireCompletedTaskMs: 120_000,
  restart: DEFAULT_RESTART_POLICY,
}

interface ConvergeFixture {
  bbs: Bbs
  actual: number
  missing: number
  extra: number
}

/**
 * 25,000 DesiredLRPs of 10 instances, RUNNING on 1,000 cells, written straight into a BBS: 1% of the desired
 * indexes have no record, and 1% of the records are past their DesiredLRP's count. That leaves 250,000 records.
 */
function convergeFixture(bbs = new Bbs()): ConvergeFixture {
  const random = mulberry32(30_000)
  const specs = cellSpecs()
  for (const spec of specs) bbs.addCell(validateCellSpec(spec, 5_000))
  const cells = specs.map((s) => bbs.cell(s.id)!)
  const perApp = 10
  const lrps = INSTANCES / perApp
  const target = INSTANCES / 100
  let missing = 0
  let extra = 0
  let actual = 0
  let next = 0
  const put = (processGuid: string, index: number) => {
    const lrp = bbs.createUnclaimed(processGuid, index, NOW - 60_000)
    bbs.claim(lrp, cells[next++ % cells.length]!, NOW - 60_000)
    bbs.start(lrp, NOW - 55_000)
    actual++
  }
  for (let a = 0; a < lrps; a++) {
    const appGuid = `app-${a.toString(16).padStart(8, '0')}`
    const desired = desiredLrpFrom({
      appGuid,
      name: appGuid,
      version: 'v1',
      instances: perApp,
      memoryMb: 256,
      diskMb: 1024,
      stack: 'cflinuxfs4',
      routes: [`${appGuid}.apps.internal`],
    })
    bbs.desireLrp(desired)
    // Spread the faults over the fleet, exactly 1% of each, so every run does the same work.
    const left = lrps - a
    const hasMissing = random() < (target - missing) / left
    const hasExtra = random() < (target - extra) / left
    const missingIndex = hasMissing ? Math.floor(random() * perApp) : -1
    for (let index = 0; index < perApp; index++) if (index !== missingIndex) put(desired.processGuid, index)
    if (hasMissing) missing++
    if (hasExtra) {
      put(desired.processGuid, perApp)
      extra++
    }
  }
  return { bbs, actual, missing, extra }
}

async function convergence(results: Results): Promise<void> {
  const f = convergeFixture()
  if (f.actual !== INSTANCES || f.missing !== INSTANCES / 100 || f.extra !== INSTANCES / 100) {
    throw new Error(`converge fixture: ${f.actual} records, ${f.missing} missing, ${f.extra} extra`)
  }
  let found = ''
  const check = () => {
    const actions = converge(f.bbs, NOW, CONVERGE_CONFIG)
    found = `${actions.startMissing.length} starts, ${actions.retire.length} stops`
    if (actions.startMissing.length !== f.missing || actions.retire.length !== f.extra) {
      throw new Error(`converge found ${found}, expected ${f.missing} and ${f.extra}`)
    }
  }
  for (let i = 0; i < 5; i++) check() // warm up the JIT
  const times: number[] = []
  for (let i = 0; i < 21; i++) {
    gc()
    times.push(await timeMs(check))
  }
  const wholes: number[] = []
  for (let i = 0; i < 5; i++) wholes.push(await wholeConvergerPass())
  const whole = median(wholes)
  results.record(
    'engine.converge_pass_ms',
    median(times),
    'ms',
    `pure converge(), median of 21, over ${f.actual.toLocaleString('en')} ActualLRPs of ${(INSTANCES / 10).toLocaleString('en')} DesiredLRPs ` +
      `on ${CELLS.toLocaleString('en')} cells: ${found} (${round((median(times) * 1000) / f.actual)} us per ActualLRP); ` +
      `whole converger pass through Diego (CC sync of 25,000 apps, converge, apply), median of ${wholes.length}: ${round(whole)} ms`,
  )
}

/** The same state inside a Diego engine: one pass of its converger, syncing desired state from the CC and applying. */
async function wholeConvergerPass(): Promise<number> {
  const clock = new FakeClock(NOW)
  const wanted: AppSpec[] = []
  const diego = new Diego({
    clock,
    routes: new RouteTable(),
    cells: [],
    source: { desiredApps: (backend) => (backend === 'diego' ? wanted : []) },
  })
  convergeFixture(diego.bbs)
  for (const desired of diego.bbs.desiredLrps()) {
    wanted.push({
      appGuid: desired.appGuid,
      name: desired.appGuid,
      version: desired.version,
      instances: desired.instances,
      memoryMb: desired.memoryMb,
      diskMb: desired.diskMb,
      stack: desired.rootfs,
      routes: [...desired.routes],
    })
  }
  gc()
  const ms = await timeMs(() => {
    const pass = diego.convergeNow()
    if (pass.actions.startMissing.length !== INSTANCES / 100 || pass.actions.retire.length !== INSTANCES / 100) {
      throw new Error('the whole pass did not find the 1% missing and 1% extra')
    }
  })
  diego.shutdown()
  return ms
}

/**
 * A seed file (the `--seed FILE` format of `cfctl server`) holding the fleet: every app STARTED on Diego,
 * 25 apps to a space, 20 spaces to an org. `cfctl server --seed FILE` sizes its cells for it and places every
 * instance before its API answers.
 */
function fleetSeedFile(apps: AppSpec[], path: string): void {
  const orgs: { name: string; spaces: { name: string; apps: object[] }[] }[] = []
  const perSpace = 25
  for (let a = 0; a < apps.length; a += perSpace) {
    const space = a / perSpace
    const org = Math.floor(space / 20)
    orgs[org] ??= { name: `org-${org}`, spaces: [] }
    orgs[org].spaces.push({
      name: `space-${space % 20}`,
      apps: apps.slice(a, a + perSpace).map((app) => ({
        name: app.name,
        instances: app.instances,
        memory: app.memoryMb,
        disk_quota: app.diskMb,
        state: 'STARTED',
        diego: true,
      })),
    })
  }
  writeFileSync(path, JSON.stringify({ orgs }))
}

interface Held {
  /** RSS of the process that holds the foundation (bin/run.js's child when it relaunched), MB. */
  rss: number
  /** RSS of the launcher, when it is another process, MB. */
  launcherRss: number | undefined
  bootMs: number
  placed: number
}

/**
 * `cfctl server --seed FILE` as a user starts it; once its API answers, every instance is placed (checked over
 * `/v2/x-cfctl/backends`), and once a sample of apps reports every instance RUNNING (the cells' boot delay) and
 * a few seconds more have passed, the RSS of the process holding the foundation.
 */
async function holdFleet(seedFile: string, env: NodeJS.ProcessEnv): Promise<Held> {
  const started = performance.now()
  const child = startCfctl(['server', '--seed', seedFile], env)
  try {
    const api = await apiUrlOf(child)
    const bootMs = performance.now() - started
    const tree = await cfctlTree(child.pid!)
    const headers = { authorization: `bearer ${await adminToken({ apiUrl: api, users: { admin: ADMIN } })}` }
    const backends = (await (await fetch(`${api}/v2/x-cfctl/backends`, { headers })).json()) as {
      diego: { containers: { used: number } }
    }
    const placed = backends.diego.containers.used
    if (placed !== INSTANCES) throw new Error(`cfctl server placed ${placed} of ${INSTANCES} instances on Diego`)
    await untilSampleRunning(api, headers)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const rss = rssMb(tree.worker)
    if (rss === undefined) throw new Error('cfctl server ended before its RSS was read')
    return { rss, launcherRss: tree.relaunched ? rssMb(tree.launcher) : undefined, bootMs, placed }
  } finally {
    await stop(child)
  }
}

const ADMIN = { username: 'admin', password: 'admin' }
/** After every sampled instance runs: the process settles (a converger pass, the GC) before it is read. */
const SETTLE_MS = 5_000

/** Waits until every instance of the first page of apps is RUNNING. */
async function untilSampleRunning(api: string, headers: Record<string, string>): Promise<void> {
  const page = (await (await fetch(`${api}/v2/apps?results-per-page=20`, { headers })).json()) as {
    resources: { metadata: { guid: string } }[]
  }
  const until = performance.now() + 60_000
  for (const app of page.resources) {
    for (;;) {
      const instances = (await (
        await fetch(`${api}/v2/apps/${app.metadata.guid}/instances`, { headers })
      ).json()) as Record<string, { state: string }>
      if (Object.values(instances).every((i) => i.state === 'RUNNING')) break
      if (performance.now() > until) throw new Error(`app ${app.metadata.guid} was not RUNNING within 60 s`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

export async function residentSet(results: Results): Promise<void> {
  const why = cannotMeasureRss()
  if (why) return results.skip('engine.rss_mb_250k', why)
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-bench-engine-'))
  try {
    const seedFile = join(dir, 'fleet-250k.json')
    const apps = fleet()
    fleetSeedFile(apps, seedFile)
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, CFCTL_HOME: join(dir, '.cfctl'), NO_COLOR: '1' }
    const runs: Held[] = []
    for (let i = 0; i < 3; i++) runs.push(await holdFleet(seedFile, env))
    const launcher = runs.map((r) => r.launcherRss).filter((r) => r !== undefined)
    results.record(
      'engine.rss_mb_250k',
      median(runs.map((r) => r.rss)),
      'MB',
      `VmRSS of the process holding the foundation of \`node bin/run.js server --seed FILE\` (a seed file of ` +
        `${apps.length.toLocaleString('en')} apps STARTED on Diego, ${INSTANCES.toLocaleString('en')} instances, all placed and RUNNING, ` +
        `with the CC store, the cells and DEAs it sizes, routes registered), ${SETTLE_MS / 1000} s after a sample runs; ` +
        (launcher.length > 0
          ? `that process is the child Node bin/run.js starts with its heap flags (bin/heap-flags.js); the launcher itself ${round(median(launcher))} MB besides; `
          : 'bin/run.js ran it in its own process; ') +
        `median of ${runs.length} (${runs.map((r) => round(r.rss)).join(', ')} MB); API up after ${round(median(runs.map((r) => r.bootMs)))} ms`,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export default async function engineBench(results: Results): Promise<void> {
  await placement(results)
  gc()
  await convergence(results)
  gc()
  await residentSet(results)
}
