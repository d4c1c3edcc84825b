// The foundation's router: answers for an app by Host header (`APP.DOMAIN`) from a running instance,
// as gorouter does from the routes the backends register. 404 for a route nobody owns, 502 when the
// route exists but no instance of the app is running. This is what continual-routability probes hit.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { boundedServer, type HttpLimits } from './http-limits.js'
import type { RouteTable } from './routes.js'

export interface RouterOptions {
  routes: RouteTable
  /** Whether some app owns this hostname (the CC's routes), running or not. */
  isKnownRoute: (hostname: string) => boolean
  /** Request time, header and body limits (defaults: DEFAULT_HTTP_LIMITS). */
  httpLimits?: Partial<HttpLimits>
}

export class Router {
  private readonly server: Server
  private next = 0

  constructor(private readonly options: RouterOptions) {
    this.server = boundedServer((req, res) => this.handle(req, res), options.httpLimits)
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    return this.url
  }

  get url(): string {
    const address = this.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()
    req.resume()
    const endpoints = hostname ? this.options.routes.lookup(hostname) : []
    if (endpoints.length === 0) {
      const known = hostname !== '' && this.options.isKnownRoute(hostname)
      // gorouter's wording: an unknown route is a 404, a known route with no backend a 502.
      const [status, message] = known
        ? [502, `502 Bad Gateway: Registered endpoint failed to handle the request.`]
        : [404, `Requested route ('${hostname}') does not exist.`]
      res.writeHead(status, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(`${message}\n`),
        'x-cf-routererror': known ? 'no_endpoints' : 'unknown_route',
      })
      res.end(`${message}\n`)
      return
    }
    const endpoint = endpoints[this.next++ % endpoints.length]!
    const body = JSON.stringify({
      app_guid: endpoint.appGuid,
      index: endpoint.index,
      backend: endpoint.backend,
      instance_guid: endpoint.instanceGuid,
      host: endpoint.host,
    })
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-cf-app-instance': `${endpoint.appGuid}:${endpoint.index}`,
      'x-cfctl-backend': endpoint.backend,
    })
    res.end(body)
  }
}
