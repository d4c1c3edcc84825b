// A dashboard over the fake foundation of the migration tests: its fleet as the apps source, a journal on
// the same FakeClock, a store and its control, and a runner for the migration when one is wanted.
import { FakeClock } from '../../../src/clock.js'
import type { AppRow } from '../../../src/core/apps/inventory.js'
import type { Journal } from '../../../src/core/journal/index.js'
import type { MigrationRunner } from '../../../src/core/migration/index.js'
import { type ControlOptions, MigrationControl } from '../../../src/ui/dashboard/control.js'
import { fleetOf } from '../../../src/ui/dashboard/fleet.js'
import type { FleetSource } from '../../../src/ui/dashboard/fleet-source.js'
import { DashboardStore, type StoreOptions } from '../../../src/ui/dashboard/store.js'
import { FakeFoundation, settle } from '../../core/migration/fake-foundation.js'
import { aMigration, aRunner, openJournal, TARGET } from '../../core/migration/support.js'

export { TARGET }

export function sourceOf(world: FakeFoundation): FleetSource & { polls: number } {
  const source = {
    polls: 0,
    poll: async () => {
      source.polls++
      const rows: AppRow[] = world
        .fleet()
        .map((app) => ({ ...app, diskMb: 1024, backend: app.diego ? 'diego' : 'dea' }))
      return { fleet: fleetOf(rows), capacity: undefined }
    },
  }
  return source
}

export interface DashboardWorld {
  clock: FakeClock
  world: FakeFoundation
  journal: Journal
  source: ReturnType<typeof sourceOf>
  /** Plans a migration of the whole fleet to Diego; returns its id. */
  plan(settings?: NonNullable<Parameters<typeof aMigration>[2]>['settings']): string
  /**
   * Plans a migration and runs it for a moment, then interrupts it: one that was started (and confirmed),
   * now paused by 'interrupt' with no cfctl running it. Returns its id.
   */
  started(settings?: NonNullable<Parameters<typeof aMigration>[2]>['settings']): Promise<string>
  runner(id: string): MigrationRunner
  store(options?: Partial<Omit<StoreOptions, 'control'>> & { control?: Partial<ControlOptions> }): {
    store: DashboardStore
    control: MigrationControl
  }
}

export function aDashboardWorld(apps = 20, journal?: (clock: FakeClock) => Journal): DashboardWorld {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  const j = journal ? journal(clock) : openJournal(clock)
  const source = sourceOf(world)
  return {
    clock,
    world,
    journal: j,
    source,
    plan: (settings) => aMigration(world, j, { settings: { rate: '60/min', ...settings } }),
    runner: (id) => aRunner(j, id, world.port(), clock),
    started: async (settings) => {
      const id = aMigration(world, j, { settings: { rate: '60/min', ...settings } })
      const runner = aRunner(j, id, world.port(), clock)
      const run = runner.run()
      await clock.advance(0)
      runner.interrupt('interrupt')
      await settle(clock, run)
      return id
    },
    store: ({ control: controlOptions, ...options } = {}) => {
      const control = new MigrationControl({ journal: j, clock, ...controlOptions })
      const store = new DashboardStore({ journal: j, target: TARGET, clock, control, source, ...options })
      return { store, control }
    },
  }
}
