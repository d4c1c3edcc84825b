// CC v2 list filters: `q=<field><op><value>`, one `q` parameter per filter (ANDed), as the cf CLI sends
// them. Pure, so the encoding is tested on its own.
import type { AppState } from './model.js'

export interface AppQuery {
  diego?: boolean
  state?: AppState
  name?: string
  /** Any of these names (`name IN a,b`). */
  names?: readonly string[]
  spaceGuid?: string
  orgGuid?: string
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

/** Filters every app query shares (everything but the names). */
export function appFilters(query: AppQuery): string[] {
  const q: string[] = []
  if (query.name !== undefined) q.push(filter('name', query.name))
  if (query.diego !== undefined) q.push(filter('diego', query.diego))
  if (query.state !== undefined) q.push(filter('state', query.state))
  if (query.spaceGuid !== undefined) q.push(filter('space_guid', query.spaceGuid))
  if (query.orgGuid !== undefined) q.push(filter('organization_guid', query.orgGuid))
  return q
}

/** Names per `name IN` filter: keeps each URL far below the 8 KiB a gorouter or nginx accepts. */
export const NAMES_PER_FILTER = 50

/**
 * The `name` filters for a list of names: batches of `name IN …`, and a `name:` filter of its own
 * for a name with a comma, which IN cannot carry.
 */
export function nameFilters(names: readonly string[]): string[] {
  const unique = [...new Set(names)]
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
