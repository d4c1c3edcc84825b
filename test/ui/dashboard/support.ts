// Builders for the dashboard's tests: app rows, and fleets of them.
import type { AppRow } from '../../../src/core/apps/inventory.js'
import { type Fleet, fleetOf } from '../../../src/ui/dashboard/fleet.js'

export function anAppRow(overrides: Partial<AppRow> & { name: string }): AppRow {
  return {
    guid: `guid-${overrides.name}`,
    org: 'acme',
    space: 'prod',
    state: 'STARTED',
    instances: 2,
    memoryMb: 512,
    diskMb: 1024,
    backend: 'dea',
    ...overrides,
  }
}

/** `count` apps named app-00000.., spread over orgs and both backends. */
export function aFleetOfRows(count: number): AppRow[] {
  return Array.from({ length: count }, (_, i) =>
    anAppRow({
      name: `app-${String(i).padStart(5, '0')}`,
      org: `org-${i % 50}`,
      space: `space-${i % 20}`,
      instances: 1 + (i % 4),
      memoryMb: 128 * (1 + (i % 8)),
      backend: i % 3 === 0 ? 'diego' : 'dea',
      state: i % 10 === 0 ? 'STOPPED' : 'STARTED',
    }),
  )
}

export function aFleet(rows: AppRow[]): Fleet {
  return fleetOf(rows)
}
