// Bodies read as bytes (what a mapped list reads its pages as), against a real HTTP server on 127.0.0.1.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Transport } from '../../../src/core/cc/transport.js'

let server: Server | undefined
let transport: Transport | undefined
afterEach(async () => {
  await transport?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
  transport = undefined
})

/** A server answering each path with `answer(path)`: status, body, and whether to send it chunked. */
async function serve(answer: (path: string) => { status: number; body: string; chunked?: boolean }): Promise<string> {
  server = createServer((req, res) => {
    const { status, body, chunked } = answer(req.url ?? '')
    if (chunked) {
      res.writeHead(status, { 'content-type': 'application/json' })
      // Written in pieces, with no content-length: the reader cannot know the size beforehand.
      for (let at = 0; at < body.length; at += 10_000) res.write(body.slice(at, at + 10_000))
      res.end()
    } else {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`
}

describe('a body read as bytes', () => {
  it('comes as bytes for a 2xx answer, and as text for any other', async () => {
    const url = await serve((path) =>
      path === '/ok' ? { status: 200, body: '{"a":"ü"}' } : { status: 404, body: '{"code":10000}' },
    )
    transport = new Transport(url, { retries: 0 })
    const ok = await transport.send({ method: 'GET', path: '/ok', bytes: true })
    expect(ok.bytes?.toString('utf8')).toBe('{"a":"ü"}')
    expect(ok.text).toBe('')
    ok.release?.()
    const missing = await transport.send({ method: 'GET', path: '/missing', bytes: true })
    expect(missing.status).toBe(404)
    expect(missing.bytes).toBeUndefined()
    expect(missing.text).toBe('{"code":10000}')
  })

  it('is read whole when it comes in pieces with no length, however long', async () => {
    const long = JSON.stringify({ resources: Array.from({ length: 30_000 }, (_, i) => ({ n: i })) })
    expect(long.length).toBeGreaterThan(300_000)
    const url = await serve(() => ({ status: 200, body: long, chunked: true }))
    transport = new Transport(url, { retries: 0 })
    const answer = await transport.send({ method: 'GET', path: '/long', bytes: true })
    expect(answer.bytes?.toString('utf8')).toBe(long)
    answer.release?.()
  })

  it('is read into a buffer lent again once the one before was given back', async () => {
    const url = await serve((path) => ({ status: 200, body: JSON.stringify({ path }) }))
    transport = new Transport(url, { retries: 0 })
    const first = await transport.send({ method: 'GET', path: '/1', bytes: true })
    const second = await transport.send({ method: 'GET', path: '/2', bytes: true })
    // Both held at once: two buffers.
    expect(second.bytes!.buffer).not.toBe(first.bytes!.buffer)
    expect(first.bytes!.toString('utf8')).toBe('{"path":"/1"}')
    first.release!()
    second.release!()
    const third = await transport.send({ method: 'GET', path: '/3', bytes: true })
    expect([first.bytes!.buffer, second.bytes!.buffer]).toContain(third.bytes!.buffer)
    expect(third.bytes!.toString('utf8')).toBe('{"path":"/3"}')
    third.release!()
  })
})
