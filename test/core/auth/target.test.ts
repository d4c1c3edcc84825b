// What `cfctl target URL` accepts, and what it says when the URL is not the foundation's.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverTarget, parseApiUrl } from '../../../src/core/auth/target.js'
import { UsageError, UserError } from '../../../src/core/errors.js'

describe('parseApiUrl', () => {
  it.each([
    ['api.sys.example.com', 'https://api.sys.example.com'],
    ['127.0.0.1:9022', 'https://127.0.0.1:9022'],
    ['localhost:9022', 'https://localhost:9022'],
    ['http://127.0.0.1:9022/', 'http://127.0.0.1:9022'],
    ['https://cc', 'https://cc'],
  ])('takes %s as %s', (raw, url) => {
    expect(parseApiUrl(raw)).toBe(url)
  })

  it('refuses a bare word before asking DNS about it, and names the form that works', () => {
    expect(() => parseApiUrl('notaurl')).toThrow(UsageError)
    expect(() => parseApiUrl('notaurl')).toThrow(/"notaurl" is not a URL: a host needs its domain/)
  })

  it.each(['http://', 'ftp://files.example.com', ''])('refuses %j as a usage error', (raw) => {
    expect(() => parseApiUrl(raw)).toThrow(UsageError)
  })
})

describe('discoverTarget on a server that speaks plain HTTP', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    server = createServer((_request, response) => response.end('{}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('says the host answers plain HTTP and names the http:// URL, not a TLS certificate', async () => {
    const error = await discoverTarget(`127.0.0.1:${port}`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UserError)
    expect((error as UserError).message).toBe(
      `https://127.0.0.1:${port} answers plain HTTP, not HTTPS (a URL without a scheme means https, as with cf api)`,
    )
    expect((error as UserError).hint).toBe(`cfctl target http://127.0.0.1:${port}`)
  })
})
