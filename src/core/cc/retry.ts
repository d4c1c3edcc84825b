// When to try a request again and how long to wait first. Pure: the transport asks, the clock sleeps.

/** Statuses that mean "not now" rather than "no": rate limited, or a gateway or CC that is restarting. */
export const RETRIABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

/**
 * CC errors sent with a retriable status that are a verdict, not a "not now": asking again gets the same
 * answer, four times slower. The CC answers 504 CF-StagingTimeExpired (170007) for an app whose staging
 * timed out, on every read of its instances until it is staged again. (Its other 502/503/504 errors,
 * CF-StagerUnavailable, CF-InstancesUnavailable and the like, are passing and stay retried.)
 */
const FINAL_ERROR_CODES: ReadonlySet<string> = new Set(['CF-StagingTimeExpired'])

/** Whether an answer with this status and CC error code is final, whatever its status says. */
export function isFinalAnswer(status: number, errorCode: string | undefined): boolean {
  return status >= 500 && errorCode !== undefined && FINAL_ERROR_CODES.has(errorCode)
}

/** The `error_code` of a CC v2 error body, when the text is one. */
export function ccErrorCodeOf(text: string): string | undefined {
  if (!text.startsWith('{') || !text.includes('"error_code"')) return undefined
  try {
    const body: unknown = JSON.parse(text)
    if (body && typeof body === 'object' && 'error_code' in body && typeof body.error_code === 'string')
      return body.error_code
  } catch {
    // Not JSON: not the CC's error.
  }
  return undefined
}

/**
 * Statuses a server sends before it acts on a request (rate limited, or unavailable), so even a request
 * that is not idempotent may be sent again. 502 and 504 come from a gateway that may already have
 * passed the request on.
 */
export const NOT_PROCESSED_STATUSES: ReadonlySet<number> = new Set([429, 503])

/** Transport failures worth another try: the connection broke, was refused, or went quiet. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
])

/** Of those, the ones where the request cannot have reached the server: no connection was made. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
])

export function isTransientNetworkCode(code: string): boolean {
  return TRANSIENT_CODES.has(code)
}

export function isNotSentNetworkCode(code: string): boolean {
  return NOT_SENT_CODES.has(code)
}

export interface BackoffPolicy {
  /** The first retry waits about this long. */
  baseMs: number
  /** No wait is longer than this (Retry-After aside). */
  maxMs: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 250, maxMs: 8_000 })

/**
 * The wait before retry number `retry` (1 for the first): exponential, capped, with "equal jitter"
 * (half fixed, half random) so that a fleet of clients hit by one outage do not come back in step,
 * while none comes back at once.
 */
export function backoffDelay(retry: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1))
  const r = Math.min(1, Math.max(0, random()))
  return Math.round(ceiling / 2 + (ceiling / 2) * r)
}

/**
 * A Retry-After header in ms from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined) return undefined
  const text = raw.trim()
  if (text === '') return undefined
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10) * 1000
  // Only the date forms HTTP allows, not whatever Date.parse would guess at.
  if (!/^[A-Za-z]{3},? /.test(text) && !/^[A-Za-z]+, \d/.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
