// The pace of a migration as the dashboard shows it: starts over the last rate period against the limit,
// a sparkline of starts over the last few periods, the time left, and the steps `+` and `-` move the limit by.
import { expectedDuration } from '../../core/migration/plan.js'
import { parseRate, type Rate } from '../../core/migration/rate.js'

/** The limits `+` and `-` step through, in starts per minute; above the last one comes "no limit". */
export const RATE_LADDER_PER_MIN = [1, 2, 3, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1200, 3000] as const

/** Buckets in the sparkline, and how many rate periods they cover together. */
export const SPARK_BUCKETS = 24
const SPARK_PERIODS = 4
/** The window of a migration without a rate limit. */
const DEFAULT_PERIOD_MS = 60_000

function perMinute(rate: Rate): number {
  return (rate.count * 60_000) / rate.periodMs
}

/**
 * The limit one step faster (`+1`) or slower (`-1`) than `current` (`10/min`, or null for none). Undefined
 * when there is no further step: already without a limit, or already at the slowest.
 */
export function nextRate(current: string | null, direction: 1 | -1): string | null | undefined {
  if (current === null) {
    return direction > 0 ? undefined : `${RATE_LADDER_PER_MIN[RATE_LADDER_PER_MIN.length - 1]}/min`
  }
  const now = perMinute(parseRate(current))
  if (direction > 0) {
    const faster = RATE_LADDER_PER_MIN.find((n) => n > now)
    return faster === undefined ? null : `${faster}/min`
  }
  const slower = [...RATE_LADDER_PER_MIN].reverse().find((n) => n < now)
  return slower === undefined ? undefined : `${slower}/min`
}

export interface PaceView {
  /** Starts over the last period, in the limit's unit: `9/min`. */
  now: string
  /** The limit, or null for none. */
  limit: string | null
  spark: number[]
  /** The sparkline's top: the limit's starts per bucket, or the busiest bucket when higher. */
  sparkMax: number
  /** Time left at the observed pace (bounded by the limit), or the plan's estimate before there is one. */
  etaMs: number | null
}

const UNIT_NAME: Record<number, string> = { 1000: 'sec', 60000: 'min', 3600000: 'hour' }

/**
 * `starts` are the times steps started, oldest first. `left` counts the steps not yet settled (pending and
 * in flight); `started` those of them with running apps, for the plan's estimate.
 */
export function paceOf(
  starts: readonly number[],
  now: number,
  settings: { rate: string | null; maxInFlight: number },
  left: { steps: number; started: number },
): PaceView {
  const rate = settings.rate === null ? null : parseRate(settings.rate)
  const periodMs = rate?.periodMs ?? DEFAULT_PERIOD_MS
  const unit = UNIT_NAME[periodMs] ?? `${periodMs}ms`
  const recent = countSince(starts, now - periodMs)
  const bucketMs = (periodMs * SPARK_PERIODS) / SPARK_BUCKETS
  const spark = new Array<number>(SPARK_BUCKETS).fill(0)
  const from = now - bucketMs * SPARK_BUCKETS
  for (let i = firstAfter(starts, from); i < starts.length; i++) {
    const bucket = Math.floor((starts[i]! - from) / bucketMs)
    if (bucket >= 0 && bucket < SPARK_BUCKETS) spark[bucket]!++
  }
  const limitPerBucket = rate ? (rate.count * bucketMs) / rate.periodMs : 0
  const sparkMax = Math.max(limitPerBucket, ...spark, 1)
  let etaMs: number | null = null
  if (left.steps === 0) etaMs = 0
  else if (recent > 0) {
    const observedPerMs = recent / periodMs
    const limitPerMs = rate ? rate.count / rate.periodMs : Number.POSITIVE_INFINITY
    etaMs = left.steps / Math.min(observedPerMs, limitPerMs)
  } else
    etaMs = expectedDuration({ apps: left.steps, started: left.started }, { rate, maxInFlight: settings.maxInFlight })
  return { now: `${recent}/${unit}`, limit: rate?.text ?? null, spark, sparkMax, etaMs }
}

/** Index of the first value above `from` in an ascending list. */
function firstAfter(sorted: readonly number[], from: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]! > from) hi = mid
    else lo = mid + 1
  }
  return lo
}

function countSince(sorted: readonly number[], from: number): number {
  return sorted.length - firstAfter(sorted, from)
}

/** How far back the store must keep start times for paceOf. */
export function paceHorizonMs(rate: string | null): number {
  const periodMs = rate === null ? DEFAULT_PERIOD_MS : parseRate(rate).periodMs
  return periodMs * SPARK_PERIODS
}
