// The cf CLI's own config ($CF_HOME/.cf/config.json, falling back to $HOME/.cf/config.json), read when
// cfctl has no target of its own, so an operator already logged in with `cf login` needs nothing else.
// The cf CLI decodes it with Go's encoding/json, which matches keys without regard to case: so do we.
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { ConfigError } from '../errors.js'
import type { CfctlConfig } from './config.js'

const Fields = z.object({ guid: z.string().optional(), name: z.string().optional() }).passthrough()

const CfCliConfig = z
  .object({
    target: z.string().optional(),
    apiversion: z.string().optional(),
    authorizationendpoint: z.string().optional(),
    uaaendpoint: z.string().optional(),
    accesstoken: z.string().optional(),
    refreshtoken: z.string().optional(),
    uaaoauthclient: z.string().optional(),
    uaaoauthclientsecret: z.string().optional(),
    ssldisabled: z.boolean().optional(),
    organizationfields: Fields.optional(),
    spacefields: Fields.optional(),
  })
  .passthrough()

export function cfConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.CF_HOME && env.CF_HOME.trim() !== '' ? env.CF_HOME : (env.HOME ?? homedir())
  return join(base, '.cf', 'config.json')
}

/** Lower-cases every key, recursively, as Go's case-insensitive field matching sees them. */
function foldKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(foldKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    const folded = key.toLowerCase()
    // Go keeps the exact-case match when both exist; the first one seen is as good a rule for us.
    if (!(folded in out)) out[folded] = foldKeys(inner)
  }
  return out
}

/**
 * The cf CLI's target and tokens as a cfctl config, or undefined when there is no cf config or it
 * has no target. The tokens stay in the cf CLI's file: cfctl never writes it.
 */
export function readCfCliConfig(path: string): CfctlConfig | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError(`cannot read the cf CLI config ${path}: ${(error as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ConfigError(`the cf CLI config ${path} is not valid JSON`, 'run: cf login, or cfctl target URL')
  }
  const parsed = CfCliConfig.safeParse(foldKeys(json))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`the cf CLI config ${path}: ${issue.path.join('.')}: ${issue.message}`)
  }
  const cf = parsed.data
  if (!cf.target) return undefined
  const tokenEndpoint = cf.uaaendpoint || cf.authorizationendpoint
  if (!tokenEndpoint) return undefined
  return {
    version: 1,
    target: {
      api: stripSlash(cf.target),
      tokenEndpoint: stripSlash(tokenEndpoint),
      apiVersion: cf.apiversion || undefined,
      skipSslValidation: cf.ssldisabled ?? false,
    },
    accessToken: cf.accesstoken ? withoutScheme(cf.accesstoken) : undefined,
    refreshToken: cf.refreshtoken || undefined,
    clientId: cf.uaaoauthclient || undefined,
    clientSecret: cf.uaaoauthclientsecret ?? undefined,
    org: ref(cf.organizationfields),
    space: ref(cf.spacefields),
  }
}

/** The cf CLI stores `bearer eyJ...`; the client adds its own scheme. */
function withoutScheme(token: string): string {
  return token.replace(/^bearer\s+/i, '')
}

function ref(fields: z.infer<typeof Fields> | undefined): { guid: string; name: string } | undefined {
  return fields?.guid ? { guid: fields.guid, name: fields.name ?? '' } : undefined
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '')
}
