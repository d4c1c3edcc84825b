export { type CapacityCheck, type CapacityVerdict, checkCapacity } from './capacity.js'
export { type ControlResult, controlMigration } from './control.js'
export {
  createMigration,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_VERIFY_INTERVAL_MS,
  type MigrationSettings,
} from './create.js'
export { formatDuration, parseDuration } from './duration.js'
export { LockLostError, MigrationStateError } from './errors.js'
export { type InstancesHealth, instancesHealth } from './health.js'
export {
  DEFAULT_STEP_ESTIMATE_MS,
  expectedDuration,
  type MigrationPlan,
  PLAN_ORDERS,
  type PlanOptions,
  type PlanOrder,
  type PlanTotals,
  planMigration,
  totalsOf,
} from './plan.js'
export {
  type BackendCapacity,
  describeError,
  isTransient,
  type MigrationPort,
  type PortApp,
  type PortInstance,
} from './port.js'
export {
  failureAllowance,
  type GateTicket,
  type MaxFailures,
  parseMaxFailures,
  parseRate,
  type Rate,
  RateGate,
  rateFrom,
  rateWindow,
} from './rate.js'
export { RoutabilityMonitor, type RouteGap } from './routability.js'
export {
  exitCodeOf,
  type MigrationListener,
  type MigrationOutcome,
  type MigrationProgress,
  MigrationRunner,
  migrationOutcome,
  type RollbackOptions,
  type RunnerOptions,
  type StepFailure,
} from './runner.js'
export {
  type FleetApp,
  globToRegExp,
  parseAppList,
  type Selection,
  type SelectionOptions,
  selectApps,
  sourceOf,
} from './select.js'
