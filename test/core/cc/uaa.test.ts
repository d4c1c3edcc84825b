import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { CfAuthError, CfSchemaError, requestToken } from '../../../src/core/cc/index.js'
import { fakeJwt, mockNetworkOfTests, SleepRecorder } from './support.js'

const UAA = 'http://127.0.0.1:9'

const network = mockNetworkOfTests()

interface Seen {
  form: URLSearchParams
  authorization: string | null
  contentType: string | null
  path: string
}

function serveTokens(answer: (form: URLSearchParams) => Response) {
  const seen: Seen[] = []
  network.use(
    http.post(`${UAA}/oauth/token`, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      seen.push({
        form,
        authorization: request.headers.get('authorization'),
        contentType: request.headers.get('content-type'),
        path: new URL(request.url).pathname,
      })
      return answer(form)
    }),
  )
  return seen
}

const access = fakeJwt('access')
const refresh = fakeJwt('refresh')
const granted = () =>
  HttpResponse.json({
    access_token: access,
    token_type: 'bearer',
    refresh_token: refresh,
    expires_in: 1199,
    scope: 'cloud_controller.read cloud_controller.write openid',
    jti: 'abc',
  })

const options = { clock: new SleepRecorder() }

describe('requestToken', () => {
  it('logs in with the password grant as the cf CLI does: form body, client cf with an empty secret', async () => {
    const seen = serveTokens(granted)
    const tokens = await requestToken(UAA, { type: 'password', username: 'admin', password: 'p4ss;word' }, options)
    expect(tokens).toEqual({
      accessToken: access,
      refreshToken: refresh,
      expiresIn: 1199,
      scope: 'cloud_controller.read cloud_controller.write openid',
      tokenType: 'bearer',
    })
    expect(seen[0]!.path).toBe('/oauth/token')
    expect(seen[0]!.authorization).toBe('Basic Y2Y6')
    expect(seen[0]!.contentType).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      grant_type: 'password',
      username: 'admin',
      password: 'p4ss;word',
    })
  })

  it('takes the full /oauth/token URL too', async () => {
    const seen = serveTokens(granted)
    await requestToken(`${UAA}/oauth/token`, { type: 'refresh_token', refreshToken: refresh }, options)
    expect(seen[0]!.path).toBe('/oauth/token')
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ grant_type: 'refresh_token', refresh_token: refresh })
  })

  it('sends the client of a client_credentials grant in HTTP Basic', async () => {
    const seen = serveTokens(() =>
      HttpResponse.json({
        access_token: access,
        token_type: 'bearer',
        expires_in: 43199,
        scope: 'cloud_controller.admin',
      }),
    )
    const tokens = await requestToken(
      UAA,
      { type: 'client_credentials', clientId: 'ci', clientSecret: 's3cret' },
      options,
    )
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('ci:s3cret').toString('base64')}`)
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ grant_type: 'client_credentials' })
    expect(tokens.refreshToken).toBeUndefined()
  })

  it('says whose credentials were rejected, and never the password', async () => {
    const password = 'hunter2-very-secret'
    serveTokens(() =>
      HttpResponse.json(
        { error: 'unauthorized', error_description: `Bad credentials for ${password}` },
        { status: 401 },
      ),
    )
    const error = (await requestToken(UAA, { type: 'password', username: 'dev', password }, options).catch(
      (e: unknown) => e,
    )) as CfAuthError
    expect(error).toBeInstanceOf(CfAuthError)
    expect(error.message).toContain('user "dev"')
    expect(error.status).toBe(401)
    expect(error.errorCode).toBe('unauthorized')
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(password)
  })

  it('leaves out a description that quotes a password too short to cut out', async () => {
    serveTokens(() =>
      HttpResponse.json({ error: 'unauthorized', error_description: 'Bad credentials: abc' }, { status: 401 }),
    )
    const error = (await requestToken(UAA, { type: 'password', username: 'dev', password: 'abc' }, options).catch(
      (e: unknown) => e,
    )) as CfAuthError
    expect(error.message).not.toContain('abc')
    expect(error.message).toContain('(UAA: unauthorized)')
  })

  it('reports an expired refresh token without quoting it', async () => {
    serveTokens(() =>
      HttpResponse.json(
        { error: 'invalid_token', error_description: `Invalid refresh token: ${refresh}` },
        { status: 401 },
      ),
    )
    const error = (await requestToken(UAA, { type: 'refresh_token', refreshToken: refresh }, options).catch(
      (e: unknown) => e,
    )) as CfAuthError
    expect(error).toBeInstanceOf(CfAuthError)
    expect(error.message).toContain('rejected the refresh token')
    expect(error.message).not.toContain(refresh.split('.')[1])
    expect(error.hint).toBe('run: cfctl login')
  })

  it('names a rejected client', async () => {
    serveTokens(() =>
      HttpResponse.json({ error: 'invalid_client', error_description: 'Bad client credentials' }, { status: 401 }),
    )
    await expect(
      requestToken(UAA, { type: 'client_credentials', clientId: 'ci', clientSecret: 'wrong-secret' }, options),
    ).rejects.toThrow(/OAuth client "ci"/)
  })

  it('says when UAA itself is failing', async () => {
    serveTokens(() => new HttpResponse('oops', { status: 500 }))
    await expect(requestToken(UAA, { type: 'password', username: 'u', password: 'pw-1234' }, options)).rejects.toThrow(
      /UAA could not issue a token: HTTP 500/,
    )
  })

  it('retries a token request only when UAA cannot have acted on it', async () => {
    let calls = 0
    serveTokens(() => {
      calls++
      return calls === 1 ? new HttpResponse(null, { status: 503 }) : granted()
    })
    const clock = new SleepRecorder()
    await requestToken(UAA, { type: 'refresh_token', refreshToken: refresh }, { clock, random: () => 1 })
    expect(calls).toBe(2)
    expect(clock.sleeps).toEqual([250])

    network.reset()
    calls = 0
    serveTokens(() => {
      calls++
      return new HttpResponse(null, { status: 502 })
    })
    // A 502 came from a gateway that may have passed the request on: a refresh token may be single-use.
    await expect(
      requestToken(UAA, { type: 'refresh_token', refreshToken: refresh }, { clock, random: () => 1 }),
    ).rejects.toBeInstanceOf(CfAuthError)
    expect(calls).toBe(1)
  })

  it('names the missing field of a token answer', async () => {
    serveTokens(() => HttpResponse.json({ token_type: 'bearer', expires_in: 10 }))
    const error = (await requestToken(UAA, { type: 'password', username: 'u', password: 'pw-1234' }, options).catch(
      (e: unknown) => e,
    )) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.field).toBe('access_token')
  })
})

describe('a wrong password, as UAA of 2016 and of today answer it', () => {
  const login = (username = 'dev') =>
    requestToken(UAA, { type: 'password', username, password: 'wrong-password-1' }, options).then(
      () => {
        throw new Error('logged in with a wrong password')
      },
      (e: unknown) => e as CfAuthError,
    )

  it('blames the user\'s credentials for current UAA\'s 401 invalid_client "Bad credentials", not the client "cf"', async () => {
    // UAA since late 2023 (UaaExceptionTranslator): a wrong password is invalid_client, Bad credentials.
    serveTokens(() =>
      HttpResponse.json({ error: 'invalid_client', error_description: 'Bad credentials' }, { status: 401 }),
    )
    const error = await login()
    expect(error.message).toBe('UAA rejected the credentials of user "dev" (UAA: Bad credentials)')
    expect(error.message).not.toContain('client')
    expect(error.errorCode).toBe('invalid_client')
  })

  it('blames them for 2016 UAA\'s 401 unauthorized "Bad credentials" alike', async () => {
    serveTokens(() =>
      HttpResponse.json({ error: 'unauthorized', error_description: 'Bad credentials' }, { status: 401 }),
    )
    expect((await login()).message).toBe('UAA rejected the credentials of user "dev" (UAA: Bad credentials)')
  })

  it('names what to check, not the login that just failed', async () => {
    serveTokens(() =>
      HttpResponse.json({ error: 'invalid_client', error_description: 'Bad credentials' }, { status: 401 }),
    )
    const { hint } = await login()
    expect(hint).not.toBe('run: cfctl login')
    expect(hint).toContain('user name')
    expect(hint).toContain('password')
    expect(hint).toContain('--client-credentials')
  })

  it('still names the OAuth client when UAA refuses the client itself', async () => {
    serveTokens(() =>
      HttpResponse.json(
        { error: 'invalid_client', error_description: 'Unauthorized grant type: password' },
        { status: 400 },
      ),
    )
    expect((await login()).message).toContain('OAuth client "cf"')
  })
})
