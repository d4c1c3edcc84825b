// Durations as operators write them on a command line: `90s`, `5m`, `1h30m`, `500ms`.
import { z } from 'zod'
import { UsageError } from '../errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

const DurationText = z
  .string()
  .trim()
  .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, { error: 'must be a duration such as 500ms, 90s, 5m or 1h30m' })
  .transform((text) => {
    let ms = 0
    for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(amount) * UNIT_MS[unit!]!
    return Math.round(ms)
  })
  .refine((ms) => ms > 0, { error: 'must be longer than 0' })

/** Milliseconds; `field` names the flag in the error. */
export function parseDuration(text: string, field = 'duration'): number {
  const parsed = DurationText.safeParse(text)
  if (parsed.success) return parsed.data
  throw new UsageError(`${field} ${parsed.error.issues[0]!.message}, got "${text}"`)
}

/** `90 s`, `12 min`, `1 h 5 min`: for plans and summaries. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`
  const seconds = Math.round(ms / 1_000)
  if (seconds < 120) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 120) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`
}
