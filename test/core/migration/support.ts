import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { Clock, FakeClock } from '../../../src/clock.js'
import { Journal, type MigrationEvent } from '../../../src/core/journal/index.js'
import {
  createMigration,
  type MigrationPort,
  MigrationRunner,
  type MigrationSettings,
  type PlanOptions,
  planMigration,
  type RunnerOptions,
} from '../../../src/core/migration/index.js'
import type { FakeFoundation } from './fake-foundation.js'

export const TARGET = 'https://api.example.test'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A temporary directory, removed after the test. */
export function aTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-migration-'))
  dirs.push(dir)
  return dir
}

export interface MigrationSetup {
  plan?: Partial<PlanOptions>
  settings?: Partial<MigrationSettings>
}

/** Plans a migration of the world's fleet to Diego (by default) and writes it to the journal. */
export function aMigration(world: FakeFoundation, journal: Journal, setup: MigrationSetup = {}): string {
  const plan = planMigration(world.fleet(), { to: 'diego', ...setup.plan })
  const migration = createMigration(journal, plan, {
    target: TARGET,
    maxInFlight: setup.plan?.maxInFlight ?? 5,
    timeoutMs: 120_000,
    maxFailures: '100%',
    ...setup.settings,
  })
  return migration.id
}

export function aRunner(
  journal: Journal,
  migrationId: string,
  port: MigrationPort,
  clock: Clock,
  options: Partial<RunnerOptions> = {},
): MigrationRunner {
  return new MigrationRunner({ journal, migrationId, port, clock, ...options })
}

/** Collects the runner's events as it emits them. */
export function eventsOf(runner: MigrationRunner): MigrationEvent[] {
  const events: MigrationEvent[] = []
  runner.on((event) => events.push(event))
  return events
}

/** The greatest number of steps in flight at once, from step-started to the step's end. */
export function maxConcurrent(events: readonly MigrationEvent[]): number {
  let now = 0
  let max = 0
  for (const event of events) {
    if (event.type === 'step-started') max = Math.max(max, ++now)
    if (event.type === 'step-verified' || event.type === 'step-failed') now--
  }
  return max
}

export function openJournal(clock: FakeClock, path = ':memory:'): Journal {
  return Journal.open(path, { clock })
}
