// Tokens from UAA's `POST /oauth/token`: the password, refresh_token and client_credentials grants, sent
// as the cf CLI sends them (form body, the client in HTTP Basic, 'cf' with an empty secret by default).
// Failures become CfAuthError with a message that says what was rejected, and never quote a password,
// a secret or a token, even when UAA's own description does.
import type { Clock } from '../../clock.js'
import { CfAuthError, CfSchemaError } from './errors.js'
import { excerpt, redact } from './redact.js'
import { TokenBody, UaaErrorBody } from './schemas.js'
import { Transport } from './transport.js'

export type TokenGrant =
  | { type: 'password'; username: string; password: string }
  | { type: 'refresh_token'; refreshToken: string }
  | { type: 'client_credentials'; clientId: string; clientSecret: string }

export interface TokenRequestOptions {
  /** The OAuth client for the password and refresh grants; the cf CLI's is 'cf'. */
  clientId?: string
  clientSecret?: string
  skipSslValidation?: boolean
  /** Space-separated scopes to ask for; UAA grants all the client may have when absent. */
  scope?: string
  timeoutMs?: number
  retries?: number
  clock?: Clock
  random?: () => number
  userAgent?: string
}

export interface Tokens {
  /** The raw JWT, no 'bearer ' prefix. */
  accessToken: string
  refreshToken?: string
  /** Seconds the access token is valid for, from when it was issued. */
  expiresIn: number
  /** Space-separated scopes granted. */
  scope: string
  /** 'bearer'. */
  tokenType: string
}

/**
 * Requests tokens. `tokenUrl` is UAA's base (the `token_endpoint` of /v2/info) or its full
 * `/oauth/token` URL.
 */
export async function requestToken(
  tokenUrl: string,
  grant: TokenGrant,
  options: TokenRequestOptions = {},
): Promise<Tokens> {
  const url = tokenEndpointUrl(tokenUrl)
  const client =
    grant.type === 'client_credentials'
      ? { id: grant.clientId, secret: grant.clientSecret }
      : { id: options.clientId ?? 'cf', secret: options.clientSecret ?? '' }
  const form = new URLSearchParams({ grant_type: grant.type })
  switch (grant.type) {
    case 'password':
      form.set('username', grant.username)
      form.set('password', grant.password)
      break
    case 'refresh_token':
      form.set('refresh_token', grant.refreshToken)
      break
    case 'client_credentials':
      break
  }
  if (options.scope !== undefined) form.set('scope', options.scope)
  const secrets = secretsOf(grant, client.secret)

  const transport = new Transport(url.origin, {
    skipSslValidation: options.skipSslValidation,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    connections: 1,
    clock: options.clock,
    random: options.random,
    userAgent: options.userAgent,
  })
  try {
    // A token request is not idempotent (a refresh token may be single-use), so the transport sends
    // it again only when UAA cannot have seen it: refused connections, 429 and 503.
    const answer = await transport.send({
      method: 'POST',
      path: `${url.pathname}${url.search}`,
      idempotent: false,
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    })
    if (answer.status < 200 || answer.status >= 300)
      throw uaaError(answer.status, answer.text, grant, client.id, secrets)
    let json: unknown
    try {
      json = JSON.parse(answer.text)
    } catch {
      throw new CfSchemaError({ method: 'POST', path: url.pathname, field: '', expected: 'a JSON token response' })
    }
    const parsed = TokenBody.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new CfSchemaError({
        method: 'POST',
        path: url.pathname,
        field: issue.path.map(String).join('.'),
        expected: issue.message,
        more: parsed.error.issues.length - 1,
      })
    }
    const body = parsed.data
    if (body.token_type.toLowerCase() !== 'bearer') {
      throw new CfSchemaError({
        method: 'POST',
        path: url.pathname,
        field: 'token_type',
        expected: `"bearer", got "${excerpt(body.token_type, 20)}"`,
      })
    }
    const tokens: Tokens = {
      accessToken: body.access_token,
      expiresIn: body.expires_in,
      scope: body.scope,
      tokenType: body.token_type,
    }
    if (body.refresh_token !== undefined) tokens.refreshToken = body.refresh_token
    return tokens
  } finally {
    await transport.close()
  }
}

function tokenEndpointUrl(tokenUrl: string): URL {
  let url: URL
  try {
    url = new URL(tokenUrl)
  } catch {
    throw new RangeError(`"${tokenUrl}" is not a URL; expected UAA's, e.g. https://uaa.example.com`)
  }
  if (!url.pathname.replace(/\/+$/, '').endsWith('/oauth/token')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/oauth/token`
  }
  return url
}

function secretsOf(grant: TokenGrant, clientSecret: string): string[] {
  switch (grant.type) {
    case 'password':
      return [grant.password, clientSecret]
    case 'refresh_token':
      return [grant.refreshToken, clientSecret]
    case 'client_credentials':
      return [grant.clientSecret]
  }
}

/**
 * UAA's description, if it can be shown: tokens cut out, and left out entirely when it would quote a
 * secret too short to cut out safely.
 */
function safeDescription(description: string | undefined, secrets: readonly string[]): string | undefined {
  if (!description) return undefined
  const text = excerpt(redact(description, secrets), 160)
  return secrets.some((s) => s !== '' && text.includes(s)) ? undefined : text
}

/** What to check when UAA refuses a user's login: not "run: cfctl login", which is what just failed. */
const PASSWORD_HINT =
  'check the user name (-u or CFCTL_USERNAME) and password (-p or CFCTL_PASSWORD): they are those of a UAA user of this foundation, as for cf login; a UAA client (e.g. for CI) logs in with --client-credentials'

function uaaError(
  status: number,
  text: string,
  grant: TokenGrant,
  clientId: string,
  secrets: readonly string[],
): CfAuthError {
  let body: { error: string; error_description?: string } | undefined
  try {
    const parsed = UaaErrorBody.safeParse(JSON.parse(text))
    if (parsed.success) body = parsed.data
  } catch {
    // Not JSON (a proxy's error page): described by its status below.
  }
  const error = body?.error
  const detail = safeDescription(body?.error_description, secrets)
  const said = detail ? ` (UAA: ${detail})` : error ? ` (UAA: ${error})` : ''
  const fields = { status, errorCode: error }

  if (status >= 500 || (status !== 400 && status !== 401 && status !== 403 && body === undefined)) {
    return new CfAuthError(`UAA could not issue a token: HTTP ${status}${said}`, {
      ...fields,
      hint: 'UAA is failing; try again later, or check the target',
    })
  }
  if (grant.type === 'password' && status === 401 && (error === 'invalid_client' || error === 'unauthorized')) {
    // UAA answers a wrong password with 401: "unauthorized" until late 2023, "invalid_client" since, with
    // "Bad credentials" both times, the same words it uses for a wrong client secret. The cf CLI's client
    // ("cf", no secret) exists on every foundation, so with it the user's credentials are what failed.
    const client = clientId === 'cf' ? '' : `, or the secret of the OAuth client "${clientId}"`
    return new CfAuthError(`UAA rejected the credentials of user "${grant.username}"${client}${said}`, {
      ...fields,
      hint: PASSWORD_HINT,
    })
  }
  if (error === 'invalid_client' || (grant.type === 'client_credentials' && status === 401)) {
    const who = grant.type === 'client_credentials' ? grant.clientId : clientId
    return new CfAuthError(`UAA rejected the OAuth client "${who}" or its secret${said}`, {
      ...fields,
      hint:
        grant.type === 'client_credentials'
          ? 'check the client id (-u) and secret (-p) of the UAA client: cfctl login --client-credentials -u ID -p SECRET'
          : `check the OAuth client "${who}": users log in through the cf CLI's client "cf"`,
    })
  }
  switch (grant.type) {
    case 'password':
      return new CfAuthError(`UAA rejected the credentials of user "${grant.username}"${said}`, {
        ...fields,
        hint: PASSWORD_HINT,
      })
    case 'refresh_token':
      return new CfAuthError(`the session has expired: UAA rejected the refresh token${said}`, fields)
    case 'client_credentials':
      return new CfAuthError(`UAA refused the client_credentials grant${said}`, fields)
  }
}
