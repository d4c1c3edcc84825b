// The DEAs' advertisements as the CC keeps them: a DEA whose counts did not change hands out the same
// counts again, and the CC's bump after a start changes only its own copy.
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { DeaFleet } from '../../../src/scheduler/dea/index.js'
import { RouteTable } from '../../../src/scheduler/routes.js'
import { aDea, anApp } from './builders.js'

function aFleet() {
  const clock = new FakeClock(1_000_000)
  const fleet = new DeaFleet({
    clock,
    routes: new RouteTable(),
    defaultBootMs: 1_000,
    advertiseIntervalMs: 5_000,
    advertisementTtlMs: 10_000,
    heartbeatIntervalMs: 10_000,
    onHeartbeat: () => {},
    onCrash: () => {},
    evacuationBailOutMs: 600_000,
  })
  const dea = fleet.add(aDea('dea-1'))
  return { clock, fleet, dea }
}

const adOf = (fleet: DeaFleet) => fleet.advertisements().find((ad) => ad.deaId === 'dea-1')!

describe('DEA advertisements', () => {
  it('carry the counts of the instances the DEA runs, per app', async () => {
    const { clock, fleet, dea } = aFleet()
    fleet.start()
    fleet.startInstance(dea, anApp({ appGuid: 'a' }), 0)
    fleet.startInstance(dea, anApp({ appGuid: 'a' }), 1)
    fleet.startInstance(dea, anApp({ appGuid: 'b' }), 0)
    await clock.advance(5_000)
    expect(Object.fromEntries(adOf(fleet).appInstanceCounts)).toEqual({ a: 2, b: 1 })
    fleet.shutdown()
  })

  it("keep the CC's bump after a start to its own copy: the DEA's next advertisement says what it runs", async () => {
    const { clock, fleet, dea } = aFleet()
    fleet.start()
    fleet.startInstance(dea, anApp({ appGuid: 'a' }), 0)
    await clock.advance(5_000)
    const before = adOf(fleet)
    fleet.noteStartSent('dea-1', 'a', 256)
    fleet.noteStartSent('dea-1', 'c', 256)
    expect(Object.fromEntries(adOf(fleet).appInstanceCounts)).toEqual({ a: 2, c: 1 })

    await clock.advance(5_000) // the starts never reached the DEA: it still runs one instance of a
    const after = adOf(fleet)
    expect(after).not.toBe(before)
    expect(Object.fromEntries(after.appInstanceCounts)).toEqual({ a: 1 })
    fleet.shutdown()
  })

  it('change once an instance starts or stops on the DEA', async () => {
    const { clock, fleet, dea } = aFleet()
    fleet.start()
    const first = fleet.startInstance(dea, anApp({ appGuid: 'a' }), 0)
    await clock.advance(5_000)
    const one = adOf(fleet).appInstanceCounts
    await clock.advance(5_000)
    expect(adOf(fleet).appInstanceCounts).toBe(one) // nothing changed: the same counts again
    fleet.startInstance(dea, anApp({ appGuid: 'a' }), 1)
    await clock.advance(5_000)
    expect(Object.fromEntries(adOf(fleet).appInstanceCounts)).toEqual({ a: 2 })
    if (typeof first === 'string') throw new Error(first)
    fleet.stopInstance(first)
    await clock.advance(5_000)
    expect(Object.fromEntries(adOf(fleet).appInstanceCounts)).toEqual({ a: 1 })
    fleet.shutdown()
  })
})
