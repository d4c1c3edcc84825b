// isAppResource stands in for AppResource.safeParse on the list path: it must answer the same for
// every value, or a list would take (or refuse) what a single GET refuses (or takes).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isAppResource } from '../../../src/core/cc/app-check.js'
import { AppResource } from '../../../src/core/cc/schemas.js'
import { appResource } from './support.js'

/** Values a CC's JSON might hold where a field should be, including the near misses. */
const anyJson = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom('', 'STARTED', 'STOPPED', 'started', 'guid-1', '2016-03-01T10:00:00Z'),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, -0, 1, -1, 2.5, 256, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom([], [8080], [8080, 2.5], ['8080'], {}, { a: 1 }),
)

const METADATA_KEYS = ['guid', 'url', 'created_at', 'updated_at'] as const
const ENTITY_KEYS = [
  'name',
  'space_guid',
  'stack_guid',
  'state',
  'instances',
  'memory',
  'disk_quota',
  'diego',
  'version',
  'health_check_type',
  'package_state',
  'staging_failed_reason',
  'staging_failed_description',
  'detected_buildpack',
  'docker_image',
  'enable_ssh',
  'ports',
] as const

type Mutation =
  | { at: 'metadata' | 'entity'; key: string; value: unknown; remove: boolean }
  | { at: 'root'; part: 'metadata' | 'entity'; value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    at: fc.constant('metadata' as const),
    key: fc.constantFrom(...METADATA_KEYS),
    value: anyJson,
    remove: fc.boolean(),
  }),
  fc.record({
    at: fc.constant('entity' as const),
    key: fc.constantFrom(...ENTITY_KEYS),
    value: anyJson,
    remove: fc.boolean(),
  }),
  fc.record({ at: fc.constant('root' as const), part: fc.constantFrom('metadata', 'entity'), value: anyJson }),
)

function mutate(mutations: Mutation[]): unknown {
  const resource = structuredClone(appResource()) as Record<string, Record<string, unknown>>
  for (const m of mutations) {
    if (m.at === 'root') {
      ;(resource as Record<string, unknown>)[m.part] = m.value
      continue
    }
    const part = resource[m.at]
    if (typeof part !== 'object' || part === null) continue
    if (m.remove) delete part[m.key]
    else part[m.key] = m.value
  }
  return resource
}

describe('isAppResource', () => {
  it('accepts a CC app resource as the schema does', () => {
    const resource = appResource()
    expect(AppResource.safeParse(resource).success).toBe(true)
    expect(isAppResource(resource)).toBe(true)
  })

  it('answers as AppResource.safeParse does, field by field', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const value = mutate(mutations)
        expect(isAppResource(value)).toBe(AppResource.safeParse(value).success)
      }),
      { numRuns: 5_000 },
    )
  })

  it('answers as the schema does for values that are not resources at all', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, fc.array(anyJson), fc.dictionary(fc.string(), anyJson)), (value) => {
        expect(isAppResource(value)).toBe(AppResource.safeParse(value).success)
      }),
    )
  })
})
