// One keep-alive connection pool to one origin, and the retry loop around each request: transient
// statuses and broken connections are tried again after a jittered, growing wait (or the server's
// Retry-After), slept on the injected clock. Requests that are not idempotent are sent again only when
// the server cannot have acted on them. Nothing here logs or reports a header or a body.
import type { IncomingHttpHeaders } from 'node:http'
import { Pool } from 'undici'
import { type Clock, RealClock } from '../../clock.js'
import { CfNetworkError } from './errors.js'
import {
  backoffDelay,
  ccErrorCodeOf,
  isFinalAnswer,
  isNotSentNetworkCode,
  isTransientNetworkCode,
  NOT_PROCESSED_STATUSES,
  parseRetryAfter,
  RETRIABLE_STATUSES,
} from './retry.js'

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE'

export interface TransportOptions {
  skipSslValidation?: boolean
  /** Headers timeout and body (idle) timeout of each attempt, and the connect timeout. */
  timeoutMs?: number
  /** Tries after the first. */
  retries?: number
  /** Keep-alive connections the pool may open. */
  connections?: number
  clock?: Clock
  random?: () => number
  userAgent?: string
  /** A Retry-After longer than this is not waited for: the request fails with the server's answer. */
  maxRetryAfterMs?: number
  /** Called after each attempt, for tracing; never sees headers or bodies. */
  onAttempt?: (event: AttemptEvent) => void
}

export interface AttemptEvent {
  method: HttpMethod
  path: string
  attempt: number
  /** The status, or undefined when the attempt failed in the network. */
  status: number | undefined
  /** The network error's code, when it failed there. */
  error?: string
  durationMs: number
  /** The wait before the next attempt, when there is one. */
  retryInMs?: number
}

export interface HttpRequest {
  method: HttpMethod
  /** Path and query, relative to the transport's base URL. */
  path: string
  headers?: Record<string, string>
  body?: string
  /** Safe to send twice (RFC 9110 §9.2.2). Defaults to true for GET, PUT and DELETE, false for POST. */
  idempotent?: boolean
  /** Keep a 2xx answer's body as bytes (`HttpAnswer.bytes`) instead of decoding it to text. */
  bytes?: boolean
}

export interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The body decoded as UTF-8; empty when it is in `bytes`. */
  text: string
  /**
   * The body of a 2xx answer to a request that asked for bytes: a view of a buffer the transport lends, valid
   * until `release` is called, which the caller must do once it is done with them.
   */
  bytes?: Buffer
  release?: () => void
  attempts: number
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_RETRIES = 4
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000

// undici's errors for a misuse of its API: bugs, to be thrown as they are, never retried or dressed up.
const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])

export class Transport {
  readonly origin: string
  private readonly basePath: string
  private readonly pool: Pool
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly clock: Clock
  private readonly random: () => number
  private readonly userAgent: string
  private readonly maxRetryAfterMs: number
  private readonly onAttempt: ((event: AttemptEvent) => void) | undefined
  private readonly bodies = new BodyBuffers()

  constructor(baseUrl: string, options: TransportOptions = {}) {
    const url = parseBaseUrl(baseUrl)
    this.origin = url.origin
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs')
    this.retries = nonNegativeInteger(options.retries ?? DEFAULT_RETRIES, 'retries')
    this.clock = options.clock ?? new RealClock()
    this.random = options.random ?? Math.random
    this.userAgent = options.userAgent ?? `cfctl (node ${process.version})`
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS
    this.onAttempt = options.onAttempt
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? 8,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: {
        timeout: this.timeoutMs,
        // TLS verification stays on unless the operator asked otherwise for this target.
        rejectUnauthorized: options.skipSslValidation !== true,
      },
    })
  }

  /** The full URL of a path, for messages. */
  urlOf(path: string): string {
    return `${this.origin}${this.basePath}${stripQuery(path)}`
  }

  /**
   * Sends the request, trying again while the answer or the failure is transient and tries remain.
   * Resolves with the last answer, whatever its status; rejects with a CfNetworkError when no answer came.
   */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    const idempotent = request.idempotent ?? request.method !== 'POST'
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
      ...request.headers,
    }
    for (let attempt = 1; ; attempt++) {
      const started = this.clock.now()
      const canRetry = attempt <= this.retries
      let answer: HttpAnswer
      try {
        answer = await this.attempt(request, headers, attempt)
      } catch (error) {
        const code = errorCode(error)
        if (code !== undefined && USAGE_ERROR_CODES.has(code)) throw error
        const transient = code !== undefined && (idempotent ? isTransientNetworkCode(code) : isNotSentNetworkCode(code))
        const wait = canRetry && transient ? backoffDelay(attempt, this.random) : undefined
        this.report(request, attempt, undefined, started, wait, code ?? 'unknown')
        if (wait === undefined) {
          throw new CfNetworkError({
            method: request.method,
            url: this.urlOf(request.path),
            reason: code ?? 'unknown',
            detail: describeNetworkError(error, code, this.timeoutMs),
            attempts: attempt,
            cause: error,
          })
        }
        await this.clock.sleep(wait)
        continue
      }
      const retriable = idempotent ? RETRIABLE_STATUSES : NOT_PROCESSED_STATUSES
      let wait: number | undefined
      if (canRetry && retriable.has(answer.status) && !isFinalAnswer(answer.status, ccErrorCodeOf(answer.text))) {
        const retryAfter = parseRetryAfter(answer.headers['retry-after'], this.clock.now())
        if (retryAfter === undefined) wait = backoffDelay(attempt, this.random)
        else if (retryAfter <= this.maxRetryAfterMs) wait = retryAfter
      }
      this.report(request, attempt, answer.status, started, wait)
      if (wait === undefined) return answer
      await this.clock.sleep(wait)
    }
  }

  async close(): Promise<void> {
    if (!this.pool.closed && !this.pool.destroyed) await this.pool.close()
  }

  private async attempt(request: HttpRequest, headers: Record<string, string>, attempt: number): Promise<HttpAnswer> {
    const response = await this.pool.request({
      method: request.method,
      path: `${this.basePath}${request.path}`,
      headers: request.body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: request.body ?? null,
      idempotent: request.idempotent ?? request.method !== 'POST',
    })
    // The body is read in full even for an answer that will be retried, so the connection can be reused.
    const status = response.statusCode
    if (request.bytes === true && status >= 200 && status < 300) {
      const { bytes, release } = await this.bodies.read(response.body, Number(response.headers['content-length']))
      return { status, headers: response.headers, text: '', bytes, release, attempts: attempt }
    }
    const text = await response.body.text()
    return { status, headers: response.headers, text, attempts: attempt }
  }

  private report(
    request: HttpRequest,
    attempt: number,
    status: number | undefined,
    started: number,
    retryInMs: number | undefined,
    error?: string,
  ): void {
    if (!this.onAttempt) return
    const event: AttemptEvent = {
      method: request.method,
      path: stripQuery(request.path),
      attempt,
      status,
      durationMs: this.clock.now() - started,
    }
    if (error !== undefined) event.error = error
    if (retryInMs !== undefined) event.retryInMs = retryInMs
    this.onAttempt(event)
  }
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new RangeError(`"${baseUrl}" is not a URL; expected e.g. https://api.example.com`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RangeError(`"${baseUrl}" is not an http(s) URL; expected e.g. https://api.example.com`)
  }
  if (url.username || url.password) throw new RangeError('the API URL must not carry credentials')
  return url
}

function stripQuery(path: string): string {
  const mark = path.indexOf('?')
  return mark < 0 ? path : path.slice(0, mark)
}

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code
  return undefined
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/

/** One line on what happened, in words an operator can act on. */
function describeNetworkError(error: unknown, code: string | undefined, timeoutMs: number): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the foundation up, and is this the right port?)'
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'the connection was closed before the answer was complete'
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection within ${timeoutMs} ms`
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no answer within ${timeoutMs} ms`
    case 'UND_ERR_BODY_TIMEOUT':
      return `the answer stalled for ${timeoutMs} ms`
    case 'ENOTFOUND':
      return 'the host name does not resolve'
    case 'EAI_AGAIN':
      return 'the host name could not be resolved (DNS did not answer)'
    default:
      if (code !== undefined && TLS_CODES.test(code)) {
        return `the TLS certificate was not accepted (${code}); use --skip-ssl-validation only for a foundation you trust`
      }
      return `${code ?? 'network error'}: ${error instanceof Error ? error.message : String(error)}`
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return value
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${value}`)
  return value
}

/** Room kept for a body read as bytes: a page of 100 apps is about 146 KB. */
const BODY_BUFFER_BYTES = 256 * 1024
/** Buffers kept for reuse: as many bodies as a list reads at once, and some. */
const BODY_BUFFERS_KEPT = 16

/**
 * The buffers bodies read as bytes are copied into, lent and given back. A long list read page by page
 * then reuses a few buffers instead of leaving a new one per page (and the chunks it was read in) for the
 * garbage collector, which lets hundreds pile up in the allocator before it frees them.
 */
class BodyBuffers {
  private readonly free: Buffer[] = []

  async read(body: AsyncIterable<Buffer>, declared: number): Promise<{ bytes: Buffer; release: () => void }> {
    let buffer = this.take(Number.isInteger(declared) && declared > 0 ? declared : 0)
    let length = 0
    try {
      for await (const chunk of body) {
        if (length + chunk.length > buffer.length) {
          const bigger = this.take(Math.max(buffer.length * 2, length + chunk.length))
          buffer.copy(bigger, 0, 0, length)
          this.give(buffer)
          buffer = bigger
        }
        chunk.copy(buffer, length)
        length += chunk.length
      }
    } catch (error) {
      this.give(buffer)
      throw error
    }
    const held = buffer
    let released = false
    const release = () => {
      if (released) return
      released = true
      this.give(held)
    }
    return { bytes: buffer.subarray(0, length), release }
  }

  private take(size: number): Buffer {
    const at = this.free.findIndex((buffer) => buffer.length >= size)
    if (at >= 0) return this.free.splice(at, 1)[0]!
    return Buffer.allocUnsafeSlow(Math.max(size, BODY_BUFFER_BYTES))
  }

  private give(buffer: Buffer): void {
    if (this.free.length < BODY_BUFFERS_KEPT) this.free.push(buffer)
  }
}
