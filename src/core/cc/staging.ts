// Apps that are not staged: a real foundation always holds some. The CC says so in two places: the app's
// `package_state` (PENDING, STAGED, FAILED) with `staging_failed_reason`, and `GET /v2/apps/:guid/instances`,
// which answers the staging error before it looks at anything else (cloud_controller_ng 067f553,
// instances_controller.rb: FAILED raises the app's staging_failed_reason, PENDING raises NotStaged).
// Codes and statuses from vendor/errors/v2.yml.
import type { App } from './model.js'

export type StagingState = 'FAILED' | 'PENDING'

/** Why an app is not staged, in the CC's words. */
export interface Unstaged {
  state: StagingState
  /** The CC's error name: CF-NotStaged while pending, else the failure (CF-BuildpackCompileFailed …). */
  errorCode: string
  /** One line for a person. */
  reason: string
}

/** The staging errors of /v2/apps/:guid/instances: code, HTTP status and the CC's message. */
export const STAGING_ERRORS: Readonly<Record<string, { code: number; status: number; message: string }>> = {
  'CF-StagingError': { code: 170001, status: 400, message: 'Staging error: %s' },
  'CF-NotStaged': { code: 170002, status: 400, message: 'App has not finished staging' },
  'CF-NoAppDetectedError': {
    code: 170003,
    status: 400,
    message: 'An app was not successfully detected by any available buildpack',
  },
  'CF-BuildpackCompileFailed': {
    code: 170004,
    status: 400,
    message: 'App staging failed in the buildpack compile phase',
  },
  'CF-BuildpackReleaseFailed': {
    code: 170005,
    status: 400,
    message: 'App staging failed in the buildpack release phase',
  },
  'CF-NoBuildpacksFound': { code: 170006, status: 400, message: 'There are no buildpacks available' },
  'CF-StagingTimeExpired': { code: 170007, status: 504, message: 'Staging time expired: %s' },
  'CF-InsufficientResources': { code: 170008, status: 400, message: 'Insufficient resources' },
  'CF-NoCompatibleCell': { code: 170009, status: 400, message: 'Found no compatible cell' },
}

export function isStagingErrorCode(errorCode: string): boolean {
  return Object.hasOwn(STAGING_ERRORS, errorCode)
}

/** The app's staging state when it is not staged, from its entity; undefined when staged (or not said). */
export function unstagedOf(
  app: Pick<App, 'packageState' | 'stagingFailedReason' | 'stagingFailedDescription'>,
): Unstaged | undefined {
  const state = app.packageState?.toUpperCase()
  if (state === 'PENDING')
    return { state, errorCode: 'CF-NotStaged', reason: 'staging has not finished (or never ran)' }
  if (state !== 'FAILED') return undefined
  const name = app.stagingFailedReason ?? 'StagingError'
  const errorCode = `CF-${name}`
  const reason =
    app.stagingFailedDescription ?? STAGING_ERRORS[errorCode]?.message.replace(': %s', '') ?? 'staging failed'
  return { state, errorCode, reason: `staging failed: ${reason} (${errorCode})` }
}

/** The same, from the CC's answer to /instances. */
export function unstagedOfError(error: { errorCode: string; description: string }): Unstaged | undefined {
  if (!isStagingErrorCode(error.errorCode)) return undefined
  if (error.errorCode === 'CF-NotStaged')
    return { state: 'PENDING', errorCode: error.errorCode, reason: 'staging has not finished (or never ran)' }
  return {
    state: 'FAILED',
    errorCode: error.errorCode,
    reason: `staging failed: ${error.description} (${error.errorCode})`,
  }
}

/** /v2/apps/:guid/instances answered a staging error: the app has nothing to run until it stages. */
export class AppNotStagedError extends Error {
  readonly status: number
  readonly code: number
  readonly errorCode: string
  readonly description: string
  readonly unstaged: Unstaged

  constructor(fields: { status: number; code: number; errorCode: string; description: string }, unstaged: Unstaged) {
    super(unstaged.reason)
    this.name = 'AppNotStagedError'
    this.status = fields.status
    this.code = fields.code
    this.errorCode = fields.errorCode
    this.description = fields.description
    this.unstaged = unstaged
  }
}
