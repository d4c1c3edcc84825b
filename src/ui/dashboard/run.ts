// runDashboard: what `cfctl dashboard` and `cfctl migrate --ui` call. On a terminal it draws the live
// dashboard (ink and React load only then); otherwise it prints one plain-text snapshot and returns.
import { type Clock, RealClock, type Timer } from '../../clock.js'
import type { CcClient } from '../../core/cc/index.js'
import type { Journal } from '../../core/journal/journal.js'
import type { MigrationRunner } from '../../core/migration/runner.js'
import { colorEnabled } from '../text.js'
import { MigrationControl } from './control.js'
import { type FleetSource, fleetSourceOf, stepsInWorker, stopWorkerReads } from './fleet-source.js'
import { keepHeapSmall } from './heap.js'
import type { UiState } from './interaction.js'
import { plainSnapshot } from './plain.js'
import { DashboardStore } from './store.js'

export interface DashboardOptions {
  /** Polls the apps (read-fleet.ts), unless `source` is given. */
  client: CcClient
  journal: Journal
  /** The CC's URL, as migrations record it: the dashboard watches this target's running migration. */
  target: string
  /** A runner this process drives (`cfctl migrate --ui`): the dashboard watches it and steers it directly. */
  runner?: MigrationRunner
  /** Watch this migration rather than the target's running one (ignored when `runner` is given). */
  migrationId?: string
  /** Watch only: p, r, a, b, + and - do nothing. */
  readonly?: boolean
  /** Who a pause or an abort from the dashboard is recorded as (default 'dashboard'). */
  by?: string
  /**
   * Builds a runner (a FoundationPort on the same client) for a migration no process runs, so `r` resumes
   * it in this process and `b` rolls it back here. Without it, those keys only steer another cfctl's run.
   */
  runnerFor?: (migrationId: string) => MigrationRunner
  clock?: Clock
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
  env?: NodeJS.ProcessEnv
  /** Where apps and capacity come from (default: the client). */
  source?: FleetSource
  /** Seconds between polls of the apps, at the least (default 5). */
  appsPollMs?: number
  /** Frame metrics, for the benchmark. */
  onRender?: (metrics: { renderTime: number }) => void
  initial?: Partial<UiState>
}

/**
 * Shows the dashboard until the operator quits (q), then stops polling and, when a run or rollback the
 * dashboard started still goes on, interrupts it (it stays resumable). The runner handed in (`runner`) is
 * left as it is: the caller decides what becomes of its run.
 */
export async function runDashboard(options: DashboardOptions): Promise<void> {
  const clock = options.clock ?? new RealClock()
  const stdout = options.stdout ?? process.stdout
  const env = options.env ?? process.env
  const control = new MigrationControl({
    journal: options.journal,
    clock,
    runner: options.runner,
    runnerFor: options.runnerFor,
    by: options.by,
  })
  const store = new DashboardStore({
    journal: options.journal,
    target: options.target,
    clock,
    control,
    source: options.source ?? fleetSourceOf(options.client),
    steps: stepsInWorker(options.journal),
    migrationId: options.runner?.migrationId ?? options.migrationId,
    appsPollMs: options.appsPollMs,
  })
  let heapKeeper: Timer | undefined
  try {
    store.start()
    if (!stdout.isTTY) {
      await store.loaded()
      stdout.write(plainSnapshot(store.snapshotNow(), { width: stdout.columns, stream: stdout, env }))
      return
    }
    // React's development build checks every element it makes and is several times slower; a CLI runs
    // the production build unless someone asked otherwise. Set before React loads, which is just below.
    process.env.NODE_ENV ??= 'production'
    heapKeeper = keepHeapSmall({ clock })
    const { renderDashboard } = await import('./app.js')
    await renderDashboard(store, {
      readonly: options.readonly ?? false,
      color: colorEnabled(stdout, env),
      stdout,
      stdin: options.stdin ?? process.stdin,
      onRender: options.onRender,
      initial: options.initial,
    })
  } finally {
    heapKeeper?.cancel()
    store.stop()
    await stopWorkerReads()
    await control.shutdown()
  }
}
