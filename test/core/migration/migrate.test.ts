// migrate(): the flow of `cfctl migrate` without a terminal. The target's lock is checked before the plan is
// shown and taken before anything is recorded, so a refused run leaves the journal as it was.
import { describe, expect, it, vi } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import type { Journal } from '../../../src/core/journal/index.js'
import { LockHeldError } from '../../../src/core/journal/lock.js'
import type { LockOwner } from '../../../src/core/journal/types.js'
import { checkCapacity, type MigrationRunner, planMigration } from '../../../src/core/migration/index.js'
import { type MigrateHooks, migrate } from '../../../src/core/migration/migrate.js'
import type { MigrateOptions, PreparedMigration } from '../../../src/core/migration/operation.js'
import { measuredStep, requireMigration } from '../../../src/core/migration/operation.js'
import { advance, FakeFoundation, settle } from './fake-foundation.js'
import { aMigration, aRunner, openJournal, TARGET } from './support.js'

function setUp(apps = 6) {
  const clock = new FakeClock()
  const world = new FakeFoundation(clock).addFleet(apps)
  const journal = openJournal(clock)
  const prepare = vi.fn(async (options: MigrateOptions): Promise<PreparedMigration> => {
    const plan = planMigration(world.fleet(), { to: options.to, maxInFlight: options.maxInFlight })
    return { plan, capacity: checkCapacity(plan, {}) }
  })
  const context = {
    journal,
    clock,
    target: TARGET,
    prepare,
    runnerFor: (id: string, owner: LockOwner) =>
      aRunner(journal, id, world.port(), clock, { owner, isAlive: () => true }),
    lock: { isAlive: () => true },
  }
  return { clock, world, journal, prepare, context }
}

/** Every row of the journal that a run could write: migrations, their steps and events, and the locks. */
function rowsOf(journal: Journal) {
  const migrations = journal.migrations()
  return {
    migrations,
    steps: migrations.map((m) => journal.steps(m.id)),
    events: migrations.map((m) => journal.events(m.id)),
    lock: journal.lock(TARGET),
  }
}

function hooks(overrides: Partial<MigrateHooks> = {}, clock?: FakeClock) {
  return {
    plan: vi.fn(),
    confirm: vi.fn(async () => true),
    run: vi.fn((runner: MigrationRunner) => (clock ? settle(clock, runner.run()) : runner.run())),
    ...overrides,
  }
}

const NEW = { kind: 'new' as const, options: { to: 'diego' as const, maxInFlight: 2 } }

describe('migrate()', () => {
  it('refuses a second migration on a locked target before planning, and writes nothing to the journal', async () => {
    const { clock, world, journal, context, prepare } = setUp()
    const first = aMigration(world, journal, { settings: { rate: '6/min' } })
    const running = aRunner(journal, first, world.port(), clock).run()
    await advance(clock, 1_000)
    const before = rowsOf(journal)
    const h = hooks()

    await expect(migrate(context, NEW, h)).rejects.toThrow(LockHeldError)

    expect(rowsOf(journal)).toEqual(before)
    expect(prepare).not.toHaveBeenCalled()
    expect(h.plan).not.toHaveBeenCalled()
    expect(h.confirm).not.toHaveBeenCalled()
    expect(journal.migrations().filter((m) => m.state === 'planned')).toEqual([])
    running.catch(() => {})
  })

  it('refuses with nothing written when another cfctl takes the target while the operator reads the plan', async () => {
    const { clock, world, journal, context } = setUp()
    const other = aMigration(world, journal)
    const before = rowsOf(journal)
    const h = hooks({
      confirm: vi.fn(async () => {
        journal.acquireLock(TARGET, other, { pid: 4242, hostname: 'elsewhere', token: 'theirs' })
        return true
      }),
    })

    await expect(migrate(context, NEW, h)).rejects.toThrow(LockHeldError)

    expect(rowsOf(journal)).toEqual({ ...before, lock: expect.objectContaining({ token: 'theirs' }) })
    expect(h.run).not.toHaveBeenCalled()
    void clock
  })

  it('writes nothing when the operator declines, or on a dry run', async () => {
    const { journal, context } = setUp()
    const before = rowsOf(journal)

    expect(await migrate(context, NEW, hooks({ confirm: async () => false }))).toEqual({ kind: 'declined' })
    expect((await migrate(context, { ...NEW, dryRun: true }, hooks())).kind).toBe('dry-run')

    expect(rowsOf(journal)).toEqual(before)
  })

  it('shows the plan, asks, records holding the lock, runs, and lets the lock go', async () => {
    const { clock, world, journal, context } = setUp(4)
    const h = hooks({}, clock)
    let lockAtRecord: unknown
    const result = await migrate(context, NEW, {
      ...h,
      recorded: (m) => {
        lockAtRecord = journal.lock(TARGET)?.migrationId === m.id
      },
    })

    expect(h.plan).toHaveBeenCalledOnce()
    expect(h.confirm).toHaveBeenCalledWith('Move 4 apps to diego?')
    expect(lockAtRecord).toBe(true)
    expect(result).toMatchObject({ kind: 'ran', outcome: { state: 'completed' } })
    expect(world.flips).toHaveLength(4)
    expect(journal.lock(TARGET)).toBeUndefined()
  })

  it('asks before running a migration that was never started, and runs it on yes', async () => {
    const { clock, journal, world, context } = setUp(3)
    const id = aMigration(world, journal)
    const before = rowsOf(journal)

    const declined = await migrate(context, { kind: 'resume', id }, hooks({ confirm: async () => false }))
    expect(declined).toEqual({ kind: 'declined' })
    expect(rowsOf(journal)).toEqual(before)

    const h = hooks({}, clock)
    const ran = await migrate(context, { kind: 'resume', id: id.slice(-4) }, h)
    expect(h.confirm).toHaveBeenCalledWith(`Migration ${id} was never started. Move its 3 apps to diego?`)
    expect(ran).toMatchObject({ kind: 'ran', migrationId: id, outcome: { state: 'completed' } })
  })

  it('says who runs a migration asked to resume while a live cfctl runs it', async () => {
    const { clock, world, journal, context } = setUp()
    const id = aMigration(world, journal, { settings: { rate: '6/min' } })
    const running = aRunner(journal, id, world.port(), clock).run()
    await advance(clock, 1_000)
    const before = rowsOf(journal)

    await expect(migrate(context, { kind: 'resume', id }, hooks())).rejects.toThrow(
      `migration ${id} is being run by pid ${process.pid}`,
    )
    expect(rowsOf(journal)).toEqual(before)
    running.catch(() => {})
  })
})

describe('migrate() --resume while the lease of a cfctl gone on another machine is fresh', () => {
  /** A migration left running by pid 4242 on machine-a, killed there (its lease still fresh) 10 s ago. */
  async function leftByMachineA() {
    const setup = setUp()
    const { clock, world, journal } = setup
    const id = aMigration(world, journal)
    journal.acquireLock(TARGET, id, { pid: 4242, hostname: 'machine-a', token: 'machine-a' })
    const lapsesAt = new Date(clock.now() + 30_000).toISOString()
    await clock.advance(10_000)
    return { ...setup, id, lapsesAt }
  }

  it('refuses, saying when the lease lapses and that --wait waits for it, and changes nothing', async () => {
    const { journal, context, id, lapsesAt } = await leftByMachineA()
    const before = rowsOf(journal)
    const refused = migrate(context, { kind: 'resume', id }, hooks())
    await expect(refused).rejects.toThrow(
      `migration ${id} is being run by pid 4242 on machine-a (heartbeat 10 s ago); if that cfctl is gone, its lease lapses at ${lapsesAt} (in 20 s)`,
    )
    await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/^run this again then, or add --wait/) })
    expect(rowsOf(journal)).toEqual(before)
  })

  it('with wait, waits for the lease to lapse, then takes it over and finishes the migration', async () => {
    const { clock, journal, context, id } = await leftByMachineA()
    const waiting = vi.fn()
    let done = false
    const run = migrate(context, { kind: 'resume', id, wait: true }, hooks({ waiting }, clock)).finally(() => {
      done = true
    })
    await advance(clock, 19_000)
    expect(done).toBe(false)
    expect(waiting).toHaveBeenCalledTimes(1)
    expect(waiting.mock.calls[0]![0]).toMatchObject({ pid: 4242, hostname: 'machine-a' })
    expect(journal.events(id).map((e) => e.type)).not.toContain('lock-taken-over')

    const result = await settle(clock, run)
    expect(result).toMatchObject({ kind: 'ran', migrationId: id, outcome: { state: 'completed' } })
    expect(journal.events(id).find((e) => e.type === 'lock-taken-over')).toMatchObject({
      fromPid: 4242,
      fromHostname: 'machine-a',
      reason: 'stale',
    })
  })
})

describe('migration ids', () => {
  it('takes a unique end or start of an id, and latest', async () => {
    const { world, journal, clock } = setUp(2)
    const first = aMigration(world, journal)
    await clock.advance(2_000)
    const second = aMigration(world, journal)
    expect(requireMigration(journal, 'latest').id).toBe(second)
    expect(requireMigration(journal, first.slice(-4)).id).toBe(first)
    expect(() => requireMigration(journal, first.slice(0, 8))).toThrow(/matches 2 migrations/)
    expect(() => requireMigration(journal, 'nope')).toThrow(/no migration nope/)
  })
})

describe('measuredStep', () => {
  it("is the median flip-to-verified time of the target's finished started apps, none before any ran", async () => {
    const { clock, world, journal } = setUp(6)
    expect(measuredStep(journal, TARGET)).toBeUndefined()
    const id = aMigration(world, journal, { settings: { rate: null } })
    await settle(clock, aRunner(journal, id, world.port(), clock).run())

    const step = measuredStep(journal, TARGET)

    const times = journal
      .steps(id)
      .map((s) => s.doneAt! - s.flippingAt!)
      .sort((a, b) => a - b)
    expect(step).toEqual({ ms: times[3], samples: 6 })
    expect(measuredStep(journal, 'https://elsewhere.example.test')).toBeUndefined()
    // A rollback takes the apps back, not what was learnt of the target's pace.
    await settle(clock, aRunner(journal, id, world.port(), clock).rollback())
    expect(measuredStep(journal, TARGET)).toEqual(step)
  })
})
