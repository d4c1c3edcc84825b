// How this CC renders its records: the v2 resources (`{metadata, entity}`) of apps, orgs and spaces,
// an app's summary, the `/instances` and `/stats` maps built from what a backend reports, /v2/info
// and the feature flag list. Field names and their order follow CC's API docs for v2 (2016).
import type { BackendCapacity, InstanceStatus } from '../backend.js'
import type { AppRecord, DomainRecord, OrgRecord, RouteRecord, SpaceRecord } from './store.js'

/** CC's timestamps: ISO 8601 in UTC, to the second. */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// ---- apps ----

/** The v2 app entity: what `GET /v2/apps/:guid` shows under `entity`. */
export function appEntity(app: AppRecord): Record<string, unknown> {
  const base = `/v2/apps/${app.guid}`
  return {
    ...appFields(app),
    space_url: `/v2/spaces/${app.spaceGuid}`,
    stack_url: `/v2/stacks/${app.stackGuid}`,
    routes_url: `${base}/routes`,
    events_url: `${base}/events`,
    service_bindings_url: `${base}/service_bindings`,
    route_mappings_url: `${base}/route_mappings`,
  }
}

export function appFields(app: AppRecord): Record<string, unknown> {
  return {
    name: app.name,
    production: false,
    space_guid: app.spaceGuid,
    stack_guid: app.stackGuid,
    buildpack: null,
    detected_buildpack: app.detectedBuildpack,
    detected_buildpack_guid: null,
    environment_json: {},
    memory: app.memoryMb,
    instances: app.instances,
    disk_quota: app.diskMb,
    state: app.state,
    version: app.version,
    command: null,
    console: false,
    debug: null,
    staging_task_id: null,
    package_state: app.packageState,
    health_check_type: app.healthCheckType,
    health_check_timeout: null,
    staging_failed_reason: app.stagingFailedReason,
    staging_failed_description: app.stagingFailedDescription,
    diego: app.diego,
    docker_image: null,
    package_updated_at: isoTimestamp(app.packageUpdatedAt),
    detected_start_command: app.detectedStartCommand,
    enable_ssh: app.enableSsh,
    docker_credentials_json: { redacted_message: '[PRIVATE DATA HIDDEN]' },
    // ports_with_defaults: a Diego app's own ports, or the default 8080; a DEA app has none.
    ports: app.diego ? (app.ports ?? [8080]) : null,
  }
}

export function appResource(app: AppRecord): { metadata: Metadata; entity: Record<string, unknown> } {
  return { metadata: metadata(`/v2/apps/${app.guid}`, app), entity: appEntity(app) }
}

// Records are immutable and an update replaces them, so a cache keyed by the record object can never
// serve a stale rendering: the old record (and its bytes) simply stops being looked up. The cache holds
// UTF-8 bytes, not strings: a page of 100 apps is then one copy into the response buffer, where a
// joined string would be flattened and re-encoded on every request.
const appBytesCache = new WeakMap<AppRecord, Buffer>()

/** The app's resource as UTF-8 JSON, rendered once per version of the record. */
export function appResourceBytes(app: AppRecord): Buffer {
  let bytes = appBytesCache.get(app)
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(appResource(app)), 'utf8')
    appBytesCache.set(app, bytes)
  }
  return bytes
}

/** The app's resource as JSON text. */
export function appResourceJson(app: AppRecord): string {
  return appResourceBytes(app).toString('utf8')
}

/** `GET /v2/apps/:guid/summary`: the app's fields with its routes, services, domains and running count. */
export function appSummary(app: AppRecord, runningInstances: number, domains: readonly DomainRecord[]): unknown {
  return {
    guid: app.guid,
    name: app.name,
    routes: app.routes.map((route) => ({
      guid: route.guid,
      host: route.host,
      port: null,
      path: '',
      domain: { guid: route.domainGuid, name: route.domainName },
    })),
    running_instances: runningInstances,
    services: [],
    available_domains: domains.map((d) => ({
      guid: d.guid,
      name: d.name,
      router_group_guid: null,
      router_group_type: null,
    })),
    ...appFields(app),
  }
}

// ---- routes and domains ----

/** A shared domain as `/v2/shared_domains/:guid` (and `/v2/domains/:guid`) render it. */
export function sharedDomainResource(domain: DomainRecord, at: number): unknown {
  return {
    metadata: metadata(`/v2/shared_domains/${domain.guid}`, { guid: domain.guid, createdAt: at, updatedAt: at }),
    entity: { name: domain.name, internal: false, router_group_guid: null, router_group_type: null },
  }
}

/** A route of `/v2/apps/:guid/routes`; with inline-relations-depth >= 1 its domain is inlined, as CC does. */
export function routeResource(app: AppRecord, route: RouteRecord, inlineDomain: boolean): unknown {
  const base = `/v2/routes/${route.guid}`
  const domainUrl = `/v2/shared_domains/${route.domainGuid}`
  const entity: Record<string, unknown> = {
    host: route.host,
    path: '',
    domain_guid: route.domainGuid,
    space_guid: app.spaceGuid,
    service_instance_guid: null,
    port: null,
    domain_url: domainUrl,
    space_url: `/v2/spaces/${app.spaceGuid}`,
    apps_url: `${base}/apps`,
    route_mappings_url: `${base}/route_mappings`,
  }
  if (inlineDomain)
    entity.domain = sharedDomainResource({ id: 0, guid: route.domainGuid, name: route.domainName }, app.createdAt)
  return { metadata: metadata(base, { guid: route.guid, createdAt: app.createdAt, updatedAt: app.createdAt }), entity }
}

// ---- orgs and spaces ----

export function orgResource(org: OrgRecord, quotaDefinitionGuid: string): unknown {
  const base = `/v2/organizations/${org.guid}`
  return {
    metadata: metadata(base, org),
    entity: {
      name: org.name,
      billing_enabled: false,
      quota_definition_guid: quotaDefinitionGuid,
      status: 'active',
      quota_definition_url: `/v2/quota_definitions/${quotaDefinitionGuid}`,
      spaces_url: `${base}/spaces`,
      domains_url: `${base}/domains`,
      private_domains_url: `${base}/private_domains`,
      users_url: `${base}/users`,
      managers_url: `${base}/managers`,
      billing_managers_url: `${base}/billing_managers`,
      auditors_url: `${base}/auditors`,
      app_events_url: `${base}/app_events`,
      space_quota_definitions_url: `${base}/space_quota_definitions`,
    },
  }
}

export function spaceResource(space: SpaceRecord): unknown {
  const base = `/v2/spaces/${space.guid}`
  return {
    metadata: metadata(base, space),
    entity: {
      name: space.name,
      organization_guid: space.orgGuid,
      space_quota_definition_guid: null,
      allow_ssh: true,
      organization_url: `/v2/organizations/${space.orgGuid}`,
      developers_url: `${base}/developers`,
      managers_url: `${base}/managers`,
      auditors_url: `${base}/auditors`,
      apps_url: `${base}/apps`,
      routes_url: `${base}/routes`,
      domains_url: `${base}/domains`,
      service_instances_url: `${base}/service_instances`,
      app_events_url: `${base}/app_events`,
      events_url: `${base}/events`,
      security_groups_url: `${base}/security_groups`,
      staging_security_groups_url: `${base}/staging_security_groups`,
    },
  }
}

interface Metadata {
  guid: string
  url: string
  created_at: string
  updated_at: string | null
}

function metadata(url: string, record: { guid: string; createdAt: number; updatedAt: number }): Metadata {
  return {
    guid: record.guid,
    url,
    created_at: isoTimestamp(record.createdAt),
    updated_at: isoTimestamp(record.updatedAt),
  }
}

// ---- what the backend runs ----

// Which report wins when a backend has two for one index (say an evacuating copy and its replacement).
const STATE_RANK: Record<InstanceStatus['state'], number> = {
  RUNNING: 4,
  STARTING: 3,
  CRASHED: 2,
  FLAPPING: 2,
  DOWN: 1,
}

/**
 * One status per desired index, as CC's reporters build them: indexes at or above the desired count
 * are left out, a missing index is DOWN.
 */
export function statusByIndex(app: AppRecord, statuses: readonly InstanceStatus[]): (InstanceStatus | undefined)[] {
  const byIndex: (InstanceStatus | undefined)[] = new Array(app.instances).fill(undefined)
  for (const status of statuses) {
    if (status.index < 0 || status.index >= app.instances) continue
    const current = byIndex[status.index]
    if (!current || STATE_RANK[status.state] > STATE_RANK[current.state]) byIndex[status.index] = status
  }
  return byIndex
}

/** Instances starting or running: what CC's summary calls running_instances. */
export function runningInstanceCount(app: AppRecord, statuses: readonly InstanceStatus[]): number {
  let count = 0
  for (const status of statusByIndex(app, statuses)) {
    if (status?.state === 'RUNNING' || status?.state === 'STARTING') count++
  }
  return count
}

/**
 * `GET /v2/apps/:guid/instances` in the shape of the app's backend: Diego's reporter (TPS) gives
 * `{state, uptime, since}` with details when not placed, DOWN as `{state, uptime: 0}`; the DEA client
 * gives only what the DEAs answered as STARTING or RUNNING (`{state, since, debug_ip, ...}`), the
 * health manager's FLAPPING indexes, and DOWN `{state, since: now}` for the rest (no uptime at all).
 */
export function instancesReport(
  app: AppRecord,
  statuses: readonly InstanceStatus[],
  now: number,
): Record<string, unknown> {
  return app.diego ? diegoInstancesReport(app, statuses, now) : deaInstancesReport(app, statuses, now)
}

function deaInstancesReport(app: AppRecord, statuses: readonly InstanceStatus[], now: number): Record<string, unknown> {
  const report: Record<string, unknown> = {}
  statusByIndex(app, statuses).forEach((status, index) => {
    if (status?.state === 'FLAPPING') report[index] = { state: 'FLAPPING', since: status.since / 1000 }
    else if (status?.state === 'STARTING' || status?.state === 'RUNNING') {
      report[index] = {
        state: status.state,
        since: status.since / 1000,
        debug_ip: null,
        debug_port: null,
        console_ip: null,
        console_port: null,
      }
    } else report[index] = { state: 'DOWN', since: Math.floor(now / 1000) }
  })
  return report
}

function diegoInstancesReport(
  app: AppRecord,
  statuses: readonly InstanceStatus[],
  now: number,
): Record<string, unknown> {
  const report: Record<string, unknown> = {}
  statusByIndex(app, statuses).forEach((status, index) => {
    if (!status || status.state === 'DOWN') {
      report[index] = status?.details
        ? { details: status.details, state: 'DOWN', uptime: 0 }
        : { state: 'DOWN', uptime: 0 }
      return
    }
    const entry: Record<string, unknown> = {
      state: status.state,
      since: status.since / 1000,
      uptime: uptimeOf(status, now),
    }
    report[index] = status.details ? { details: status.details, ...entry } : entry
  })
  return report
}

const FDS_QUOTA = 16_384
const MB = 1024 * 1024

/**
 * `GET /v2/apps/:guid/stats`: per index, its state and the stats block of where it runs. The DEA client
 * asks only RUNNING instances of the current version, so every other index is `{state: DOWN, since}`.
 */
export function statsReport(app: AppRecord, statuses: readonly InstanceStatus[], now: number): Record<string, unknown> {
  const report: Record<string, unknown> = {}
  const uris = app.routes.map((r) => `${r.host}.${r.domainName}`)
  statusByIndex(app, statuses).forEach((status, index) => {
    if (!app.diego && status?.state !== 'RUNNING') {
      report[index] = { state: 'DOWN', since: Math.floor(now / 1000) }
      return
    }
    if (!status || status.state === 'DOWN') {
      report[index] = status?.details
        ? { state: 'DOWN', uptime: 0, details: status.details }
        : { state: 'DOWN', uptime: 0 }
      return
    }
    const entry: Record<string, unknown> = {
      state: status.state,
      stats: {
        name: app.name,
        uris,
        host: status.host ?? '',
        port: status.port ?? 0,
        uptime: uptimeOf(status, now),
        mem_quota: app.memoryMb * MB,
        disk_quota: app.diskMb * MB,
        fds_quota: FDS_QUOTA,
        // The simulated containers meter nothing, so usage is zero rather than made up.
        usage: { time: usageTime(now), cpu: 0, mem: 0, disk: 0 },
      },
    }
    if (status.details) entry.details = status.details
    report[index] = entry
  })
  return report
}

function uptimeOf(status: InstanceStatus, now: number): number {
  if (status.uptimeSec !== undefined) return Math.max(0, Math.floor(status.uptimeSec))
  return status.state === 'RUNNING' ? Math.max(0, Math.floor((now - status.since) / 1000)) : 0
}

/** The DEA's stats timestamp format: `2014-06-19 22:37:58 +0000`. */
function usageTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000`
}

// ---- backends (an extension) ----

interface UsedOfTotal {
  total: number
  used: number
}

export interface BackendCapacityBody {
  nodes: number
  nodes_up: number
  memory_mb: UsedOfTotal
  disk_mb: UsedOfTotal
  /** `total` is null for a backend with no container limit (DEAs). */
  containers: { total: number | null; used: number }
}

/** One backend's entry of `GET /v2/x-cfctl/backends` (an extension of this CC). */
export function backendCapacityBody(capacity: BackendCapacity): BackendCapacityBody {
  return {
    nodes: capacity.nodes,
    nodes_up: capacity.nodesUp,
    memory_mb: { total: capacity.total.memoryMb, used: capacity.used.memoryMb },
    disk_mb: { total: capacity.total.diskMb, used: capacity.used.diskMb },
    containers: {
      total: capacity.unlimitedContainers ? null : capacity.total.containers,
      used: capacity.used.containers,
    },
  }
}

// ---- /v2/info and feature flags ----

export interface InfoConfig {
  name: string
  build: string
  support: string
  description: string
  apiVersion: string
}

export const DEFAULT_INFO: Readonly<InfoConfig> = Object.freeze({
  name: 'cfctl',
  build: 'embedded',
  support: 'https://docs.cloudfoundry.org',
  description: 'cfctl embedded foundation: a CC API v2 in front of simulated Diego and DEA backends',
  // The CC API version of cf-release v233, when users_can_select_backend shipped.
  apiVersion: '2.54.0',
})

/**
 * `GET /v2/info`: the fields InfoController renders; UAA is this same server. `routerUrl` adds the
 * extension field `x_cfctl_router_url` (a real CC has none), so a client can find the embedded router.
 */
export function infoBody(
  baseUrl: string,
  info: InfoConfig,
  userGuid: string | null,
  routerUrl?: string,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: info.name,
    build: info.build,
    support: info.support,
    version: 2,
    description: info.description,
    authorization_endpoint: baseUrl,
    token_endpoint: baseUrl,
    min_cli_version: null,
    min_recommended_cli_version: null,
    api_version: info.apiVersion,
    app_ssh_endpoint: null,
    app_ssh_host_key_fingerprint: null,
    app_ssh_oauth_client: null,
  }
  if (userGuid) body.user = userGuid
  if (routerUrl) body.x_cfctl_router_url = routerUrl
  return body
}
