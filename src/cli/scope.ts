// Which apps a command that selects apps acts on, one rule for all of them (as the cf CLI and kubectl do):
// --org/--space say it; else the targeted org and space (cfctl target -o ORG -s SPACE, or cf target) scope
// it; --all widens it to every org and space of the foundation.
import { Flags } from '@oclif/core'
import type { Session } from '../core/auth/session.js'
import { UsageError } from '../core/errors.js'

export const allFlag = Flags.boolean({
  description: 'every org and space of the foundation, not only the targeted org and space',
  default: false,
})

export interface Scope {
  org?: string
  space?: string
  /** How the plan and the listing say it, e.g. "org acme, space prod (targeted; --all for every org)". */
  label: string
}

export function scopeOf(
  flags: { org?: string; space?: string; all?: boolean },
  target: Pick<Session, 'org' | 'space'> | undefined,
): Scope {
  if (flags.all && (flags.org !== undefined || flags.space !== undefined))
    throw new UsageError('--all widens to every org and space; it does not go with --org or --space')
  if (flags.org !== undefined || flags.space !== undefined)
    return { org: flags.org, space: flags.space, label: describe(flags.org, flags.space, 'as asked') }
  const org = flags.all ? undefined : target?.org?.name
  const space = org === undefined ? undefined : target?.space?.name
  if (org === undefined) return { label: 'every org and space' }
  return { org, space, label: describe(org, space, 'targeted; --all for every org and space') }
}

function describe(org: string | undefined, space: string | undefined, why: string): string {
  const parts = [org === undefined ? undefined : `org ${org}`, space === undefined ? undefined : `space ${space}`]
  return `${parts.filter(Boolean).join(', ')} (${why})`
}
