// Where route probes go: through the router given with the target (Host: the app's hostname), or, with
// none, to https://HOST.DOMAIN as a user of the app would reach it.
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RouteProbe } from '../../../src/core/cc/route-probe.js'
import { type MockNetwork, mockNetwork, rawServer } from './support.js'

describe('RouteProbe through a router', () => {
  it("sends each probe to the router's address with the app's hostname as Host", async () => {
    const router = await rawServer((req, res) => {
      res.statusCode = req.headers.host === 'checkout.apps.example.com' ? 200 : 404
      res.end()
    })
    const probe = new RouteProbe({ routerUrl: `${router.url}/` })
    try {
      expect(await probe.probe('checkout.apps.example.com', '/health')).toBe(true)
      expect(await probe.probe('gone.apps.example.com')).toBe(false)
      expect(router.requests.map((r) => [r.url, r.headers.host])).toEqual([
        ['/health', 'checkout.apps.example.com'],
        ['/', 'gone.apps.example.com'],
      ])
    } finally {
      await probe.close()
      await router.close()
    }
  })
})

describe('RouteProbe without a router', () => {
  let network: MockNetwork
  beforeAll(async () => {
    network = await mockNetwork()
  })
  afterAll(() => network.close())

  it('probes https://HOST.DOMAIN', async () => {
    const seen: string[] = []
    network.use(
      http.get('https://checkout.apps.example.com/*', ({ request }) => {
        seen.push(request.url)
        return new HttpResponse('ok')
      }),
    )
    const probe = new RouteProbe()
    try {
      expect(await probe.probe('checkout.apps.example.com', '/health')).toBe(true)
      expect(seen).toEqual(['https://checkout.apps.example.com/health'])
    } finally {
      await probe.close()
    }
  })
})
