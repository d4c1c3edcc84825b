// What the rest of cfctl sees of the CC: camelCase records built from the parsed v2 resources.
import type { z } from 'zod'
import type {
  AppResource,
  BackendsCapacityBody,
  FeatureFlagsBody,
  InfoBody,
  InstancesBody,
  OrgResource,
  SpaceResource,
} from './schemas.js'

export type AppState = 'STARTED' | 'STOPPED'

export interface App {
  guid: string
  name: string
  spaceGuid: string
  state: AppState
  /** Desired instances. */
  instances: number
  memoryMb: number
  diskMb: number
  /** True when the app runs (or is to run) on Diego; false on the DEAs. */
  diego: boolean
  stackGuid?: string
  /** Changes whenever the CC restarts the app. */
  version?: string
  healthCheckType?: string
  /** PENDING (not staged yet), STAGED or FAILED. */
  packageState?: string
  /** While packageState is FAILED: why, as the CC names it (StagingError, BuildpackCompileFailed, …). */
  stagingFailedReason?: string
  stagingFailedDescription?: string
  detectedBuildpack?: string
  dockerImage?: string
  enableSsh?: boolean
  /** ISO 8601, as the CC renders it. */
  createdAt: string
  /** ISO 8601; the creation time when the CC has never updated the app (it renders null then). */
  updatedAt: string
}

export interface Org {
  guid: string
  name: string
  status?: string
}

export interface Space {
  guid: string
  name: string
  orgGuid: string
}

export interface Info {
  name?: string
  build?: string
  description?: string
  /** The CC API version, e.g. '2.54.0'. */
  apiVersion: string
  /** UAA's login URL. */
  authorizationEndpoint: string
  /** UAA's token URL base: tokens are requested from `${tokenEndpoint}/oauth/token`. */
  tokenEndpoint: string
  minCliVersion?: string
  routingEndpoint?: string
  dopplerLoggingEndpoint?: string
  /** The user the request's token names, when one was sent. */
  user?: string
  /** Where the embedded foundation's router listens (its `x_cfctl_router_url`); absent on a real CC. */
  routerUrl?: string
}

export interface AppInstance {
  /** RUNNING, STARTING, CRASHED, FLAPPING, DOWN, … as the backend reports it. */
  state: string
  /** When the instance entered this state, in ms since the epoch (the CC sends seconds). */
  since?: number
  /** Seconds the instance has been up. */
  uptime?: number
  /** Why it is not running, e.g. a placement error such as 'insufficient resources: memory'. */
  details?: string
}

export interface AppRoute {
  host: string
  domain: string
  /** '' or a path starting with '/'. */
  path: string
}

export interface FeatureFlag {
  name: string
  enabled: boolean
}

export interface Usage {
  total: number
  used: number
}

export interface BackendCapacity {
  nodes: number
  nodesUp: number
  memoryMb: Usage
  diskMb: Usage
  /** `total` null: the backend has no container limit (DEAs). */
  containers: { total: number | null; used: number }
}

export interface BackendsCapacity {
  dea: BackendCapacity
  diego: BackendCapacity
}

function defined<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value
}

export function toApp(resource: AppResource): App {
  const { metadata, entity } = resource
  const app: App = {
    guid: metadata.guid,
    name: entity.name,
    spaceGuid: entity.space_guid,
    state: entity.state,
    instances: entity.instances,
    memoryMb: entity.memory,
    diskMb: entity.disk_quota,
    diego: entity.diego,
    createdAt: metadata.created_at,
    updatedAt: metadata.updated_at ?? metadata.created_at,
  }
  // Optional fields are left out rather than set to undefined, so JSON output and deep equality stay
  // clean. One test each rather than a loop over entries: this runs once per app of a 50,000-app list.
  if (entity.stack_guid != null) app.stackGuid = entity.stack_guid
  if (entity.version != null) app.version = entity.version
  if (entity.health_check_type != null) app.healthCheckType = entity.health_check_type
  if (entity.package_state != null) app.packageState = entity.package_state
  if (entity.staging_failed_reason != null) app.stagingFailedReason = entity.staging_failed_reason
  if (entity.staging_failed_description != null) app.stagingFailedDescription = entity.staging_failed_description
  if (entity.detected_buildpack != null) app.detectedBuildpack = entity.detected_buildpack
  if (entity.docker_image != null) app.dockerImage = entity.docker_image
  if (entity.enable_ssh != null) app.enableSsh = entity.enable_ssh
  return app
}

export function toOrg(resource: OrgResource): Org {
  const org: Org = { guid: resource.metadata.guid, name: resource.entity.name }
  if (resource.entity.status) org.status = resource.entity.status
  return org
}

export function toSpace(resource: SpaceResource): Space {
  return { guid: resource.metadata.guid, name: resource.entity.name, orgGuid: resource.entity.organization_guid }
}

export function toInfo(body: z.infer<typeof InfoBody>): Info {
  const info: Info = {
    apiVersion: body.api_version,
    authorizationEndpoint: body.authorization_endpoint,
    tokenEndpoint: body.token_endpoint.replace(/\/+$/, ''),
  }
  const optional: Partial<Info> = {
    name: defined(body.name),
    build: defined(body.build),
    description: defined(body.description),
    minCliVersion: defined(body.min_cli_version),
    routingEndpoint: defined(body.routing_endpoint),
    dopplerLoggingEndpoint: defined(body.doppler_logging_endpoint),
    user: defined(body.user),
    routerUrl: body.x_cfctl_router_url,
  }
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value
  }
  return info
}

export function toInstances(body: z.infer<typeof InstancesBody>): Map<number, AppInstance> {
  const entries = Object.entries(body)
    .map(([key, raw]) => [Number.parseInt(key, 10), raw] as const)
    .sort((a, b) => a[0] - b[0])
  const instances = new Map<number, AppInstance>()
  for (const [index, raw] of entries) {
    const instance: AppInstance = { state: raw.state }
    if (typeof raw.since === 'number') instance.since = Math.round(raw.since * 1000)
    if (typeof raw.uptime === 'number') instance.uptime = raw.uptime
    if (typeof raw.details === 'string') instance.details = raw.details
    instances.set(index, instance)
  }
  return instances
}

export function toFeatureFlags(body: z.infer<typeof FeatureFlagsBody>): FeatureFlag[] {
  return body.map((flag) => ({ name: flag.name, enabled: flag.enabled }))
}

export function toBackendsCapacity(body: z.infer<typeof BackendsCapacityBody>): BackendsCapacity {
  const one = (b: z.infer<typeof BackendsCapacityBody>['dea']): BackendCapacity => ({
    nodes: b.nodes,
    nodesUp: b.nodes_up,
    memoryMb: { total: b.memory_mb.total, used: b.memory_mb.used },
    diskMb: { total: b.disk_mb.total, used: b.disk_mb.used },
    containers: { total: b.containers.total, used: b.containers.used },
  })
  return { dea: one(body.dea), diego: one(body.diego) }
}
