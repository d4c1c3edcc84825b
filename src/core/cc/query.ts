// CC v2 list filters: `q=<field><op><value>`, one `q` parameter per filter (ANDed), as the cf CLI sends
// them. Only the keys a real CC accepts are sent (cloud_controller_ng 067f553, apps_controller.rb:
// `query_parameters :name, :space_guid, :organization_guid, :diego, :stack_guid`); any other key is a 400
// CF-BadQueryParameter there, so whatever else a caller asks for is matched here, on the client. Pure, so
// the encoding and the matching are tested on their own.
import type { AppState } from './model.js'

export interface AppQuery {
  diego?: boolean
  /** Matched on the client: the CC has no `state` filter. */
  state?: AppState
  /** Case-insensitive, as on the CC (its name columns are case-insensitive). */
  name?: string
  /** Any of these names (`name IN a,b`). */
  names?: readonly string[]
  spaceGuid?: string
  orgGuid?: string
  stackGuid?: string
}

/** The `q` keys a CC v2 accepts on /v2/apps. */
export const APP_QUERY_KEYS: readonly string[] = ['name', 'space_guid', 'organization_guid', 'diego', 'stack_guid']

/** Names as the CC compares them: without regard to case. */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase()
}

/** Whether an app the CC returned meets the parts of the query the CC cannot filter on. */
export function matchesLocally(app: { state: AppState }, query: AppQuery): boolean {
  return query.state === undefined || app.state === query.state
}

/** A list request: its `q` filters and any other parameters (e.g. inline-relations-depth). */
export interface ListQuery {
  q?: readonly string[]
  params?: Readonly<Record<string, string | number>>
}

// A ';' inside a value would split the filter in two; CC's query parser reads ';;' as a literal one.
function escapeValue(value: string): string {
  return value.replaceAll(';', ';;')
}

export function filter(field: string, value: string | boolean): string {
  return `${field}:${escapeValue(String(value))}`
}

/** `field IN a,b,c`. Values must not contain ',': IN has no way to escape it. */
export function filterIn(field: string, values: readonly string[]): string {
  for (const value of values) {
    if (value.includes(',')) throw new RangeError(`"${value}" contains ',' and cannot be part of an IN filter`)
  }
  return `${field} IN ${values.map(escapeValue).join(',')}`
}

/** The CC filters every app query shares (everything but the names and what is matched locally). */
export function appFilters(query: AppQuery): string[] {
  const q: string[] = []
  if (query.name !== undefined) q.push(filter('name', query.name))
  if (query.diego !== undefined) q.push(filter('diego', query.diego))
  if (query.spaceGuid !== undefined) q.push(filter('space_guid', query.spaceGuid))
  if (query.orgGuid !== undefined) q.push(filter('organization_guid', query.orgGuid))
  if (query.stackGuid !== undefined) q.push(filter('stack_guid', query.stackGuid))
  return q
}

/** Names per `name IN` filter: keeps each URL far below the 8 KiB a gorouter or nginx accepts. */
export const NAMES_PER_FILTER = 50

/**
 * The `name` filters for a list of names: batches of `name IN …`, and a `name:` filter of its own
 * for a name with a comma, which IN cannot carry.
 */
export function nameFilters(names: readonly string[]): string[] {
  // The CC matches names without regard to case: 'Web' and 'web' are one filter.
  const byCase = new Map<string, string>()
  for (const name of names) if (!byCase.has(name.toLowerCase())) byCase.set(name.toLowerCase(), name)
  const unique = [...byCase.values()]
  const plain = unique.filter((n) => !n.includes(','))
  const filters = unique.filter((n) => n.includes(',')).map((n) => filter('name', n))
  for (let i = 0; i < plain.length; i += NAMES_PER_FILTER) {
    const batch = plain.slice(i, i + NAMES_PER_FILTER)
    filters.push(batch.length === 1 ? filter('name', batch[0]!) : filterIn('name', batch))
  }
  return filters
}

/** The path and query string of one page of a list. */
export function pagePath(path: string, query: ListQuery, page: number, resultsPerPage: number): string {
  const search = new URLSearchParams()
  for (const q of query.q ?? []) search.append('q', q)
  for (const [key, value] of Object.entries(query.params ?? {})) search.set(key, String(value))
  search.set('results-per-page', String(resultsPerPage))
  search.set('page', String(page))
  return `${path}?${search.toString()}`
}
