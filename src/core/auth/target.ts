// `cfctl target` and `cfctl login`: find a foundation's token endpoint from /v2/info, obtain tokens,
// and pick the org and space to work in, as `cf api` and `cf login` do.
import { z } from 'zod'
import { CcClient, CfNetworkError } from '../cc/index.js'
import { UsageError, UserError } from '../errors.js'
import type { TargetConfig } from './config.js'
import type { Session } from './session.js'

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol)
  } catch {
    return false
  }
}

const ApiUrl = z
  .string()
  .trim()
  .min(1, 'is empty')
  .transform((raw) => (HAS_SCHEME.test(raw) ? raw : `https://${raw}`))
  .pipe(z.string().refine(isHttpUrl, 'is not an http or https URL'))
  .transform((url) => url.replace(/\/+$/, ''))

/**
 * The API URL as given (a bare host means https, as with `cf api`), checked. A bare word (`notaurl`) is taken
 * for a typo rather than looked up in DNS: without a scheme, the host needs a domain, or is an address or localhost.
 */
export function parseApiUrl(raw: string): string {
  const example = 'e.g. cfctl target https://api.example.com'
  const parsed = ApiUrl.safeParse(raw)
  if (!parsed.success) throw new UsageError(`API URL "${raw}" ${parsed.error.issues[0]!.message}`, example)
  const host = new URL(parsed.data).hostname
  if (!HAS_SCHEME.test(raw.trim()) && !host.includes('.') && !host.includes(':') && host !== 'localhost')
    throw new UsageError(
      `API URL "${raw}" is not a URL: a host needs its domain (api.sys.example.com), or is an IP address or localhost`,
      `${example}; a host of one label is taken with its scheme: cfctl target https://${raw.trim()}`,
    )
  return parsed.data
}

/** What is wrong with a router address, or undefined when it is an http(s) origin. */
function routerProblem(raw: string): string | undefined {
  if (raw === '') return 'is empty'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not a URL'
  }
  if (!/^https?:$/.test(url.protocol)) return 'must be an http or https URL'
  if (!['', '/'].includes(url.pathname) || url.search !== '') return 'must have no path'
  return undefined
}

/**
 * `--router`: the address of the foundation's router (gorouter, or the load balancer before it), for a
 * jumpbox where the apps' domains do not resolve. Route probes go there with the app's hostname as Host.
 */
export function parseRouterUrl(raw: string): string {
  const trimmed = raw.trim()
  const problem = routerProblem(trimmed)
  if (problem)
    throw new UsageError(
      `--router "${raw}" ${problem}`,
      'e.g. --router https://10.0.16.4 (the router, or the load balancer in front of it)',
    )
  return trimmed.replace(/\/+$/, '')
}

/**
 * Reads /v2/info to learn where tokens come from (and, on the embedded foundation, where the router is).
 * `routerUrl` (the operator's --router) wins over what the foundation says.
 */
export async function discoverTarget(
  rawUrl: string,
  options: { skipSslValidation?: boolean; routerUrl?: string } = {},
): Promise<TargetConfig> {
  const api = parseApiUrl(rawUrl)
  const router = options.routerUrl === undefined ? undefined : parseRouterUrl(options.routerUrl)
  const client = new CcClient({ apiUrl: api, skipSslValidation: options.skipSslValidation, retries: 1 })
  try {
    const info = await client.info().catch((error: unknown) => {
      throw plainHttpHint(error, rawUrl, api) ?? error
    })
    return {
      api,
      tokenEndpoint: info.tokenEndpoint.replace(/\/+$/, ''),
      apiVersion: info.apiVersion,
      skipSslValidation: options.skipSslValidation ?? false,
      routerUrl: router ?? info.routerUrl,
    }
  } finally {
    await client.close()
  }
}

/**
 * `cfctl target 127.0.0.1:9022` means https (as `cf api` does); when the server there speaks plain HTTP the
 * TLS handshake fails with "wrong version number", which is no certificate problem: name the http:// URL.
 */
function plainHttpHint(error: unknown, rawUrl: string, api: string): UserError | undefined {
  if (!(error instanceof CfNetworkError) || !/WRONG_VERSION_NUMBER/.test(error.reason)) return undefined
  const http = api.replace(/^https:/, 'http:')
  const scheme = HAS_SCHEME.test(rawUrl.trim()) ? '' : ' (a URL without a scheme means https, as with cf api)'
  return new UserError(`${api} answers plain HTTP, not HTTPS${scheme}`, `cfctl target ${http}`)
}

export type Credentials =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'client-credentials'; clientId: string; clientSecret: string }

export interface LoginResult {
  api: string
  user: string | undefined
  org: string | undefined
  space: string | undefined
}

/**
 * Picks one of several orgs (or spaces) by name, as `cf login` asks; undefined leaves it unchosen.
 * Given only on a terminal.
 */
export type Chooser = (kind: 'org' | 'space', names: readonly string[]) => Promise<string | undefined>

/** The org and space named by flags; without them, the only one there is, or the chooser's pick among several. */
export interface OrgSpaceChoice {
  org?: string
  space?: string
  choose?: Chooser
}

/** Logs the session in, then targets the named org and space, the only one there is, or the one chosen. */
export async function logIn(
  session: Session,
  credentials: Credentials,
  choice: OrgSpaceChoice = {},
): Promise<LoginResult> {
  if (credentials.kind === 'password') {
    await session.login({ type: 'password', username: credentials.username, password: credentials.password })
  } else {
    await session.login(
      { type: 'client_credentials', clientId: credentials.clientId, clientSecret: credentials.clientSecret },
      { id: credentials.clientId, secret: credentials.clientSecret },
    )
  }
  const client = new CcClient({
    apiUrl: session.target.api,
    auth: session,
    skipSslValidation: session.target.skipSslValidation,
  })
  try {
    await selectOrgAndSpace(session, client, choice)
  } finally {
    await client.close()
  }
  return { api: session.target.api, user: session.user, org: session.org?.name, space: session.space?.name }
}

/** `cfctl target -o ORG -s SPACE`, and the tail of login: a named org/space, or the only one visible. */
export async function selectOrgAndSpace(session: Session, client: CcClient, choice: OrgSpaceChoice): Promise<void> {
  let org = session.org
  if (choice.org !== undefined) {
    const found = await client.organizations({ name: choice.org })
    if (!found[0]) throw new UserError(`org "${choice.org}" not found`, 'check the name; admins see every org')
    org = { guid: found[0].guid, name: found[0].name }
  } else if (!org) {
    const orgs = await client.organizations()
    const only = orgs.length === 1 ? orgs[0] : await chosen(choice.choose, 'org', orgs)
    if (only) org = { guid: only.guid, name: only.name }
  }
  let space = choice.org !== undefined ? undefined : session.space
  if (choice.space !== undefined) {
    if (!org) throw new UsageError('a space needs an org', 'pass --org ORG --space SPACE')
    const found = await client.spaces({ name: choice.space, orgGuid: org.guid })
    if (!found[0]) throw new UserError(`space "${choice.space}" not found in org "${org.name}"`, 'check the name')
    space = { guid: found[0].guid, name: found[0].name }
  } else if (org && !space) {
    const spaces = await client.spaces({ orgGuid: org.guid })
    const only = spaces.length === 1 ? spaces[0] : await chosen(choice.choose, 'space', spaces)
    if (only) space = { guid: only.guid, name: only.name }
  }
  session.selectSpace(org, space)
}

async function chosen<T extends { name: string }>(
  choose: Chooser | undefined,
  kind: 'org' | 'space',
  among: readonly T[],
): Promise<T | undefined> {
  if (!choose || among.length === 0) return undefined
  const names = among.map((item) => item.name).sort((a, b) => a.localeCompare(b))
  const name = await choose(kind, names)
  return name === undefined ? undefined : among.find((item) => item.name === name)
}
