// Test support for the CC client: msw wired to see undici's requests, builders of CC v2 bodies, a fake
// clock that records every sleep, a token provider that counts refreshes, and a raw node:http server for
// what msw cannot fake (a connection reset mid-answer, a server that never answers).
//
// msw's setupServer() listens through http.ClientRequest, fetch and XHR only; undici's Pool writes to
// its own sockets and goes straight past it. @mswjs/interceptors' HttpRequestInterceptor (msw's own
// dependency) works at the socket level, so msw's defineNetwork() with that source does see undici.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpRequestInterceptor } from '@mswjs/interceptors/http'
import type { RequestHandler } from 'msw'
import { defineNetwork, InterceptorSource } from 'msw/experimental'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { CcClient, type CcClientOptions, requestToken, type TokenProvider } from '../../../src/core/cc/index.js'

/** The origin msw answers for: nothing listens there, so an unhandled request could never pass. */
export const API = 'http://127.0.0.1:9'

export interface MockNetwork {
  use(...handlers: RequestHandler[]): void
  reset(): void
  close(): Promise<void>
}

export async function mockNetwork(): Promise<MockNetwork> {
  const network = defineNetwork({
    sources: [new InterceptorSource({ interceptors: [new HttpRequestInterceptor()] })],
    handlers: [],
    onUnhandledFrame: 'error',
    context: { quiet: true },
  })
  await network.enable()
  return {
    use: (...handlers) => network.use(...handlers),
    reset: () => network.resetHandlers(),
    close: async () => {
      await network.disable()
    },
  }
}

/**
 * The MockNetwork of the test file that calls this at its top: on before its first test, its handlers reset
 * before each test, off after the last. Use it inside the tests and their hooks.
 */
export function mockNetworkOfTests(): MockNetwork {
  let network: MockNetwork | undefined
  beforeAll(async () => {
    network = await mockNetwork()
  })
  afterAll(() => network?.close())
  beforeEach(() => network?.reset())
  const on = (): MockNetwork => {
    if (!network) throw new Error('the mock network is on only inside the tests and their hooks')
    return network
  }
  return { use: (...handlers) => on().use(...handlers), reset: () => on().reset(), close: () => on().close() }
}

/** A client of the CC at API with a token that never needs refreshing and a clock whose sleeps return at once. */
export function aClient(options: Partial<CcClientOptions> = {}): CcClient {
  return new CcClient({ apiUrl: API, auth: new CountingTokens('t'), clock: new SleepRecorder(), ...options })
}

/** A token taken as it is: a test that expects no refresh fails when one is asked for. */
export class StaticTokens implements TokenProvider {
  constructor(private token: string) {}
  async accessToken() {
    return this.token
  }
  async refresh(): Promise<string> {
    throw new Error('not expected to refresh')
  }
}

/** A client of the (embedded) foundation at `url` as its admin (admin/admin), and the admin's token. */
export async function anAdminClient(url: string): Promise<{ client: CcClient; token: string }> {
  const info = await new CcClient({ apiUrl: url }).info()
  const { accessToken } = await requestToken(info.tokenEndpoint, {
    type: 'password',
    username: 'admin',
    password: 'admin',
  })
  return { client: new CcClient({ apiUrl: url, auth: new StaticTokens(accessToken) }), token: accessToken }
}

/** A FakeClock whose sleeps return at once (moving the time on) and are recorded. */
export class SleepRecorder extends FakeClock {
  readonly sleeps: number[] = []
  /** Runs at the end of each sleep, with how many there have been: the world changing while one waits. */
  onSleep: ((count: number) => Promise<void> | void) | undefined

  override async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    await this.advance(ms)
    await this.onSleep?.(this.sleeps.length)
  }
}

/** Tokens as the auth layer hands them out: `refresh()` issues the next one and is counted. */
export class CountingTokens implements TokenProvider {
  refreshes = 0
  constructor(
    public token: string,
    private readonly next: (n: number) => string = (n) => `${token}-refreshed-${n}`,
  ) {}

  async accessToken(): Promise<string> {
    return this.token
  }

  async refresh(): Promise<string> {
    this.refreshes++
    this.token = this.next(this.refreshes)
    return this.token
  }
}

/** A JWT-shaped token, so tests can check that nothing token-like leaks into messages. */
export function fakeJwt(subject: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: subject, exp: 4_102_444_800 })}.c2lnbmF0dXJl`
}

// ---- CC v2 bodies ----

let guidCounter = 0
export function guid(prefix = 'g'): string {
  guidCounter++
  return `${prefix}-${String(guidCounter).padStart(8, '0')}-0000-4000-8000-000000000000`
}

export interface AppFields {
  guid: string
  name: string
  space_guid: string
  state: 'STARTED' | 'STOPPED'
  instances: number
  memory: number
  disk_quota: number
  diego: boolean
}

/** A v2 app resource with every field a 2016 CC renders, overridable. */
export function appResource(fields: Partial<AppFields> | Record<string, unknown> = {}) {
  const id = typeof fields.guid === 'string' ? fields.guid : guid('app')
  const { guid: _ignored, ...entityFields } = fields
  return {
    metadata: {
      guid: id,
      url: `/v2/apps/${id}`,
      created_at: '2016-03-01T10:00:00Z',
      updated_at: '2016-03-02T11:00:00Z',
    },
    entity: {
      name: `app-${id.slice(4, 12)}`,
      production: false,
      space_guid: 'space-1',
      stack_guid: 'stack-1',
      buildpack: null,
      detected_buildpack: 'ruby 1.6.7',
      environment_json: {},
      memory: 256,
      instances: 2,
      disk_quota: 1024,
      state: 'STARTED',
      version: 'version-1',
      command: null,
      console: false,
      debug: null,
      staging_task_id: null,
      package_state: 'STAGED',
      health_check_type: 'port',
      health_check_timeout: null,
      staging_failed_reason: null,
      staging_failed_description: null,
      diego: false,
      docker_image: null,
      package_updated_at: '2016-03-01T10:00:00Z',
      detected_start_command: 'bundle exec rackup',
      enable_ssh: true,
      docker_credentials_json: { redacted_message: '[PRIVATE DATA HIDDEN]' },
      ports: null,
      space_url: '/v2/spaces/space-1',
      stack_url: '/v2/stacks/stack-1',
      routes_url: `/v2/apps/${id}/routes`,
      ...entityFields,
    },
  }
}

/** The paginated envelope around `resources`, page `page` of `totalPages`. */
export function envelope(resources: unknown[], page: number, totalPages: number, totalResults?: number) {
  return {
    total_results: totalResults ?? resources.length,
    total_pages: totalPages,
    prev_url: page > 1 ? `/v2/apps?page=${page - 1}&results-per-page=100` : null,
    next_url: page < totalPages ? `/v2/apps?page=${page + 1}&results-per-page=100` : null,
    resources,
  }
}

export function cfError(code: number, errorCode: string, description: string) {
  return { code, description, error_code: errorCode }
}

// ---- a raw server ----

export interface RawServer {
  url: string
  /** Requests received, in order. */
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>
  close(): Promise<void>
}

/** A node:http server on 127.0.0.1:0 whose handler sees the n-th request (1-based). */
export async function rawServer(
  handle: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  port = 0,
): Promise<RawServer> {
  const requests: RawServer['requests'] = []
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    handle(req, res, requests.length)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
