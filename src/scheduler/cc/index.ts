// The embedded Cloud Controller: what the foundation wires up.
export { type AppLimits, DEFAULT_APP_LIMITS } from './app-limits.js'
export { appSpecOf, type BackendCall, backendCalls } from './bridge.js'
export {
  type CloudController,
  type CloudControllerConfig,
  type CloudControllerOptions,
  createCloudController,
  DEFAULT_ADMIN_CLIENT,
  type ResolvedConfig,
} from './cloud-controller.js'
export { CF_ERRORS, CfError, type CfErrorBody, type CfErrorName, UNKNOWN_ERROR_BODY } from './errors.js'
export {
  type Credentials,
  DEFAULT_DOMAIN,
  DEFAULT_USERS,
  isSeedSize,
  parseSeedFile,
  ROLE_USERS,
  SEED_SHAPES,
  SeedError,
  type SeedOptions,
  type SeedResult,
  type SeedSize,
  type StartedDemand,
  seed,
  seedPasswords,
  startedDemand,
} from './seed.js'
export {
  type AppRecord,
  type AppState,
  type OpenStoreOptions,
  type OrgRecord,
  openStore,
  type SpaceRecord,
  Store,
  StoreError,
  type UserRecord,
} from './store.js'
export { ADMIN_SCOPE, CF_CLIENT, type Principal, READ_SCOPE, TokenService, UaaError, WRITE_SCOPE } from './uaa.js'
