import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, type Json, login, orgsOf, startFoundation } from './support.js'

describe('organizations and spaces', () => {
  let f: Foundation
  let admin: string
  let developer: string

  beforeAll(async () => {
    f = await startFoundation({ seed: 'medium' })
    admin = (await login(f.url, 'admin', 'admin')).access_token
    developer = (await login(f.url, 'developer', 'developer')).access_token
  })
  afterAll(() => f.close())

  it('lists every org to an admin, in CC’s envelope and shape', async () => {
    const res = await call(f.url, '/v2/organizations', admin)
    expect(res.status).toBe(200)
    expect(res.body.total_results).toBe(f.store.orgs().length)
    const org = f.store.orgs()[0]!
    expect(res.body.resources[0]).toEqual({
      metadata: {
        guid: org.guid,
        url: `/v2/organizations/${org.guid}`,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
      entity: expect.objectContaining({
        name: org.name,
        status: 'active',
        billing_enabled: false,
        quota_definition_guid: f.store.defaultQuotaDefinitionGuid,
        spaces_url: `/v2/organizations/${org.guid}/spaces`,
      }),
    })
  })

  it('filters orgs by name', async () => {
    const org = f.store.orgs()[4]!
    const res = await call(f.url, `/v2/organizations?q=name:${org.name}`, admin)
    expect(res.body.resources.map((r: Json) => r.metadata.guid)).toEqual([org.guid])
  })

  it('filters spaces by organization_guid and name, paging like apps', async () => {
    const org = f.store.orgs()[2]!
    const res = await call(f.url, `/v2/spaces?q=organization_guid:${org.guid}&results-per-page=4`, admin)
    expect(res.body.total_results).toBe(f.store.spacesOfOrg(org.guid).length)
    expect(res.body.next_url).toBe(
      `/v2/spaces?order-direction=asc&page=2&q=organization_guid:${org.guid}&results-per-page=4`,
    )
    const named = await call(f.url, `/v2/spaces?q=organization_guid:${org.guid};name:prod`, admin)
    expect(named.body.resources).toHaveLength(1)
    expect(named.body.resources[0].entity).toMatchObject({ name: 'prod', organization_guid: org.guid, allow_ssh: true })
  })

  it('refuses an unknown q key on spaces', async () => {
    const res = await call(f.url, '/v2/spaces?q=app_name:x', admin)
    expect(res.status).toBe(400)
    expect(res.body.description).toBe('The query parameter is invalid: app_name')
  })

  it('shows a developer only the org and spaces they develop in', async () => {
    const { first, second } = orgsOf(f.store)
    const orgs = await call(f.url, '/v2/organizations', developer)
    expect(orgs.body.resources.map((r: Json) => r.metadata.guid)).toEqual([first.guid])
    const spaces = await call(f.url, '/v2/spaces?results-per-page=100', developer)
    expect(spaces.body.resources.map((r: Json) => r.metadata.guid)).toEqual(
      f.store.spacesOfOrg(first.guid).map((s) => s.guid),
    )
    // What exists but may not be seen is 403 NotAuthorized; only what does not exist is a 404.
    const hiddenOrg = await call(f.url, `/v2/organizations/${second.guid}`, developer)
    expect(hiddenOrg.status).toBe(403)
    expect(hiddenOrg.body).toEqual({
      code: 10003,
      description: 'You are not authorized to perform the requested action',
      error_code: 'CF-NotAuthorized',
    })
    const hiddenSpace = f.store.spacesOfOrg(second.guid)[0]!.guid
    const space = await call(f.url, `/v2/spaces/${hiddenSpace}`, developer)
    expect(space.status).toBe(403)
    expect(space.body).toMatchObject({ code: 10003, error_code: 'CF-NotAuthorized' })
    const missing = await call(f.url, '/v2/organizations/no-such-org', developer)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({
      code: 30003,
      description: 'The organization could not be found: no-such-org',
      error_code: 'CF-OrganizationNotFound',
    })
    expect((await call(f.url, '/v2/spaces/no-such-space', developer)).body).toMatchObject({
      code: 40004,
      error_code: 'CF-SpaceNotFound',
    })
  })

  it('refuses another org’s app to a developer with NotAuthorized, and an unknown one with AppNotFound', async () => {
    const { secondApps, firstApps } = orgsOf(f.store)
    expect((await call(f.url, `/v2/apps/${firstApps[0]!.guid}`, developer)).status).toBe(200)
    for (const sub of ['', '/stats', '/instances', '/summary', '/routes', '/env']) {
      const res = await call(f.url, `/v2/apps/${secondApps[0]!.guid}${sub}`, developer)
      expect(res.status).toBe(403)
      expect(res.body.error_code).toBe('CF-NotAuthorized')
      const missing = await call(f.url, `/v2/apps/no-such-app${sub}`, developer)
      expect(missing.status).toBe(404)
      expect(missing.body.error_code).toBe('CF-AppNotFound')
    }
  })

  it('gets one org and one space by guid', async () => {
    const space = f.store.spaces()[7]!
    const res = await call(f.url, `/v2/spaces/${space.guid}`, admin)
    expect(res.body.metadata.guid).toBe(space.guid)
    expect(res.body.entity.organization_url).toBe(`/v2/organizations/${space.orgGuid}`)
    const org = await call(f.url, `/v2/organizations/${space.orgGuid}`, admin)
    expect(org.body.entity.name).toBe(f.store.org(space.orgGuid)!.name)
  })
})
