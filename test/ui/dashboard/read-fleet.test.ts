// One poll of the apps, against the embedded CC on 127.0.0.1 (the medium seed, about 2,000 apps).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CcClient } from '../../../src/core/cc/index.js'
import { rowAt } from '../../../src/ui/dashboard/fleet.js'
import { readFleet } from '../../../src/ui/dashboard/read-fleet.js'
import { anAdminClient } from '../../core/cc/support.js'
import { type Foundation, startFoundation } from '../../scheduler/cc/support.js'

let f: Foundation
let client: CcClient

beforeAll(async () => {
  f = await startFoundation({ seed: 'medium' })
  client = (await anAdminClient(f.url)).client
})

afterAll(async () => {
  await client?.close()
  await f?.close()
})

describe('a poll of the apps', () => {
  it('holds every app the CC lists, in name order, with its org, space, state, size and backend', async () => {
    const { fleet } = await readFleet(client, { collect: () => {} })
    const [apps, spaces, orgs] = await Promise.all([client.apps(), client.spaces(), client.organizations()])
    expect(apps.length).toBeGreaterThan(1_000)
    expect(fleet.size).toBe(apps.length)
    const orgName = new Map(orgs.map((o) => [o.guid, o.name]))
    const place = new Map(spaces.map((s) => [s.guid, { org: orgName.get(s.orgGuid)!, space: s.name }]))
    const expected = apps
      .map((a) => ({
        guid: a.guid,
        name: a.name,
        ...place.get(a.spaceGuid)!,
        state: a.state,
        instances: a.instances,
        memoryMb: a.memoryMb,
        diskMb: a.diskMb,
        backend: a.diego ? 'diego' : 'dea',
      }))
      .sort((x, y) => (x.name !== y.name ? (x.name < y.name ? -1 : 1) : x.guid < y.guid ? -1 : 1))
    expect(Array.from({ length: fleet.size }, (_, i) => rowAt(fleet, i))).toEqual(expected)
  })

  it('has the garbage collected every so many apps read, so the reads do not pile up', async () => {
    let collections = 0
    const { fleet } = await readFleet(client, { collect: () => collections++, collectEvery: 500 })
    expect(collections).toBe(Math.floor(fleet.size / 500))
    expect(collections).toBeGreaterThan(1)
  })
})
