import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type ConvergeConfig,
  converge,
  type DesiredChanges,
  desiredLrpFrom,
  diffDesired,
  diffDesiredApps,
  processGuidFor,
  sameDesire,
} from '../../../src/scheduler/diego/converge.js'
import { aBbs, aCellSpec, aDesiredLrp, anApp, restartPolicy, runningOn } from './builders.js'

const config: ConvergeConfig = {
  staleUnclaimedMs: 30_000,
  kickPendingTaskMs: 30_000,
  expireCompletedTaskMs: 120_000,
  restart: restartPolicy,
}

const keys = (lrps: { processGuid: string; index: number }[]) => lrps.map((l) => `${l.processGuid}/${l.index}`)

describe('converge', () => {
  it('asks for every desired index that has no record', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web', { instances: 3 })
    runningOn(bbs, web, 'cell-1')
    bbs.retire(bbs.actual(web.processGuid, 1)!)
    const api = aDesiredLrp('api', { instances: 2 })
    bbs.desireLrp(api)
    expect(keys(converge(bbs, 0, config).startMissing)).toEqual([
      `${web.processGuid}/1`,
      `${api.processGuid}/0`,
      `${api.processGuid}/1`,
    ])
  })

  it('retires the records past the desired instance count', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web', { instances: 4 })
    runningOn(bbs, web, 'cell-1')
    bbs.updateDesiredLrp({ ...web, instances: 2 })
    expect(keys(converge(bbs, 0, config).retire)).toEqual([`${web.processGuid}/2`, `${web.processGuid}/3`])
  })

  it('retires every record of a DesiredLRP that is gone, such as an old version', () => {
    const bbs = aBbs()
    const v1 = aDesiredLrp('web', { instances: 2, version: 'v1' })
    runningOn(bbs, v1, 'cell-1')
    bbs.removeDesiredLrp(v1.processGuid)
    bbs.desireLrp(aDesiredLrp('web', { instances: 2, version: 'v2' }))
    const actions = converge(bbs, 0, config)
    expect(keys(actions.retire)).toEqual([`${v1.processGuid}/0`, `${v1.processGuid}/1`])
    expect(keys(actions.startMissing)).toEqual([`${processGuidFor('web', 'v2')}/0`, `${processGuidFor('web', 'v2')}/1`])
  })

  it('restarts a crashed instance only once its backoff has passed', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'cell-1')
    const lrp = bbs.actual(web.processGuid, 0)!
    lrp.crashCount = 3 // the next crash is the 4th: a 60 s wait
    expect(bbs.crash(lrp, 1_000, 'Exited with status 1', restartPolicy)).toBe(false)
    expect(converge(bbs, 60_999, config).restartCrashed).toEqual([])
    expect(converge(bbs, 61_000, config).restartCrashed).toEqual([lrp])
  })

  it('gives up on an instance that crashed 200 times', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'cell-1')
    const lrp = bbs.actual(web.processGuid, 0)!
    lrp.crashCount = 199
    bbs.crash(lrp, 0, 'Exited with status 1', restartPolicy)
    expect(lrp.crashCount).toBe(200)
    expect(converge(bbs, 10 * 3_600_000, config).restartCrashed).toEqual([])
  })

  it('re-auctions UNCLAIMED records left for 30 s, and not younger ones', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web', { instances: 2 })
    bbs.desireLrp(web)
    const old = bbs.createUnclaimed(web.processGuid, 0, 0)
    bbs.failPlacement(old, 'insufficient resources: memory')
    bbs.createUnclaimed(web.processGuid, 1, 10_000)
    expect(converge(bbs, 30_000, config).reauctionUnclaimed).toEqual([old])
  })

  it('keeps the running instances of a vanished cell as suspects to replace, and moves the starting ones', () => {
    const bbs = aBbs([aCellSpec('lost'), aCellSpec('fine')])
    const web = aDesiredLrp('web', { instances: 2 })
    runningOn(bbs, web, 'lost')
    const api = aDesiredLrp('api')
    bbs.desireLrp(api)
    const starting = bbs.createUnclaimed(api.processGuid, 0, 0)
    bbs.claim(starting, bbs.cell('lost')!, 0)
    bbs.loseCell(bbs.cell('lost')!)
    const actions = converge(bbs, 0, config)
    expect(keys(actions.suspectLost)).toEqual([`${web.processGuid}/0`, `${web.processGuid}/1`])
    expect(actions.unclaimLost).toEqual([starting])
  })

  it('removes evacuating copies whose cell vanished, and copies of indexes no longer desired', () => {
    const bbs = aBbs([aCellSpec('draining')])
    const web = aDesiredLrp('web', { instances: 2 })
    runningOn(bbs, web, 'draining')
    const copy0 = bbs.evacuate(bbs.actual(web.processGuid, 0)!, 0)
    const copy1 = bbs.evacuate(bbs.actual(web.processGuid, 1)!, 0)
    bbs.updateDesiredLrp({ ...web, instances: 1 })
    expect(converge(bbs, 0, config).removeCopies).toEqual([copy1])
    bbs.loseCell(bbs.cell('draining')!)
    expect(new Set(converge(bbs, 0, config).removeCopies)).toEqual(new Set([copy0, copy1]))
  })

  it('fails the running Tasks of a vanished cell and re-auctions Tasks left pending for 30 s', () => {
    const bbs = aBbs([aCellSpec('lost')])
    const task = (taskGuid: string) =>
      bbs.desireTask(
        {
          taskGuid,
          memoryMb: 128,
          diskMb: 128,
          rootfs: 'cflinuxfs4',
          placementTags: [],
          runMs: 1,
          result: '',
          failureReason: undefined,
        },
        0,
      )
    const running = task('running')
    bbs.startTask(running, bbs.cell('lost')!, 0)
    const pending = task('pending')
    bbs.loseCell(bbs.cell('lost')!)
    const actions = converge(bbs, 30_000, config)
    expect(actions.failTasks).toEqual([running])
    expect(actions.auctionTasks).toEqual([pending])
  })

  it('expires completed Tasks nobody resolved within 2 min', () => {
    const bbs = aBbs()
    const task = bbs.desireTask(
      {
        taskGuid: 't',
        memoryMb: 128,
        diskMb: 128,
        rootfs: 'cflinuxfs4',
        placementTags: [],
        runMs: 1,
        result: 'ok',
        failureReason: undefined,
      },
      0,
    )
    bbs.startTask(task, bbs.cell('cell-1')!, 0)
    bbs.completeTask(task, 1_000, { failed: false, failureReason: '', result: 'ok' })
    expect(converge(bbs, 120_999, config).expireTasks).toEqual([])
    expect(converge(bbs, 121_000, config).expireTasks).toEqual([task])
  })

  it('has nothing to do when everything runs as desired', () => {
    const bbs = aBbs()
    runningOn(bbs, aDesiredLrp('web', { instances: 3 }), 'cell-1')
    const actions = converge(bbs, 3_600_000, config)
    expect(Object.values(actions).every((list) => list.length === 0)).toBe(true)
  })
})

describe('desiredLrpFrom', () => {
  it("keeps a frozen spec (the CC's) rather than copying it, and copies any other, lists and all", () => {
    const routes = ['web.apps.internal']
    const open = anApp('web', { routes })
    const copied = desiredLrpFrom(open)
    routes.push('more.apps.internal')
    open.instances = 5
    expect([copied.routes, copied.instances, copied.placementTags]).toEqual([['web.apps.internal'], 1, []])

    const frozen = Object.freeze(anApp('api', { instances: 3, memoryMb: 256, placementTags: ['gpu'] }))
    const kept = desiredLrpFrom(frozen)
    expect(kept.routes).toBe(frozen.routes)
    const plain = desiredLrpFrom({ ...frozen })
    expect(sameDesire(kept, plain)).toBe(true)
    const fields = (d: typeof kept) => [
      d.processGuid,
      d.appGuid,
      d.version,
      d.instances,
      d.memoryMb,
      d.diskMb,
      d.rootfs,
    ]
    expect(fields(kept)).toEqual(fields(plain))
    expect([kept.placementTags, desiredLrpFrom(Object.freeze(anApp('x'))).placementTags]).toEqual([['gpu'], []])
  })
})

describe('diffDesired (nsync bulker)', () => {
  it('creates what the CC wants and Diego lacks, updates what differs, removes what the CC no longer wants', () => {
    const current = [
      aDesiredLrp('same', { instances: 2 }),
      aDesiredLrp('scaled', { instances: 1 }),
      aDesiredLrp('moved-to-dea'),
      aDesiredLrp('restarted', { version: 'v1' }),
    ]
    const wanted = [
      anApp('same', { instances: 2 }),
      anApp('scaled', { instances: 3 }),
      anApp('restarted', { version: 'v2' }),
      anApp('new'),
    ]
    const changes = diffDesired(current, wanted)
    expect(changes.create.map((s) => `${s.appGuid}@${s.version}`)).toEqual(['restarted@v2', 'new@v1'])
    expect(changes.update.map((s) => s.appGuid)).toEqual(['scaled'])
    expect(changes.remove).toEqual([processGuidFor('moved-to-dea', 'v1'), processGuidFor('restarted', 'v1')])
  })

  it('sees a change of routes as an update', () => {
    const changes = diffDesired([aDesiredLrp('web')], [anApp('web', { routes: ['web.example.com'] })])
    expect(changes.update.map((s) => s.appGuid)).toEqual(['web'])
  })

  it('for the changed apps only, says for them what the whole comparison says', () => {
    const guids = ['a', 'b', 'c', 'd', 'e', 'f']
    const spec = fc.record({
      version: fc.constantFrom('v1', 'v2'),
      instances: fc.integer({ min: 0, max: 3 }),
      routes: fc.constantFrom<string[][]>([], ['x.example.com']),
    })
    const side = fc.dictionary(fc.constantFrom(...guids), spec)
    const sorted = (c: DesiredChanges) => ({
      create: c.create.map((s) => `${s.appGuid}@${s.version}`).sort(),
      update: c.update.map((s) => `${s.appGuid}@${s.version}`).sort(),
      remove: [...c.remove].sort(),
    })
    fc.assert(
      fc.property(side, side, fc.subarray(guids), (current, wanted, changed) => {
        const lrps = Object.entries(current).map(([guid, o]) => aDesiredLrp(guid, o))
        const specs = Object.entries(wanted).map(([guid, o]) => anApp(guid, o))
        const whole = diffDesired(lrps, specs)
        const only = <T extends { appGuid: string }>(list: T[]) => list.filter((x) => changed.includes(x.appGuid))
        const expected: DesiredChanges = {
          create: only(whole.create),
          update: only(whole.update),
          remove: whole.remove.filter((guid) =>
            lrps.some((l) => l.processGuid === guid && changed.includes(l.appGuid)),
          ),
        }
        const some = diffDesiredApps(
          [...changed, ...changed],
          (guid) => lrps.filter((l) => l.appGuid === guid),
          (guid) => specs.find((s) => s.appGuid === guid),
        )
        expect(sorted(some)).toEqual(sorted(expected))
      }),
    )
  })
})
