// `cfctl server` as a user starts it: the built CLI (bin/run.js, over dist/) in a process of its own, timed
// from spawn to the first 200 from its /v2/info.
//   server.boot_large_ms    `cfctl server --seed large` (~50,000 apps), median of BOOT_RUNS
//   server.boot_medium_ms   the same with the medium seed (~2,000 apps)
// The foundation places every seeded instance before its API listens (the DEA side as each app is desired,
// Diego's in auction batches), so the API answering is the moment everything has its place; a sample of
// started apps is checked after each timed run: none of their instances may be DOWN.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiUrlOf } from './cfctl-process.js'
import { median, type Results, round } from './lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUN_JS = join(root, 'bin', 'run.js')
const RUNS = { medium: 5, large: 3 }
const SAMPLE = 40

export default async function serverBench(results: Results): Promise<void> {
  const keys = { medium: 'server.boot_medium_ms', large: 'server.boot_large_ms' } as const
  if (!existsSync(join(root, 'dist', '.built'))) {
    for (const key of Object.values(keys)) results.skip(key, 'no build: bin/run.js runs dist/ (run `npm run build`)')
    return
  }
  const home = mkdtempSync(join(tmpdir(), 'cfctl-bench-home-'))
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, CFCTL_HOME: join(home, '.cfctl'), NO_COLOR: '1' }
  try {
    await boot('small', env) // unmeasured: fills Node's compile cache, as any earlier run of cfctl would
    for (const seed of ['medium', 'large'] as const) {
      const times: number[] = []
      let checked = 0
      for (let i = 0; i < RUNS[seed]; i++) {
        const run = await boot(seed, env)
        times.push(run.ms)
        checked = run.checked
      }
      results.record(
        keys[seed],
        median(times),
        'ms',
        `bin/run.js server --seed ${seed}, spawn to the first 200 of /v2/info, median of ${times.length} (${times.map((t) => round(t)).join(', ')} ms); ` +
          `every instance of ${checked} started apps of the first page placed (none DOWN)`,
      )
    }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

async function boot(seed: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; checked: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, [RUN_JS, 'server', '--seed', seed], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  try {
    const api = await apiUrlOf(child)
    for (;;) {
      const res = await fetch(`${api}/v2/info`).catch(() => undefined)
      if (res?.status === 200) {
        await res.arrayBuffer()
        break
      }
      if (child.exitCode !== null) throw new Error(`cfctl server --seed ${seed} exited ${child.exitCode}`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const ms = performance.now() - started
    return { ms, checked: await checkPlaced(api) }
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve))
  }
}

/** Every instance of a sample of started apps is placed: STARTING or RUNNING, none DOWN. Answers how many apps. */
async function checkPlaced(api: string): Promise<number> {
  const token = await login(api)
  const headers = { authorization: `bearer ${token}` }
  const res = await fetch(`${api}/v2/apps?results-per-page=${SAMPLE}`, { headers })
  const page = (await res.json()) as { resources?: { metadata: { guid: string }; entity: { state: string } }[] }
  if (res.status !== 200 || !page.resources) throw new Error(`GET /v2/apps answered ${res.status}`)
  const apps = page.resources.filter((app) => app.entity.state === 'STARTED')
  if (apps.length === 0) throw new Error('no started app to check')
  for (const app of apps) {
    const res = await fetch(`${api}/v2/apps/${app.metadata.guid}/instances`, { headers })
    const instances = (await res.json()) as Record<string, { state: string }>
    const down = Object.entries(instances).filter(([, i]) => i.state === 'DOWN')
    if (res.status !== 200 || down.length > 0) {
      throw new Error(
        `app ${app.metadata.guid}: /instances answered ${res.status} with ${down.length} DOWN when the API first answered`,
      )
    }
  }
  return apps.length
}

async function login(api: string): Promise<string> {
  const res = await fetch(`${api}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: 'admin' }).toString(),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!body.access_token) throw new Error(`login answered ${res.status}`)
  return body.access_token
}
