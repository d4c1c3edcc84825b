// One poll of the apps, against the embedded CC on 127.0.0.1 (the medium seed, about 2,000 apps).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CcClient } from '../../../src/core/cc/index.js'
import { type Fleet, rowAt } from '../../../src/ui/dashboard/fleet.js'
import { readFleet } from '../../../src/ui/dashboard/read-fleet.js'
import { anAdminClient } from '../../core/cc/support.js'
import { type Foundation, startFoundation } from '../../scheduler/cc/support.js'

let f: Foundation
let client: CcClient
let token: string

beforeAll(async () => {
  f = await startFoundation({ seed: 'medium' })
  ;({ client, token } = await anAdminClient(f.url))
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

  it('reads the same fleet again when given the one before, and what changed meanwhile', async () => {
    const first = (await readFleet(client, { collect: () => {} })).fleet
    const rows = (fleet: Fleet) => Array.from({ length: fleet.size }, (_, i) => rowAt(fleet, i))
    const again = (await readFleet(client, { collect: () => {}, previous: first })).fleet
    expect(rows(again)).toEqual(rows(first))

    // One app renamed, one gone: the fleet before holds neither as it is now.
    const [renamed, gone] = await client.apps({ names: [rowAt(first, 0).name, rowAt(first, 1).name] })
    const asAdmin = { authorization: `bearer ${token}`, 'content-type': 'application/json' }
    const put = await fetch(`${f.url}/v2/apps/${renamed!.guid}`, {
      method: 'PUT',
      headers: asAdmin,
      body: JSON.stringify({ name: 'zz-renamed' }),
    })
    expect(put.status).toBe(201)
    const del = await fetch(`${f.url}/v2/apps/${gone!.guid}?recursive=true`, { method: 'DELETE', headers: asAdmin })
    expect(del.status).toBe(204)
    const after = (await readFleet(client, { collect: () => {}, previous: first })).fleet
    expect(rows(after)).toEqual(rows((await readFleet(client, { collect: () => {} })).fleet))
    expect(after.size).toBe(first.size - 1)
    expect(rows(after).find((r) => r.guid === renamed!.guid)?.name).toBe('zz-renamed')
    expect(rows(after).some((r) => r.guid === gone!.guid)).toBe(false)
  })

  it('has the garbage collected as it starts and every so many apps read, so the reads do not pile up', async () => {
    const collectedAt: number[] = []
    let read = 0
    // The client, counting the apps it hands over.
    const counting = Object.create(client) as CcClient
    counting.listMapped = (path, schema, map, query) =>
      client.listMapped(path, schema, (resource) => (read++, map(resource)), query)
    const { fleet } = await readFleet(counting, { collect: () => collectedAt.push(read), collectEvery: 500 })
    expect(collectedAt[0]).toBe(0)
    expect(collectedAt.slice(1)).toEqual(Array.from({ length: Math.floor(fleet.size / 500) }, (_, i) => (i + 1) * 500))
  })
})
