// The roles of the time as CC's access classes decide them, with the seeded user of each role: who
// sees what (403 CF-NotAuthorized for what exists but may not be seen), who may change an app,
// suspended orgs, the app_scaling flag (checked before backend selection) and the roles' q keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, type Json, login, orgsOf, startFoundation } from './support.js'

let f: Foundation
const tokens: Record<string, string> = {}

beforeAll(async () => {
  f = await startFoundation({ config: { usersCanSelectBackend: false } })
  for (const name of ['admin', 'developer']) tokens[name] = (await login(f.url, name, name)).access_token
  for (const name of ['org-manager', 'org-auditor', 'billing-manager', 'org-user', 'space-manager', 'space-auditor']) {
    tokens[name] = (await login(f.url, name, name)).access_token
  }
})
afterAll(() => f.close())

const guids = (res: Json) => res.body.resources.map((r: Json) => r.metadata.guid)

describe('who sees what', () => {
  it('every org role sees its org; only the manager of the org roles sees its spaces and apps', async () => {
    const { first, second, firstApps } = orgsOf(f.store)
    const spaces = f.store.spacesOfOrg(first.guid)
    for (const name of ['org-manager', 'org-auditor', 'billing-manager', 'org-user']) {
      expect(guids(await call(f.url, '/v2/organizations', tokens[name]!))).toEqual([first.guid])
      expect((await call(f.url, `/v2/organizations/${first.guid}`, tokens[name]!)).status).toBe(200)
      expect((await call(f.url, `/v2/organizations/${second.guid}`, tokens[name]!)).status).toBe(403)
    }
    expect(guids(await call(f.url, '/v2/spaces?results-per-page=100', tokens['org-manager']!))).toEqual(
      spaces.map((s) => s.guid),
    )
    expect((await call(f.url, '/v2/apps?results-per-page=100', tokens['org-manager']!)).body.total_results).toBe(
      firstApps.length,
    )
    for (const name of ['org-auditor', 'billing-manager', 'org-user']) {
      expect((await call(f.url, '/v2/spaces', tokens[name]!)).body.total_results).toBe(0)
      expect((await call(f.url, '/v2/apps', tokens[name]!)).body.total_results).toBe(0)
      const res = await call(f.url, `/v2/spaces/${spaces[0]!.guid}`, tokens[name]!)
      expect(res.status).toBe(403)
      expect(res.body.error_code).toBe('CF-NotAuthorized')
      expect((await call(f.url, `/v2/apps/${firstApps[0]!.guid}`, tokens[name]!)).status).toBe(403)
    }
  })

  it('an org auditor sees the org’s routes, not its apps', async () => {
    const { firstApps } = orgsOf(f.store)
    const routes = await call(f.url, '/v2/routes?results-per-page=100', tokens['org-auditor']!)
    expect(routes.body.total_results).toBe(firstApps.length)
    expect((await call(f.url, '/v2/routes', tokens['billing-manager']!)).body.total_results).toBe(0)
  })

  it('space managers and auditors see their space and its apps, nothing else', async () => {
    const { first } = orgsOf(f.store)
    const space = f.store.spacesOfOrg(first.guid)[0]!
    const other = f.store.spacesOfOrg(first.guid)[1]!
    for (const name of ['space-manager', 'space-auditor']) {
      expect(guids(await call(f.url, '/v2/spaces', tokens[name]!))).toEqual([space.guid])
      expect(guids(await call(f.url, '/v2/apps?results-per-page=100', tokens[name]!))).toEqual(
        f.store.appsInSpace(space.guid).map((a) => a.guid),
      )
      expect((await call(f.url, `/v2/spaces/${other.guid}/summary`, tokens[name]!)).status).toBe(403)
      expect((await call(f.url, `/v2/organizations/${first.guid}`, tokens[name]!)).status).toBe(200)
    }
  })
})

describe('who may change an app', () => {
  it('only a space developer (and an admin); every other role gets 403 and nothing changes', async () => {
    const { first } = orgsOf(f.store)
    const app = f.store.appsInSpace(f.store.spacesOfOrg(first.guid)[0]!.guid)[0]!
    for (const name of ['org-manager', 'space-manager', 'space-auditor']) {
      const res = await call(f.url, `/v2/apps/${app.guid}`, tokens[name]!, { method: 'PUT', body: { instances: 2 } })
      expect(res.status).toBe(403)
      expect(res.body.error_code).toBe('CF-NotAuthorized')
      expect((await call(f.url, `/v2/apps/${app.guid}/env`, tokens[name]!)).status).toBe(403)
    }
    expect(f.store.app(app.guid)).toBe(app)
    expect((await call(f.url, `/v2/apps/${app.guid}/env`, tokens.developer!)).status).toBe(200)
  })

  it('a suspended org: its developers may no longer change its apps until an admin reactivates it', async () => {
    const { first, firstApps } = orgsOf(f.store)
    const app = firstApps[0]!
    const put = (token: string, body: Json) => call(f.url, `/v2/apps/${app.guid}`, token, { method: 'PUT', body })
    const suspend = await call(f.url, `/v2/organizations/${first.guid}`, tokens.admin!, {
      method: 'PUT',
      body: { status: 'suspended' },
    })
    expect(suspend.status).toBe(201)
    expect(suspend.body.entity.status).toBe('suspended')
    try {
      expect((await call(f.url, '/v2/organizations?q=status:suspended', tokens.admin!)).body.total_results).toBe(1)
      const refused = await put(tokens.developer!, { name: app.name })
      expect(refused.status).toBe(403)
      expect(refused.body.error_code).toBe('CF-NotAuthorized')
      // Still visible, and an org manager may not reactivate a suspended org.
      expect((await call(f.url, `/v2/apps/${app.guid}`, tokens.developer!)).status).toBe(200)
      const byManager = await call(f.url, `/v2/organizations/${first.guid}`, tokens['org-manager']!, {
        method: 'PUT',
        body: { status: 'active' },
      })
      expect(byManager.status).toBe(403)
    } finally {
      await call(f.url, `/v2/organizations/${first.guid}`, tokens.admin!, { method: 'PUT', body: { status: 'active' } })
    }
    expect((await put(tokens.developer!, { name: app.name })).status).toBe(201)
    const bad = await call(f.url, `/v2/organizations/${first.guid}`, tokens.admin!, {
      method: 'PUT',
      body: { status: 'frozen' },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error_code).toBe('CF-OrganizationInvalid')
  })

  it('app_scaling off: a developer’s scaling is 403 FeatureDisabled, checked before backend selection', async () => {
    const { firstApps } = orgsOf(f.store)
    const app = firstApps[1]!
    const flag = (enabled: boolean) =>
      call(f.url, '/v2/config/feature_flags/app_scaling', tokens.admin!, { method: 'PUT', body: { enabled } })
    const off = await flag(false)
    expect(off.body).toEqual({
      name: 'app_scaling',
      enabled: false,
      error_message: null,
      url: '/v2/config/feature_flags/app_scaling',
    })
    try {
      const res = await call(f.url, `/v2/apps/${app.guid}`, tokens.developer!, {
        method: 'PUT',
        body: { instances: app.instances + 1, diego: true },
      })
      expect(res.status).toBe(403)
      expect(res.body).toEqual({
        code: 330002,
        description: 'Feature Disabled: app_scaling',
        error_code: 'CF-FeatureDisabled',
      })
      // Without scaling, the backend selection check answers (selection is off here).
      const flip = await call(f.url, `/v2/apps/${app.guid}`, tokens.developer!, {
        method: 'PUT',
        body: { diego: true },
      })
      expect(flip.body.error_code).toBe('CF-BackendSelectionNotAuthorized')
      expect((await call(f.url, '/v2/config/feature_flags/app_scaling', tokens.developer!)).body.enabled).toBe(false)
      const byDeveloper = await call(f.url, '/v2/config/feature_flags/app_scaling', tokens.developer!, {
        method: 'PUT',
        body: { enabled: true },
      })
      expect(byDeveloper.status).toBe(403)
    } finally {
      await flag(true)
    }
    expect(f.store.app(app.guid)!.instances).toBe(app.instances)
  })
})

describe('the q keys of orgs and spaces', () => {
  it('orgs by manager_guid, user_guid and space_guid; spaces by developer_guid and app_guid', async () => {
    const { first, firstApps } = orgsOf(f.store)
    const manager = f.store.userNamed('org-manager')!.guid
    const developer = f.store.userNamed('developer')!.guid
    expect(guids(await call(f.url, `/v2/organizations?q=manager_guid:${manager}`, tokens.admin!))).toEqual([first.guid])
    expect(guids(await call(f.url, `/v2/organizations?q=user_guid:${developer}`, tokens.admin!))).toEqual([first.guid])
    const space = f.store.spacesOfOrg(first.guid)[2]!
    expect(guids(await call(f.url, `/v2/organizations?q=space_guid:${space.guid}`, tokens.admin!))).toEqual([
      first.guid,
    ])
    const developed = await call(f.url, `/v2/spaces?q=developer_guid:${developer}&results-per-page=100`, tokens.admin!)
    expect(guids(developed)).toEqual(f.store.spacesOfOrg(first.guid).map((s) => s.guid))
    expect(guids(await call(f.url, `/v2/spaces?q=app_guid:${firstApps[0]!.guid}`, tokens.admin!))).toEqual([
      firstApps[0]!.spaceGuid,
    ])
    expect(guids(await call(f.url, `/v2/organizations?q=name:${first.name.toUpperCase()}`, tokens.admin!))).toEqual([
      first.guid,
    ])
  })
})

describe('cf org-users and cf space-users', () => {
  it('list an org’s and a space’s members by role, each user with its username', async () => {
    const { first, second } = orgsOf(f.store)
    const space = f.store.spacesOfOrg(first.guid)[0]!
    const names = async (path: string, token = tokens.admin!) =>
      (await call(f.url, path, token)).body.resources.map((r: Json) => r.entity.username)
    expect(await names(`/v2/organizations/${first.guid}/managers`)).toEqual(['org-manager'])
    expect(await names(`/v2/organizations/${first.guid}/billing_managers`)).toEqual(['billing-manager'])
    expect(await names(`/v2/organizations/${first.guid}/auditors`)).toEqual(['org-auditor'])
    expect(await names(`/v2/organizations/${first.guid}/users`)).toEqual(
      expect.arrayContaining(['developer', 'org-user', 'space-manager', 'space-auditor']),
    )
    expect(await names(`/v2/spaces/${space.guid}/developers`, tokens['space-auditor']!)).toEqual(['developer'])
    expect(await names(`/v2/spaces/${space.guid}/managers`)).toEqual(['space-manager'])
    expect(await names(`/v2/spaces/${space.guid}/auditors`)).toEqual(['space-auditor'])
    const user = (await call(f.url, `/v2/organizations/${first.guid}/managers`, tokens.admin!)).body.resources[0]
    expect(user.metadata.url).toBe(`/v2/users/${user.metadata.guid}`)
    expect(user.entity).toMatchObject({ admin: false, active: true, default_space_guid: null, username: 'org-manager' })
    expect(user.entity.managed_organizations_url).toBe(`/v2/users/${user.metadata.guid}/managed_organizations`)
    expect((await call(f.url, `/v2/organizations/${second.guid}/users`, tokens['org-user']!)).status).toBe(403)
  })
})
