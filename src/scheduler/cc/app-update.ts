// The body of `PUT /v2/apps/:guid`, checked as CC checks it. First the message: JSON, and each field
// of the right type, else MessageParseError in the words of CC's JsonMessage/Membrane validators
// ("Field: instances, Error: Expected instance of Integer, given an instance of String"). Then the
// model: the values, else AppInvalid and its kin, as AppsController#translate_validation_exception.
import { z } from 'zod'
import type { AppLimits } from './app-limits.js'
import { CfError } from './errors.js'
import type { AppRecord, AppState } from './store.js'

/** The fields this CC lets a PUT change. Others in the body are ignored, as CC ignores unknown keys. */
export interface AppUpdate {
  name?: string
  instances?: number
  memory?: number
  state?: string
  diego?: boolean
}

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

// Each key is optional, and a key that is present must have the right type. JsonMessage drops keys whose
// value is null before validating ("treat null values as if the keys aren't present"), and so do we.
const AppUpdateMessage = z.object({
  name: string.optional(),
  instances: integer.optional(),
  memory: integer.optional(),
  state: string.optional(),
  diego: boolean.optional(),
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
  return present as AppUpdate
}

export interface ValidatedUpdate {
  name: string
  instances: number
  memoryMb: number
  state: AppState
  diego: boolean
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
  return { name, instances, memoryMb, state, diego: update.diego ?? app.diego }
}

/**
 * CC's App#version_needs_to_be_updated?: a new version whenever the app is (re)started or its memory
 * changes while it runs; the backends replace instances of an older version.
 */
export function needsNewVersion(app: AppRecord, next: ValidatedUpdate): boolean {
  if (next.state !== 'STARTED') return false
  return app.state !== 'STARTED' || next.memoryMb !== app.memoryMb
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
