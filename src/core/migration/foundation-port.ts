// The migration runner's port onto a real (or embedded) foundation: the CC client for the app, its flag
// and its instances, and a RouteProbe for its route. The app's route is looked up once and kept.

import { requestedDiego } from '../audit/diego-flips.js'
import { AppNotStagedError, type CcClient, CfApiError, unstagedOf, unstagedOfError } from '../cc/index.js'
import { RouteProbe } from '../cc/route-probe.js'
import type { Backend } from '../journal/types.js'
import type { BackendCapacity, FlagEvent, MigrationPort, PortApp, PortInstance } from './port.js'

/**
 * CC codes for "this app has no instances to report": stopped (CF-InstancesError 220001 on /instances). A
 * staging error (all of 170001-170009, which a real CC answers before it looks at the state) is thrown as
 * AppNotStagedError, naming why.
 */
const NO_INSTANCES_CODES: ReadonlySet<string> = new Set(['CF-InstancesError', 'CF-AppStoppedStatsError'])

export class FoundationPort implements MigrationPort {
  private readonly routes = new Map<string, Promise<{ hostname: string; path: string } | undefined>>()

  /** A probe this port made itself, after the CC named another router; closed when replaced. */
  private ownProbe: RouteProbe | undefined

  constructor(
    private readonly client: CcClient,
    private routeProbe: RouteProbe,
  ) {}

  /**
   * Where to probe, read again from /v2/info (the embedded foundation's `x_cfctl_router_url`): a foundation
   * restarted on its data may have its router elsewhere. A real CC names no router: nothing changes.
   */
  async refreshProbePath(): Promise<string | undefined> {
    const info = await this.client.info()
    if (!info.routerUrl) return undefined
    const previous = this.ownProbe
    this.ownProbe = new RouteProbe({ routerUrl: info.routerUrl })
    this.routeProbe = this.ownProbe
    await previous?.close().catch(() => {})
    return info.routerUrl
  }

  async getApp(guid: string): Promise<PortApp> {
    const app = await this.client.app(guid)
    const unstaged = unstagedOf(app)
    return {
      guid: app.guid,
      name: app.name,
      diego: app.diego,
      state: app.state,
      instances: app.instances,
      ...(unstaged ? { unstaged } : {}),
    }
  }

  async setDiego(guid: string, diego: boolean): Promise<void> {
    await this.client.updateApp(guid, { diego })
  }

  async instances(guid: string): Promise<PortInstance[]> {
    try {
      const map = await this.client.appInstances(guid)
      return [...map].map(([index, instance]) => ({
        index,
        state: instance.state,
        ...(instance.details ? { details: instance.details } : {}),
      }))
    } catch (error) {
      if (error instanceof CfApiError && NO_INSTANCES_CODES.has(error.errorCode)) return []
      const unstaged = error instanceof CfApiError ? unstagedOfError(error) : undefined
      if (unstaged) throw new AppNotStagedError(error as CfApiError, unstaged)
      throw error
    }
  }

  async hasRoute(guid: string): Promise<boolean> {
    return (await this.routeOf(guid)) !== undefined
  }

  /** An app with no route cannot be probed; it counts as routable, and its instances decide. */
  async probe(guid: string): Promise<boolean> {
    const route = await this.routeOf(guid)
    if (!route) return true
    return this.routeProbe.probe(route.hostname, route.path || '/')
  }

  async flagEvents(since: Date): Promise<FlagEvent[]> {
    const events = await this.client.events({ type: 'audit.app.update', since })
    const changes: FlagEvent[] = []
    for (const { metadata, entity } of events) {
      const diego = requestedDiego(entity.metadata)
      if (diego === undefined) continue
      const at = Date.parse(entity.timestamp)
      if (Number.isNaN(at)) continue
      changes.push({
        id: metadata.guid,
        appGuid: entity.actee,
        ...(entity.actee_name ? { appName: entity.actee_name } : {}),
        diego,
        at,
        actor: entity.actor_name || entity.actor,
      })
    }
    return changes
  }

  async capacity(backend: Backend): Promise<BackendCapacity | undefined> {
    const capacity = await this.client.backendsCapacity()
    const one = capacity?.[backend]
    return one ? { memoryMb: one.memoryMb, containers: one.containers } : undefined
  }

  private routeOf(guid: string): Promise<{ hostname: string; path: string } | undefined> {
    let route = this.routes.get(guid)
    if (!route) {
      route = this.client.appRoutes(guid).then((routes) => {
        const first = routes[0]
        return first
          ? { hostname: first.host ? `${first.host}.${first.domain}` : first.domain, path: first.path }
          : undefined
      })
      route.catch(() => this.routes.delete(guid))
      this.routes.set(guid, route)
    }
    return route
  }
}
