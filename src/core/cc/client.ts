// The Cloud Controller v2 client: typed calls over one keep-alive pool per target, every response parsed
// with its schema where it enters, CC errors turned into CfApiError, and the cf CLI's token rule (on 401
// CF-InvalidAuthToken, refresh once and try again). Lists read page 1, then the other pages side by side.
import type { z } from 'zod'
import type { Clock } from '../../clock.js'
import { isAppResource } from './app-check.js'
import { CfApiError, CfAuthError, CfSchemaError } from './errors.js'
import {
  type App,
  type AppInstance,
  type AppRoute,
  type AppState,
  type BackendsCapacity,
  type FeatureFlag,
  type Info,
  type Org,
  type Space,
  toApp,
  toBackendsCapacity,
  toFeatureFlags,
  toInfo,
  toInstances,
  toOrg,
  toSpace,
} from './model.js'
import { type Pick, pickJson, pickOf } from './pick-json.js'
import { type AppQuery, appFilters, filter, type ListQuery, matchesLocally, nameFilters, pagePath } from './query.js'
import { excerpt, redact } from './redact.js'
import {
  AppResource,
  BackendsCapacityBody,
  DomainResource,
  ErrorBody,
  EventResource,
  FeatureFlagsBody,
  InfoBody,
  InstancesBody,
  OrgResource,
  PageEnvelope,
  RouteResource,
  SpaceResource,
} from './schemas.js'
import { type AttemptEvent, type HttpAnswer, type HttpMethod, Transport } from './transport.js'

export interface TokenProvider {
  /** The current access token (raw JWT, no 'bearer ' prefix). */
  accessToken(): Promise<string>
  /**
   * A new one (refresh-token grant). Called at most once per request, when the CC answers 401 with
   * code 1000 CF-InvalidAuthToken; the request is then sent again.
   */
  refresh(): Promise<string>
}

export interface CcClientOptions {
  /** The CC's URL, e.g. https://api.example.com. */
  apiUrl: string
  /** Where tokens come from; without it requests go without one (only /v2/info answers then). */
  auth?: TokenProvider
  skipSslValidation?: boolean
  /** Headers and body timeout of each attempt. Default 30,000 ms. */
  timeoutMs?: number
  /** Tries after the first for transient failures. Default 4. */
  retries?: number
  /** Pages of one list fetched at the same time. Default 8. */
  pageConcurrency?: number
  /**
   * Keep-alive connections to the CC, opened as requests need them. Default one more than pageConcurrency;
   * a migration with many apps in flight wants more (RUNNER_CC_CONNECTIONS), or its steps queue for one.
   */
  connections?: number
  /** For the waits between tries. */
  clock?: Clock
  /** For the jitter of those waits. */
  random?: () => number
  userAgent?: string
  /** Results per page; CC caps it at 100. */
  resultsPerPage?: number
  /** A Retry-After longer than this is not waited for. Default 120,000 ms. */
  maxRetryAfterMs?: number
  /** Called after each HTTP attempt, for tracing; sees method, path, status and timings only. */
  onAttempt?: (event: AttemptEvent) => void
  /**
   * Called with each warning the CC sends in `X-Cf-Warnings` (deprecations, a broker's notes), decoded,
   * once per client for each distinct text: a warning repeated on every page of a list is shown once.
   */
  onWarning?: (warning: string) => void
}

export interface AppPatch {
  diego?: boolean
  state?: AppState
  instances?: number
}

export const DEFAULT_PAGE_CONCURRENCY = 8
export const MAX_RESULTS_PER_PAGE = 100
/** When a list grows while it is walked, this many pages past the first total are followed at most. */
const MAX_EXTRA_PAGES = 1_000

interface CallOptions {
  body?: unknown
  /** Send the access token (default). /v2/info needs none. */
  auth?: boolean
  /** How the request is named in errors; default method and path. */
  label?: string
  /** Read only these parts of the answer's JSON (see pick-json.ts); default all of it. */
  pick?: Pick
}

export class CcClient {
  readonly apiUrl: string
  private readonly transport: Transport
  private readonly auth: TokenProvider | undefined
  private readonly pageConcurrency: number
  /** Lowered when the CC states a smaller maximum (see pageSizeLimit). */
  private resultsPerPage: number
  private readonly onWarning: ((warning: string) => void) | undefined
  private readonly warned = new Set<string>()
  private refreshing: Promise<string> | undefined

  constructor(options: CcClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '')
    this.auth = options.auth
    this.pageConcurrency = options.pageConcurrency ?? DEFAULT_PAGE_CONCURRENCY
    if (!Number.isInteger(this.pageConcurrency) || this.pageConcurrency < 1) {
      throw new RangeError(`pageConcurrency must be an integer ≥ 1, got ${options.pageConcurrency}`)
    }
    this.resultsPerPage = options.resultsPerPage ?? MAX_RESULTS_PER_PAGE
    this.onWarning = options.onWarning
    if (
      !Number.isInteger(this.resultsPerPage) ||
      this.resultsPerPage < 1 ||
      this.resultsPerPage > MAX_RESULTS_PER_PAGE
    ) {
      throw new RangeError(
        `resultsPerPage must be an integer from 1 to ${MAX_RESULTS_PER_PAGE}, got ${options.resultsPerPage}`,
      )
    }
    this.transport = new Transport(this.apiUrl, {
      skipSslValidation: options.skipSslValidation,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      // By default one more than the pages in flight, so a lookup made during a list walk does not queue behind it.
      connections: this.connections(options.connections),
      clock: options.clock,
      random: options.random,
      userAgent: options.userAgent,
      maxRetryAfterMs: options.maxRetryAfterMs,
      onAttempt: options.onAttempt,
    })
  }

  private connections(wanted: number | undefined): number {
    if (wanted === undefined) return this.pageConcurrency + 1
    if (!Number.isInteger(wanted) || wanted < 1)
      throw new RangeError(`connections must be an integer ≥ 1, got ${wanted}`)
    return wanted
  }

  /** `GET /v2/info`: the API version and the UAA endpoints. Needs no token. */
  async info(): Promise<Info> {
    return toInfo(await this.get('/v2/info', InfoBody, { auth: false }))
  }

  /** Every app the token may see that matches the query, in the CC's order. */
  async apps(query: AppQuery = {}): Promise<App[]> {
    const q = appFilters(query)
    const local = (apps: App[]) => (query.state === undefined ? apps : apps.filter((a) => matchesLocally(a, query)))
    if (query.names === undefined) return local(await this.read('/v2/apps', APP_READER, { q }))
    if (query.names.length === 0) return []
    const batches = await Promise.all(
      nameFilters(query.names).map((byName) => this.read('/v2/apps', APP_READER, { q: [...q, byName] })),
    )
    return local(dedupe(batches.flat()))
  }

  async app(guid: string): Promise<App> {
    return toApp(await this.get(`/v2/apps/${segment(guid)}`, AppResource))
  }

  /** Changes an app. Every field is an absolute value, so sending the same PUT twice is harmless. */
  async updateApp(guid: string, patch: AppPatch): Promise<App> {
    const body = appPatchBody(patch)
    const resource = await this.call('PUT', `/v2/apps/${segment(guid)}`, AppResource, { body })
    return toApp(resource)
  }

  /** `GET /v2/apps/:guid/instances`: each instance's state, by index. */
  async appInstances(guid: string): Promise<Map<number, AppInstance>> {
    return toInstances(await this.get(`/v2/apps/${segment(guid)}/instances`, InstancesBody))
  }

  /** The app's routes with their domain names: inlined by the CC, or looked up once per domain. */
  async appRoutes(guid: string): Promise<AppRoute[]> {
    const routes = await this.list(`/v2/apps/${segment(guid)}/routes`, RouteResource, {
      params: { 'inline-relations-depth': 1, 'include-relations': 'domain' },
    })
    const lookups = new Map<string, Promise<string>>()
    const domainName = (route: RouteResource): Promise<string> => {
      const inline = route.entity.domain?.entity.name
      if (inline !== undefined) return Promise.resolve(inline)
      const url = route.entity.domain_url ?? `/v2/domains/${segment(route.entity.domain_guid)}`
      let lookup = lookups.get(url)
      if (!lookup) {
        lookup = this.get(url, DomainResource).then((d) => d.entity.name)
        lookups.set(url, lookup)
      }
      return lookup
    }
    return Promise.all(
      routes.map(async (route) => ({
        host: route.entity.host,
        domain: await domainName(route),
        path: route.entity.path ?? '',
      })),
    )
  }

  async organizations(query: { name?: string } = {}): Promise<Org[]> {
    const q = query.name === undefined ? [] : [filter('name', query.name)]
    return (await this.list('/v2/organizations', OrgResource, { q })).map(toOrg)
  }

  async spaces(query: { name?: string; orgGuid?: string } = {}): Promise<Space[]> {
    const q: string[] = []
    if (query.name !== undefined) q.push(filter('name', query.name))
    if (query.orgGuid !== undefined) q.push(filter('organization_guid', query.orgGuid))
    return (await this.list('/v2/spaces', SpaceResource, { q })).map(toSpace)
  }

  /**
   * `GET /v2/events`, oldest first (the CC orders them by timestamp). The CC filters events on `type`,
   * `actee` and `timestamp` only (events_controller.rb); anything else is for the caller.
   */
  async events(query: { type?: string; actee?: string; since?: Date } = {}): Promise<EventResource[]> {
    const q: string[] = []
    if (query.type !== undefined) q.push(filter('type', query.type))
    if (query.actee !== undefined) q.push(filter('actee', query.actee))
    if (query.since !== undefined) q.push(`timestamp>=${query.since.toISOString()}`)
    return this.list('/v2/events', EventResource, { q })
  }

  /** `GET /v2/config/feature_flags`, e.g. whether users may select an app's backend. */
  async featureFlags(): Promise<FeatureFlag[]> {
    return toFeatureFlags(await this.get('/v2/config/feature_flags', FeatureFlagsBody))
  }

  /**
   * Capacity per backend, from `GET /v2/x-cfctl/backends`: an extension only the embedded foundation
   * serves, to admins. Undefined where it is not served (404, as on a real Cloud Foundry) or not shown
   * to this user (403): capacity is extra information, never a reason for a command to fail.
   */
  async backendsCapacity(): Promise<BackendsCapacity | undefined> {
    try {
      return toBackendsCapacity(await this.get('/v2/x-cfctl/backends', BackendsCapacityBody))
    } catch (error) {
      if (error instanceof CfApiError && (error.status === 404 || error.status === 403)) return undefined
      throw error
    }
  }

  /** One resource (or any JSON body) of the CC, parsed with `schema`. */
  get<T>(path: string, schema: z.ZodType<T>, options: { auth?: boolean } = {}): Promise<T> {
    return this.call('GET', path, schema, options)
  }

  /**
   * Every resource of a paginated list, in order. `schema` parses one element of `resources`
   * (`{metadata, entity}`: see resourceSchema). Page 1 tells how many pages there are; the rest are
   * then fetched `pageConcurrency` at a time. A resource seen twice (the list shifted while it was
   * walked) is kept once.
   */
  list<T>(path: string, schema: z.ZodType<T>, query: ListQuery = {}): Promise<T[]> {
    return this.read(path, { schema, map: (resource) => resource }, query)
  }

  /**
   * `list`, each resource handed to `map` as its page arrives: what `map` returns is all of it that outlives
   * its page, so a long list can be held as small records instead of parsed resources. Each page is read
   * from its bytes keeping only the members `schema` looks at (pickOf), plus each resource's guid: nothing
   * else of it is decoded, so a slim schema makes a cheap read of a long list.
   */
  listMapped<R, T>(path: string, schema: z.ZodType<R>, map: (resource: R) => T, query: ListQuery = {}): Promise<T[]> {
    return this.read(path, { schema, map, pick: pageOf(pickOf(schema)) }, query)
  }

  async close(): Promise<void> {
    await this.transport.close()
  }

  /** `list`, with each resource read by `reader` as its page arrives. */
  private async read<R, T>(path: string, reader: ResourceReader<R, T>, query: ListQuery): Promise<T[]> {
    const first = await this.firstPage(path, reader, query)
    const pages: PageResult<T>[] = [first]
    const totalPages = first.totalPages
    if (totalPages > 1) {
      const rest = await mapBounded(range(2, totalPages), this.pageConcurrency, (n) =>
        this.page(path, reader, query, n),
      )
      pages.push(...rest)
    }
    // Apps created during the walk push items past the last page counted at the start: follow on.
    let last = pages[pages.length - 1]!
    for (let n = Math.max(totalPages, 1) + 1; last.hasNext && n <= totalPages + MAX_EXTRA_PAGES; n++) {
      last = await this.page(path, reader, query, n)
      pages.push(last)
    }
    return dedupePages(pages)
  }

  /**
   * Page 1, at the page size the CC allows: a CC configured with a lower `max_results_per_page` answers
   * 400 CF-BadQueryParameter "results_per_page must be <= N"; the walk then asks again with N, and so
   * does every later list of this client.
   */
  private async firstPage<R, T>(path: string, reader: ResourceReader<R, T>, query: ListQuery): Promise<PageResult<T>> {
    for (;;) {
      const size = this.resultsPerPage
      try {
        return await this.page(path, reader, query, 1)
      } catch (error) {
        const limit = pageSizeLimit(error)
        if (limit === undefined || limit >= size) throw error
        // Another list of this client may have lowered it meanwhile; never raise it back.
        this.resultsPerPage = Math.min(this.resultsPerPage, limit)
      }
    }
  }

  private async page<R, T>(
    path: string,
    reader: ResourceReader<R, T>,
    query: ListQuery,
    n: number,
  ): Promise<PageResult<T>> {
    const label = `GET ${path} (page ${n})`
    const envelope = await this.call('GET', pagePath(path, query, n, this.resultsPerPage), PageEnvelope, {
      label,
      pick: reader.pick,
    })
    const { resources } = envelope
    const items: T[] = new Array(resources.length)
    const guids: (string | undefined)[] = new Array(resources.length)
    for (let i = 0; i < resources.length; i++) {
      const raw = resources[i]
      const resource =
        reader.accepts?.(raw) === true
          ? raw
          : parseBody(reader.schema, raw, 'GET', `${path} (page ${n})`, `resources[${i}]`)
      items[i] = reader.map(resource)
      guids[i] = guidOf(raw)
    }
    return { totalPages: envelope.total_pages, hasNext: envelope.next_url !== null, items, guids }
  }

  /** Sends a request with the token, refreshing it once on CF-InvalidAuthToken, and parses the answer. */
  private async call<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, options: CallOptions = {}): Promise<T> {
    const label = options.label ?? `${method} ${stripQuery(path)}`
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const useAuth = options.auth !== false && this.auth !== undefined
    let token = useAuth ? await this.auth!.accessToken() : undefined
    const bytes = options.pick !== undefined
    let answer = await this.send(method, path, body, token, bytes)
    let refreshed = false
    if (answer.status === 401 && useAuth) {
      const error = cfErrorOf(answer)
      if (error?.code === 1000) {
        token = await this.freshToken(token!)
        refreshed = true
        answer = await this.send(method, path, body, token, bytes)
      }
    }
    this.warnings(answer)
    if (answer.status === 401) throw authError(answer, label, { refreshed, hadToken: token !== undefined })
    if (answer.status < 200 || answer.status >= 300) throw apiError(answer, method, stripQuery(path))
    let json: unknown
    try {
      json = answer.bytes === undefined ? JSON.parse(answer.text) : pickJson(answer.bytes, options.pick ?? true)
    } catch {
      const text = answer.bytes === undefined ? answer.text : answer.bytes.toString('utf8', 0, 200)
      throw new CfSchemaError({
        method,
        path: labelPath(label, method),
        field: '',
        expected: `JSON, got ${text === '' ? 'an empty body' : `"${excerpt(redact(text), 80)}"`}`,
      })
    } finally {
      answer.release?.()
    }
    return parseBody(schema, json, method, labelPath(label, method))
  }

  /** Hands the answer's X-Cf-Warnings to onWarning, each distinct text once. */
  private warnings(answer: HttpAnswer): void {
    if (!this.onWarning) return
    for (const warning of cfWarnings(answer.headers['x-cf-warnings'])) {
      if (this.warned.has(warning)) continue
      this.warned.add(warning)
      this.onWarning(warning)
    }
  }

  private send(method: HttpMethod, path: string, body: string | undefined, token: string | undefined, bytes: boolean) {
    const headers: Record<string, string> = {}
    if (token !== undefined) headers.authorization = `bearer ${token}`
    return this.transport.send({ method, path, headers, body, bytes })
  }

  /**
   * A token to replace `stale`, which the CC just rejected. Requests rejected together share one
   * refresh; one rejected after another request already refreshed simply takes the new token.
   */
  private freshToken(stale: string): Promise<string> {
    const auth = this.auth!
    this.refreshing ??= (async () => {
      const current = await auth.accessToken()
      return current !== stale ? current : auth.refresh()
    })().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }
}

/** How a list reads each element of `resources`. */
interface ResourceReader<R, T> {
  schema: z.ZodType<R>
  /**
   * An exact and quicker test of `schema`, for a list that can be long. What it accepts is used as it
   * is (extra keys and all, which `map` ignores); what it rejects goes through `schema`, which names
   * the field that is wrong.
   */
  accepts?: (raw: unknown) => raw is R
  /** Applied as each page arrives, so that only what the caller keeps outlives its page. */
  map: (resource: R) => T
  /** The parts of each page to read (see pick-json.ts); without it, the whole page is parsed. */
  pick?: Pick
}

const APP_READER: ResourceReader<AppResource, App> = { schema: AppResource, accepts: isAppResource, map: toApp }

interface PageResult<T> {
  totalPages: number
  hasNext: boolean
  items: T[]
  guids: (string | undefined)[]
}

/** A page of a list, read as `resource` picks each of its resources (and every resource's guid, for dedupePages). */
function pageOf(resource: Pick): Pick {
  let withGuid = resource
  if (resource !== true && !Array.isArray(resource)) {
    const named = resource as { readonly [key: string]: Pick }
    const metadata = named.metadata
    if (metadata === undefined) withGuid = { ...named, metadata: { guid: true } }
    else if (metadata !== true && !Array.isArray(metadata))
      withGuid = { ...named, metadata: { ...metadata, guid: true } }
  }
  const envelope = pickOf(PageEnvelope) as { readonly [key: string]: Pick }
  return { ...envelope, resources: [withGuid] }
}

function dedupePages<T>(pages: readonly PageResult<T>[]): T[] {
  const seen = new Set<string>()
  const out: T[] = []
  for (const page of pages) {
    for (let i = 0; i < page.items.length; i++) {
      const guid = page.guids[i]
      if (guid !== undefined) {
        if (seen.has(guid)) continue
        seen.add(guid)
      }
      out.push(page.items[i]!)
    }
  }
  return out
}

function dedupe<T extends { guid: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>()
  const out: T[] = []
  for (const item of items) {
    if (seen.has(item.guid)) continue
    seen.add(item.guid)
    out.push(item)
  }
  return out
}

function guidOf(raw: unknown): string | undefined {
  if (raw && typeof raw === 'object' && 'metadata' in raw) {
    const metadata = raw.metadata
    if (metadata && typeof metadata === 'object' && 'guid' in metadata && typeof metadata.guid === 'string') {
      return metadata.guid
    }
  }
  return undefined
}

/** Runs `fn` over `items` with at most `limit` in flight; results in the order of `items`. Fails fast. */
async function mapBounded<I, O>(items: readonly I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const results: O[] = new Array(items.length)
  let next = 0
  let failed = false
  let failure: unknown
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++
      try {
        results[index] = await fn(items[index]!)
      } catch (error) {
        if (!failed) {
          failed = true
          failure = error
        }
      }
    }
  }
  // Every worker is awaited, so a page still in flight when another fails ends before the error is thrown.
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failed) throw failure
  return results
}

function range(from: number, to: number): number[] {
  const out: number[] = []
  for (let n = from; n <= to; n++) out.push(n)
  return out
}

/** A guid (or any caller-given value) as one path segment: it cannot add segments or a query. */
function segment(value: string): string {
  if (value === '') throw new RangeError('a guid must not be empty')
  return encodeURIComponent(value)
}

function stripQuery(path: string): string {
  const mark = path.indexOf('?')
  return mark < 0 ? path : path.slice(0, mark)
}

function labelPath(label: string, method: string): string {
  return label.startsWith(`${method} `) ? label.slice(method.length + 1) : label
}

function appPatchBody(patch: AppPatch): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (patch.diego !== undefined) {
    if (typeof patch.diego !== 'boolean') throw new RangeError(`diego must be true or false, got ${patch.diego}`)
    body.diego = patch.diego
  }
  if (patch.state !== undefined) {
    if (patch.state !== 'STARTED' && patch.state !== 'STOPPED') {
      throw new RangeError(`state must be STARTED or STOPPED, got ${patch.state}`)
    }
    body.state = patch.state
  }
  if (patch.instances !== undefined) {
    if (!Number.isInteger(patch.instances) || patch.instances < 0) {
      throw new RangeError(`instances must be an integer ≥ 0, got ${patch.instances}`)
    }
    body.instances = patch.instances
  }
  if (Object.keys(body).length === 0)
    throw new RangeError('an app update needs at least one of diego, state, instances')
  return body
}

/** Parses a body with its schema; a mismatch names the request and the first field that is wrong. */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown, method: string, path: string, prefix = ''): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues
  const first = issues[0]!
  throw new CfSchemaError({
    method,
    path,
    field: joinPath(prefix, first.path),
    expected: first.message,
    more: issues.length - 1,
  })
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out
}

/**
 * The warnings of an `X-Cf-Warnings` header: the CC escapes each with Ruby's CGI.escape (a space is '+')
 * and joins them with ',' (base_controller.rb, add_warning).
 */
export function cfWarnings(header: string | string[] | undefined): string[] {
  if (header === undefined) return []
  const out: string[] = []
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const part of line.split(',')) {
      if (part.trim() === '') continue
      let text: string
      try {
        text = decodeURIComponent(part.replaceAll('+', ' '))
      } catch {
        text = part
      }
      out.push(redact(text.trim()))
    }
  }
  return out
}

/** N of the CC's 400 CF-BadQueryParameter "results_per_page must be <= N" (paginated_collection_renderer.rb). */
export function pageSizeLimit(error: unknown): number | undefined {
  if (!(error instanceof CfApiError) || error.status !== 400 || error.errorCode !== 'CF-BadQueryParameter') return
  const match = /results_per_page must be <= (\d+)/.exec(error.description)
  if (!match) return undefined
  const limit = Number.parseInt(match[1]!, 10)
  return limit >= 1 ? limit : undefined
}

function cfErrorOf(answer: HttpAnswer): z.infer<typeof ErrorBody> | undefined {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(answer.text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

function apiError(answer: HttpAnswer, method: string, path: string): CfApiError {
  const cf = cfErrorOf(answer)
  if (cf) {
    return new CfApiError({
      status: answer.status,
      code: cf.code,
      errorCode: cf.error_code,
      description: redact(cf.description),
      method,
      path,
    })
  }
  const text = excerpt(redact(answer.text))
  return new CfApiError({
    status: answer.status,
    code: 0,
    errorCode: 'UnknownError',
    description: text === '' ? `HTTP ${answer.status} with no body` : `HTTP ${answer.status}: ${text}`,
    method,
    path,
  })
}

function authError(answer: HttpAnswer, label: string, context: { refreshed: boolean; hadToken: boolean }): CfAuthError {
  const cf = cfErrorOf(answer)
  const what = cf ? `${cf.error_code}, code ${cf.code}` : 'HTTP 401'
  let message: string
  if (!context.hadToken) message = `${label}: the CC needs a token and none was sent (${what})`
  else if (context.refreshed) message = `${label}: the CC rejected the access token even after a refresh (${what})`
  else message = `${label}: the CC rejected the access token (${what})`
  return new CfAuthError(message, { status: 401, errorCode: cf?.error_code })
}
