// The CLI end to end, as a user runs it: each figure is a whole process, spawned from here and timed
// from spawn to exit. Runs the built CLI (bin/run.js, over dist/; `npm run bench` rebuilds it when src/
// is newer). The foundation is a real one in this process (large seed, real clock, speed 1, the
// backends' loops running, as `cfctl server --seed large` runs), which the CLI reaches over HTTP.
//   cli.list_large_ms                 `cfctl apps --backend dea --json` over ~50,000 apps, median
//   cli.list_speedup_vs_sequential    bench/cf-walk.ts (the Diego-Enabler plugin's sequential walk,
//                                     same rows out) over the CLI, medians of interleaved runs, both
//                                     through latency-proxy.ts: the CC a network away, each answer held
//                                     BENCH_CLI_CC_LATENCY_MS (50). The loopback ratio is in the note: there
//                                     the in-process CC and the client share 2 cores, and neither side waits.
//   cli.version_overhead_ms           `cfctl --version` minus `node -e 0`, medians of interleaved runs
// These 2-core machines are shared and noisy: every figure is a median, and both sides of a
// comparison run in turn in the same loop, so a busy spell hits both.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Foundation } from '../src/scheduler/foundation.js'
import { latencyProxy } from './latency-proxy.js'
import { adminToken, median, type Results } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUN_JS = join(root, 'bin', 'run.js')
const CF_WALK = join(root, 'bench', 'cf-walk.ts')
const LIST_RUNS = 5
const FAR_RUNS = 3
const VERSION_RUNS = 21
/** What each CC answer costs beyond loopback for the ratio: a round trip and the CC's own page time. */
const CC_LATENCY_MS = Number(process.env.BENCH_CLI_CC_LATENCY_MS ?? 50)

interface Exit {
  code: number | null
  ms: number
  stdout: string
  stderr: string
}

export default async function cliBench(results: Results): Promise<void> {
  if (!existsSync(join(root, 'dist', '.built')) || !existsSync(join(root, 'oclif.manifest.json'))) {
    for (const key of ['cli.list_large_ms', 'cli.list_speedup_vs_sequential', 'cli.version_overhead_ms']) {
      results.skip(key, 'no build: bin/run.js runs dist/ (run `npm run build`, or use `npm run bench`)')
    }
    return
  }
  const home = mkdtempSync(join(tmpdir(), 'cfctl-bench-home-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CF_HOME: home,
    CFCTL_HOME: join(home, '.cfctl'),
    NO_COLOR: '1',
  }
  try {
    await listBench(results, env)
    await versionBench(results, env)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

async function listBench(results: Results, env: NodeJS.ProcessEnv): Promise<void> {
  const bootStarted = performance.now()
  const foundation = await Foundation.start({ seed: 'large', speed: 1, log: () => {} })
  const bootMs = performance.now() - bootStarted
  const proxy = await latencyProxy(foundation.apiUrl, CC_LATENCY_MS)
  try {
    const expected = new Set(
      foundation.store
        .apps()
        .filter((a) => !a.diego)
        .map((a) => a.guid),
    )
    await must(cfctl(['target', foundation.apiUrl], env), 'cfctl target')
    const { admin } = foundation.users
    await must(cfctl(['login', '-u', admin.username, '-p', admin.password], env), 'cfctl login')
    const walkEnv = { ...env, CF_WALK_TOKEN: await adminToken(foundation) }
    // A second cfctl home that targets the CC through the proxy.
    const farEnv = { ...env, CFCTL_HOME: join(env.HOME!, '.cfctl-far') }
    await must(cfctl(['target', proxy.url], farEnv), 'cfctl target (through the proxy)')
    await must(cfctl(['login', '-u', admin.username, '-p', admin.password], farEnv), 'cfctl login (through the proxy)')

    const cli = (far = false) => cfctl(['apps', '--backend', 'dea', '--json'], far ? farEnv : env)
    const sequential = (perPage?: number, far = false) =>
      run(
        process.execPath,
        [...typeStripping(), CF_WALK, far ? proxy.url : foundation.apiUrl, ...(perPage ? [String(perPage)] : [])],
        walkEnv,
      )

    // One of each first, unmeasured: the server builds its per-app JSON on the first listing, and Node
    // writes its compile cache on a module's first load. Every user after the first meets both warm.
    checkListing(await cli(), expected, 'cfctl apps')
    checkListing(await sequential(), expected, 'cf-walk')

    const cliMs: number[] = []
    const walkMs: number[] = []
    const walk100Ms: number[] = []
    const farCliMs: number[] = []
    const farWalkMs: number[] = []
    for (let i = 0; i < LIST_RUNS; i++) {
      cliMs.push(checkListing(await cli(), expected, 'cfctl apps'))
      walkMs.push(checkListing(await sequential(), expected, 'cf-walk'))
      walk100Ms.push(checkListing(await sequential(100), expected, 'cf-walk (100 per page)'))
    }
    // Through the proxy the walk takes most of a minute: fewer runs, still interleaved.
    for (let i = 0; i < FAR_RUNS; i++) {
      farCliMs.push(checkListing(await cli(true), expected, 'cfctl apps (through the proxy)'))
      farWalkMs.push(checkListing(await sequential(undefined, true), expected, 'cf-walk (through the proxy)'))
    }
    const cliMedian = median(cliMs)
    const walkMedian = median(walkMs)
    const walk100Median = median(walk100Ms)
    const farCliMedian = median(farCliMs)
    const farWalkMedian = median(farWalkMs)
    const apps = `${expected.size.toLocaleString('en')} DEA apps of ${foundation.store.apps().length.toLocaleString('en')} (large seed, booted in ${(bootMs / 1000).toFixed(1)} s)`
    results.record(
      'cli.list_large_ms',
      cliMedian,
      'ms',
      `cfctl apps --backend dea --json as a process, median of ${LIST_RUNS} (${fmt(cliMs)}); ${apps}; output checked`,
    )
    results.record(
      'cli.list_speedup_vs_sequential',
      farWalkMedian / farCliMedian,
      'x',
      `through a proxy holding each CC answer ${CC_LATENCY_MS} ms (a CC a network away): sequential walk ${farWalkMedian.toFixed(0)} ms (the plugin's: q=diego:false, CC's default 50 per page, next_url, then spaces and orgs; same rows out; ${fmt(farWalkMs)}) over cfctl ${farCliMedian.toFixed(0)} ms (${fmt(farCliMs)}); ` +
        `on loopback, where the in-process CC and the client share the 2 cores and neither waits: walk ${walkMedian.toFixed(0)} ms over cfctl ${cliMedian.toFixed(0)} ms (ratio ${(walkMedian / cliMedian).toFixed(2)}), at 100 per page the walk takes ${walk100Median.toFixed(0)} ms (ratio ${(walk100Median / cliMedian).toFixed(2)})`,
    )
  } finally {
    await proxy.close()
    await foundation.stop()
  }
}

async function versionBench(results: Results, env: NodeJS.ProcessEnv): Promise<void> {
  // Unmeasured first run: fills Node's compile cache (bin/run.js turns it on), as any earlier run would.
  await must(cfctl(['--version'], env), 'cfctl --version')
  const nodeMs: number[] = []
  const versionMs: number[] = []
  for (let i = 0; i < VERSION_RUNS; i++) {
    nodeMs.push((await must(run(process.execPath, ['-e', '0'], env), 'node -e 0')).ms)
    const version = await must(cfctl(['--version'], env), 'cfctl --version')
    if (!version.stdout.startsWith('cfctl/'))
      throw new Error(`cfctl --version printed ${JSON.stringify(version.stdout)}`)
    versionMs.push(version.ms)
  }
  const nodeMedian = median(nodeMs)
  const versionMedian = median(versionMs)
  results.record(
    'cli.version_overhead_ms',
    versionMedian - nodeMedian,
    'ms',
    `cfctl --version ${versionMedian.toFixed(0)} ms minus node -e 0 ${nodeMedian.toFixed(0)} ms, medians of ${VERSION_RUNS} interleaved runs (compile cache warm); foundation stopped`,
  )
}

function cfctl(args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return run(process.execPath, [RUN_JS, ...args], env)
}

/** Runs a process to its exit, collecting its output; `ms` is spawn to exit on the monotonic clock. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      resolve({ code, ms, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
  })
}

async function must(exit: Promise<Exit>, what: string): Promise<Exit> {
  const done = await exit
  if (done.code !== 0) throw new Error(`${what} exited ${done.code}: ${done.stderr.trim().slice(0, 500)}`)
  return done
}

/** Checks that a listing printed exactly the expected apps, all on DEA; answers its time. */
function checkListing(exit: Exit, expected: ReadonlySet<string>, what: string): number {
  if (exit.code !== 0) throw new Error(`${what} exited ${exit.code}: ${exit.stderr.trim().slice(0, 500)}`)
  const rows = JSON.parse(exit.stdout) as { guid: string; backend: string }[]
  const guids = new Set(rows.map((r) => r.guid))
  if (rows.length !== expected.size || guids.size !== expected.size || rows.some((r) => !expected.has(r.guid))) {
    throw new Error(`${what} listed ${rows.length} apps (${guids.size} distinct), expected the ${expected.size} on DEA`)
  }
  if (rows.some((r) => r.backend !== 'dea')) throw new Error(`${what} listed an app not on DEA`)
  return exit.ms
}

/** Node 23.6+ runs erasable TypeScript as it is; 22.x needs the flag. */
function typeStripping(): string[] {
  return (process.features as { typescript?: string | false }).typescript ? [] : ['--experimental-strip-types']
}

function fmt(values: number[]): string {
  return values.map((v) => v.toFixed(0)).join('/')
}
