// A journal that groups its commits (commitDelayMs): step transitions and events share one transaction,
// committed a moment later, while every other write, a flush() or a durable() commits them first. The
// runner on such a journal still has each flip's intent on disk before the CC is asked to flip.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { Journal, type MigrationEvent } from '../../src/core/journal/index.js'
import type { MigrationPort } from '../../src/core/migration/index.js'
import { FakeFoundation, settle } from '../core/migration/fake-foundation.js'
import { aMigration, aRunner, aTempDir, TARGET } from '../core/migration/support.js'

function twoConnections(commitDelayMs = 5) {
  const clock = new FakeClock()
  const path = join(aTempDir(), 'journal.db')
  const writer = Journal.open(path, { clock, commitDelayMs })
  const reader = Journal.open(path, { clock })
  const world = new FakeFoundation(clock).addFleet(4)
  const id = aMigration(world, writer)
  return { clock, writer, reader, id }
}

const ref = (position: number) => ({ appGuid: `guid-${position}`, appName: `app-${position}`, position })

describe('Journal with grouped commits', () => {
  it('commits step transitions together after the delay; the writer reads its own writes at once', async () => {
    const { clock, writer, reader, id } = twoConnections(5)
    const heard: MigrationEvent[] = []
    writer.subscribe((event) => heard.push(event))

    writer.transitionStep(id, 0, 'flipping', {}, { type: 'step-started', attempt: 1, ...ref(0) })
    writer.transitionStep(id, 1, 'flipping', {}, { type: 'step-started', attempt: 1, ...ref(1) })

    expect(writer.pending).toBe(true)
    expect(writer.step(id, 0)?.state).toBe('flipping')
    expect(reader.step(id, 0)?.state).toBe('pending')
    expect(heard).toEqual([])

    await clock.advance(5)

    expect(writer.pending).toBe(false)
    expect(reader.steps(id).map((s) => s.state)).toEqual(['flipping', 'flipping', 'pending', 'pending'])
    expect(heard.map((e) => e.type)).toEqual(['step-started', 'step-started'])
  })

  it('resolves durable() once the group is committed', async () => {
    const { clock, writer, reader, id } = twoConnections(5)
    writer.transitionStep(id, 0, 'flipping')
    let durable = false
    const waiting = writer.durable().then(() => (durable = true))

    await clock.advance(4)
    expect(durable).toBe(false)
    await clock.advance(1)
    await waiting

    expect(reader.step(id, 0)?.state).toBe('flipping')
    await expect(writer.durable()).resolves.toBeUndefined()
  })

  it('commits the group before any other write, so nothing is durable ahead of what came before it', () => {
    const { writer, reader, id } = twoConnections(60_000)
    writer.transitionStep(id, 0, 'flipping')

    writer.setMigrationState(id, 'running', { event: { type: 'started', recovered: false } })

    expect(writer.pending).toBe(false)
    expect(reader.step(id, 0)?.state).toBe('flipping')
    expect(reader.requireMigration(id).state).toBe('running')
  })

  it('keeps the other writes of a group when one of them is refused', async () => {
    const { clock, writer, reader, id } = twoConnections(5)
    writer.transitionStep(id, 0, 'flipping', {}, { type: 'step-started', attempt: 1, ...ref(0) })

    expect(() => writer.transitionStep(id, 1, 'done', {}, { type: 'step-verified', ms: 1, ...ref(1) })).toThrow(
      /cannot go from pending to done/,
    )
    writer.transitionStep(id, 2, 'flipping')
    await clock.advance(5)

    expect(reader.steps(id).map((s) => s.state)).toEqual(['flipping', 'pending', 'flipping', 'pending'])
    expect(reader.events(id).map((e) => e.type)).toEqual(['planned', 'step-started'])
  })

  it('commits what is grouped when it closes', () => {
    const { writer, reader, id } = twoConnections(60_000)
    writer.appendEvent(id, { type: 'paused', by: 'operator' })

    writer.close()

    expect(reader.events(id).map((e) => e.type)).toEqual(['planned', 'paused'])
  })

  it('refuses every later write once a group could not commit, and says why', async () => {
    const { clock, writer, id } = twoConnections(5)
    writer.transitionStep(id, 0, 'flipping')
    const waiting = writer.durable()
    // The group's transaction ends under it (as a failed COMMIT would leave it), so its COMMIT fails.
    ;(writer as unknown as { store: { exec(sql: string): void } }).store.exec('ROLLBACK')

    await clock.advance(5)

    await expect(waiting).rejects.toThrow(/no transaction is active/)
    expect(() => writer.transitionStep(id, 1, 'flipping')).toThrow(/could not commit its last writes/)
    expect(() => writer.setMigrationState(id, 'running')).toThrow(/could not commit its last writes/)
    await expect(writer.durable()).rejects.toThrow(/could not commit its last writes/)
  })

  it('rejects a commit delay below zero', () => {
    expect(() => Journal.open(':memory:', { commitDelayMs: -1 })).toThrow(/commitDelayMs must be 0 or more/)
  })
})

describe('MigrationRunner on a journal that groups its commits', () => {
  it('has every intent on disk before it asks the CC to flip, and completes', async () => {
    const clock = new FakeClock()
    const path = join(aTempDir(), 'journal.db')
    const journal = Journal.open(path, { clock, commitDelayMs: 0 })
    const reader = Journal.open(path, { clock })
    const world = new FakeFoundation(clock).addFleet(60)
    const id = aMigration(world, journal, { plan: { maxInFlight: 10 }, settings: { rate: null } })
    const port = world.port()
    const seenOnDisk: string[] = []
    const checked: MigrationPort = {
      getApp: (guid) => port.getApp(guid),
      instances: (guid) => port.instances(guid),
      probe: (guid) => port.probe(guid),
      setDiego: (guid, diego) => {
        const step = reader.steps(id).find((s) => s.appGuid === guid)!
        seenOnDisk.push(step.state)
        return port.setDiego(guid, diego)
      },
    }

    const outcome = await settle(clock, aRunner(journal, id, checked, clock).run())

    expect(outcome.state).toBe('completed')
    expect(seenOnDisk).toHaveLength(60)
    expect(new Set(seenOnDisk)).toEqual(new Set(['flipping']))
    expect(reader.stepCounts(id).done).toBe(60)
    expect(reader.events(id).filter((e) => e.type === 'step-verified')).toHaveLength(60)
    expect(journal.lock(TARGET)).toBeUndefined()
  })
})
