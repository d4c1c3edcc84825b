// A Diego engine on a fake clock, with the CC's side reduced to what the engine reads: a list of the apps
// it wants on Diego. `desire` and `stop` do what the CC does: change its view and send the message.
import type { AppSpec } from '../../../src/scheduler/backend.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import type { CellSpec } from '../../../src/scheduler/diego/bbs.js'
import { Diego, type DiegoEvent, type DiegoOptions } from '../../../src/scheduler/diego/diego.js'
import { RouteTable } from '../../../src/scheduler/routes.js'
import { aCellSpec } from './builders.js'

export function aDiegoFoundation(
  cells: CellSpec[] = [aCellSpec('cell-1', { zone: 'z1' }), aCellSpec('cell-2', { zone: 'z2' })],
  options: Partial<DiegoOptions> = {},
) {
  const clock = new FakeClock(0)
  const routes = new RouteTable()
  const wanted = new Map<string, AppSpec>()
  const events: DiegoEvent[] = []
  const diego = new Diego({
    clock,
    routes,
    cells,
    source: { desiredApps: (backend) => (backend === 'diego' ? [...wanted.values()] : []) },
    observe: (event) => events.push(event),
    ...options,
  })
  diego.start()
  return {
    clock,
    routes,
    wanted,
    events,
    diego,
    desire(spec: AppSpec) {
      wanted.set(spec.appGuid, spec)
      diego.desire(spec)
    },
    stop(appGuid: string) {
      wanted.delete(appGuid)
      diego.stop(appGuid)
    },
    states(appGuid: string) {
      return diego.instances(appGuid).map((s) => s.state)
    },
    hosts(appGuid: string) {
      return diego.instances(appGuid).map((s) => s.host)
    },
    endpoints(hostname: string) {
      return routes.lookup(hostname).length
    },
    allRunning(appGuid: string, count: number) {
      const states = diego.instances(appGuid).map((s) => s.state)
      return states.length === count && states.every((s) => s === 'RUNNING')
    },
  }
}
