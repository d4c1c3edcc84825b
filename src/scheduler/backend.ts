// What the Cloud Controller asks of a runtime backend, and what a backend reports back.
// Both the Diego engine and the DEA pool implement RuntimeBackend; the CC's bridges speak only this.

export type BackendName = 'diego' | 'dea'

/** A started app as the CC describes it to a backend. */
export interface AppSpec {
  appGuid: string
  name: string
  /** Changes on every restart; instances of an older version are replaced. */
  version: string
  instances: number
  memoryMb: number
  diskMb: number
  stack: string
  /** Hostnames the app answers on, e.g. `myapp.apps.internal`. */
  routes: string[]
  placementTags?: string[]
}

/** Instance states as each backend really reports them: DEA uses FLAPPING, Diego uses CRASHED. */
export type InstanceState = 'STARTING' | 'RUNNING' | 'CRASHED' | 'FLAPPING' | 'DOWN'

export interface InstanceStatus {
  index: number
  state: InstanceState
  /** When the instance entered this state (ms since the epoch, on the backend's clock). */
  since: number
  backend: BackendName
  /** Cell or DEA id the instance is placed on, when it has one. */
  host?: string
  port?: number
  uptimeSec?: number
  /** Why it is not running, e.g. a placement error. */
  details?: string
  memoryMb?: number
  diskMb?: number
}

export interface ResourceTotals {
  memoryMb: number
  diskMb: number
  containers: number
}

export interface BackendCapacity {
  total: ResourceTotals
  used: ResourceTotals
  /**
   * The backend has no container limit (DEAs: a DEA takes instances while it has memory and disk); its
   * `total.containers` then only repeats what runs, and the CC extension reports the total as null.
   */
  unlimitedContainers?: boolean
  /** Cells (Diego) or DEAs that exist, and those that are up and taking work. */
  nodes: number
  nodesUp: number
}

/** The CC's view that a backend's own sync loop reads: every started app that should run on it. */
export interface DesiredStateSource {
  desiredApps(backend: BackendName): Iterable<AppSpec>
  /**
   * The apps whose desired state on `backend` may have changed since `cursor` (from an earlier answer;
   * undefined the first time), and the cursor to pass next. `changed` is undefined when the source cannot
   * say (the cursor is too old, or the store moved on in a way it did not follow): read desiredApps() whole.
   * A source without it is always read whole.
   */
  desiredChangesSince?(backend: BackendName, cursor: number | undefined): DesiredDelta
  /** The app as `backend` should run it now, or undefined when it should not run there. */
  desiredApp?(backend: BackendName, appGuid: string): AppSpec | undefined
}

export interface DesiredDelta {
  cursor: number
  changed: readonly string[] | undefined
}

/** An instance that exited on its own: what the DEA's droplet.exited and Diego's crash report tell the CC. */
export interface AppCrash {
  appGuid: string
  index: number
  /** The instance's guid. */
  instance: string
  exitStatus: number
  exitDescription: string
}

/** The CC's request to stage an app's bits into a droplet (Diego: a Task; the DEAs: a staging run). */
export interface StagingRequest {
  /** Unique per attempt: the Task's guid on Diego. */
  stagingGuid: string
  appGuid: string
  memoryMb: number
  diskMb: number
  stack: string
  /** How long the buildpack runs. */
  durationMs: number
  /** The error the run ends with (bits no buildpack can stage); absent for a good package. */
  failure?: string
}

/** How a staging run ended; `error` is the backend's own words (a placement error, a buildpack's). */
export type StagingOutcome = { ok: true } | { ok: false; error: string }

export interface RuntimeBackend {
  readonly name: BackendName
  /** The CC's start/update message: run this app, at this size, now. */
  desire(spec: AppSpec): void
  /** The CC's stop message. */
  stop(appGuid: string): void
  /** One status per desired index (missing ones DOWN), plus any extra instances still running. */
  instances(appGuid: string): InstanceStatus[]
  capacity(): BackendCapacity
  /** Stages an app; `done` is called once, on the backend's clock, when the run ends. */
  stage?(request: StagingRequest, done: (outcome: StagingOutcome) => void): void
  /** CC's IndexStopper: stops the instance at `index`; the backend's own loop starts it again. */
  stopIndex?(appGuid: string, index: number): void
  /** Starts the backend's own loops (convergence, health management, sync) on its clock. */
  start(): void
  shutdown(): void
}
