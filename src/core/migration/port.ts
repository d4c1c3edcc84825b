// The runner's only way to the foundation. The CLI adapts the CC client to it (and the embedded router or
// the app's routes for probe); the tests adapt an in-memory foundation on a fake clock. Keeping it this
// narrow is what lets the runner be tested at the scale of a real fleet without a server.
import { isFinalAnswer } from '../cc/retry.js'
import type { Unstaged } from '../cc/staging.js'
import type { Backend } from '../journal/types.js'

export interface PortApp {
  guid: string
  name: string
  diego: boolean
  state: 'STARTED' | 'STOPPED'
  instances: number
  /** Set when the app is not staged (its package_state is PENDING or FAILED): nothing of it can run yet. */
  unstaged?: Unstaged
}

export interface PortInstance {
  index: number
  /** RUNNING, STARTING, CRASHED, FLAPPING, DOWN: as the CC's /v2/apps/:guid/instances reports them. */
  state: string
  details?: string
}

export interface BackendCapacity {
  memoryMb: { total: number; used: number }
  /** `total` null or no `containers`: the backend has no container limit (DEAs). */
  containers?: { total: number | null; used: number }
}

export interface MigrationPort {
  /** The CC's current view of one app. */
  getApp(guid: string): Promise<PortApp>
  /**
   * Sets the app's `diego` flag. Throws on a CF error, keeping what the CC said: an error with a numeric
   * `status` (HTTP) and, when the CC sent one, `code`, `errorCode` (`CF-...`) and `description`.
   */
  setDiego(guid: string, diego: boolean): Promise<void>
  /**
   * The instances of the backend the app's flag points at, by index. An app that is not staged has none to
   * report: the CC answers a staging error (CF-NotStaged, CF-BuildpackCompileFailed, …), thrown as
   * AppNotStagedError.
   */
  instances(guid: string): Promise<PortInstance[]>
  /** One HTTP probe of the app's route: true when an instance answered (2xx, 3xx, or a 4xx other than 404). */
  probe(guid: string): Promise<boolean>
  /** Whether the app has a route to probe; an app without one is verified by its instances alone. */
  hasRoute?(guid: string): Promise<boolean>
  /** Capacity of a backend, when the foundation shows it. */
  capacity?(backend: Backend): Promise<BackendCapacity | undefined>
  /**
   * Reads again where to probe (the router the CC's /v2/info names) and probes there from now on; the new
   * address when there is one, else undefined.
   */
  refreshProbePath?(): Promise<string | undefined>
  /**
   * The changes of apps' `diego` flags the CC recorded at or after `since` (its audit.app.update events
   * whose request set `diego`), oldest first. Absent, or throwing, where the events cannot be read.
   */
  flagEvents?(since: Date): Promise<FlagEvent[]>
}

/** One change of an app's `diego` flag, as the CC's audit trail has it. */
export interface FlagEvent {
  /** The event's own guid, so a change is reported once. */
  id: string
  appGuid: string
  /** As the event names it, when it does. */
  appName?: string
  diego: boolean
  /** ms since the epoch, by the CC's clock (whole seconds on a real CC). */
  at: number
  /** Who made it: the user's (or client's) name, else its guid. */
  actor: string
}

/** What the runner reads off a thrown error; CfApiError and CfNetworkError of src/core/cc fit it. */
interface ErrorFields {
  status?: unknown
  code?: unknown
  errorCode?: unknown
  description?: unknown
}

/** Statuses that mean "not now": rate limited, or a CC or gateway that is restarting. */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504])

/** Whether trying the same call again could succeed: a transient status, or no answer at all. */
export function isTransient(error: unknown): boolean {
  const fields = error as ErrorFields | null
  const status = fields?.status
  const errorCode = typeof fields?.errorCode === 'string' ? fields.errorCode : undefined
  // The CC's own 504 (CF-StagingTimeExpired) is a verdict on the app, not a gateway timing out.
  if (typeof status === 'number') return TRANSIENT_STATUSES.has(status) && !isFinalAnswer(status, errorCode)
  return true
}

/** One line for the journal and the summary: the CF error code and description when there are some. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const fields = error as Error & ErrorFields
    if (typeof fields.errorCode === 'string' && typeof fields.description === 'string' && !error.message) {
      return `${fields.errorCode}: ${fields.description}`
    }
    return error.message || error.name
  }
  return String(error)
}
