// The migration engine, as the commands use it:
//
//   const journal = Journal.open(path, { clock })                        // src/core/journal
//   const plan = planMigration(fleet, { to: 'diego', org, appPattern, order, canary, rate, maxInFlight })
//   const check = checkCapacity(plan, { target, source, maxInFlight })   // refuse unless --force when !check.ok
//   const { id } = createMigration(journal, plan, { target: ccUrl, rate: '10/min', maxInFlight, timeoutMs, ... })
//   const runner = new MigrationRunner({ journal, port, clock, migrationId: id, pauseFile })
//   runner.on((event) => ...)                      // every event, as it is written to the journal
//   const outcome = await runner.run()             // also resumes a paused or crashed migration
//   process.exitCode = exitCodeOf(outcome)
//
// Live: runner.pause(by) / resume(by) / abort(by) / interrupt() / setRate(rate) / setMaxInFlight(n), or from
// another process controlMigration(journal, id, command). Undo: runner.rollback({ verify, rate, maxInFlight }).
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
