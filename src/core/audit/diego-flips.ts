// Who changed which app's `diego` flag, and when: the CC keeps an audit.app.update event for every app
// update, with the request's fields under `metadata.request`, so a flip is an update whose request set
// `diego`. That shows cfctl's migrations (made as the operator's user or client) beside flips made by
// others: a developer's `cf enable-diego` or a raw PUT. The CC filters events on type, actee and
// timestamp only; org and space are matched here, on the events' space_guid and organization_guid.
import { findApp, resolveScope, type Scope } from '../apps/inventory.js'
import type { CcClient } from '../cc/index.js'
import type { EventResource } from '../cc/schemas.js'
import { UsageError } from '../errors.js'

export interface DiegoFlip {
  /** ISO 8601, as the CC recorded it. */
  time: string
  appGuid: string
  appName: string
  org: string
  space: string
  /** The backend the update pointed the app at. */
  backend: 'diego' | 'dea'
  /** The user (or UAA client) that made the change: name when the CC knows it, else its guid. */
  actor: string
  actorGuid: string
  /** user, or system / app for changes the platform made. */
  actorType: string
}

export interface FlipAuditOptions extends Scope {
  /** An app name (in the scope, or the targeted space) or guid. */
  app?: string
  /** Only flips at or after this time. */
  since?: Date
  defaultOrgGuid?: string
  defaultSpaceGuid?: string
}

/** The `diego` value an audit.app.update requested, or undefined when the update did not touch it. */
export function requestedDiego(metadata: Record<string, unknown> | null | undefined): boolean | undefined {
  const request = metadata?.request
  if (!request || typeof request !== 'object' || !('diego' in request)) return undefined
  const value = (request as { diego: unknown }).diego
  if (typeof value === 'boolean') return value
  // The CC reads a boolean given as text as it does in a query: only 't' and 'true' are true.
  if (typeof value === 'string') return value === 't' || value === 'true'
  return undefined
}

/** Every flip of the `diego` flag the user may see, oldest first, narrowed by org, space, app and time. */
export async function diegoFlips(client: CcClient, options: FlipAuditOptions = {}): Promise<DiegoFlip[]> {
  let actee: string | undefined
  let spaceGuid: string | undefined
  let orgGuid: string | undefined
  if (options.app !== undefined) {
    // A guid is taken as it is: the events of a deleted app outlive it.
    const looksLikeGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.app)
    actee = looksLikeGuid
      ? options.app
      : (
          await findApp(client, {
            name: options.app,
            guidFlag: '--app GUID',
            org: options.org,
            space: options.space,
            defaultOrgGuid: options.defaultOrgGuid,
            defaultSpaceGuid: options.defaultSpaceGuid,
          })
        ).guid
  } else if (options.org !== undefined || options.space !== undefined) {
    const { org, space } = await resolveScope(client, options)
    spaceGuid = space?.guid
    orgGuid = space ? undefined : org?.guid
  }
  const [events, spaces, orgs] = await Promise.all([
    client.events({ type: 'audit.app.update', actee, since: options.since }),
    client.spaces(),
    client.organizations(),
  ])
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]))
  const spaceOf = new Map(spaces.map((s) => [s.guid, s]))
  const flips: DiegoFlip[] = []
  for (const event of events) {
    const flip = flipOf(event)
    if (!flip) continue
    const e = event.entity
    if (spaceGuid !== undefined && e.space_guid !== spaceGuid) continue
    const space = e.space_guid ? spaceOf.get(e.space_guid) : undefined
    const eventOrg = e.organization_guid ?? space?.orgGuid
    if (orgGuid !== undefined && eventOrg !== orgGuid) continue
    flips.push({
      ...flip,
      org: (eventOrg && orgNames.get(eventOrg)) ?? eventOrg ?? '',
      space: space?.name ?? e.space_guid ?? '',
    })
  }
  // The CC answers oldest first; keep that order whatever the pages did.
  return flips.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
}

function flipOf(event: EventResource): Omit<DiegoFlip, 'org' | 'space'> | undefined {
  const e = event.entity
  if (e.type !== 'audit.app.update') return undefined
  const diego = requestedDiego(e.metadata)
  if (diego === undefined) return undefined
  return {
    time: e.timestamp,
    appGuid: e.actee,
    appName: e.actee_name ?? e.actee,
    backend: diego ? 'diego' : 'dea',
    actor: e.actor_name || e.actor,
    actorGuid: e.actor,
    actorType: e.actor_type,
  }
}

/**
 * `--since`: a time ago (`90m`, `24h`, `7d`, `2w`) or a date/time (`2016-04-01`, `2016-04-01T10:00:00Z`).
 * `now` comes from the caller's clock.
 */
export function parseSince(text: string, now: number): Date {
  const trimmed = text.trim()
  const ago = /^(\d+)(m|h|d|w)$/.exec(trimmed)
  if (ago) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[ago[2] as 'm' | 'h' | 'd' | 'w']
    return new Date(now - Number(ago[1]) * unit)
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const at = new Date(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed)
    if (!Number.isNaN(at.getTime())) return at
  }
  throw new UsageError(
    `--since must be a time ago (90m, 24h, 7d, 2w) or a date (2016-04-01, 2016-04-01T10:00:00Z), got "${text}"`,
  )
}
