// The CC's audit events (cloud_controller_ng's Event model and AppEventRepository): every change of an
// app leaves a row naming who did what to which app, when, and with which request. That is how an
// operator of a real CC audits the `diego` flag: `GET /v2/events?q=type:audit.app.update&q=actee:GUID`,
// or `cf events APP`. Rows live in the store's SQLite file beside the apps (so a change and its event
// commit together) and are mirrored in memory in (timestamp, id) order, with an index by actee.
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { CfError } from './errors.js'
import { newGuid } from './guid.js'
import {
  compileFilters,
  envelopeJson,
  type Filter,
  type FilterFields,
  paginate,
  parseFilters,
  parsePageRequest,
} from './query.js'
import { isoTimestamp } from './resources.js'
import type { Roles } from './roles.js'
import type { AppRecord, Store } from './store.js'

/** The event types this CC writes (AppEventRepository's, for the v2 app endpoints). */
export type EventType =
  | 'audit.app.create'
  | 'audit.app.update'
  | 'audit.app.delete-request'
  | 'audit.app.restage'
  | 'app.crash'

export interface EventRecord {
  readonly id: number
  readonly guid: string
  readonly type: string
  readonly actor: string
  readonly actorType: string
  /** The actor's e-mail (CC's current_user_email); null for a client's token, which has none. */
  readonly actorName: string | null
  readonly actee: string
  readonly acteeType: string
  readonly acteeName: string
  /** ms since the epoch; rendered to the second, as CC does. */
  readonly timestamp: number
  readonly metadata: Readonly<Record<string, unknown>>
  readonly spaceGuid: string
  readonly orgGuid: string
}

/** Who made a change: a user (guid and e-mail, as CC's SecurityContext gives them) or the app itself. */
export interface Actor {
  guid: string
  type: 'user' | 'app' | 'system'
  name: string | null
}

// AppEventRepository::CENSORED_FIELDS: what a request may carry that an event must not show.
const CENSORED_FIELDS = new Set([
  'encrypted_environment_json',
  'command',
  'environment_json',
  'environment_variables',
  'docker_credentials_json',
  'encrypted_docker_credentials_json',
])
const CENSORED_MESSAGE = 'PRIVATE DATA HIDDEN'

/** `metadata.request` as AppEventRepository#app_audit_hash writes it: the request, secrets hidden. */
export function auditRequest(request: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(request)) out[key] = CENSORED_FIELDS.has(key) ? CENSORED_MESSAGE : value
  return out
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, type TEXT NOT NULL, actor TEXT NOT NULL,
  actor_type TEXT NOT NULL, actor_name TEXT, actee TEXT NOT NULL, actee_type TEXT NOT NULL,
  actee_name TEXT NOT NULL, timestamp INTEGER NOT NULL, metadata TEXT NOT NULL, space_guid TEXT NOT NULL,
  organization_guid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_actee ON events (actee);
`

export class EventLog {
  private readonly store: Store
  private readonly insert: StatementSync
  private readonly list: EventRecord[] = []
  private readonly byGuid = new Map<string, EventRecord>()
  private readonly byActee = new Map<string, EventRecord[]>()

  constructor(store: Store) {
    this.store = store
    const db: DatabaseSync = store.database
    db.exec(SCHEMA)
    this.insert = db.prepare(
      `INSERT INTO events (guid, type, actor, actor_type, actor_name, actee, actee_type, actee_name, timestamp,
        metadata, space_guid, organization_guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const rows = db.prepare('SELECT * FROM events ORDER BY timestamp, id').all() as unknown as EventRow[]
    for (const row of rows) this.index(recordOf(row))
  }

  /** Every event, in CC's order (timestamp, then id). */
  events(): readonly EventRecord[] {
    return this.list
  }

  event(guid: string): EventRecord | undefined {
    return this.byGuid.get(guid)
  }

  eventsOf(acteeGuid: string): readonly EventRecord[] {
    return this.byActee.get(acteeGuid) ?? EMPTY
  }

  /**
   * Writes an app's event. Inside a store transaction it commits (or rolls back) with the change it
   * records; the in-memory copy is added last, so a failed insert leaves nothing behind.
   */
  recordAppEvent(
    type: EventType,
    app: AppRecord,
    actor: Actor,
    metadata: Readonly<Record<string, unknown>>,
    at: number,
  ): EventRecord {
    return this.store.transaction(() => {
      const guid = newGuid()
      const json = JSON.stringify(metadata)
      const id = Number(
        this.insert.run(
          guid,
          type,
          actor.guid,
          actor.type,
          actor.name,
          app.guid,
          'app',
          app.name,
          at,
          json,
          app.spaceGuid,
          app.orgGuid,
        ).lastInsertRowid,
      )
      const record: EventRecord = {
        id,
        guid,
        type,
        actor: actor.guid,
        actorType: actor.type,
        actorName: actor.name,
        actee: app.guid,
        acteeType: 'app',
        acteeName: app.name,
        timestamp: at,
        metadata: JSON.parse(json) as Record<string, unknown>,
        spaceGuid: app.spaceGuid,
        orgGuid: app.orgGuid,
      }
      this.store.onRollback(() => this.unindex(record))
      this.index(record)
      return record
    })
  }

  private index(record: EventRecord): void {
    insertOrdered(this.list, record)
    this.byGuid.set(record.guid, record)
    let list = this.byActee.get(record.actee)
    if (!list) this.byActee.set(record.actee, (list = []))
    insertOrdered(list, record)
  }

  private unindex(record: EventRecord): void {
    removeRecord(this.list, record)
    this.byGuid.delete(record.guid)
    const list = this.byActee.get(record.actee)
    if (list) removeRecord(list, record)
  }
}

// ---- GET /v2/events ----

// EventsController: `query_parameters :timestamp, :type, :actee` (at 067f553; space_guid and
// organization_guid became q keys only in later CCs, so here they are a bad query as they were then).
const EVENT_FILTERS: FilterFields<EventRecord> = {
  type: { type: 'string', get: (e) => e.type },
  actee: { type: 'string', get: (e) => e.actee },
  timestamp: { type: 'string', get: (e) => isoTimestamp(e.timestamp) },
}

/** Whether the principal may see events of this space (CC's Event.user_visibility_filter). */
export type EventVisibility = (event: EventRecord) => boolean

/**
 * Event.user_visibility_filter: the events of the spaces where the user is a developer or an auditor,
 * and of the orgs where they are an auditor. Managers (of the space or the org) see none.
 */
export function eventVisibility(roles: Roles, userGuid: string | null): EventVisibility {
  if (userGuid === null) return () => false
  const developer = roles.spacesOf(userGuid, 'developer')
  const auditor = roles.spacesOf(userGuid, 'auditor')
  const auditedOrgs = roles.orgsOf(userGuid, 'auditor')
  return (e) => developer.has(e.spaceGuid) || auditor.has(e.spaceGuid) || auditedOrgs.has(e.orgGuid)
}

/** The body of `GET /v2/events?...`: filtered, ordered by (timestamp, id), paged. */
export function listEventsBody(log: EventLog, query: string, visible: EventVisibility | null): string {
  const request = parsePageRequest(new URLSearchParams(query))
  const filters = parseFilters(request.q, EVENT_FILTERS)
  const byActee = filters.find((f) => f.key === 'actee' && f.op === ':')
  const candidates = byActee ? log.eventsOf(byActee.values[0]!) : log.events()
  const predicate = compileEventFilters(filters)
  const items = candidates.filter((e) => (visible === null || visible(e)) && (predicate === null || predicate(e)))
  return envelopeJson(paginate(items, request), '/v2/events', request, (e) => JSON.stringify(eventResource(e)))
}

/** The body of `GET /v2/events/:guid`: 404 when there is none, 403 when it may not be seen. */
export function getEventBody(log: EventLog, guid: string, visible: EventVisibility | null): string {
  const event = log.event(guid)
  if (!event) throw new CfError('EventNotFound', guid)
  if (visible !== null && !visible(event)) throw new CfError('NotAuthorized')
  return JSON.stringify(eventResource(event))
}

export function eventResource(event: EventRecord) {
  return {
    metadata: {
      guid: event.guid,
      url: `/v2/events/${event.guid}`,
      created_at: isoTimestamp(event.timestamp),
      updated_at: null,
    },
    entity: {
      type: event.type,
      actor: event.actor,
      actor_type: event.actorType,
      actor_name: event.actorName,
      actee: event.actee,
      actee_type: event.acteeType,
      actee_name: event.acteeName,
      timestamp: isoTimestamp(event.timestamp),
      metadata: event.metadata,
      space_guid: event.spaceGuid,
      organization_guid: event.orgGuid,
    },
  }
}

/**
 * type and actee compare as strings; timestamp as a time, its value read as Ruby's Time.parse would
 * (CC's Query#clean_up_datetime), an empty one meaning NULL, which no event's timestamp is.
 */
function compileEventFilters(filters: readonly Filter[]): ((e: EventRecord) => boolean) | null {
  const strings = filters.filter((f) => f.key !== 'timestamp')
  const tests: ((e: EventRecord) => boolean)[] = []
  const other = compileFilters(strings, EVENT_FILTERS)
  if (other) tests.push(other)
  for (const filter of filters) if (filter.key === 'timestamp') tests.push(timestampTest(filter))
  if (tests.length === 0) return null
  return (e) => tests.every((test) => test(e))
}

function timestampTest(filter: Filter): (e: EventRecord) => boolean {
  const times = filter.values.map((value) => {
    if (value === '') return null
    const ms = Date.parse(value)
    // CC's Time.parse raises on garbage and the request ends in a 500; a clear 400 is kinder.
    if (Number.isNaN(ms)) throw new CfError('BadQueryParameter', `timestamp${filter.op}${value}`)
    return Math.floor(ms / 1000) * 1000
  })
  const [first] = times
  if (first === null || first === undefined) return () => false
  const second = (e: EventRecord) => Math.floor(e.timestamp / 1000) * 1000
  switch (filter.op) {
    case ':':
      return (e) => second(e) === first
    case ' IN ':
      return (e) => times.includes(second(e))
    case '>=':
      return (e) => second(e) >= first
    case '<=':
      return (e) => second(e) <= first
    case '>':
      return (e) => second(e) > first
    case '<':
      return (e) => second(e) < first
    case 'IS NULL':
      // A key with no operator: timestamp IS NULL, which no event is.
      return () => false
  }
}

interface EventRow {
  id: number
  guid: string
  type: string
  actor: string
  actor_type: string
  actor_name: string | null
  actee: string
  actee_type: string
  actee_name: string
  timestamp: number
  metadata: string
  space_guid: string
  organization_guid: string
}

function recordOf(row: EventRow): EventRecord {
  return {
    id: row.id,
    guid: row.guid,
    type: row.type,
    actor: row.actor,
    actorType: row.actor_type,
    actorName: row.actor_name,
    actee: row.actee,
    acteeType: row.actee_type,
    acteeName: row.actee_name,
    timestamp: row.timestamp,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    spaceGuid: row.space_guid,
    orgGuid: row.organization_guid,
  }
}

const EMPTY: readonly EventRecord[] = Object.freeze([])

function before(a: EventRecord, b: EventRecord): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id)
}

/** Events nearly always arrive in order, so this is a push; a clock set back lands it in place. */
function insertOrdered(list: EventRecord[], record: EventRecord): void {
  let at = list.length
  while (at > 0 && before(record, list[at - 1]!)) at--
  list.splice(at, 0, record)
}

function removeRecord(list: EventRecord[], record: EventRecord): void {
  const at = list.lastIndexOf(record)
  if (at >= 0) list.splice(at, 1)
}
