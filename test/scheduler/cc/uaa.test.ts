import { createHmac } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { call, type Foundation, type Json, login, startFoundation } from './support.js'

function claimsOf(jwt: string): Json {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))
}

async function tokenRequest(url: string, form: Record<string, string>, authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (authorization) headers.authorization = authorization
  const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(form) })
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers }
}

describe('the token endpoint', () => {
  let f: Foundation
  beforeEach(async () => {
    f = await startFoundation()
  })
  afterEach(() => f.close())

  it('logs the cf CLI in with a password grant and answers UAA’s token JSON', async () => {
    const answer = await login(f.url, 'developer', 'developer')
    expect(answer).toMatchObject({ token_type: 'bearer', expires_in: 1200 })
    expect(answer.scope.split(' ')).toEqual(expect.arrayContaining(['cloud_controller.read', 'cloud_controller.write']))
    expect(answer.scope).not.toContain('cloud_controller.admin')
    expect(typeof answer.refresh_token).toBe('string')
    const claims = claimsOf(answer.access_token)
    const user = f.store.userNamed('developer')!
    expect(claims).toMatchObject({
      jti: answer.jti,
      user_name: 'developer',
      user_id: user.guid,
      client_id: 'cf',
      grant_type: 'password',
      iss: `${f.url}/oauth/token`,
      zid: 'uaa',
    })
    expect(claims.aud).toEqual(expect.arrayContaining(['cf', 'cloud_controller']))
    expect(claims.exp - claims.iat).toBe(1200)
    expect(claims.iat).toBe(Math.floor(f.clock.now() / 1000))
  })

  it('gives admins cloud_controller.admin', async () => {
    const answer = await login(f.url, 'admin', 'admin')
    expect(claimsOf(answer.access_token).scope).toContain('cloud_controller.admin')
  })

  it('signs tokens with HS256', async () => {
    const [header] = (await login(f.url, 'admin', 'admin')).access_token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' })
  })

  it('answers a wrong password as UAA does: 401 unauthorized, Bad credentials', async () => {
    const res = await tokenRequest(f.url, { grant_type: 'password', username: 'admin', password: 'nope' }, 'Basic Y2Y6')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' })
  })

  it('refuses an unknown user the same way as a wrong password', async () => {
    const res = await tokenRequest(f.url, { grant_type: 'password', username: 'mallory', password: 'x' }, 'Basic Y2Y6')
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('unauthorized')
  })

  it('refuses a wrong client secret', async () => {
    const basic = `Basic ${Buffer.from('cf:secret').toString('base64')}`
    const res = await tokenRequest(f.url, { grant_type: 'password', username: 'admin', password: 'admin' }, basic)
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' })
  })

  it('answers a missing or unknown grant type with 400', async () => {
    const missing = await tokenRequest(f.url, { username: 'admin', password: 'admin' }, 'Basic Y2Y6')
    expect(missing.status).toBe(400)
    expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'Missing grant type' })
    const unknown = await tokenRequest(f.url, { grant_type: 'implicit' }, 'Basic Y2Y6')
    expect(unknown.status).toBe(400)
    expect(unknown.body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'Unsupported grant type: implicit',
    })
  })

  it('refuses a scope the user does not hold', async () => {
    const res = await tokenRequest(
      f.url,
      { grant_type: 'password', username: 'developer', password: 'developer', scope: 'cloud_controller.admin' },
      'Basic Y2Y6',
    )
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_scope')
  })

  it('refreshes an access token with the refresh_token grant', async () => {
    const first = await login(f.url, 'developer', 'developer')
    await f.clock.advance(60_000)
    const res = await tokenRequest(
      f.url,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token! },
      'Basic Y2Y6',
    )
    expect(res.status).toBe(200)
    expect(res.body.access_token).not.toBe(first.access_token)
    expect(res.body.refresh_token).toBe(first.refresh_token)
    expect((await call(f.url, '/v2/apps', res.body.access_token)).status).toBe(200)
  })

  it('does not take a refresh token as a bearer token', async () => {
    const { refresh_token } = await login(f.url, 'developer', 'developer')
    const res = await call(f.url, '/v2/apps', refresh_token!)
    expect(res.status).toBe(401)
    expect(res.body.error_code).toBe('CF-InvalidAuthToken')
  })

  it('refuses an expired refresh token', async () => {
    const { refresh_token } = await login(f.url, 'developer', 'developer')
    await f.clock.advance(31 * 24 * 3600 * 1000)
    const res = await tokenRequest(f.url, { grant_type: 'refresh_token', refresh_token: refresh_token! }, 'Basic Y2Y6')
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('invalid_token')
  })

  it('issues an admin token to the CI client with client_credentials', async () => {
    const basic = `Basic ${Buffer.from('cfctl-ci:cfctl-ci').toString('base64')}`
    const res = await tokenRequest(f.url, { grant_type: 'client_credentials' }, basic)
    expect(res.status).toBe(200)
    expect(res.body.refresh_token).toBeUndefined()
    const claims = claimsOf(res.body.access_token)
    expect(claims).toMatchObject({ sub: 'cfctl-ci', client_id: 'cfctl-ci', grant_type: 'client_credentials' })
    expect(claims.user_id).toBeUndefined()
    const apps = await call(f.url, '/v2/apps?results-per-page=1', res.body.access_token)
    expect(apps.body.total_results).toBe(f.store.apps().length)
  })

  it('does not let the cf client use client_credentials', async () => {
    const res = await tokenRequest(f.url, { grant_type: 'client_credentials' }, 'Basic Y2Y6')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({
      error: 'invalid_client',
      error_description: 'Unauthorized grant type: client_credentials',
    })
  })
})

describe('bearer tokens on /v2', () => {
  let f: Foundation
  beforeEach(async () => {
    f = await startFoundation({ config: { tokenTtlSec: 600 } })
  })
  afterEach(() => f.close())

  it('answers a call without a token with NotAuthenticated (10002, 401)', async () => {
    const res = await call(f.url, '/v2/apps', null)
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ code: 10002, description: 'Authentication error', error_code: 'CF-NotAuthenticated' })
  })

  it('answers a forged token with InvalidAuthToken (1000, 401)', async () => {
    const { access_token } = await login(f.url, 'developer', 'developer')
    const [header, payload] = access_token.split('.')
    const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: ['cloud_controller.admin'] }
    const forgedPayload = Buffer.from(JSON.stringify(claims)).toString('base64url')
    const otherKey = createHmac('sha256', 'not the key').update(`${header}.${forgedPayload}`).digest('base64url')
    for (const token of [
      `${header}.${forgedPayload}.${access_token.split('.')[2]}`,
      `${header}.${forgedPayload}.${otherKey}`,
    ]) {
      const res = await call(f.url, '/v2/apps', token)
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ code: 1000, description: 'Invalid Auth Token', error_code: 'CF-InvalidAuthToken' })
    }
  })

  it('answers a garbled token with InvalidAuthToken', async () => {
    for (const token of ['garbage', 'a.b.c', '...', 'eyJ.eyJ.sig']) {
      const res = await call(f.url, '/v2/apps', token)
      expect(res.body.error_code).toBe('CF-InvalidAuthToken')
    }
  })

  it('answers an Authorization that is not a bearer token as no token: 401 NotAuthenticated (10002)', async () => {
    const { access_token } = await login(f.url, 'admin', 'admin')
    for (const authorization of ['Basic Y2Y6', access_token, `token ${access_token}`]) {
      const res = await fetch(`${f.url}/v2/apps`, { headers: { authorization } })
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({
        code: 10002,
        description: 'Authentication error',
        error_code: 'CF-NotAuthenticated',
      })
    }
  })

  it('honours the configured lifetime: valid until it ends, InvalidAuthToken after', async () => {
    const { access_token, expires_in } = await login(f.url, 'developer', 'developer')
    expect(expires_in).toBe(600)
    expect((await call(f.url, '/v2/apps', access_token)).status).toBe(200)
    await f.clock.advance(599_000)
    expect((await call(f.url, '/v2/apps', access_token)).status).toBe(200)
    await f.clock.advance(1_000)
    const res = await call(f.url, '/v2/apps', access_token)
    expect(res.status).toBe(401)
    expect(res.body.error_code).toBe('CF-InvalidAuthToken')
  })

  it('lets /v2/info through without a token and names the token endpoint', async () => {
    const res = await call(f.url, '/v2/info', null)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ token_endpoint: f.url, authorization_endpoint: f.url, version: 2 })
    expect(res.body.api_version).toMatch(/^2\.\d+\.\d+$/)
    for (const field of ['name', 'build', 'support', 'description', 'min_cli_version', 'app_ssh_endpoint']) {
      expect(res.body).toHaveProperty(field)
    }
    expect(res.body.user).toBeUndefined()
    const { access_token } = await login(f.url, 'developer', 'developer')
    const withUser = await call(f.url, '/v2/info', access_token)
    expect(withUser.body.user).toBe(f.store.userNamed('developer')!.guid)
  })

  it('uses the configured base URL in /v2/info and in the token issuer', async () => {
    const g = await startFoundation({ config: { baseUrl: 'https://api.example.test/' } })
    try {
      const info = await call(g.url, '/v2/info', null)
      expect(info.body.token_endpoint).toBe('https://api.example.test')
      const { access_token } = await login(g.url, 'admin', 'admin')
      expect(claimsOf(access_token).iss).toBe('https://api.example.test/oauth/token')
    } finally {
      await g.close()
    }
  })
})
