// A Session is a target and the tokens for it: what every command that talks to a foundation needs.
// It hands the client the access token, refreshes it with the refresh token when it has expired (or
// when the CC says it is invalid), and saves the new tokens where they came from.
import type { Clock } from '../../clock.js'
import { RealClock } from '../../clock.js'
import { requestToken, type TokenGrant, type TokenProvider } from '../cc/index.js'
import { ConfigError, NotLoggedInError } from '../errors.js'
import { cfConfigPath, readCfCliConfig } from './cf-config.js'
import { type CfctlConfig, configPath, readConfig, type TargetConfig, writeConfig } from './config.js'

/** Where a session's target and tokens came from; only cfctl's own config is ever written. */
export type SessionOrigin = { kind: 'cfctl'; path: string } | { kind: 'cf-cli'; path: string } | { kind: 'embedded' }

/** Refresh this long before the token's `exp`, so a request does not race its expiry. */
const EXPIRY_MARGIN_MS = 30_000

export interface SessionOptions {
  clock?: Clock
  /** Persists a changed config (new tokens); absent for sessions that are not saved. */
  save?: (config: CfctlConfig) => void
  /** Obtains tokens (injectable for tests). */
  requestToken?: typeof requestToken
}

export class Session implements TokenProvider {
  private config: CfctlConfig
  private readonly clock: Clock
  private readonly save: ((config: CfctlConfig) => void) | undefined
  private readonly request: typeof requestToken
  private refreshing: Promise<string> | undefined
  private expiry: { token: string; at: number | undefined } | undefined

  constructor(
    config: CfctlConfig,
    readonly origin: SessionOrigin,
    options: SessionOptions = {},
  ) {
    if (!config.target) throw new ConfigError('no target set', 'run: cfctl target URL, or add --embedded')
    this.config = config
    this.clock = options.clock ?? new RealClock()
    this.save = options.save
    this.request = options.requestToken ?? requestToken
  }

  get target(): TargetConfig {
    return this.config.target!
  }

  get org(): CfctlConfig['org'] {
    return this.config.org
  }

  get space(): CfctlConfig['space'] {
    return this.config.space
  }

  get loggedIn(): boolean {
    return this.config.accessToken !== undefined
  }

  /** The current access token, refreshed first when it has expired and a refresh token exists. */
  async accessToken(): Promise<string> {
    const token = this.config.accessToken
    if (!token) throw new NotLoggedInError(`not logged in to ${this.target.api}`)
    // Decoded once per token, not on every request: a migration asks for the token thousands of times a second.
    if (this.expiry?.token !== token) this.expiry = { token, at: jwtExpiry(token) }
    const expiresAt = this.expiry.at
    if (expiresAt !== undefined && expiresAt - EXPIRY_MARGIN_MS <= this.clock.now()) {
      if (!this.config.refreshToken)
        throw new NotLoggedInError(`the access token for ${this.target.api} has expired and there is no refresh token`)
      return this.refresh()
    }
    return token
  }

  /** A new access token from the refresh token; concurrent callers share one refresh. */
  refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<string> {
    const refreshToken = this.config.refreshToken
    if (!refreshToken)
      throw new NotLoggedInError(`the session for ${this.target.api} has expired and there is no refresh token`)
    const grant: TokenGrant = { type: 'refresh_token', refreshToken }
    const tokens = await this.request(`${this.target.tokenEndpoint}/oauth/token`, grant, this.clientOptions())
    this.update({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? refreshToken })
    return tokens.accessToken
  }

  /** Logs in with a grant, replacing the tokens (and the org and space, which belong to a user). */
  async login(grant: TokenGrant, client?: { id: string; secret: string }): Promise<void> {
    const clientId = client?.id ?? 'cf'
    const clientSecret = client?.secret ?? ''
    const tokens = await this.request(`${this.target.tokenEndpoint}/oauth/token`, grant, {
      clientId,
      clientSecret,
      skipSslValidation: this.target.skipSslValidation,
    })
    this.update({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      clientId: clientId === 'cf' ? undefined : clientId,
      clientSecret: clientId === 'cf' ? undefined : clientSecret,
      org: undefined,
      space: undefined,
    })
  }

  /** Targets an org and, optionally, a space of it (an org change clears the space). */
  selectSpace(org: CfctlConfig['org'], space?: CfctlConfig['space']): void {
    this.update({ org, space })
  }

  /** The user the token names (`user_name`, or the client for a client-credentials token). */
  get user(): string | undefined {
    const claims = this.config.accessToken ? jwtClaims(this.config.accessToken) : undefined
    const name = claims?.user_name ?? claims?.client_id
    return typeof name === 'string' ? name : undefined
  }

  private clientOptions() {
    return {
      clientId: this.config.clientId ?? 'cf',
      clientSecret: this.config.clientSecret ?? '',
      skipSslValidation: this.target.skipSslValidation,
    }
  }

  private update(patch: Partial<CfctlConfig>): void {
    this.config = { ...this.config, ...patch }
    this.save?.(this.config)
  }
}

/** The session the commands use: cfctl's own config when it has a target, else the cf CLI's. */
export function loadSession(options: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Session {
  const env = options.env ?? process.env
  const path = configPath(env)
  const own = readConfig(path)
  if (own.target)
    return new Session(own, { kind: 'cfctl', path }, { clock: options.clock, save: (c) => writeConfig(path, c) })
  const cfPath = cfConfigPath(env)
  const cf = readCfCliConfig(cfPath)
  if (cf?.target) return new Session(cf, { kind: 'cf-cli', path: cfPath }, { clock: options.clock })
  throw new ConfigError(
    'no target set (neither cfctl nor the cf CLI has one)',
    'run: cfctl target URL && cfctl login, or add --embedded to try cfctl on an embedded foundation',
  )
}

/** Saves a new target in cfctl's config, dropping tokens, org and space that belonged to another one. */
export function saveTarget(target: TargetConfig, env: NodeJS.ProcessEnv = process.env): Session {
  const path = configPath(env)
  const previous = readConfig(path)
  const same = previous.target?.api === target.api
  const config: CfctlConfig = same ? { ...previous, target } : { version: 1, target }
  writeConfig(path, config)
  return new Session(config, { kind: 'cfctl', path }, { save: (c) => writeConfig(path, c) })
}

/** A session whose config lives only in memory (the embedded foundation's). */
export function memorySession(target: TargetConfig, clock?: Clock): Session {
  return new Session({ version: 1, target }, { kind: 'embedded' }, { clock })
}

function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** The token's `exp` in ms, when it is a JWT that has one (opaque tokens are left to the CC to judge). */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp
  return typeof exp === 'number' ? exp * 1000 : undefined
}
