// cfctl's own config: the target, its tokens and the targeted org and space, in
// $CFCTL_HOME/config.json (default ~/.cfctl/config.json), mode 0600, written atomically.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { ConfigError } from '../errors.js'

export const NamedRef = z.object({ guid: z.string().min(1), name: z.string() })
export type NamedRef = z.infer<typeof NamedRef>

export const TargetConfig = z.object({
  /** The CC API URL, without a trailing slash. */
  api: z.string().url(),
  /** UAA's base URL (from /v2/info's token_endpoint); `${tokenEndpoint}/oauth/token` issues tokens. */
  tokenEndpoint: z.string().url(),
  apiVersion: z.string().optional(),
  skipSslValidation: z.boolean().default(false),
  /** Where app routes answer: the embedded foundation's router, or unset (probe https://HOST.DOMAIN). */
  routerUrl: z.string().url().optional(),
})
export type TargetConfig = z.infer<typeof TargetConfig>

export const CfctlConfig = z.object({
  version: z.literal(1).default(1),
  target: TargetConfig.optional(),
  accessToken: z.string().optional(),
  refreshToken: z.string().optional(),
  /** How the tokens were obtained, so a refresh uses the same client. */
  clientId: z.string().optional(),
  clientSecret: z.string().optional(),
  org: NamedRef.optional(),
  space: NamedRef.optional(),
})
export type CfctlConfig = z.infer<typeof CfctlConfig>

/** $CFCTL_HOME, or ~/.cfctl. */
export function cfctlHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CFCTL_HOME && env.CFCTL_HOME.trim() !== '' ? env.CFCTL_HOME : join(homedir(), '.cfctl')
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cfctlHome(env), 'config.json')
}

/** The saved config, or an empty one when there is none yet. A file that fails its schema is an error, not a reset. */
export function readConfig(path: string): CfctlConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return CfctlConfig.parse({})
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`, 'check its permissions')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ConfigError(`${path} is not valid JSON`, `fix it, or remove it and run: cfctl target URL && cfctl login`)
  }
  const parsed = CfctlConfig.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(
      `${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      'fix the field, or remove the file and run: cfctl target URL && cfctl login',
    )
  }
  return parsed.data
}

/** Writes the whole config to a temporary file beside it, then renames it into place: a reader sees the old or the new, never half. */
export function writeConfig(path: string, config: CfctlConfig): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const temporary = join(dir, `.config.json.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  writeFileSync(temporary, `${JSON.stringify(CfctlConfig.parse(config), null, 2)}\n`, { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}
