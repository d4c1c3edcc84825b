// `cfctl target` and `cfctl login`: find a foundation's token endpoint from /v2/info, obtain tokens,
// and pick the org and space to work in, as `cf api` and `cf login` do.
import { z } from 'zod'
import { CcClient } from '../cc/index.js'
import { UsageError, UserError } from '../errors.js'
import type { TargetConfig } from './config.js'
import type { Session } from './session.js'

const ApiUrl = z
  .string()
  .trim()
  .min(1, 'the API URL is empty')
  .transform((raw) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`))
  .pipe(
    z
      .string()
      .url('is not a URL')
      .refine((url) => /^https?:$/.test(new URL(url).protocol), 'must be an http or https URL'),
  )
  .transform((url) => url.replace(/\/+$/, ''))

/** The API URL as given (a bare host means https, as with `cf api`), checked. */
export function parseApiUrl(raw: string): string {
  const parsed = ApiUrl.safeParse(raw)
  if (!parsed.success)
    throw new UsageError(
      `API URL "${raw}" ${parsed.error.issues[0]!.message}`,
      'e.g. cfctl target https://api.example.com',
    )
  return parsed.data
}

/** Reads /v2/info to learn where tokens come from (and, on the embedded foundation, where the router is). */
export async function discoverTarget(
  rawUrl: string,
  options: { skipSslValidation?: boolean } = {},
): Promise<TargetConfig> {
  const api = parseApiUrl(rawUrl)
  const client = new CcClient({ apiUrl: api, skipSslValidation: options.skipSslValidation, retries: 1 })
  try {
    const info = await client.info()
    return {
      api,
      tokenEndpoint: info.tokenEndpoint.replace(/\/+$/, ''),
      apiVersion: info.apiVersion,
      skipSslValidation: options.skipSslValidation ?? false,
      routerUrl: info.routerUrl,
    }
  } finally {
    await client.close()
  }
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

/** Logs the session in, then targets the named org and space, or the only one there is. */
export async function logIn(
  session: Session,
  credentials: Credentials,
  choice: { org?: string; space?: string } = {},
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
export async function selectOrgAndSpace(
  session: Session,
  client: CcClient,
  choice: { org?: string; space?: string },
): Promise<void> {
  let org = session.org
  if (choice.org !== undefined) {
    const found = await client.organizations({ name: choice.org })
    if (!found[0]) throw new UserError(`org "${choice.org}" not found`, 'check the name; admins see every org')
    org = { guid: found[0].guid, name: found[0].name }
  } else if (!org) {
    const orgs = await client.organizations()
    if (orgs.length === 1) org = { guid: orgs[0]!.guid, name: orgs[0]!.name }
  }
  let space = choice.org !== undefined ? undefined : session.space
  if (choice.space !== undefined) {
    if (!org) throw new UsageError('a space needs an org', 'pass --org ORG --space SPACE')
    const found = await client.spaces({ name: choice.space, orgGuid: org.guid })
    if (!found[0]) throw new UserError(`space "${choice.space}" not found in org "${org.name}"`, 'check the name')
    space = { guid: found[0].guid, name: found[0].name }
  } else if (org && !space) {
    const spaces = await client.spaces({ orgGuid: org.guid })
    if (spaces.length === 1) space = { guid: spaces[0]!.guid, name: spaces[0]!.name }
  }
  session.selectSpace(org, space)
}
