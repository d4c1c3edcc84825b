// Which apps a migration moves: the apps on the source backend, started and stopped, narrowed by org,
// space, listed names or guids (`--app`, `--from-file`), a name glob, and exclusions. Pure: the CLI lists the
// fleet once and hands it in, so selection is tested without a server and a dry run costs one listing.
// Names (of apps, orgs and spaces) match without regard to case, as the Cloud Controller matches them.
import { sameName } from '../cc/query.js'
import type { Unstaged } from '../cc/staging.js'
import type { Backend } from '../journal/types.js'

/** An app as the fleet listing shows it. */
export interface FleetApp {
  guid: string
  name: string
  org: string
  space: string
  state: 'STARTED' | 'STOPPED'
  instances: number
  memoryMb: number
  diego: boolean
  /** Set when the app is not staged (package_state PENDING or FAILED), with the CC's reason. */
  unstaged?: Unstaged
}

export interface SelectionOptions {
  /** The backend the apps move to; the selection takes the apps on the other one. */
  to: Backend
  org?: string
  space?: string
  /** Names or guids (`--app`, repeatable). */
  apps?: readonly string[]
  /** A glob on the app name: `*` any run, `?` one character, `[a-z]` a class, `[!x]` its complement. */
  appPattern?: string
  /** Globs on the name, or guids, to leave out. */
  exclude?: readonly string[]
  /** The lines of `--from-file`: a name or guid each (see parseAppList). */
  fromFile?: readonly string[]
}

export interface Selection {
  apps: FleetApp[]
  /** What the operator listed (`--app` then `--from-file`), in order, without repeats. */
  listed: string[]
  /** Listed names or guids that match no app in the org and space. */
  missing: string[]
  /** Listed names or guids whose apps already run on the target backend. */
  onTarget: string[]
  /** Apps left out by `--exclude`. */
  excluded: number
}

export function sourceOf(to: Backend): Backend {
  return to === 'diego' ? 'dea' : 'diego'
}

export function selectApps(fleet: readonly FleetApp[], options: SelectionOptions): Selection {
  const targetDiego = options.to === 'diego'
  const inScope = fleet.filter(
    (app) =>
      (options.org === undefined || sameName(app.org, options.org)) &&
      (options.space === undefined || sameName(app.space, options.space)),
  )
  const listed = unique([...(options.apps ?? []), ...(options.fromFile ?? [])].map((ref) => ref.trim())).filter(
    (ref) => ref.length > 0,
  )
  const listedSet = new Set(listed.map((ref) => ref.toLowerCase()))
  const pattern = options.appPattern === undefined ? undefined : globToRegExp(options.appPattern)
  const excludes = (options.exclude ?? []).map((glob) => ({ glob, regexp: globToRegExp(glob) }))

  const missing: string[] = []
  const onTarget: string[] = []
  for (const ref of listed) {
    const matches = inScope.filter((app) => sameName(app.name, ref) || app.guid === ref)
    if (matches.length === 0) missing.push(ref)
    else if (matches.every((app) => app.diego === targetDiego)) onTarget.push(ref)
  }

  let excluded = 0
  const apps = inScope.filter((app) => {
    if (listed.length > 0 && !listedSet.has(app.name.toLowerCase()) && !listedSet.has(app.guid.toLowerCase()))
      return false
    if (pattern && !pattern.test(app.name)) return false
    if (app.diego === targetDiego) return false
    if (excludes.some((e) => e.glob === app.guid || e.regexp.test(app.name))) {
      excluded++
      return false
    }
    return true
  })
  return { apps, listed, missing, onTarget, excluded }
}

/** The names or guids of a `--from-file`: one a line; blank lines and `#` comments are skipped. */
export function parseAppList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0)
}

/** A shell-style glob as an anchored regular expression that ignores case, as the CC's name matching does. */
export function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) {
        source += '\\['
        continue
      }
      let body = glob.slice(i + 1, close)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      source += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`
      i = close
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 'i')
}

function unique(values: string[]): string[] {
  return [...new Set(values)]
}
