import { describe, expect, it } from 'vitest'
import { type ActualLrp, formatInstanceGuid, validateCellSpec } from '../../../src/scheduler/diego/bbs.js'
import { aBbs, aCellSpec, aDesiredLrp, restartPolicy, runningOn } from './builders.js'

describe('Bbs', () => {
  it("keeps a cell's usage equal to the containers on it as instances claim, run, crash and go", () => {
    const bbs = aBbs([aCellSpec('c', { memoryMb: 4096, diskMb: 8192, containers: 10 })])
    const cell = bbs.cell('c')!
    const web = aDesiredLrp('web', { instances: 3, memoryMb: 1000, diskMb: 2000 })
    runningOn(bbs, web, 'c')
    expect([cell.usedMemoryMb, cell.usedDiskMb, cell.usedContainers, cell.startingContainers]).toEqual([
      3000, 6000, 3, 0,
    ])
    bbs.crash(bbs.actual(web.processGuid, 0)!, 10, 'boom', restartPolicy)
    bbs.retire(bbs.actual(web.processGuid, 1)!)
    expect([cell.usedMemoryMb, cell.usedDiskMb, cell.usedContainers]).toEqual([1000, 2000, 1])
    const restarted = bbs.actual(web.processGuid, 0)!
    bbs.claim(restarted, cell, 20)
    expect(cell.startingContainers).toBe(1)
    expect(cell.lrps.size).toBe(2)
  })

  it('counts ordinary records by state and finds the UNCLAIMED and CRASHED ones without a scan', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web', { instances: 3 })
    runningOn(bbs, web, 'cell-1')
    const [a, b] = [bbs.actual(web.processGuid, 0)!, bbs.actual(web.processGuid, 1)!]
    a.crashCount = 5
    bbs.crash(a, 0, 'boom', restartPolicy)
    bbs.crash(b, 0, 'boom', restartPolicy)
    expect([bbs.count('RUNNING'), bbs.count('CRASHED'), bbs.count('UNCLAIMED')]).toEqual([1, 1, 1])
    expect([...bbs.crashed()]).toEqual([a])
    expect([...bbs.unclaimed()]).toEqual([b])
  })

  it('refuses a claim the cell has no room for, leaving everything as it was', () => {
    const bbs = aBbs([aCellSpec('small', { memoryMb: 1024, diskMb: 8192 })])
    const web = aDesiredLrp('web', { memoryMb: 2048 })
    bbs.desireLrp(web)
    const lrp = bbs.createUnclaimed(web.processGuid, 0, 0)
    expect(() => bbs.claim(lrp, bbs.cell('small')!, 0)).toThrow(/not enough room/)
    expect(lrp.state).toBe('UNCLAIMED')
    expect(bbs.cell('small')!.usedContainers).toBe(0)
  })

  it('moves the container to the EVACUATING copy and sends the record back to UNCLAIMED', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'cell-1')
    const lrp = bbs.actual(web.processGuid, 0)!
    const guid = lrp.instanceGuid
    const copy = bbs.evacuate(lrp, 5)
    expect([copy.presence, copy.state, copy.instanceGuid, copy.cellId]).toEqual([
      'EVACUATING',
      'RUNNING',
      guid,
      'cell-1',
    ])
    expect([lrp.state, lrp.cellId, lrp.instanceGuid]).toEqual(['UNCLAIMED', '', ''])
    expect(bbs.cell('cell-1')!.usedContainers).toBe(1)
    expect(bbs.copies).toBe(1)
  })

  it('drops the copies of an index once its replacement runs', () => {
    const bbs = aBbs([aCellSpec('old'), aCellSpec('new')])
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'old')
    const lrp = bbs.actual(web.processGuid, 0)!
    bbs.evacuate(lrp, 5)
    bbs.claim(lrp, bbs.cell('new')!, 6)
    bbs.start(lrp, 7)
    expect(bbs.copies).toBe(0)
    expect(bbs.cell('old')!.usedContainers).toBe(0)
  })

  it('gives back what each container took when its DesiredLRP is resized, or desired again at another size, meanwhile', () => {
    const bbs = aBbs([aCellSpec('c', { memoryMb: 100_000, diskMb: 100_000 }), aCellSpec('d')])
    const cell = bbs.cell('c')!
    const web = aDesiredLrp('web', { instances: 3, memoryMb: 1000, diskMb: 2000 })
    runningOn(bbs, web, 'c')
    bbs.updateDesiredLrp({ ...web, memoryMb: 3000, diskMb: 4000 })
    const [a, b, c] = [0, 1, 2].map((i) => bbs.actual(web.processGuid, i)!) as [ActualLrp, ActualLrp, ActualLrp]
    expect([a.memoryMb, a.diskMb]).toEqual([1000, 2000])
    bbs.retire(a)
    expect([cell.usedMemoryMb, cell.usedDiskMb]).toEqual([2000, 4000])
    // An EVACUATING copy holds the container it took over, at the size it was claimed.
    const copy = bbs.evacuate(b, 1)
    expect([copy.memoryMb, copy.diskMb, b.memoryMb]).toEqual([1000, 2000, 0])
    bbs.claim(b, cell, 2)
    expect([b.memoryMb, b.diskMb]).toEqual([3000, 4000])
    expect([cell.usedMemoryMb, cell.usedDiskMb]).toEqual([5000, 8000])
    bbs.retire(copy)
    expect([cell.usedMemoryMb, cell.usedDiskMb]).toEqual([4000, 6000])
    // The DesiredLRP goes and comes back smaller while its old instance still runs.
    bbs.removeDesiredLrp(web.processGuid)
    bbs.desireLrp({ ...web, memoryMb: 10, diskMb: 20 })
    expect([c.memoryMb, b.memoryMb]).toEqual([1000, 3000])
    bbs.retire(c)
    bbs.retire(b)
    expect([cell.usedMemoryMb, cell.usedDiskMb, cell.usedContainers]).toEqual([0, 0, 0])
  })

  it('keeps state, presence, crash count and notes of a record apart, and reads one record through any of its handles', () => {
    const bbs = aBbs()
    const web = aDesiredLrp('web')
    bbs.desireLrp(web)
    const lrp = bbs.createUnclaimed(web.processGuid, 0, 0)
    bbs.failPlacement(lrp, 'no room')
    lrp.crashCount = 2 ** 40 + 3
    expect([lrp.state, lrp.presence, lrp.crashCount, lrp.placementError, lrp.crashReason]).toEqual([
      'UNCLAIMED',
      'ORDINARY',
      2 ** 40 + 3,
      'no room',
      '',
    ])
    bbs.claim(lrp, bbs.cell('cell-1')!, 1)
    bbs.start(lrp, 2)
    bbs.crash(lrp, 3, 'boom', restartPolicy)
    const again = bbs.actual(web.processGuid, 0)!
    expect(again.is(lrp)).toBe(true)
    expect([again.state, again.crashCount, again.placementError, again.crashReason, again.since]).toEqual([
      'CRASHED',
      2 ** 40 + 4,
      '',
      'boom',
      3,
    ])
    bbs.retire(again)
    expect([lrp.exists, lrp.crashCount, lrp.cellId, lrp.processGuid, lrp.index]).toEqual([false, 0, '', '', -1])
    // The slot is taken again by the next record; the old handle does not read or act on it.
    const next = bbs.createUnclaimed(web.processGuid, 0, 4)
    expect(next.slot).toBe(lrp.slot)
    expect([next.is(lrp), lrp.exists, bbs.isCurrent(lrp), bbs.isCurrent(next)]).toEqual([false, false, false, true])
    expect(() => bbs.retire(lrp)).toThrow(/not a current record/)
  })

  it('never starts a task twice', () => {
    const bbs = aBbs()
    const task = bbs.desireTask(
      {
        taskGuid: 't',
        memoryMb: 1,
        diskMb: 1,
        rootfs: 'cflinuxfs4',
        placementTags: [],
        runMs: 1,
        result: '',
        failureReason: undefined,
      },
      0,
    )
    bbs.startTask(task, bbs.cell('cell-1')!, 0)
    expect(() => bbs.startTask(task, bbs.cell('cell-1')!, 1)).toThrow(/cannot start/)
  })

  it('forgets a lost cell once nothing is left on it', () => {
    const bbs = aBbs([aCellSpec('lost')])
    const web = aDesiredLrp('web')
    runningOn(bbs, web, 'lost')
    bbs.loseCell(bbs.cell('lost')!)
    expect(bbs.cell('lost')?.alive).toBe(false)
    bbs.retire(bbs.actual(web.processGuid, 0)!)
    expect(bbs.cell('lost')).toBeUndefined()
  })

  it('formats instance guids from the counter, distinct per instance', () => {
    expect(formatInstanceGuid(1)).toBe('d1e90000-0000-4000-8000-000000000001')
    expect(formatInstanceGuid(255)).not.toBe(formatInstanceGuid(256))
  })
})

describe('validateCellSpec', () => {
  it('says which field of which cell is wrong', () => {
    expect(() => validateCellSpec(aCellSpec('c1', { memoryMb: 0 }), 5_000)).toThrow(
      'cell "c1": memoryMb must be a positive number, got 0',
    )
    expect(() => validateCellSpec(aCellSpec('c1', { containers: 2.5 }), 5_000)).toThrow(
      /containers must be a positive integer/,
    )
    expect(() => validateCellSpec(aCellSpec('c1', { zone: '' }), 5_000)).toThrow(/zone must be a non-empty string/)
    expect(() => validateCellSpec(aCellSpec(''), 5_000)).toThrow(/non-empty string id/)
  })

  it('defaults to 250 containers and the engine boot delay', () => {
    const cell = validateCellSpec({ id: 'c', zone: 'z', memoryMb: 1, diskMb: 1 }, 1234)
    expect([cell.capacity.containers, cell.bootDelayMs]).toEqual([250, 1234])
  })
})
