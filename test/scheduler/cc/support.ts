// Test support for the CC: a recording RuntimeBackend (the edge the CC talks to; the real engines are
// tested on their own) and a harness that serves a real CC on 127.0.0.1:0 for plain-HTTP tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type {
  AppSpec,
  BackendCapacity,
  BackendName,
  InstanceStatus,
  RuntimeBackend,
  StagingOutcome,
  StagingRequest,
} from '../../../src/scheduler/backend.js'
import {
  type CloudController,
  type CloudControllerConfig,
  createCloudController,
  openStore,
  type SeedSize,
  type Store,
  seed,
} from '../../../src/scheduler/cc/index.js'
import { FakeClock } from '../../../src/scheduler/clock.js'

export type BackendCallRecord =
  | { action: 'desire'; spec: AppSpec }
  | { action: 'stop'; appGuid: string }
  | { action: 'stage'; request: StagingRequest }
  | { action: 'stopIndex'; appGuid: string; index: number }

/** Records the CC's messages and reports whatever instances a test sets. */
export class RecordingBackend implements RuntimeBackend {
  readonly calls: BackendCallRecord[] = []
  private readonly reports = new Map<string, InstanceStatus[]>()

  constructor(readonly name: BackendName) {}

  desire(spec: AppSpec): void {
    this.calls.push({ action: 'desire', spec })
  }

  stop(appGuid: string): void {
    this.calls.push({ action: 'stop', appGuid })
  }

  /** Staging runs asked for and not yet ended, by app guid; a test ends them with endStaging. */
  readonly stagings = new Map<string, (outcome: StagingOutcome) => void>()

  stage(request: StagingRequest, done: (outcome: StagingOutcome) => void): void {
    this.calls.push({ action: 'stage', request })
    this.stagings.set(request.appGuid, done)
  }

  endStaging(appGuid: string, outcome: StagingOutcome): void {
    const done = this.stagings.get(appGuid)
    if (!done) throw new Error(`no staging of ${appGuid} is under way`)
    this.stagings.delete(appGuid)
    done(outcome)
  }

  stopIndex(appGuid: string, index: number): void {
    this.calls.push({ action: 'stopIndex', appGuid, index })
  }

  instances(appGuid: string): InstanceStatus[] {
    return this.reports.get(appGuid) ?? []
  }

  report(appGuid: string, statuses: InstanceStatus[]): void {
    this.reports.set(appGuid, statuses)
  }

  /** What capacity() answers; a test may set it. */
  capacityReport: BackendCapacity = {
    total: { memoryMb: 0, diskMb: 0, containers: 0 },
    used: { memoryMb: 0, diskMb: 0, containers: 0 },
    nodes: 0,
    nodesUp: 0,
  }

  capacity(): BackendCapacity {
    return this.capacityReport
  }

  start(): void {}

  shutdown(): void {}
}

export interface Foundation {
  url: string
  cc: CloudController
  store: Store
  clock: FakeClock
  dea: RecordingBackend
  diego: RecordingBackend
  close(): Promise<void>
}

export interface FoundationOptions {
  seed?: SeedSize | false
  config?: CloudControllerConfig
  store?: Store
  clock?: FakeClock
  attach?: boolean
}

/** The data file of each built-in seed, as bytes: seeded once per test process. */
const seededFiles = new Map<SeedSize, Buffer>()

/**
 * A store holding a built-in seed, as `seed(openStore(), size)` leaves one: a copy of a data file seeded once
 * per test process. Seeding hashes eight users' passwords with scrypt (about 0.35 s of CPU) and the CC tests
 * start hundreds of foundations; a copy costs a millisecond. Like a fresh store, each copy makes its own
 * token-signing key and quota guid when it opens, so a token of one foundation is still refused by another.
 */
function aSeededStore(size: SeedSize): { store: Store; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-cc-'))
  const file = join(dir, 'foundation.db')
  let seeded = seededFiles.get(size)
  if (!seeded) {
    const store = openStore({ path: file })
    seed(store, size)
    store.close()
    const db = new DatabaseSync(file)
    db.exec("DELETE FROM meta WHERE key IN ('token_signing_key', 'default_quota_definition_guid')")
    db.close()
    seeded = readFileSync(file)
    seededFiles.set(size, seeded)
  }
  writeFileSync(file, seeded, { mode: 0o600 })
  const store = openStore({ path: file })
  return {
    store,
    remove: () => {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function startFoundation(options: FoundationOptions = {}): Promise<Foundation> {
  const clock = options.clock ?? new FakeClock()
  let store = options.store
  let remove = () => {}
  if (!store && options.seed !== false) ({ store, remove } = aSeededStore(options.seed ?? 'small'))
  else {
    store ??= openStore()
    if (options.seed !== false) seed(store, options.seed ?? 'small')
  }
  const logs: string[] = []
  const cc = createCloudController({ store, clock, config: { log: (line) => logs.push(line), ...options.config } })
  const dea = new RecordingBackend('dea')
  const diego = new RecordingBackend('diego')
  if (options.attach !== false) cc.attachBackends({ dea, diego })
  const server = createServer(cc.handle)
  const url = await listen(server)
  return {
    url,
    cc,
    store,
    clock,
    dea,
    diego,
    close: async () => {
      await close(server)
      remove()
    },
  }
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  })
}

function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** The cf CLI's login: password grant for client `cf` with an empty secret, via HTTP Basic. */
export async function login(url: string, username: string, password: string): Promise<TokenAnswer> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: 'Basic Y2Y6', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, scope: '' }),
  })
  if (res.status !== 200) throw new Error(`login as ${username} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as TokenAnswer
}

export interface TokenAnswer {
  access_token: string
  token_type: string
  refresh_token?: string
  expires_in: number
  scope: string
  jti: string
}

/** Parsed JSON that tests assert on shape by shape; typed loosely on purpose, here only. */
// biome-ignore lint/suspicious/noExplicitAny: answers are checked by the assertions, not by the compiler
export type Json = any

export interface Answer<T = Json> {
  status: number
  body: T
  headers: Headers
}

/** The headers and body of a test's API call: a bearer token (or none); `rawBody` is sent as is, `body` as JSON. */
export function callOf(
  token: string | null,
  init: { body?: unknown; rawBody?: string },
): { headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = {}
  if (token !== null) headers.authorization = `bearer ${token}`
  let body: string | undefined
  if (init.rawBody !== undefined) body = init.rawBody
  else if (init.body !== undefined) body = JSON.stringify(init.body)
  if (body !== undefined) headers['content-type'] = 'application/json'
  return { headers, body }
}

/** A call to the API with a bearer token (or none), answering the status and the parsed JSON. */
export async function call<T = Json>(
  url: string,
  path: string,
  token: string | null,
  init: { method?: string; body?: unknown; rawBody?: string } = {},
): Promise<Answer<T>> {
  const res = await fetch(`${url}${path}`, { method: init.method ?? 'GET', ...callOf(token, init) })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: res.headers }
}

/** The first-org/second-org split of the small seed: what the developer can and cannot see. */
export function orgsOf(store: Store) {
  const [first, second] = store.orgs()
  if (!first || !second) throw new Error('the seed has fewer than two orgs')
  const appsOf = (orgGuid: string) => store.apps().filter((a) => a.orgGuid === orgGuid)
  return { first, second, firstApps: appsOf(first.guid), secondApps: appsOf(second.guid) }
}

/** An org `acme` with a space `dev`, and a domain `apps.test`, made in `store` at `at`. */
export function aSpace(store: Store, at = Date.UTC(2026, 0, 1)) {
  const org = store.createOrg({ name: 'acme', at })
  const space = store.createSpace({ orgGuid: org.guid, name: 'dev', at })
  const domain = store.createDomain('apps.test')
  return { org, space, domain }
}
