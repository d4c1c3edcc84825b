// What an empty foundation starts with: the built-in fleets (small, medium, large) drawn from a seeded
// PRNG, so the same seed always yields the same orgs, spaces, apps and guids, or a seed FILE of the
// operator's own. Both create the default users. Every app starts on the DEA (diego: false), the
// starting point of a migration.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { BackendName } from '../backend.js'
import { mulberry32 } from '../random.js'
import { type AppLimits, DEFAULT_APP_DISK_MB, DEFAULT_APP_LIMITS, DEFAULT_APP_MEMORY_MB } from './app-limits.js'
import { newGuid } from './guid.js'
import { type OrgRole, Roles, type SpaceRole } from './roles.js'
import { stagingFailedDescription } from './staging.js'
import {
  type AppRecord,
  type AppState,
  type PackageState,
  type StagingFailedReason,
  type Store,
  StoreError,
} from './store.js'

export type SeedSize = 'small' | 'medium' | 'large'

/** A seed file that cannot be loaded: unreadable, not JSON, the wrong shape or conflicting names. */
export class SeedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SeedError'
  }
}

/** Orgs × spaces × apps per space of each built-in fleet. */
export const SEED_SHAPES: Readonly<Record<SeedSize, { orgs: number; spacesPerOrg: number; appsPerSpace: number }>> = {
  small: { orgs: 2, spacesPerOrg: 5, appsPerSpace: 5 },
  medium: { orgs: 10, spacesPerOrg: 10, appsPerSpace: 20 },
  large: { orgs: 50, spacesPerOrg: 20, appsPerSpace: 50 },
}

export interface Credentials {
  username: string
  password: string
}

export interface SeedOptions {
  /** Default logins: admin/admin (cloud_controller.admin) and developer/developer. */
  users?: { admin?: Credentials; developer?: Credentials }
  /** The shared domain every app's route lives on. */
  domain?: string
  /** For seed-file apps that leave `diego` out (CC's default_to_diego_backend). */
  defaultToDiegoBackend?: boolean
  /** Seed of the PRNG for the built-in fleets. */
  prngSeed?: number
  limits?: AppLimits
  /**
   * Whether a built-in fleet has, as real foundations do, a few apps whose last staging failed and a few
   * that never finished staging (default true). Off, every app is STAGED.
   */
  stagingStates?: boolean
}

export interface SeedResult {
  /** False when the store already held data: a seed only ever fills an empty store. */
  seeded: boolean
  orgs: number
  spaces: number
  apps: number
  admin: string
  developer: string
}

export const DEFAULT_DOMAIN = 'apps.internal'
export const DEFAULT_USERS: Readonly<{ admin: Credentials; developer: Credentials }> = Object.freeze({
  admin: { username: 'admin', password: 'admin' },
  developer: { username: 'developer', password: 'developer' },
})

/**
 * The demo logins of the other roles of the time, each in the first org (and its first space), with
 * the username as password, like admin/admin and developer/developer.
 */
export const ROLE_USERS: readonly { username: string; org?: OrgRole; space?: SpaceRole; describe: string }[] = [
  { username: 'org-manager', org: 'manager', describe: 'org manager' },
  { username: 'org-auditor', org: 'auditor', describe: 'org auditor' },
  { username: 'billing-manager', org: 'billing_manager', describe: 'billing manager' },
  { username: 'org-user', org: 'user', describe: 'org user' },
  { username: 'space-manager', space: 'manager', describe: 'space manager' },
  { username: 'space-auditor', space: 'auditor', describe: 'space auditor' },
]

// Built-in fleets are dated in mid-2016, when CF ran both backends side by side.
const SEED_EPOCH = Date.UTC(2016, 5, 1, 9, 0, 0)

/** The passwords of the users a seed creates (for Store.prepareSecrets), the same users as seed() makes. */
export function seedPasswords(users: SeedOptions['users'] = {}): string[] {
  const { admin, developer } = { ...DEFAULT_USERS, ...users }
  return [admin.password, developer.password, ...ROLE_USERS.map((login) => login.username)]
}

/**
 * Loads `source` (a built-in size or the path of a seed JSON file) into an empty store, in one
 * transaction: on any error nothing is written. A store that already holds orgs is left alone.
 */
export function seed(store: Store, source: SeedSize | string, options: SeedOptions = {}): SeedResult {
  const users = { ...DEFAULT_USERS, ...options.users }
  if (!store.isEmpty()) {
    return {
      seeded: false,
      orgs: store.orgs().length,
      spaces: store.spaces().length,
      apps: store.apps().length,
      admin: users.admin.username,
      developer: users.developer.username,
    }
  }
  const plan = isSeedSize(source)
    ? builtInFleet(source, options.prngSeed ?? 0x5eed, options.stagingStates ?? true)
    : fileFleet(source, options.defaultToDiegoBackend ?? false, options.limits ?? DEFAULT_APP_LIMITS)
  const domainName = options.domain ?? DEFAULT_DOMAIN
  store.transaction(() => {
    const domain = store.domainByName(domainName) ?? store.createDomain(domainName, plan.guid())
    try {
      writeFleet(store, plan, domain.guid)
    } catch (error) {
      // A file's own conflicts (two orgs of one name, say) are the file's problem, told as such.
      if (error instanceof StoreError && !isSeedSize(source))
        throw new SeedError(`seed file ${source}: ${error.message}`)
      throw error
    }
    const now = SEED_EPOCH
    store.createUser({ ...users.admin, admin: true, at: now, guid: plan.guid() })
    const developer = store.createUser({ ...users.developer, admin: false, at: now, guid: plan.guid() })
    const roles = Roles.of(store)
    const firstOrg = store.orgs()[0]
    if (firstOrg) {
      const spaces = store.spacesOfOrg(firstOrg.guid)
      for (const space of spaces) roles.addSpaceRole(developer.guid, space.guid, 'developer')
      for (const login of ROLE_USERS) {
        // A name the operator gave the admin or the developer wins; that role user is left out.
        if (store.userNamed(login.username)) continue
        const user = store.createUser({
          username: login.username,
          password: login.username,
          admin: false,
          at: now,
          guid: plan.guid(),
        })
        if (login.org) roles.addOrgRole(user.guid, firstOrg.guid, login.org)
        if (login.space && spaces[0]) roles.addSpaceRole(user.guid, spaces[0].guid, login.space)
      }
    }
  })
  return {
    seeded: true,
    orgs: store.orgs().length,
    spaces: store.spaces().length,
    apps: store.apps().length,
    admin: users.admin.username,
    developer: users.developer.username,
  }
}

/** Creates a plan's orgs, spaces and apps, each app with one route on the domain (inside a transaction). */
function writeFleet(store: Store, plan: FleetPlan, domainGuid: string): void {
  const takenHosts = new Set<string>()
  let appIndex = 0
  for (const orgPlan of plan.orgs) {
    const org = store.createOrg({ name: orgPlan.name, at: SEED_EPOCH, guid: plan.guid() })
    for (const spacePlan of orgPlan.spaces) {
      const space = store.createSpace({ orgGuid: org.guid, name: spacePlan.name, at: SEED_EPOCH, guid: plan.guid() })
      for (const appPlan of spacePlan.apps) {
        const at = SEED_EPOCH + (appIndex++ + 1) * 37_000
        const host = uniqueHost(`${appPlan.name}-${space.name}-${org.name}`, takenHosts)
        store.createApp({
          ...appPlan,
          spaceGuid: space.guid,
          at,
          guid: plan.guid(),
          version: plan.guid(),
          routes: [{ host, domainGuid, guid: plan.guid() }],
        })
      }
    }
  }
}

export function isSeedSize(value: string): value is SeedSize {
  return value === 'small' || value === 'medium' || value === 'large'
}

export interface StartedDemand {
  apps: number
  instances: number
  memoryMb: number
  diskMb: number
  /** The biggest single instance: every cell or DEA must be able to hold one. */
  largestInstance: { memoryMb: number; diskMb: number }
}

/**
 * What the STARTED apps ask of the backends (instances × memory, instances × disk), so a foundation
 * can size its DEAs and cells to hold the seed. With `backend`, only the apps whose flag points there.
 */
export function startedDemand(source: Store | Iterable<AppRecord>, backend?: BackendName): StartedDemand {
  const apps = 'apps' in source && typeof source.apps === 'function' ? source.apps() : (source as Iterable<AppRecord>)
  const demand: StartedDemand = {
    apps: 0,
    instances: 0,
    memoryMb: 0,
    diskMb: 0,
    largestInstance: { memoryMb: 0, diskMb: 0 },
  }
  for (const app of apps) {
    if (app.state !== 'STARTED') continue
    if (backend !== undefined && app.diego !== (backend === 'diego')) continue
    demand.apps++
    demand.instances += app.instances
    demand.memoryMb += app.instances * app.memoryMb
    demand.diskMb += app.instances * app.diskMb
    if (app.instances > 0) {
      demand.largestInstance.memoryMb = Math.max(demand.largestInstance.memoryMb, app.memoryMb)
      demand.largestInstance.diskMb = Math.max(demand.largestInstance.diskMb, app.diskMb)
    }
  }
  return demand
}

// ---- the plan of a fleet, before it is written ----

interface AppPlan {
  name: string
  instances: number
  memoryMb: number
  diskMb: number
  state: AppState
  diego: boolean
  detectedBuildpack: string | null
  detectedStartCommand: string
  packageState?: PackageState
  stagingFailedReason?: StagingFailedReason
  stagingFailedDescription?: string
}

// About 2% of a built-in fleet's apps failed their last staging and 1% never finished one (pushed, and
// the staging lost or still queued), with the reasons a 2016 foundation's CC held most often.
const FAILED_SHARE = 0.02
const PENDING_SHARE = 0.01
const FAILED_REASONS: readonly { weight: number; value: StagingFailedReason }[] = [
  { weight: 40, value: 'BuildpackCompileFailed' },
  { weight: 25, value: 'NoAppDetectedError' },
  { weight: 20, value: 'StagingError' },
  { weight: 15, value: 'StagingTimeExpired' },
]
// Drawn from a PRNG of its own, so the fleet (names, sizes, states, guids) is the same with or without them.
const STAGING_PRNG_SALT = 0x57a6

/** Marks a few apps FAILED or PENDING, leaving the rest of the plan as it was drawn. */
function withStagingStates(orgs: FleetPlan['orgs'], prngSeed: number): void {
  const random = mulberry32(prngSeed ^ STAGING_PRNG_SALT)
  for (const org of orgs) {
    for (const space of org.spaces) {
      for (const app of space.apps) {
        const r = random()
        if (r < FAILED_SHARE) {
          const reason = weighted(FAILED_REASONS, random).value
          app.packageState = 'FAILED'
          app.stagingFailedReason = reason
          app.stagingFailedDescription = stagingFailedDescription(reason)
        } else if (r < FAILED_SHARE + PENDING_SHARE) {
          app.packageState = 'PENDING'
        }
      }
    }
  }
}

interface FleetPlan {
  orgs: { name: string; spaces: { name: string; apps: AppPlan[] }[] }[]
  /** Guids for everything the seed creates: deterministic for built-in fleets. */
  guid: () => string
}

const COMPANIES = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'stark',
  'wayne',
  'wonka',
  'tyrell',
  'cyberdyne',
  'soylent',
  'oscorp',
  'aperture',
  'vandelay',
  'dunder',
]
const UNITS = [
  'retail',
  'payments',
  'platform',
  'data',
  'mobile',
  'logistics',
  'billing',
  'identity',
  'search',
  'media',
]
const SPACES = [
  'dev',
  'test',
  'qa',
  'staging',
  'prod',
  'perf',
  'uat',
  'sandbox',
  'demo',
  'integration',
  'canary',
  'preprod',
  'load',
  'tools',
  'ops',
  'data',
  'mobile',
  'web',
  'research',
  'dr',
]
const APP_DOMAINS = [
  'orders',
  'billing',
  'catalog',
  'search',
  'checkout',
  'inventory',
  'payments',
  'accounts',
  'auth',
  'notifications',
  'reports',
  'shipping',
  'pricing',
  'reviews',
  'recommendations',
  'cart',
  'profile',
  'gateway',
  'ledger',
  'analytics',
]
const APP_ROLES = ['api', 'web', 'worker', 'service', 'ui', 'scheduler', 'consumer', 'proxy', 'admin', 'batch']

// Buildpacks roughly as a 2016 enterprise fleet had them: mostly Java and Node.
const BUILDPACKS: readonly { weight: number; name: string; command: string }[] = [
  {
    weight: 35,
    name: 'java_buildpack',
    command: '$PWD/.java-buildpack/open_jdk_jre/bin/java -cp $PWD/. org.springframework.boot.loader.JarLauncher',
  },
  { weight: 25, name: 'nodejs_buildpack', command: 'npm start' },
  { weight: 10, name: 'ruby_buildpack', command: 'bundle exec rackup config.ru -p $PORT' },
  { weight: 10, name: 'go_buildpack', command: 'app' },
  { weight: 10, name: 'python_buildpack', command: 'python app.py' },
  { weight: 5, name: 'staticfile_buildpack', command: 'sh boot.sh' },
  { weight: 5, name: 'php_buildpack', command: '$HOME/.bp/bin/start' },
]
// Mostly 256 MB to 1 GB, a few smaller and a few up to 2 GB.
const MEMORY_MB: readonly { weight: number; value: number }[] = [
  { weight: 5, value: 128 },
  { weight: 25, value: 256 },
  { weight: 35, value: 512 },
  { weight: 5, value: 768 },
  { weight: 20, value: 1024 },
  { weight: 5, value: 1536 },
  { weight: 5, value: 2048 },
]

function builtInFleet(size: SeedSize, prngSeed: number, stagingStates: boolean): FleetPlan {
  const shape = SEED_SHAPES[size]
  const random = mulberry32(prngSeed)
  const orgs: FleetPlan['orgs'] = []
  for (let o = 0; o < shape.orgs; o++) {
    const orgName = `${COMPANIES[o % COMPANIES.length]}-${UNITS[Math.floor(o / COMPANIES.length) % UNITS.length]}`
    const spaces: FleetPlan['orgs'][number]['spaces'] = []
    for (let s = 0; s < shape.spacesPerOrg; s++) {
      const names = shuffled(appNameChoices(), random).slice(0, shape.appsPerSpace)
      spaces.push({ name: SPACES[s % SPACES.length]!, apps: names.map((name) => randomApp(name, random)) })
    }
    orgs.push({ name: orgName, spaces })
  }
  if (stagingStates) withStagingStates(orgs, prngSeed)
  return { orgs, guid: () => uuidFrom(random) }
}

function randomApp(name: string, random: () => number): AppPlan {
  const buildpack = weighted(BUILDPACKS, random)
  return {
    name,
    instances: randomInstances(random),
    memoryMb: weighted(MEMORY_MB, random).value,
    diskMb: 1024,
    state: random() < 0.9 ? 'STARTED' : 'STOPPED',
    diego: false,
    detectedBuildpack: buildpack.name,
    detectedStartCommand: buildpack.command,
  }
}

/** Mostly 1 to 4 instances; one app in seven has a tail of 5 to 20. */
function randomInstances(random: () => number): number {
  const r = random()
  if (r < 0.45) return 1
  if (r < 0.7) return 2
  if (r < 0.8) return 3
  if (r < 0.85) return 4
  return 5 + Math.floor(random() * 16)
}

let appNameCache: string[] | undefined
function appNameChoices(): string[] {
  appNameCache ??= APP_DOMAINS.flatMap((d) => APP_ROLES.map((r) => `${d}-${r}`))
  return appNameCache
}

// ---- seed files ----

const SeedFileApp = z.object({
  name: z.string().trim().min(1, 'must be a non-empty string'),
  instances: z.number().int().min(0).optional(),
  memory: z.number().int().positive().optional(),
  disk_quota: z.number().int().positive().optional(),
  state: z.enum(['STARTED', 'STOPPED']).optional(),
  diego: z.boolean().optional(),
})

const SeedFileSpace = z.object({
  name: z.string().trim().min(1, 'must be a non-empty string'),
  apps: z.array(SeedFileApp).default([]),
})

const SeedFileOrg = z.object({
  name: z.string().trim().min(1, 'must be a non-empty string'),
  spaces: z.array(SeedFileSpace).default([]),
})

export const SeedFile = z.object({ orgs: z.array(SeedFileOrg) }).superRefine((file, ctx) => {
  duplicates(file.orgs, (o) => o.name, ['orgs'], ctx)
  for (const [o, org] of file.orgs.entries()) {
    duplicates(org.spaces, (s) => s.name, ['orgs', o, 'spaces'], ctx)
    for (const [s, space] of org.spaces.entries()) {
      duplicates(space.apps, (a) => a.name, ['orgs', o, 'spaces', s, 'apps'], ctx)
    }
  }
})
export type SeedFile = z.infer<typeof SeedFile>

function duplicates<T>(
  items: readonly T[],
  key: (item: T) => string,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, number>()
  items.forEach((item, i) => {
    const k = key(item)
    const first = seen.get(k)
    if (first === undefined) seen.set(k, i)
    else
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'name'],
        message: `duplicates the name "${k}" of entry ${first}`,
      })
  })
}

/** Parses and checks a seed file's JSON text; the error names the file, the field and what is wrong. */
export function parseSeedFile(text: string, origin: string, limits: AppLimits = DEFAULT_APP_LIMITS): SeedFile {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new SeedError(`seed file ${origin}: not valid JSON (${(error as Error).message})`)
  }
  const parsed = SeedFile.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`)
    throw new SeedError(`seed file ${origin}: ${issues.join('; ')}`)
  }
  const problems: string[] = []
  for (const [o, org] of parsed.data.orgs.entries()) {
    for (const [s, space] of org.spaces.entries()) {
      for (const [a, app] of space.apps.entries()) {
        const at = `orgs[${o}].spaces[${s}].apps[${a}]`
        if ((app.instances ?? 1) > limits.maxInstances) problems.push(`${at}.instances: at most ${limits.maxInstances}`)
        if ((app.memory ?? 0) > limits.maxMemoryMb) problems.push(`${at}.memory: at most ${limits.maxMemoryMb} MB`)
        if ((app.disk_quota ?? 0) > limits.maxDiskMb) problems.push(`${at}.disk_quota: at most ${limits.maxDiskMb} MB`)
      }
    }
  }
  if (problems.length > 0) throw new SeedError(`seed file ${origin}: ${problems.join('; ')}`)
  return parsed.data
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)'
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('')
}

function fileFleet(path: string, defaultToDiego: boolean, limits: AppLimits): FleetPlan {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new SeedError(
      `seed file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    )
  }
  const file = parseSeedFile(text, path, limits)
  return {
    orgs: file.orgs.map((org) => ({
      name: org.name,
      spaces: org.spaces.map((space) => ({
        name: space.name,
        apps: space.apps.map((app) => ({
          name: app.name,
          instances: app.instances ?? 1,
          memoryMb: app.memory ?? DEFAULT_APP_MEMORY_MB,
          diskMb: app.disk_quota ?? DEFAULT_APP_DISK_MB,
          // CC's default for a new app is STOPPED.
          state: app.state ?? 'STOPPED',
          diego: app.diego ?? defaultToDiego,
          detectedBuildpack: null,
          detectedStartCommand: '',
        })),
      })),
    })),
    guid: newGuid,
  }
}

/** A DNS label from a name, made unique among the hosts taken so far. */
function uniqueHost(name: string, taken: Set<string>): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 55)
      .replace(/-+$/, '') || 'app'
  let host = base
  for (let n = 2; taken.has(host); n++) host = `${base}-${n}`
  taken.add(host)
  return host
}

// ---- deterministic randomness ----

export type { mulberry32 }

function weighted<T extends { weight: number }>(choices: readonly T[], random: () => number): T {
  const total = choices.reduce((sum, c) => sum + c.weight, 0)
  let r = random() * total
  for (const choice of choices) {
    r -= choice.weight
    if (r < 0) return choice
  }
  return choices[choices.length - 1]!
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const HEX_DIGITS = [...'0123456789abcdef'].map((digit) => digit.charCodeAt(0))
/** The character codes of the UUID being built, its dashes in place. */
const uuidCodes: number[] = Array.from({ length: 36 }, () => '-'.charCodeAt(0))

/** Writes the 8 hex digits of a 32-bit number into uuidCodes from `at`, or only those from digit `from` on. */
function putHex(value: number, at: number, from = 0, to = 8): void {
  for (let i = from; i < to; i++) uuidCodes[at + i - from] = HEX_DIGITS[(value >>> (28 - 4 * i)) & 15]!
}

/**
 * A version-4 UUID whose bits come from the PRNG: the hex digits of four 32-bit draws laid out as a UUID, the
 * 13th digit replaced by the version and the 17th by the variant. Built as one flat string (a template of
 * slices leaves a rope of them, kept until the string is first hashed): it is a map key for as long as the
 * foundation runs.
 */
function uuidFrom(random: () => number): string {
  const a = (random() * 4_294_967_296) >>> 0
  const b = (random() * 4_294_967_296) >>> 0
  const c = (random() * 4_294_967_296) >>> 0
  const d = (random() * 4_294_967_296) >>> 0
  putHex(a, 0) // 0-7
  putHex(b, 9, 0, 4) // 9-12
  uuidCodes[14] = '4'.charCodeAt(0)
  putHex(b, 15, 5, 8) // 15-17 (b's 5th digit gives way to the version)
  uuidCodes[19] = HEX_DIGITS[((c >>> 28) & 3) | 8]!
  putHex(c, 20, 1, 4) // 20-22
  putHex(c, 24, 4, 8) // 24-27
  putHex(d, 28) // 28-35
  return String.fromCharCode.apply(null, uuidCodes)
}
