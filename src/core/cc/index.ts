// The CC v2 client and everything that comes with it: errors, normalized records, schemas, tokens.
export {
  type AppPatch,
  CcClient,
  type CcClientOptions,
  DEFAULT_PAGE_CONCURRENCY,
  MAX_RESULTS_PER_PAGE,
  parseBody,
  type TokenProvider,
} from './client.js'
export { CfApiError, CfAuthError, CfNetworkError, CfSchemaError, cfErrorHint } from './errors.js'
export type {
  App,
  AppInstance,
  AppRoute,
  AppState,
  BackendCapacity,
  BackendsCapacity,
  FeatureFlag,
  Info,
  Org,
  Space,
  Usage,
} from './model.js'
export { type AppQuery, appFilters, filter, filterIn, type ListQuery, nameFilters } from './query.js'
export { backoffDelay, parseRetryAfter, RETRIABLE_STATUSES } from './retry.js'
export * as schemas from './schemas.js'
export { resourceSchema } from './schemas.js'
export {
  AppNotStagedError,
  isStagingErrorCode,
  STAGING_ERRORS,
  type StagingState,
  type Unstaged,
  unstagedOf,
  unstagedOfError,
} from './staging.js'
export type { AttemptEvent } from './transport.js'
export { requestToken, type TokenGrant, type TokenRequestOptions, type Tokens } from './uaa.js'
