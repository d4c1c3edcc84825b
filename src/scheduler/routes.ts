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

export class RouteTable {
  private readonly byHost = new Map<string, Map<string, RouteEndpoint>>()

  register(hostname: string, endpoint: RouteEndpoint): void {
    const key = hostname.toLowerCase()
    let endpoints = this.byHost.get(key)
    if (!endpoints) this.byHost.set(key, (endpoints = new Map()))
    endpoints.set(endpoint.instanceGuid, endpoint)
  }

  unregister(hostname: string, instanceGuid: string): void {
    const key = hostname.toLowerCase()
    const endpoints = this.byHost.get(key)
    if (!endpoints) return
    endpoints.delete(instanceGuid)
    if (endpoints.size === 0) this.byHost.delete(key)
  }

  lookup(hostname: string): RouteEndpoint[] {
    const endpoints = this.byHost.get(hostname.toLowerCase())
    return endpoints ? [...endpoints.values()] : []
  }

  get size(): number {
    return this.byHost.size
  }
}
