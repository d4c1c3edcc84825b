import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { EventLog } from '../../../src/scheduler/cc/events.js'
import { type AppRecord, openStore } from '../../../src/scheduler/cc/index.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { call, type Foundation, login, orgsOf, startFoundation } from './support.js'

let f: Foundation
afterEach(() => f?.close())

async function start(at = '2016-04-01T00:00:00Z') {
  f = await startFoundation({ clock: new FakeClock(Date.parse(at)) })
  const adminLogin = await login(f.url, 'admin', 'admin')
  const developerLogin = await login(f.url, 'developer', 'developer')
  return { admin: adminLogin.access_token, developer: developerLogin.access_token }
}

function firstOrgApp(): AppRecord {
  return orgsOf(f.store).firstApps.find((a) => a.state === 'STARTED' && !a.diego)!
}

function secondOrgApp(): AppRecord {
  return orgsOf(f.store).secondApps.find((a) => a.state === 'STARTED' && !a.diego)!
}

const put = (token: string, app: AppRecord, body: unknown) =>
  call(f.url, `/v2/apps/${app.guid}`, token, { method: 'PUT', body })

describe('audit events of app changes', () => {
  it('writes audit.app.update for a flip, with the actor, the actee and the request in metadata', async () => {
    const { admin } = await start('2016-04-01T12:00:00.400Z')
    const app = firstOrgApp()
    expect((await put(admin, app, { diego: true })).status).toBe(201)
    const res = await call(f.url, `/v2/events?q=actee:${app.guid}`, admin)
    expect(res.status).toBe(200)
    expect(res.body.total_results).toBe(1)
    const [event] = res.body.resources
    const adminUser = f.store.userNamed('admin')!
    expect(event.metadata).toEqual({
      guid: expect.any(String),
      url: `/v2/events/${event.metadata.guid}`,
      created_at: '2016-04-01T12:00:00Z',
      updated_at: null,
    })
    expect(event.entity).toEqual({
      type: 'audit.app.update',
      actor: adminUser.guid,
      actor_type: 'user',
      actor_name: 'admin',
      actee: app.guid,
      actee_type: 'app',
      actee_name: app.name,
      timestamp: '2016-04-01T12:00:00Z',
      metadata: { request: { diego: true } },
      space_guid: app.spaceGuid,
      organization_guid: app.orgGuid,
    })
    const one = await call(f.url, `/v2/events/${event.metadata.guid}`, admin)
    expect(one.status).toBe(200)
    expect(one.body).toEqual(event)
  })

  it('records starts, stops and scales as audit.app.update with what each PUT asked', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    await put(admin, app, { state: 'STOPPED' })
    await put(admin, app, { state: 'STARTED', instances: 2, unknown_field: 1 })
    const res = await call(f.url, `/v2/events?q=actee:${app.guid}&q=type:audit.app.update`, admin)
    expect(res.body.resources.map((r: { entity: { metadata: unknown } }) => r.entity.metadata)).toEqual([
      { request: { state: 'STOPPED' } },
      { request: { state: 'STARTED', instances: 2 } },
    ])
  })

  it('writes no event for a refused PUT', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    expect((await put(admin, app, { memory: 0 })).status).toBe(400)
    const res = await call(f.url, `/v2/events?q=actee:${app.guid}`, admin)
    expect(res.body.total_results).toBe(0)
  })

  it('writes audit.app.delete-request with the recursive flag, and keeps it after the app is gone', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    expect((await call(f.url, `/v2/apps/${app.guid}?recursive=true`, admin, { method: 'DELETE' })).status).toBe(204)
    const res = await call(f.url, `/v2/events?q=type:audit.app.delete-request`, admin)
    expect(res.body.resources).toHaveLength(1)
    expect(res.body.resources[0].entity).toMatchObject({
      actee: app.guid,
      actee_name: app.name,
      metadata: { request: { recursive: true } },
    })
  })

  it('hides the censored fields of a request', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    await put(admin, app, { instances: 2, environment_json: { SECRET: 'x' }, command: 'run' })
    const res = await call(f.url, `/v2/events?q=actee:${app.guid}`, admin)
    const request = res.body.resources[0].entity.metadata.request
    expect(request.instances).toBe(2)
    expect(JSON.stringify(request)).not.toContain('SECRET')
  })
})

describe('GET /v2/events', () => {
  it('orders by timestamp, pages, and filters timestamps with >=, <=, > and <', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    for (let i = 0; i < 4; i++) {
      await put(admin, app, { instances: i + 2 })
      await f.clock.advance(60_000)
    }
    const all = await call(f.url, `/v2/events?q=actee:${app.guid}&results-per-page=3`, admin)
    expect(all.body.total_results).toBe(4)
    expect(all.body.total_pages).toBe(2)
    expect(all.body.next_url).toBe(`/v2/events?order-direction=asc&page=2&q=actee:${app.guid}&results-per-page=3`)
    expect(all.body.resources.map((r: { entity: { timestamp: string } }) => r.entity.timestamp)).toEqual([
      '2016-04-01T00:00:00Z',
      '2016-04-01T00:01:00Z',
      '2016-04-01T00:02:00Z',
    ])
    const desc = await call(f.url, `/v2/events?q=actee:${app.guid}&order-direction=desc`, admin)
    expect(desc.body.resources[0].entity.metadata.request).toEqual({ instances: 5 })
    const count = async (q: string) =>
      (await call(f.url, `/v2/events?q=actee:${app.guid}&q=${encodeURIComponent(q)}`, admin)).body.total_results
    expect(await count('timestamp>=2016-04-01T00:01:00Z')).toBe(3)
    expect(await count('timestamp>2016-04-01T00:01:00Z')).toBe(2)
    expect(await count('timestamp<=2016-04-01T00:01:00Z')).toBe(2)
    expect(await count('timestamp<2016-04-01T00:01:00Z')).toBe(1)
    expect(await count('timestamp>=2016-04-01T00:01:00Z;timestamp<2016-04-01T00:03:00Z')).toBe(2)
  })

  it('answers the q keys of 2.54 only; another is BadQueryParameter', async () => {
    const { admin } = await start()
    for (const q of ['type:audit.app.update', 'actee:x', 'timestamp>=2016-01-01T00:00:00Z']) {
      expect((await call(f.url, `/v2/events?q=${encodeURIComponent(q)}`, admin)).status).toBe(200)
    }
    const bad = await call(f.url, '/v2/events?q=actor:x', admin)
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ code: 10005, error_code: 'CF-BadQueryParameter' })
    const garbage = await call(f.url, '/v2/events?q=timestamp>=yesterday', admin)
    expect(garbage.status).toBe(400)
  })

  it('shows a developer the events of their spaces only; another space’s event is 403, an unknown one 404', async () => {
    const { admin, developer } = await start()
    const mine = firstOrgApp()
    const theirs = secondOrgApp()
    await put(admin, mine, { instances: 2 })
    await put(admin, theirs, { instances: 2 })
    const listed = await call(f.url, '/v2/events', developer)
    expect(listed.body.resources.map((r: { entity: { actee: string } }) => r.entity.actee)).toEqual([mine.guid])
    const all = await call(f.url, '/v2/events', admin)
    expect(all.body.total_results).toBe(2)
    const hidden = all.body.resources.find((r: { entity: { actee: string } }) => r.entity.actee === theirs.guid)
    const forbidden = await call(f.url, `/v2/events/${hidden.metadata.guid}`, developer)
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.error_code).toBe('CF-NotAuthorized')
    const missing = await call(f.url, '/v2/events/no-such-guid', admin)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({
      code: 230002,
      description: 'Event could not be found: no-such-guid',
      error_code: 'CF-EventNotFound',
    })
    expect((await call(f.url, '/v2/events', null)).status).toBe(401)
  })

  it('shows auditors their space’s or org’s events, and managers none, as Event.user_visibility_filter', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    const firstSpace = f.store.spacesOfOrg(app.orgGuid)[0]!
    const inFirstSpace = f.store.appsInSpace(firstSpace.guid)[0]!
    await put(admin, app, { instances: 2 })
    if (inFirstSpace.guid !== app.guid) await put(admin, inFirstSpace, { instances: 2 })
    const seen = async (user: string) => {
      const token = (await login(f.url, user, user)).access_token
      const res = await call(f.url, '/v2/events', token)
      return new Set(res.body.resources.map((r: { entity: { actee: string } }) => r.entity.actee))
    }
    expect(await seen('org-auditor')).toEqual(new Set([app.guid, inFirstSpace.guid]))
    expect(await seen('space-auditor')).toEqual(new Set([inFirstSpace.guid]))
    expect(await seen('space-manager')).toEqual(new Set())
    expect(await seen('org-manager')).toEqual(new Set())
  })

  it('keeps events across a restart on the same data file', async () => {
    const { admin } = await start()
    const app = firstOrgApp()
    await put(admin, app, { diego: true })
    const event = f.cc.events.eventsOf(app.guid)[0]!
    const path = join(mkdtempSync(join(tmpdir(), 'cc-events-')), 'cc.db')
    const first = openStore({ path })
    const log = new EventLog(first)
    first.createOrg({ name: 'o', at: 0 })
    const org = first.orgs()[0]!
    const space = first.createSpace({ orgGuid: org.guid, name: 's', at: 0 })
    const created = first.createApp({
      spaceGuid: space.guid,
      name: 'a',
      instances: 1,
      memoryMb: 64,
      diskMb: 64,
      state: 'STARTED',
      diego: false,
      at: 0,
    })
    log.recordAppEvent('audit.app.update', created, { guid: 'u', type: 'user', name: 'x' }, event.metadata, 5_000)
    first.close()
    const again = new EventLog(openStore({ path }))
    expect(again.eventsOf(created.guid)).toHaveLength(1)
    expect(again.eventsOf(created.guid)[0]!.metadata).toEqual({ request: { diego: true } })
  })
})
