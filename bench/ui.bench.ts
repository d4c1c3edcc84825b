// The dashboard with the large seed: a real Foundation (about 50,000 apps) in this process, a planned
// migration of the whole fleet in a journal file, and `runDashboard` in a child process (this file bundled by
// esbuild and run by plain node, as the product runs: no TypeScript loader in its memory) drawing on a
// stand-in 120×40 terminal, polling the apps over HTTP every few seconds as `cfctl dashboard` does.
//   ui.rss_mb_large   the child's peak RSS, sampled every 50 ms from start to quit (median of the runs)
//   ui.frame_ms_p95   per key: from the key arriving on stdin to its frame written to the terminal (React,
//                     the table's filter and sort over 50,000 rows, ink's layout and output), p95 over a mix
//                     of moves, pages, filter typing, sorts and view changes (median of the runs)
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { FakeKeyboard } from '../test/ui/dashboard/fake-keyboard.js'
import { median, percentile, type Results, round } from './lib.js'

const CHILD_FLAG = '--ui-dashboard-child'
const RUNS = Number(process.env.UI_BENCH_RUNS ?? 3)
/** Keys are spaced wider than ink's frame throttle (100 ms), so each key's frame is drawn when it comes. */
const KEY_SPACING_MS = 130
/** ink's frame throttle at the dashboard's 10 frames a second, and a little. */
const FRAME_SLOT_MS = 105

interface ChildResult {
  apps: number
  loadMs: number
  peakRssMb: number
  loadedRssMb: number
  endRssMb: number
  frames: Array<{ kind: string; ms: number }>
  missed: number
  /** Polls of the apps drawn while the peak was sampled. */
  polls: number
}

export default async function uiBench(results: Results): Promise<void> {
  const { Foundation } = await import('../src/scheduler/foundation.js')
  const bootStarted = performance.now()
  const foundation = await Foundation.start({ seed: 'large', speed: 1, log: () => {} })
  const bootMs = performance.now() - bootStarted
  try {
    await measureDashboard(
      results,
      foundation.apiUrl,
      foundation.users.admin,
      `booted in ${(bootMs / 1000).toFixed(1)} s`,
    )
  } finally {
    await foundation.stop()
  }
}

/** Runs the dashboard children against a foundation that serves the large seed, and records both figures. */
export async function measureDashboard(
  results: Results,
  apiUrl: string,
  admin: { username: string; password: string },
  boot: string,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-ui-bench-'))
  try {
    const journalPath = join(dir, 'journal.db')
    const planned = await planWholeFleet(apiUrl, admin, journalPath)
    const script = await bundledSelf(dir)
    const runs: ChildResult[] = []
    for (let i = 0; i < RUNS; i++) {
      runs.push(await runChild(script, [apiUrl, journalPath, admin.username, admin.password]))
    }
    const run = runs[0]!
    const p95s = runs.map((r) =>
      percentile(
        r.frames.map((f) => f.ms),
        95,
      ),
    )
    const kinds = [...new Set(run.frames.map((f) => f.kind))]
    const byKind = kinds
      .map((kind) => {
        const ms = runs.flatMap((r) => r.frames.filter((f) => f.kind === kind).map((f) => f.ms))
        return `${kind} p50 ${round(median(ms))} / max ${round(Math.max(...ms))}`
      })
      .join(', ')
    const context = `${run.apps.toLocaleString('en')} apps (large seed, ${boot}) and a planned migration of ${planned.toLocaleString('en')} steps`
    results.record(
      'ui.rss_mb_large',
      median(runs.map((r) => r.peakRssMb)),
      'MB',
      `peak RSS of a child process (plain node, bundled) running runDashboard on ${context}, sampled every 50 ms ` +
        `from start to quit, through at least ${Math.min(...runs.map((r) => r.polls))} polls of every app over HTTP (50,000 apps are polled about every 50 s) and ${run.frames.length} keys drawn; median of ${RUNS} ` +
        `(${runs.map((r) => round(r.peakRssMb)).join('/')}); after the first poll ${round(median(runs.map((r) => r.loadedRssMb)))} MB, ` +
        `at quit ${round(median(runs.map((r) => r.endRssMb)))} MB; first poll of every app took ${round(median(runs.map((r) => r.loadMs)))} ms`,
    )
    results.record(
      'ui.frame_ms_p95',
      median(p95s),
      'ms',
      `key on stdin to its frame written, ${run.frames.length} keys a run (${kinds.join(', ')}) over the 50,000-app table, ` +
        `120x40 terminal; median of ${RUNS} runs' p95 (${p95s.map(round).join('/')}); by kind, all runs: ${byKind}` +
        (runs.some((r) => r.missed > 0)
          ? `; keys with no frame within 1 s: ${runs.map((r) => r.missed).join('/')}`
          : ''),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Lists the fleet through the CC client and records a planned migration of all of it to Diego. */
async function planWholeFleet(
  apiUrl: string,
  admin: { username: string; password: string },
  journalPath: string,
): Promise<number> {
  const { Journal } = await import('../src/core/journal/journal.js')
  const { createMigration, planMigration } = await import('../src/core/migration/index.js')
  const { listFleet } = await import('../src/core/migration/operation.js')
  const { client } = await adminSession(apiUrl, admin.username, admin.password)
  try {
    const fleet = await listFleet(client)
    const plan = planMigration(fleet, { to: 'diego' })
    const journal = Journal.open(journalPath)
    try {
      createMigration(journal, plan, { target: apiUrl, rate: '30/min', maxInFlight: 5 })
    } finally {
      journal.close()
    }
    return plan.steps.length
  } finally {
    await client.close()
  }
}

async function adminSession(apiUrl: string, username: string, password: string) {
  const { CcClient } = await import('../src/core/cc/index.js')
  const { memorySession } = await import('../src/core/auth/session.js')
  const info = await new CcClient({ apiUrl }).info()
  const session = memorySession({ api: apiUrl, tokenEndpoint: info.tokenEndpoint, skipSslValidation: false })
  await session.login({ type: 'password', username, password })
  // As `cfctl dashboard` builds its client: it can run a rollback, so it gets a runner's connections.
  const { RUNNER_CC_CONNECTIONS } = await import('../src/core/migration/operation.js')
  return { session, client: new CcClient({ apiUrl, auth: session, connections: RUNNER_CC_CONNECTIONS }) }
}

/**
 * This file bundled to plain JavaScript, so the child runs as the product does, and beside it the worker
 * that polls the apps, where the dashboard looks for it (`./poll-worker.js`).
 */
async function bundledSelf(dir: string): Promise<string> {
  const { build } = await import('esbuild')
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node22',
    logLevel: 'error' as const,
    // Bundled CommonJS (React, undici) calls require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cfctlRequire } from 'node:module'; const require = __cfctlRequire(import.meta.url);",
    },
    // ink's devtools module imports the React devtools, which ink loads only when DEV=true and which are
    // not installed: an empty module stands in for them.
    plugins: [
      {
        name: 'no-react-devtools',
        setup(b: import('esbuild').PluginBuild) {
          b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }))
          b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
            contents: 'export default {}',
            loader: 'js' as const,
          }))
        },
      },
    ],
  }
  const outfile = join(dir, 'ui-dashboard-child.mjs')
  await build({ ...common, entryPoints: [fileURLToPath(import.meta.url)], outfile })
  await build({
    ...common,
    entryPoints: [fileURLToPath(new URL('../src/ui/dashboard/poll-worker.ts', import.meta.url))],
    outfile: join(dir, 'poll-worker.js'),
  })
  return outfile
}

function runChild(script: string, args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const flags = process.env.UI_BENCH_TRACE === 'gc' ? ['--expose-gc'] : []
    const child = spawn(process.execPath, [...flags, script, CHILD_FLAG, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => {
      err += chunk
      if (process.env.UI_BENCH_TRACE) process.stderr.write(chunk)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`dashboard child exited with ${code}: ${err.trim()}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult)
      } catch {
        reject(new Error(`dashboard child printed no result: ${out}${err}`))
      }
    })
  })
}

// ---- the child ----

/** The terminal ink draws on: a TTY of 120×40 that keeps the time of every write. */
class Terminal extends EventEmitter {
  readonly isTTY = true
  readonly columns = 120
  readonly rows = 40
  text = ''
  writes = 0
  lastWriteAt = 0
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.lastWriteAt = performance.now()
    this.writes++
    this.text = (this.text + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))).slice(-20_000)
    const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
    done?.()
    return true
  }
}

/** What is pressed, in order: each key changes the screen, so each has a frame. */
function keyMix(): Array<{ key: string; kind: string }> {
  const keys: Array<{ key: string; kind: string }> = []
  const add = (kind: string, ...k: string[]) => {
    for (const key of k) keys.push({ key, kind })
  }
  for (let round = 0; round < 3; round++) {
    add('move', ...'jjjjjjjjjjjjjjjjjjjj')
    add('page', '\u001b[6~', '\u001b[6~', '\u001b[6~', '\u001b[6~', '\u001b[6~', '\u001b[5~')
    add('end', 'G', 'g')
    add(
      'filter',
      '/',
      'a',
      'p',
      'p',
      '-',
      '1',
      '2',
      '\r',
      '/',
      '\u007f',
      '\u007f',
      '\u007f',
      '\u007f',
      '\u007f',
      '\u007f',
      '\r',
    )
    add('sort', 's', 'S')
    add('view', '\t', '\t', '\t', '\t')
  }
  return keys
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The time of the last poll the header shows. */
function lastRead(screen: string): string | undefined {
  const reads = [...screen.matchAll(/apps, read (\d\d:\d\d:\d\d)/g)]
  return reads.at(-1)?.[1]
}

async function child(apiUrl: string, journalPath: string, username: string, password: string): Promise<void> {
  const { Journal } = await import('../src/core/journal/journal.js')
  const { runDashboard } = await import('../src/ui/dashboard/index.js')
  const mb = () => process.memoryUsage().rss / 1_048_576
  let peak = mb()
  const sampler = setInterval(() => {
    peak = Math.max(peak, mb())
  }, 50)
  const { session, client } = await adminSession(apiUrl, username, password)
  const journal = Journal.open(journalPath)
  const terminal = new Terminal()
  const keyboard = new FakeKeyboard()
  const started = performance.now()
  const trace = (stage: string) => {
    if (!process.env.UI_BENCH_TRACE) return
    if (process.env.UI_BENCH_TRACE === 'gc') (globalThis as { gc?: () => void }).gc?.()
    const m = process.memoryUsage()
    const out = `${stage}: rss ${m.rss >> 20} heap ${m.heapUsed >> 20}/${m.heapTotal >> 20} external ${m.external >> 20} MB at ${Math.round(performance.now() - started)} ms\n`
    process.stderr.write(out)
  }
  trace('start')
  const tracer = process.env.UI_BENCH_TRACE ? setInterval(() => trace('tick'), 500) : undefined
  const done = runDashboard({
    client,
    auth: session,
    journal,
    target: apiUrl,
    readonly: true,
    stdout: terminal as unknown as NodeJS.WriteStream,
    stdin: keyboard as unknown as NodeJS.ReadStream,
    env: {},
  })
  while (!/[\d,]{6} apps, read/.test(terminal.text)) {
    if (performance.now() - started > 120_000)
      throw new Error(`the apps were not shown within 2 minutes; the screen ends: ${terminal.text.slice(-1500)}`)
    await sleep(20)
  }
  const loadMs = performance.now() - started
  const apps = Number(/([\d,]+) apps, read/.exec(terminal.text)![1]!.replaceAll(',', ''))
  await sleep(500)
  const loadedRssMb = mb()
  const frames: ChildResult['frames'] = []
  let missed = 0
  for (const { key, kind } of keyMix()) {
    await sleep(KEY_SPACING_MS)
    // ink draws at most ten frames a second: a key within 100 ms of the last frame would wait for the next
    // slot, which is the cap at work, not drawing. Keys go when a frame may be drawn at once.
    while (performance.now() - terminal.lastWriteAt < FRAME_SLOT_MS) await sleep(5)
    const before = terminal.writes
    const t0 = performance.now()
    keyboard.type(key)
    while (terminal.writes === before && performance.now() - t0 < 1_000) await sleep(1)
    if (terminal.writes === before) missed++
    else {
      frames.push({ kind, ms: terminal.lastWriteAt - t0 })
      if (terminal.lastWriteAt - t0 > 40) trace(`slow ${kind} frame ${Math.round(terminal.lastWriteAt - t0)} ms`)
    }
  }
  // The peak must take in a poll after the first (the dashboard holds one fleet and receives the next):
  // stay until one more has been drawn.
  const first = lastRead(terminal.text)
  const reads = new Set<string>(first ? [first] : [])
  const waitStarted = performance.now()
  while (reads.size < 2 && performance.now() - waitStarted < 180_000) {
    await sleep(250)
    const read = lastRead(terminal.text)
    if (read) reads.add(read)
  }
  const polls = reads.size
  const endRssMb = mb()
  clearInterval(tracer)
  keyboard.type('q')
  await done
  clearInterval(sampler)
  await client.close()
  journal.close()
  process.stdout.write(
    `${JSON.stringify({ apps, loadMs, peakRssMb: peak, loadedRssMb, endRssMb, frames, missed, polls })}\n`,
  )
}

if (process.argv.includes(CHILD_FLAG) && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf(CHILD_FLAG)
  const [apiUrl, journalPath, username, password] = process.argv.slice(at + 1)
  await child(apiUrl!, journalPath!, username!, password!)
}
