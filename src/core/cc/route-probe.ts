// One HTTP request to an app's route, as a user of the app would send it: through the embedded
// foundation's router (Host: APP.DOMAIN), or straight to https://APP.DOMAIN on a real foundation.
// An answer from an instance (2xx, 3xx, or a 4xx other than 404) means the app is routable; 404 and
// 5xx from the router, a refused connection or a timeout mean it is not.
import { Agent, request } from 'undici'

export interface RouteProbeOptions {
  /** The router to send every probe to, with the app's hostname as Host; unset: the app's own URL. */
  routerUrl?: string
  skipSslValidation?: boolean
  /** Per probe; a probe that takes longer counts as a miss. Default 2 s. */
  timeoutMs?: number
}

export function isRoutableStatus(status: number): boolean {
  return status < 500 && status !== 404
}

export class RouteProbe {
  private readonly agent: Agent
  private readonly routerUrl: string | undefined
  private readonly timeoutMs: number

  constructor(options: RouteProbeOptions = {}) {
    this.routerUrl = options.routerUrl?.replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? 2_000
    this.agent = new Agent({
      connections: 16,
      keepAliveTimeout: 10_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: this.timeoutMs, rejectUnauthorized: !options.skipSslValidation },
    })
  }

  /** Whether some instance answers on `hostname` (with an optional path such as `/health`). */
  async probe(hostname: string, path = '/'): Promise<boolean> {
    const url = this.routerUrl ? `${this.routerUrl}${path}` : `https://${hostname}${path}`
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        headers: this.routerUrl ? { host: hostname } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      await res.body.dump()
      return isRoutableStatus(res.statusCode)
    } catch {
      return false
    }
  }

  close(): Promise<void> {
    return this.agent.close()
  }
}
