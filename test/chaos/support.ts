// The chaos suite's checks and figures. Every scenario ends by asking the CC (and, where the foundation runs
// in this process, its backends) whether the fleet is sound: each app on exactly one backend, the one its
// flag names, with its instances running there and none left on the other; no app's flag changed more than
// once in each direction; and the journal's steps agree with the flags the CC holds.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { cliEntry } from '../cli/run-cli.js'
import { type CliHome, FLEET_ORG, type Json, type WatchedFoundation } from '../migration/support.js'

/** The seed a scenario runs with: CFCTL_CHAOS_SEED repeats a run, otherwise one from the clock. */
export function chaosSeed(): number {
  const given = process.env.CFCTL_CHAOS_SEED
  return given !== undefined && given !== '' ? Number(given) : Date.now() % 1_000_000
}

/** What a scenario did, printed at its end as one line to paste into a note. */
export interface Figures {
  scenario: string
  seed: number
  runs: number
  kills: number
  faults: number
  apps: number
  /** How many apps changed flag 0, 1, 2 ... times on the CC. */
  flipsPerApp: Record<string, number>
  [more: string]: unknown
}

export function printFigures(figures: Figures): void {
  console.log(`chaos figures ${JSON.stringify(figures)}`)
}

/** The histogram of flag changes per app: {"1": 80} is every app flipped once. */
export function flipHistogram(changes: readonly (readonly boolean[])[]): Record<string, number> {
  const histogram: Record<string, number> = {}
  for (const c of changes) histogram[String(c.length)] = (histogram[String(c.length)] ?? 0) + 1
  return histogram
}

/**
 * A flag's changes are sound when each direction happened at most once and they alternate from the
 * original: [] , [to], or [to, back].
 */
export function flagChangesProblem(original: boolean, changes: readonly boolean[]): string | undefined {
  const ups = changes.filter((d) => d).length
  const downs = changes.length - ups
  if (ups > 1 || downs > 1) return `flag changed ${JSON.stringify(changes)} (more than once in a direction)`
  if (changes.length > 0 && changes[0] === original) return `first change ${changes[0]} from ${original}`
  if (changes.length === 2 && changes[1] !== original) return `changes ${JSON.stringify(changes)}`
  return undefined
}

/** Polls until `check` returns no problems, or fails with the last ones seen. */
export async function eventually(check: () => string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let problems = check()
  while (problems.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    problems = check()
  }
  expect(problems.slice(0, 20)).toEqual([])
}

/**
 * The in-process foundation's own account: every fleet app on exactly one backend (its flag's), all its
 * instances RUNNING there when STARTED, none on the other; and its flag history sound (all of it, or the
 * changes `since` a point where the apps held the flags `since.original` gives).
 */
export async function expectFleetSound(
  world: WatchedFoundation,
  org = FLEET_ORG,
  since?: { changes: (guid: string) => boolean[]; original: (guid: string) => boolean },
): Promise<void> {
  const history: string[] = []
  for (const app of world.appsOf(org)) {
    const problem = since
      ? flagChangesProblem(since.original(app.guid), since.changes(app.guid))
      : flagChangesProblem(world.original.get(app.guid)!, world.historyOf(app.guid).diegoChanges)
    if (problem) history.push(`${app.name}: ${problem}`)
  }
  expect(history).toEqual([])
  await eventually(() => {
    const problems: string[] = []
    for (const listed of world.appsOf(org)) {
      const app = world.foundation.store.app(listed.guid)!
      const [own, other] = app.diego
        ? [world.foundation.diego, world.foundation.dea]
        : [world.foundation.dea, world.foundation.diego]
      const stray = other.instances(app.guid).filter((i) => i.state !== 'CRASHED')
      if (stray.length > 0) problems.push(`${app.name}: ${stray.length} instances on its other backend`)
      if (app.state === 'STARTED' && world.runningInstances(app) !== app.instances)
        problems.push(`${app.name}: ${world.runningInstances(app)}/${app.instances} running on its backend`)
      if (app.state === 'STOPPED' && own.instances(app.guid).some((i) => i.state === 'RUNNING'))
        problems.push(`${app.name}: stopped, with instances running`)
    }
    return problems
  })
}

/** The journal of `home` for one migration, as `cfctl migrations show --json` gives it. */
export async function journalOf(home: CliHome, id: string): Promise<Json> {
  const shown = await home.run(['migrations', 'show', id, '--events', '100000', '--json'])
  expect(shown.code, shown.stderr).toBe(0)
  return JSON.parse(shown.stdout)
}

/**
 * The journal agrees with the CC's flags: a done step's app on its target, a pending, rolled-back or failed
 * one on its original backend; none in flight once the migration has settled.
 */
export function expectJournalMatchesCc(journal: Json, flagOf: (guid: string) => boolean): void {
  const mismatches: string[] = []
  for (const step of journal.steps as Json[]) {
    const cc = flagOf(step.guid) ? 'diego' : 'dea'
    const expected =
      step.state === 'done'
        ? step.to
        : ['pending', 'rolled-back', 'failed', 'skipped'].includes(step.state)
          ? step.from
          : `settled (is ${step.state})`
    if (cc !== expected) mismatches.push(`${step.app} ${step.state} ${step.from}→${step.to}: CC has ${cc}`)
  }
  expect(mismatches).toEqual([])
}

/** A free port on 127.0.0.1 (bound and let go), so that a restarted foundation comes back where it was. */
export async function aFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * `cfctl server` as its own process on fixed ports and a data file, so that it can be killed with SIGKILL
 * and started again on the same file and address, as an operator's foundation restarting would.
 */
export class ServerProcess {
  private child: ChildProcess | undefined
  starts = 0

  constructor(
    readonly dataFile: string,
    readonly seedFile: string,
    readonly port: number,
    readonly routerPort: number,
    readonly speed: number,
  ) {}

  static async create(seedFile: string, dir: string, speed: number): Promise<ServerProcess> {
    return new ServerProcess(join(dir, 'foundation.db'), seedFile, await aFreePort(), await aFreePort(), speed)
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Starts it and resolves once the API answers. */
  async start(): Promise<void> {
    const args = ['server', '--data', this.dataFile, '--seed', this.seedFile, '--port', String(this.port)]
    args.push('--router-port', String(this.routerPort), '--speed', String(this.speed))
    const child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: join(dirname(fileURLToPath(import.meta.url)), '..', '..'),
      // In one process, so that the SIGKILL hits the foundation itself: bin/run.js otherwise runs `server` in
      // a child Node (bin/heap-flags.js), which, its launcher killed, stops cleanly on its own (SIGTERM).
      env: { PATH: process.env.PATH, NO_COLOR: '1', CFCTL_HEAP_FLAGS: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    this.child = child
    this.starts++
    const deadline = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`cfctl server exited ${child.exitCode}: ${stderr}`)
      try {
        const response = await fetch(`${this.apiUrl}/v2/info`)
        if (response.ok) return
      } catch {}
      if (Date.now() > deadline) throw new Error(`cfctl server did not answer: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** SIGKILL (or another signal), resolved once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise((resolve) => child.once('close', resolve))
    child.kill(signal)
    await gone
  }

  /** An admin token of the foundation's UAA (the password grant of client "cf"). */
  async adminToken(): Promise<string> {
    const response = await fetch(`${this.apiUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('cf:').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: 'admin' }),
    })
    expect(response.status).toBe(200)
    return ((await response.json()) as Json).access_token
  }

  /** A GET of the CC's v2 API as admin. */
  async get(path: string, token: string): Promise<Json> {
    const response = await fetch(`${this.apiUrl}${path}`, { headers: { authorization: `bearer ${token}` } })
    expect(response.status, path).toBe(200)
    return response.json()
  }

  /**
   * Every app's flag changes, from the CC's audit events in its data file (each app update commits with its
   * event): the `diego` values of the updates, in order, kept where they changed the flag.
   */
  flagChanges(original: (guid: string) => boolean): Map<string, boolean[]> {
    const db = new DatabaseSync(this.dataFile, { readOnly: true })
    try {
      const rows = db
        .prepare(`SELECT actee, metadata FROM events WHERE type = 'audit.app.update' ORDER BY id`)
        .all() as { actee: string; metadata: string }[]
      const changes = new Map<string, boolean[]>()
      const now = new Map<string, boolean>()
      for (const row of rows) {
        const diego = (JSON.parse(row.metadata) as Json).request?.diego
        if (typeof diego !== 'boolean') continue
        const before = now.get(row.actee) ?? original(row.actee)
        if (diego !== before) {
          const list = changes.get(row.actee) ?? []
          list.push(diego)
          changes.set(row.actee, list)
        }
        now.set(row.actee, diego)
      }
      return changes
    } finally {
      db.close()
    }
  }
}

/**
 * The CC's account over its API: every app of the org with its flag, each STARTED one with all its
 * instances RUNNING on its backend (polled: the backends converge on their own clock).
 */
export async function expectAppsRunningPerCc(server: ServerProcess, token: string): Promise<Map<string, Json>> {
  const apps = new Map<string, Json>()
  for (let page = 1; ; page++) {
    const listed = await server.get(`/v2/apps?results-per-page=100&page=${page}`, token)
    for (const app of listed.resources) apps.set(app.metadata.guid, app)
    if (!listed.next_url) break
  }
  const deadline = Date.now() + 30_000
  let problems: string[] = []
  do {
    problems = []
    for (const app of apps.values()) {
      if (app.entity.state !== 'STARTED' || app.entity.package_state !== 'STAGED') continue
      const instances: Json = await server.get(`/v2/apps/${app.metadata.guid}/instances`, token)
      const running = Object.values(instances).filter((i: Json) => i.state === 'RUNNING').length
      if (running !== app.entity.instances)
        problems.push(`${app.entity.name}: ${running}/${app.entity.instances} running`)
    }
    if (problems.length > 0) await new Promise((resolve) => setTimeout(resolve, 500))
  } while (problems.length > 0 && Date.now() < deadline)
  expect(problems.slice(0, 20)).toEqual([])
  return apps
}
