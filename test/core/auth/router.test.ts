// `cfctl target URL --router ROUTER_URL`: the router address is checked and kept with the target.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverTarget, parseRouterUrl } from '../../../src/core/auth/target.js'
import { UsageError } from '../../../src/core/errors.js'

describe('parseRouterUrl', () => {
  it('takes an http or https address, without a trailing slash', () => {
    expect(parseRouterUrl('https://10.0.16.4/')).toBe('https://10.0.16.4')
    expect(parseRouterUrl(' http://127.0.0.1:8081 ')).toBe('http://127.0.0.1:8081')
  })

  it.each(['', 'router', 'ftp://10.0.16.4', 'https://10.0.16.4/some/path'])('refuses %j naming --router', (raw) => {
    expect(() => parseRouterUrl(raw)).toThrow(UsageError)
    expect(() => parseRouterUrl(raw)).toThrow(/--router/)
  })
})

describe('discoverTarget with a router', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          api_version: '2.54.0',
          authorization_endpoint: 'https://login.sys.example.com',
          token_endpoint: 'https://uaa.sys.example.com',
        }),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('keeps the router with the target', async () => {
    const target = await discoverTarget(url, { routerUrl: 'https://10.0.16.4' })
    expect(target).toMatchObject({ api: url, routerUrl: 'https://10.0.16.4' })
  })

  it('has none when neither the operator nor the foundation names one: probes go to the apps', async () => {
    expect((await discoverTarget(url)).routerUrl).toBeUndefined()
  })
})
