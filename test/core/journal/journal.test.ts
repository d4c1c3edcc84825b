import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Clock } from '../../../src/clock.js'
import { FakeClock } from '../../../src/clock.js'
import {
  Journal,
  JournalError,
  JournalUnavailableError,
  LeaseLostError,
  LockHeldError,
  type LockOwner,
  type MigrationEvent,
  type MigrationParameters,
  type PlannedStep,
  SCHEMA_VERSION,
} from '../../../src/core/journal/index.js'
import { PgStore } from '../../../src/core/journal/pg-store.js'
import { freshSchema, sql, startPostgres, type TestPostgres } from '../../support/postgres.js'

const TARGET = 'https://api.example.test'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function aJournalPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-journal-'))
  dirs.push(dir)
  return join(dir, 'journal.db')
}

function parameters(overrides: Partial<MigrationParameters> = {}): MigrationParameters {
  return {
    to: 'diego',
    rate: '10/min',
    maxInFlight: 5,
    timeoutMs: 120_000,
    maxFailures: '3',
    canary: 0,
    canaryWaitMs: null,
    probeIntervalMs: 1_000,
    verifyIntervalMs: 2_000,
    selection: {},
    ...overrides,
  }
}

function aStep(name: string, overrides: Partial<PlannedStep> = {}): PlannedStep {
  return {
    appGuid: `guid-${name}`,
    appName: name,
    org: 'org',
    space: 'space',
    appState: 'STARTED',
    instances: 2,
    memoryMb: 256,
    canary: false,
    originalDiego: false,
    targetDiego: true,
    ...overrides,
  }
}

function owner(pid: number, hostname = 'host-a', token = `token-${pid}`): LockOwner {
  return { pid, hostname, token }
}

/** One store of the journal, as the behavioural suite below sees it. */
interface StoreUnderTest {
  name: 'sqlite' | 'postgres'
  /** A fresh, empty journal location (a file, or a schema of its own on the test server). */
  location(): Promise<string>
  /** A fresh journal; on SQLite an in-memory one. */
  open(clock?: Clock): Promise<Journal>
  /** Runs SQL behind the journal's back. */
  exec(location: string, text: string): Promise<void>
}

let server: TestPostgres | undefined
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server?.destroy()
})

const opened: Journal[] = []
afterEach(() => {
  for (const journal of opened.splice(0)) journal.close()
})

function track(journal: Journal): Journal {
  opened.push(journal)
  return journal
}

const STORES: StoreUnderTest[] = [
  {
    name: 'sqlite',
    location: async () => aJournalPath(),
    open: async (clock = new FakeClock()) => track(Journal.open(':memory:', { clock })),
    exec: async (location, text) => {
      const db = new DatabaseSync(location)
      try {
        db.exec(text)
      } finally {
        db.close()
      }
    },
  },
  {
    name: 'postgres',
    location: () => freshSchema(server!),
    open: async (clock = new FakeClock()) => track(Journal.open(await freshSchema(server!), { clock })),
    exec: async (location, text) => {
      await sql(location, text)
    },
  },
]

describe.each(STORES)('Journal on $name', (store) => {
  describe('Journal: schema', () => {
    it('creates the schema at the current version (in WAL mode on a SQLite file)', async () => {
      const journal = track(Journal.open(await store.location(), { clock: new FakeClock() }))
      expect(journal.schemaVersion).toBe(SCHEMA_VERSION)
      expect(journal.storeKind).toBe(store.name)
      expect(journal.journalMode).toBe(store.name === 'sqlite' ? 'wal' : 'postgres')
    })

    it('refuses a journal written by a newer cfctl', async () => {
      const location = await store.location()
      track(Journal.open(location)).close()
      await store.exec(
        location,
        store.name === 'sqlite'
          ? `PRAGMA user_version = ${SCHEMA_VERSION + 1}`
          : `UPDATE cfctl_journal_schema SET version = ${SCHEMA_VERSION + 1}`,
      )
      expect(() => Journal.open(location)).toThrow(
        new RegExp(
          `schema version ${SCHEMA_VERSION + 1}, written by a newer cfctl; this one reads up to ${SCHEMA_VERSION}`,
        ),
      )
    })

    it('brings a version 1 journal forward, keeping its migrations and lock', async () => {
      const location = await store.location()
      const clock = new FakeClock()
      const journal = track(Journal.open(location, { clock }))
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
      journal.close()
      // Back to version 1 as an older cfctl left it: no lease epochs, a lock row deleted on release.
      await store.exec(
        location,
        store.name === 'sqlite'
          ? 'ALTER TABLE locks DROP COLUMN epoch; ALTER TABLE locks DROP COLUMN released_at; PRAGMA user_version = 1'
          : 'ALTER TABLE locks DROP COLUMN epoch, DROP COLUMN released_at; UPDATE cfctl_journal_schema SET version = 1',
      )
      await store.exec(
        location,
        `INSERT INTO locks (target, migration_id, token, pid, hostname, acquired_at, heartbeat_at)
         VALUES ('${TARGET}', '${id}', 'old', 100, 'host-a', ${clock.now()}, ${clock.now()})`,
      )
      const upgraded = track(Journal.open(location, { clock }))
      expect(upgraded.schemaVersion).toBe(SCHEMA_VERSION)
      expect(upgraded.steps(id).map((s) => s.appName)).toEqual(['a'])
      expect(upgraded.lock(TARGET)).toMatchObject({ token: 'old', epoch: 1 })
    })

    it('keeps migrations, steps and events across a reopen', async () => {
      const location = await store.location()
      const clock = new FakeClock()
      const first = track(Journal.open(location, { clock }))
      const { id } = first.createMigration({
        target: TARGET,
        parameters: parameters(),
        steps: [aStep('a'), aStep('b')],
      })
      first.close()
      const second = track(Journal.open(location, { clock }))
      expect(second.requireMigration(id)).toMatchObject({ state: 'planned', target: TARGET, to: 'diego' })
      expect(second.steps(id).map((s) => s.appName)).toEqual(['a', 'b'])
      expect(second.events(id).map((e) => e.type)).toEqual(['planned'])
    })

    it('writes a plan of more apps than one INSERT takes', async () => {
      const journal = await store.open()
      const steps = Array.from({ length: 1_203 }, (_, i) => aStep(`app-${i}`))
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps })
      const written = journal.steps(id)
      expect(written).toHaveLength(1_203)
      expect(written.at(-1)).toMatchObject({ position: 1_202, appName: 'app-1202', state: 'pending' })
    })
  })

  describe('Journal: migrations and steps', () => {
    it('writes a planned migration with its steps in order, stamped by the clock', async () => {
      const clock = new FakeClock(Date.UTC(2026, 2, 4, 5, 6, 7))
      const journal = await store.open(clock)
      const migration = journal.createMigration({
        target: TARGET,
        parameters: parameters({ canary: 1 }),
        steps: [aStep('web', { canary: true }), aStep('worker', { appState: 'STOPPED' })],
      })
      expect(migration.id).toMatch(/^20260304-050607-[0-9a-f]{4}$/)
      expect(migration).toMatchObject({ state: 'planned', pausedBy: null, createdAt: clock.now() })
      expect(journal.steps(migration.id)).toMatchObject([
        { position: 0, appName: 'web', canary: true, state: 'pending', attempts: 0, flipped: false },
        { position: 1, appName: 'worker', appState: 'STOPPED', state: 'pending' },
      ])
      expect(journal.events(migration.id)).toMatchObject([
        { type: 'planned', to: 'diego', steps: 2, canary: 1, at: clock.now(), seq: expect.any(Number) },
      ])
    })

    it('refuses a plan that lists one app twice', async () => {
      const journal = await store.open()
      expect(() =>
        journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a'), aStep('a')] }),
      ).toThrow(/app guid-a appears twice/)
    })

    it('stamps each step transition with the clock and keeps the error and the flip', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
      const t0 = clock.now()
      journal.transitionStep(id, 0, 'flipping', { attempts: 1 })
      await clock.advance(1_000)
      journal.transitionStep(id, 0, 'verifying', { flipped: true })
      await clock.advance(1_000)
      journal.transitionStep(id, 0, 'rolling-back', { error: 'not healthy' })
      await clock.advance(1_000)
      const step = journal.transitionStep(id, 0, 'failed', { flipped: false })
      expect(step).toMatchObject({
        state: 'failed',
        attempts: 1,
        flipped: false,
        error: 'not healthy',
        flippingAt: t0,
        verifyingAt: t0 + 1_000,
        rollingBackAt: t0 + 2_000,
        failedAt: t0 + 3_000,
        doneAt: null,
      })
    })

    it('refuses a step transition the state machine does not have', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
      expect(() => journal.transitionStep(id, 0, 'done')).toThrow(JournalError)
      expect(() => journal.transitionStep(id, 0, 'done')).toThrow(
        /step 0 \(a\) of migration .* cannot go from pending to done/,
      )
    })

    it('refuses a migration transition the state machine does not have', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      journal.setMigrationState(id, 'running')
      journal.setMigrationState(id, 'completed')
      expect(() => journal.setMigrationState(id, 'running')).toThrow(/cannot go from completed to running/)
    })

    it('lets a failed migration run again, and a failed step be flipped again (a retry after the CC came back)', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
      journal.setMigrationState(id, 'running')
      journal.transitionStep(id, 0, 'flipping')
      journal.transitionStep(id, 0, 'failed', { error: 'ECONNREFUSED', flipped: false })
      journal.setMigrationState(id, 'failed')
      journal.setMigrationState(id, 'running')
      expect(journal.transitionStep(id, 0, 'flipping')).toMatchObject({ state: 'flipping' })
    })

    it('records who paused a migration', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      journal.setMigrationState(id, 'running')
      journal.setMigrationState(id, 'paused', { pausedBy: 'pause-file', event: { type: 'paused', by: 'pause-file' } })
      expect(journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'pause-file' })
      expect(journal.events(id).at(-1)).toMatchObject({ type: 'paused', by: 'pause-file' })
    })

    it('changes the live parameters and validates them', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      expect(journal.updateParameters(id, { rate: '60/min' }).parameters.rate).toBe('60/min')
      expect(() => journal.updateParameters(id, { maxInFlight: 0 })).toThrow()
    })

    it('lists migrations newest first, by target and state', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const a = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      await clock.advance(1_000)
      const b = journal.createMigration({ target: 'https://other.test', parameters: parameters(), steps: [] })
      expect(journal.migrations().map((m) => m.id)).toEqual([b.id, a.id])
      expect(journal.migrations({ target: TARGET }).map((m) => m.id)).toEqual([a.id])
      expect(journal.migrations({ states: ['running'] })).toEqual([])
    })
  })

  describe('Journal: events', () => {
    it('keeps the events table append-only', async () => {
      const location = await store.location()
      const journal = track(Journal.open(location, { clock: new FakeClock() }))
      journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      journal.close()
      await expect(store.exec(location, "UPDATE events SET type = 'x'")).rejects.toThrow(/append-only/)
      await expect(store.exec(location, 'DELETE FROM events')).rejects.toThrow(/append-only/)
    })

    it('tells listeners of an event only once its transaction has committed', async () => {
      const journal = await store.open()
      const heard: MigrationEvent[] = []
      journal.subscribe((event) => heard.push(event))
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
      expect(heard.map((e) => e.type)).toEqual(['planned'])
      // A transition that fails takes its event with it.
      expect(() =>
        journal.transitionStep(
          id,
          0,
          'done',
          {},
          { type: 'step-verified', ms: 1, appGuid: 'g', appName: 'a', position: 0 },
        ),
      ).toThrow()
      expect(heard).toHaveLength(1)
      expect(journal.events(id)).toHaveLength(1)
    })

    it('pages through events after a sequence number', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      journal.appendEvent(id, { type: 'paused', by: 'operator' })
      journal.appendEvent(id, { type: 'resumed', by: 'operator' })
      const [planned] = journal.events(id)
      expect(journal.events(id, { afterSeq: planned!.seq }).map((e) => e.type)).toEqual(['paused', 'resumed'])
      expect(journal.events(id, { limit: 1 }).map((e) => e.type)).toEqual(['planned'])
    })
  })

  describe('Journal: the per-target lock', () => {
    function aMigrationIn(journal: Journal): string {
      return journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] }).id
    }

    it('lets one owner hold a target and names it to the next', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const first = aMigrationIn(journal)
      const second = aMigrationIn(journal)
      journal.acquireLock(TARGET, first, owner(100), { isAlive: () => true })
      const attempt = () => journal.acquireLock(TARGET, second, owner(200), { isAlive: () => true })
      expect(attempt).toThrow(LockHeldError)
      expect(attempt).toThrow(
        new RegExp(`migration ${first} is running against ${TARGET} \\(pid 100 on host-a, heartbeat 0 s ago\\)`),
      )
    })

    it('is taken over once its heartbeat is stale, from any host', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100, 'host-a'), { isAlive: () => true })
      await clock.advance(20_000)
      expect(() => journal.acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })).toThrow(LockHeldError)
      await clock.advance(10_001)
      const taken = journal.acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })
      expect(taken.tookOver).toMatchObject({ reason: 'stale', previous: { pid: 100, hostname: 'host-a' } })
      expect(journal.lock(TARGET)).toMatchObject({ pid: 7, hostname: 'host-b', heartbeatAt: clock.now() })
    })

    it('stays held while its owner keeps the heartbeat fresh', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100), { isAlive: () => true })
      for (let i = 0; i < 10; i++) {
        await clock.advance(10_000)
        expect(journal.heartbeat(TARGET, 'token-100')).toBe(true)
      }
      expect(() => journal.acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })).toThrow(LockHeldError)
    })

    it('is taken over at once when its pid is gone from this host', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100), { isAlive: () => true })
      const taken = journal.acquireLock(TARGET, id, owner(200), { isAlive: (pid) => pid !== 100 })
      expect(taken.tookOver).toMatchObject({ reason: 'dead', previous: { pid: 100 } })
    })

    it('is not taken over for a dead pid of another host: that pid says nothing about the other host', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100, 'host-a'), {})
      expect(() => journal.acquireLock(TARGET, id, owner(200, 'host-b'), { isAlive: () => false })).toThrow(
        LockHeldError,
      )
    })

    it('tells the old owner that it lost the lock, and lets only the owner release it', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100), {})
      journal.acquireLock(TARGET, id, owner(200), { isAlive: (pid) => pid !== 100 })
      expect(journal.heartbeat(TARGET, 'token-100')).toBe(false)
      expect(journal.releaseLock(TARGET, 'token-100')).toBe(false)
      expect(journal.releaseLock(TARGET, 'token-200')).toBe(true)
      expect(journal.lock(TARGET)).toBeUndefined()
    })

    it('finds the live lock of a migration, and none once its heartbeat is stale', async () => {
      const clock = new FakeClock()
      const journal = await store.open(clock)
      const id = aMigrationIn(journal)
      journal.acquireLock(TARGET, id, owner(100), {})
      expect(journal.liveLockOf(id, 30_000)).toMatchObject({ pid: 100 })
      await clock.advance(30_001)
      expect(journal.liveLockOf(id, 30_000)).toBeUndefined()
    })

    it('checks a real pid on this host', async () => {
      const { isProcessAlive } = await import('../../../src/core/journal/index.js')
      expect(isProcessAlive(process.pid)).toBe(true)
      expect(isProcessAlive(2 ** 22 + 12_345)).toBe(false)
    })
  })

  describe('Journal: control commands', () => {
    it('hands commands to the runner once each, oldest first', async () => {
      const journal = await store.open()
      const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      journal.requestControl(id, { type: 'pause', by: 'operator' })
      journal.requestControl(id, { type: 'set-rate', rate: '60/min' })
      expect(journal.takeControls(id).map((c) => c.command)).toEqual([
        { type: 'pause', by: 'operator' },
        { type: 'set-rate', rate: '60/min' },
      ])
      expect(journal.takeControls(id)).toEqual([])
    })

    it('refuses a command for a migration it does not have', async () => {
      const journal = await store.open()
      expect(() => journal.requestControl('nope', { type: 'abort', by: 'operator' })).toThrow(/no migration nope/)
    })

    it('sees a command left by another connection to the same journal', async () => {
      const location = await store.location()
      const clock = new FakeClock()
      const runner = track(Journal.open(location, { clock }))
      const cli = track(Journal.open(location, { clock }))
      const { id } = runner.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
      cli.requestControl(id, { type: 'abort', by: 'operator' })
      expect(runner.takeControls(id).map((c) => c.command.type)).toEqual(['abort'])
    })
  })
})

describe.each(STORES)('Journal on $name: leases with fencing', (store) => {
  async function twoConnections(clock: FakeClock) {
    const location = await store.location()
    const a = track(Journal.open(location, { clock }))
    const b = track(Journal.open(location, { clock }))
    const { id } = a.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a'), aStep('b')] })
    return { a, b, id }
  }

  it('gives each acquisition of a target the next epoch, across releases', async () => {
    const journal = await store.open()
    const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [] })
    expect(journal.acquireLock(TARGET, id, owner(100)).lock.epoch).toBe(1)
    journal.releaseLock(TARGET, 'token-100')
    expect(journal.lock(TARGET)).toBeUndefined()
    expect(journal.acquireLock(TARGET, id, owner(200)).lock.epoch).toBe(2)
    expect(journal.leaseEpoch(id)).toBe(2)
  })

  it('refuses every write of a runner whose lease was taken over, recording nothing of it', async () => {
    const clock = new FakeClock()
    const { a, b, id } = await twoConnections(clock)
    a.acquireLock(TARGET, id, owner(100, 'host-a'), { isAlive: () => true })
    a.transitionStep(id, 0, 'flipping')
    await clock.advance(30_001)
    const taken = b.acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })
    expect(taken.lock.epoch).toBe(2)
    // The old runner wakes: its intent for the next app is refused, and so is any other write of it.
    expect(() => a.transitionStep(id, 1, 'flipping')).toThrow(LeaseLostError)
    expect(() => a.transitionStep(id, 1, 'flipping')).toThrow(
      new RegExp(`lost the lease of migration ${id} \\(epoch 1\\); it is now held by pid 7 on host-b \\(epoch 2\\)`),
    )
    expect(() => a.setMigrationState(id, 'paused')).toThrow(LeaseLostError)
    expect(() => a.appendEvent(id, { type: 'paused', by: 'operator' })).toThrow(LeaseLostError)
    expect(() => a.checkLease(id)).toThrow(LeaseLostError)
    expect(b.step(id, 1)).toMatchObject({ state: 'pending' })
    expect(b.requireMigration(id).state).toBe('planned')
    expect(b.events(id).map((e) => e.type)).toEqual(['planned'])
    // The new holder writes on.
    b.transitionStep(id, 1, 'flipping')
    b.checkLease(id)
    expect(b.step(id, 1)).toMatchObject({ state: 'flipping' })
  })

  it('refuses the writes of a runner whose lease was released by another process', async () => {
    const clock = new FakeClock()
    const { a, b, id } = await twoConnections(clock)
    a.acquireLock(TARGET, id, owner(100))
    b.releaseLock(TARGET, 'token-100')
    expect(() => a.transitionStep(id, 0, 'flipping')).toThrow(/lost the lease .*; it is no longer held/)
  })

  it('reads again a step another process changed while the runner holds the lease, rather than overwrite it', async () => {
    const clock = new FakeClock()
    const { a, b, id } = await twoConnections(clock)
    a.acquireLock(TARGET, id, owner(100))
    a.transitionStep(id, 0, 'flipping', {}, { type: 'paused', by: "o'neil \\ $1 ?" })
    const note = "noted by b's \\ ? $2"
    b.updateStep(id, 0, { note })
    const next = a.transitionStep(id, 0, 'verifying', { attempts: 1 })
    expect(next).toMatchObject({ state: 'verifying', note, attempts: 1 })
    expect(b.step(id, 0)).toMatchObject({ state: 'verifying', note, attempts: 1 })
    expect(b.events(id).at(-1)).toMatchObject({ type: 'paused', by: "o'neil \\ $1 ?" })
  })

  it("does not fence the writes of a process that holds no lease (an operator's pause)", async () => {
    const clock = new FakeClock()
    const { a, b, id } = await twoConnections(clock)
    a.acquireLock(TARGET, id, owner(100))
    b.setMigrationState(id, 'paused', { pausedBy: 'operator' })
    b.requestControl(id, { type: 'resume', by: 'operator' })
    expect(a.takeControls(id)).toHaveLength(1)
    expect(a.leaseEpoch(id)).toBe(1)
    expect(b.leaseEpoch(id)).toBeUndefined()
  })
})

describe('Journal on sqlite: the file', () => {
  it('creates the directory of a journal that does not exist yet', () => {
    const path = join(aJournalPath(), '..', 'fresh', '.cfctl', 'journal.db')
    const journal = track(Journal.open(path, { clock: new FakeClock() }))
    expect(journal.schemaVersion).toBe(SCHEMA_VERSION)
  })
})

describe('Journal on postgres: a group of commits cut off by an outage', () => {
  it('rejects its waiters, says so to the next write once, and writes again when the server is back', async () => {
    const clock = new FakeClock()
    const journal = track(Journal.open(await freshSchema(server!), { clock, commitDelayMs: 5 }))
    const { id } = journal.createMigration({
      target: TARGET,
      parameters: parameters(),
      steps: [aStep('a'), aStep('b')],
    })
    journal.transitionStep(id, 0, 'flipping')
    const waiting = journal.durable()
    waiting.catch(() => undefined)
    await server!.stop()
    expect(() => journal.transitionStep(id, 1, 'flipping')).toThrow(JournalUnavailableError)
    await server!.start()
    await clock.advance(5)
    // The intent of step 0 never reached the database: whoever waits for it to be durable must not go on.
    await expect(waiting).rejects.toThrow(JournalUnavailableError)
    expect(() => journal.step(id, 0)).not.toThrow()
    expect(() => journal.transitionStep(id, 1, 'flipping')).toThrow(/the last group of writes was not committed/)
    journal.transitionStep(id, 1, 'flipping')
    await clock.advance(5)
    await journal.durable()
    expect(journal.steps(id).map((s) => s.state)).toEqual(['pending', 'flipping'])
  })
})

describe('Journal on postgres: which commits wait for the disk', () => {
  it('an intent always; a step found flipped or verified not (a crash costs a recheck with the CC)', async () => {
    const journal = await STORES[1]!.open()
    const { id } = journal.createMigration({ target: TARGET, parameters: parameters(), steps: [aStep('a')] })
    type Store = { run(sql: string, params?: unknown[]): number; defer(sql: string, params?: unknown[]): void }
    const store = (journal as unknown as { store: Store }).store
    const run = store.run.bind(store)
    const defer = store.defer.bind(store)
    const relaxed: string[] = []
    let last = ''
    store.run = (sql, params) => {
      if (/synchronous_commit = off/.test(sql)) relaxed.push(last)
      return run(sql, params)
    }
    store.defer = (sql, params) => {
      if (/synchronous_commit = off/.test(sql)) relaxed.push(last)
      defer(sql, params)
    }
    for (const to of ['flipping', 'verifying', 'done', 'rolling-back', 'rolled-back'] as const) {
      last = to
      journal.transitionStep(id, 0, to)
    }
    expect(relaxed).toEqual(['verifying', 'done'])
  })
})

describe('Journal on postgres: a COMMIT that fails', () => {
  it('ends the transaction, so that the next call works: the connection cut during the COMMIT', async () => {
    const store = new PgStore(await freshSchema(server!))
    try {
      // A trigger run by the COMMIT itself ends the session: the connection breaks with the COMMIT in flight.
      store.exec(`CREATE TABLE t (n INTEGER);
        CREATE FUNCTION cut() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.n = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$;
        CREATE CONSTRAINT TRIGGER cut AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cut();`)
      store.defer('BEGIN')
      store.run('INSERT INTO t (n) VALUES (1)')
      expect(() => store.run('COMMIT')).toThrow(JournalUnavailableError)
      expect(store.inTransaction).toBe(false)
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM t')).toEqual({ n: 0 })
      store.defer('BEGIN')
      store.run('INSERT INTO t (n) VALUES (2)')
      store.run('COMMIT')
      expect(store.all<{ n: number }>('SELECT n FROM t')).toEqual([{ n: 2 }])
    } finally {
      store.close()
    }
  })

  it('ends the transaction, so that the next call works: a constraint checked at the commit', async () => {
    const store = new PgStore(await freshSchema(server!))
    try {
      store.exec('CREATE TABLE u (n INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED)')
      store.defer('BEGIN')
      store.run('INSERT INTO u (n) VALUES (1), (1)')
      expect(() => store.run('COMMIT')).toThrow(/duplicate key/)
      expect(store.inTransaction).toBe(false)
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM u')).toEqual({ n: 0 })
    } finally {
      store.close()
    }
  })
})

describe('Journal on postgres: grouped writes', () => {
  async function aGroupedRunner(clock: FakeClock) {
    const location = await freshSchema(server!)
    const journal = track(Journal.open(location, { clock, commitDelayMs: 5 }))
    const { id } = journal.createMigration({
      target: TARGET,
      parameters: parameters(),
      steps: [aStep('a'), aStep('b'), aStep('c')],
    })
    journal.acquireLock(TARGET, id, owner(100, 'host-a'), { isAlive: () => true })
    journal.steps(id)
    return { location, journal, id }
  }

  it('sends a group to the server only with its COMMIT, in one round trip, and goes on while it commits', async () => {
    const clock = new FakeClock()
    const { location, journal, id } = await aGroupedRunner(clock)
    const other = track(Journal.open(location, { clock }))
    type Worker = { thread: { postMessage(message: unknown): void } }
    const store = (journal as unknown as { store: { worker: Worker } }).store
    const posted: unknown[] = []
    const post = store.worker.thread.postMessage.bind(store.worker.thread)
    store.worker.thread.postMessage = (message) => {
      posted.push(message)
      post(message)
    }
    journal.transitionStep(
      id,
      0,
      'flipping',
      {},
      { type: 'step-started', attempt: 1, appGuid: 'guid-a', appName: 'a', position: 0 },
    )
    journal.transitionStep(id, 1, 'flipping')
    journal.transitionStep(id, 0, 'verifying', { flipped: true })
    expect(posted).toHaveLength(0)
    await clock.advance(5)
    expect(posted).toHaveLength(1)
    expect(journal.pending).toBe(true)
    // Written while the COMMIT is out: the next group.
    journal.transitionStep(id, 2, 'flipping')
    await journal.intentDurable(id, 'guid-a')
    expect(other.steps(id).map((s) => s.state)).toEqual(['verifying', 'flipping', 'pending'])
    expect(other.events(id).map((e) => e.type)).toEqual(['planned', 'step-started'])
    await clock.advance(5)
    await journal.durable()
    expect(other.step(id, 2)?.state).toBe('flipping')
  })

  it("rejects an intent's PUT when its group was lost, even once the journal answers again", async () => {
    const clock = new FakeClock()
    const { journal, id } = await aGroupedRunner(clock)
    journal.transitionStep(id, 0, 'flipping')
    await server!.stop()
    try {
      await clock.advance(5)
      await expect(journal.durable()).rejects.toThrow(JournalUnavailableError)
    } finally {
      await server!.start()
    }
    // Nothing waits in a group any more, and the server answers: the intent is still not on disk.
    expect(journal.pending).toBe(false)
    await expect(journal.intentDurable(id, 'guid-a')).rejects.toThrow(JournalUnavailableError)
    expect(journal.step(id, 0)?.state).toBe('pending')
  })

  it("refuses a group whose lease was taken over with the runner's LeaseLostError", async () => {
    const clock = new FakeClock()
    const { location, journal, id } = await aGroupedRunner(clock)
    const other = track(Journal.open(location, { clock }))
    await clock.advance(30_001)
    other.acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })
    journal.transitionStep(id, 0, 'flipping')
    await clock.advance(5)
    await expect(journal.intentDurable(id, 'guid-a')).rejects.toThrow(LeaseLostError)
    expect(() => journal.transitionStep(id, 1, 'flipping')).toThrow(LeaseLostError)
    expect(other.steps(id).map((s) => s.state)).toEqual(['pending', 'pending', 'pending'])
  })

  it('remembers when a commit last found the lease held, so that a PUT right after needs no read of it', async () => {
    const clock = new FakeClock()
    const { journal, id } = await aGroupedRunner(clock)
    expect(journal.leaseConfirmedWithin(id, 1_000)).toBe(false)
    journal.transitionStep(id, 0, 'flipping')
    await clock.advance(5)
    await journal.intentDurable(id, 'guid-a')
    expect(journal.leaseConfirmedWithin(id, 1_000)).toBe(true)
    await clock.advance(1_000)
    expect(journal.leaseConfirmedWithin(id, 1_000)).toBe(false)
    journal.checkLease(id)
    expect(journal.leaseConfirmedWithin(id, 1_000)).toBe(true)
  })
})

describe('Journal on postgres: the store', () => {
  it('refuses to call committed a transaction that an error aborted (the server answers its COMMIT with ROLLBACK)', async () => {
    const store = new PgStore(await freshSchema(server!))
    try {
      store.exec('CREATE TABLE t (n INTEGER)')
      store.defer('BEGIN')
      store.run('INSERT INTO t (n) VALUES (1)')
      expect(() => store.run('SELECT 1 / 0')).toThrow(/division by zero/)
      expect(() => store.run('COMMIT')).toThrow(/rolled back, not committed/)
      expect(store.get<{ n: number }>('SELECT COUNT(*) AS n FROM t')).toEqual({ n: 0 })
    } finally {
      store.close()
    }
  })
})

describe('Journal on postgres: a read while a group is open', () => {
  it('says the lease was lost when the group it sends is refused, and the group is lost with it', async () => {
    const clock = new FakeClock()
    const location = await freshSchema(server!)
    const journal = track(Journal.open(location, { clock, commitDelayMs: 5 }))
    const { id } = journal.createMigration({
      target: TARGET,
      parameters: parameters(),
      steps: [aStep('a'), aStep('b')],
    })
    journal.acquireLock(TARGET, id, owner(100, 'host-a'), { isAlive: () => true })
    journal.steps(id)
    // Frozen past the lease's stale limit: another runner takes it over.
    await clock.advance(30_001)
    track(Journal.open(location, { clock })).acquireLock(TARGET, id, owner(7, 'host-b'), { staleAfterMs: 30_000 })

    journal.transitionStep(id, 0, 'flipping')
    expect(() => journal.checkLease(id)).toThrow(LeaseLostError)
    await expect(journal.intentDurable(id, 'guid-a')).rejects.toThrow(LeaseLostError)
    expect(() => journal.transitionStep(id, 1, 'flipping')).toThrow(LeaseLostError)
    await clock.advance(5)
    expect(journal.steps(id).map((s) => s.state)).toEqual(['pending', 'pending'])
  })
})
