// The acceptance harness of `cfctl migrate`: a real Foundation on 127.0.0.1 seeded from a file written here,
// the CLI run as its own process (run to the end, or streamed line by line so a test can kill it), a record
// of every change the CC applied to each app (the fault-injecting proxy is test/support/fault-proxy.ts).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { AppRecord } from '../../src/scheduler/cc/store.js'
import { Foundation, type FoundationOptions } from '../../src/scheduler/foundation.js'
import { aCliHome, type CliHome, type CliResult, cliEntry } from '../cli/run-cli.js'
import { type FaultMix, FaultProxy } from '../support/fault-proxy.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Parsed JSON lines; typed loosely on purpose, the assertions check them. */
// biome-ignore lint/suspicious/noExplicitAny: events are checked by the assertions, not by the compiler
export type Json = any

export const FLEET_ORG = 'fleet'
export const BYSTANDER_ORG = 'bystanders'

export interface FleetShape {
  /** Apps in the org that moves, spread over spaces of 50. */
  apps: number
  /** Every n-th app is STOPPED (default 10: one in ten). */
  stoppedEvery?: number
  /** Apps in another org that no test selects. */
  bystanders?: number
}

/** A seed file (the format of src/scheduler/cc/seed.ts) of small apps, 1 to 3 instances of 128 MB. */
export function writeSeedFile(dir: string, shape: FleetShape): string {
  const stoppedEvery = shape.stoppedEvery ?? 10
  const app = (i: number) => ({
    name: `app-${String(i).padStart(5, '0')}`,
    instances: 1 + (i % 3),
    memory: 128,
    disk_quota: 256,
    state: (i + 1) % stoppedEvery === 0 ? 'STOPPED' : 'STARTED',
  })
  const spaces: { name: string; apps: unknown[] }[] = []
  for (let i = 0; i < shape.apps; i++) {
    const s = Math.floor(i / 50)
    spaces[s] ??= { name: `space-${s + 1}`, apps: [] }
    spaces[s]!.apps.push(app(i))
  }
  const orgs = [{ name: FLEET_ORG, spaces }]
  if (shape.bystanders)
    orgs.push({
      name: BYSTANDER_ORG,
      spaces: [{ name: 'prod', apps: Array.from({ length: shape.bystanders }, (_, i) => app(i)) }],
    })
  const path = join(dir, 'seed.json')
  writeFileSync(path, JSON.stringify({ orgs }))
  return path
}

export function aTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cfctl-migration-'))
}

/** What the CC applied to one app: every update it committed, and those that changed `diego`. */
export interface AppHistory {
  updates: number
  diegoChanges: boolean[]
}

/**
 * A foundation whose store reports every committed app update: the server side's own account of flips,
 * independent of what the client journaled.
 */
export class WatchedFoundation {
  readonly history = new Map<string, AppHistory>()
  readonly original = new Map<string, boolean>()

  private constructor(readonly foundation: Foundation) {
    for (const app of foundation.store.apps()) this.original.set(app.guid, app.diego)
    const store = foundation.store
    const update = store.updateApp.bind(store)
    store.updateApp = (guid, patch, at) => {
      const before = store.app(guid)
      const after = update(guid, patch, at)
      const entry = this.historyOf(guid)
      entry.updates++
      if (before && before.diego !== after.diego) entry.diegoChanges.push(after.diego)
      return after
    }
  }

  static async start(options: FoundationOptions): Promise<WatchedFoundation> {
    return new WatchedFoundation(await Foundation.start({ log: () => {}, ...options }))
  }

  historyOf(guid: string): AppHistory {
    let entry = this.history.get(guid)
    if (!entry) this.history.set(guid, (entry = { updates: 0, diegoChanges: [] }))
    return entry
  }

  get apiUrl(): string {
    return this.foundation.apiUrl
  }

  appsOf(org: string): AppRecord[] {
    const store = this.foundation.store
    const o = store.orgs().find((x) => x.name === org)
    if (!o) throw new Error(`no org ${org}`)
    return store.spacesOfOrg(o.guid).flatMap((space) => [...store.appsInSpace(space.guid)])
  }

  /** How many instances of the app run on its backend now, as the CC would report them. */
  runningInstances(app: AppRecord): number {
    const backend = app.diego ? this.foundation.diego : this.foundation.dea
    const running = new Set<number>()
    for (const instance of backend.instances(app.guid))
      if (instance.state === 'RUNNING' && instance.index < app.instances) running.add(instance.index)
    return running.size
  }

  stop(): Promise<void> {
    return this.foundation.stop()
  }
}

/** A user of the CLI logged in as admin at `apiUrl` (which may be a proxy in front of the CC). */
export async function anAdminAt(apiUrl: string): Promise<CliHome> {
  const home = aCliHome()
  const login = await home.run(['login', '-a', apiUrl, '-u', 'admin', '-p', 'admin'])
  expect(login.stderr, 'login').toBe('')
  expect(login.code, 'login').toBe(0)
  return home
}

export function jsonLines(stdout: string): Json[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line)
      } catch {
        throw new Error(`not a JSON line: ${line}`)
      }
    })
}

export function summaryOf(result: CliResult): Json {
  const summary = jsonLines(result.stdout).find((e) => e.type === 'summary')
  if (!summary) throw new Error(`no summary (exit ${result.code}); stderr: ${result.stderr}`)
  return summary
}

/** The migration id of a run's JSON lines (every event carries it). */
export function migrationIdOf(lines: Json[]): string {
  const id = lines.find((e) => typeof e.migrationId === 'string')?.migrationId
  if (!id) throw new Error(`no migrationId in ${JSON.stringify(lines.slice(0, 3))}`)
  return id
}

/** cfctl as its own process, its stdout read a JSON line at a time, so that a test can act between lines. */
export class StreamedCli {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: Json[] = []
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private buffer = ''
  private waiters: Array<() => void> = []

  constructor(home: CliHome, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: root,
      env: { ...home.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child.stdin.end()
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffer += chunk
      let at = this.buffer.indexOf('\n')
      while (at >= 0) {
        const line = this.buffer.slice(0, at)
        this.buffer = this.buffer.slice(at + 1)
        if (line.trim() !== '') this.lines.push(JSON.parse(line))
        at = this.buffer.indexOf('\n')
      }
      this.wake()
    })
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.wake()
        resolve({ code, signal })
      })
    })
  }

  get pid(): number {
    return this.child.pid!
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves once a line satisfies `test` (true), or the process has ended without one (false). */
  async waitFor(test: (line: Json, index: number) => boolean, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.lines.some(test)) return true
      if (!this.running) return this.lines.some(test)
      if (Date.now() > deadline) throw new Error(`timed out waiting for a line; stderr: ${this.stderr}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}

// The engine's seeded PRNG, so that a failing run repeats with the seed it prints.
import { mulberry32 } from '../../src/scheduler/random.js'

export type { CliHome, CliResult }
export { mulberry32 }

/** A watched foundation seeded with `apps` fleet apps, an admin logged in (through `proxy` when given). */
export interface Fleet {
  world: WatchedFoundation
  admin: CliHome
  proxy: FaultProxy | undefined
  stop(): Promise<void>
}

/**
 * The setup of the acceptance and chaos tests that run cfctl against a foundation in this process: the
 * fleet at --speed 50, optionally behind a fault proxy (armed once the admin has logged in through it).
 */
export async function startFleet(
  apps: number,
  options: { proxy?: { mix: FaultMix; seed: number; putMix?: FaultMix }; bystanders?: number } = {},
): Promise<Fleet> {
  const world = await WatchedFoundation.start({
    seed: writeSeedFile(aTempDir(), { apps, bystanders: options.bystanders }),
    speed: 50,
  })
  const given = options.proxy
  const proxy = given ? await FaultProxy.start(world.apiUrl, given.mix, given.seed, given.putMix) : undefined
  const admin = await anAdminAt(proxy?.url ?? world.apiUrl)
  if (proxy) proxy.armed = true
  return {
    world,
    admin,
    proxy,
    stop: async () => {
      await proxy?.stop()
      await world.stop()
    },
  }
}

/** `cfctl migrate` of the fleet org to Diego, N at a time, probing every 200 ms, without asking, in JSON. */
export function migrateFleetArgs(maxInFlight: number, to: 'diego' | 'dea' = 'diego'): string[] {
  const args = ['migrate', '--to', to, '--org', FLEET_ORG, '--max-in-flight', String(maxInFlight)]
  return [...args, '--probe-interval', '200ms', '--yes', '--json']
}

/** One run of cfctl in a killAtRandom series. */
export interface KilledRun {
  cli: StreamedCli
  killed: boolean
  code: number | null
}

/**
 * Runs `args`, then `again(first run)`, until a run ends on its own, killing the first `kills` runs with
 * SIGKILL at a random point: after 1 to `maxLines` lines (counted from the first line that names the
 * migration, so that the plan's lines do not count), plus up to `maxDelayMs`. Throws if a run that was not
 * killed fails to start a migration.
 */
export async function killAtRandom(options: {
  home: CliHome
  random: () => number
  kills: number
  args: string[]
  again: (first: StreamedCli) => string[]
  maxLines: number
  maxDelayMs: number
  /** The line from which a run's kill point is counted; default the run's first line naming its migration. */
  armedBy?: (line: Json) => boolean
}): Promise<{ runs: KilledRun[]; kills: number; last: StreamedCli }> {
  const { home, random } = options
  const runs: KilledRun[] = []
  let kills = 0
  let first: StreamedCli | undefined
  for (let attempt = 0; attempt < options.kills + 10; attempt++) {
    const cli = new StreamedCli(home, first ? options.again(first) : options.args)
    first ??= cli
    let killed = false
    if (kills < options.kills) {
      const armed = options.armedBy ?? ((line: Json) => typeof line.migrationId === 'string')
      const named = await cli.waitFor(armed)
      if (!named) throw new Error(`run ${attempt} never got going: ${cli.stderr}`)
      const start = cli.lines.findIndex(armed)
      const k = 1 + Math.floor(random() * options.maxLines)
      await cli.waitFor((_, i) => i >= start + k - 1)
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * options.maxDelayMs)))
      killed = cli.running && cli.child.kill('SIGKILL')
    }
    const exit = await cli.exited
    runs.push({ cli, killed: killed && exit.signal === 'SIGKILL', code: exit.code })
    if (runs.at(-1)!.killed) kills++
    else break
  }
  return { runs, kills, last: runs.at(-1)!.cli }
}
