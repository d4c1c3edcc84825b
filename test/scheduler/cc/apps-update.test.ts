import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRecord } from '../../../src/scheduler/cc/index.js'
import { call, type Foundation, login, orgsOf, startFoundation } from './support.js'

let f: Foundation
afterEach(() => f?.close())

async function start(usersCanSelectBackend = true) {
  f = await startFoundation({ config: { usersCanSelectBackend } })
  return {
    admin: (await login(f.url, 'admin', 'admin')).access_token,
    developer: (await login(f.url, 'developer', 'developer')).access_token,
  }
}

/** A STARTED (or STOPPED) DEA app the developer can change: in the first org. */
function anApp(state: 'STARTED' | 'STOPPED' = 'STARTED'): AppRecord {
  const app = orgsOf(f.store).firstApps.find((a) => a.state === state && !a.diego)
  if (!app) throw new Error(`the seed has no ${state} app in the first org`)
  return app
}

const put = (token: string, app: AppRecord, body: unknown) =>
  call(f.url, `/v2/apps/${app.guid}`, token, { method: 'PUT', body })

describe('PUT /v2/apps/:guid', () => {
  it('flips a started app to Diego as an admin: 201, the app, a start on Diego only', async () => {
    const { admin } = await start()
    const app = anApp()
    const res = await put(admin, app, { diego: true })
    expect(res.status).toBe(201)
    expect(res.body.metadata.guid).toBe(app.guid)
    expect(res.body.entity).toMatchObject({ diego: true, state: 'STARTED', version: app.version, ports: [8080] })
    expect(f.store.app(app.guid)!.diego).toBe(true)
    expect(f.diego.calls).toEqual([
      {
        action: 'desire',
        spec: expect.objectContaining({
          appGuid: app.guid,
          version: app.version,
          instances: app.instances,
          memoryMb: app.memoryMb,
          diskMb: app.diskMb,
          stack: 'cflinuxfs2',
          routes: app.routes.map((r) => r.hostname),
        }),
      },
    ])
    // The DEA is not told: its health manager winds the app down once its source stops listing it.
    expect(f.dea.calls).toEqual([])
    expect([...f.cc.source.desiredApps('dea')].map((s) => s.appGuid)).not.toContain(app.guid)
    expect([...f.cc.source.desiredApps('diego')].map((s) => s.appGuid)).toContain(app.guid)
  })

  it('starts a stopped app with a new version on its backend', async () => {
    const { admin } = await start()
    const app = anApp('STOPPED')
    const res = await put(admin, app, { state: 'STARTED' })
    expect(res.status).toBe(201)
    const after = f.store.app(app.guid)!
    expect(after.state).toBe('STARTED')
    expect(after.version).not.toBe(app.version)
    expect(f.dea.calls).toEqual([
      { action: 'desire', spec: expect.objectContaining({ appGuid: app.guid, version: after.version }) },
    ])
    expect(f.diego.calls).toEqual([])
  })

  it('stops a started app on its backend', async () => {
    const { admin } = await start()
    const app = anApp()
    expect((await put(admin, app, { state: 'STOPPED' })).status).toBe(201)
    expect(f.dea.calls).toEqual([{ action: 'stop', appGuid: app.guid }])
    expect(f.diego.calls).toEqual([])
  })

  it('scales a started app with a desire carrying the new instance count, same version', async () => {
    const { admin } = await start()
    const app = anApp()
    await put(admin, app, { instances: app.instances + 2 })
    expect(f.dea.calls).toEqual([
      { action: 'desire', spec: expect.objectContaining({ instances: app.instances + 2, version: app.version }) },
    ])
  })

  it('restarts a started app whose memory changes: a new version, desired again', async () => {
    const { admin } = await start()
    const app = anApp()
    const res = await put(admin, app, { memory: app.memoryMb * 2 })
    expect(res.body.entity.memory).toBe(app.memoryMb * 2)
    expect(res.body.entity.version).not.toBe(app.version)
    expect(f.dea.calls).toEqual([{ action: 'desire', spec: expect.objectContaining({ memoryMb: app.memoryMb * 2 }) }])
  })

  it('renames an app without telling the backends', async () => {
    const { admin } = await start()
    const app = anApp()
    const res = await put(admin, app, { name: '  renamed-app  ' })
    expect(res.body.entity.name).toBe('renamed-app')
    expect(f.dea.calls).toEqual([])
  })

  it('lets a space developer flip their app while users may select the backend', async () => {
    const { developer } = await start(true)
    const app = anApp()
    const res = await put(developer, app, { diego: true })
    expect(res.status).toBe(201)
    expect(f.store.app(app.guid)!.diego).toBe(true)
  })

  it('refuses a developer’s flip when users may not select the backend, and applies nothing of that PUT', async () => {
    const { developer } = await start(false)
    const app = anApp()
    const res = await put(developer, app, { diego: true, instances: app.instances + 1 })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({
      code: 320005,
      description: 'You cannot select the backend on which to run this application',
      error_code: 'CF-BackendSelectionNotAuthorized',
    })
    expect(f.store.app(app.guid)).toBe(app)
    expect(f.dea.calls).toEqual([])
    expect(f.diego.calls).toEqual([])
  })

  it('lets a developer repeat the current diego value when selection is off', async () => {
    const { developer } = await start(false)
    const app = anApp()
    const res = await put(developer, app, { diego: false, instances: app.instances + 1 })
    expect(res.status).toBe(201)
    expect(f.store.app(app.guid)!.instances).toBe(app.instances + 1)
  })

  it('always lets an admin flip, selection or not', async () => {
    const { admin } = await start(false)
    const app = anApp()
    expect((await put(admin, app, { diego: true })).status).toBe(201)
  })

  it('answers an app of another org with NotAuthorized (it exists) to a developer, and changes nothing', async () => {
    const { developer } = await start()
    const other = orgsOf(f.store).secondApps[0]!
    const res = await put(developer, other, { instances: 3 })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({
      code: 10003,
      description: 'You are not authorized to perform the requested action',
      error_code: 'CF-NotAuthorized',
    })
    expect(f.store.app(other.guid)).toBe(other)
  })

  it('answers an unknown guid with AppNotFound', async () => {
    const { admin } = await start()
    const res = await call(f.url, '/v2/apps/no-such-app', admin, { method: 'PUT', body: { instances: 1 } })
    expect(res.status).toBe(404)
    expect(res.body.error_code).toBe('CF-AppNotFound')
  })

  it('answers malformed JSON with MessageParseError and writes nothing', async () => {
    const { admin } = await start()
    const app = anApp()
    for (const rawBody of ['{"diego": tru', '', '[1, 2]', '"diego"', 'null']) {
      const res = await call(f.url, `/v2/apps/${app.guid}`, admin, { method: 'PUT', rawBody })
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ code: 1001, error_code: 'CF-MessageParseError' })
    }
    expect(f.store.app(app.guid)).toBe(app)
  })

  it('answers wrong types in CC’s words, naming each field, with no partial write', async () => {
    const { admin } = await start()
    const app = anApp()
    const res = await put(admin, app, { diego: true, instances: '3', memory: 1.5, state: 7, name: null })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe(1001)
    // name: null is not among them: JsonMessage drops null values before it validates.
    expect(res.body.description).toBe(
      'Request invalid due to parse error: ' +
        'Field: instances, Error: Expected instance of Integer, given an instance of String, ' +
        'Field: memory, Error: Expected instance of Integer, given an instance of Float, ' +
        'Field: state, Error: Expected instance of String, given an instance of Integer',
    )
    const boolean = await put(admin, app, { diego: 'yes' })
    expect(boolean.body.description).toBe(
      'Request invalid due to parse error: Field: diego, Error: Expected instance of true or false, given yes',
    )
    expect(f.store.app(app.guid)).toBe(app)
    expect(f.diego.calls).toEqual([])
  })

  it.each([
    [{ instances: -1 }, 100001, 'The app is invalid: Number of instances less than 0'],
    [{ instances: 501 }, 100008, "You have exceeded the instance limit for your organization's quota."],
    [{ memory: 0 }, 100006, 'You have specified an invalid amount of memory for your application.'],
    [{ memory: 65_536 }, 100007, "You have exceeded the instance memory limit for your organization's quota."],
    [{ state: 'RUNNING' }, 100001, 'The app is invalid: Invalid app state provided'],
    [{ name: '   ' }, 100001, 'The app is invalid: name presence'],
  ])('refuses %j with CC’s model error and writes nothing', async (body, code, description) => {
    const { admin } = await start()
    const app = anApp()
    const res = await put(admin, app, { diego: true, ...body })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code, description })
    expect(f.store.app(app.guid)).toBe(app)
  })

  it('refuses a name another app in the space has', async () => {
    const { admin } = await start()
    const app = anApp()
    const sibling = f.store.appsInSpace(app.spaceGuid).find((a) => a.guid !== app.guid)!
    const res = await put(admin, app, { name: sibling.name })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 100002,
      description: `The app name is taken: ${sibling.name}`,
      error_code: 'CF-AppNameTaken',
    })
  })

  it('never answers 500 to any body', async () => {
    const { admin } = await start()
    const app = anApp()
    const field = fc.oneof(fc.jsonValue(), fc.integer({ min: -5, max: 600 }), fc.constantFrom('STARTED', 'STOPPED'))
    const body = fc.record(
      { name: field, instances: field, memory: field, state: field, diego: field, other: field },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await put(admin, app, b)
        expect(res.status).toBeLessThan(500)
        expect([201, 400]).toContain(res.status)
      }),
      { numRuns: 150 },
    )
  })

  it('answers a token without cloud_controller.write with InsufficientScope', async () => {
    f = await startFoundation()
    const res = await fetch(`${f.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: 'Basic Y2Y6', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=developer&password=developer&scope=cloud_controller.read',
    })
    const { access_token } = (await res.json()) as { access_token: string }
    const app = anApp()
    expect((await call(f.url, `/v2/apps/${app.guid}`, access_token)).status).toBe(200)
    const denied = await put(access_token, app, { instances: 2 })
    expect(denied.status).toBe(403)
    expect(denied.body.error_code).toBe('CF-InsufficientScope')
  })
})

describe('DELETE /v2/apps/:guid', () => {
  it('deletes the app, answers 204, and stops it on both backends', async () => {
    const { admin } = await start()
    const app = anApp()
    const total = f.store.apps().length
    const res = await fetch(`${f.url}/v2/apps/${app.guid}`, {
      method: 'DELETE',
      headers: { authorization: `bearer ${admin}` },
    })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect((await call(f.url, `/v2/apps/${app.guid}`, admin)).status).toBe(404)
    expect((await call(f.url, '/v2/apps', admin)).body.total_results).toBe(total - 1)
    expect(f.dea.calls).toEqual([{ action: 'stop', appGuid: app.guid }])
    expect(f.diego.calls).toEqual([{ action: 'stop', appGuid: app.guid }])
    expect(f.cc.isKnownRoute(app.routes[0]!.hostname)).toBe(false)
  })

  it('does not let a developer delete an app of another org', async () => {
    const { developer } = await start()
    const other = orgsOf(f.store).secondApps[0]!
    const res = await call(f.url, `/v2/apps/${other.guid}`, developer, { method: 'DELETE' })
    expect(res.status).toBe(403)
    expect(f.store.app(other.guid)).toBe(other)
  })
})

describe('errors the API did not expect', () => {
  it('answers UnknownError (10001, 500) and logs it', async () => {
    const logs: string[] = []
    f = await startFoundation({ config: { log: (line) => logs.push(line) } })
    const { access_token } = await login(f.url, 'admin', 'admin')
    const app = anApp()
    f.store.close()
    const res = await put(access_token, app, { instances: 2 })
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ code: 10001, description: 'An unknown error occurred.', error_code: 'UnknownError' })
    expect(logs.some((line) => line.includes('UnknownError') && line.includes(app.guid))).toBe(true)
  })

  it('answers an unknown route with NotFound (10000, 404)', async () => {
    const { admin } = await start()
    for (const path of ['/v2/routes/x/y/z', '/v2/apps/x/bits', '/v3/apps', '/']) {
      const res = await call(f.url, path, admin)
      expect(res.status).toBe(404)
      expect(res.body).toEqual({ code: 10000, description: 'Unknown request', error_code: 'CF-NotFound' })
    }
    expect((await call(f.url, '/v2/apps', admin, { method: 'POST', body: {} })).status).toBe(404)
  })
})
