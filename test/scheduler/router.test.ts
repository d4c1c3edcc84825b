import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { Router } from '../../src/scheduler/router.js'
import { type RouteEndpoint, RouteTable } from '../../src/scheduler/routes.js'

// fetch() drops a Host header; undici's request() sends it, as a real client through a router does.
async function get(url: string, host: string) {
  const res = await request(url, { headers: { host } })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

describe('Router', () => {
  let router: Router | undefined
  afterEach(async () => {
    await router?.close()
  })

  async function start(routes: RouteTable, known: string[]): Promise<string> {
    router = new Router({ routes, isKnownRoute: (h) => known.includes(h) })
    return router.listen(0)
  }

  it('answers from a running instance with its index and backend', async () => {
    const routes = new RouteTable()
    routes.register('shop.apps.internal', {
      appGuid: 'g1',
      backend: 'diego',
      index: 2,
      instanceGuid: 'i-2',
      host: 'cell-1',
    })
    const url = await start(routes, ['shop.apps.internal'])
    const res = await get(url, 'shop.apps.internal')
    expect(res.status).toBe(200)
    expect(res.headers['x-cf-app-instance']).toBe('g1:2')
    expect(JSON.parse(res.text)).toMatchObject({ app_guid: 'g1', index: 2, backend: 'diego' })
  })

  it('spreads requests over every running instance', async () => {
    const routes = new RouteTable()
    routes.register('shop.apps.internal', { appGuid: 'g1', backend: 'dea', index: 0, instanceGuid: 'a', host: 'dea-1' })
    routes.register('shop.apps.internal', {
      appGuid: 'g1',
      backend: 'diego',
      index: 0,
      instanceGuid: 'b',
      host: 'cell-1',
    })
    const url = await start(routes, ['shop.apps.internal'])
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const res = await get(url, 'shop.apps.internal')
      seen.add((JSON.parse(res.text) as { backend: string }).backend)
    }
    expect(seen).toEqual(new Set(['dea', 'diego']))
  })

  it('answers 502 for a known route with no running instance', async () => {
    const url = await start(new RouteTable(), ['shop.apps.internal'])
    const res = await get(url, 'shop.apps.internal')
    expect(res.status).toBe(502)
    expect(res.headers['x-cf-routererror']).toBe('no_endpoints')
  })

  it('answers 404 for a route nobody owns', async () => {
    const url = await start(new RouteTable(), [])
    const res = await get(url, 'nope.apps.internal')
    expect(res.status).toBe(404)
    expect(res.text).toContain("Requested route ('nope.apps.internal') does not exist.")
  })

  it('stops answering for an instance once it is unregistered', async () => {
    const routes = new RouteTable()
    routes.register('shop.apps.internal', { appGuid: 'g1', backend: 'dea', index: 0, instanceGuid: 'a', host: 'dea-1' })
    const url = await start(routes, ['shop.apps.internal'])
    expect((await get(url, 'shop.apps.internal')).status).toBe(200)
    routes.unregister('shop.apps.internal', 'a')
    expect((await get(url, 'shop.apps.internal')).status).toBe(502)
  })

  it('asks a registered source for its running endpoints at each request', async () => {
    const routes = new RouteTable()
    const running: RouteEndpoint[] = []
    const source = { routeEndpoints: (into: RouteEndpoint[]) => into.push(...running) }
    routes.registerSource('shop.apps.internal', source)
    routes.registerSource('SHOP.apps.internal', source)
    const url = await start(routes, ['shop.apps.internal'])
    expect((await get(url, 'shop.apps.internal')).status).toBe(502)
    running.push({ appGuid: 'g1', backend: 'diego', index: 1, instanceGuid: 'i-1', host: 'cell-1' })
    const res = await get(url, 'shop.apps.internal')
    expect(res.headers['x-cf-app-instance']).toBe('g1:1')
    expect(routes.lookup('shop.apps.internal')).toHaveLength(1)
    routes.unregisterSource('shop.apps.internal', source)
    expect(routes.size).toBe(0)
    expect((await get(url, 'shop.apps.internal')).status).toBe(502)
  })
})
