// The two extensions of this CC that a real CC lacks: /v2/info's x_cfctl_router_url and
// GET /v2/x-cfctl/backends. cfctl uses them against the embedded foundation and copes without them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, login, startFoundation } from './support.js'

describe('/v2/info x_cfctl_router_url (extension)', () => {
  it('is absent while the CC knows of no router', async () => {
    const f = await startFoundation()
    try {
      const info = await call(f.url, '/v2/info', null)
      expect(info.status).toBe(200)
      expect(info.body).not.toHaveProperty('x_cfctl_router_url')
    } finally {
      await f.close()
    }
  })

  it('shows the router URL from the config, and a later setRouterUrl replaces it', async () => {
    const f = await startFoundation({ config: { routerUrl: 'http://127.0.0.1:4444/' } })
    try {
      expect((await call(f.url, '/v2/info', null)).body.x_cfctl_router_url).toBe('http://127.0.0.1:4444')
      f.cc.setRouterUrl('http://127.0.0.1:5555')
      expect((await call(f.url, '/v2/info', null)).body.x_cfctl_router_url).toBe('http://127.0.0.1:5555')
      f.cc.setRouterUrl(undefined)
      expect((await call(f.url, '/v2/info', null)).body).not.toHaveProperty('x_cfctl_router_url')
    } finally {
      await f.close()
    }
  })

  it('refuses a router URL that is not http(s), naming the field', async () => {
    const f = await startFoundation()
    try {
      expect(() => f.cc.setRouterUrl('ftp://127.0.0.1')).toThrow(/routerUrl must be an http or https URL/)
      expect(() => f.cc.setRouterUrl('not a url')).toThrow(/routerUrl must be an absolute http\(s\) URL/)
    } finally {
      await f.close()
    }
  })
})

describe('GET /v2/x-cfctl/backends (extension)', () => {
  let f: Foundation
  let admin: string
  let developer: string

  beforeAll(async () => {
    f = await startFoundation()
    f.dea.capacityReport = {
      total: { memoryMb: 98_304, diskMb: 196_608, containers: 750 },
      used: { memoryMb: 4_096, diskMb: 8_192, containers: 12 },
      nodes: 3,
      nodesUp: 2,
    }
    f.diego.capacityReport = {
      total: { memoryMb: 65_536, diskMb: 131_072, containers: 500 },
      used: { memoryMb: 0, diskMb: 0, containers: 0 },
      nodes: 2,
      nodesUp: 2,
    }
    admin = (await login(f.url, 'admin', 'admin')).access_token
    developer = (await login(f.url, 'developer', 'developer')).access_token
  })
  afterAll(() => f.close())

  it('gives an admin each backend’s nodes, memory, disk and containers from its capacity()', async () => {
    const res = await call(f.url, '/v2/x-cfctl/backends', admin)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      dea: {
        nodes: 3,
        nodes_up: 2,
        memory_mb: { total: 98_304, used: 4_096 },
        disk_mb: { total: 196_608, used: 8_192 },
        containers: { total: 750, used: 12 },
      },
      diego: {
        nodes: 2,
        nodes_up: 2,
        memory_mb: { total: 65_536, used: 0 },
        disk_mb: { total: 131_072, used: 0 },
        containers: { total: 500, used: 0 },
      },
    })
  })

  it('refuses a space developer with 403 CF-NotAuthorized', async () => {
    const res = await call(f.url, '/v2/x-cfctl/backends', developer)
    expect(res.status).toBe(403)
    expect(res.body).toEqual({
      code: 10003,
      description: 'You are not authorized to perform the requested action',
      error_code: 'CF-NotAuthorized',
    })
  })

  it('needs a token, as every /v2 call does', async () => {
    const res = await call(f.url, '/v2/x-cfctl/backends', null)
    expect(res.status).toBe(401)
    expect(res.body.error_code).toBe('CF-NotAuthenticated')
  })

  it('answers only GET, and nothing below it', async () => {
    expect((await call(f.url, '/v2/x-cfctl/backends', admin, { method: 'PUT', body: {} })).status).toBe(404)
    expect((await call(f.url, '/v2/x-cfctl/backends/dea', admin)).status).toBe(404)
  })

  it('leaves out a backend that is not attached', async () => {
    const g = await startFoundation({ attach: false })
    try {
      const token = (await login(g.url, 'admin', 'admin')).access_token
      g.cc.attachBackends({ diego: g.diego })
      const res = await call(g.url, '/v2/x-cfctl/backends', token)
      expect(res.status).toBe(200)
      expect(Object.keys(res.body)).toEqual(['diego'])
    } finally {
      await g.close()
    }
  })
})
