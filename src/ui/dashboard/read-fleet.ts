// One poll of the target for the dashboard: every app, read with a schema of only the fields the table
// shows (a 50,000-app listing then holds small records, not the CC client's full ones), with org and space
// names, and the capacity, turned into a Fleet. The worker thread runs it; so can a test, on its own thread.
import { z } from 'zod'
import type { BackendsCapacity, CcClient } from '../../core/cc/index.js'
import { type Fleet, fleetFrom } from './fleet.js'

/** An app as the table needs it; zod drops every other field of the CC's resource. */
const TableApp = z.object({
  metadata: z.object({ guid: z.string() }),
  entity: z.object({
    name: z.string(),
    space_guid: z.string(),
    state: z.enum(['STARTED', 'STOPPED']),
    instances: z.number().int().nonnegative(),
    memory: z.number().int().nonnegative(),
    disk_quota: z.number().int().nonnegative(),
    diego: z.boolean(),
  }),
})

export interface FleetPoll {
  fleet: Fleet
  /** Absent when the target does not report it (a real CC). */
  capacity: BackendsCapacity | undefined
}

export async function readFleet(client: CcClient): Promise<FleetPoll> {
  const [apps, spaces, orgs, capacity] = await Promise.all([
    client.list('/v2/apps', TableApp),
    client.spaces(),
    client.organizations(),
    client.backendsCapacity(),
  ])
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]))
  const places = new Map(spaces.map((s) => [s.guid, { org: orgNames.get(s.orgGuid) ?? s.orgGuid, space: s.name }]))
  const fleet = fleetFrom(apps.length, (i) => {
    const { metadata, entity } = apps[i]!
    const place = places.get(entity.space_guid)
    return {
      guid: metadata.guid,
      name: entity.name,
      org: place?.org ?? '',
      space: place?.space ?? entity.space_guid,
      started: entity.state === 'STARTED',
      instances: entity.instances,
      memoryMb: entity.memory,
      diskMb: entity.disk_quota,
      diego: entity.diego,
    }
  })
  return { fleet, capacity }
}
