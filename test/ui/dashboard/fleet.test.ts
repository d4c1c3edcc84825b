import { describe, expect, it } from 'vitest'
import { FleetColumns, rowAt } from '../../../src/ui/dashboard/fleet.js'

describe('the fleet built from columns as a poll reads them', () => {
  it('holds the rows it is given, in name order then guid, each org and space once', () => {
    const columns = new FleetColumns()
    // place 0 and 2 are the same org and space under two space guids; row 3 is a duplicate the walk dropped.
    columns.add('g-3', 'web', 0, true, 2, 512, 1024, false)
    columns.add('g-1', 'api', 1, false, 1, 256, 512, true)
    columns.add('g-2', 'web', 2, true, 3, 1024, 2048, true)
    columns.add('g-1', 'api', 1, false, 1, 256, 512, true)
    const places = [
      { org: 'acme', space: 'dev' },
      { org: 'acme', space: 'prod' },
      { org: 'acme', space: 'dev' },
    ]
    const fleet = columns.sorted(places, [0, 1, 2])
    expect(fleet.size).toBe(3)
    expect(Array.from({ length: 3 }, (_, i) => rowAt(fleet, i))).toEqual([
      {
        guid: 'g-1',
        name: 'api',
        org: 'acme',
        space: 'prod',
        state: 'STOPPED',
        instances: 1,
        memoryMb: 256,
        diskMb: 512,
        backend: 'diego',
      },
      {
        guid: 'g-2',
        name: 'web',
        org: 'acme',
        space: 'dev',
        state: 'STARTED',
        instances: 3,
        memoryMb: 1024,
        diskMb: 2048,
        backend: 'diego',
      },
      {
        guid: 'g-3',
        name: 'web',
        org: 'acme',
        space: 'dev',
        state: 'STARTED',
        instances: 2,
        memoryMb: 512,
        diskMb: 1024,
        backend: 'dea',
      },
    ])
    expect(fleet.places).toEqual([
      { org: 'acme', space: 'dev' },
      { org: 'acme', space: 'prod' },
    ])
  })

  it('grows past its first thousand rows', () => {
    const columns = new FleetColumns()
    for (let i = 0; i < 5_000; i++)
      columns.add(`g-${i}`, `app-${String(i).padStart(4, '0')}`, 0, i % 2 === 0, i, i, i, false)
    const fleet = columns.sorted([{ org: 'o', space: 's' }])
    expect(fleet.size).toBe(5_000)
    expect(rowAt(fleet, 4_999)).toMatchObject({ name: 'app-4999', instances: 4_999, state: 'STOPPED' })
  })
})
