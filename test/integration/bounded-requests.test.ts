// Bounded requests on the foundation's API and router, as the nginx in front of a real CC bounds them:
// a body declared too large is 413 at once, a stalled request is 408 when its time is up, an oversized
// head is 431; each time the connection is closed, so no client holds one open indefinitely.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/scheduler/clock.js'
import { Foundation } from '../../src/scheduler/foundation.js'

let f: Foundation

beforeAll(async () => {
  f = await Foundation.start({
    seed: 'small',
    engineClock: new FakeClock(),
    log: () => {},
    httpLimits: { requestTimeoutMs: 400, headersTimeoutMs: 400, maxHeaderBytes: 4096 },
  })
})
afterAll(() => f.stop())

/** Writes `head` (and `body`) on a raw connection; resolves with all the server sent once it closes. */
function rawRequest(url: string, head: string, body = ''): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname)
    let text = ''
    // Only a server that never answers nor closes lets this fire; the test then fails on `closed`.
    const guard = setTimeout(() => {
      socket.destroy()
      resolve({ text, closed: false })
    }, 10_000)
    socket.on('connect', () => socket.write(head + body))
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
    })
    socket.on('error', (error) => {
      // A reset after the answer still counts as closed.
      clearTimeout(guard)
      if (text) resolve({ text, closed: true })
      else reject(error)
    })
    socket.on('close', () => {
      clearTimeout(guard)
      resolve({ text, closed: true })
    })
  })
}

async function adminToken(): Promise<string> {
  const res = await fetch(`${f.apiUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: 'Basic Y2Y6', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: 'admin' }),
  })
  return ((await res.json()) as { access_token: string }).access_token
}

const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])

describe('the API', () => {
  it('refuses a body that declares 10 GB and sends 10 bytes with 413, at once, and closes', async () => {
    const started = Date.now()
    const res = await rawRequest(
      f.apiUrl,
      'PUT /v2/apps/some-guid HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n',
      '{"diego":1',
    )
    expect(status(res.text)).toBe(413)
    expect(res.text).toContain('413 Request Entity Too Large')
    expect(res.closed).toBe(true)
    // Well before the request time limit: the size alone decided it.
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('answers a request whose body stalls with 408 when the request time is up, and closes', async () => {
    const token = await adminToken()
    const res = await rawRequest(
      f.apiUrl,
      `PUT /v2/apps/some-guid HTTP/1.1\r\nHost: api\r\nAuthorization: bearer ${token}\r\nContent-Length: 100\r\n\r\n`,
      '{"diego":1',
    )
    expect(status(res.text)).toBe(408)
    expect(res.closed).toBe(true)
  })

  it('refuses a head larger than the limit with 431', async () => {
    const res = await rawRequest(f.apiUrl, `GET /v2/info HTTP/1.1\r\nHost: api\r\nX-Big: ${'a'.repeat(8192)}\r\n\r\n`)
    expect(status(res.text)).toBe(431)
    expect(res.closed).toBe(true)
  })

  it('refuses a chunked body that grows past 1 MiB with 413', async () => {
    const token = await adminToken()
    const chunk = 'a'.repeat(64 * 1024)
    let body = ''
    for (let i = 0; i < 17; i++) body += `${chunk.length.toString(16)}\r\n${chunk}\r\n`
    const res = await rawRequest(
      f.apiUrl,
      `PUT /v2/apps/some-guid HTTP/1.1\r\nHost: api\r\nAuthorization: bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      body,
    )
    expect(status(res.text)).toBe(413)
    expect(res.closed).toBe(true)
  })

  it('still answers ordinary requests', async () => {
    const res = await fetch(`${f.apiUrl}/v2/info`)
    expect(res.status).toBe(200)
  })
})

describe('the router', () => {
  it('refuses a huge declared body with 413, and does not wait past the limit for a stalled one', async () => {
    const huge = await rawRequest(
      f.routerUrl,
      'POST / HTTP/1.1\r\nHost: x.apps.internal\r\nContent-Length: 10737418240\r\n\r\n',
      'abc',
    )
    expect(status(huge.text)).toBe(413)
    expect(huge.closed).toBe(true)
    // The router answers without reading a body; the connection with the stalled rest is then closed.
    const started = Date.now()
    const stalled = await rawRequest(
      f.routerUrl,
      'POST / HTTP/1.1\r\nHost: x.apps.internal\r\nContent-Length: 50\r\n\r\n',
      'abc',
    )
    expect(status(stalled.text)).toBe(404)
    expect(stalled.closed).toBe(true)
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
