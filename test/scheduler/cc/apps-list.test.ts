import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppRecord } from '../../../src/scheduler/cc/index.js'
import { type Answer, call, type Foundation, type Json, login, orgsOf, startFoundation } from './support.js'

describe('GET /v2/apps', () => {
  let f: Foundation
  let admin: string
  let developer: string

  beforeAll(async () => {
    f = await startFoundation({ seed: 'medium' })
    // A little variety to filter on: a few apps on Diego.
    const apps = f.store.apps()
    for (const app of [apps[3]!, apps[40]!, apps[41]!]) f.store.updateApp(app.guid, { diego: true }, f.clock.now())
    admin = (await login(f.url, 'admin', 'admin')).access_token
    developer = (await login(f.url, 'developer', 'developer')).access_token
  })
  afterAll(() => f.close())

  /** Every app a filter lists, over all pages. */
  async function listAll(query: string, token = admin): Promise<string[]> {
    const guids: string[] = []
    let next: string | null = `/v2/apps?results-per-page=100${query ? `&${query}` : ''}`
    while (next) {
      const res: Answer = await call(f.url, next, token)
      expect(res.status).toBe(200)
      guids.push(...res.body.resources.map((r: Json) => r.metadata.guid))
      next = res.body.next_url
    }
    return guids
  }

  const guidsWhere = (test: (app: AppRecord) => boolean) =>
    f.store
      .apps()
      .filter(test)
      .map((a) => a.guid)

  it('answers CC’s paginated envelope', async () => {
    const res = await call(f.url, '/v2/apps', admin)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8')
    expect(Object.keys(res.body)).toEqual(['total_results', 'total_pages', 'prev_url', 'next_url', 'resources'])
    const total = f.store.apps().length
    expect(res.body).toMatchObject({
      total_results: total,
      total_pages: Math.ceil(total / 50),
      prev_url: null,
      next_url: '/v2/apps?order-direction=asc&page=2&results-per-page=50',
    })
    expect(res.body.resources).toHaveLength(50)
    const [first] = res.body.resources
    const app = f.store.apps()[0]!
    expect(first.metadata).toEqual({
      guid: app.guid,
      url: `/v2/apps/${app.guid}`,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: expect.stringMatching(/Z$/),
    })
    expect(first.entity).toMatchObject({
      name: app.name,
      space_guid: app.spaceGuid,
      stack_guid: app.stackGuid,
      memory: app.memoryMb,
      instances: app.instances,
      disk_quota: app.diskMb,
      state: app.state,
      version: app.version,
      diego: app.diego,
      health_check_type: 'port',
      package_state: 'STAGED',
      space_url: `/v2/spaces/${app.spaceGuid}`,
      routes_url: `/v2/apps/${app.guid}/routes`,
    })
    for (const field of [
      'production',
      'buildpack',
      'detected_buildpack',
      'environment_json',
      'command',
      'console',
      'debug',
      'staging_task_id',
      'health_check_timeout',
      'staging_failed_reason',
      'docker_image',
      'package_updated_at',
      'detected_start_command',
      'enable_ssh',
      'ports',
      'stack_url',
      'events_url',
      'service_bindings_url',
      'route_mappings_url',
    ]) {
      expect(first.entity).toHaveProperty(field)
    }
  })

  it('walks next_url to the end and sees every app exactly once', async () => {
    const seen: string[] = []
    let next: string | null = '/v2/apps?results-per-page=37'
    let pages = 0
    while (next) {
      const res: Answer = await call(f.url, next, admin)
      expect(res.status).toBe(200)
      seen.push(...res.body.resources.map((r: Json) => r.metadata.guid))
      if (pages > 0) expect(res.body.prev_url).toContain(`page=${pages}&`)
      next = res.body.next_url
      pages++
    }
    expect(pages).toBe(Math.ceil(f.store.apps().length / 37))
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual(f.store.apps().map((a) => a.guid))
  })

  it('walks in reverse with order-direction=desc', async () => {
    const seen: string[] = []
    let next: string | null = '/v2/apps?results-per-page=100&order-direction=desc'
    while (next) {
      const res: Answer = await call(f.url, next, admin)
      seen.push(...res.body.resources.map((r: Json) => r.metadata.guid))
      next = res.body.next_url
      if (next) expect(next).toContain('order-direction=desc')
    }
    expect(seen).toEqual(
      f.store
        .apps()
        .map((a) => a.guid)
        .reverse(),
    )
  })

  it('filters by name with `:`', async () => {
    const name = f.store.apps()[10]!.name
    expect(await listAll(`q=name:${encodeURIComponent(name)}`)).toEqual(guidsWhere((a) => a.name === name))
  })

  it('filters by name with IN', async () => {
    const [a, b] = [f.store.apps()[1]!.name, f.store.apps()[2]!.name]
    const q = encodeURIComponent(`name IN ${a},${b}`)
    expect(await listAll(`q=${q}`)).toEqual(guidsWhere((x) => x.name === a || x.name === b))
  })

  it.each([
    ['>=', (x: string, v: string) => x >= v],
    ['<=', (x: string, v: string) => x <= v],
    ['<', (x: string, v: string) => x < v],
    ['>', (x: string, v: string) => x > v],
  ] as const)('filters by name with %s', async (op, holds) => {
    const listed = await listAll(`q=${encodeURIComponent(`name${op}inventory`)}`)
    expect(listed).toEqual(guidsWhere((a) => holds(a.name, 'inventory')))
    expect(listed.length).toBeGreaterThan(0)
  })

  it('filters by space_guid, one or IN several', async () => {
    const [s1, s2] = f.store.spaces()
    expect(await listAll(`q=space_guid:${s1!.guid}`)).toEqual(guidsWhere((a) => a.spaceGuid === s1!.guid))
    const both = await listAll(`q=${encodeURIComponent(`space_guid IN ${s1!.guid},${s2!.guid}`)}`)
    expect(both).toEqual(guidsWhere((a) => a.spaceGuid === s1!.guid || a.spaceGuid === s2!.guid))
  })

  it('filters by organization_guid', async () => {
    const org = f.store.orgs()[3]!
    const listed = await listAll(`q=organization_guid:${org.guid}`)
    expect(listed).toEqual(guidsWhere((a) => a.orgGuid === org.guid))
    expect(listed.length).toBe(f.store.apps().length / f.store.orgs().length)
  })

  it('filters by diego', async () => {
    expect(await listAll('q=diego:true')).toEqual(guidsWhere((a) => a.diego))
    expect(await listAll('q=diego:false')).toEqual(guidsWhere((a) => !a.diego))
    expect((await listAll('q=diego:true')).length).toBe(3)
  })

  it('filters by stack_guid', async () => {
    const stack = f.store.defaultStack.guid
    expect((await listAll(`q=stack_guid:${stack}`)).length).toBe(f.store.apps().length)
    expect(await listAll('q=stack_guid:no-such-stack')).toEqual([])
  })

  it('refuses q=state as the real CC does: apps take only name, space_guid, organization_guid, diego, stack_guid', async () => {
    const res = await call(f.url, '/v2/apps?q=state:STARTED', admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 10005,
      description: 'The query parameter is invalid: state',
      error_code: 'CF-BadQueryParameter',
    })
  })

  it('matches names without regard to case, as CC keeps them', async () => {
    const app = f.store.apps()[0]!
    const named = guidsWhere((a) => a.name === app.name)
    expect(await listAll(`q=name:${app.name.toUpperCase()}`)).toEqual(named)
    expect(await listAll(`q=${encodeURIComponent(`name IN x,${app.name.toUpperCase()}`)}`)).toEqual(named)
  })

  it('ANDs several q parameters and `;`-joined filters alike', async () => {
    const org = f.store.orgs()[0]!.guid
    const stack = f.store.defaultStack.guid
    const expected = guidsWhere((a) => a.orgGuid === org && !a.diego)
    expect(expected.length).toBeGreaterThan(0)
    expect(await listAll(`q=organization_guid:${org}&q=stack_guid:${stack}&q=diego:false`)).toEqual(expected)
    expect(
      await listAll(`q=${encodeURIComponent(`organization_guid:${org};stack_guid:${stack};diego:false`)}`),
    ).toEqual(expected)
  })

  it('carries q into next_url as CC builds it', async () => {
    const res = await call(
      f.url,
      `/v2/apps?results-per-page=5&q=${encodeURIComponent('name IN orders-api,auth-web')}&q=diego:false`,
      admin,
    )
    expect(res.body.next_url).toBe(
      '/v2/apps?order-direction=asc&page=2&q=name%20IN%20orders-api,auth-web&q=diego:false&results-per-page=5',
    )
    const page2 = await call(f.url, res.body.next_url, admin)
    expect(page2.body.prev_url).toBe(
      '/v2/apps?order-direction=asc&page=1&q=name%20IN%20orders-api,auth-web&q=diego:false&results-per-page=5',
    )
  })

  it('answers an unknown q key with BadQueryParameter (10005)', async () => {
    const res = await call(f.url, '/v2/apps?q=memory:1024', admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 10005,
      description: 'The query parameter is invalid: memory',
      error_code: 'CF-BadQueryParameter',
    })
  })

  it("reads a key without an operator as IS NULL, as CC's query parser does (a boolean as false)", async () => {
    const names = await call(f.url, '/v2/apps?q=name', admin)
    expect(names.status).toBe(200)
    expect(names.body.total_results).toBe(0)
    expect(await listAll('q=diego')).toEqual(guidsWhere((a) => !a.diego))
    expect((await call(f.url, '/v2/apps?q=colour', admin)).body.description).toBe(
      'The query parameter is invalid: colour',
    )
  })

  it('reads only t and true as true: any other diego value is false, never an error', async () => {
    const onDea = guidsWhere((a) => !a.diego)
    for (const value of ['maybe', '1', 'TRUE', 'f', '']) expect(await listAll(`q=diego:${value}`)).toEqual(onDea)
    const first = f.store.apps()[0]!
    f.store.updateApp(first.guid, { diego: true }, f.clock.now())
    try {
      const onDiego = guidsWhere((a) => a.diego)
      expect(onDiego).toContain(first.guid)
      for (const value of ['t', 'true']) expect(await listAll(`q=diego:${value}`)).toEqual(onDiego)
    } finally {
      f.store.updateApp(first.guid, { diego: false }, f.clock.now())
    }
  })

  it('takes 1 to 100 results per page and refuses the rest as CC does', async () => {
    expect((await call(f.url, '/v2/apps?results-per-page=1', admin)).body.resources).toHaveLength(1)
    expect((await call(f.url, '/v2/apps?results-per-page=100', admin)).body.resources).toHaveLength(100)
    const tooMany = await call(f.url, '/v2/apps?results-per-page=101', admin)
    expect(tooMany.status).toBe(400)
    expect(tooMany.body).toEqual({
      code: 10005,
      description: 'The query parameter is invalid: results_per_page must be <= 100',
      error_code: 'CF-BadQueryParameter',
    })
    for (const bad of ['0', '-1', 'ten']) {
      const res = await call(f.url, `/v2/apps?results-per-page=${bad}`, admin)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe(10005)
    }
  })

  it('refuses page 0 and a bad order-direction', async () => {
    expect((await call(f.url, '/v2/apps?page=0', admin)).body.code).toBe(10005)
    expect((await call(f.url, '/v2/apps?order-direction=sideways', admin)).body.code).toBe(10005)
  })

  it('answers a page past the end with no resources and a prev_url', async () => {
    const res = await call(f.url, '/v2/apps?page=999', admin)
    expect(res.status).toBe(200)
    expect(res.body.resources).toEqual([])
    expect(res.body.next_url).toBeNull()
    expect(res.body.prev_url).toContain('page=998')
  })

  it('shows a space developer only the apps of their spaces', async () => {
    const { first } = orgsOf(f.store)
    const visible = await listAll('', developer)
    expect(visible).toEqual(guidsWhere((a) => a.orgGuid === first.guid))
    const other = f.store.orgs()[1]!.guid
    expect(await listAll(`q=organization_guid:${other}`, developer)).toEqual([])
    const otherSpace = f.store.spacesOfOrg(other)[0]!.guid
    expect(await listAll(`q=space_guid:${otherSpace}`, developer)).toEqual([])
  })
})
