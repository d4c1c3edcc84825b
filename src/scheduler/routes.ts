// The routing table both backends register into (Diego through its route emitter, the DEA directly,
// as with NATS router.register). The router reads it to answer for an app by Host header.

import type { BackendName } from './backend.js'

export interface RouteEndpoint {
  appGuid: string
  backend: BackendName
  index: number
  /** Unique per running instance; the key an endpoint is unregistered by. */
  instanceGuid: string
  host: string
}

/**
 * Something that answers with the running endpoints of many instances when the router asks: Diego's route
 * emitter registers one per process (its ActualGroup) rather than an endpoint per instance. At 250,000
 * running instances an endpoint object, its instance guid string and a map entry each cost more than the
 * ActualLRP record itself; a source costs one entry per route of an app.
 */
export interface RouteSource {
  /** Adds an endpoint for each of its instances that is running now. */
  routeEndpoints(into: RouteEndpoint[]): void
}

type Member = RouteEndpoint | RouteSource

function isSource(member: Member): member is RouteSource {
  return typeof (member as RouteSource).routeEndpoints === 'function'
}

/**
 * The table's key for a hostname: its lower case, the hostname itself when it is lower case already (they
 * nearly all are). toLowerCase() makes a new string either way, and the table keeps its key for as long as
 * the route is registered: a copy of every hostname, ~56 bytes a route at 24,000 apps.
 */
function keyOf(hostname: string): string {
  const lower = hostname.toLowerCase()
  return lower === hostname ? hostname : lower
}

export class RouteTable {
  // One member is held as it is; more, in an array in the order they came (most routes have one app).
  private readonly byHost = new Map<string, Member | Member[]>()

  /** One running instance's endpoint, unregistered by its instance guid. */
  register(hostname: string, endpoint: RouteEndpoint): void {
    this.unregister(hostname, endpoint.instanceGuid)
    this.add(hostname, endpoint)
  }

  unregister(hostname: string, instanceGuid: string): void {
    this.remove(hostname, (m) => !isSource(m) && m.instanceGuid === instanceGuid)
  }

  /** A source of endpoints under this hostname, until unregisterSource. Registering it twice changes nothing. */
  registerSource(hostname: string, source: RouteSource): void {
    const held = this.byHost.get(hostname.toLowerCase())
    if (held === source || (Array.isArray(held) && held.includes(source))) return
    this.add(hostname, source)
  }

  unregisterSource(hostname: string, source: RouteSource): void {
    this.remove(hostname, (m) => m === source)
  }

  lookup(hostname: string): RouteEndpoint[] {
    const held = this.byHost.get(hostname.toLowerCase())
    const endpoints: RouteEndpoint[] = []
    if (held === undefined) return endpoints
    for (const member of Array.isArray(held) ? held : [held]) {
      if (isSource(member)) member.routeEndpoints(endpoints)
      else endpoints.push(member)
    }
    return endpoints
  }

  /** How many hostnames have something registered. */
  get size(): number {
    return this.byHost.size
  }

  private add(hostname: string, member: Member): void {
    const key = keyOf(hostname)
    const held = this.byHost.get(key)
    if (held === undefined) this.byHost.set(key, member)
    else if (Array.isArray(held)) held.push(member)
    else this.byHost.set(key, [held, member])
  }

  private remove(hostname: string, matches: (member: Member) => boolean): void {
    const key = keyOf(hostname)
    const held = this.byHost.get(key)
    if (held === undefined) return
    if (!Array.isArray(held)) {
      if (matches(held)) this.byHost.delete(key)
      return
    }
    const at = held.findIndex(matches)
    if (at < 0) return
    held.splice(at, 1)
    if (held.length === 1) this.byHost.set(key, held[0]!)
  }
}
