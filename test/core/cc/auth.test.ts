import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { CcClient, CfApiError, CfAuthError, CfSchemaError, type TokenProvider } from '../../../src/core/cc/index.js'
import {
  API,
  appResource,
  CountingTokens,
  cfError,
  envelope,
  fakeJwt,
  mockNetworkOfTests,
  SleepRecorder,
} from './support.js'

const network = mockNetworkOfTests()

const invalidToken = () =>
  HttpResponse.json(cfError(1000, 'CF-InvalidAuthToken', 'Invalid Auth Token'), { status: 401 })

/** Answers the app only to a request bearing `valid()`; anything else is CF-InvalidAuthToken. */
function serveAppTo(valid: () => string) {
  const seen: string[] = []
  const app = appResource({ name: 'web' })
  network.use(
    http.get(`${API}/v2/apps/:guid`, ({ request }) => {
      const header = request.headers.get('authorization') ?? ''
      seen.push(header)
      return header === `bearer ${valid()}` ? HttpResponse.json(app) : invalidToken()
    }),
  )
  return seen
}

describe('token refresh', () => {
  it('refreshes once when the CC answers 401 CF-InvalidAuthToken, then sends the request again', async () => {
    const tokens = new CountingTokens(fakeJwt('old'), () => fakeJwt('new'))
    const seen = serveAppTo(() => fakeJwt('new'))
    const client = new CcClient({ apiUrl: API, auth: tokens, clock: new SleepRecorder() })
    expect((await client.app('a')).name).toBe('web')
    expect(tokens.refreshes).toBe(1)
    expect(seen).toEqual([`bearer ${fakeJwt('old')}`, `bearer ${fakeJwt('new')}`])
  })

  it('refreshes no more than once for a request: a second 401 is a CfAuthError', async () => {
    const tokens = new CountingTokens(fakeJwt('old'))
    const seen = serveAppTo(() => 'never valid')
    const client = new CcClient({ apiUrl: API, auth: tokens, clock: new SleepRecorder() })
    const error = (await client.app('a').catch((e: unknown) => e)) as CfAuthError
    expect(error).toBeInstanceOf(CfAuthError)
    expect(error.status).toBe(401)
    expect(error.errorCode).toBe('CF-InvalidAuthToken')
    expect(error.message).toContain('even after a refresh')
    expect(tokens.refreshes).toBe(1)
    expect(seen).toHaveLength(2)
  })

  it('does not refresh on a 401 that is not CF-InvalidAuthToken', async () => {
    const tokens = new CountingTokens('t')
    network.use(
      http.get(`${API}/v2/apps/:guid`, () =>
        HttpResponse.json(cfError(10002, 'CF-NotAuthenticated', 'Authentication error'), { status: 401 }),
      ),
    )
    const client = new CcClient({ apiUrl: API, auth: tokens, clock: new SleepRecorder() })
    await expect(client.app('a')).rejects.toMatchObject({ name: 'CfAuthError', errorCode: 'CF-NotAuthenticated' })
    expect(tokens.refreshes).toBe(0)
  })

  it('shares one refresh among the pages of a list that were all rejected', async () => {
    const tokens = new CountingTokens('old', () => 'new')
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        // Page 1 is served with the old token; it expires just as the other pages go out.
        if (page === 1) return HttpResponse.json(envelope([appResource({ name: 'p1' })], 1, 6, 6))
        if (request.headers.get('authorization') !== 'bearer new') return invalidToken()
        return HttpResponse.json(envelope([appResource({ name: `p${page}` })], page, 6, 6))
      }),
    )
    const client = new CcClient({ apiUrl: API, auth: tokens, clock: new SleepRecorder(), pageConcurrency: 5 })
    const apps = await client.apps()
    expect(apps.map((a) => a.name)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
    expect(tokens.refreshes).toBe(1)
  })

  it('passes on the error of a refresh that fails', async () => {
    const tokens: TokenProvider = {
      accessToken: async () => 'old',
      refresh: async () => {
        throw new CfAuthError('the session has expired: UAA rejected the refresh token')
      },
    }
    serveAppTo(() => 'new')
    const client = new CcClient({ apiUrl: API, auth: tokens, clock: new SleepRecorder() })
    await expect(client.app('a')).rejects.toThrow('UAA rejected the refresh token')
  })

  it('says that a token is needed when a request without one is refused', async () => {
    serveAppTo(() => 'x')
    const client = new CcClient({ apiUrl: API, clock: new SleepRecorder() })
    await expect(client.app('a')).rejects.toThrow(/needs a token and none was sent/)
  })
})

describe('tokens in errors', () => {
  const token = fakeJwt('secret-user')
  const refreshed = fakeJwt('secret-user-2')

  function leaks(error: unknown): string[] {
    const e = error as Error
    const texts = [e.message, e.stack ?? '', String(e), JSON.stringify(e), JSON.stringify({ ...e })]
    return [token, refreshed, token.split('.')[1]!, refreshed.split('.')[1]!].filter((t) =>
      texts.some((text) => text.includes(t)),
    )
  }

  it('keeps the token out of every kind of error', async () => {
    const client = () =>
      new CcClient({
        apiUrl: API,
        auth: new CountingTokens(token, () => refreshed),
        clock: new SleepRecorder(),
        retries: 0,
      })
    const authorization = (request: Request) => request.headers.get('authorization')
    /** The error of reading an app from a CC that answers as `answer` does. */
    const errorOf = async (answer: Parameters<typeof http.get>[1]) => {
      network.reset()
      network.use(http.get(`${API}/v2/apps/:guid`, answer))
      return client()
        .app('a')
        .catch((e: unknown) => e)
    }

    const errors = [
      // A CC error whose description quotes the token it was sent.
      await errorOf(({ request }) =>
        HttpResponse.json(cfError(10003, 'CF-NotAuthorized', `not authorized: ${authorization(request)}`), {
          status: 403,
        }),
      ),
      // An error page that echoes the request headers.
      await errorOf(
        ({ request }) => new HttpResponse(`<pre>Authorization: ${authorization(request)}</pre>`, { status: 502 }),
      ),
      // A rejected token, before and after the refresh.
      await errorOf(invalidToken),
      // A success body that echoes the token where JSON was expected.
      await errorOf(({ request }) => new HttpResponse(`${authorization(request)}`)),
    ]
    // (A network failure is checked in network.test.ts, away from msw, which would answer it.)

    expect(errors.map((e) => (e as Error).constructor)).toEqual([CfApiError, CfApiError, CfAuthError, CfSchemaError])
    for (const error of errors) expect(leaks(error)).toEqual([])
  })
})
