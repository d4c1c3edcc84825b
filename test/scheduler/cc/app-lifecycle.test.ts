// The app lifecycle over the v2 API as the cf CLI drives it (cf scale, cf restart, cf start, cf restage,
// cf restart-app-instance) and as CC 2.54 answers: PUT's fields and version rules, the restage, staging
// on the backend the flag names, /instances while staging, and stopping one index.
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRecord } from '../../../src/scheduler/cc/index.js'
import { call, type Foundation, login, startFoundation } from './support.js'

let f: Foundation
let admin: string
afterEach(() => f?.close())

async function start(config: Parameters<typeof startFoundation>[0] = {}) {
  f = await startFoundation(config)
  admin = (await login(f.url, 'admin', 'admin')).access_token
}

function anApp(state: 'STARTED' | 'STOPPED' = 'STARTED', diego = false): AppRecord {
  const found = f.store.apps().find((a) => a.state === state && a.diego === diego)
  if (found) return found
  const app = f.store.apps().find((a) => a.state === state)!
  return f.store.updateApp(app.guid, { diego }, f.clock.now())
}

const put = (app: AppRecord, body: unknown) => call(f.url, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body })
const restage = (app: AppRecord, token = admin) =>
  call(f.url, `/v2/apps/${app.guid}/restage`, token, { method: 'POST' })

describe('PUT /v2/apps/:guid fields', () => {
  it('changes disk_quota, health_check_type and enable_ssh, and shows them', async () => {
    await start()
    const app = anApp()
    const res = await put(app, { disk_quota: 2048, health_check_type: 'process', enable_ssh: false })
    expect(res.status).toBe(201)
    expect(res.body.entity).toMatchObject({ disk_quota: 2048, health_check_type: 'process', enable_ssh: false })
    expect(f.store.app(app.guid)).toMatchObject({ diskMb: 2048, healthCheckType: 'process', enableSsh: false })
  })

  it('treats null values as absent, as JsonMessage does', async () => {
    await start()
    const app = anApp()
    const res = await put(app, { instances: null, memory: null, name: null, diego: null, state: null })
    expect(res.status).toBe(201)
    expect(f.store.app(app.guid)).toMatchObject({ instances: app.instances, memoryMb: app.memoryMb, diego: false })
  })

  it.each([
    [{ health_check_type: 'http' }, 'The app is invalid: health_check_type must be one of port, none, process'],
    [{ disk_quota: 0 }, 'The app is invalid: disk_quota too little disk requested (must be greater than zero)'],
    [{ disk_quota: 99_999 }, 'The app is invalid: disk_quota too much disk requested (must be less than 16384)'],
    [
      { ports: [8080] },
      'The app is invalid: ports Custom app ports supported for Diego only. Enable Diego for the app or remove custom app ports.',
    ],
  ])('refuses %j on a DEA app with CF-AppInvalid and changes nothing', async (body, description) => {
    await start()
    const app = anApp()
    const res = await put(app, body)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 100001, description, error_code: 'CF-AppInvalid' })
    expect(f.store.app(app.guid)).toBe(app)
  })

  it('takes custom ports on a Diego app, bounds them, and drops them when the app moves to the DEAs', async () => {
    await start()
    const app = anApp('STARTED', true)
    const set = await put(app, { ports: [8080, 9090] })
    expect(set.status).toBe(201)
    expect(set.body.entity.ports).toEqual([8080, 9090])
    expect((await put(app, { ports: [80] })).body.description).toBe(
      'The app is invalid: ports Ports must be in the 1024-65535.',
    )
    const types = await put(app, { ports: ['x'] })
    expect(types.body.error_code).toBe('CF-MessageParseError')
    // `ports: []` is ignored; a move to the DEAs without ports clears them.
    expect((await put(app, { ports: [] })).body.entity.ports).toEqual([8080, 9090])
    const moved = await put(app, { diego: false })
    expect(moved.status).toBe(201)
    expect(moved.body.entity.ports).toBeNull()
    expect(f.store.app(app.guid)!.ports).toBeNull()
    expect((await put(app, { diego: false, ports: [8080] })).body.error_code).toBe('CF-AppInvalid')
  })

  it('bumps the version by CC’s rules: memory, health check, ssh, ports and a start do; instances, disk and diego do not', async () => {
    await start()
    const app = anApp('STARTED', true)
    const versionAfter = async (body: unknown) => (await put(app, body)).body.entity.version as string
    let version = app.version
    for (const body of [
      { instances: 3 },
      { disk_quota: 2048 },
      { diego: false },
      { diego: true },
      { name: 'renamed' },
    ]) {
      const next = await versionAfter(body)
      expect(next, JSON.stringify(body)).toBe(version)
    }
    for (const body of [{ memory: 512 }, { health_check_type: 'none' }, { enable_ssh: false }, { ports: [9000] }]) {
      const next = await versionAfter(body)
      expect(next, JSON.stringify(body)).not.toBe(version)
      version = next
    }
    // A change that would bump it, made while stopped, does not; the start then does.
    expect(await versionAfter({ state: 'STOPPED', memory: 256 })).toBe(version)
    expect(await versionAfter({ state: 'STARTED' })).not.toBe(version)
  })
})

describe('POST /v2/apps/:guid/restage', () => {
  it('stops the app, stages it again on its backend, answers 201 PENDING, and audits audit.app.restage', async () => {
    await start()
    const app = anApp()
    const res = await restage(app)
    expect(res.status).toBe(201)
    expect(res.headers.get('location')).toBe(`/v2/apps/${app.guid}`)
    expect(res.body.entity).toMatchObject({ state: 'STARTED', package_state: 'PENDING' })
    expect(res.body.entity.version).not.toBe(app.version)
    expect(f.dea.calls.map((c) => c.action)).toEqual(['stop', 'stage'])
    const events = await call(f.url, `/v2/events?q=actee:${app.guid}`, admin)
    expect(events.body.resources.map((r: { entity: { type: string; metadata: unknown } }) => r.entity)).toMatchObject([
      { type: 'audit.app.restage', metadata: {} },
    ])
    // Staging ends: STAGED, and only now is the app desired on the DEAs, at its new version.
    f.dea.endStaging(app.guid, { ok: true })
    expect(f.store.app(app.guid)!.packageState).toBe('STAGED')
    expect(f.dea.calls.at(-1)).toMatchObject({ action: 'desire', spec: { version: res.body.entity.version } })
  })

  it('answers NotStaged while a staging is pending', async () => {
    await start()
    const app = anApp()
    await restage(app)
    const again = await restage(app)
    expect(again.status).toBe(400)
    expect(again.body).toEqual({
      code: 170002,
      description: 'App has not finished staging',
      error_code: 'CF-NotStaged',
    })
  })
})

describe('staging and /instances', () => {
  it('answers NotStaged while staging, StagingError after a failed one, and instances once staged', async () => {
    await start()
    const app = anApp('STARTED', true)
    await restage(app)
    expect(f.diego.calls.at(-1)).toMatchObject({ action: 'stage', request: { appGuid: app.guid, stack: 'cflinuxfs2' } })
    const pending = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(pending.status).toBe(400)
    expect(pending.body.error_code).toBe('CF-NotStaged')
    f.diego.endStaging(app.guid, { ok: false, error: 'staging failed: exit status 223' })
    const failed = f.store.app(app.guid)!
    // mark_as_failed_to_stage stops a Diego app; the error is still answered before the stopped check.
    expect(failed).toMatchObject({ packageState: 'FAILED', stagingFailedReason: 'StagingError', state: 'STOPPED' })
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 170001,
      description: 'Staging error: cannot get instances since staging failed',
      error_code: 'CF-StagingError',
    })
    const shown = await call(f.url, `/v2/apps/${app.guid}`, admin)
    expect(shown.body.entity).toMatchObject({
      package_state: 'FAILED',
      staging_failed_reason: 'StagingError',
      staging_failed_description: 'Staging error: staging failed',
    })
    // cf start: staging again, then running.
    const started = await put(app, { state: 'STARTED' })
    expect(started.body.entity.package_state).toBe('PENDING')
    f.diego.endStaging(app.guid, { ok: true })
    f.diego.report(app.guid, [{ index: 0, state: 'RUNNING', since: f.clock.now(), backend: 'diego' }])
    expect((await call(f.url, `/v2/apps/${app.guid}/instances`, admin)).status).toBe(200)
  })

  it('maps Diego’s placement errors to InsufficientResources and NoCompatibleCell', async () => {
    await start()
    const app = anApp('STARTED', true)
    await restage(app)
    f.diego.endStaging(app.guid, { ok: false, error: 'insufficient resources: memory' })
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.body).toEqual({
      code: 170008,
      description: 'Insufficient resources',
      error_code: 'CF-InsufficientResources',
    })
  })

  it('fails a staging still pending after the staging timeout as StagingTimeExpired, 504', async () => {
    await start({ config: { staging: { timeoutMs: 60_000 } } })
    const app = anApp()
    await restage(app)
    await f.clock.advance(60_000)
    const failed = f.store.app(app.guid)!
    // A DEA app stays STARTED when its staging fails.
    expect(failed).toMatchObject({
      packageState: 'FAILED',
      stagingFailedReason: 'StagingTimeExpired',
      state: 'STARTED',
    })
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.status).toBe(504)
    expect(res.body).toEqual({
      code: 170007,
      description: 'Staging time expired: cannot get instances since staging failed',
      error_code: 'CF-StagingTimeExpired',
    })
    // The run's late end changes nothing.
    f.dea.endStaging(app.guid, { ok: true })
    expect(f.store.app(app.guid)!.packageState).toBe('FAILED')
  })

  it('stages bits that no buildpack detected with the same failure again', async () => {
    await start()
    const app = anApp()
    await restage(app)
    f.dea.endStaging(app.guid, { ok: false, error: 'NoAppDetectedError' })
    expect(f.store.app(app.guid)!.stagingFailedReason).toBe('NoAppDetectedError')
    await restage(f.store.app(app.guid)!)
    expect(f.dea.calls.at(-1)).toMatchObject({ action: 'stage', request: { failure: 'NoAppDetectedError' } })
  })
})

describe('DELETE /v2/apps/:guid/instances/:index', () => {
  it('stops that index on the app’s backend and answers 204', async () => {
    await start()
    const app = anApp()
    const res = await call(f.url, `/v2/apps/${app.guid}/instances/1`, admin, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(f.dea.calls).toEqual([{ action: 'stopIndex', appGuid: app.guid, index: 1 }])
  })

  it('needs update access: a developer of another space gets 403 or 404, never a stop', async () => {
    await start()
    const developer = (await login(f.url, 'developer', 'developer')).access_token
    const [, second] = f.store.orgs()
    const app = f.store.apps().find((a) => a.orgGuid === second!.guid)!
    const res = await call(f.url, `/v2/apps/${app.guid}/instances/0`, developer, { method: 'DELETE' })
    expect([403, 404]).toContain(res.status)
    expect(f.dea.calls).toEqual([])
  })
})
