// The CC v2 responses cfctl reads, as the API documents them (apidocs.cloudfoundry.org, v2). Only the
// fields cfctl uses are declared: zod drops the rest, so a CC that adds fields (or renders unused ones
// as null) still parses, and one that lacks a field cfctl needs fails naming that field.
import { z } from 'zod'

/** `metadata` of every v2 resource. CC leaves `updated_at` null until the first update. */
export const Metadata = z.object({
  guid: z.string().min(1),
  url: z.string(),
  created_at: z.string(),
  updated_at: z.string().nullable().optional(),
})
export type Metadata = z.infer<typeof Metadata>

/** A v2 resource: `{metadata, entity}` with the given entity. */
export function resourceSchema<E extends z.ZodType>(entity: E) {
  return z.object({ metadata: Metadata, entity })
}

/**
 * The paginated envelope. Resources are read as unknown here and parsed one by one with the caller's
 * schema, so a failure can name its index in the page.
 */
export const PageEnvelope = z.object({
  total_results: z.number().int().nonnegative(),
  total_pages: z.number().int().nonnegative(),
  prev_url: z.string().nullable(),
  next_url: z.string().nullable(),
  resources: z.array(z.unknown()),
})
export type PageEnvelope = z.infer<typeof PageEnvelope>

/** A CC v2 error body, as cloud_controller_ng's ErrorHasher renders it. */
export const ErrorBody = z.object({
  code: z.number().int(),
  description: z.string(),
  error_code: z.string(),
})

export const AppState = z.enum(['STARTED', 'STOPPED'])

export const AppEntity = z.object({
  name: z.string(),
  space_guid: z.string(),
  stack_guid: z.string().nullable().optional(),
  state: AppState,
  instances: z.number().int().nonnegative(),
  memory: z.number().int().nonnegative(),
  disk_quota: z.number().int().nonnegative(),
  // The whole point of cfctl; a CC without it (before API 2.33) cannot select backends at all.
  diego: z.boolean(),
  version: z.string().nullable().optional(),
  health_check_type: z.string().nullable().optional(),
  package_state: z.string().nullable().optional(),
  // Set while package_state is FAILED: the CC's error name without 'CF-' (StagingError, NoAppDetectedError…).
  staging_failed_reason: z.string().nullable().optional(),
  staging_failed_description: z.string().nullable().optional(),
  detected_buildpack: z.string().nullable().optional(),
  docker_image: z.string().nullable().optional(),
  enable_ssh: z.boolean().nullable().optional(),
  ports: z.array(z.number().int()).nullable().optional(),
})
export const AppResource = resourceSchema(AppEntity)
export type AppResource = z.infer<typeof AppResource>

export const OrgEntity = z.object({
  name: z.string(),
  status: z.string().nullable().optional(),
  quota_definition_guid: z.string().nullable().optional(),
})
export const OrgResource = resourceSchema(OrgEntity)
export type OrgResource = z.infer<typeof OrgResource>

export const SpaceEntity = z.object({
  name: z.string(),
  organization_guid: z.string(),
})
export const SpaceResource = resourceSchema(SpaceEntity)
export type SpaceResource = z.infer<typeof SpaceResource>

export const DomainEntity = z.object({ name: z.string() })
export const DomainResource = resourceSchema(DomainEntity)

/**
 * A route of `/v2/apps/:guid/routes`. With inline-relations-depth=1 the CC puts the domain resource
 * under `domain`; without it only `domain_url` (/v2/domains/:guid or /v2/shared_domains/:guid).
 * `path` came with API 2.36; older CCs have none, which is the empty path.
 */
export const RouteEntity = z.object({
  host: z.string(),
  path: z.string().nullable().optional(),
  domain_guid: z.string(),
  domain_url: z.string().optional(),
  domain: DomainResource.optional(),
})
export const RouteResource = resourceSchema(RouteEntity)
export type RouteResource = z.infer<typeof RouteResource>

/**
 * An event of `GET /v2/events` (cloud_controller_ng 067f553, event.rb's export_attributes; an
 * audit.app.update carries `metadata.request`, the app update's request fields with secrets censored).
 */
export const EventEntity = z.object({
  type: z.string(),
  actor: z.string(),
  actor_type: z.string(),
  actor_name: z.string().nullable().optional(),
  actee: z.string(),
  actee_type: z.string(),
  actee_name: z.string().nullable().optional(),
  timestamp: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  space_guid: z.string().nullable().optional(),
  organization_guid: z.string().nullable().optional(),
})
export const EventResource = resourceSchema(EventEntity)
export type EventResource = z.infer<typeof EventResource>

/** `GET /v2/info`. Only the endpoints and the API version are required; the rest varies by CC. */
export const InfoBody = z.object({
  name: z.string().nullable().optional(),
  build: z.string().nullable().optional(),
  support: z.string().nullable().optional(),
  version: z.number().nullable().optional(),
  description: z.string().nullable().optional(),
  authorization_endpoint: z.string().min(1),
  token_endpoint: z.string().min(1),
  api_version: z.string().min(1),
  min_cli_version: z.string().nullable().optional(),
  min_recommended_cli_version: z.string().nullable().optional(),
  routing_endpoint: z.string().nullable().optional(),
  doppler_logging_endpoint: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  // An extension of the embedded foundation: where its router listens.
  x_cfctl_router_url: z.string().optional(),
})

/** `GET /v2/apps/:guid/instances`: index → state. `since` is seconds since the epoch, with a fraction. */
export const InstancesBody = z.record(
  z.string().regex(/^\d+$/, 'an instance index (digits)'),
  z.object({
    state: z.string(),
    since: z.number().nullable().optional(),
    uptime: z.number().nullable().optional(),
    details: z.string().nullable().optional(),
  }),
)

/** `GET /v2/config/feature_flags`: a plain array, not an envelope. */
export const FeatureFlagsBody = z.array(
  z.object({
    name: z.string(),
    enabled: z.boolean(),
    error_message: z.string().nullable().optional(),
    url: z.string().optional(),
  }),
)

const Used = z.object({ total: z.number().nonnegative(), used: z.number().nonnegative() })
const BackendCapacityBody = z.object({
  nodes: z.number().int().nonnegative(),
  nodes_up: z.number().int().nonnegative(),
  memory_mb: Used,
  disk_mb: Used,
  /** `total` null: no container limit (the DEAs). */
  containers: z.object({ total: z.number().nonnegative().nullable(), used: z.number().nonnegative() }),
})

/** `GET /v2/x-cfctl/backends`: an extension only the embedded foundation serves. */
export const BackendsCapacityBody = z.object({ dea: BackendCapacityBody, diego: BackendCapacityBody })

/** UAA's token response (RFC 6749 §5.1 plus UAA's `scope` and `jti`). */
export const TokenBody = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().nonnegative(),
  scope: z.string().optional().default(''),
  jti: z.string().optional(),
})

/** UAA's error body (RFC 6749 §5.2). */
export const UaaErrorBody = z.object({
  error: z.string(),
  error_description: z.string().optional(),
})
