// The dashboard's entry for commands: import it dynamically, so other commands never load it.
export { type DashboardOptions, runDashboard } from './run.js'
export { type FleetSource, fleetSourceOf } from './store.js'
