import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AuctionCell,
  type AuctionState,
  auctionOrder,
  ERROR_CELL_COMMUNICATION,
  ERROR_CELL_MISMATCH,
  type LrpStartRequest,
  placementTagMismatchError,
  runAuction,
  runAuctionByFullScan,
  type TaskStartRequest,
} from '../../../src/scheduler/diego/auction.js'

function aCell(
  id: string,
  overrides: Partial<AuctionCell> & { used?: Partial<AuctionCell['total']> } = {},
): AuctionCell {
  const total = overrides.total ?? { memoryMb: 8192, diskMb: 16384, containers: 250 }
  const used = { memoryMb: 0, diskMb: 0, containers: 0, ...overrides.used }
  return {
    id,
    zone: 'z1',
    startingContainers: 0,
    tasks: 0,
    rootfsProviders: ['cflinuxfs4'],
    placementTags: [],
    optionalPlacementTags: [],
    ...overrides,
    total,
    available: overrides.available ?? {
      memoryMb: total.memoryMb - used.memoryMb,
      diskMb: total.diskMb - used.diskMb,
      containers: total.containers - used.containers,
    },
  }
}

function anLrp(processGuid: string, index = 0, overrides: Partial<LrpStartRequest> = {}): LrpStartRequest {
  return { processGuid, index, memoryMb: 512, diskMb: 1024, rootfs: 'cflinuxfs4', placementTags: [], ...overrides }
}

function aTask(taskGuid: string, overrides: Partial<TaskStartRequest> = {}): TaskStartRequest {
  return { taskGuid, memoryMb: 256, diskMb: 512, rootfs: 'cflinuxfs4', placementTags: [], ...overrides }
}

function stateOf(cells: AuctionCell[], holding: Record<string, string[]> = {}): AuctionState {
  return { cells, cellsHolding: (guid) => holding[guid] ?? [] }
}

const both = [
  ['fast auction', runAuction],
  ['full-scan reference', runAuctionByFullScan],
] as const

describe.each(both)('%s', (_name, auction) => {
  const winnerOf = (state: AuctionState, lrp: LrpStartRequest) => {
    const results = auction(state, { lrps: [lrp], tasks: [] })
    expect(results.failedLrps).toEqual([])
    return results.placedLrps[0]!.cellId
  }

  it('places an instance on the least used cell', () => {
    const cells = [aCell('busy', { used: { memoryMb: 4096, diskMb: 4096, containers: 10 } }), aCell('idle')]
    expect(winnerOf(stateOf(cells), anLrp('web'))).toBe('idle')
  })

  it('counts each starting container as a quarter point, so a cell busy booting is avoided', () => {
    const cells = [aCell('booting', { startingContainers: 2 }), aCell('loaded', { used: { memoryMb: 4096 } })]
    // loaded: memory half used adds 1/6 to its score; booting: 2 × 0.25 = 0.5.
    expect(winnerOf(stateOf(cells), anLrp('web'))).toBe('loaded')
  })

  it('keeps instances of one process apart: 1000 points per instance already on the cell', () => {
    const cells = [aCell('a'), aCell('b', { used: { memoryMb: 6000, diskMb: 12000, containers: 200 } })]
    expect(winnerOf(stateOf(cells, { web: ['a'] }), anLrp('web', 1))).toBe('b')
  })

  it('tries the zone with the fewest instances of the process first, even when another zone has emptier cells', () => {
    const cells = [
      aCell('a1', { zone: 'z1' }),
      aCell('a2', { zone: 'z1' }),
      aCell('b1', { zone: 'z2', used: { memoryMb: 6000, diskMb: 12000, containers: 200 } }),
    ]
    expect(winnerOf(stateOf(cells, { web: ['a2'] }), anLrp('web', 1))).toBe('b1')
  })

  it('scores zones with equal instance counts together and takes the best cell among them', () => {
    const cells = [
      aCell('a1', { zone: 'z1', used: { memoryMb: 2000 } }),
      aCell('b1', { zone: 'z2', used: { memoryMb: 1000 } }),
      aCell('c1', { zone: 'z3' }),
    ]
    // z1 and z2 hold one instance each; z3 holds two, so it is tried only if both are full.
    expect(winnerOf(stateOf(cells, { web: ['a1', 'b1', 'c1', 'c1'] }), anLrp('web', 4))).toBe('b1')
  })

  it('moves on to a zone with more instances when the emptier zone has no room', () => {
    const cells = [aCell('a1', { zone: 'z1' }), aCell('b1', { zone: 'z2', used: { containers: 250 } })]
    expect(winnerOf(stateOf(cells, { web: ['a1'] }), anLrp('web', 1))).toBe('a1')
  })

  it('lets each choice in a batch see the reservations made before it', () => {
    const cells = [aCell('a'), aCell('b')]
    const results = auction(stateOf(cells), { lrps: [anLrp('one'), anLrp('two')], tasks: [] })
    expect(new Set(results.placedLrps.map((p) => p.cellId))).toEqual(new Set(['a', 'b']))
  })

  it('spreads the instances of one process placed in the same batch', () => {
    const cells = [aCell('a'), aCell('b'), aCell('c')]
    const results = auction(stateOf(cells), { lrps: [anLrp('web', 0), anLrp('web', 1), anLrp('web', 2)], tasks: [] })
    expect(new Set(results.placedLrps.map((p) => p.cellId)).size).toBe(3)
  })

  it('places index 0 of every process before tasks, and tasks before higher indexes, when room is short', () => {
    // One cell with room for exactly two 4 GB containers.
    const cells = [aCell('only', { total: { memoryMb: 8192, diskMb: 16384, containers: 250 } })]
    const big = { memoryMb: 4096 }
    const results = auction(stateOf(cells), {
      lrps: [anLrp('second-instance', 1, big), anLrp('first-instance', 0, big)],
      tasks: [aTask('task', big)],
    })
    expect(results.placedLrps.map((p) => p.start.processGuid)).toEqual(['first-instance'])
    expect(results.placedTasks.map((p) => p.start.taskGuid)).toEqual(['task'])
    expect(results.failedLrps.map((f) => f.start.processGuid)).toEqual(['second-instance'])
  })

  it('fails with the resources every candidate cell lacks, by name and sorted, verbatim as Diego', () => {
    const cells = [
      aCell('no-memory', { used: { memoryMb: 8000 } }),
      aCell('no-memory-no-disk', { used: { memoryMb: 8000, diskMb: 16000 } }),
    ]
    const [failure] = auction(stateOf(cells), { lrps: [anLrp('web')], tasks: [] }).failedLrps
    expect(failure?.error).toBe('insufficient resources: memory')
  })

  it('names containers, disk and memory when every cell is out of all three', () => {
    const cells = [aCell('full', { used: { memoryMb: 8192, diskMb: 16384, containers: 250 } })]
    const [failure] = auction(stateOf(cells), { lrps: [anLrp('web')], tasks: [] }).failedLrps
    expect(failure?.error).toBe('insufficient resources: containers, disk, memory')
  })

  it('says only "insufficient resources" when the cells lack different things', () => {
    const cells = [aCell('no-memory', { used: { memoryMb: 8000 } }), aCell('no-disk', { used: { diskMb: 16000 } })]
    const [failure] = auction(stateOf(cells), { lrps: [anLrp('web')], tasks: [] }).failedLrps
    expect(failure?.error).toBe('insufficient resources')
  })

  it('fails on a rootfs no cell offers', () => {
    const [failure] = auction(stateOf([aCell('a')]), {
      lrps: [anLrp('web', 0, { rootfs: 'windows2016' })],
      tasks: [],
    }).failedLrps
    expect(failure?.error).toBe('found no compatible cell for required rootfs')
  })

  it('accepts preloaded: rootfs names and docker images on cells that offer them', () => {
    const cells = [aCell('linux'), aCell('docker', { rootfsProviders: ['docker'] })]
    expect(winnerOf(stateOf(cells), anLrp('web', 0, { rootfs: 'preloaded:cflinuxfs4' }))).toBe('linux')
    expect(winnerOf(stateOf(cells), anLrp('img', 0, { rootfs: 'docker:///nginx' }))).toBe('docker')
  })

  it('fails on placement tags no cell matches, naming the tags as Diego does', () => {
    const cells = [aCell('a', { placementTags: ['blue'] })]
    const run = (placementTags: string[]) =>
      auction(stateOf(cells), { lrps: [anLrp('web', 0, { placementTags })], tasks: [] }).failedLrps[0]?.error
    expect(run(['x'])).toBe('found no compatible cell with placement tag "x"')
    expect(run(['x', 'y'])).toBe('found no compatible cell with placement tags "x" and "y"')
    expect(run(['x', 'y', 'z'])).toBe('found no compatible cell with placement tags "x", "y" and "z"')
    expect(run([])).toBe('found no compatible cell with no placement tags')
  })

  it('places on a cell whose required tags are all desired and whose tags cover the desired ones', () => {
    const cells = [
      aCell('plain'),
      aCell('blue', { placementTags: ['blue'], optionalPlacementTags: ['fast'] }),
      aCell('red', { placementTags: ['red'] }),
    ]
    expect(winnerOf(stateOf(cells), anLrp('web', 0, { placementTags: ['blue', 'fast'] }))).toBe('blue')
    expect(winnerOf(stateOf(cells), anLrp('web', 0, { placementTags: [] }))).toBe('plain')
  })

  it('cannot place anything when there are no cells', () => {
    const results = auction(stateOf([]), { lrps: [anLrp('web')], tasks: [aTask('t')] })
    expect(results.failedLrps[0]?.error).toBe(ERROR_CELL_COMMUNICATION)
    expect(results.failedTasks[0]?.error).toBe(ERROR_CELL_COMMUNICATION)
  })

  it('places tasks on the best-scoring cell in any zone, away from cells already running tasks', () => {
    const cells = [aCell('a', { zone: 'z1', tasks: 1 }), aCell('b', { zone: 'z2', used: { memoryMb: 6000 } })]
    const results = auction(stateOf(cells), { lrps: [], tasks: [aTask('t')] })
    expect(results.placedTasks.map((p) => p.cellId)).toEqual(['b'])
  })

  it('fails a task that fits nowhere with the same verbatim errors', () => {
    const cells = [aCell('a', { used: { containers: 250 } })]
    const results = auction(stateOf(cells), { lrps: [], tasks: [aTask('t'), aTask('u', { rootfs: 'other' })] })
    expect(results.failedTasks.map((f) => f.error)).toEqual([
      'insufficient resources: containers',
      'found no compatible cell for required rootfs',
    ])
  })
})

describe('auctionOrder', () => {
  it('puts index 0 first, then tasks, then higher indexes; within them larger memory first', () => {
    const order = auctionOrder({
      lrps: [
        anLrp('a', 2, { memoryMb: 4096 }),
        anLrp('b', 0, { memoryMb: 128 }),
        anLrp('c', 1, { memoryMb: 256 }),
        anLrp('d', 0, { memoryMb: 1024 }),
        anLrp('e', 1, { memoryMb: 2048 }),
      ],
      tasks: [aTask('small', { memoryMb: 64 }), aTask('large', { memoryMb: 1024 })],
    })
    expect(order.lrpsBeforeTasks.map((l) => l.processGuid)).toEqual(['d', 'b'])
    expect(order.tasks.map((t) => t.taskGuid)).toEqual(['large', 'small'])
    // As Diego's SortableLRPAuctions: by index, then by memory.
    expect(order.lrpsAfterTasks.map((l) => l.processGuid)).toEqual(['e', 'c', 'a'])
  })
})

describe('placementTagMismatchError', () => {
  it('quotes the tags as auctiontypes.PlacementTagMismatchError does', () => {
    expect(placementTagMismatchError(['a', 'b', 'c'])).toBe(
      'found no compatible cell with placement tags "a", "b" and "c"',
    )
    expect(ERROR_CELL_MISMATCH).toBe('found no compatible cell for required rootfs')
  })
})

describe('the fast auction', () => {
  // Small clusters with few distinct shapes, so that classes, ties, full cells, zones and locality all occur.
  const arbitraryCell = fc.record({
    zone: fc.constantFrom('z1', 'z2', 'z3'),
    shape: fc.constantFrom(
      { memoryMb: 4096, diskMb: 8192, containers: 4 },
      { memoryMb: 4096, diskMb: 8192, containers: 250 },
      { memoryMb: 3000, diskMb: 5000, containers: 7 },
    ),
    // Mostly idle cells, so that identical cells, and exact ties between zones, are common.
    usedMemory: fc.constantFrom(0, 0, 0, 1, 2, 4),
    usedDisk: fc.constantFrom(0, 0, 0, 1, 2, 4),
    usedContainers: fc.constantFrom(0, 0, 0, 1, 4),
    starting: fc.constantFrom(0, 0, 1, 3),
    tasks: fc.integer({ min: 0, max: 2 }),
    rootfs: fc.constantFrom(['cflinuxfs4'], ['cflinuxfs4', 'docker'], ['cflinuxfs3']),
    tags: fc.constantFrom([], ['blue'], [] as string[]),
    optional: fc.constantFrom([], ['fast']),
  })
  const arbitraryLrp = fc.record({
    processGuid: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
    index: fc.integer({ min: 0, max: 4 }),
    memoryMb: fc.constantFrom(128, 256, 512, 1024, 2048),
    diskMb: fc.constantFrom(256, 1024, 2048),
    rootfs: fc.constantFrom('cflinuxfs4', 'cflinuxfs4', 'docker:///app', 'cflinuxfs3'),
    placementTags: fc.constantFrom([], [], ['blue'], ['fast'], ['blue', 'fast']),
  })
  const arbitraryTask = fc.record({
    taskGuid: fc.uuid(),
    memoryMb: fc.constantFrom(128, 1024),
    diskMb: fc.constantFrom(256, 1024),
    rootfs: fc.constantFrom('cflinuxfs4', 'cflinuxfs3'),
    placementTags: fc.constantFrom([], ['blue']),
  })

  it('chooses exactly what the full scan chooses, on random small clusters and batches', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryCell, { maxLength: 9 }),
        fc.array(arbitraryLrp, { maxLength: 30 }),
        fc.array(arbitraryTask, { maxLength: 4 }),
        fc.array(fc.tuple(fc.constantFrom('p1', 'p2', 'p3', 'p4'), fc.nat()), { maxLength: 8 }),
        fc.constantFrom(0.25, 0, 0.1),
        (cellSpecs, lrps, tasks, holdings, weight) => {
          const cells = cellSpecs.map((c, i) => {
            const total = c.shape
            return aCell(`cell-${String.fromCharCode(97 + ((i * 7) % 26))}${i}`, {
              zone: c.zone,
              total,
              available: {
                memoryMb: total.memoryMb - (c.usedMemory * total.memoryMb) / 4,
                diskMb: total.diskMb - (c.usedDisk * total.diskMb) / 4,
                containers: Math.max(0, total.containers - c.usedContainers),
              },
              startingContainers: c.starting,
              tasks: c.tasks,
              rootfsProviders: c.rootfs,
              placementTags: c.tags,
              optionalPlacementTags: c.optional,
            })
          })
          const holding: Record<string, string[]> = {}
          for (const [guid, at] of holdings) {
            if (cells.length > 0) (holding[guid] ??= []).push(cells[at % cells.length]!.id)
          }
          const state = stateOf(cells, holding)
          const config = { startingContainerWeight: weight }
          const batch = { lrps, tasks }
          expect(runAuction(state, batch, config)).toEqual(runAuctionByFullScan(state, batch, config))
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('orders a batch as the full scan does when its indexes are far apart and its memories many', () => {
    // Few requests over a wide range of buckets (index, memory): the fast order sorts keys instead of counting.
    const cells = [aCell('cell-a', { zone: 'z1' }), aCell('cell-b', { zone: 'z2' }), aCell('cell-c', { zone: 'z1' })]
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            processGuid: fc.constantFrom('p1', 'p2', 'p3'),
            index: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 })),
            memoryMb: fc.integer({ min: 1, max: 64 }),
          }),
          { maxLength: 25 },
        ),
        (requests) => {
          const lrps = requests.map((r) => anLrp(r.processGuid, r.index, { memoryMb: r.memoryMb, diskMb: 64 }))
          const state = stateOf(cells)
          expect(runAuction(state, { lrps, tasks: [] })).toEqual(runAuctionByFullScan(state, { lrps, tasks: [] }))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('matches the full scan on a larger cluster filled to the brim', () => {
    const cells = Array.from({ length: 60 }, (_, i) =>
      aCell(`cell-${String(i).padStart(2, '0')}`, {
        zone: `z${i % 3}`,
        total: { memoryMb: 16384, diskMb: 65536, containers: 20 },
      }),
    )
    const lrps: LrpStartRequest[] = []
    for (let p = 0; p < 300; p++) {
      for (let index = 0; index < 1 + (p % 5); index++) {
        lrps.push(anLrp(`p${p}`, index, { memoryMb: 128 * (1 + ((p * 7) % 8)), diskMb: 1024 }))
      }
    }
    const state = stateOf(cells)
    const fast = runAuction(state, { lrps, tasks: [] })
    expect(fast).toEqual(runAuctionByFullScan(state, { lrps, tasks: [] }))
    // 900 instances, 75% of the 1,200 container slots and about half the memory: everything fits.
    expect(fast.failedLrps).toEqual([])
  })
})
