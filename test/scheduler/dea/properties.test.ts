// Properties of the DEA pool under random sequences of CC messages and faults, on a fake clock.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aDea, aFoundation, anApp, type Foundation, runningIndexes } from './builders.js'

const HM = 10_000
/** HM9000 fetches the CC's desired state this often and analyses the last fetch on every pass between. */
const DESIRED_FETCH = 60_000
const HEARTBEAT = 10_000
const MISSED_HEARTBEATS = 3
const GRACE = 30_000
const BOOT = 5_000
const APPS = ['a0', 'a1', 'a2', 'a3', 'a4']
const DEAS = Array.from({ length: 8 }, (_, i) =>
  aDea(`dea-${i}`, { zone: `z${i % 3}`, memoryMb: 8192, diskMb: 16_384 }),
)
/** DEAs whose disk runs out first: the CC reserves only memory on its copy of an advertisement. */
const DISK_BOUND_DEAS = DEAS.map((d) => ({ ...d, diskMb: 3072 }))
/** Losses and evacuations beyond this are skipped, so that what is left can hold every app. */
const MAX_DEAS_DOWN = 3

type Command =
  | { kind: 'start'; app: number; instances: number; memoryMb: number; diskMb: number }
  | { kind: 'scale'; app: number; instances: number }
  | { kind: 'restart'; app: number }
  | { kind: 'stop'; app: number }
  | { kind: 'flip'; app: number }
  | { kind: 'crash'; app: number; index: number }
  | { kind: 'lose'; dea: number }
  | { kind: 'evacuate'; dea: number }
  | { kind: 'add' }
  | { kind: 'advance'; ms: number }

const app = fc.integer({ min: 0, max: APPS.length - 1 })
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      app,
      instances: fc.integer({ min: 0, max: 4 }),
      memoryMb: fc.constantFrom(128, 256, 512, 1024),
      diskMb: fc.constantFrom(512, 1024),
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
    arbitrary: fc.record({ kind: fc.constant('crash' as const), app, index: fc.integer({ min: 0, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('lose' as const), dea: fc.integer({ min: 0, max: DEAS.length - 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('evacuate' as const), dea: fc.integer({ min: 0, max: DEAS.length - 1 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25_000 }) }),
  },
)

class Run {
  readonly f: Foundation
  private version = 0
  private added = 0
  private down = 0
  /** When the CC stopped listing an app for the DEAs (flip or stop). */
  readonly unlistedAt = new Map<string, number>()

  constructor(deas = DEAS) {
    this.f = aFoundation({ deas })
  }

  async apply(c: Command): Promise<void> {
    const { cc, pool, clock } = this.f
    const guid = 'app' in c ? APPS[c.app]! : ''
    const listed = cc.apps.has(guid)
    switch (c.kind) {
      case 'start':
        cc.start(
          anApp({
            appGuid: guid,
            version: `v${++this.version}`,
            instances: c.instances,
            memoryMb: c.memoryMb,
            diskMb: c.diskMb,
          }),
        )
        this.unlistedAt.delete(guid)
        return
      case 'scale':
        if (listed) cc.scale(guid, c.instances)
        return
      case 'restart':
        if (listed) cc.restart(guid, `v${++this.version}`)
        return
      case 'stop':
        if (!listed) return
        cc.stop(guid)
        this.unlistedAt.set(guid, clock.now())
        return
      case 'flip':
        if (!listed) return
        cc.flipToDiego(guid)
        this.unlistedAt.set(guid, clock.now())
        return
      case 'crash':
        if (pool.instancesOnDeas(guid).some((i) => i.index === c.index && i.state !== 'CRASHED'))
          pool.crashInstance(guid, c.index)
        return
      case 'lose':
      case 'evacuate': {
        const dea = pool.deas().find((d) => d.id === DEAS[c.dea]!.id)!
        if (!dea.alive || dea.evacuating || this.down >= MAX_DEAS_DOWN) return
        this.down++
        if (c.kind === 'lose') pool.loseDea(dea.id)
        else pool.evacuateDea(dea.id)
        return
      }
      case 'add':
        pool.addDea(aDea(`added-${++this.added}`, { zone: `z${this.added % 3}`, memoryMb: 4096, diskMb: 8192 }))
        return
      case 'advance':
        await clock.advance(c.ms)
        return
    }
  }

  /** No DEA holds more than it has, and what it holds is exactly what its live instances need. */
  checkCapacity(): void {
    const instances = this.f.pool.allInstances()
    for (const dea of this.f.pool.deas().filter((d) => d.alive)) {
      const mine = instances.filter((i) => i.deaId === dea.id && i.state !== 'CRASHED')
      expect(dea.reservedMemoryMb).toBeLessThanOrEqual(dea.memoryMb)
      expect(dea.reservedDiskMb).toBeLessThanOrEqual(dea.diskMb)
      expect(dea.reservedMemoryMb).toBe(mine.reduce((sum, i) => sum + i.memoryMb, 0))
      expect(dea.reservedDiskMb).toBe(mine.reduce((sum, i) => sum + i.diskMb, 0))
    }
  }

  /** An app the CC stopped listing for the DEAs has no instance on them once a fetch and a pass have seen it. */
  checkWoundDown(): void {
    for (const [guid, at] of this.unlistedAt) {
      if (this.f.clock.now() - at >= DESIRED_FETCH + HM) expect(this.f.pool.instancesOnDeas(guid)).toEqual([])
    }
  }

  /**
   * Every listed app runs exactly its instance count, one per index, at its version, on DEAs taking work;
   * and every evacuated DEA has shut down, a crash left on it or not.
   */
  checkConverged(): void {
    const { cc, pool } = this.f
    expect(pool.deas().filter((d) => d.alive && d.evacuating)).toEqual([])
    for (const guid of APPS) {
      const spec = cc.apps.get(guid)
      const all = pool.instancesOnDeas(guid)
      if (!spec) {
        expect(all).toEqual([])
        continue
      }
      expect(runningIndexes(pool, guid)).toEqual(Array.from({ length: spec.instances }, (_, i) => i))
      expect(all.map((i) => `${i.version}:${i.state}`)).toEqual(Array(spec.instances).fill(`${spec.version}:RUNNING`))
      expect(pool.instances(guid).map((s) => s.state)).toEqual(Array(spec.instances).fill('RUNNING'))
    }
  }
}

const commands = fc.array(command, { minLength: 1, maxLength: 40, size: 'max' })

/**
 * fast-check's parameters: `runs` by default; CFCTL_PROPERTY_RUNS for a deeper search (a duplicate's stop
 * that outlived its app's flip took some 2,000 runs to find), CFCTL_PROPERTY_SEED and _PATH to repeat one.
 */
function deepRun(runs: number): fc.Parameters<unknown> {
  const seed = process.env.CFCTL_PROPERTY_SEED
  return {
    numRuns: Number(process.env.CFCTL_PROPERTY_RUNS ?? runs),
    ...(seed ? { seed: Number(seed), path: process.env.CFCTL_PROPERTY_PATH } : {}),
  }
}

describe('DeaPool properties', () => {
  it('keeps every DEA within capacity and winds down unlisted apps by the pass after the next desired-state fetch, whatever happens', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        const run = new Run(DISK_BOUND_DEAS)
        try {
          for (const c of sequence) {
            await run.apply(c)
            run.checkCapacity()
            run.checkWoundDown()
          }
        } finally {
          run.f.pool.shutdown()
        }
      }),
      deepRun(80),
    )
  })

  it('converges every listed app to exactly its desired instances RUNNING once the faults stop', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        const run = new Run()
        try {
          for (const c of sequence) await run.apply(c)
          // Long enough for three missed heartbeats, the grace period, a few crash backoffs and the
          // staggered stops of duplicates.
          for (let minute = 0; minute < 25; minute++) {
            await run.f.clock.advance(60_000)
            run.checkCapacity()
          }
          run.checkConverged()
        } finally {
          run.f.pool.shutdown()
        }
      }),
      deepRun(60),
    )
  })

  it('runs the instances of a lost DEA elsewhere once HM9000 has missed its heartbeats, waited its grace period and sent the starts', async () => {
    const apps = fc.array(
      fc.record({ instances: fc.integer({ min: 1, max: 4 }), memoryMb: fc.constantFrom(128, 256, 512, 1024) }),
      { minLength: 1, maxLength: APPS.length },
    )
    await fc.assert(
      fc.asyncProperty(apps, fc.nat(), fc.integer({ min: 0, max: 3 * HM - 1 }), async (sizes, victimPick, offset) => {
        const { clock, cc, pool } = aFoundation({ deas: DEAS })
        try {
          const specs = sizes.map((s, i) => cc.start(anApp({ appGuid: APPS[i]!, ...s })))
          await clock.advance(BOOT + 100)
          await clock.advance(offset)
          const holding = pool.deas().filter((d) => d.alive && d.instances > 0)
          const victim = holding[victimPick % holding.length]!.id
          pool.loseDea(victim)
          // Its last heartbeat is at most one interval old; it expires after MISSED_HEARTBEATS intervals, the
          // next pass sees the instances missing, they wait the grace period, the pass after sends the starts.
          await clock.advance(MISSED_HEARTBEATS * HEARTBEAT + HM + GRACE + HM + BOOT)
          for (const spec of specs) {
            expect(runningIndexes(pool, spec.appGuid)).toEqual(Array.from({ length: spec.instances }, (_, i) => i))
            expect(pool.instancesOnDeas(spec.appGuid).every((i) => i.deaId !== victim)).toBe(true)
            expect(pool.instances(spec.appGuid).map((s) => s.state)).toEqual(Array(spec.instances).fill('RUNNING'))
          }
        } finally {
          pool.shutdown()
        }
      }),
      deepRun(100),
    )
  })
})
