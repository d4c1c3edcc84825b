// The desired lists kept in step with the changes the CC reports to its bridge, instead of walked again after
// every write: after any sequence of flips, starts, stops, scalings and deletes, and writes the bridge never
// hears of, each list reads exactly as a fresh walk of the store would.
import { afterEach, describe, expect, it } from 'vitest'
import type { AppSpec } from '../../../src/scheduler/backend.js'
import type { BackendBridge } from '../../../src/scheduler/cc/bridge.js'
import { appSpecOf } from '../../../src/scheduler/cc/index.js'
import type { AppRecord } from '../../../src/scheduler/cc/store.js'
import { mulberry32 } from '../../../src/scheduler/random.js'
import { call, type Foundation, login, startFoundation } from './support.js'

let f: Foundation
afterEach(() => f?.close())

function walked(store: Foundation['store'], diego: boolean): AppSpec[] {
  return store
    .apps()
    .filter((a) => a.state === 'STARTED' && a.packageState === 'STAGED' && a.diego === diego)
    .map(appSpecOf)
}

/** A random change of one app: a flip (most), a start or stop, or a scaling. */
function aPatch(before: AppRecord, roll: number, random: () => number) {
  if (roll < 0.6) return { diego: !before.diego }
  if (roll < 0.8) return { state: before.state === 'STARTED' ? ('STOPPED' as const) : ('STARTED' as const) }
  return { instances: 1 + Math.floor(random() * 4) }
}

describe('desiredApps kept in step with each change', () => {
  it('reads as a fresh walk after 400 random changes, with reads in between', async () => {
    f = await startFoundation({ seed: 'small' })
    const bridge = f.cc.source as BackendBridge
    const random = mulberry32(0x5eed)
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!
    for (let op = 0; op < 400; op++) {
      const roll = random()
      if (roll < 0.05) {
        // A write the bridge is not told of: the lists must notice the store moved on without them.
        f.store.createOrg({ name: `org-${op}`, at: op })
      } else if (roll < 0.08 && f.store.apps().length > 10) {
        const before = pick(f.store.apps())
        f.store.deleteApp(before.guid)
        bridge.appChanged(before, undefined)
      } else {
        const before: AppRecord = pick(f.store.apps())
        const after = f.store.updateApp(before.guid, aPatch(before, roll, random), op)
        bridge.appChanged(before, after)
      }
      if (random() < 0.5) {
        const diego = random() < 0.5
        expect(bridge.desiredApps(diego ? 'diego' : 'dea'), `after op ${op}`).toEqual(walked(f.store, diego))
      }
    }
    expect(bridge.desiredApps('dea')).toEqual(walked(f.store, false))
    expect(bridge.desiredApps('diego')).toEqual(walked(f.store, true))
  })

  it('tells a reader which apps changed since its cursor, so that it can follow the list without reading it whole', async () => {
    f = await startFoundation({ seed: 'small' })
    const bridge = f.cc.source as BackendBridge
    const random = mulberry32(0xde17a)
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!
    const readers = (['dea', 'diego'] as const).map((backend) => ({
      backend,
      cursor: undefined as number | undefined,
      seen: new Map<string, AppSpec>(),
      deltas: 0,
    }))
    for (let op = 0; op < 600; op++) {
      const roll = random()
      if (roll < 0.02) {
        f.store.createOrg({ name: `org-${op}`, at: op }) // the bridge is not told: readers start over
      } else {
        const before: AppRecord = pick(f.store.apps())
        bridge.appChanged(before, f.store.updateApp(before.guid, aPatch(before, roll, random), op))
      }
      for (const reader of readers) {
        if (random() < 0.7) continue
        const delta = bridge.desiredChangesSince(reader.backend, reader.cursor)
        reader.cursor = delta.cursor
        if (delta.changed === undefined) {
          reader.seen = new Map(bridge.desiredApps(reader.backend).map((spec) => [spec.appGuid, spec]))
        } else {
          reader.deltas++
          for (const guid of delta.changed) {
            const spec = bridge.desiredApp(reader.backend, guid)
            if (spec) reader.seen.set(guid, spec)
            else reader.seen.delete(guid)
          }
        }
        const expected = walked(f.store, reader.backend === 'diego')
        expect(new Map(expected.map((spec) => [spec.appGuid, spec])), `${reader.backend} after op ${op}`).toEqual(
          reader.seen,
        )
      }
    }
    for (const reader of readers) expect(reader.deltas).toBeGreaterThan(100)
  })

  it('keeps handing out the same list when a change leaves it as it was', async () => {
    f = await startFoundation()
    const admin = (await login(f.url, 'admin', 'admin')).access_token
    const dea = f.cc.source.desiredApps('dea')
    const stopped = f.store.apps().find((a) => a.state === 'STOPPED' && !a.diego)!

    const res = await call(f.url, `/v2/apps/${stopped.guid}`, admin, { method: 'PUT', body: { diego: true } })

    expect(res.status).toBe(201)
    expect(f.cc.source.desiredApps('dea')).toBe(dea)
  })
})
