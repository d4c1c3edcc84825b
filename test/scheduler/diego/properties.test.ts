// Properties of the Diego engine under random sequences of CC messages and faults, on a fake clock.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CellSpec } from '../../../src/scheduler/diego/bbs.js'
import { processGuidFor } from '../../../src/scheduler/diego/converge.js'
import { aCellSpec, anApp } from './builders.js'
import { aDiegoFoundation } from './foundation.js'

const INTERVAL = 30_000
const AUCTION = 100
const BOOT = 5_000
const APPS = ['a0', 'a1', 'a2', 'a3', 'a4']
/** Roomy cells: whatever the sequence, what is left after MAX_CELLS_DOWN losses or drains holds every app. */
const CELLS = Array.from({ length: 6 }, (_, i) => aCellSpec(`cell-${i}`, { zone: `z${i % 3}`, memoryMb: 8192 }))
/** Cells that run out of containers, disk and memory long before every app is placed. */
const TIGHT_CELLS = CELLS.map((c) => ({ ...c, memoryMb: 2048, diskMb: 4096, containers: 3 }))
/** Added once the faults stop: with these, every app fits (5 apps x 4 instances x 1 GB at most, and the Tasks). */
const ROOM = Array.from({ length: 4 }, (_, i) => aCellSpec(`room-${i}`, { zone: `z${i % 3}`, memoryMb: 8192 }))
const MAX_CELLS_DOWN = 3

type Command =
  | { kind: 'start'; app: number; instances: number; memoryMb: number; diskMb: number }
  | { kind: 'scale'; app: number; instances: number }
  | { kind: 'restart'; app: number }
  | { kind: 'stop'; app: number }
  | { kind: 'flip'; app: number }
  | { kind: 'crash'; app: number; index: number; times: number }
  | { kind: 'lose'; cell: number }
  | { kind: 'drain'; cell: number }
  | { kind: 'slow'; cell: number; ms: number }
  | { kind: 'add' }
  | { kind: 'task'; memoryMb: number; runMs: number; fails: boolean }
  | { kind: 'advance'; ms: number }

const app = fc.integer({ min: 0, max: APPS.length - 1 })
const cell = fc.integer({ min: 0, max: CELLS.length - 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      app,
      instances: fc.integer({ min: 0, max: 4 }),
      memoryMb: fc.constantFrom(256, 512, 1024),
      diskMb: fc.constantFrom(512, 1024, 2048),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('scale' as const), app, instances: fc.integer({ min: 0, max: 4 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), app }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), app }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), app }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      app,
      index: fc.integer({ min: 0, max: 3 }),
      // Three crashes in a row leave the instance CRASHED, waiting out its backoff.
      times: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose' as const), cell }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), cell }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('slow' as const), cell, ms: fc.constantFrom(0, 5_000, 20_000) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('task' as const),
      memoryMb: fc.constantFrom(256, 1024),
      runMs: fc.integer({ min: 0, max: 120_000 }),
      fails: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
)

const commands = fc.array(command, { minLength: 1, maxLength: 40, size: 'max' })

class Run {
  readonly f: ReturnType<typeof aDiegoFoundation>
  private version = 0
  private added = 0
  private down = 0
  private tasks = 0
  /** When the CC stopped wanting an app on Diego (flip or stop). */
  readonly unlistedAt = new Map<string, number>()

  constructor(cells: CellSpec[] = CELLS) {
    this.f = aDiegoFoundation(cells)
  }

  async apply(c: Command): Promise<void> {
    const { diego, wanted, clock } = this.f
    const guid = 'app' in c ? APPS[c.app]! : ''
    const spec = wanted.get(guid)
    switch (c.kind) {
      case 'start':
        this.f.desire(
          anApp(guid, {
            version: `v${++this.version}`,
            instances: c.instances,
            memoryMb: c.memoryMb,
            diskMb: c.diskMb,
          }),
        )
        this.unlistedAt.delete(guid)
        return
      case 'scale':
        if (spec) this.f.desire({ ...spec, instances: c.instances })
        return
      case 'restart':
        if (spec) this.f.desire({ ...spec, version: `v${++this.version}` })
        return
      case 'stop':
        if (!spec) return
        this.f.stop(guid)
        this.unlistedAt.set(guid, clock.now())
        return
      case 'flip':
        // `diego => false`: the CC stops listing the app for Diego and sends Diego nothing.
        if (!spec) return
        wanted.delete(guid)
        this.unlistedAt.set(guid, clock.now())
        return
      case 'crash':
        for (let n = 0; n < c.times && this.crashable(guid, c.index); n++) {
          diego.crashInstance(guid, c.index)
          await clock.advance(AUCTION) // the immediate restarts are placed again before the next crash
        }
        return
      case 'lose':
      case 'drain': {
        const target = diego.bbs.cell(CELLS[c.cell]!.id)
        if (!target?.takesWork || this.down >= MAX_CELLS_DOWN) return
        this.down++
        if (c.kind === 'lose') diego.loseCell(target.id)
        else diego.drainCell(target.id)
        return
      }
      case 'slow': {
        const target = diego.bbs.cell(CELLS[c.cell]!.id)
        if (target?.alive) diego.setCellBootDelay(target.id, c.ms)
        return
      }
      case 'add':
        diego.addCell(aCellSpec(`added-${++this.added}`, { zone: `z${this.added % 3}`, memoryMb: 4096 }))
        return
      case 'task':
        diego.desireTask({
          taskGuid: `task-${++this.tasks}`,
          memoryMb: c.memoryMb,
          diskMb: 512,
          rootfs: 'cflinuxfs4',
          runMs: c.runMs,
          ...(c.fails ? { failureReason: 'exit status 1' } : {}),
        })
        return
      case 'advance':
        await clock.advance(c.ms)
        return
    }
  }

  /** What Diego's crashInstance accepts: a desired index with a running or starting instance, or its copy. */
  private crashable(guid: string, index: number): boolean {
    const desired = this.f.diego.bbs.desiredForApp(guid)
    if (!desired || index >= desired.instances) return false
    const group = this.f.diego.bbs.group(desired.processGuid)!
    const lrp = group.instance(index)
    return (
      lrp?.state === 'RUNNING' || lrp?.state === 'CLAIMED' || [...group.copyRecords()].some((c) => c.index === index)
    )
  }

  /** No cell holds more than it has, and what it holds is exactly what its containers reserved. */
  checkCapacity(): void {
    for (const c of this.f.diego.bbs.cells()) {
      expect(c.usedMemoryMb).toBeLessThanOrEqual(c.capacity.memoryMb)
      expect(c.usedDiskMb).toBeLessThanOrEqual(c.capacity.diskMb)
      expect(c.usedContainers).toBeLessThanOrEqual(c.capacity.containers)
      const lrps = [...c.lrps]
      const tasks = [...c.tasks]
      expect(lrps.every((lrp) => lrp.cellId === c.id)).toBe(true)
      expect(c.usedContainers).toBe(lrps.length + tasks.length)
      expect(c.usedMemoryMb).toBe(sum(lrps.map((l) => l.memoryMb)) + sum(tasks.map((t) => t.definition.memoryMb)))
      expect(c.usedDiskMb).toBe(sum(lrps.map((l) => l.diskMb)) + sum(tasks.map((t) => t.definition.diskMb)))
      expect(c.startingContainers).toBe(lrps.filter((l) => l.state === 'CLAIMED').length)
    }
  }

  /** An app the CC stopped wanting on Diego has nothing left there one converger interval later. */
  checkGone(): void {
    const { diego, clock } = this.f
    for (const [guid, at] of this.unlistedAt) {
      if (clock.now() - at < INTERVAL) continue
      expect(diego.instances(guid)).toEqual([])
      expect(diego.bbs.groupsOfApp(guid)).toEqual([])
      expect(this.f.endpoints(`${guid}.apps.internal`)).toBe(0)
    }
  }

  /** Each Task started at most once and completed at most once. */
  checkTasksRanOnce(): void {
    for (const [guid, count] of this.eventCounts('task-started')) expect(count, `${guid} started`).toBe(1)
    for (const [guid, count] of this.eventCounts('task-completed')) expect(count, `${guid} completed`).toBe(1)
  }

  eventCounts(type: 'task-started' | 'task-completed'): Map<string, number> {
    const counts = new Map<string, number>()
    for (const e of this.f.events) if (e.type === type) counts.set(e.taskGuid, (counts.get(e.taskGuid) ?? 0) + 1)
    return counts
  }

  /** The operator adds cells enough for every app. */
  addRoom(): void {
    for (const spec of ROOM) this.f.diego.addCell(spec)
  }

  get tasksDesired(): number {
    return this.tasks
  }

  /** Every wanted app runs exactly its instance count, one RUNNING record per index, routed, on cells taking work. */
  checkConverged(): void {
    const { diego, wanted } = this.f
    for (const guid of APPS) {
      const spec = wanted.get(guid)
      if (!spec) {
        expect(diego.instances(guid)).toEqual([])
        expect(diego.bbs.groupsOfApp(guid)).toEqual([])
        continue
      }
      expect(diego.instances(guid).map((s) => s.state)).toEqual(Array(spec.instances).fill('RUNNING'))
      const groups = diego.bbs.groupsOfApp(guid)
      expect(groups.map((g) => g.processGuid)).toEqual([processGuidFor(guid, spec.version)])
      const records = [...groups[0]!.records()]
      expect(records.map((r) => `${r.index}:${r.state}:${r.presence}`)).toEqual(
        Array.from({ length: spec.instances }, (_, i) => `${i}:RUNNING:ORDINARY`),
      )
      expect(records.every((r) => diego.bbs.cell(r.cellId)?.takesWork)).toBe(true)
      expect(this.f.endpoints(`${guid}.apps.internal`)).toBe(spec.instances)
    }
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

describe('Diego properties', () => {
  it('keeps every cell within capacity, runs no Task twice, and clears unwanted apps within one converger interval, whatever happens', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        const run = new Run(TIGHT_CELLS)
        try {
          for (const c of sequence) {
            await run.apply(c)
            run.checkCapacity()
            run.checkGone()
            run.checkTasksRanOnce()
          }
        } finally {
          run.f.diego.shutdown()
        }
      }),
      { numRuns: 100 },
    )
  })

  it('converges every wanted app to exactly its desired instances RUNNING, and completes every Task once, once the faults stop and capacity allows', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        // Tight cells leave instances unplaced along the way; the room added afterwards must be found by
        // the converger's re-auctions, not by new requests.
        const run = new Run(TIGHT_CELLS)
        try {
          for (const c of sequence) await run.apply(c)
          run.addRoom()
          // Long enough for crash backoffs up to their 16-minute cap, evacuation timeouts and task runs.
          for (let minute = 0; minute < 30; minute++) {
            await run.f.clock.advance(60_000)
            run.checkCapacity()
            run.checkTasksRanOnce()
          }
          run.checkConverged()
          expect(run.eventCounts('task-completed').size).toBe(run.tasksDesired)
        } finally {
          run.f.diego.shutdown()
        }
      }),
      { numRuns: 60 },
    )
  })

  it('runs the instances of a lost cell elsewhere after one convergence pass and the boot time', async () => {
    const apps = fc.array(
      fc.record({ instances: fc.integer({ min: 1, max: 4 }), memoryMb: fc.constantFrom(256, 512, 1024) }),
      { minLength: 1, maxLength: APPS.length },
    )
    await fc.assert(
      fc.asyncProperty(apps, fc.nat(), fc.integer({ min: 0, max: INTERVAL - 1 }), async (sizes, victimPick, offset) => {
        const f = aDiegoFoundation(CELLS)
        try {
          const specs = sizes.map((s, i) => anApp(APPS[i]!, s))
          for (const spec of specs) f.desire(spec)
          await f.clock.advance(AUCTION + BOOT)
          await f.clock.advance(offset)
          const holding = [...f.diego.bbs.cells()].filter((c) => c.lrps.size > 0)
          const victim = holding[victimPick % holding.length]!.id
          f.diego.loseCell(victim)
          const lostAt = f.clock.now()
          // The converger ticks on multiples of its interval; a tick due now has already run.
          const nextPass = (Math.floor(lostAt / INTERVAL) + 1) * INTERVAL
          await f.clock.advance(nextPass - lostAt + AUCTION + BOOT)
          for (const spec of specs) {
            const statuses = f.diego.instances(spec.appGuid)
            expect(statuses.map((s) => s.state)).toEqual(Array(spec.instances).fill('RUNNING'))
            expect(statuses.every((s) => s.host !== victim)).toBe(true)
            expect(f.routes.lookup(`${spec.appGuid}.apps.internal`).map((e) => e.host)).not.toContain(victim)
          }
          // Its suspect records are gone with their replacements running, and so is the cell.
          expect(f.diego.bbs.cell(victim)).toBeUndefined()
        } finally {
          f.diego.shutdown()
        }
      }),
      { numRuns: 100 },
    )
  })
})
