// How a backend's sync loop follows the CC's desired state: only the apps the CC says changed since the
// last sync, when it can say, and every app on the first sync and every FULL_SYNC_EVERY-th one after (as
// nsync's bulker and HM9000's desired-state fetch read everything on each of their rarer runs). The full
// reads are the safety net; the changes alone already carry every write the CC told its bridge about.
import type { AppSpec, BackendName, DesiredStateSource } from './backend.js'

/** Every this many syncs one reads every app, whatever the CC says changed. */
export const FULL_SYNC_EVERY = 30

export type SyncRead =
  | { kind: 'full'; apps: Iterable<AppSpec> }
  | { kind: 'changes'; appGuids: readonly string[]; app: (appGuid: string) => AppSpec | undefined }

export class DesiredSync {
  private cursor: number | undefined
  private syncsSinceFull = 0

  constructor(
    private readonly source: DesiredStateSource,
    private readonly backend: BackendName,
  ) {}

  /** What this sync reads: the apps changed since the last one, or (first, every so often, or when the CC cannot say) all of them. */
  read(): SyncRead {
    const { source, backend } = this
    const delta = source.desiredChangesSince?.(backend, this.cursor)
    this.cursor = delta?.cursor
    const desiredApp = source.desiredApp?.bind(source)
    if (delta?.changed !== undefined && desiredApp !== undefined && ++this.syncsSinceFull < FULL_SYNC_EVERY) {
      return { kind: 'changes', appGuids: [...new Set(delta.changed)], app: (appGuid) => desiredApp(backend, appGuid) }
    }
    this.syncsSinceFull = 0
    return { kind: 'full', apps: source.desiredApps(backend) }
  }
}
