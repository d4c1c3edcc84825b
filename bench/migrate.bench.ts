// The migration runner's own pace: 10,000 small apps (one in ten stopped) moved to Diego with no rate limit
// and 200 in flight, against the embedded foundation at its fastest speed (`cfctl server --speed 10000`, its
// own process, as an operator would run it), by the runner in this process through the same service as
// `cfctl migrate` (operation.ts: prepare, record, runnerFor): the real CcClient over HTTP, the FoundationPort,
// the RouteProbe through the router, and the SQLite journal in a file, grouping its commits as the CLI's
// does. Every started app is verified as `cfctl migrate` verifies it (every instance RUNNING on Diego, its
// route answering).
//   migrate.apps_per_sec   apps settled a second, from run() to the migration completed (planning excluded),
//                          the median of BENCH_MIGRATE_RUNS (3) runs, each on a fresh server (so is the
//                          PostgreSQL figure, migrate.apps_per_sec_pg, that journal-pg.bench.ts measures)
// BENCH_MIGRATE_APPS, BENCH_MIGRATE_IN_FLIGHT, BENCH_MIGRATE_SPEED and BENCH_MIGRATE_CONTEXT_SPEED change the
// setting for a look around; BENCH_MIGRATE_PROFILE=DIR writes CPU profiles of this process (the runner) and
// of the server of the first run into DIR.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { Session as InspectorSession } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RealClock } from '../src/clock.js'
import { memorySession } from '../src/core/auth/session.js'
import { CcClient } from '../src/core/cc/index.js'
import { RouteProbe } from '../src/core/cc/route-probe.js'
import { Journal } from '../src/core/journal/journal.js'
import {
  type MigrateOptions,
  prepareMigration,
  RUNNER_CC_CONNECTIONS,
  RUNNER_JOURNAL_COMMIT_DELAY_MS,
  recordMigration,
  runnerFor,
} from '../src/core/migration/operation.js'
import { median, percentile, type Results } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const APPS = Number(process.env.BENCH_MIGRATE_APPS ?? 10_000)
const IN_FLIGHT = Number(process.env.BENCH_MIGRATE_IN_FLIGHT ?? 200)
/** `cfctl server --speed` takes at most 10,000. */
const SPEED = Number(process.env.BENCH_MIGRATE_SPEED ?? 10_000)
const RUNS = Number(process.env.BENCH_MIGRATE_RUNS ?? 3)
/**
 * One more run, at a speed where the foundation's own loops leave its process room to serve the API: at
 * 10,000x on 10,000 apps the health manager and the converger are due every millisecond or so and take a
 * core between them, so the figure above is mostly theirs. 0 leaves it out.
 */
const CONTEXT_SPEED = Number(process.env.BENCH_MIGRATE_CONTEXT_SPEED ?? 100)
const PROFILE_DIR = process.env.BENCH_MIGRATE_PROFILE
const GOAL = 500

interface Run {
  appsPerSec: number
  seconds: number
  planSeconds: number
  started: number
  stepP50Ms: number
  stepP90Ms: number
  gaps: number
}

export default async function migrateBench(results: Results): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-bench-migrate-'))
  const seed = writeSeed(dir, APPS)
  const runs: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    const run = await migrateOnce(dir, seed, SPEED, i)
    if (typeof run === 'string') {
      results.skip('migrate.apps_per_sec', run)
      return
    }
    runs.push(run)
  }
  const context = CONTEXT_SPEED > 0 ? await migrateOnce(dir, seed, CONTEXT_SPEED, RUNS) : undefined
  const best = runs.map((r) => r.appsPerSec)
  const mid = runs.find((r) => r.appsPerSec === median(best)) ?? runs[0]!
  const contextNote =
    context === undefined
      ? ''
      : typeof context === 'string'
        ? `; at --speed ${CONTEXT_SPEED}: ${context}`
        : `; one run at --speed ${CONTEXT_SPEED}: ${context.appsPerSec.toFixed(0)} apps/s, step p50 ${context.stepP50Ms} ms`
  results.record(
    'migrate.apps_per_sec',
    median(best),
    'apps/s',
    `median of ${RUNS} runs (${best.map((v) => v.toFixed(0)).join('/')}): ${APPS.toLocaleString('en')} apps (${mid.started.toLocaleString('en')} started, each verified running on Diego with its route answering) in ${mid.seconds.toFixed(1)} s, no rate limit, ${IN_FLIGHT} in flight, step p50 ${mid.stepP50Ms} ms p90 ${mid.stepP90Ms} ms, ${mid.gaps} gaps; runner in-process (CcClient, FoundationPort, RouteProbe, SQLite journal, as cfctl migrate builds them) against \`cfctl server --speed ${SPEED}\` in its own process; planning (${mid.planSeconds.toFixed(1)} s) not counted${contextNote}; goal >= ${GOAL}`,
  )
}

/**
 * migrate.apps_per_sec_pg (journal-pg.bench.ts): as above, the journal on PostgreSQL at the location
 * `journalAt` gives (a fresh one a run), the median of BENCH_MIGRATE_RUNS runs.
 */
export async function migrateOnPostgres(results: Results, journalAt: () => Promise<string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-bench-migrate-pg-'))
  const seed = writeSeed(dir, APPS)
  const runs: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    const run = await migrateOnce(dir, seed, SPEED, i + 1, await journalAt(), i === 0 ? PROFILE_DIR : undefined)
    if (typeof run === 'string') {
      results.skip('migrate.apps_per_sec_pg', run)
      return
    }
    runs.push(run)
  }
  const each = runs.map((r) => r.appsPerSec)
  const mid = runs.find((r) => r.appsPerSec === median(each)) ?? runs[0]!
  results.record(
    'migrate.apps_per_sec_pg',
    median(each),
    'apps/s',
    `median of ${RUNS} runs (${each.map((v) => v.toFixed(0)).join('/')}): ${APPS.toLocaleString('en')} apps (${mid.started.toLocaleString('en')} started, each verified) in ${mid.seconds.toFixed(1)} s, no rate limit, ${IN_FLIGHT} in flight, step p50 ${mid.stepP50Ms} ms; as migrate.apps_per_sec with the PostgreSQL journal (loopback, fsync on) grouping its commits as the CLI's does; goal >= ${GOAL}`,
  )
}

/** One migration of the whole seed on a fresh server; apps/s, or why it did not complete. */
async function migrateOnce(
  dir: string,
  seed: string,
  speed: number,
  index: number,
  journalLocation = join(dir, `journal-${index}.db`),
  profileDir = index === 0 ? PROFILE_DIR : undefined,
): Promise<Run | string> {
  const server = await startServer(seed, speed, profileDir)
  const clock = new RealClock()
  const journal = Journal.open(journalLocation, {
    clock,
    commitDelayMs: RUNNER_JOURNAL_COMMIT_DELAY_MS,
  })
  const session = memorySession({
    api: server.apiUrl,
    tokenEndpoint: server.apiUrl,
    skipSslValidation: false,
    routerUrl: server.routerUrl,
  })
  const client = new CcClient({ apiUrl: server.apiUrl, auth: session, connections: RUNNER_CC_CONNECTIONS })
  const probe = new RouteProbe({ routerUrl: server.routerUrl })
  try {
    await session.login({ type: 'password', username: 'admin', password: 'admin' })
    const options: MigrateOptions = { to: 'diego', rate: null, maxInFlight: IN_FLIGHT }
    const planStarted = performance.now()
    const prepared = await prepareMigration(client, options)
    const planSeconds = (performance.now() - planStarted) / 1000
    if (prepared.plan.steps.length !== APPS) return `planned ${prepared.plan.steps.length} apps, not ${APPS}`
    const migration = recordMigration(journal, server.apiUrl, prepared, options)
    const runner = runnerFor({ journal, client, probe, clock, pauseFile: null, unattended: true }, migration.id)

    const profiler = profileDir ? await startProfile() : undefined
    const started = performance.now()
    const outcome = await runner.run()
    const seconds = (performance.now() - started) / 1000
    if (profiler) await profiler.stop(join(profileDir!, 'runner.cpuprofile'))

    if (outcome.state !== 'completed' || outcome.steps.done !== APPS) {
      const why = outcome.failures[0]?.error ?? outcome.state
      return `the migration at --speed ${speed} did not complete (${outcome.steps.done} of ${APPS} done): ${why}`
    }
    const stepMs = journal.events(migration.id).flatMap((e) => (e.type === 'step-verified' && e.ms > 0 ? [e.ms] : []))
    const run: Run = {
      appsPerSec: APPS / seconds,
      seconds,
      planSeconds,
      started: prepared.plan.totals.started,
      stepP50Ms: percentile(stepMs, 50),
      stepP90Ms: percentile(stepMs, 90),
      gaps: outcome.gaps.length,
    }
    process.stdout.write(
      `    --speed ${speed}: ${run.appsPerSec.toFixed(1)} apps/s in ${seconds.toFixed(1)} s, step p50 ${run.stepP50Ms} ms p90 ${run.stepP90Ms} ms\n`,
    )
    return run
  } finally {
    await client.close().catch(() => {})
    await probe.close().catch(() => {})
    journal.close()
    await server.stop()
  }
}

/** 10,000 apps of one instance and 64 MB in spaces of 100, one in ten STOPPED, every one on the DEA. */
function writeSeed(dir: string, apps: number): string {
  const spaces: { name: string; apps: unknown[] }[] = []
  for (let i = 0; i < apps; i++) {
    const s = Math.floor(i / 100)
    spaces[s] ??= { name: `space-${s + 1}`, apps: [] }
    spaces[s]!.apps.push({
      name: `app-${String(i).padStart(5, '0')}`,
      instances: 1,
      memory: 64,
      disk_quota: 128,
      state: i % 10 === 9 ? 'STOPPED' : 'STARTED',
    })
  }
  const path = join(dir, 'seed.json')
  writeFileSync(path, JSON.stringify({ orgs: [{ name: 'bench', spaces }] }))
  return path
}

interface Server {
  apiUrl: string
  routerUrl: string
  stop(): Promise<void>
}

/** `cfctl server` as its own process; resolves once it prints where it listens. */
function startServer(seed: string, speed: number, profileDir: string | undefined): Promise<Server> {
  const nodeArgs = profileDir
    ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', 'server.cpuprofile']
    : []
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(root, 'bin', 'dev.js'), 'server', '--seed', seed, '--speed', String(speed)],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk
    })
    child.on('error', reject)
    child.once('close', (code) => reject(new Error(`cfctl server exited ${code} before it listened: ${err.trim()}`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk
      const api = /^API:\s+(\S+)/m.exec(out)?.[1]
      const router = /^Router:\s+(\S+)/m.exec(out)?.[1]
      if (!api || !router) return
      resolve({
        apiUrl: api,
        routerUrl: router,
        stop: async () => {
          child.kill('SIGINT')
          await exited
        },
      })
    })
  })
}

/** A CPU profile of this process, through the inspector (node --cpu-prof would only write it at exit). */
async function startProfile(): Promise<{ stop(path: string): Promise<void> }> {
  const inspector = new InspectorSession()
  inspector.connect()
  await inspector.post('Profiler.enable')
  await inspector.post('Profiler.start')
  return {
    async stop(path) {
      const { profile } = await inspector.post('Profiler.stop')
      writeFileSync(path, JSON.stringify(profile))
      inspector.disconnect()
    },
  }
}
