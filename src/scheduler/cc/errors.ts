// Cloud Controller v2 errors: the body `{code, description, error_code: "CF-<Name>"}` with the codes,
// HTTP statuses and message templates of cloud_controller_ng's errors/v2.yml. Only the entries this
// CC raises are listed; each template's %s takes the detail, as CC's `new_from_details` does.

export const CF_ERRORS = {
  InvalidAuthToken: { code: 1000, status: 401, message: 'Invalid Auth Token' },
  MessageParseError: { code: 1001, status: 400, message: 'Request invalid due to parse error: %s' },
  NotFound: { code: 10000, status: 404, message: 'Unknown request' },
  NotAuthenticated: { code: 10002, status: 401, message: 'Authentication error' },
  NotAuthorized: { code: 10003, status: 403, message: 'You are not authorized to perform the requested action' },
  InvalidRequest: { code: 10004, status: 400, message: 'The request is invalid' },
  BadQueryParameter: { code: 10005, status: 400, message: 'The query parameter is invalid: %s' },
  InsufficientScope: {
    code: 10007,
    status: 403,
    message: 'Your token lacks the necessary scopes to access this resource.',
  },
  OrganizationInvalid: { code: 30001, status: 400, message: 'The organization info is invalid: %s' },
  OrganizationNotFound: { code: 30003, status: 404, message: 'The organization could not be found: %s' },
  SpaceNotFound: { code: 40004, status: 404, message: 'The app space could not be found: %s' },
  AppInvalid: { code: 100001, status: 400, message: 'The app is invalid: %s' },
  AppNameTaken: { code: 100002, status: 400, message: 'The app name is taken: %s' },
  AppNotFound: { code: 100004, status: 404, message: 'The app could not be found: %s' },
  RouteNotFound: { code: 210002, status: 404, message: 'The route could not be found: %s' },
  QuotaDefinitionNotFound: { code: 240001, status: 404, message: 'Quota Definition could not be found: %s' },
  StackNotFound: { code: 250003, status: 404, message: 'The stack could not be found: %s' },
  FeatureFlagNotFound: { code: 330000, status: 404, message: 'The feature flag could not be found: %s' },
  FeatureFlagInvalid: { code: 330001, status: 400, message: 'The feature flag is invalid: %s' },
  FeatureDisabled: { code: 330002, status: 403, message: 'Feature Disabled: %s' },
  DomainNotFound: { code: 130002, status: 404, message: 'The domain could not be found: %s' },
  AppMemoryInvalid: {
    code: 100006,
    status: 400,
    message: 'You have specified an invalid amount of memory for your application.',
  },
  QuotaInstanceMemoryLimitExceeded: {
    code: 100007,
    status: 400,
    message: "You have exceeded the instance memory limit for your organization's quota.",
  },
  QuotaInstanceLimitExceeded: {
    code: 100008,
    status: 400,
    message: "You have exceeded the instance limit for your organization's quota.",
  },
  StatsUnavailable: { code: 200002, status: 503, message: 'Stats unavailable: %s' },
  AppStoppedStatsError: { code: 200003, status: 400, message: 'Could not fetch stats for stopped app: %s' },
  InstancesError: { code: 220001, status: 400, message: 'Instances error: %s' },
  InstancesUnavailable: { code: 220002, status: 503, message: 'Instances information unavailable: %s' },
  EventNotFound: { code: 230002, status: 404, message: 'Event could not be found: %s' },
  // Staging (170xxx): a staging_failed_reason is also the error /instances answers with.
  StagingError: { code: 170001, status: 400, message: 'Staging error: %s' },
  NotStaged: { code: 170002, status: 400, message: 'App has not finished staging' },
  NoAppDetectedError: {
    code: 170003,
    status: 400,
    message: 'An app was not successfully detected by any available buildpack',
  },
  BuildpackCompileFailed: { code: 170004, status: 400, message: 'App staging failed in the buildpack compile phase' },
  BuildpackReleaseFailed: { code: 170005, status: 400, message: 'App staging failed in the buildpack release phase' },
  StagingTimeExpired: { code: 170007, status: 504, message: 'Staging time expired: %s' },
  InsufficientResources: { code: 170008, status: 400, message: 'Insufficient resources' },
  NoCompatibleCell: { code: 170009, status: 400, message: 'Found no compatible cell' },
  BackendSelectionNotAuthorized: {
    code: 320005,
    status: 403,
    message: 'You cannot select the backend on which to run this application',
  },
} as const satisfies Record<string, { code: number; status: number; message: string }>

export type CfErrorName = keyof typeof CF_ERRORS

export interface CfErrorBody {
  code: number
  description: string
  error_code: string
}

/** An error the API answers with as CC would: its status and its v2 body. */
export class CfError extends Error {
  readonly errorName: CfErrorName
  readonly code: number
  readonly status: number
  readonly description: string

  constructor(name: CfErrorName, detail?: string) {
    const entry = CF_ERRORS[name]
    // Templates without %s ignore the detail, as Ruby's format does with a surplus argument.
    const description = entry.message.includes('%s') ? entry.message.replace('%s', detail ?? '') : entry.message
    super(`CF-${name}: ${description}`)
    this.name = 'CfError'
    this.errorName = name
    this.code = entry.code
    this.status = entry.status
    this.description = description
  }

  body(): CfErrorBody {
    return { code: this.code, description: this.description, error_code: `CF-${this.errorName}` }
  }
}

/**
 * What CC answers for an exception it did not anticipate: ErrorHasher's sanitized hash hides the
 * message (it may carry internals) and names no CF- error. The status is 500.
 */
export const UNKNOWN_ERROR_BODY: Readonly<CfErrorBody> = Object.freeze({
  code: 10001,
  description: 'An unknown error occurred.',
  error_code: 'UnknownError',
})
