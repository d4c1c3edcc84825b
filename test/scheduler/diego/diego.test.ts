import { describe, expect, it } from 'vitest'
import type { AppSpec } from '../../../src/scheduler/backend.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { Diego } from '../../../src/scheduler/diego/diego.js'
import { RouteTable } from '../../../src/scheduler/routes.js'
import { aCellSpec, anApp } from './builders.js'
import { aDiegoFoundation } from './foundation.js'

const BOOT = 1_000
const INTERVAL = 30_000

describe('Diego: running apps', () => {
  it('shows a desired app STARTING at once and RUNNING, routed, after the boot delay', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 2 }))
    expect(f.states('web')).toEqual(['STARTING', 'STARTING'])
    await f.clock.advance(BOOT + 100)
    expect(f.states('web')).toEqual(['RUNNING', 'RUNNING'])
    expect(f.endpoints('web.apps.internal')).toBe(2)
    const [status] = f.diego.instances('web')
    expect(status).toMatchObject({ index: 0, backend: 'diego', since: BOOT + 100, memoryMb: 512, diskMb: 1024 })
  })

  it('spreads the instances of an app across zones', async () => {
    const f = aDiegoFoundation([
      aCellSpec('a1', { zone: 'z1' }),
      aCellSpec('a2', { zone: 'z1' }),
      aCellSpec('b1', { zone: 'z2' }),
      aCellSpec('b2', { zone: 'z2' }),
    ])
    f.desire(anApp('web', { instances: 4 }))
    await f.clock.advance(BOOT + 100)
    expect(new Set(f.hosts('web'))).toEqual(new Set(['a1', 'a2', 'b1', 'b2']))
  })

  it('reports DOWN for a desired index that has no record', () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 1 }))
    f.diego.bbs.retire(f.diego.bbs.actual('web-v1', 0)!)
    expect(f.states('web')).toEqual(['DOWN'])
  })

  it('batches start requests that arrive together into one auction', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('a', { instances: 2 }))
    f.desire(anApp('b', { instances: 3 }))
    await f.clock.advance(100)
    f.desire(anApp('c'))
    await f.clock.advance(100)
    const auctions = f.events.flatMap((e) => (e.type === 'auction' ? [e.report.lrpsPlaced] : []))
    expect(auctions).toEqual([5, 1])
  })

  it('shows the placement error as details while an instance fits nowhere, and places it once room appears', async () => {
    const f = aDiegoFoundation([aCellSpec('small', { memoryMb: 1024 })])
    f.desire(anApp('big', { memoryMb: 2048 }))
    await f.clock.advance(100)
    expect(f.diego.instances('big')).toMatchObject([{ state: 'STARTING', details: 'insufficient resources: memory' }])
    f.diego.addCell(aCellSpec('large', { memoryMb: 8192 }))
    // The converger re-auctions UNCLAIMED instances older than 30 s on its next pass.
    await f.clock.advance(INTERVAL + BOOT)
    expect(f.diego.instances('big')).toMatchObject([{ state: 'RUNNING', host: 'large' }])
    expect(f.diego.instances('big')[0]!.details).toBeUndefined()
  })

  it('scales up by auctioning the new indexes and down by stopping the extra ones at once', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 1 }))
    await f.clock.advance(BOOT + 100)
    f.desire(anApp('web', { instances: 3 }))
    expect(f.states('web')).toEqual(['RUNNING', 'STARTING', 'STARTING'])
    await f.clock.advance(BOOT + 100)
    expect(f.endpoints('web.apps.internal')).toBe(3)
    f.desire(anApp('web', { instances: 1 }))
    expect(f.states('web')).toEqual(['RUNNING'])
    expect(f.endpoints('web.apps.internal')).toBe(1)
    expect(f.diego.capacity().used.containers).toBe(1)
  })

  it('moves running instances to new routes when the routes change', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 2 }))
    await f.clock.advance(BOOT + 100)
    f.desire(anApp('web', { instances: 2, routes: ['www.example.com'] }))
    expect(f.endpoints('web.apps.internal')).toBe(0)
    expect(f.endpoints('www.example.com')).toBe(2)
  })

  it('stops every instance of an app at once, and its routes with them', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 2 }))
    await f.clock.advance(BOOT + 100)
    f.stop('web')
    expect(f.diego.instances('web')).toEqual([])
    expect(f.routes.size).toBe(0)
    expect(f.diego.capacity().used).toEqual({ memoryMb: 0, diskMb: 0, containers: 0 })
  })

  it('replaces the old version when the CC restarts the app with a new one', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 2, version: 'v1' }))
    await f.clock.advance(BOOT + 100)
    f.desire(anApp('web', { instances: 2, version: 'v2' }))
    expect(f.states('web')).toEqual(['STARTING', 'STARTING'])
    await f.clock.advance(BOOT + 100)
    expect(f.states('web')).toEqual(['RUNNING', 'RUNNING'])
    expect(f.diego.bbs.group('web-v1')).toBeUndefined()
  })

  it('sums its cells in capacity(), and leaves out the ones that vanished', async () => {
    const f = aDiegoFoundation([aCellSpec('a', { memoryMb: 1000, diskMb: 2000, containers: 10 }), aCellSpec('b')])
    f.diego.loseCell('b')
    f.desire(anApp('web', { memoryMb: 100, diskMb: 200 }))
    await f.clock.advance(100)
    const capacity = f.diego.capacity()
    expect(capacity.nodes).toBe(1)
    expect(capacity.total).toEqual({ memoryMb: 1000, diskMb: 2000, containers: 10 })
    expect(capacity.used).toEqual({ memoryMb: 100, diskMb: 200, containers: 1 })
  })

  it('cancels every timer on shutdown', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 3 }))
    await f.clock.advance(100)
    f.diego.drainCell('cell-1')
    f.diego.desireTask({ taskGuid: 't', memoryMb: 64, diskMb: 64, rootfs: 'cflinuxfs4' })
    f.diego.shutdown()
    expect(f.clock.pending).toBe(0)
  })
})

describe('Diego: crashes', () => {
  it('restarts the first two crashes at once and waits 30 s after the third', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web'))
    await f.clock.advance(BOOT + 100)
    for (const crash of [1, 2]) {
      f.diego.crashInstance('web', 0)
      expect(f.states('web')).toEqual(['STARTING'])
      expect(f.endpoints('web.apps.internal')).toBe(0)
      await f.clock.advance(BOOT + 100)
      expect(f.states('web'), `after crash ${crash}`).toEqual(['RUNNING'])
    }
    f.diego.crashInstance('web', 0, 'Exited with status 137')
    expect(f.diego.instances('web')).toMatchObject([{ state: 'CRASHED', details: 'Exited with status 137' }])
    const crashedAt = f.clock.now()
    const restarted = await f.clock.advanceUntil(() => f.states('web')[0] === 'STARTING', { step: 1_000 })
    // Due 30 s after the crash; the converger notices on its next pass (every 30 s).
    expect(crashedAt + restarted).toBeGreaterThanOrEqual(crashedAt + 30_000)
    expect(restarted).toBeLessThanOrEqual(30_000 + INTERVAL)
  })

  it('starts counting crashes afresh after an instance ran for more than 5 minutes', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web'))
    await f.clock.advance(BOOT + 100)
    f.diego.crashInstance('web', 0)
    await f.clock.advance(BOOT + 100)
    f.diego.crashInstance('web', 0)
    await f.clock.advance(BOOT + 100)
    expect(f.diego.bbs.actual('web-v1', 0)).toMatchObject({ crashCount: 2, state: 'RUNNING' })
    await f.clock.advance(5 * 60_000 + 1_000)
    f.diego.crashInstance('web', 0)
    // Without the reset this would be crash 3, which waits 30 s in CRASHED.
    expect(f.diego.bbs.actual('web-v1', 0)).toMatchObject({ crashCount: 1, state: 'UNCLAIMED' })
  })

  it('refuses to crash an instance that does not exist or is not running', async () => {
    const f = aDiegoFoundation()
    expect(() => f.diego.crashInstance('nope', 0)).toThrow(/not desired on Diego/)
    f.desire(anApp('web'))
    expect(() => f.diego.crashInstance('web', 3)).toThrow(/no instance index 3/)
    expect(() => f.diego.crashInstance('web', 0)).toThrow(/is not running \(UNCLAIMED\)/)
  })
})

describe('Diego: cells', () => {
  it('runs the instances of a lost cell elsewhere after one convergence pass and the boot time', async () => {
    const f = aDiegoFoundation([aCellSpec('doomed', { zone: 'z1' }), aCellSpec('spare', { zone: 'z2' })])
    f.desire(anApp('web', { instances: 2 }))
    await f.clock.advance(BOOT + 100)
    const onDoomed = f.diego.instances('web').filter((s) => s.host === 'doomed').length
    expect(onDoomed).toBeGreaterThan(0)
    f.diego.loseCell('doomed')
    await f.clock.advance(INTERVAL + 100 + BOOT)
    expect(f.diego.instances('web').map((s) => `${s.state}@${s.host}`)).toEqual(['RUNNING@spare', 'RUNNING@spare'])
    expect(f.routes.lookup('web.apps.internal').map((e) => e.host)).toEqual(['spare', 'spare'])
  })

  it('starts instances late on a slow cell', async () => {
    const f = aDiegoFoundation([aCellSpec('slow')])
    f.diego.setCellBootDelay('slow', 60_000)
    f.desire(anApp('web'))
    await f.clock.advance(59_000)
    expect(f.states('web')).toEqual(['STARTING'])
    await f.clock.advance(2_000)
    expect(f.states('web')).toEqual(['RUNNING'])
  })

  it('keeps an app routable throughout the drain of the cell it runs on', async () => {
    const f = aDiegoFoundation([aCellSpec('draining'), aCellSpec('other')], { defaultBootMs: 8_000 })
    f.desire(anApp('web', { instances: 3 }))
    await f.clock.advance(8_100)
    f.diego.drainCell('draining')
    f.diego.drainCell('other')
    f.diego.addCell(aCellSpec('fresh'))
    let least = Number.POSITIVE_INFINITY
    for (let t = 0; t < 20_000; t += 100) {
      least = Math.min(least, f.endpoints('web.apps.internal'))
      await f.clock.advance(100)
    }
    expect(least).toBe(3)
    expect(new Set(f.hosts('web'))).toEqual(new Set(['fresh']))
    expect(f.endpoints('web.apps.internal')).toBe(3)
  })

  it('routes exactly the running records, EVACUATING copies included, and nothing of a stopped app', async () => {
    const f = aDiegoFoundation([aCellSpec('a'), aCellSpec('b'), aCellSpec('c')], { defaultBootMs: 8_000 })
    f.desire(anApp('web', { instances: 3 }))
    await f.clock.advance(8_100)
    const routed = () => f.routes.lookup('web.apps.internal').map((e) => `${e.index}@${e.host}/${e.instanceGuid}`)
    const running = () =>
      f.diego.bbs
        .groupsOfApp('web')
        .flatMap((group) => [...group.records()])
        .filter((lrp) => lrp.state === 'RUNNING')
        .map((lrp) => `${lrp.index}@${lrp.cellId}/${lrp.instanceGuid}`)
    f.diego.drainCell(f.hosts('web')[0]!)
    await f.clock.advance(4_000)
    expect(f.diego.bbs.copies).toBeGreaterThan(0)
    expect(routed().sort()).toEqual(running().sort())
    await f.clock.advance(8_000)
    expect(f.diego.bbs.copies).toBe(0)
    expect(routed().sort()).toEqual(running().sort())
    f.diego.crashInstance('web', 1)
    expect(routed()).toHaveLength(2)
    expect(routed().sort()).toEqual(running().sort())
    f.stop('web')
    expect(f.routes.size).toBe(0)
  })

  it('lets a drained cell go once its last instance has moved', async () => {
    const f = aDiegoFoundation([aCellSpec('draining'), aCellSpec('other')])
    f.desire(anApp('web'))
    await f.clock.advance(BOOT + 100)
    const host = f.hosts('web')[0]!
    f.diego.drainCell(host)
    expect(f.diego.capacity()).toMatchObject({ nodes: 2, nodesUp: 1 })
    await f.clock.advance(BOOT + 200)
    expect(f.diego.capacity()).toMatchObject({ nodes: 1, nodesUp: 1 })
  })

  it('keeps the EVACUATING copy serving while no other cell has room, until the evacuation timeout', async () => {
    const f = aDiegoFoundation([aCellSpec('only')], { evacuationTimeoutMs: 120_000 })
    f.desire(anApp('web'))
    await f.clock.advance(BOOT + 100)
    f.diego.drainCell('only')
    await f.clock.advance(60_000)
    expect(f.diego.instances('web')).toMatchObject([{ state: 'RUNNING', host: 'only' }])
    expect(f.endpoints('web.apps.internal')).toBe(1)
    await f.clock.advance(60_000)
    expect(f.endpoints('web.apps.internal')).toBe(0)
    expect(f.diego.instances('web')).toMatchObject([
      { state: 'STARTING', details: 'unable to communicate to compatible cells' },
    ])
  })

  it('rejects faults on cells it does not know', () => {
    const f = aDiegoFoundation()
    expect(() => f.diego.loseCell('ghost')).toThrow('no live cell "ghost"')
    expect(() => f.diego.drainCell('ghost')).toThrow('no live cell "ghost"')
    expect(() => f.diego.setCellBootDelay('cell-1', -1)).toThrow(/boot delay must be 0 or more/)
    expect(() => f.diego.addCell(aCellSpec('cell-1'))).toThrow('cell cell-1 already exists')
  })
})

describe('Diego: following the Cloud Controller', () => {
  it('has no instances of an app within one converger interval of the CC no longer wanting it on Diego', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 3 }))
    await f.clock.advance(BOOT + 100)
    f.wanted.delete('web') // the app's diego flag went to false: the CC sends nothing to Diego
    await f.clock.advance(INTERVAL)
    expect(f.diego.instances('web')).toEqual([])
    expect(f.endpoints('web.apps.internal')).toBe(0)
  })

  it('starts an app the CC wants but never told it about (a lost desire message)', async () => {
    const f = aDiegoFoundation()
    f.wanted.set('web', anApp('web', { instances: 2 }))
    await f.clock.advance(INTERVAL + 100 + BOOT)
    expect(f.states('web')).toEqual(['RUNNING', 'RUNNING'])
  })

  it('replaces a missing instance on the next pass', async () => {
    const f = aDiegoFoundation()
    f.desire(anApp('web', { instances: 2 }))
    await f.clock.advance(BOOT + 100)
    f.diego.bbs.retire(f.diego.bbs.actual('web-v1', 1)!)
    expect(f.states('web')).toEqual(['RUNNING', 'DOWN'])
    await f.clock.advance(INTERVAL + BOOT)
    expect(f.states('web')).toEqual(['RUNNING', 'RUNNING'])
  })

  it('rejects a malformed AppSpec, naming the field', () => {
    const f = aDiegoFoundation()
    expect(() => f.diego.desire({ ...anApp('web'), instances: -1 })).toThrow(
      'app "web": instances must be an integer of 0 or more, got -1',
    )
    expect(() => f.diego.desire({ ...anApp('web'), memoryMb: 0 })).toThrow(/memoryMb must be positive/)
    expect(() => f.diego.desire({ ...anApp('web'), routes: 'x' as unknown as string[] })).toThrow(
      /routes must be a list/,
    )
    expect(() => f.diego.desire({ ...anApp(''), appGuid: '' })).toThrow(/appGuid must be a non-empty string/)
    expect(f.diego.bbs.desiredForApp('web')).toBeUndefined()
  })

  it('skips, and reports, an app the CC describes badly during the sync', async () => {
    const f = aDiegoFoundation()
    f.wanted.set('bad', { ...anApp('bad'), stack: '' } as AppSpec)
    f.wanted.set('good', anApp('good'))
    await f.clock.advance(INTERVAL + BOOT + 200)
    expect(f.states('good')).toEqual(['RUNNING'])
    expect(f.events).toContainEqual(expect.objectContaining({ type: 'desired-sync-rejected', appGuid: 'bad' }))
  })
})

describe('Diego: tasks', () => {
  const aTask = (taskGuid: string, extra = {}) => ({
    taskGuid,
    memoryMb: 256,
    diskMb: 256,
    rootfs: 'cflinuxfs4',
    ...extra,
  })

  it('runs a task once and completes it with its result', async () => {
    const f = aDiegoFoundation()
    f.diego.desireTask(aTask('migrate-db', { runMs: 2_000, result: 'done' }))
    expect(f.diego.task('migrate-db')?.state).toBe('PENDING')
    await f.clock.advance(100)
    expect(f.diego.task('migrate-db')?.state).toBe('RUNNING')
    await f.clock.advance(BOOT + 2_000)
    expect(f.diego.task('migrate-db')).toMatchObject({ state: 'COMPLETED', failed: false, result: 'done' })
    f.diego.resolvingTask('migrate-db')
    f.diego.deleteTask('migrate-db')
    expect(f.diego.task('migrate-db')).toBeUndefined()
  })

  it('completes a failing task as failed with its reason', async () => {
    const f = aDiegoFoundation()
    f.diego.desireTask(aTask('t', { failureReason: 'exit status 2' }))
    await f.clock.advance(BOOT + 2_000)
    expect(f.diego.task('t')).toMatchObject({ state: 'COMPLETED', failed: true, failureReason: 'exit status 2' })
  })

  it('retries a task that fits nowhere 3 times, then completes it as failed with the placement error', async () => {
    const f = aDiegoFoundation([aCellSpec('small', { memoryMb: 128 })])
    f.diego.desireTask(aTask('big', { memoryMb: 1024 }))
    await f.clock.advance(1_000)
    expect(f.diego.task('big')).toMatchObject({
      state: 'COMPLETED',
      failed: true,
      failureReason: 'insufficient resources: memory',
      auctionAttempts: 4,
    })
  })

  it('fails a task whose cell vanished, and never runs it again', async () => {
    const f = aDiegoFoundation([aCellSpec('doomed'), aCellSpec('spare')])
    f.diego.desireTask(aTask('t', { runMs: 600_000 }))
    await f.clock.advance(100)
    const cellId = f.diego.task('t')!.cellId
    f.diego.loseCell(cellId)
    await f.clock.advance(INTERVAL)
    expect(f.diego.task('t')).toMatchObject({
      state: 'COMPLETED',
      failed: true,
      failureReason: 'cell disappeared before completion',
    })
    await f.clock.advance(10 * INTERVAL)
    expect(f.events.filter((e) => e.type === 'task-started')).toHaveLength(1)
    // Nobody resolved it, so after 2 minutes it is gone, as Diego expires completed tasks.
    expect(f.diego.task('t')).toBeUndefined()
  })

  it('rejects a malformed task', () => {
    const f = aDiegoFoundation()
    expect(() => f.diego.desireTask(aTask('t', { memoryMb: -1 }))).toThrow(
      'task "t": memoryMb must be positive, got -1',
    )
    f.diego.desireTask(aTask('t'))
    expect(() => f.diego.desireTask(aTask('t'))).toThrow('task t already exists')
  })
})

describe('Diego construction', () => {
  it('checks its options', () => {
    const base = { clock: new FakeClock(0), routes: new RouteTable(), source: { desiredApps: () => [] }, cells: [] }
    expect(() => new Diego({ ...base, convergeIntervalMs: 0 })).toThrow(
      'convergeIntervalMs must be a positive number, got 0',
    )
    expect(() => new Diego({ ...base, cells: [aCellSpec('x', { diskMb: Number.NaN })] })).toThrow(
      /diskMb must be a positive number/,
    )
    expect(() => new Diego({ ...base, source: undefined as never })).toThrow(/DesiredStateSource/)
  })
})
