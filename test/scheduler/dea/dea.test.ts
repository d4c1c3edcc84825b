import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { DeaPool } from '../../../src/scheduler/dea/index.js'
import { RouteTable } from '../../../src/scheduler/routes.js'
import { aDea, aFoundation, anApp, CloudControllerDouble, runningIndexes } from './builders.js'

const HM = 10_000
const BOOT = 1_000

describe('DeaPool: starting and stopping apps', () => {
  it('places the instances of a desired app at once and runs them after the boot delay', async () => {
    const { clock, cc, pool, routes } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 3 }))

    const starting = pool.instances('web')
    expect(starting.map((s) => [s.index, s.state, s.backend])).toEqual([
      [0, 'STARTING', 'dea'],
      [1, 'STARTING', 'dea'],
      [2, 'STARTING', 'dea'],
    ])
    expect(starting.every((s) => s.host?.startsWith('dea-') && s.since === clock.now())).toBe(true)
    expect(routes.lookup('web.apps.internal')).toEqual([])

    await clock.advance(BOOT)
    const running = pool.instances('web')
    expect(running.map((s) => s.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING'])
    expect(running.every((s) => s.since === clock.now() && s.uptimeSec === 0 && s.memoryMb === 256)).toBe(true)
    expect(
      routes
        .lookup('web.apps.internal')
        .map((e) => e.index)
        .sort(),
    ).toEqual([0, 1, 2])

    await clock.advance(61_000)
    expect(pool.instances('web').map((s) => s.uptimeSec)).toEqual([61, 61, 61])
  })

  it('places what it is asked before start() however long that takes: the DEAs advertise as time passes', async () => {
    // A foundation places its seeded apps before the loops start; on a loaded machine that took longer than an
    // advertisement lives (10 s), and every app after that point stayed DOWN with "no DEA is advertising".
    const clock = new FakeClock()
    const cc = new CloudControllerDouble()
    const pool = new DeaPool({ clock, source: cc, routes: new RouteTable(), deas: [aDea('dea-1'), aDea('dea-2')] })
    cc.pool = pool
    cc.start(anApp({ appGuid: 'early', instances: 2 }))
    await clock.advance(25_000) // no loop runs before start(): nothing advertises on a timer
    cc.start(anApp({ appGuid: 'late', instances: 2 }))
    expect(pool.instances('late').map((s) => [s.state, s.details])).toEqual([
      ['STARTING', undefined],
      ['STARTING', undefined],
    ])
    pool.shutdown()
  })

  it('boots what it was given before start() once it starts, so a seed is no storm of overdue boots', async () => {
    const clock = new FakeClock()
    const cc = new CloudControllerDouble()
    const routes = new RouteTable()
    const pool = new DeaPool({ clock, source: cc, routes, deas: [aDea('dea-1'), aDea('dea-2')] })
    cc.pool = pool
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    await clock.advance(3 * BOOT) // the seed took a while: nothing boots before the DEAs are up
    expect(pool.instances('web').map((s) => s.state)).toEqual(['STARTING', 'STARTING'])
    pool.start()
    await clock.advance(BOOT - 1)
    expect(pool.instances('web').map((s) => s.state)).toEqual(['STARTING', 'STARTING'])
    await clock.advance(1)
    expect(pool.instances('web').map((s) => s.state)).toEqual(['RUNNING', 'RUNNING'])
    expect(routes.lookup('web.apps.internal')).toHaveLength(2)
    pool.shutdown()
  })

  it("boots what it was given before start() after each DEA's own boot delay", async () => {
    const clock = new FakeClock()
    const cc = new CloudControllerDouble()
    const deas = [aDea('dea-fast', { bootMs: BOOT }), aDea('dea-slow', { zone: 'z2', bootMs: 3 * BOOT })]
    const pool = new DeaPool({ clock, source: cc, routes: new RouteTable(), deas })
    cc.pool = pool
    cc.start(anApp({ appGuid: 'web', instances: 2 })) // one in each zone: one on each DEA
    const stateOn = (deaId: string) => pool.instancesOnDeas('web').find((i) => i.deaId === deaId)?.state
    pool.start()
    await clock.advance(BOOT)
    expect([stateOn('dea-fast'), stateOn('dea-slow')]).toEqual(['RUNNING', 'STARTING'])
    await clock.advance(2 * BOOT)
    expect([stateOn('dea-fast'), stateOn('dea-slow')]).toEqual(['RUNNING', 'RUNNING'])
    pool.shutdown()
  })

  it('spreads an app across zones first, then across the DEAs of a zone', () => {
    const { cc, pool } = aFoundation() // dea-1 and dea-3 in z1, dea-2 alone in z2
    cc.start(anApp({ appGuid: 'web', instances: 4 }))
    const perDea = new Map<string, number>()
    for (const i of pool.instancesOnDeas('web')) perDea.set(i.deaId, (perDea.get(i.deaId) ?? 0) + 1)
    expect(Object.fromEntries(perDea)).toEqual({ 'dea-1': 1, 'dea-2': 2, 'dea-3': 1 })
  })

  it('keeps why an instance could not be placed and shows it on the DOWN instance', () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'huge', instances: 1, memoryMb: 100_000 }))
    expect(pool.instances('huge')).toEqual([
      {
        index: 0,
        state: 'DOWN',
        since: clock.now(),
        backend: 'dea',
        details: 'insufficient resources: memory (no DEA advertises 100000 MB free)',
      },
    ])
    cc.start(anApp({ appGuid: 'win', stack: 'windows2012R2' }))
    expect(pool.instances('win')[0]?.details).toBe('found no DEA for stack "windows2012R2"')
  })

  it('stops every instance of an app at once on the stop message, routes first', async () => {
    const { clock, cc, pool, routes } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    await clock.advance(BOOT)
    cc.stop('web')
    expect(pool.instancesOnDeas('web')).toEqual([])
    expect(pool.instances('web')).toEqual([])
    expect(routes.lookup('web.apps.internal')).toEqual([])
    expect(pool.capacity().used).toEqual({ memoryMb: 0, diskMb: 0, containers: 0 })
  })

  it('places added instances at once on a scale-up and leaves a scale-down to the health manager', async () => {
    const { clock, cc, pool } = aFoundation({ desiredFetchIntervalMs: HM })
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    await clock.advance(BOOT)
    cc.scale('web', 3)
    expect(pool.instances('web').map((s) => s.state)).toEqual(['RUNNING', 'RUNNING', 'STARTING'])
    await clock.advance(BOOT)

    cc.scale('web', 1)
    expect(pool.instancesOnDeas('web')).toHaveLength(3)
    expect(pool.instances('web').map((s) => [s.index, s.state])).toEqual([
      [0, 'RUNNING'],
      [1, 'RUNNING'],
      [2, 'RUNNING'],
    ])
    await clock.advance(HM)
    expect(runningIndexes(pool, 'web')).toEqual([0])
    expect(pool.instances('web').map((s) => s.index)).toEqual([0])
  })

  it('starts a new version at once and stops the old one on the next health-manager pass', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    await clock.advance(BOOT)
    cc.restart('web', 'v2')
    const versions = () =>
      pool
        .instancesOnDeas('web')
        .map((i) => `${i.version}:${i.index}:${i.state}`)
        .sort()
    expect(versions()).toEqual(['v1:0:RUNNING', 'v1:1:RUNNING', 'v2:0:STARTING', 'v2:1:STARTING'])
    await clock.advance(HM)
    expect(versions()).toEqual(['v2:0:RUNNING', 'v2:1:RUNNING'])
  })

  it('moves the registered routes of running instances when the app routes change', async () => {
    const { clock, cc, pool, routes } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    await clock.advance(BOOT)
    cc.start({ ...cc.app('web'), routes: ['www.example.com'] })
    expect(routes.lookup('web.apps.internal')).toEqual([])
    expect(routes.lookup('www.example.com')).toHaveLength(2)
    expect(pool.instancesOnDeas('web')).toHaveLength(2)
  })
})

describe('DeaPool: the health manager winds down an app the CC moved to Diego', () => {
  it('still reports the app until the next pass, then has no instance of it left on any DEA', async () => {
    const { clock, cc, pool, routes } = aFoundation()
    cc.start(anApp({ appGuid: 'moving', instances: 3 }))
    cc.start(anApp({ appGuid: 'staying', instances: 2 }))
    await clock.advance(BOOT)

    cc.flipToDiego('moving')
    expect(pool.instances('moving').map((s) => s.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING'])
    await clock.advance(HM)
    expect(pool.instancesOnDeas('moving')).toEqual([])
    expect(pool.instances('moving')).toEqual([])
    expect(routes.lookup('moving.apps.internal')).toEqual([])
    expect(runningIndexes(pool, 'staying')).toEqual([0, 1])
  })

  it('winds it down within one fetch and one analysis of its own, whatever those intervals are', async () => {
    const { clock, cc, pool } = aFoundation({ hmIntervalMs: 3_000, desiredFetchIntervalMs: 3_000 })
    cc.start(anApp({ appGuid: 'moving', instances: 2 }))
    await clock.advance(BOOT + 500)
    cc.flipToDiego('moving')
    await clock.advance(3_000 + 3_000)
    expect(pool.instancesOnDeas('moving')).toEqual([])
  })

  it("stops it on the analyzer's next pass after the fetch that no longer lists it, not at the fetch itself", async () => {
    // HM9000's fetcher and analyzer are separate daemons: by default the fetch runs half an analysis
    // interval before the pass that acts on it (fetches at 5 s, 65 s, 125 s; passes at 10 s, 20 s, ...).
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'moving', instances: 2 }))
    cc.start(anApp({ appGuid: 'late', instances: 1 }))
    await clock.advance(65_000 - 1)
    cc.flipToDiego('moving') // a moment before the fetch at 65 s
    await clock.advance(1)
    await clock.advance(5_000 - 1)
    expect(runningIndexes(pool, 'moving')).toEqual([0, 1]) // fetched, not yet analysed: Diego has 5 s
    cc.flipToDiego('late') // a moment before the pass at 70 s, which acts on the fetch of 65 s
    await clock.advance(1)
    expect(pool.instancesOnDeas('moving')).toEqual([])
    expect(runningIndexes(pool, 'late')).toEqual([0])
    await clock.advance(60_000)
    expect(pool.instancesOnDeas('late')).toEqual([])
  })

  it('keeps it running until its next fetch of the desired state (every 60 s, as HM9000), however often it analyses', async () => {
    const { clock, cc, pool } = aFoundation() // a pass every 10 s, a fetch every 60 s
    cc.start(anApp({ appGuid: 'moving', instances: 2 }))
    await clock.advance(HM) // the first pass fetches
    cc.flipToDiego('moving')
    await clock.advance(60_000 - 1)
    expect(runningIndexes(pool, 'moving')).toEqual([0, 1]) // the overlap in which Diego starts it
    await clock.advance(1)
    expect(pool.instancesOnDeas('moving')).toEqual([])
  })

  it('asks the CC before it stops an instance the fetched state calls extra: an app moved back since is kept', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'back', instances: 2 }))
    await clock.advance(HM) // fetched: listed
    cc.flipToDiego('back')
    await clock.advance(60_000) // fetched: not listed, its instances stopped
    expect(pool.instancesOnDeas('back')).toEqual([])
    cc.start(anApp({ appGuid: 'back', instances: 2 })) // moved back: the CC's start message, not yet fetched
    await clock.advance(BOOT + HM)
    expect(runningIndexes(pool, 'back')).toEqual([0, 1])
  })
})

describe('DeaPool: faults', () => {
  it('restarts the instances of a lost DEA elsewhere after three missed heartbeats and the grace period', async () => {
    const { clock, cc, pool } = aFoundation()
    const t0 = clock.now() // the DEAs' last heartbeat before the loss
    cc.start(anApp({ appGuid: 'web', instances: 3 }))
    await clock.advance(BOOT)
    const victim = pool.instancesOnDeas('web').find((i) => i.index === 0)!.deaId
    const lostIndexes = pool
      .instancesOnDeas('web')
      .filter((i) => i.deaId === victim)
      .map((i) => i.index)
    pool.loseDea(victim)

    expect(
      pool
        .instances('web')
        .filter((s) => s.state === 'DOWN')
        .map((s) => s.index),
    ).toEqual(lostIndexes)
    const restarted = () => runningIndexes(pool, 'web').length === 3
    // Missing once the heartbeat is 30 s old, then 30 s of grace: nothing before t0 + 60 s.
    await clock.advance(t0 + 59_999 - clock.now())
    expect(pool.instancesOnDeas('web').filter((i) => lostIndexes.includes(i.index))).toEqual([])
    await clock.advanceUntil(restarted, { step: 1_000, limit: 3 * HM + BOOT })
    expect(pool.instancesOnDeas('web').every((i) => i.deaId !== victim)).toBe(true)
    expect(pool.capacity().nodes).toBe(2)
  })

  it('loses a start sent to a DEA that died after its last advertisement, and starts it later elsewhere', async () => {
    const { clock, cc, pool } = aFoundation({
      deas: [aDea('big', { memoryMb: 16_384 }), aDea('small', { memoryMb: 4096 })],
    })
    pool.loseDea('big') // its advertisement is still fresh: the CC will pick it
    cc.start(anApp({ appGuid: 'web' }))
    expect(pool.instancesOnDeas('web')).toEqual([])
    expect(pool.instances('web')).toMatchObject([{ index: 0, state: 'DOWN' }])
    await clock.advanceUntil(() => runningIndexes(pool, 'web').length === 1, { step: 1_000, limit: 60_000 })
    expect(pool.instancesOnDeas('web')[0]?.deaId).toBe('small')
  })

  it('restarts a crashed instance on the crash curve and reports it FLAPPING from the third crash', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web' }))
    await clock.advance(BOOT)
    const upAgain = () => pool.instancesOnDeas('web').some((i) => i.state !== 'CRASHED')
    const crashAndTimeRestart = async (): Promise<number> => {
      pool.crashInstance('web', 0)
      const waited = await clock.advanceUntil(upAgain, { step: 1_000, limit: 20 * 60_000 })
      await clock.advance(BOOT)
      return waited
    }

    expect(await crashAndTimeRestart()).toBeLessThanOrEqual(HM)
    expect(await crashAndTimeRestart()).toBeLessThanOrEqual(HM)

    pool.crashInstance('web', 0)
    const crashedAt = clock.now()
    expect(pool.instances('web')).toEqual([
      { index: 0, state: 'FLAPPING', since: expect.any(Number), backend: 'dea', details: 'crashed 3 times' },
    ])
    const third = await clock.advanceUntil(upAgain, { step: 1_000, limit: 20 * 60_000 })
    expect(third).toBeGreaterThanOrEqual(30_000)
    expect(third).toBeLessThanOrEqual(30_000 + HM)
    expect(clock.now() - crashedAt).toBe(third)
    await clock.advance(BOOT)

    const fourth = await crashAndTimeRestart()
    expect(fourth).toBeGreaterThanOrEqual(60_000)
    expect(fourth).toBeLessThanOrEqual(60_000 + HM)
    const fifth = await crashAndTimeRestart()
    expect(fifth).toBeGreaterThanOrEqual(120_000)
    expect(fifth).toBeLessThanOrEqual(120_000 + HM)
  })

  it('counts crashes from zero again once the instance had run for five minutes', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web' }))
    await clock.advance(BOOT)
    for (let i = 0; i < 3; i++) {
      pool.crashInstance('web', 0)
      await clock.advanceUntil(() => runningIndexes(pool, 'web').length === 1, { step: 1_000, limit: 120_000 })
    }
    await clock.advance(5 * 60_000 + 1_000)
    pool.crashInstance('web', 0)
    expect(pool.instances('web')[0]).toMatchObject({ state: 'DOWN', details: 'crashed' })
    const waited = await clock.advanceUntil(() => pool.instancesOnDeas('web').some((i) => i.state !== 'CRASHED'), {
      step: 1_000,
      limit: 60_000,
    })
    expect(waited).toBeLessThanOrEqual(HM)
  })

  it('does not stop extra instances in the pass that queued a start for the app, but in the next', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 3 }))
    await clock.advance(BOOT)
    cc.scale('web', 2)
    pool.crashInstance('web', 0)
    await clock.advance(HM)
    expect(pool.lastHealthPass).toMatchObject({ startsQueued: 1, startsSent: 1, stopsSent: 0 })
    expect(pool.instancesOnDeas('web').filter((i) => i.index === 2)).toHaveLength(1)
    await clock.advance(HM)
    expect(pool.lastHealthPass).toMatchObject({ startsQueued: 0, stopsSent: 1 })
    expect(
      pool
        .instancesOnDeas('web')
        .map((i) => i.index)
        .sort(),
    ).toEqual([0, 1])
  })

  it('evacuates a DEA: starts its instances elsewhere first, keeps the app routable, then stops them', async () => {
    const { clock, cc, pool, routes } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 3 }))
    await clock.advance(BOOT)
    const drained = pool.instancesOnDeas('web').find((i) => i.index === 0)!.deaId
    pool.evacuateDea(drained)
    expect(pool.capacity()).toMatchObject({ nodes: 3, nodesUp: 2 })

    const onDrained = () => pool.instancesOnDeas('web').filter((i) => i.deaId === drained)
    let minEndpoints = Number.POSITIVE_INFINITY
    const deadline = clock.now() + 120_000
    while (onDrained().length > 0) {
      await clock.advance(500)
      minEndpoints = Math.min(minEndpoints, routes.lookup('web.apps.internal').length)
      if (clock.now() > deadline) throw new Error('evacuation did not finish within 2 minutes')
    }
    expect(minEndpoints).toBeGreaterThanOrEqual(2)
    expect(runningIndexes(pool, 'web')).toEqual([0, 1, 2])

    cc.start(anApp({ appGuid: 'later', instances: 6 }))
    expect(pool.instancesOnDeas('later').some((i) => i.deaId === drained)).toBe(false)
  })

  it('keeps instances STARTING for as long as a slow DEA takes to boot them', async () => {
    const { clock, cc, pool } = aFoundation({ deas: [aDea('slow')] })
    pool.setDeaBootDelay('slow', 60_000)
    cc.start(anApp({ appGuid: 'web' }))
    await clock.advance(59_000)
    expect(pool.instances('web')[0]?.state).toBe('STARTING')
    await clock.advance(1_000)
    expect(pool.instances('web')[0]?.state).toBe('RUNNING')
  })

  it('places what did not fit once a DEA with room is added', async () => {
    const { clock, cc, pool } = aFoundation({ deas: [aDea('tiny', { memoryMb: 256 })] })
    cc.start(anApp({ appGuid: 'web', instances: 3 }))
    expect(pool.instances('web').map((s) => [s.state, s.details])).toEqual([
      ['STARTING', undefined],
      ['DOWN', 'insufficient resources: memory (no DEA advertises 256 MB free)'],
      ['DOWN', 'insufficient resources: memory (no DEA advertises 256 MB free)'],
    ])
    pool.addDea(aDea('roomy'))
    await clock.advanceUntil(() => runningIndexes(pool, 'web').length === 3, { step: 1_000, limit: 60_000 })
    expect(pool.capacity()).toMatchObject({ nodes: 2, nodesUp: 2, total: { memoryMb: 256 + 8192 } })
  })
})

describe('DeaPool: capacity and lifecycle', () => {
  it('sums the DEAs that are up and what their instances hold; a DEA has no container limit', async () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 2, memoryMb: 512, diskMb: 2048 }))
    await clock.advance(BOOT)
    expect(pool.capacity()).toEqual({
      total: { memoryMb: 3 * 8192, diskMb: 3 * 32_768, containers: 2 },
      used: { memoryMb: 1024, diskMb: 4096, containers: 2 },
      unlimitedContainers: true,
      nodes: 3,
      nodesUp: 3,
    })
  })

  it('cancels every timer on shutdown, instance boots included', () => {
    const { clock, cc, pool } = aFoundation()
    cc.start(anApp({ appGuid: 'web', instances: 2 }))
    expect(clock.pending).toBeGreaterThan(0)
    pool.shutdown()
    expect(clock.pending).toBe(0)
  })

  it('says what is wrong with a bad app spec, DEA spec, option or fault target', () => {
    const { cc, pool } = aFoundation()
    expect(() => pool.desire(anApp({ appGuid: 'x', instances: 1.5 }))).toThrow(
      'app x: instances must be a whole number >= 0, got 1.5',
    )
    expect(() => pool.desire(anApp({ appGuid: 'x', memoryMb: 0 }))).toThrow(
      'app x: memoryMb must be a number above 0, got 0',
    )
    expect(() => pool.desire(anApp({ appGuid: 'x', routes: [''] }))).toThrow(
      'app x: routes must be a list of hostnames',
    )
    expect(() => pool.loseDea('nope')).toThrow('no DEA with id "nope"')
    expect(() => pool.addDea(aDea('dea-1'))).toThrow('a DEA with id "dea-1" is already running')
    expect(() => pool.addDea(aDea('dea-9', { memoryMb: -1 }))).toThrow(
      'DEA dea-9: memoryMb must be a number above 0, got -1',
    )
    expect(() => pool.setDeaBootDelay('dea-1', -5)).toThrow('DEA dea-1: boot delay must be a number of ms >= 0, got -5')
    expect(() => pool.crashInstance('ghost', 0)).toThrow(
      'app ghost has no running or starting instance at index 0 on the DEAs',
    )
    cc.start(anApp({ appGuid: 'web' }))
    pool.loseDea('dea-1')
    expect(() => pool.loseDea('dea-1')).toThrow('DEA dea-1 is already gone')
    const clock = new FakeClock()
    const routes = new RouteTable()
    expect(() => new DeaPool({ clock, source: cc, routes, deas: [], hmIntervalMs: 0 })).toThrow(
      'DeaPool: hmIntervalMs must be a number above 0, got 0',
    )
  })

  it('brings a lost DEA back empty under the same id', async () => {
    const { clock, cc, pool } = aFoundation({ deas: [aDea('only')] })
    cc.start(anApp({ appGuid: 'web' }))
    await clock.advance(BOOT)
    pool.loseDea('only')
    pool.addDea(aDea('only'))
    expect(pool.deas()).toMatchObject([{ id: 'only', alive: true, instances: 0 }])
    await clock.advanceUntil(() => runningIndexes(pool, 'web').length === 1, { step: 1_000, limit: 60_000 })
  })
})
