// Diego's route emitter: keeps the shared RouteTable in step with the BBS. Every RUNNING instance, an
// EVACUATING or SUSPECT copy included, is routable under each of its DesiredLRP's routes from the moment
// it runs until it stops, crashes or is removed. The table holds the instances' group (their process) as
// the source of their endpoints, registered while at least one of them runs: the group answers with its
// running records when the router asks, so no endpoint is kept per instance.

import type { RouteTable } from '../routes.js'
import type { ActualGroup, BbsObserver } from './bbs.js'

export class RouteEmitter implements BbsObserver {
  constructor(private readonly table: RouteTable) {}

  lrpRunning(group: ActualGroup, _slot: number): void {
    if (group.routedInstances++ === 0)
      for (const route of group.registeredRoutes) this.table.registerSource(route, group)
  }

  lrpNoLongerRunning(group: ActualGroup, _slot: number): void {
    if (group.routedInstances === 0) return
    if (--group.routedInstances === 0) {
      for (const route of group.registeredRoutes) this.table.unregisterSource(route, group)
    }
  }

  /** The DesiredLRP's routes changed: move the process's running instances to the new set. */
  routesChanged(group: ActualGroup, routes: readonly string[]): void {
    const old = group.registeredRoutes
    group.registeredRoutes = routes
    if (group.routedInstances === 0) return
    for (const route of old) if (!routes.includes(route)) this.table.unregisterSource(route, group)
    for (const route of routes) if (!old.includes(route)) this.table.registerSource(route, group)
  }
}
