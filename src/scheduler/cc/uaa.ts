// A UAA-style token endpoint (`POST /oauth/token`) and the bearer-token check in front of /v2.
// Grants: password and refresh_token for the `cf` client (empty secret, HTTP Basic `Y2Y6`, as the cf
// CLI sends it) and client_credentials for an admin client meant for CI. Access tokens are HS256 JWTs
// with UAA's claims; refresh tokens are JWTs too, carrying `granted_scopes` instead of `scope` (as
// UAA's do), so one can never pass for an access token. Answers and errors have UAA's JSON shapes.
import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../clock.js'
import { CfError } from './errors.js'
import { signJwt, verifyJwt } from './jwt.js'
import type { Store, UserRecord } from './store.js'

export type GrantType = 'password' | 'refresh_token' | 'client_credentials'

export interface OAuthClient {
  id: string
  secret: string
  grantTypes: readonly GrantType[]
  /** What a client_credentials token of this client holds (UAA's client authorities). */
  authorities: readonly string[]
}

/** The cf CLI's client: public, empty secret. */
export const CF_CLIENT: Readonly<OAuthClient> = Object.freeze<OAuthClient>({
  id: 'cf',
  secret: '',
  grantTypes: ['password', 'refresh_token'],
  authorities: [],
})

export const ADMIN_SCOPE = 'cloud_controller.admin'
export const READ_SCOPE = 'cloud_controller.read'
export const WRITE_SCOPE = 'cloud_controller.write'

/** An admin client for CI jobs (client_credentials); its id and secret are configurable. */
export function adminClient(id: string, secret: string): OAuthClient {
  if (!id) throw new Error('the admin client needs an id')
  if (!secret) throw new Error(`the admin client "${id}" needs a non-empty secret`)
  return { id, secret, grantTypes: ['client_credentials'], authorities: [ADMIN_SCOPE, READ_SCOPE, WRITE_SCOPE] }
}

// Scopes a user token carries, as a default UAA user in the cf client gets them.
const USER_SCOPES = ['openid', READ_SCOPE, 'password.write', WRITE_SCOPE, 'uaa.user']

export interface TokenResponse {
  access_token: string
  token_type: 'bearer'
  refresh_token?: string
  expires_in: number
  scope: string
  jti: string
}

/** Who is calling /v2, from a verified token. */
export interface Principal {
  /** The user's guid; null for a client_credentials token. */
  userGuid: string | null
  userName: string
  clientId: string
  admin: boolean
  scopes: ReadonlySet<string>
  /** Token expiry, ms since the epoch. */
  expiresAt: number
}

/** An OAuth error as UAA answers it: `{error, error_description}` with its status. */
export class UaaError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`)
    this.name = 'UaaError'
  }

  body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}

export interface TokenServiceOptions {
  store: Store
  clock: Clock
  /** Access token lifetime; UAA's default for the cf client is 20 minutes. */
  accessTokenTtlSec?: number
  /** Refresh token lifetime; UAA's default is 30 days. */
  refreshTokenTtlSec?: number
  clients?: readonly OAuthClient[]
  /** Where unexpected errors are reported. */
  log?: (line: string) => void
}

// Verified tokens kept so that the hot path costs a map lookup, not an HMAC. Bounded: when full it
// starts over, which only costs one verification per token in use.
const TOKEN_CACHE_LIMIT = 10_000
const MAX_FORM_BYTES = 64 * 1024

export class TokenService {
  readonly accessTokenTtlSec: number
  readonly refreshTokenTtlSec: number
  private readonly store: Store
  private readonly clock: Clock
  private readonly clients: ReadonlyMap<string, OAuthClient>
  private readonly verified = new Map<string, Principal>()
  private readonly log: (line: string) => void

  constructor(options: TokenServiceOptions) {
    this.store = options.store
    this.clock = options.clock
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`))
    this.accessTokenTtlSec = positiveInteger(options.accessTokenTtlSec ?? 1200, 'accessTokenTtlSec')
    this.refreshTokenTtlSec = positiveInteger(options.refreshTokenTtlSec ?? 2_592_000, 'refreshTokenTtlSec')
    const clients = options.clients ?? [CF_CLIENT]
    this.clients = new Map(clients.map((c) => [c.id, c]))
    if (this.clients.size !== clients.length) throw new Error('two OAuth clients share an id')
  }

  /** `POST /oauth/token`: never throws; answers UAA's JSON or UAA's error. */
  async handleTokenRequest(req: IncomingMessage, res: ServerResponse, issuerBase: string): Promise<void> {
    try {
      if (req.method !== 'POST') {
        throw new UaaError(405, 'method_not_allowed', `Request method '${req.method}' not supported`)
      }
      const form = new URLSearchParams(await readFormBody(req))
      const response = await this.grant(form, req.headers.authorization, issuerBase)
      writeJson(res, 200, response, { 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    } catch (error) {
      if (error instanceof UaaError) {
        const headers: Record<string, string> =
          error.status === 401
            ? {
                'WWW-Authenticate': `Basic realm="UAA/client", error="${error.error}", error_description="${error.description}"`,
              }
            : {}
        writeJson(res, error.status, error.body(), headers)
      } else {
        this.log(`uaa: unexpected error answered 500: ${(error as Error).stack ?? error}`)
        writeJson(res, 500, { error: 'server_error', error_description: 'Internal Server Error' }, {})
      }
    }
  }

  /** Runs one grant for the form of a token request and the request's Authorization header. */
  async grant(form: URLSearchParams, authorization: string | undefined, issuerBase: string): Promise<TokenResponse> {
    const client = this.authenticateClient(form, authorization)
    const grantType = form.get('grant_type')
    if (!grantType) throw new UaaError(400, 'invalid_request', 'Missing grant type')
    if (grantType !== 'password' && grantType !== 'refresh_token' && grantType !== 'client_credentials') {
      throw new UaaError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`)
    }
    if (!client.grantTypes.includes(grantType)) {
      throw new UaaError(401, 'invalid_client', `Unauthorized grant type: ${grantType}`)
    }
    const issuer = `${issuerBase}/oauth/token`
    switch (grantType) {
      case 'password': {
        const username = form.get('username') ?? ''
        const password = form.get('password') ?? ''
        const user = username && password ? await this.store.authenticate(username, password) : undefined
        // UAA answers a wrong user password with 401 `unauthorized`, not RFC 6749's 400 invalid_grant.
        if (!user) throw new UaaError(401, 'unauthorized', 'Bad credentials')
        const scopes = requestedScopes(form.get('scope'), userScopes(user))
        return this.issueUserTokens(user, client, scopes, issuer)
      }
      case 'refresh_token':
        return this.refresh(form.get('refresh_token') ?? '', client, issuer)
      case 'client_credentials': {
        const scopes = requestedScopes(form.get('scope'), client.authorities)
        return this.issueClientToken(client, scopes, issuer)
      }
    }
  }

  /**
   * The principal of an `Authorization: bearer …` header. No header, or one that is not a bearer
   * token, is NotAuthenticated (10002); a bearer token that is not a live one this server signed is
   * InvalidAuthToken (1000).
   */
  authenticate(authorization: string | undefined): Principal {
    if (authorization === undefined || authorization === '') throw new CfError('NotAuthenticated')
    const space = authorization.indexOf(' ')
    // CC's TokenDecoder reads only a bearer token; anything else (Basic, a bare token) is no token at
    // all, so the request is unauthenticated (10002), not one with a bad token (1000).
    if (space < 0 || authorization.slice(0, space).toLowerCase() !== 'bearer') throw new CfError('NotAuthenticated')
    const token = authorization.slice(space + 1).trim()
    const now = this.clock.now()
    const cached = this.verified.get(token)
    if (cached) {
      if (cached.expiresAt > now) return cached
      this.verified.delete(token)
      throw new CfError('InvalidAuthToken')
    }
    const principal = this.principalOf(verifyJwt(token, this.store.signingKey))
    if (!principal || principal.expiresAt <= now) throw new CfError('InvalidAuthToken')
    if (this.verified.size >= TOKEN_CACHE_LIMIT) this.verified.clear()
    this.verified.set(token, principal)
    return principal
  }

  private principalOf(claims: Record<string, unknown> | null): Principal | null {
    if (!claims) return null
    const { jti, exp, scope, client_id: clientId, user_id: userId } = claims
    if (typeof jti !== 'string' || jti.endsWith('-r')) return null
    if (typeof exp !== 'number' || typeof clientId !== 'string') return null
    if (!Array.isArray(scope) || !scope.every((s) => typeof s === 'string')) return null
    let userGuid: string | null = null
    let userName = clientId
    if (userId !== undefined) {
      const user = typeof userId === 'string' ? this.store.user(userId) : undefined
      if (!user) return null
      userGuid = user.guid
      userName = user.username
    } else if (!this.clients.has(clientId)) {
      return null
    }
    const scopes = new Set(scope as string[])
    return { userGuid, userName, clientId, admin: scopes.has(ADMIN_SCOPE), scopes, expiresAt: exp * 1000 }
  }

  private authenticateClient(form: URLSearchParams, authorization: string | undefined): OAuthClient {
    let id: string | null = null
    let secret: string | null = null
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) throw new UaaError(401, 'unauthorized', 'Bad credentials')
      id = safeDecode(decoded.slice(0, colon))
      secret = safeDecode(decoded.slice(colon + 1))
    } else if (form.has('client_id')) {
      id = form.get('client_id')
      secret = form.get('client_secret') ?? ''
    }
    if (id === null || secret === null) {
      throw new UaaError(401, 'unauthorized', 'Full authentication is required to access this resource')
    }
    const client = this.clients.get(id)
    if (!client || client.secret !== secret) throw new UaaError(401, 'unauthorized', 'Bad credentials')
    return client
  }

  private refresh(token: string, client: OAuthClient, issuer: string): TokenResponse {
    const claims = token ? verifyJwt(token, this.store.signingKey) : null
    const jti = claims?.jti
    if (!claims || typeof jti !== 'string' || !jti.endsWith('-r')) {
      throw new UaaError(401, 'invalid_token', 'Invalid refresh token')
    }
    const exp = claims.exp
    if (typeof exp !== 'number' || exp * 1000 <= this.clock.now()) {
      throw new UaaError(401, 'invalid_token', `Invalid refresh token (expired): ${jti}`)
    }
    if (claims.client_id !== client.id) throw new UaaError(401, 'invalid_token', 'Wrong client for this refresh token')
    const user = typeof claims.user_id === 'string' ? this.store.user(claims.user_id) : undefined
    if (!user) throw new UaaError(401, 'invalid_token', 'Invalid refresh token (user no longer exists)')
    const granted = Array.isArray(claims.granted_scopes) ? (claims.granted_scopes as unknown[]) : []
    // A refresh never widens the grant, and drops what the user no longer holds.
    const allowed = new Set(userScopes(user))
    const scopes = granted.filter((s): s is string => typeof s === 'string' && allowed.has(s))
    const access = this.accessToken(scopes, client, issuer, 'password', user)
    return { ...access, refresh_token: token }
  }

  private issueUserTokens(user: UserRecord, client: OAuthClient, scopes: string[], issuer: string): TokenResponse {
    const access = this.accessToken(scopes, client, issuer, 'password', user)
    const iat = Math.floor(this.clock.now() / 1000)
    const refresh = signJwt(
      {
        jti: `${access.jti}-r`,
        sub: user.guid,
        iat,
        exp: iat + this.refreshTokenTtlSec,
        cid: client.id,
        client_id: client.id,
        iss: issuer,
        zid: 'uaa',
        aud: audience(scopes, client.id),
        granted_scopes: scopes,
        amr: ['pwd'],
        auth_time: iat,
        grant_type: 'password',
        user_name: user.username,
        origin: 'uaa',
        user_id: user.guid,
        rev_sig: revocationSignature(user.guid, client.id),
      },
      this.store.signingKey,
    )
    return { ...access, refresh_token: refresh }
  }

  private issueClientToken(client: OAuthClient, scopes: string[], issuer: string): TokenResponse {
    return this.accessToken(scopes, client, issuer, 'client_credentials', undefined)
  }

  private accessToken(
    scopes: string[],
    client: OAuthClient,
    issuer: string,
    grantType: GrantType,
    user: UserRecord | undefined,
  ): TokenResponse {
    const jti = randomUUID().replaceAll('-', '')
    const iat = Math.floor(this.clock.now() / 1000)
    const claims: Record<string, unknown> = { jti, sub: user ? user.guid : client.id }
    if (!user) claims.authorities = scopes
    Object.assign(claims, {
      scope: scopes,
      client_id: client.id,
      cid: client.id,
      azp: client.id,
      grant_type: grantType,
    })
    if (user) {
      Object.assign(claims, {
        user_id: user.guid,
        origin: 'uaa',
        user_name: user.username,
        email: user.username,
        auth_time: iat,
      })
    }
    Object.assign(claims, {
      rev_sig: revocationSignature(user?.guid ?? '', client.id),
      iat,
      exp: iat + this.accessTokenTtlSec,
      iss: issuer,
      zid: 'uaa',
      aud: audience(scopes, client.id),
    })
    return {
      access_token: signJwt(claims, this.store.signingKey),
      token_type: 'bearer',
      expires_in: this.accessTokenTtlSec,
      scope: scopes.join(' '),
      jti,
    }
  }
}

async function readFormBody(req: IncomingMessage): Promise<string> {
  try {
    return await readBody(req, MAX_FORM_BYTES)
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new UaaError(400, 'invalid_request', error.message)
    throw error
  }
}

function userScopes(user: UserRecord): string[] {
  return user.admin ? [ADMIN_SCOPE, ...USER_SCOPES] : [...USER_SCOPES]
}

/** The scopes granted: all allowed when none are asked for (the cf CLI sends `scope=`). */
function requestedScopes(requested: string | null, allowed: readonly string[]): string[] {
  const asked = (requested ?? '').split(/\s+/).filter((s) => s.length > 0)
  if (asked.length === 0) return [...allowed]
  const unknown = asked.filter((s) => !allowed.includes(s))
  if (unknown.length > 0) {
    throw new UaaError(
      400,
      'invalid_scope',
      `Invalid scope: ${unknown.join(' ')}. Did you know that you can get default scopes by simply sending no value?`,
    )
  }
  return [...new Set(asked)]
}

/** UAA's `aud`: the resource of each scope (the part before the first dot) and the client. */
function audience(scopes: readonly string[], clientId: string): string[] {
  const aud = new Set<string>([clientId])
  for (const scope of scopes) aud.add(scope.split('.')[0]!)
  return [...aud]
}

function revocationSignature(userGuid: string, clientId: string): string {
  return createHash('sha256').update(`${userGuid}\u0000${clientId}`).digest('hex').slice(0, 8)
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of seconds, got ${value}`)
  return value
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** The request body as text, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new BodyTooLargeError(limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`)
    this.name = 'BodyTooLargeError'
  }
}
