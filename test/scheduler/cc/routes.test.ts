// An app's routes and their domains, as the cf CLI and cfctl's route probe read them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, login, startFoundation } from './support.js'

let f: Foundation
let token: string

beforeAll(async () => {
  f = await startFoundation()
  token = (await login(f.url, 'admin', 'admin')).access_token
})

afterAll(async () => {
  await f.close()
})

describe('GET /v2/apps/:guid/routes', () => {
  it("lists the app's route with its host and a domain_url that resolves to the domain's name", async () => {
    const app = f.store.apps()[0]!
    const routes = await call(f.url, `/v2/apps/${app.guid}/routes`, token)
    expect(routes.status).toBe(200)
    expect(routes.body.total_results).toBe(app.routes.length)
    const route = routes.body.resources[0]
    expect(route.metadata.url).toBe(`/v2/routes/${app.routes[0]!.guid}`)
    expect(route.entity).toMatchObject({ host: app.routes[0]!.host, path: '', domain_guid: app.routes[0]!.domainGuid })
    expect(route.entity).not.toHaveProperty('domain')
    const domain = await call(f.url, route.entity.domain_url, token)
    expect(domain.status).toBe(200)
    expect(domain.body.entity.name).toBe(app.routes[0]!.domainName)
  })

  it('inlines the domain with inline-relations-depth=1', async () => {
    const app = f.store.apps()[1]!
    const routes = await call(f.url, `/v2/apps/${app.guid}/routes?inline-relations-depth=1`, token)
    expect(routes.body.resources[0].entity.domain.entity.name).toBe(app.routes[0]!.domainName)
  })

  it('answers CF-AppNotFound for an unknown app and CF-DomainNotFound for an unknown domain', async () => {
    const app = await call(f.url, '/v2/apps/nope/routes', token)
    expect(app.status).toBe(404)
    expect(app.body.error_code).toBe('CF-AppNotFound')
    const domain = await call(f.url, '/v2/shared_domains/nope', token)
    expect(domain.status).toBe(404)
    expect(domain.body).toMatchObject({ code: 130002, error_code: 'CF-DomainNotFound' })
  })

  it('needs a token', async () => {
    const app = f.store.apps()[0]!
    expect((await call(f.url, `/v2/apps/${app.guid}/routes`, null)).status).toBe(401)
  })
})
