// Token requests as the cf CLI (and cfctl) send them to UAA's POST /oauth/token, and UAA's answers: of the
// UAA of the DEA-to-Diego era (3.x, early 2016) and of a current one (since late 2023 a wrong password is
// invalid_client). Written from UAA's sources and tests (cloudfoundry/uaa: docs/UAA-APIs.rst,
// TokenMvcMockTests.java, UaaTokenServices.java, UaaExceptionTranslator.java); each fixture names its own.
import type { Fixture } from './fixture.js'

/** JWT-shaped stand-ins: UAA's tokens are JWTs (access) and JWTs or opaque strings (refresh). */
export const ACCESS =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIiwidHlwIjoiSldUIn0.eyJqdGkiOiI0NjU3YzFhOCIsInN1YiI6ImEwYjFjMmQzIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl'
export const REFRESH_2016 =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIiwidHlwIjoiSldUIn0.eyJqdGkiOiI0NjU3YzFhOC1yIiwic3ViIjoiYTBiMWMyZDMifQ.c2lnbmF0dXJl'
export const REFRESH_OPAQUE = '4b3a1d9f2c8e4f7a9b6c5d4e3f2a1b0c-r'
export const EXPIRED_REFRESH = 'eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJvbGQtciJ9.c2lnbmF0dXJl'

const HEADERS = { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' }

const granted2016 = {
  access_token: ACCESS,
  token_type: 'bearer',
  refresh_token: REFRESH_2016,
  expires_in: 599,
  scope:
    'cloud_controller.read password.write cloud_controller.write openid doppler.firehose scim.read uaa.user cloud_controller.admin',
  jti: '4657c1a8-b2d0-4304-b1fe-7bdc203d944f',
}

const grantedNow = {
  access_token: ACCESS,
  token_type: 'bearer',
  id_token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhMGIxYzJkMyJ9.c2lnbmF0dXJl',
  refresh_token: REFRESH_OPAQUE,
  expires_in: 1199,
  scope:
    'openid routing.router_groups.write scim.read cloud_controller.admin uaa.user cloud_controller.read password.write cloud_controller.write network.admin doppler.firehose scim.write',
  jti: '0f1e2d3c4b5a49688776a5b4c3d2e1f0',
}

/** The same requests in both eras. */
function requests(era: '2016' | 'current') {
  const granted = era === '2016' ? granted2016 : grantedNow
  const refreshToken = era === '2016' ? REFRESH_2016 : REFRESH_OPAQUE
  // UAA 3.1.0's TokenMvcMockTests.testGetPasswordGrantInvalidPassword: unauthorized; today's: invalid_client.
  const badCredentials =
    era === '2016'
      ? { error: 'unauthorized', error_description: 'Bad credentials' }
      : { error: 'invalid_client', error_description: 'Bad credentials' }
  const testSource = era === '2016' ? 'UAA 3.1.0 (Feb 2016)' : 'UAA develop (13dc87a60e, 2024)'
  const fixtures: Fixture[] = [
    {
      id: `${era}-password-granted`,
      source: `${testSource} docs/UAA-APIs.rst (OAuth2 token endpoint, password grant), with the cf client's scopes`,
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'password', username: 'admin', password: 'admin-secret-1' },
        basic: 'cf:',
      },
      response: { status: 200, headers: HEADERS, body: granted },
    },
    {
      id: `${era}-password-wrong`,
      source: `${testSource} TokenMvcMockTests.testGetPasswordGrantInvalidPassword: 401 ${badCredentials.error} "Bad credentials"`,
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'password', username: 'admin', password: 'wrong-password-1' },
        basic: 'cf:',
      },
      response: {
        status: 401,
        headers: {
          ...HEADERS,
          'www-authenticate': 'Bearer realm="UAA/oauth", error="unauthorized", error_description="Bad credentials"',
        },
        body: badCredentials,
      },
    },
    {
      id: `${era}-refresh-granted`,
      source: `${testSource} docs/UAA-APIs.rst (refresh_token grant)`,
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'refresh_token', refresh_token: refreshToken },
        basic: 'cf:',
      },
      response: { status: 200, headers: HEADERS, body: granted },
    },
    {
      id: `${era}-refresh-expired`,
      source:
        era === '2016'
          ? 'UAA 3.1.0 UaaTokenServices.refreshAccessToken: InvalidTokenException "Invalid refresh token (expired): TOKEN expired at DATE" (401 invalid_token)'
          : 'UAA develop UaaTokenServices.refreshAccessToken: InvalidTokenException "Invalid refresh token expired at DATE" (401 invalid_token)',
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'refresh_token', refresh_token: EXPIRED_REFRESH },
        basic: 'cf:',
      },
      response: {
        status: 401,
        headers: HEADERS,
        body: {
          error: 'invalid_token',
          error_description:
            era === '2016'
              ? `Invalid refresh token (expired): ${EXPIRED_REFRESH} expired at Fri Apr 08 14:38:42 UTC 2016`
              : 'Invalid refresh token expired at Fri Apr 08 14:38:42 UTC 2016',
        },
      },
    },
    {
      id: `${era}-client-credentials-granted`,
      source: `${testSource} docs/UAA-APIs.rst (client_credentials grant): no refresh token`,
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'client_credentials' },
        basic: 'cfctl-ci:ci-secret-1',
      },
      response: {
        status: 200,
        headers: HEADERS,
        body: {
          access_token: ACCESS,
          token_type: 'bearer',
          expires_in: 43199,
          scope: 'cloud_controller.admin',
          jti: '1a2b3c4d5e6f',
        },
      },
    },
    {
      id: `${era}-client-credentials-wrong`,
      source: `${testSource}: a wrong client secret fails client authentication, 401 ${badCredentials.error} "Bad credentials" (UaaExceptionTranslator since late 2023)`,
      request: {
        method: 'POST',
        path: '/oauth/token',
        form: { grant_type: 'client_credentials' },
        basic: 'cfctl-ci:wrong-secret',
      },
      response: { status: 401, headers: HEADERS, body: badCredentials },
    },
  ]
  return fixtures
}

export const UAA_2016 = requests('2016')
export const UAA_CURRENT = requests('current')
