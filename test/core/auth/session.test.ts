import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import type { CfctlConfig } from '../../../src/core/auth/config.js'
import { jwtExpiry, Session } from '../../../src/core/auth/session.js'
import { NotLoggedInError } from '../../../src/core/errors.js'

const target = { api: 'http://127.0.0.1:1', tokenEndpoint: 'http://127.0.0.1:1', skipSslValidation: false }

function aJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'HS256' })}.${part(claims)}.signature`
}

function aSession(config: Partial<CfctlConfig>, clock = new FakeClock(Date.UTC(2026, 0, 1))) {
  const saved: CfctlConfig[] = []
  const grants: unknown[] = []
  let issued = 0
  const session = new Session(
    { version: 1, target, ...config },
    { kind: 'cfctl', path: '/dev/null' },
    {
      clock,
      save: (c) => saved.push(c),
      requestToken: async (_url, grant) => {
        grants.push(grant)
        issued++
        return {
          accessToken: aJwt({ exp: clock.now() / 1000 + 1200, user_name: 'admin' }),
          refreshToken: `refresh-${issued}`,
          expiresIn: 1200,
          scope: 'cloud_controller.admin',
          tokenType: 'bearer',
        }
      },
    },
  )
  return { session, saved, grants, clock }
}

describe('a session', () => {
  it('hands out a token that has not expired as it is', async () => {
    const { session, clock } = aSession({})
    const token = aJwt({ exp: clock.now() / 1000 + 600 })
    const { session: s2 } = aSession({ accessToken: token }, clock)
    expect(await s2.accessToken()).toBe(token)
    await expect(session.accessToken()).rejects.toBeInstanceOf(NotLoggedInError)
  })

  it('refreshes an expired token with the refresh token and saves both', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1))
    const { session, saved, grants } = aSession(
      { accessToken: aJwt({ exp: clock.now() / 1000 - 1 }), refreshToken: 'old-refresh' },
      clock,
    )
    const token = await session.accessToken()
    expect(jwtExpiry(token)).toBeGreaterThan(clock.now())
    expect(grants).toEqual([{ type: 'refresh_token', refreshToken: 'old-refresh' }])
    expect(saved.at(-1)).toMatchObject({ accessToken: token, refreshToken: 'refresh-1' })
  })

  it('shares one refresh among concurrent callers', async () => {
    const { session, grants } = aSession({ accessToken: 'opaque', refreshToken: 'r' })
    const tokens = await Promise.all([session.refresh(), session.refresh(), session.refresh()])
    expect(new Set(tokens).size).toBe(1)
    expect(grants).toHaveLength(1)
  })

  it('says to log in when the token expired and there is no refresh token', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1))
    const { session } = aSession({ accessToken: aJwt({ exp: clock.now() / 1000 - 1 }) }, clock)
    await expect(session.accessToken()).rejects.toThrow(/expired and there is no refresh token/)
    await expect(session.refresh()).rejects.toBeInstanceOf(NotLoggedInError)
  })

  it('forgets the org and space of the previous user on login', async () => {
    const { session, saved } = aSession({ org: { guid: 'o', name: 'acme' }, space: { guid: 's', name: 'prod' } })
    await session.login({ type: 'password', username: 'admin', password: 'admin' })
    expect(saved.at(-1)?.org).toBeUndefined()
    expect(session.user).toBe('admin')
  })
})
