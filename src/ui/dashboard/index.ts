// The dashboard's entry for commands: import it dynamically, so other commands never load it.

export { type FleetPoll, type FleetSource, fleetSourceOf } from './fleet-source.js'
export { type DashboardOptions, runDashboard } from './run.js'
