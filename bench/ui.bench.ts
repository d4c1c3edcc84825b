// The dashboard with the large seed: a real Foundation (about 50,000 apps) in this process, a planned
// migration of the whole fleet in a journal file.
//   ui.rss_mb_large   `cfctl dashboard --journal FILE` as a user starts it (node bin/run.js, logged in with
//                     `cfctl login`) on a 120×40 pseudo-terminal (util-linux `script`), the same keys typed,
//                     until it has drawn a second poll of the apps: the peak RSS (VmHWM) of the process that
//                     holds the fleet, read just before `q` (median of the runs)
//   ui.frame_ms_p95   `runDashboard` in a child process (this file bundled by esbuild and run by node with the
//                     flags and environment bin/run.js gives `cfctl dashboard`, no TypeScript loader in its
//                     memory) drawing on a stand-in 120×40 terminal, polling the
//                     apps over HTTP as `cfctl dashboard` does; per key: from the key arriving on stdin to its frame written to the terminal (React,
//                     the table's filter and sort over 50,000 rows, ink's layout and output), p95 over a mix
//                     of moves, pages, filter typing, sorts and view changes (median of the runs)
import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { childEnv, HEAP_FLAGS } from '../bin/heap-flags.js'
import { FakeKeyboard } from '../test/ui/dashboard/fake-keyboard.js'
import { cannotMeasureRss, childrenOf, RUN_JS, startCfctl } from './cfctl-process.js'
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
  frames: Array<{ kind: string; ms: number }>
  missed: number
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
    await measureRealDashboard(results, apiUrl, admin, journalPath, context)
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
export async function planWholeFleet(
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
 * that reads a migration's step states, where the dashboard looks for it (`./poll-worker.js`).
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
    // Node as bin/run.js starts it for `cfctl dashboard`: its heap flags and environment (bin/heap-flags.js).
    const child = spawn(process.execPath, [...HEAP_FLAGS, script, CHILD_FLAG, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(process.env),
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

// ---- `cfctl dashboard` as a user starts it, for its RSS ----

interface RealRun {
  /** Peak RSS (VmHWM) of the process holding the fleet, MB. */
  peakMb: number
  /** Its RSS once the first poll was drawn, and just before quitting, MB. */
  loadedMb: number
  endMb: number
  /** The launcher's RSS when bin/run.js ran the dashboard in a child Node, MB. */
  launcherMb: number | undefined
  polls: number
}

/** Runs `cfctl dashboard` as a user would, RUNS times, and records ui.rss_mb_large. */
export async function measureRealDashboard(
  results: Results,
  apiUrl: string,
  admin: { username: string; password: string },
  journalPath: string,
  context: string,
): Promise<void> {
  const why = cannotMeasureRss() ?? (hasScript() ? undefined : 'no util-linux `script` to give it a terminal')
  if (why) return results.skip('ui.rss_mb_large', why)
  const home = mkdtempSync(join(tmpdir(), 'cfctl-ui-bench-home-'))
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      CFCTL_HOME: join(home, '.cfctl'),
      NO_COLOR: '1',
    }
    await exited(startCfctl(['login', '-a', apiUrl, '-u', admin.username, '-p', admin.password], env), 'cfctl login')
    const runs: RealRun[] = []
    for (let i = 0; i < RUNS; i++) runs.push(await realDashboard(env, journalPath))
    const launcher = runs.map((r) => r.launcherMb).filter((mb) => mb !== undefined)
    results.record(
      'ui.rss_mb_large',
      median(runs.map((r) => r.peakMb)),
      'MB',
      `peak RSS (VmHWM) of \`node bin/run.js dashboard --readonly --journal FILE\` as a user starts it, logged in with cfctl login, ` +
        `on a 120x40 pseudo-terminal, over ${context}; ${keyMix().length} keys typed, then until ${Math.min(...runs.map((r) => r.polls))} polls of every app were drawn ` +
        `(50,000 apps are polled about every 50 s); ` +
        (launcher.length > 0
          ? `the process measured is the child Node bin/run.js starts with its heap flags (bin/heap-flags.js), the launcher itself ${round(median(launcher))} MB besides; `
          : 'bin/run.js ran it in its own process; ') +
        `median of ${RUNS} (${runs.map((r) => round(r.peakMb)).join('/')}); after the first poll ${round(median(runs.map((r) => r.loadedMb)))} MB, ` +
        `at quit ${round(median(runs.map((r) => r.endMb)))} MB`,
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

function hasScript(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'script')))
}

function exited(child: ChildProcess, what: string): Promise<void> {
  let err = ''
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
  child.stdout!.resume()
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${err.trim()}`)),
    ),
  )
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/** `script` runs a shell that runs bin/run.js; under it, the Node that holds the fleet (the deepest one). */
function dashboardTree(scriptPid: number): { launcher: number; worker: number } | undefined {
  const nodes: number[] = []
  const walk = (pid: number) => {
    for (const child of childrenOf(pid)) {
      // Node names its main thread (comm) MainThread: tell it by its executable instead.
      if (readlinkSync(`/proc/${child}/exe`) === process.execPath) nodes.push(child)
      walk(child)
    }
  }
  walk(scriptPid)
  if (nodes.length === 0) return undefined
  return { launcher: nodes[0]!, worker: nodes.at(-1)! }
}

async function realDashboard(env: NodeJS.ProcessEnv, journalPath: string): Promise<RealRun> {
  const command = `stty cols 120 rows 40; exec "${process.execPath}" "${RUN_JS}" dashboard --readonly --journal "${journalPath}"`
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, TERM: 'xterm' }, stdio: 'pipe' })
  let screen = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (screen = (screen + chunk.toString('utf8')).slice(-20_000)))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')))
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve))
  try {
    const started = performance.now()
    while (lastRead(screen) === undefined) {
      if (child.exitCode !== null) throw new Error(`cfctl dashboard ended: ${err.trim()}${screen.slice(-500)}`)
      if (performance.now() - started > 120_000)
        throw new Error(`no apps drawn within 2 minutes: ${screen.slice(-1500)}`)
      await sleep(50)
    }
    const tree = dashboardTree(child.pid!)
    if (!tree) throw new Error('no node process under script')
    await sleep(500)
    const loadedMb = statusKb(tree.worker, 'VmRSS') ?? 0
    for (const { key } of keyMix()) {
      child.stdin.write(key)
      await sleep(KEY_SPACING_MS)
    }
    // The peak must take in a poll after the first (the dashboard holds one fleet and receives the next).
    const reads = new Set<string>([lastRead(screen)!])
    const waitStarted = performance.now()
    while (reads.size < 2 && performance.now() - waitStarted < 180_000) {
      await sleep(250)
      reads.add(lastRead(screen)!)
    }
    const endMb = statusKb(tree.worker, 'VmRSS') ?? 0
    const peakMb = statusKb(tree.worker, 'VmHWM')
    if (peakMb === undefined) throw new Error('cfctl dashboard ended before its RSS was read')
    const launcherMb = tree.worker === tree.launcher ? undefined : statusKb(tree.launcher, 'VmRSS')
    child.stdin.write('q')
    const code = await Promise.race([closed, sleep(10_000).then(() => 'timeout' as const)])
    if (code !== 0) throw new Error(`cfctl dashboard did not quit cleanly on q (${code}): ${err.trim()}`)
    return { peakMb, loadedMb, endMb, launcherMb, polls: reads.size }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await closed
    }
  }
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
  const { client } = await adminSession(apiUrl, username, password)
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
  clearInterval(tracer)
  keyboard.type('q')
  await done
  await client.close()
  journal.close()
  process.stdout.write(`${JSON.stringify({ apps, loadMs, frames, missed })}\n`)
}

if (process.argv.includes(CHILD_FLAG) && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf(CHILD_FLAG)
  const [apiUrl, journalPath, username, password] = process.argv.slice(at + 1)
  await child(apiUrl!, journalPath!, username!, password!)
}
