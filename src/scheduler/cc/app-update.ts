// The body of `PUT /v2/apps/:guid`, checked as CC checks it. First the message: JSON, and each field
// of the right type, else MessageParseError in the words of CC's JsonMessage/Membrane validators
// ("Field: instances, Error: Expected instance of Integer, given an instance of String"). Then the
// model: the values, else AppInvalid and its kin, as AppsController#translate_validation_exception.
import { z } from 'zod'
import type { AppLimits } from './app-limits.js'
import { CfError } from './errors.js'
import type { AppRecord, AppState, HealthCheckType } from './store.js'

/** The fields this CC lets a PUT change. Others in the body are ignored, as CC ignores unknown keys. */
export interface AppUpdate {
  name?: string
  instances?: number
  memory?: number
  disk_quota?: number
  state?: string
  diego?: boolean
  health_check_type?: string
  enable_ssh?: boolean
  ports?: number[]
}

/** App::HEALTH_CHECK_TYPES at 2.54. */
const HEALTH_CHECK_TYPES: readonly string[] = ['port', 'none', 'process']

const integer = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `Expected instance of Integer, given an instance of ${rubyClassOf(value)}`,
    })
  }
})
const string = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'string') {
    ctx.addIssue({ code: 'custom', message: `Expected instance of String, given an instance of ${rubyClassOf(value)}` })
  }
})
const boolean = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'boolean') {
    ctx.addIssue({ code: 'custom', message: `Expected instance of true or false, given ${rubyToS(value)}` })
  }
})

const integers = z.unknown().superRefine((value, ctx) => {
  if (!Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `Expected instance of Array, given an instance of ${rubyClassOf(value)}` })
    return
  }
  const bad = value
    .map((v, i) =>
      typeof v === 'number' && Number.isInteger(v)
        ? null
        : `${i} => Expected instance of Integer, given an instance of ${rubyClassOf(v)}`,
    )
    .filter((m) => m !== null)
  if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `{ ${bad.join(', ')} }` })
})

// Each key is optional, and a key that is present must have the right type. JsonMessage drops keys whose
// value is null before validating ("treat null values as if the keys aren't present"), and so do we.
const AppUpdateMessage = z.object({
  name: string.optional(),
  instances: integer.optional(),
  memory: integer.optional(),
  disk_quota: integer.optional(),
  state: string.optional(),
  diego: boolean.optional(),
  health_check_type: string.optional(),
  enable_ssh: boolean.optional(),
  ports: integers.optional(),
})

/** Decodes and type-checks a PUT body; throws CF-MessageParseError naming every bad field. */
export function parseAppUpdate(body: string): AppUpdate {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new CfError('MessageParseError', 'invalid request body')
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CfError('MessageParseError', 'invalid request body')
  }
  const present = Object.fromEntries(
    Object.entries(json).filter(([key, value]) => value !== null && Object.hasOwn(AppUpdateMessage.shape, key)),
  ) as Record<string, unknown>
  const parsed = AppUpdateMessage.safeParse(present)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `Field: ${String(issue.path[0])}, Error: ${issue.message}`)
    throw new CfError('MessageParseError', problems.join(', '))
  }
  // AppsController#before_update: `ports: []` is dropped, as if it had not been sent.
  if (Array.isArray(present.ports) && present.ports.length === 0) delete present.ports
  return present as AppUpdate
}

export interface ValidatedUpdate {
  name: string
  instances: number
  memoryMb: number
  diskMb: number
  state: AppState
  diego: boolean
  healthCheckType: HealthCheckType
  enableSsh: boolean
  ports: readonly number[] | null
}

/**
 * The app as the update would leave it, or the model error CC would answer with. `nameTaken` says
 * whether another app in the same space already has a name.
 */
export function validateAppUpdate(
  app: AppRecord,
  update: AppUpdate,
  limits: AppLimits,
  nameTaken: (name: string) => boolean,
): ValidatedUpdate {
  // CC strips surrounding whitespace from names before validating them.
  const name = update.name === undefined ? app.name : update.name.trim()
  if (name.length === 0) throw new CfError('AppInvalid', 'name presence')
  // APP_NAME_REGEX: printable characters only.
  if (/\p{Cc}/u.test(name)) throw new CfError('AppInvalid', 'name format')
  if (name !== app.name && nameTaken(name)) throw new CfError('AppNameTaken', name)
  const memoryMb = update.memory ?? app.memoryMb
  if (memoryMb <= 0) throw new CfError('AppMemoryInvalid')
  if (memoryMb > limits.maxMemoryMb) throw new CfError('QuotaInstanceMemoryLimitExceeded')
  const instances = update.instances ?? app.instances
  if (instances < 0) throw new CfError('AppInvalid', 'Number of instances less than 0')
  if (instances > limits.maxInstances) throw new CfError('QuotaInstanceLimitExceeded')
  const state = update.state ?? app.state
  if (state !== 'STARTED' && state !== 'STOPPED') throw new CfError('AppInvalid', 'Invalid app state provided')
  const diego = update.diego ?? app.diego
  // The rest are AppInvalid with the model's full messages, as translate_validation_exception's last case.
  const healthCheckType = update.health_check_type ?? app.healthCheckType
  if (update.health_check_type !== undefined && !HEALTH_CHECK_TYPES.includes(healthCheckType)) {
    throw new CfError('AppInvalid', `health_check_type must be one of ${HEALTH_CHECK_TYPES.join(', ')}`)
  }
  const diskMb = update.disk_quota ?? app.diskMb
  if (diskMb > limits.maxDiskMb) {
    throw new CfError('AppInvalid', `disk_quota too much disk requested (must be less than ${limits.maxDiskMb})`)
  }
  if (diskMb < 1) throw new CfError('AppInvalid', 'disk_quota too little disk requested (must be greater than zero)')
  // App#before_validation: a move from Diego to the DEAs drops the ports unless the request gives some.
  const ports = update.ports ?? (app.diego && !diego ? null : app.ports)
  if (ports !== null && ports.length > 0) {
    if (!diego) {
      throw new CfError(
        'AppInvalid',
        'ports Custom app ports supported for Diego only. Enable Diego for the app or remove custom app ports.',
      )
    }
    if (ports.length > 10) throw new CfError('AppInvalid', 'ports Maximum of 10 app ports allowed.')
    if (ports.some((p) => p < 1024 || p > 65535))
      throw new CfError('AppInvalid', 'ports Ports must be in the 1024-65535.')
  }
  return {
    name,
    instances,
    memoryMb,
    diskMb,
    state,
    diego,
    healthCheckType: healthCheckType as HealthCheckType,
    enableSsh: update.enable_ssh ?? app.enableSsh,
    ports,
  }
}

/**
 * CC's App#version_needs_to_be_updated?: a new version when the app, started after the change, was
 * started by it, or had its memory, health check type, enable_ssh or (given) ports changed; the
 * backends replace instances of an older version. Instances, disk and the `diego` flag keep it.
 */
export function needsNewVersion(app: AppRecord, next: ValidatedUpdate, update: AppUpdate): boolean {
  if (next.state !== 'STARTED') return false
  return (
    app.state !== 'STARTED' ||
    next.memoryMb !== app.memoryMb ||
    next.healthCheckType !== app.healthCheckType ||
    next.enableSsh !== app.enableSsh ||
    (update.ports !== undefined && !samePorts(update.ports, app.ports))
  )
}

function samePorts(a: readonly number[], b: readonly number[] | null): boolean {
  return b !== null && a.length === b.length && a.every((p, i) => p === b[i])
}

function rubyClassOf(value: unknown): string {
  if (value === null || value === undefined) return 'NilClass'
  if (typeof value === 'string') return 'String'
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float'
  if (value === true) return 'TrueClass'
  if (value === false) return 'FalseClass'
  return Array.isArray(value) ? 'Array' : 'Hash'
}

/** Roughly Ruby's `to_s` of a decoded JSON value, as Membrane puts it in its message. */
function rubyToS(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}
