// Diego's route emitter: keeps the shared RouteTable in step with the BBS. Every RUNNING instance, an
// EVACUATING or SUSPECT copy included, is registered under each of its DesiredLRP's routes, and
// unregistered the moment it stops, crashes or is removed.

import type { RouteTable } from '../routes.js'
import type { ActualGroup, ActualLrp, BbsObserver } from './bbs.js'

export class RouteEmitter implements BbsObserver {
  constructor(private readonly table: RouteTable) {}

  lrpRunning(group: ActualGroup, lrp: ActualLrp): void {
    for (const route of group.registeredRoutes) this.register(route, group, lrp)
  }

  lrpNoLongerRunning(group: ActualGroup, lrp: ActualLrp): void {
    const instanceGuid = lrp.instanceGuid
    for (const route of group.registeredRoutes) this.table.unregister(route, instanceGuid)
  }

  /** The DesiredLRP's routes changed: move every running instance of the process to the new set. */
  routesChanged(group: ActualGroup, routes: readonly string[]): void {
    const old = group.registeredRoutes
    group.registeredRoutes = routes
    for (const lrp of group.records()) {
      if (lrp.state !== 'RUNNING') continue
      const instanceGuid = lrp.instanceGuid
      for (const route of old) if (!routes.includes(route)) this.table.unregister(route, instanceGuid)
      for (const route of routes) if (!old.includes(route)) this.register(route, group, lrp)
    }
  }

  private register(route: string, group: ActualGroup, lrp: ActualLrp): void {
    this.table.register(route, {
      appGuid: group.appGuid,
      backend: 'diego',
      index: lrp.index,
      instanceGuid: lrp.instanceGuid,
      host: lrp.cellId,
    })
  }
}
