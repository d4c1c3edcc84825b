// The Diego engine at the size Diego's own BBS was benchmarked at: 1,000 cells and 250,000 ActualLRPs.
//   engine.place_us_per_instance  the auctioneer placing 250,000 instances in batches (auction + BBS claims + rep boots)
//   engine.converge_pass_ms       the pure converge() over 250,000 ActualLRPs with 1% missing and 1% extra
//   engine.rss_mb_250k            RSS of a separate process whose Diego holds 250,000 RUNNING ActualLRPs
// The RSS child is this same file run with `--hold-250k`, so that what the other benches allocated does not count.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { getHeapSpaceStatistics } from 'node:v8'
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
import { gc, median, type Results, round, timeMs } from './lib.js'

const CELLS = 1_000
const ZONES = 3
const INSTANCES = 250_000
/** Start requests per auction batch. */
const BATCH = 5_000
const NOW = Date.UTC(2026, 0, 1)
const HOLD_FLAG = '--hold-250k'

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

/** Runs in the child: a Diego holding 250,000 RUNNING ActualLRPs (routes registered), then its RSS in MB. */
async function holdFleet(): Promise<void> {
  const baseline = process.memoryUsage().rss
  const placement = await placeFleet(fleet())
  if (placement.placed !== INSTANCES) throw new Error(`placed only ${placement.placed}`)
  await placement.clock.advance(5_000) // every instance boots: CLAIMED -> RUNNING, routes registered
  const running = placement.diego.bbs.count('RUNNING')
  if (running !== INSTANCES) throw new Error(`only ${running} RUNNING`)
  gc()
  gc()
  const usage = process.memoryUsage()
  const youngGeneration = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
  // For the note only: what is left once V8 is made to hand back what it can, its young generation above all.
  ;(globalThis as { gc?: (options: object) => void }).gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  const squeezed = process.memoryUsage().rss
  const held: Held = { rss: usage.rss, heapUsed: usage.heapUsed, baseline, running, youngGeneration, squeezed }
  process.stdout.write(`${JSON.stringify(held)}\n`)
  // Keep the engine reachable until after the measurement.
  placement.diego.shutdown()
}

interface Held {
  rss: number
  heapUsed: number
  baseline: number
  running: number
  youngGeneration: number
  squeezed: number
}

/**
 * This file bundled to plain JavaScript, so the child runs as the product does (compiled, no TypeScript
 * loader in memory: tsx alone adds 20 to 30 MB of RSS to a process that has done nothing yet).
 */
async function bundledSelf(): Promise<string> {
  const { build } = await import('esbuild')
  const outfile = join(mkdtempSync(join(tmpdir(), 'cfctl-bench-')), 'engine-hold.mjs')
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    logLevel: 'error',
  })
  return outfile
}

function holdInChild(script: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, HOLD_FLAG], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`RSS child exited with ${code}: ${err.trim()}`))
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Held)
    })
  })
}

async function residentSet(results: Results): Promise<void> {
  const script = await bundledSelf()
  const runs: Held[] = []
  for (let i = 0; i < 3; i++) runs.push(await holdInChild(script))
  const mb = (bytes: number) => bytes / 1_048_576
  const rss = median(runs.map((r) => mb(r.rss)))
  results.record(
    'engine.rss_mb_250k',
    rss,
    'MB',
    `child process (plain node, this file bundled by esbuild) with a Diego engine holding ${runs[0]!.running.toLocaleString('en')} RUNNING ActualLRPs on ` +
      `${CELLS.toLocaleString('en')} cells, routes registered, after a full GC; median of ${runs.length}; ` +
      `heap used ${round(median(runs.map((r) => mb(r.heapUsed))))} MB, V8 young generation ${round(median(runs.map((r) => mb(r.youngGeneration))))} MB, ` +
      `RSS before building ${round(median(runs.map((r) => mb(r.baseline))))} MB, ` +
      `RSS after a last-resort GC hands the young generation back ${round(median(runs.map((r) => mb(r.squeezed))))} MB`,
  )
}

export default async function engineBench(results: Results): Promise<void> {
  await placement(results)
  gc()
  await convergence(results)
  gc()
  await residentSet(results)
}

if (process.argv.includes(HOLD_FLAG) && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await holdFleet()
}
