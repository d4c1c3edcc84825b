// CC v2 list queries: the `q=` filter language of VCAP::RestAPI::Query, the paging parameters, and the
// paginated envelope with prev_url/next_url built as PaginatedCollectionRenderer builds them. Pure:
// no store, no HTTP, so the parser and the pager can be tested on their own.
import { CfError } from './errors.js'

export type FilterOp = ':' | '>=' | '<=' | '<' | '>' | ' IN ' | 'IS NULL'

export interface Filter {
  key: string
  op: FilterOp
  /** One value, the comma-separated values of ` IN `, or none for a segment with no operator (IS NULL). */
  values: string[]
}

/**
 * How a list exposes one queryable key: the value compared and its type. `caseInsensitive` is for
 * names, which CC keeps case-insensitive (citext) and so also compares that way. `strings` is a
 * to-many key (an org's `user_guid`): the item matches when any of its values does.
 */
export type FilterField<T> =
  | { type: 'string'; get: (item: T) => string | null; caseInsensitive?: boolean }
  | { type: 'strings'; get: (item: T) => Iterable<string> }
  | { type: 'boolean'; get: (item: T) => boolean }

export type FilterFields<T> = Readonly<Record<string, FilterField<T>>>

// Leftmost operator wins; at one position the alternation order decides, so `a>=b` is `>=`, not `>`.
const OPERATOR = /(:|>=|<=|<|>| IN )/

/**
 * Parses every `q` value (each may join several filters with `;`, and `;;` stands for a literal `;`)
 * into filters on the allowed keys. All filters are ANDed. An unknown key is CF-BadQueryParameter
 * naming the key, as CC does; a segment with no operator is a key alone, which CC's Query turns into
 * `key IS NULL` (for a boolean, `key = false`: its cast of the missing value).
 */
export function parseFilters<T>(q: readonly string[], allowed: ReadonlySet<string> | FilterFields<T>): Filter[] {
  const keys = allowed instanceof Set ? allowed : new Set(Object.keys(allowed))
  const filters: Filter[] = []
  for (const raw of q) {
    for (const segment of splitSegments(raw)) {
      const match = OPERATOR.exec(segment)
      if (!match) {
        if (!keys.has(segment)) throw new CfError('BadQueryParameter', segment)
        filters.push({ key: segment, op: 'IS NULL', values: [] })
        continue
      }
      const key = segment.slice(0, match.index)
      const op = match[1] as FilterOp
      const value = segment.slice(match.index + op.length)
      if (!keys.has(key)) throw new CfError('BadQueryParameter', key)
      filters.push({ key, op, values: op === ' IN ' ? value.split(',') : [value] })
    }
  }
  return filters
}

function splitSegments(q: string): string[] {
  // `;;` escapes a semicolon inside a value; a NUL never occurs in a URL parameter we accept.
  return q
    .replaceAll(';;', '\u0000')
    .split(';')
    .map((s) => s.replaceAll('\u0000', ';'))
}

/**
 * Compiles filters into one predicate. Strings compare as strings (CC compares in the database with
 * the same operators), names without regard to case; booleans read `t` and `true` as true and any
 * other value as false, never as an error (Query#clean_up_boolean).
 */
export function compileFilters<T>(filters: readonly Filter[], fields: FilterFields<T>): ((item: T) => boolean) | null {
  if (filters.length === 0) return null
  const tests = filters.map((filter) => compileOne(filter, fields[filter.key]!))
  if (tests.length === 1) return tests[0]!
  return (item) => {
    for (const test of tests) if (!test(item)) return false
    return true
  }
}

function compileOne<T>(filter: Filter, field: FilterField<T>): (item: T) => boolean {
  if (field.type === 'boolean') {
    const values = filter.op === 'IS NULL' ? [false] : filter.values.map(cleanUpBoolean)
    const get = field.get
    const rank = (b: boolean) => (b ? 1 : 0)
    switch (filter.op) {
      case ':':
      case 'IS NULL':
        return (item) => get(item) === values[0]
      case ' IN ':
        return (item) => values.includes(get(item))
      default:
        return compare(filter.op, (item: T) => rank(get(item)), rank(values[0]!))
    }
  }
  if (field.type === 'strings') {
    // A to-many key with no value matches no row: CC filters `id IN (... WHERE guid IN (NULL))`.
    if (filter.op === 'IS NULL') return () => false
    const test = valueTest(filter, (value: string) => value, false)
    const get = field.get
    return (item) => {
      for (const value of get(item)) if (test(value)) return true
      return false
    }
  }
  const get = field.get
  if (filter.op === 'IS NULL') return (item) => get(item) === null
  const test = valueTest(filter, (value: string) => value, field.caseInsensitive === true)
  return (item) => {
    const value = get(item)
    return value !== null && test(value)
  }
}

/** A test of one string value against the filter's operator and values. */
function valueTest(filter: Filter, id: (v: string) => string, caseInsensitive: boolean): (value: string) => boolean {
  const fold = caseInsensitive ? (v: string) => id(v).toLowerCase() : id
  const values = filter.values.map(fold)
  const [first] = values
  switch (filter.op) {
    case ':':
      return (value) => fold(value) === first
    case ' IN ': {
      const set = new Set(values)
      return (value) => set.has(fold(value))
    }
    default:
      return compare(filter.op, fold, first!)
  }
}

function compare<T, V extends string | number>(op: FilterOp, get: (item: T) => V, value: V): (item: T) => boolean {
  switch (op) {
    case '>=':
      return (item) => get(item) >= value
    case '<=':
      return (item) => get(item) <= value
    case '<':
      return (item) => get(item) < value
    case '>':
      return (item) => get(item) > value
    default:
      throw new Error(`not an ordering operator: ${op}`)
  }
}

/** Query#clean_up_boolean: `t` and `true` are true, anything else (`1`, `yes`, `TRUE`) false. */
function cleanUpBoolean(value: string): boolean {
  return value === 't' || value === 'true'
}

export type OrderDirection = 'asc' | 'desc'

export interface PageRequest {
  page: number
  resultsPerPage: number
  orderDirection: OrderDirection
  /** The raw `q` values, kept to carry them into next_url and prev_url. */
  q: string[]
  relations: RelationParams
}

/** `inline-relations-depth`, `include-relations` and `exclude-relations`, when the request gave them. */
export interface RelationParams {
  depth: number | null
  include: string[] | null
  exclude: string[] | null
}

/** The renderer's max_inline_relations_depth (cloud_controller.yml's default). */
export const MAX_INLINE_RELATIONS_DEPTH = 3

/** Reads the relation parameters as CommonParams does; a depth above the maximum is a bad query. */
export function parseRelationParams(params: URLSearchParams): RelationParams {
  const depth = params.has('inline-relations-depth') ? integerParam(params, 'inline-relations-depth', 0) : null
  if (depth !== null && depth > MAX_INLINE_RELATIONS_DEPTH) {
    throw new CfError('BadQueryParameter', `inline_relations_depth must be <= ${MAX_INLINE_RELATIONS_DEPTH}`)
  }
  const list = (name: string) => (params.has(name) ? params.get(name)!.split(',') : null)
  return { depth, include: list('include-relations'), exclude: list('exclude-relations') }
}

export const MAX_RESULTS_PER_PAGE = 100
export const DEFAULT_RESULTS_PER_PAGE = 50

/** Reads `page`, `results-per-page`, `order-direction` and `q` as CC's CommonParams does. */
export function parsePageRequest(params: URLSearchParams): PageRequest {
  const page = integerParam(params, 'page', 1)
  if (page < 1) throw new CfError('BadQueryParameter', 'page')
  const resultsPerPage = integerParam(params, 'results-per-page', DEFAULT_RESULTS_PER_PAGE)
  if (resultsPerPage > MAX_RESULTS_PER_PAGE) {
    // CC's own wording for this one (PaginatedCollectionRenderer).
    throw new CfError('BadQueryParameter', `results_per_page must be <= ${MAX_RESULTS_PER_PAGE}`)
  }
  if (resultsPerPage < 1) throw new CfError('BadQueryParameter', 'results-per-page')
  const direction = params.get('order-direction') ?? 'asc'
  if (direction !== 'asc' && direction !== 'desc') throw new CfError('BadQueryParameter', 'order-direction')
  return {
    page,
    resultsPerPage,
    orderDirection: direction,
    q: params.getAll('q'),
    relations: parseRelationParams(params),
  }
}

function integerParam(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name)
  if (raw === null) return fallback
  // Ruby's Integer() takes an optional sign and digits, nothing else.
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new CfError('BadQueryParameter', name)
  return Number.parseInt(raw, 10)
}

export interface Page<T> {
  totalResults: number
  totalPages: number
  items: T[]
  prevPage: number | null
  nextPage: number | null
}

/**
 * One page of `items` (already in ascending order). As Sequel's paginate: at least one page even when
 * empty, a prev page whenever page > 1 (even past the end), a next page while page < total pages.
 */
export function paginate<T>(items: readonly T[], request: PageRequest): Page<T> {
  const total = items.length
  const size = request.resultsPerPage
  const totalPages = Math.max(1, Math.ceil(total / size))
  const start = (request.page - 1) * size
  let slice: T[]
  if (request.orderDirection === 'asc') {
    slice = items.slice(start, start + size)
  } else {
    slice = []
    for (let i = total - 1 - start; i >= 0 && i > total - 1 - start - size; i--) slice.push(items[i]!)
  }
  return {
    totalResults: total,
    totalPages,
    items: slice,
    prevPage: request.page > 1 ? request.page - 1 : null,
    nextPage: request.page < totalPages ? request.page + 1 : null,
  }
}

/**
 * A page link as CC renders it: Addressable sorts the parameters (exclude-relations,
 * include-relations, inline-relations-depth, order-direction, page, q, results-per-page), repeats a
 * list's key for each value, and leaves `:` `,` `=` and `@` readable.
 */
export function pageUrl(path: string, page: number, request: PageRequest): string {
  const { depth, include, exclude } = request.relations
  const parts: string[] = []
  for (const name of exclude ?? []) parts.push(`exclude-relations=${encodeQueryValue(name)}`)
  for (const name of include ?? []) parts.push(`include-relations=${encodeQueryValue(name)}`)
  if (depth !== null) parts.push(`inline-relations-depth=${depth}`)
  parts.push(`order-direction=${request.orderDirection}`, `page=${page}`)
  for (const q of request.q) parts.push(`q=${encodeQueryValue(q)}`)
  parts.push(`results-per-page=${request.resultsPerPage}`)
  return `${path}?${parts.join('&')}`
}

function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%(3A|2C|3D|40)/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  )
}

/**
 * The v2 envelope around resources that are already JSON text, so a page of cached resources is
 * joined, never re-serialized.
 */
export function envelopeJson<T>(
  page: Page<T>,
  path: string,
  request: PageRequest,
  resourceJson: (item: T) => string,
): string {
  let body = envelopeHead(page, path, request)
  for (let i = 0; i < page.items.length; i++) {
    if (i > 0) body += ','
    body += resourceJson(page.items[i]!)
  }
  return `${body}]}`
}

const COMMA = 0x2c
const TAIL = Buffer.from(']}')

/**
 * The same envelope as UTF-8 bytes, around resources that are already bytes: one copy per resource
 * into a buffer from `alloc` (exactly the envelope's length), no string joining or encoding.
 */
export function envelopeBytes<T>(
  page: Page<T>,
  path: string,
  request: PageRequest,
  resourceBytes: (item: T) => Buffer,
  alloc: (length: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const head = Buffer.from(envelopeHead(page, path, request), 'utf8')
  const parts: Buffer[] = new Array(page.items.length)
  let length = head.length + TAIL.length + Math.max(0, page.items.length - 1)
  for (let i = 0; i < page.items.length; i++) {
    const part = resourceBytes(page.items[i]!)
    parts[i] = part
    length += part.length
  }
  const body = alloc(length)
  let at = head.copy(body, 0)
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) body[at++] = COMMA
    at += parts[i]!.copy(body, at)
  }
  TAIL.copy(body, at)
  return body
}

function envelopeHead<T>(page: Page<T>, path: string, request: PageRequest): string {
  const prev = page.prevPage === null ? 'null' : JSON.stringify(pageUrl(path, page.prevPage, request))
  const next = page.nextPage === null ? 'null' : JSON.stringify(pageUrl(path, page.nextPage, request))
  return `{"total_results":${page.totalResults},"total_pages":${page.totalPages},"prev_url":${prev},"next_url":${next},"resources":[`
}
