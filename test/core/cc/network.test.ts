// Failures below HTTP, against real sockets on 127.0.0.1: msw can answer or fail a request, but not
// reset a connection half way through an answer or keep one waiting, which is what these are about.
import { afterEach, describe, expect, it } from 'vitest'
import { CcClient, CfNetworkError } from '../../../src/core/cc/index.js'
import {
  appResource,
  CountingTokens,
  closedPort,
  fakeJwt,
  type RawServer,
  rawServer,
  SleepRecorder,
} from './support.js'

let server: RawServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

function clientFor(url: string, options: { retries?: number; timeoutMs?: number } = {}) {
  const clock = new SleepRecorder()
  const client = new CcClient({ apiUrl: url, auth: new CountingTokens('t'), clock, random: () => 1, ...options })
  return { clock, client }
}

const app = appResource({ name: 'web' })
const appJson = JSON.stringify(app)

describe('connection failures', () => {
  it('tries again when the connection is reset before the answer', async () => {
    server = await rawServer((req, res, n) => {
      if (n === 1) {
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(appJson)
    })
    const { clock, client } = clientFor(server.url)
    expect((await client.app(app.metadata.guid)).name).toBe('web')
    expect(server.requests).toHaveLength(2)
    expect(clock.sleeps).toEqual([250])
    await client.close()
  })

  it('tries again when the connection breaks half way through the body', async () => {
    server = await rawServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(appJson.length) })
        res.write(appJson.slice(0, 40))
        setTimeout(() => res.socket?.destroy(), 5)
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(appJson)
    })
    const { clock, client } = clientFor(server.url)
    expect((await client.app(app.metadata.guid)).name).toBe('web')
    expect(server.requests).toHaveLength(2)
    expect(clock.sleeps).toHaveLength(1)
    await client.close()
  })

  it('tries a refused connection again (a foundation that is restarting), then gives up naming what failed', async () => {
    const url = await closedPort()
    const { clock, client } = clientFor(url, { retries: 4 })
    const error = (await client.app('x').catch((e: unknown) => e)) as CfNetworkError
    expect(error).toBeInstanceOf(CfNetworkError)
    expect(error.reason).toBe('ECONNREFUSED')
    expect(error.attempts).toBe(5)
    expect(error.method).toBe('GET')
    expect(error.url).toBe(`${url}/v2/apps/x`)
    expect(error.message).toContain('connection refused')
    expect(clock.sleeps).toEqual([250, 500, 1000, 2000])
    await client.close()
  })

  it('reaches a foundation that comes up while it is being retried', async () => {
    const url = await closedPort()
    const port = Number(new URL(url).port)
    const clock = new SleepRecorder()
    // The foundation is back, on the port it had before, by the end of the second wait.
    clock.onSleep = async (count) => {
      if (count === 2) {
        server = await rawServer(
          (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(appJson),
          port,
        )
      }
    }
    const client = new CcClient({ apiUrl: url, auth: new CountingTokens('t'), clock, random: () => 1 })
    expect((await client.app('x')).name).toBe('web')
    expect(clock.sleeps).toEqual([250, 500])
    await client.close()
  })

  it('times out an answer that never comes, tries again, and then reports the timeout', async () => {
    server = await rawServer(() => {
      // Never answers.
    })
    const { clock, client } = clientFor(server.url, { retries: 1, timeoutMs: 150 })
    const error = (await client.app('x').catch((e: unknown) => e)) as CfNetworkError
    expect(error).toBeInstanceOf(CfNetworkError)
    expect(error.reason).toBe('UND_ERR_HEADERS_TIMEOUT')
    expect(error.attempts).toBe(2)
    expect(error.message).toContain('no answer within 150 ms')
    expect(server.requests).toHaveLength(2)
    expect(clock.sleeps).toEqual([250])
    await client.close()
  })

  it('times out a body that stalls', async () => {
    server = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(appJson.length) })
      res.write(appJson.slice(0, 10))
    })
    const { client } = clientFor(server.url, { retries: 0, timeoutMs: 150 })
    await expect(client.app('x')).rejects.toMatchObject({ reason: 'UND_ERR_BODY_TIMEOUT', attempts: 1 })
    await client.close()
  })

  it('keeps its connections alive across requests', async () => {
    const ports = new Set<number>()
    server = await rawServer((req, res) => {
      ports.add(req.socket.remotePort!)
      res.writeHead(200, { 'content-type': 'application/json' }).end(appJson)
    })
    const { client } = clientFor(server.url)
    for (let i = 0; i < 20; i++) await client.app('x')
    // undici may hand consecutive requests to a second connection while the first settles; it never
    // opens one per request.
    expect(ports.size).toBeLessThanOrEqual(2)
    await client.close()
  })

  it('sends the token as a bearer header, and no token to /v2/info', async () => {
    server = await rawServer((req, res) => {
      const body =
        req.url === '/v2/info'
          ? { authorization_endpoint: 'http://uaa', token_endpoint: 'http://uaa', api_version: '2.54.0' }
          : app
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    const { client } = clientFor(server.url)
    await client.info()
    await client.app('x')
    expect(server.requests[0]!.headers.authorization).toBeUndefined()
    expect(server.requests[1]!.headers.authorization).toBe('bearer t')
    expect(server.requests[1]!.headers['user-agent']).toMatch(/^cfctl/)
    await client.close()
  })

  it('keeps the token out of a network error', async () => {
    const token = fakeJwt('secret-user')
    server = await rawServer((req) => req.socket.destroy())
    const client = new CcClient({
      apiUrl: server.url,
      auth: new CountingTokens(token),
      clock: new SleepRecorder(),
      retries: 1,
    })
    const error = (await client.app('a').catch((e: unknown) => e)) as CfNetworkError
    expect(error).toBeInstanceOf(CfNetworkError)
    const texts = [error.message, error.stack ?? '', String(error), JSON.stringify(error), String(error.cause)]
    for (const text of texts) expect(text).not.toContain(token.split('.')[1])
    await client.close()
  })
})

describe('connections', () => {
  /** Holds every answer until `release`; says how many requests were out at once. */
  async function holdingServer() {
    const held: Array<() => void> = []
    let out = 0
    let most = 0
    server = await rawServer((_req, res) => {
      out++
      most = Math.max(most, out)
      held.push(() => {
        out--
        res.writeHead(200, { 'content-type': 'application/json' }).end(appJson)
      })
    })
    return {
      most: () => most,
      waiting: () => held.length,
      release: () => {
        for (const answer of held.splice(0)) answer()
      },
    }
  }

  async function concurrency(connections: number | undefined): Promise<number> {
    const hold = await holdingServer()
    const client = new CcClient({ apiUrl: server!.url, auth: new CountingTokens('t'), connections })
    const calls = Array.from({ length: 40 }, () => client.app(app.metadata.guid))
    const until = Date.now() + 2_000
    while (hold.waiting() < Math.min(40, connections ?? 9) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await new Promise((resolve) => setTimeout(resolve, 50)) // any more would have arrived by now
    const most = hold.most()
    let done = false
    const all = Promise.all(calls).then(() => {
      done = true
    })
    while (!done) {
      hold.release()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await all
    await client.close()
    await server!.close()
    server = undefined
    return most
  }

  it('keeps one more than the pages of a list walk open by default, and as many as asked for', async () => {
    expect(await concurrency(undefined)).toBe(9)
    expect(await concurrency(32)).toBe(32)
  })

  it('rejects a connection count that is not a whole number of at least 1', () => {
    expect(() => new CcClient({ apiUrl: 'http://127.0.0.1:9', connections: 0 })).toThrow(
      'connections must be an integer ≥ 1, got 0',
    )
  })
})
