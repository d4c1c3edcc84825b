// The AppResource schema (schemas.ts) as a plain function, for the one hot path: listing every app of
// a large foundation runs it on 50,000 resources, where zod's parse costs about as much as the whole
// page's JSON.parse. It answers exactly what `AppResource.safeParse(raw).success` answers (a property
// test holds the two together); a resource it rejects is parsed again with zod, which names the field.
// Keep it in step with AppEntity and Metadata: a field added there must be added here.
import type { AppResource } from './schemas.js'

/** True when `raw` passes the AppResource schema. Reads only; zod's output is `raw` minus unknown keys. */
export function isAppResource(raw: unknown): raw is AppResource {
  if (!isObject(raw)) return false
  const { metadata, entity } = raw
  if (!isObject(metadata) || !isObject(entity)) return false
  return (
    typeof metadata.guid === 'string' &&
    metadata.guid.length >= 1 &&
    typeof metadata.url === 'string' &&
    typeof metadata.created_at === 'string' &&
    optionalString(metadata.updated_at) &&
    typeof entity.name === 'string' &&
    typeof entity.space_guid === 'string' &&
    optionalString(entity.stack_guid) &&
    (entity.state === 'STARTED' || entity.state === 'STOPPED') &&
    count(entity.instances) &&
    count(entity.memory) &&
    count(entity.disk_quota) &&
    typeof entity.diego === 'boolean' &&
    optionalString(entity.version) &&
    optionalString(entity.health_check_type) &&
    optionalString(entity.package_state) &&
    optionalString(entity.staging_failed_reason) &&
    optionalString(entity.staging_failed_description) &&
    optionalString(entity.detected_buildpack) &&
    optionalString(entity.docker_image) &&
    (entity.enable_ssh === undefined || entity.enable_ssh === null || typeof entity.enable_ssh === 'boolean') &&
    (entity.ports === undefined ||
      entity.ports === null ||
      (Array.isArray(entity.ports) && entity.ports.every(integer)))
  )
}

/** What z.object takes: any non-null object that is not an array. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** z.string().nullable().optional() */
function optionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string'
}

/** z.number().int(): zod 4's int is a safe integer. */
function integer(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/** z.number().int().nonnegative() */
function count(value: unknown): boolean {
  return integer(value) && (value as number) >= 0
}
