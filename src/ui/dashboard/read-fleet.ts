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

/** An app as the poll holds it until the fleet is built: one small record, its space as an index. */
interface PolledApp {
  guid: string
  name: string
  space: number
  started: boolean
  instances: number
  memoryMb: number
  diskMb: number
  diego: boolean
}

export async function readFleet(client: CcClient): Promise<FleetPoll> {
  // Each app's space guid is held once, as an index: 50,000 apps carry only some thousand distinct ones.
  const spaceGuids: string[] = []
  const spaceIndex = new Map<string, number>()
  const polled = ({ metadata, entity }: z.infer<typeof TableApp>): PolledApp => {
    let space = spaceIndex.get(entity.space_guid)
    if (space === undefined) {
      space = spaceGuids.length
      spaceGuids.push(entity.space_guid)
      spaceIndex.set(entity.space_guid, space)
    }
    return {
      guid: metadata.guid,
      name: entity.name,
      space,
      started: entity.state === 'STARTED',
      instances: entity.instances,
      memoryMb: entity.memory,
      diskMb: entity.disk_quota,
      diego: entity.diego,
    }
  }
  const [apps, spaces, orgs, capacity] = await Promise.all([
    client.listMapped('/v2/apps', TableApp, polled),
    client.spaces(),
    client.organizations(),
    client.backendsCapacity(),
  ])
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]))
  const places = new Map(spaces.map((s) => [s.guid, { org: orgNames.get(s.orgGuid) ?? s.orgGuid, space: s.name }]))
  const fleet = fleetFrom(apps.length, (i) => {
    const app = apps[i]!
    const spaceGuid = spaceGuids[app.space]!
    const place = places.get(spaceGuid)
    return {
      guid: app.guid,
      name: app.name,
      org: place?.org ?? '',
      space: place?.space ?? spaceGuid,
      started: app.started,
      instances: app.instances,
      memoryMb: app.memoryMb,
      diskMb: app.diskMb,
      diego: app.diego,
    }
  })
  return { fleet, capacity }
}
