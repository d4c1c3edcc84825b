// CC's feature flags (FeatureFlag and FeatureFlagsController, 2.54): each flag has a default; an admin's
// PUT /v2/config/feature_flags/:name keeps an override (enabled, error_message) in the store's file.
// `requireEnabled` is FeatureFlag.raise_unless_enabled!: 403 CF-FeatureDisabled naming the flag, or
// the operator's own message when one was set.
import type { StatementSync } from 'node:sqlite'
import { z } from 'zod'
import { CfError } from './errors.js'
import type { Store } from './store.js'

/** FeatureFlag::DEFAULT_FLAGS at 2.54, in its order. */
export const FEATURE_FLAG_DEFAULTS: readonly (readonly [string, boolean])[] = [
  ['user_org_creation', false],
  ['private_domain_creation', true],
  ['app_bits_upload', true],
  ['app_scaling', true],
  ['route_creation', true],
  ['service_instance_creation', true],
  ['diego_docker', false],
  ['set_roles_by_username', true],
  ['unset_roles_by_username', true],
  ['task_creation', false],
  ['space_scoped_private_broker_creation', true],
  ['space_developer_env_var_visibility', true],
]

const DEFAULTS = new Map(FEATURE_FLAG_DEFAULTS)
const PATH = '/v2/config/feature_flags'

const SCHEMA = `CREATE TABLE IF NOT EXISTS feature_flags (
  name TEXT PRIMARY KEY, enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)), error_message TEXT)`

// FeatureFlag::FF_ERROR_MESSAGE_REGEX: printable characters, at least one.
const ERROR_MESSAGE = /^[\p{L}\p{N}\p{P}\p{S} ]+$/u

const FlagUpdate = z.object({
  enabled: z.boolean({ message: 'enabled presence' }),
  error_message: z.string().regex(ERROR_MESSAGE, 'error_message format').nullish(),
})

interface Override {
  enabled: boolean
  errorMessage: string | null
}

const instances = new WeakMap<Store, FeatureFlags>()

export class FeatureFlags {
  static of(store: Store): FeatureFlags {
    let flags = instances.get(store)
    if (!flags) instances.set(store, (flags = new FeatureFlags(store)))
    return flags
  }

  private readonly store: Store
  private readonly upsert: StatementSync
  private readonly overrides = new Map<string, Override>()

  private constructor(store: Store) {
    this.store = store
    store.database.exec(SCHEMA)
    this.upsert = store.database.prepare(
      'INSERT OR REPLACE INTO feature_flags (name, enabled, error_message) VALUES (?, ?, ?)',
    )
    const rows = store.database.prepare('SELECT * FROM feature_flags').all() as unknown as FlagRow[]
    for (const row of rows)
      this.overrides.set(row.name, { enabled: row.enabled === 1, errorMessage: row.error_message })
  }

  enabled(name: string): boolean {
    const override = this.overrides.get(name)
    if (override) return override.enabled
    const value = DEFAULTS.get(name)
    if (value === undefined) throw new Error(`no feature flag ${name}`)
    return value
  }

  /** FeatureFlag.raise_unless_enabled!. */
  requireEnabled(name: string): void {
    if (!this.enabled(name)) throw new CfError('FeatureDisabled', this.overrides.get(name)?.errorMessage ?? name)
  }

  set(name: string, enabled: boolean, errorMessage: string | null = null): void {
    if (!DEFAULTS.has(name)) throw new CfError('FeatureFlagNotFound', name)
    this.store.transaction(() => {
      const before = this.overrides.get(name)
      this.upsert.run(name, enabled ? 1 : 0, errorMessage)
      this.overrides.set(name, { enabled, errorMessage })
      this.store.onRollback(() => (before ? this.overrides.set(name, before) : this.overrides.delete(name)))
    })
  }

  /** FeatureFlagPresenter#to_hash of one flag. */
  body(name: string): Record<string, unknown> {
    if (!DEFAULTS.has(name)) throw new CfError('FeatureFlagNotFound', name)
    const override = this.overrides.get(name)
    return {
      name,
      enabled: this.enabled(name),
      error_message: override?.errorMessage ?? null,
      url: `${PATH}/${name}`,
    }
  }

  list(): Record<string, unknown>[] {
    return FEATURE_FLAG_DEFAULTS.map(([name]) => this.body(name))
  }

  /** PUT /v2/config/feature_flags/:name's body, checked: FeatureFlagInvalid names what is wrong. */
  update(name: string, text: string): Record<string, unknown> {
    if (!DEFAULTS.has(name)) throw new CfError('FeatureFlagNotFound', name)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new CfError('MessageParseError', 'invalid request body')
    }
    const parsed = FlagUpdate.safeParse(json)
    if (!parsed.success) throw new CfError('FeatureFlagInvalid', parsed.error.issues.map((i) => i.message).join(', '))
    this.set(name, parsed.data.enabled, parsed.data.error_message ?? null)
    return this.body(name)
  }
}

interface FlagRow {
  name: string
  enabled: number
  error_message: string | null
}

/**
 * AppAccess#read_for_update?'s first check for a non-admin: a PUT that changes instances, memory or
 * disk_quota needs the app_scaling flag (403 CF-FeatureDisabled otherwise), before the backend
 * selection check.
 */
export function requireAppScaling(
  flags: FeatureFlags,
  admin: boolean,
  app: { instances: number; memoryMb: number; diskMb: number },
  update: Readonly<Record<string, unknown>>,
): void {
  if (admin) return
  const current: Record<string, number> = { instances: app.instances, memory: app.memoryMb, disk_quota: app.diskMb }
  const scaling = Object.keys(current).some((key) => update[key] !== undefined && update[key] !== current[key])
  if (scaling) flags.requireEnabled('app_scaling')
}
