// What pickJson (src/core/cc/pick-json.ts) must answer, for its tests.
import type { Pick } from '../../../src/core/cc/pick-json.js'

/** What pickJson must answer: JSON.parse, then the picked parts. */
export function reference(value: unknown, pick: Pick): unknown {
  if (pick === true) return value
  if (Array.isArray(pick)) return Array.isArray(value) ? value.map((v) => reference(v, pick[0] as Pick)) : value
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, sub] of Object.entries(pick as Record<string, Pick>)) {
    if (Object.hasOwn(value, key)) out[key] = reference((value as Record<string, unknown>)[key], sub)
  }
  return out
}
