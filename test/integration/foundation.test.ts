// The embedded foundation as a client sees it: a real Foundation (CC, Diego engine, DEA pool, router)
// on 127.0.0.1 ports picked by the OS, driven over plain HTTP. The backends run on a FakeClock, so a
// boot or a convergence pass costs no wall time; the CC keeps real time, as the server does.
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import type { AppRecord } from '../../src/scheduler/cc/index.js'
import { Foundation, FoundationOptionError, type FoundationOptions } from '../../src/scheduler/foundation.js'
import { type Answer, api, type Json, login, tokenFor, viaRouter, walk } from './support.js'

interface Running {
  foundation: Foundation
  clock: FakeClock
}

/** A foundation whose backends have booted what the seed started. */
async function startFoundation(options: FoundationOptions = {}): Promise<Running> {
  const clock = new FakeClock()
  const foundation = await Foundation.start({ seed: 'small', engineClock: clock, log: () => {}, ...options })
  await clock.advanceUntil(() => everyStartedAppRuns(foundation), { step: 1_000, limit: 120_000 })
  return { foundation, clock }
}

function everyStartedAppRuns(f: Foundation): boolean {
  return f.store
    .apps()
    .filter((app) => app.state === 'STARTED' && app.packageState === 'STAGED')
    .every((app) => allRunning(f, app))
}

function allRunning(f: Foundation, app: AppRecord): boolean {
  const backend = app.diego ? f.diego : f.dea
  const states = backend.instances(app.guid).map((s) => s.state)
  return states.length === app.instances && states.every((s) => s === 'RUNNING')
}

function hostnameOf(app: AppRecord): string {
  return app.routes[0]!.hostname
}

/** A started app on the DEAs with at least `instances` instances, in a space the developer has. */
function aStartedDeaApp(f: Foundation, options: { instances?: number; developers?: boolean } = {}): AppRecord {
  const developer = f.store.userNamed(f.users.developer.username)!
  const spaces = f.store.developerSpaceGuids(developer.guid)
  const app = f.store
    .apps()
    .find(
      (a) =>
        a.state === 'STARTED' &&
        a.packageState === 'STAGED' &&
        !a.diego &&
        a.instances >= (options.instances ?? 1) &&
        (options.developers === undefined || spaces.has(a.spaceGuid) === options.developers),
    )
  if (!app) throw new Error('the seed has no such app')
  return app
}

function expectNoServerError(res: Answer): void {
  expect(res.status).toBeLessThan(500)
  expect(res.body).toEqual(
    expect.objectContaining({
      code: expect.any(Number),
      description: expect.any(String),
      error_code: expect.any(String),
    }),
  )
  expect(res.body.error_code).toMatch(/^CF-/)
}

describe('the embedded foundation over HTTP', () => {
  let f: Foundation
  let clock: FakeClock
  let admin: string
  let developer: string

  beforeAll(async () => {
    ;({ foundation: f, clock } = await startFoundation())
    admin = await tokenFor(f.apiUrl, 'admin', 'admin')
    developer = await tokenFor(f.apiUrl, 'developer', 'developer')
  })
  afterAll(() => f.stop())

  it('binds the loopback address on ports the OS picked', () => {
    expect(f.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(f.routerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(f.apiUrl).not.toBe(f.routerUrl)
  })

  it('logs in with the password grant of client cf and an empty secret', async () => {
    const res = await login(f.apiUrl, 'admin', 'admin')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ token_type: 'bearer', access_token: expect.any(String) })
    expect(res.body.refresh_token).toEqual(expect.any(String))
    expect(res.body.scope.split(' ')).toContain('cloud_controller.admin')
    const wrong = await login(f.apiUrl, 'admin', 'not-the-password')
    expect(wrong.status).toBe(401)
    expect(wrong.body.error).toBe('unauthorized')
  })

  it('points /v2/info at its token endpoint and, as an extension, at its router', async () => {
    const res = await api(f.apiUrl, '/v2/info', null)
    expect(res.status).toBe(200)
    expect(res.body.token_endpoint).toBe(f.apiUrl)
    expect(res.body.x_cfctl_router_url).toBe(f.routerUrl)
  })

  it('lists apps with q filters, and next_url walks to the end with every match exactly once', async () => {
    const org = f.store.orgs()[0]!.guid
    const expected = f.store.apps().filter((a) => !a.diego && a.orgGuid === org)
    const { resources, totals, pages } = await walk(
      f.apiUrl,
      `/v2/apps?q=diego:false&q=organization_guid:${org}&results-per-page=7`,
      admin,
    )
    expect(totals.every((t) => t === expected.length)).toBe(true)
    expect(resources).toHaveLength(expected.length)
    expect(pages).toBe(Math.ceil(expected.length / 7))
    expect(resources.map((r: Json) => r.metadata.guid)).toEqual(expected.map((a) => a.guid))
    for (const r of resources) expect(r.entity).toMatchObject({ diego: false })
  })

  it('ANDs filters joined with ; and takes IN lists', async () => {
    const [first, second] = f.store.orgs()
    const inBoth = f.store.apps().filter((a) => a.orgGuid === first!.guid || a.orgGuid === second!.guid)
    const res = await walk(
      f.apiUrl,
      `/v2/apps?q=${encodeURIComponent(`organization_guid IN ${first!.guid},${second!.guid};diego:false`)}&results-per-page=10`,
      admin,
    )
    expect(res.resources.map((r: Json) => r.metadata.guid)).toEqual(inBoth.filter((a) => !a.diego).map((a) => a.guid))
  })

  it('shows a space developer only the apps of their spaces', async () => {
    const user = f.store.userNamed('developer')!
    const spaces = f.store.developerSpaceGuids(user.guid)
    const { resources } = await walk(f.apiUrl, '/v2/apps?results-per-page=100', developer)
    expect(resources.length).toBe(f.store.apps().filter((a) => spaces.has(a.spaceGuid)).length)
    for (const r of resources) expect(spaces.has(r.entity.space_guid)).toBe(true)
  })

  it('serves many different pages at once, each with exactly its own apps', async () => {
    const apps = f.store.apps()
    const pages = Array.from({ length: Math.ceil(apps.length / 3) }, (_, i) => i + 1)
    const answers = await Promise.all(
      [...pages, ...pages].map((page) => api(f.apiUrl, `/v2/apps?results-per-page=3&page=${page}`, admin)),
    )
    answers.forEach((res, i) => {
      const page = [...pages, ...pages][i]!
      expect(res.status).toBe(200)
      const want = apps.slice((page - 1) * 3, page * 3).map((a) => a.guid)
      expect(res.body.resources.map((r: Json) => r.metadata.guid)).toEqual(want)
    })
  })

  it('moves an app to Diego when an admin flips diego: its instances run there and leave the DEAs', async () => {
    const app = aStartedDeaApp(f, { instances: 2 })
    const before = await viaRouter(f.routerUrl, hostnameOf(app))
    expect(before.status).toBe(200)
    expect(before.headers['x-cfctl-backend']).toBe('dea')

    const flip = await api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { diego: true } })
    expect(flip.status).toBe(201)
    expect(flip.body.entity.diego).toBe(true)

    await clock.advanceUntil(
      () => allRunning(f, f.store.app(app.guid)!) && f.dea.instancesOnDeas(app.guid).length === 0,
      { step: 1_000, limit: 300_000 },
    )
    const instances = await api(f.apiUrl, `/v2/apps/${app.guid}/instances`, admin)
    expect(instances.status).toBe(200)
    expect(Object.keys(instances.body)).toHaveLength(app.instances)
    for (const instance of Object.values(instances.body) as Json[]) expect(instance.state).toBe('RUNNING')
    expect(f.diego.instances(app.guid).every((s) => s.backend === 'diego')).toBe(true)
    // Every endpoint the router still has for the app is a Diego one.
    for (let i = 0; i < app.instances * 2; i++) {
      const res = await viaRouter(f.routerUrl, hostnameOf(app))
      expect(res.status).toBe(200)
      expect(res.headers['x-cfctl-backend']).toBe('diego')
      expect(res.body.app_guid).toBe(app.guid)
    }
  })

  it('lets a space developer flip diego while users_can_select_backend is on (the default)', async () => {
    const app = aStartedDeaApp(f, { developers: true })
    const res = await api(f.apiUrl, `/v2/apps/${app.guid}`, developer, { method: 'PUT', body: { diego: true } })
    expect(res.status).toBe(201)
    expect(res.body.entity.diego).toBe(true)
    expect(f.store.app(app.guid)!.diego).toBe(true)
  })

  it('routes a running app (200), 502s a stopped one and 404s a host nobody owns', async () => {
    const app = aStartedDeaApp(f, { instances: 1 })
    const running = await viaRouter(f.routerUrl, hostnameOf(app))
    expect(running.status).toBe(200)
    expect(running.body).toMatchObject({ app_guid: app.guid, backend: 'dea' })
    expect(running.body.index).toBeGreaterThanOrEqual(0)

    const stop = await api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { state: 'STOPPED' } })
    expect(stop.status).toBe(201)
    await clock.advanceUntil(() => f.routes.lookup(hostnameOf(app)).length === 0, { step: 1_000, limit: 120_000 })
    const stopped = await viaRouter(f.routerUrl, hostnameOf(app))
    expect(stopped.status).toBe(502)
    expect(stopped.headers['x-cf-routererror']).toBe('no_endpoints')

    const unknown = await viaRouter(f.routerUrl, 'nobody-owns-this.apps.internal')
    expect(unknown.status).toBe(404)
    expect(unknown.headers['x-cf-routererror']).toBe('unknown_route')
  })

  it('answers a stopped app’s instances with CC’s error, not a 500', async () => {
    const stopped = f.store.apps().find((a) => a.state === 'STOPPED')!
    const res = await api(f.apiUrl, `/v2/apps/${stopped.guid}/instances`, admin)
    expect(res.status).toBe(400)
    expect(res.body.error_code).toBe('CF-InstancesError')
  })

  it('reports each backend’s capacity to an admin, as an extension, and refuses a developer', async () => {
    const res = await api(f.apiUrl, '/v2/x-cfctl/backends', admin)
    expect(res.status).toBe(200)
    const dea = f.dea.capacity()
    const diego = f.diego.capacity()
    expect(res.body.dea).toEqual({
      nodes: dea.nodes,
      nodes_up: dea.nodesUp,
      memory_mb: { total: dea.total.memoryMb, used: dea.used.memoryMb },
      disk_mb: { total: dea.total.diskMb, used: dea.used.diskMb },
      // DEAs have no container limit: no total, only what runs.
      containers: { total: null, used: dea.used.containers },
    })
    expect(res.body.diego.containers.used).toBe(diego.used.containers)
    expect(res.body.diego.containers.used).toBeGreaterThan(0) // the apps flipped above run there
    const refused = await api(f.apiUrl, '/v2/x-cfctl/backends', developer)
    expect(refused.status).toBe(403)
    expect(refused.body.error_code).toBe('CF-NotAuthorized')
  })

  describe('bad input gets a CF error, never a 500', () => {
    it('a forged token (claims changed, old signature) and one signed with another key', async () => {
      const [header, payload, signature] = admin.split('.') as [string, string, string]
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      claims.scope = [...claims.scope, 'cloud_controller.admin']
      claims.user_id = f.store.userNamed('developer')!.guid
      const forged = Buffer.from(JSON.stringify(claims)).toString('base64url')
      const otherKey = createHmac('sha256', 'not the key').update(`${header}.${forged}`).digest('base64url')
      for (const token of [`${header}.${forged}.${signature}`, `${header}.${forged}.${otherKey}`, 'not-a-jwt']) {
        const res = await api(f.apiUrl, '/v2/apps', token)
        expect(res.status).toBe(401)
        expect(res.body).toMatchObject({ code: 1000, error_code: 'CF-InvalidAuthToken' })
      }
      const none = await api(f.apiUrl, '/v2/apps', null)
      expect(none.status).toBe(401)
      expect(none.body.error_code).toBe('CF-NotAuthenticated')
    })

    it('malformed JSON and fields of the wrong type change nothing', async () => {
      const app = aStartedDeaApp(f)
      const before = f.store.app(app.guid)
      for (const rawBody of ['{"diego": tru', '[]', '"diego"', '{"instances":"3"}', '{"diego":"yes"}']) {
        const res = await api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', rawBody })
        expect(res.status).toBe(400)
        expect(res.body).toMatchObject({ code: 1001, error_code: 'CF-MessageParseError' })
      }
      expect(f.store.app(app.guid)).toBe(before)
    })

    it('out-of-range values, unknown guids, bad q filters and unknown paths', async () => {
      const app = aStartedDeaApp(f)
      const answers = await Promise.all([
        api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { instances: -1 } }),
        api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { memory: 0 } }),
        api(f.apiUrl, '/v2/apps/no-such-guid', admin),
        api(f.apiUrl, '/v2/apps/no-such-guid', admin, { method: 'PUT', body: { diego: true } }),
        api(f.apiUrl, '/v2/apps?q=colour:blue', admin),
        api(f.apiUrl, '/v2/apps?q=state:STARTED', admin),
        api(f.apiUrl, '/v2/apps?results-per-page=101', admin),
        api(f.apiUrl, '/v2/apps?page=zero', admin),
        api(f.apiUrl, '/v2/nothing-here', admin),
      ])
      for (const res of answers) expectNoServerError(res)
      expect(answers.map((r) => r.status)).toEqual([400, 400, 404, 404, 400, 400, 400, 400, 404])
      expect(answers[4]!.body.error_code).toBe('CF-BadQueryParameter')
      expect(answers[2]!.body.error_code).toBe('CF-AppNotFound')
    })
  })
})

describe('the seeded instances at start', () => {
  it('are every one placed, on both backends, by the time the API answers: no engine time has passed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfctl-seed-'))
    const seedFile = join(dir, 'seed.json')
    const apps = Array.from({ length: 12 }, (_, i) => ({
      name: `app-${i}`,
      instances: 1 + (i % 4),
      state: 'STARTED',
      diego: i % 2 === 0,
    }))
    writeFileSync(seedFile, JSON.stringify({ orgs: [{ name: 'o', spaces: [{ name: 's', apps }] }] }))
    const clock = new FakeClock()
    const f = await Foundation.start({ seed: seedFile, engineClock: clock, log: () => {} })
    try {
      const started = f.store.apps().filter((app) => app.state === 'STARTED')
      const onDiego = started.filter((app) => app.diego).reduce((sum, app) => sum + app.instances, 0)
      const onDea = started.filter((app) => !app.diego).reduce((sum, app) => sum + app.instances, 0)
      expect(onDiego).toBeGreaterThan(0)
      expect(f.diego.queuedAuctions).toBe(0)
      expect(f.diego.bbs.count('UNCLAIMED')).toBe(0)
      expect(f.diego.bbs.count('CLAIMED')).toBe(onDiego)
      expect(f.dea.allInstances().filter((i) => i.state === 'STARTING')).toHaveLength(onDea)
    } finally {
      await f.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('users_can_select_backend off (--no-users-can-select-backend)', () => {
  let f: Foundation
  let admin: string
  let developer: string

  beforeAll(async () => {
    ;({ foundation: f } = await startFoundation({ usersCanSelectBackend: false }))
    admin = await tokenFor(f.apiUrl, 'admin', 'admin')
    developer = await tokenFor(f.apiUrl, 'developer', 'developer')
  })
  afterAll(() => f.stop())

  it('refuses a space developer’s flip with 403 CF-BackendSelectionNotAuthorized and changes nothing', async () => {
    const app = aStartedDeaApp(f, { developers: true })
    const res = await api(f.apiUrl, `/v2/apps/${app.guid}`, developer, { method: 'PUT', body: { diego: true } })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({
      code: 320005,
      description: 'You cannot select the backend on which to run this application',
      error_code: 'CF-BackendSelectionNotAuthorized',
    })
    const after = await api(f.apiUrl, `/v2/apps/${app.guid}`, developer)
    expect(after.body.entity.diego).toBe(false)
    expect(f.diego.instances(app.guid)).toEqual([])
  })

  it('lets the developer repeat the current value, and an admin flip it', async () => {
    const app = aStartedDeaApp(f, { developers: true })
    const same = await api(f.apiUrl, `/v2/apps/${app.guid}`, developer, { method: 'PUT', body: { diego: false } })
    expect(same.status).toBe(201)
    const byAdmin = await api(f.apiUrl, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { diego: true } })
    expect(byAdmin.status).toBe(201)
    expect(byAdmin.body.entity.diego).toBe(true)
  })
})

describe('a restart with a data file', () => {
  let dir: string

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-foundation-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps the diego flags (and the rest of the store), and runs each app where its flag says', async () => {
    const dataFile = join(dir, 'foundation.db')
    const first = await startFoundation({ dataFile })
    const flipped = aStartedDeaApp(first.foundation, { instances: 1 })
    const appCount = first.foundation.store.apps().length
    const token = await tokenFor(first.foundation.apiUrl, 'admin', 'admin')
    const flip = await api(first.foundation.apiUrl, `/v2/apps/${flipped.guid}`, token, {
      method: 'PUT',
      body: { diego: true },
    })
    expect(flip.status).toBe(201)
    await first.foundation.stop()

    const second = await startFoundation({ dataFile })
    try {
      const f = second.foundation
      expect(f.apiUrl).not.toBe(first.foundation.apiUrl)
      // The signing key is kept too, so a token from before the restart still works.
      const app = await api(f.apiUrl, `/v2/apps/${flipped.guid}`, token)
      expect(app.status).toBe(200)
      expect(app.body.entity.diego).toBe(true)
      const onDiego = await api(f.apiUrl, '/v2/apps?q=diego:true', token)
      expect(onDiego.body.resources.map((r: Json) => r.metadata.guid)).toEqual([flipped.guid])
      const all = await api(f.apiUrl, '/v2/apps?results-per-page=1', token)
      expect(all.body.total_results).toBe(appCount)
      expect(f.dea.instancesOnDeas(flipped.guid)).toEqual([])
      const instances = await api(f.apiUrl, `/v2/apps/${flipped.guid}/instances`, token)
      for (const instance of Object.values(instances.body) as Json[]) expect(instance.state).toBe('RUNNING')
    } finally {
      await second.foundation.stop()
    }
  })
})

describe('options the foundation cannot start with', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-foundation-options-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  async function refusal(options: FoundationOptions): Promise<FoundationOptionError> {
    const error = await Foundation.start({ engineClock: new FakeClock(), log: () => {}, ...options }).then(
      (f) => f.stop().then(() => undefined),
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(FoundationOptionError)
    return error as FoundationOptionError
  }

  it('names the seed when its file is missing or malformed', async () => {
    expect(await refusal({ seed: join(dir, 'missing.json') })).toMatchObject({ option: 'seed' })
    const duplicate = join(dir, 'duplicate.json')
    writeFileSync(
      duplicate,
      JSON.stringify({ orgs: [{ name: 'acme', spaces: [{ name: 'dev', apps: [] }] }, { name: 'acme' }] }),
    )
    const error = await refusal({ seed: duplicate })
    expect(error.option).toBe('seed')
    expect(error.message).toMatch(/acme/)
  })

  it('names the data file when it cannot be opened', async () => {
    const error = await refusal({ dataFile: join(dir, 'no', 'such', 'dir', 'f.db') })
    expect(error.option).toBe('dataFile')
  })

  it('names the port when it is taken', async () => {
    const { foundation: f } = await startFoundation()
    try {
      const port = Number(new URL(f.apiUrl).port)
      const error = await refusal({ port })
      expect(error.option).toBe('port')
      expect(error.message).toBe(`127.0.0.1:${port} is already in use`)
    } finally {
      await f.stop()
    }
  })
})
