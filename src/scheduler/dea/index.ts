// The DEA backend: a pool of DEAs, the CC's placement onto them, and an HM9000-style health manager.
export { type DeaInstanceView, DeaPool, type DeaPoolOptions, type DeaView, validateAppSpec } from './dea.js'
export {
  type Analysis,
  AppKeys,
  analyze,
  type CrashCount,
  type CrashRestartPolicy,
  DEFAULT_CRASH_POLICY,
  DEFAULT_HEALTH_CONFIG,
  type DeaHeartbeat,
  type DesiredApp,
  DesiredIndex,
  type DesiredState,
  desiredState,
  findCrashCount,
  findPendingStart,
  type HealthConfig,
  type HealthView,
  type HeartbeatState,
  type InstanceHeartbeat,
  type LiveInstance,
  type PendingStart,
  type PendingStop,
  restartDelayMs,
  type StartReason,
  type StopReason,
  startStillNeeded,
  stopStillWanted,
} from './health.js'
export {
  HealthManager,
  type HealthManagerOptions,
  type HealthManagerPorts,
  type HealthPassReport,
} from './health-manager.js'
export { chooseDea, type DeaAdvertisement, type Placement, type PlacementNeed, seededRandom } from './placement.js'
export {
  DEFAULT_STACK,
  Dea,
  DeaFleet,
  type DeaFleetOptions,
  type DeaInstance,
  type DeaSpec,
  validateDeaSpec,
} from './pool.js'
