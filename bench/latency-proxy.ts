// A CC a network away, for the benchmarks: an HTTP proxy on 127.0.0.1 that holds each request for a fixed
// time before passing it on to the embedded CC, then streams the answer back as it comes. On loopback the
// embedded CC answers a page in a millisecond or two of CPU, the same CPU the client parses with on these
// 2-core machines, so no client can overlap much there; a real CC answers a page of apps in tens to
// hundreds of milliseconds, plus the round trip, and that wait is what a concurrent walk hides.
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LatencyProxy {
  url: string
  close(): Promise<void>
}

export async function latencyProxy(upstream: string, latencyMs: number): Promise<LatencyProxy> {
  const target = new URL(upstream)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const server: Server = createServer((req, res) => {
    // A kept-alive connection the CC closed as it was picked up fails at once: a GET is sent again, once.
    const send = (retry: boolean) => {
      const forward = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      forward.on('error', (error: NodeJS.ErrnoException) => {
        if (retry && req.method === 'GET' && error.code === 'ECONNRESET' && !res.headersSent) return send(false)
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`latency proxy: ${error.message}`)
      })
      if (req.method === 'GET') forward.end()
      else req.pipe(forward)
    }
    setTimeout(() => send(true), latencyMs)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
