import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AppKeys,
  analyze,
  type CrashCount,
  DEFAULT_HEALTH_CONFIG,
  type DeaHeartbeat,
  type DesiredApp,
  DesiredIndex,
  desiredState,
  type HealthView,
  type HeartbeatState,
  type InstanceHeartbeat,
  type LiveInstance,
  type PendingStart,
  type PendingStop,
  restartDelayMs,
  startStillNeeded,
  stopStillWanted,
} from '../../../src/scheduler/dea/index.js'

const NOW = 10_000_000
const config = DEFAULT_HEALTH_CONFIG
let seq = 0

function anInstance(
  appGuid: string,
  index: number,
  state: HeartbeatState = 'RUNNING',
  extra: Partial<InstanceHeartbeat> = {},
): InstanceHeartbeat {
  return { instanceGuid: `i-${++seq}`, appGuid, version: 'v1', index, state, since: NOW - 60_000, ...extra }
}

function aHeartbeat(deaId: string, instances: InstanceHeartbeat[], extra: Partial<DeaHeartbeat> = {}): DeaHeartbeat {
  return { deaId, at: NOW - 1_000, evacuating: false, instances, ...extra }
}

function desiring(...apps: Array<Partial<DesiredApp> & { appGuid: string }>) {
  return desiredState(apps.map((a) => ({ version: 'v1', instances: 1, desiredAt: NOW - 600_000, ...a })))
}

function view(heartbeats: DeaHeartbeat[], extra: Partial<HealthView> = {}): HealthView {
  return { heartbeats, crashCounts: new Map(), pendingStarts: new Map(), pendingStops: new Map(), ...extra }
}

/** A stop queued in an earlier pass for the instance. */
function pendingStopOf(
  inst: InstanceHeartbeat,
  sendAt: number,
  reason: PendingStop['reason'],
): Map<string, PendingStop> {
  const { instanceGuid, appGuid, version, index } = inst
  return new Map([[instanceGuid, { instanceGuid, appGuid, version, index, deaId: 'd1', sendAt, reason }]])
}

function crashes(appGuid: string, index: number, count: number): Map<string, CrashCount[]> {
  return new Map([[appGuid, [{ version: 'v1', index, count, firstCrashAt: NOW - 100_000, lastCrashAt: NOW - 10_000 }]]])
}

describe('restartDelayMs (the Diego crash curve HM9000 shares)', () => {
  it('restarts the first two crashes at once, then backs off 30 s doubling to 16 min, and gives up after 200', () => {
    const minutes = (ms: number | undefined) => (ms === undefined ? 'never' : ms / 1000)
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 200, 201].map((n) => minutes(restartDelayMs(n)))).toEqual([
      0,
      0,
      30,
      60,
      120,
      240,
      480,
      960,
      960,
      960,
      960,
      'never',
    ])
  })
})

describe('analyze (one health-manager pass)', () => {
  it('does nothing when every desired index runs once', () => {
    const a = analyze(
      desiring({ appGuid: 'a', instances: 2 }),
      view([aHeartbeat('d1', [anInstance('a', 0), anInstance('a', 1, 'STARTING')])]),
      NOW,
      config,
    )
    expect(a).toEqual({ starts: [], stops: [] })
  })

  it('queues a missing index to start one grace period from now', () => {
    const a = analyze(
      desiring({ appGuid: 'a', instances: 2 }),
      view([aHeartbeat('d1', [anInstance('a', 0)])]),
      NOW,
      config,
    )
    expect(a.starts).toEqual([{ appGuid: 'a', version: 'v1', index: 1, sendAt: NOW + 30_000, reason: 'missing' }])
  })

  it('counts the grace of an index never placed from when the app was desired', () => {
    const a = analyze(desiring({ appGuid: 'a', desiredAt: NOW - 12_000 }), view([]), NOW, config)
    expect(a.starts.map((s) => s.sendAt)).toEqual([NOW + 18_000])
  })

  it('treats the instances of a DEA that missed three heartbeats as missing', () => {
    const desired = desiring({ appGuid: 'a' })
    const lastHeard = (at: number) => view([aHeartbeat('d1', [anInstance('a', 0)], { at })])
    expect(analyze(desired, lastHeard(NOW - 29_999), NOW, config).starts).toEqual([])
    expect(analyze(desired, lastHeard(NOW - 30_000), NOW, config).starts).toMatchObject([
      { index: 0, reason: 'missing' },
    ])
  })

  it('does not queue a start that is already pending, but brings one forward', () => {
    const desired = desiring({ appGuid: 'a' })
    const pending = (sendAt: number): Map<string, PendingStart[]> =>
      new Map([['a', [{ appGuid: 'a', version: 'v1', index: 0, sendAt, reason: 'missing' }]]])
    expect(analyze(desired, view([], { pendingStarts: pending(NOW + 5_000) }), NOW, config).starts).toEqual([])
    // An evacuation start is due now, sooner than a pending missing start.
    const evacuating = view([aHeartbeat('d1', [anInstance('a', 0)], { evacuating: true })], {
      pendingStarts: pending(NOW + 5_000),
    })
    expect(analyze(desired, evacuating, NOW, config).starts).toMatchObject([
      { index: 0, sendAt: NOW, reason: 'evacuating' },
    ])
  })

  it('restarts a crashed index on the crash curve, counted from the crash', () => {
    const crashedAt = NOW - 10_000
    const hb = [aHeartbeat('d1', [anInstance('a', 0, 'CRASHED', { since: crashedAt })])]
    const at = (count: number) =>
      analyze(desiring({ appGuid: 'a' }), view(hb, { crashCounts: crashes('a', 0, count) }), NOW, config).starts
    expect(at(1)).toEqual([{ appGuid: 'a', version: 'v1', index: 0, sendAt: crashedAt, reason: 'crashed' }])
    expect(at(3)).toMatchObject([{ sendAt: crashedAt + 30_000 }])
    expect(at(8)).toMatchObject([{ sendAt: crashedAt + 16 * 60_000 }])
    expect(at(201)).toEqual([])
  })

  it('restarts only index 0 of an app whose every instance crashed', () => {
    const hb = [aHeartbeat('d1', [anInstance('a', 0, 'CRASHED'), anInstance('a', 1, 'CRASHED')])]
    expect(analyze(desiring({ appGuid: 'a', instances: 2 }), view(hb), NOW, config).starts.map((s) => s.index)).toEqual(
      [0],
    )
    const oneUp = [aHeartbeat('d1', [anInstance('a', 0), anInstance('a', 1, 'CRASHED')])]
    expect(
      analyze(desiring({ appGuid: 'a', instances: 2 }), view(oneUp), NOW, config).starts.map((s) => s.index),
    ).toEqual([1])
  })

  it('stops at once every instance of an app no longer desired on the DEAs, crashed ones included', () => {
    const gone = [anInstance('flipped', 0), anInstance('flipped', 1, 'STARTING'), anInstance('flipped', 2, 'CRASHED')]
    const a = analyze(
      desiring({ appGuid: 'other' }),
      view([aHeartbeat('d1', [anInstance('other', 0), ...gone])]),
      NOW,
      config,
    )
    expect(a.stops).toEqual(
      gone.map((i) => ({
        instanceGuid: i.instanceGuid,
        appGuid: 'flipped',
        version: 'v1',
        index: i.index,
        deaId: 'd1',
        sendAt: NOW,
        reason: 'extra',
      })),
    )
  })

  it('stops instances past the desired count and of an older version', () => {
    const old = anInstance('a', 0, 'RUNNING', { version: 'v0' })
    const beyond = anInstance('a', 2)
    const hb = [aHeartbeat('d1', [anInstance('a', 0), anInstance('a', 1), old, beyond])]
    const a = analyze(desiring({ appGuid: 'a', instances: 2 }), view(hb), NOW, config)
    expect(a.stops.map((s) => [s.instanceGuid, s.reason])).toEqual([
      [old.instanceGuid, 'extra'],
      [beyond.instanceGuid, 'extra'],
    ])
  })

  it('stops no extra instance of an app in a pass that queued a start for it', () => {
    const hb = [aHeartbeat('d1', [anInstance('a', 0), anInstance('a', 2), anInstance('b', 1)])]
    const a = analyze(desiring({ appGuid: 'a', instances: 2 }, { appGuid: 'b', instances: 1 }), view(hb), NOW, config)
    expect(a.starts).toMatchObject([
      { appGuid: 'a', index: 1 },
      { appGuid: 'b', index: 0 },
    ])
    expect(a.stops).toEqual([])
  })

  it('stops extras once the start was queued in an earlier pass', () => {
    const hb = [aHeartbeat('d1', [anInstance('a', 0), anInstance('a', 2)])]
    const pendingStarts = new Map([
      ['a', [{ appGuid: 'a', version: 'v1', index: 1, sendAt: NOW + 1, reason: 'missing' as const }]],
    ])
    const a = analyze(desiring({ appGuid: 'a', instances: 2 }), view(hb, { pendingStarts }), NOW, config)
    expect(a.starts).toEqual([])
    expect(a.stops).toMatchObject([{ index: 2, reason: 'extra' }])
  })

  it('stops duplicates of an index one grace period apart, so that the sender can keep the last', () => {
    const twins = [anInstance('a', 0), anInstance('a', 0), anInstance('a', 0, 'STARTING')]
    const a = analyze(
      desiring({ appGuid: 'a' }),
      view([aHeartbeat('d1', twins.slice(0, 2)), aHeartbeat('d2', twins.slice(2))]),
      NOW,
      config,
    )
    expect(a.stops.map((s) => [s.instanceGuid, s.sendAt, s.reason])).toEqual(
      twins.map((t, i) => [t.instanceGuid, NOW + (i + 1) * 30_000, 'duplicate']),
    )
  })

  it('starts an evacuating instance elsewhere at once, waits while the replacement starts, then stops the original', () => {
    const evacuee = anInstance('a', 0)
    const evacuating = aHeartbeat('old', [evacuee], { evacuating: true })
    const desired = desiring({ appGuid: 'a' })
    expect(analyze(desired, view([evacuating]), NOW, config)).toEqual({
      starts: [{ appGuid: 'a', version: 'v1', index: 0, sendAt: NOW, reason: 'evacuating' }],
      stops: [],
    })
    const starting = aHeartbeat('new', [anInstance('a', 0, 'STARTING')])
    expect(analyze(desired, view([evacuating, starting]), NOW, config)).toEqual({ starts: [], stops: [] })
    const running = aHeartbeat('new', [anInstance('a', 0, 'RUNNING')])
    expect(analyze(desired, view([evacuating, running]), NOW, config).stops).toEqual([
      {
        instanceGuid: evacuee.instanceGuid,
        appGuid: 'a',
        version: 'v1',
        index: 0,
        deaId: 'old',
        sendAt: NOW,
        reason: 'evacuated',
      },
    ])
  })

  it('does not queue a stop that is already pending', () => {
    const extra = anInstance('gone', 0)
    const pendingStops = pendingStopOf(extra, NOW, 'extra')
    expect(analyze(desiring(), view([aHeartbeat('d1', [extra])], { pendingStops }), NOW, config).stops).toEqual([])
  })

  it("brings forward a duplicate's later stop once its app is no longer desired here (flipped to Diego)", () => {
    const twin = anInstance('flipped', 1)
    const pendingStops = pendingStopOf(twin, NOW + 2 * config.gracePeriodMs, 'duplicate')
    const { stops } = analyze(desiring(), view([aHeartbeat('d1', [twin])], { pendingStops }), NOW, config)
    expect(stops).toEqual([expect.objectContaining({ instanceGuid: twin.instanceGuid, sendAt: NOW, reason: 'extra' })])
  })

  it('gives the same answer when run twice on the same state (its scratch space carries nothing over)', () => {
    const big = desiring({ appGuid: 'a', instances: 50 }, { appGuid: 'b', instances: 3 })
    const hbs = [
      aHeartbeat('d1', [anInstance('a', 3), anInstance('a', 3), anInstance('b', 7), anInstance('b', 0, 'CRASHED')]),
    ]
    const first = analyze(big, view(hbs), NOW, config)
    analyze(
      desiring({ appGuid: 'c', instances: 2 }),
      view([aHeartbeat('d9', [anInstance('c', 0, 'CRASHED')])]),
      NOW,
      config,
    )
    expect(analyze(big, view(hbs), NOW, config)).toEqual(first)
  })
})

describe("app keys (the pool's interned app guids)", () => {
  const guids = ['a', 'b', 'c', 'd', 'e']
  const instance = fc.record({
    app: fc.integer({ min: 0, max: guids.length - 1 }),
    version: fc.constantFrom('v1', 'v2'),
    index: fc.integer({ min: 0, max: 4 }),
    state: fc.constantFrom<HeartbeatState>('STARTING', 'RUNNING', 'CRASHED'),
  })
  const world = fc.record({
    desired: fc.uniqueArray(
      fc.record({ app: fc.integer({ min: 0, max: guids.length - 1 }), instances: fc.integer({ min: 0, max: 4 }) }),
      { selector: (d) => d.app, maxLength: guids.length },
    ),
    deas: fc.array(fc.record({ evacuating: fc.boolean(), instances: fc.array(instance, { maxLength: 12 }) }), {
      maxLength: 4,
    }),
    /** A key table that does not match the guids: stale or another pool's keys. */
    scramble: fc.boolean(),
  })

  it('give the same analysis as the guids alone, even when the keys are wrong', () => {
    fc.assert(
      fc.property(world, ({ desired, deas, scramble }) => {
        const keys = new AppKeys()
        const keyOf = (app: number) => keys.keyOf(guids[app]!)
        // Scrambled, an instance carries the key another app has in the desired state.
        const instanceKeyOf = (app: number) => (scramble ? keyOf((app + 1) % guids.length) : keyOf(app))
        const heartbeats = (keyed: boolean) =>
          deas.map((dea, d) =>
            aHeartbeat(
              `d${d}`,
              dea.instances.map((inst, k) => ({
                instanceGuid: `i-${d}-${k}`,
                appGuid: guids[inst.app]!,
                ...(keyed ? { appKey: instanceKeyOf(inst.app) } : {}),
                version: inst.version,
                index: inst.index,
                state: inst.state,
                since: NOW - 60_000,
              })),
              { evacuating: dea.evacuating },
            ),
          )
        const desire = (keyed: boolean) =>
          desiring(
            ...desired.map((d) => ({
              appGuid: guids[d.app]!,
              instances: d.instances,
              ...(keyed ? { appKey: keyOf(d.app) } : {}),
            })),
          )
        const plain = analyze(desire(false), view(heartbeats(false)), NOW, config)
        expect(analyze(desire(true), view(heartbeats(true)), NOW, config)).toEqual(plain)
      }),
    )
  })

  it('are handed out once per guid', () => {
    const keys = new AppKeys()
    expect([keys.keyOf('a'), keys.keyOf('b'), keys.keyOf('a')]).toEqual([0, 1, 0])
    expect(keys.size).toBe(2)
  })
})

describe('DesiredIndex (the desired state kept app by app)', () => {
  it('reads as desiredState of the same apps after any sequence of sets and deletes', () => {
    const op = fc.record({
      app: fc.integer({ min: 0, max: 7 }),
      remove: fc.boolean(),
      instances: fc.integer({ min: 0, max: 3 }),
      keyed: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new DesiredIndex()
        const model = new Map<string, DesiredApp>()
        for (const o of ops) {
          const appGuid = `app-${o.app}`
          if (o.remove) {
            index.delete(appGuid)
            model.delete(appGuid)
          } else {
            const app = {
              appGuid,
              version: 'v1',
              instances: o.instances,
              desiredAt: 0,
              ...(o.keyed ? { appKey: o.app } : {}),
            }
            index.set(app)
            model.set(appGuid, app)
          }
          expect(new Set(index.apps)).toEqual(new Set(model.values()))
          expect(index.apps).toHaveLength(model.size)
          for (const [guid, slot] of index.slots) expect(index.apps[slot]!.appGuid).toBe(guid)
          for (let key = 0; key < index.slotsByKey.length; key++) {
            const slot = index.slotsByKey[key]!
            const holder = [...model.values()].find((a) => a.appKey === key)
            expect(slot === -1 ? undefined : index.apps[slot]).toBe(holder)
          }
        }
      }),
    )
  })
})

describe('desiredState', () => {
  it('rejects two apps with one key, and a key that is not a whole number', () => {
    expect(() => desiring({ appGuid: 'a', appKey: 3 }, { appGuid: 'b', appKey: 3 })).toThrow(
      'desired apps a and b share appKey 3',
    )
    expect(() => desiring({ appGuid: 'a', appKey: -1 })).toThrow(
      'desired app a: appKey must be a whole number >= 0, got -1',
    )
  })

  it('rejects an app listed twice or with a bad instance count', () => {
    expect(() => desiring({ appGuid: 'a' }, { appGuid: 'a' })).toThrow('desired app a is listed twice')
    expect(() => desiring({ appGuid: 'a', instances: -1 })).toThrow(
      'desired app a: instances must be a whole number >= 0, got -1',
    )
    expect(() => desiring({ appGuid: '' })).toThrow('desired app without an appGuid')
  })
})

describe('the sender re-checks an order before sending it', () => {
  const live = (index: number, state: HeartbeatState, deaId = 'd1', version = 'v1'): LiveInstance => ({
    ...anInstance('a', index, state, { version }),
    deaId,
  })
  const app: DesiredApp = { appGuid: 'a', version: 'v1', instances: 2, desiredAt: 0 }
  const start: PendingStart = { appGuid: 'a', version: 'v1', index: 1, sendAt: NOW, reason: 'missing' }
  const notEvacuating = () => false

  it('drops a start when the index came back, the app scaled down, moved on to a new version, or left', () => {
    expect(startStillNeeded(start, app, [live(0, 'RUNNING')], notEvacuating)).toBe(true)
    expect(startStillNeeded(start, app, [live(1, 'CRASHED')], notEvacuating)).toBe(true)
    expect(startStillNeeded(start, app, [live(1, 'STARTING')], notEvacuating)).toBe(false)
    expect(startStillNeeded(start, { ...app, instances: 1 }, [], notEvacuating)).toBe(false)
    expect(startStillNeeded(start, { ...app, version: 'v2' }, [], notEvacuating)).toBe(false)
    expect(startStillNeeded(start, undefined, [], notEvacuating)).toBe(false)
  })

  it('still starts an index whose only instance is on an evacuating DEA', () => {
    expect(startStillNeeded(start, app, [live(1, 'RUNNING', 'old')], (id) => id === 'old')).toBe(true)
  })

  it('stops a duplicate only while a twin remains, and never the last RUNNING one for a STARTING twin', () => {
    const [a, b] = [live(0, 'RUNNING'), live(0, 'RUNNING', 'd2')]
    const stop = (target: LiveInstance): PendingStop => ({ ...target, sendAt: NOW, reason: 'duplicate' })
    expect(stopStillWanted(stop(a), app, [a, b], notEvacuating)).toBe(true)
    expect(stopStillWanted(stop(a), app, [a], notEvacuating)).toBe(false)
    const starting = live(0, 'STARTING', 'd3')
    expect(stopStillWanted(stop(a), app, [a, starting], notEvacuating)).toBe(false)
    expect(stopStillWanted(stop(starting), app, [a, starting], notEvacuating)).toBe(true)
    expect(stopStillWanted(stop(a), app, [b], notEvacuating)).toBe(false)
  })

  it('stops an evacuated instance only once a replacement RUNS, and an extra only while it is still extra', () => {
    const evacuee = live(0, 'RUNNING', 'old')
    const evacuated: PendingStop = { ...evacuee, sendAt: NOW, reason: 'evacuated' }
    const isOld = (id: string) => id === 'old'
    expect(stopStillWanted(evacuated, app, [evacuee, live(0, 'STARTING')], isOld)).toBe(false)
    expect(stopStillWanted(evacuated, app, [evacuee, live(0, 'RUNNING')], isOld)).toBe(true)
    const beyond = live(1, 'RUNNING')
    const extra: PendingStop = { ...beyond, sendAt: NOW, reason: 'extra' }
    expect(stopStillWanted(extra, { ...app, instances: 1 }, [beyond], notEvacuating)).toBe(true)
    expect(stopStillWanted(extra, app, [beyond], notEvacuating)).toBe(false)
  })
})
