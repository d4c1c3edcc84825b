// The read endpoints the cf CLI v6 and the Diego-Enabler plugin ask for, sent as their traces show
// (paths, q and inline-relations-depth), checked against the shapes and statuses of CC 2.54.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, type Json, login, orgsOf, startFoundation } from './support.js'

let f: Foundation
let admin: string
let developer: string

beforeAll(async () => {
  f = await startFoundation()
  admin = (await login(f.url, 'admin', 'admin')).access_token
  developer = (await login(f.url, 'developer', 'developer')).access_token
})
afterAll(() => f.close())

describe('inline-relations-depth, as the real renderer does it', () => {
  it('cf login -o: the org by name with its relations inlined one level deep', async () => {
    const org = f.store.orgs()[0]!
    const res = await call(f.url, `/v2/organizations?q=name%3A${org.name}&inline-relations-depth=1`, admin)
    expect(res.status).toBe(200)
    expect(res.body.total_results).toBe(1)
    const entity = res.body.resources[0].entity
    expect(entity).toMatchObject({ name: org.name, status: 'active', billing_enabled: false })
    expect(entity.quota_definition).toMatchObject({ entity: { name: 'default', memory_limit: 10240 } })
    expect(entity.spaces.map((s: Json) => s.metadata.guid)).toEqual(f.store.spacesOfOrg(org.guid).map((s) => s.guid))
    // One level only: the inlined spaces carry their URLs, not their own relations.
    expect(entity.spaces[0].entity.apps_url).toBe(`/v2/spaces/${entity.spaces[0].metadata.guid}/apps`)
    expect(entity.spaces[0].entity).not.toHaveProperty('apps')
    expect(entity.users).toEqual(expect.any(Array))
    expect(entity).not.toHaveProperty('app_events')
    expect(entity.app_events_url).toBe(`/v2/organizations/${org.guid}/app_events`)
  })

  it('cf login -s: an org’s spaces by name, each with its organization inlined', async () => {
    const org = f.store.orgs()[0]!
    const space = f.store.spacesOfOrg(org.guid)[0]!
    const res = await call(
      f.url,
      `/v2/organizations/${org.guid}/spaces?q=name%3A${space.name}&inline-relations-depth=1`,
      admin,
    )
    expect(res.status).toBe(200)
    expect(res.body.resources).toHaveLength(1)
    expect(res.body.resources[0].entity.organization).toMatchObject({
      metadata: { guid: org.guid },
      entity: { name: org.name },
    })
  })

  it('/v2/spaces?inline-relations-depth=1 inlines the organization (the plugin prints its name)', async () => {
    const res = await call(f.url, '/v2/spaces?inline-relations-depth=1&results-per-page=3', admin)
    const space = res.body.resources[0]
    expect(space.entity.organization.entity.name).toBe(f.store.org(space.entity.organization_guid)!.name)
    expect(res.body.next_url).toBe('/v2/spaces?inline-relations-depth=1&order-direction=asc&page=2&results-per-page=3')
  })

  it('the plugin’s app lookup: space apps by name with space, stack and routes inlined', async () => {
    const app = f.store.apps()[0]!
    const res = await call(
      f.url,
      `/v2/spaces/${app.spaceGuid}/apps?q=name%3A${app.name}&inline-relations-depth=1`,
      developer,
    )
    expect(res.status).toBe(200)
    expect(res.body.total_results).toBe(1)
    const entity = res.body.resources[0].entity
    expect(entity.stack).toMatchObject({ metadata: { guid: app.stackGuid }, entity: { name: 'cflinuxfs2' } })
    expect(entity.space.metadata.guid).toBe(app.spaceGuid)
    expect(entity.routes[0].entity.host).toBe(app.routes[0]!.host)
    expect(entity).not.toHaveProperty('events')
  })

  it('depth 2 goes on down but never back to a kind on the way: space -> org -> (no spaces)', async () => {
    const space = f.store.spaces()[0]!
    const res = await call(f.url, `/v2/spaces/${space.guid}?inline-relations-depth=2`, admin)
    const org = res.body.entity.organization.entity
    expect(org.quota_definition.entity.name).toBe('default')
    expect(org).not.toHaveProperty('spaces')
    expect(org.spaces_url).toBe(`/v2/organizations/${space.orgGuid}/spaces`)
    expect(res.body.entity.apps[0].entity.stack.entity.name).toBe('cflinuxfs2')
  })

  it('include-relations and exclude-relations choose what is inlined, and stay in next_url', async () => {
    const only = await call(
      f.url,
      '/v2/spaces?inline-relations-depth=1&include-relations=organization&results-per-page=1',
      admin,
    )
    const entity = only.body.resources[0].entity
    expect(entity).toHaveProperty('organization')
    expect(entity).not.toHaveProperty('apps')
    expect(only.body.next_url).toBe(
      '/v2/spaces?include-relations=organization&inline-relations-depth=1&order-direction=asc&page=2&results-per-page=1',
    )
    const without = await call(f.url, '/v2/spaces?inline-relations-depth=1&exclude-relations=organization,apps', admin)
    expect(without.body.resources[0].entity).not.toHaveProperty('organization')
    expect(without.body.resources[0].entity).toHaveProperty('routes')
  })

  it('refuses a depth above the maximum (3) with 400 BadQueryParameter', async () => {
    const res = await call(f.url, '/v2/apps?inline-relations-depth=4', admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 10005,
      description: 'The query parameter is invalid: inline_relations_depth must be <= 3',
      error_code: 'CF-BadQueryParameter',
    })
  })
})

describe('summaries, usage, stacks, routes and env', () => {
  it('cf apps: the space summary lists each app with urls, routes and running_instances', async () => {
    const space = f.store.spaces()[0]!
    const res = await call(f.url, `/v2/spaces/${space.guid}/summary`, developer)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ guid: space.guid, name: space.name, services: [] })
    const apps = f.store.appsInSpace(space.guid)
    expect(res.body.apps).toHaveLength(apps.length)
    const first = res.body.apps[0]
    expect(first).toMatchObject({
      guid: apps[0]!.guid,
      name: apps[0]!.name,
      urls: [apps[0]!.routes[0]!.hostname],
      service_count: 0,
      service_names: [],
      memory: apps[0]!.memoryMb,
      diego: false,
    })
    expect(first.routes[0]).toEqual({
      guid: apps[0]!.routes[0]!.guid,
      host: apps[0]!.routes[0]!.host,
      port: null,
      path: '',
      domain: { guid: apps[0]!.routes[0]!.domainGuid, name: apps[0]!.routes[0]!.domainName },
    })
    expect(typeof first.running_instances).toBe('number')
  })

  it('cf app: the stack every app names in stack_url', async () => {
    const app = f.store.apps()[0]!
    const appRes = await call(f.url, `/v2/apps/${app.guid}`, developer)
    const res = await call(f.url, appRes.body.entity.stack_url, developer)
    expect(res.status).toBe(200)
    expect(res.body.entity).toEqual({ name: 'cflinuxfs2', description: 'Cloud Foundry Linux-based filesystem' })
    expect((await call(f.url, '/v2/stacks?q=name:CFLINUXFS2', admin)).body.total_results).toBe(1)
    const missing = await call(f.url, '/v2/stacks/no-such-stack', admin)
    expect(missing.status).toBe(404)
    expect(missing.body.error_code).toBe('CF-StackNotFound')
  })

  it('the org summary and memory usage count the started apps of visible spaces', async () => {
    const { first, firstApps } = orgsOf(f.store)
    const started = firstApps.filter((a) => a.state === 'STARTED')
    const usage = await call(f.url, `/v2/organizations/${first.guid}/memory_usage`, developer)
    expect(usage.body).toEqual({ memory_usage_in_mb: started.reduce((sum, a) => sum + a.instances * a.memoryMb, 0) })
    const summary = await call(f.url, `/v2/organizations/${first.guid}/summary`, admin)
    expect(summary.body).toMatchObject({ guid: first.guid, name: first.name, status: 'active' })
    expect(summary.body.spaces.reduce((n: number, s: Json) => n + s.app_count, 0)).toBe(firstApps.length)
    expect(summary.body.spaces[0]).toEqual({
      guid: expect.any(String),
      name: expect.any(String),
      service_count: 0,
      app_count: expect.any(Number),
      mem_dev_total: expect.any(Number),
      mem_prod_total: 0,
    })
  })

  it('routes: /v2/routes pages every visible route; a space’s routes are its apps’ routes', async () => {
    const all = await call(f.url, '/v2/routes?results-per-page=100', admin)
    expect(all.body.total_results).toBe(f.store.apps().reduce((n, a) => n + a.routes.length, 0))
    const space = f.store.spaces()[0]!
    const res = await call(f.url, `/v2/spaces/${space.guid}/routes?inline-relations-depth=1`, developer)
    const hosts = f.store.appsInSpace(space.guid).flatMap((a) => a.routes.map((r) => r.host))
    expect(res.body.resources.map((r: Json) => r.entity.host).sort()).toEqual(hosts.sort())
    const route = res.body.resources[0]
    expect(route.entity.domain.entity.name).toBe('apps.internal')
    expect(route.entity.apps).toHaveLength(1)
    const mine = await call(f.url, '/v2/routes?results-per-page=100', developer)
    expect(mine.body.total_results).toBe(orgsOf(f.store).firstApps.length)
  })

  it('an app’s env: VCAP_APPLICATION for its developer, 403 for others', async () => {
    const app = f.store.apps()[0]!
    const res = await call(f.url, `/v2/apps/${app.guid}/env`, developer)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      staging_env_json: {},
      running_env_json: {},
      environment_json: {},
      system_env_json: { VCAP_SERVICES: {} },
    })
    expect(res.body.application_env_json.VCAP_APPLICATION).toMatchObject({
      application_id: app.guid,
      application_name: app.name,
      limits: { mem: app.memoryMb, disk: app.diskMb, fds: 16384 },
      space_id: app.spaceGuid,
      uris: [app.routes[0]!.hostname],
    })
  })
})

describe('what cf orgs, cf spaces and cf target send', () => {
  it('takes order-by=name (CC 2.54 reads no order-by, so the order stays by id) with the q keys they send', async () => {
    const org = f.store.orgs()[0]!
    const orgs = await call(f.url, '/v2/organizations?order-by=name', developer)
    expect(orgs.body.resources.map((r: Json) => r.entity.name)).toEqual([org.name])
    const space = f.store.spacesOfOrg(org.guid)[0]!
    const spaces = await call(
      f.url,
      `/v2/spaces?order-by=name&q=name%3A${space.name}&q=organization_guid%3A${org.guid}`,
      developer,
    )
    expect(spaces.body.resources.map((r: Json) => r.metadata.guid)).toEqual([space.guid])
    const byName = await call(
      f.url,
      `/v2/apps?q=name%3A${f.store.apps()[0]!.name}&q=space_guid%3A${space.guid}`,
      developer,
    )
    expect(byName.body.total_results).toBe(
      f.store.appsInSpace(space.guid).filter((a) => a.name === f.store.apps()[0]!.name).length,
    )
  })

  it('keeps app names unique within a space without regard to case', async () => {
    const [first, second] = f.store.appsInSpace(f.store.spaces()[0]!.guid)
    const res = await call(f.url, `/v2/apps/${second!.guid}`, admin, {
      method: 'PUT',
      body: { name: first!.name.toUpperCase() },
    })
    expect(res.status).toBe(400)
    expect(res.body.error_code).toBe('CF-AppNameTaken')
  })
})

describe('what cf routes, cf domains, cf quotas and cf space-quotas send', () => {
  it('answers the org’s domains, its (empty) private domains and space quotas, and the default quota', async () => {
    const org = f.store.orgs()[0]!
    const shared = await call(f.url, '/v2/shared_domains?inline-relations-depth=1', developer)
    expect(shared.body.resources.map((r: Json) => r.entity.name)).toEqual(['apps.internal'])
    const domains = await call(f.url, `/v2/organizations/${org.guid}/domains`, developer)
    expect(domains.body.resources[0].metadata.url).toMatch(/^\/v2\/shared_domains\//)
    for (const sub of ['private_domains', 'space_quota_definitions']) {
      const res = await call(f.url, `/v2/organizations/${org.guid}/${sub}`, developer)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ total_results: 0, total_pages: 1, prev_url: null, next_url: null, resources: [] })
    }
    const quotas = await call(f.url, '/v2/quota_definitions?q=name%3Adefault', admin)
    expect(quotas.body.total_results).toBe(1)
    const quota = quotas.body.resources[0]
    expect(quota.metadata.guid).toBe(f.store.defaultQuotaDefinitionGuid)
    expect(quota.entity).toMatchObject({
      name: 'default',
      memory_limit: 10240,
      total_routes: 1000,
      instance_memory_limit: -1,
    })
    expect((await call(f.url, quota.metadata.url, developer)).body.entity.name).toBe('default')
    const missing = await call(f.url, '/v2/quota_definitions/no-such-quota', admin)
    expect(missing.status).toBe(404)
    expect(missing.body.error_code).toBe('CF-QuotaDefinitionNotFound')
  })
})
