// The CC's side of the runtime backends, as cc-bridge and the DEA client were: the desired state each
// backend's sync loop reads (every STARTED and STAGED app whose `diego` flag points at it), and the start, update
// and stop messages sent when an app changes. A flip of `diego` on a started app desires it on the new
// backend only; the old one winds it down on its own clock, because its source no longer lists it.
import type {
  AppSpec,
  BackendName,
  DesiredDelta,
  DesiredStateSource,
  InstanceStatus,
  RuntimeBackend,
} from '../backend.js'
import type { AppRecord, Store } from './store.js'

export type BackendCall = { backend: BackendName; action: 'desire' | 'stop' }

const BOTH: readonly BackendName[] = ['dea', 'diego']

export function backendNameOf(app: { diego: boolean }): BackendName {
  return app.diego ? 'diego' : 'dea'
}

/** Whether a backend should run the app: STARTED with a droplet (its package STAGED), as the CC desires it. */
export function shouldRun(app: AppRecord): boolean {
  return app.state === 'STARTED' && app.packageState === 'STAGED'
}

/**
 * The messages one change of an app sends (pure). `before` undefined is a new app, `after` undefined
 * a deleted one. Desires carry the app as it is after the change.
 */
export function backendCalls(before: AppRecord | undefined, after: AppRecord | undefined): BackendCall[] {
  if (!after) return before ? BOTH.map((backend) => ({ backend, action: 'stop' })) : []
  const target = backendNameOf(after)
  const wasStarted = before !== undefined && shouldRun(before)
  const isStarted = shouldRun(after)
  if (!isStarted) {
    if (!wasStarted) return []
    // Stopped and flipped in one request: both may run it now, and a stop should stop it everywhere.
    if (before && before.diego !== after.diego) return BOTH.map((backend) => ({ backend, action: 'stop' }))
    return [{ backend: target, action: 'stop' }]
  }
  if (!wasStarted || !before) return [{ backend: target, action: 'desire' }]
  const changed =
    before.diego !== after.diego ||
    before.instances !== after.instances ||
    before.memoryMb !== after.memoryMb ||
    before.diskMb !== after.diskMb ||
    before.version !== after.version
  return changed ? [{ backend: target, action: 'desire' }] : []
}

// Specs are cached per record: a backend that reads the desired state every few seconds over 50,000
// apps allocates nothing until an app changes (which replaces its record).
const specCache = new WeakMap<AppRecord, AppSpec>()

/** What a backend is told to run for an app. */
export function appSpecOf(app: AppRecord): AppSpec {
  let spec = specCache.get(app)
  if (!spec) {
    spec = Object.freeze({
      appGuid: app.guid,
      name: app.name,
      version: app.version,
      instances: app.instances,
      memoryMb: app.memoryMb,
      diskMb: app.diskMb,
      stack: app.stackName,
      routes: app.routes.map((r) => r.hostname),
    })
    specCache.set(app, spec)
  }
  return spec
}

/** One backend's desired apps as of a store generation: ids and specs side by side, in id order. */
interface DesiredList {
  generation: number
  ids: number[]
  specs: AppSpec[]
  /** The frozen copy handed to readers; dropped when a change reaches the list, made again on the next read. */
  view: readonly AppSpec[] | undefined
  /** The guids of the apps changed in place since the list was walked (or the log last cut), with the generation of each change. */
  changed: string[]
  changedAt: number[]
  /** Changes after this generation are all in the log. */
  changedSince: number
}

/** The change log is cut back (readers further behind read the list whole) past this many entries, or the list's length if longer. */
const CHANGE_LOG_MIN = 1_024

export class BackendBridge implements DesiredStateSource {
  private readonly store: Store
  private readonly log: (line: string) => void
  private readonly backends: Partial<Record<BackendName, RuntimeBackend>> = {}
  private readonly desired: Partial<Record<BackendName, DesiredList>> = {}

  constructor(store: Store, log: (line: string) => void) {
    this.store = store
    this.log = log
  }

  /**
   * Connects the backends (they are built with this bridge as their source, so they come after it).
   * Attaching again replaces a backend; an app's messages go to whatever is attached at the time.
   */
  attach(backends: Partial<Record<BackendName, RuntimeBackend>>): void {
    for (const name of BOTH) {
      const backend = backends[name]
      if (!backend) continue
      if (backend.name !== name) throw new Error(`the backend attached as "${name}" calls itself "${backend.name}"`)
      this.backends[name] = backend
    }
  }

  backend(name: BackendName): RuntimeBackend | undefined {
    return this.backends[name]
  }

  /**
   * Every STARTED app with a STAGED package whose flag points at `backend`, in id order. The backends read this on every
   * pass (the DEA health manager every 10 s), so the list is kept until the store next changes: on a
   * foundation of 50,000 apps a fresh walk costs tens of milliseconds of the API's event loop. A change
   * that comes through appChanged() is applied to the list in place, so a migration flipping hundreds of
   * apps a second does not walk the whole fleet once per flip (at a high --speed the loops read it every
   * few milliseconds); any other write to the store has the list walked again on its next read.
   */
  desiredApps(backend: BackendName): readonly AppSpec[] {
    const list = this.current(backend)
    list.view ??= Object.freeze(list.specs.slice())
    return list.view
  }

  /**
   * What changed on the list since `cursor`, from the log of the changes applied to it in place, so that a
   * backend's sync over 50,000 apps costs what changed, not the fleet. A walk of the store (a write the
   * bridge was not told of) starts the log over: readers from before it are told to read the list whole.
   */
  desiredChangesSince(backend: BackendName, cursor: number | undefined): DesiredDelta {
    const list = this.current(backend)
    if (cursor === undefined || cursor < list.changedSince || cursor > list.generation) {
      return { cursor: list.generation, changed: undefined }
    }
    const from = lowerBound(list.changedAt, cursor + 1) // generations are whole numbers
    return { cursor: list.generation, changed: list.changed.slice(from) }
  }

  desiredApp(backend: BackendName, appGuid: string): AppSpec | undefined {
    const app = this.store.app(appGuid)
    return app !== undefined && shouldRun(app) && backendNameOf(app) === backend ? appSpecOf(app) : undefined
  }

  private current(backend: BackendName): DesiredList {
    const generation = this.store.generation
    const list = this.desired[backend]
    if (list && list.generation === generation) return list
    return (this.desired[backend] = this.walk(backend, generation))
  }

  private walk(backend: BackendName, generation: number): DesiredList {
    const diego = backend === 'diego'
    const ids: number[] = []
    const specs: AppSpec[] = []
    for (const app of this.store.apps()) {
      if (shouldRun(app) && app.diego === diego) {
        ids.push(app.id)
        specs.push(appSpecOf(app))
      }
    }
    return { generation, ids, specs, view: undefined, changed: [], changedAt: [], changedSince: generation }
  }

  /**
   * Applies one committed change of one app to each list that was current just before it (one generation
   * back: the write that made the change is the only one since). A list further behind is left to be
   * walked again when next read.
   */
  private keepDesired(before: AppRecord | undefined, after: AppRecord | undefined): void {
    const generation = this.store.generation
    const id = (after ?? before)!.id
    for (const name of BOTH) {
      const list = this.desired[name]
      if (!list || list.generation !== generation - 1) continue
      list.generation = generation
      const at = lowerBound(list.ids, id)
      const present = list.ids[at] === id
      const wanted = after !== undefined && shouldRun(after) && backendNameOf(after) === name
      if (wanted && present) list.specs[at] = appSpecOf(after)
      else if (wanted) {
        list.ids.splice(at, 0, id)
        list.specs.splice(at, 0, appSpecOf(after))
      } else if (present) {
        list.ids.splice(at, 1)
        list.specs.splice(at, 1)
      } else continue
      list.view = undefined
      if (list.changed.length >= Math.max(CHANGE_LOG_MIN, list.ids.length)) {
        list.changed = []
        list.changedAt = []
        list.changedSince = generation - 1
      }
      list.changed.push(after?.guid ?? before!.guid)
      list.changedAt.push(generation)
    }
  }

  /** What the app's backend (by its flag) reports, or undefined while no such backend is attached. */
  instancesOf(app: AppRecord): InstanceStatus[] | undefined {
    return this.backends[backendNameOf(app)]?.instances(app.guid)
  }

  /**
   * Sends the messages for a committed change, right after the write that made it (the desired lists count
   * on that). A backend that throws is logged, not propagated: the change is already the CC's truth, and the
   * backend's own sync from desiredApps() converges on it.
   */
  appChanged(before: AppRecord | undefined, after: AppRecord | undefined): void {
    if (before ?? after) this.keepDesired(before, after)
    for (const call of backendCalls(before, after)) {
      const backend = this.backends[call.backend]
      if (!backend) continue
      const guid = (after ?? before)!.guid
      try {
        if (call.action === 'desire') backend.desire(appSpecOf(after!))
        else backend.stop(guid)
      } catch (error) {
        this.log(`cc: ${call.action} of app ${guid} on ${call.backend} failed: ${(error as Error).stack ?? error}`)
      }
    }
  }
}

/** The first index whose value is not below `value` (values ascending): an app id, a generation. */
function lowerBound(values: readonly number[], value: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (values[mid]! < value) low = mid + 1
    else high = mid
  }
  return low
}
