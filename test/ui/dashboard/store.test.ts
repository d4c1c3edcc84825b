import { mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../../../src/core/journal/index.js'
import { controlMigration, MigrationRunner } from '../../../src/core/migration/index.js'
import { nextPollAfter } from '../../../src/ui/dashboard/store.js'
import { advance, advanceUntil, settle } from '../../core/migration/fake-foundation.js'
import { aDashboardWorld } from './world.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function aJournalFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-dashboard-'))
  dirs.push(dir)
  return join(dir, 'journal.db')
}

describe('the dashboard store', () => {
  it("watches the target's running migration: counts, steps, events and pace", async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '60/min', maxInFlight: 2 })
    const runner = w.runner(id)
    const { store } = w.store()
    store.start()
    const run = runner.run()
    await advance(w.clock, 30_000)

    const snapshot = store.getSnapshot()
    expect(snapshot.migration).toMatchObject({ id, state: 'running', rate: '60/min', maxInFlight: 2, total: 20 })
    const { counts } = snapshot.migration!
    expect(counts.done).toBeGreaterThan(2)
    expect(counts.done + counts.pending + snapshot.migration!.inFlight).toBe(20)
    expect(snapshot.steps.byGuid.get('guid-app-0000')).toMatchObject({ state: 'done' })
    expect(snapshot.events.some((e) => /^app-0000: verified in \d/.test(e.text))).toBe(true)
    expect(snapshot.migration!.pace.now).toMatch(/^\d+\/min$/)
    expect(snapshot.apps.fleet.size).toBe(20)
    await settle(w.clock, run)
    store.stop()
  })

  it('publishes at most ten snapshots a second, however fast the runner writes', async () => {
    const w = aDashboardWorld(200)
    const id = w.plan({ rate: null, maxInFlight: 50 })
    const { store } = w.store()
    let published = 0
    store.subscribe(() => published++)
    store.start()
    const run = w.runner(id).run()
    const events: number[] = []
    w.journal.subscribe(() => events.push(w.clock.now()))
    const start = w.clock.now()
    await advance(w.clock, 20_000, 10)

    const seconds = (w.clock.now() - start) / 1_000
    expect(events.length / seconds).toBeGreaterThan(15)
    expect(published / seconds).toBeLessThanOrEqual(10.1)
    await settle(w.clock, run)
    await advance(w.clock, 300)
    expect(store.getSnapshot().migration).toMatchObject({ state: 'completed', counts: { done: 200 } })
    store.stop()
  })

  it('publishes nothing while nothing changes', async () => {
    const w = aDashboardWorld(20)
    w.plan()
    const { store } = w.store()
    store.start()
    await advance(w.clock, 1_000)
    let published = 0
    store.subscribe(() => published++)
    await advance(w.clock, 30_000)
    // The apps poll every 5 s and find them the same; the journal is read twice a second and says nothing new.
    expect(w.source.polls).toBeGreaterThanOrEqual(6)
    expect(published).toBe(w.source.polls - 1)
    store.stop()
  })

  it('follows a migration that another process runs, through the journal file', async () => {
    const path = aJournalFile()
    const w = aDashboardWorld(10, (clock) => Journal.open(path, { clock }))
    const id = w.plan({ rate: '60/min', maxInFlight: 1 })
    // The dashboard's own connection to the file: it hears nothing the other writes, it reads it.
    const mine = Journal.open(path, { clock: w.clock })
    const { store } = w.store({ journal: mine })
    store.start()
    const run = w.runner(id).run()
    await advance(w.clock, 25_000)

    const snapshot = store.getSnapshot()
    expect(snapshot.migration?.id).toBe(id)
    expect(snapshot.migration!.counts.done).toBeGreaterThan(0)
    expect(snapshot.events.map((e) => e.text)).toContain('run started')
    await settle(w.clock, run)
    store.stop()
    mine.close()
  })

  it('pauses and resumes a migration another process runs, and the journal tells who', async () => {
    const path = aJournalFile()
    const w = aDashboardWorld(20, (clock) => Journal.open(path, { clock }))
    const id = w.plan({ rate: '60/min', maxInFlight: 1 })
    const mine = Journal.open(path, { clock: w.clock })
    const { store } = w.store({ journal: mine, control: { journal: mine, by: 'operator:ann' } })
    store.start()
    const run = w.runner(id).run()
    await advance(w.clock, 5_000)

    const paused = await store.act('pause')
    expect(paused.text).toMatch(/^pause sent to cfctl \(pid \d+\)/)
    // The runner takes it up within a second; the fleet view is read every two.
    await advance(w.clock, 3_500)
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'operator:ann' })
    expect(store.getSnapshot().migration).toMatchObject({ state: 'paused', pausedBy: 'operator:ann' })
    expect(store.getSnapshot().fleet[0]).toMatchObject({ id, state: 'paused', pausedBy: 'operator:ann' })

    await store.act('resume')
    await advance(w.clock, 1_500)
    expect(w.journal.requireMigration(id).state).toBe('running')
    await settle(w.clock, run)
    store.stop()
    mine.close()
  })

  it('steers a runner of this process directly', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '10/min' })
    const runner = w.runner(id)
    const { store } = w.store({ migrationId: id, control: { runner } })
    store.start()
    const run = runner.run()
    await advance(w.clock, 1_000)

    expect(await store.act('pause')).toEqual({ text: 'paused', tone: 'good' })
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'paused', pausedBy: 'dashboard' })
    expect(await store.act('faster')).toEqual({ text: 'rate now 15/min', tone: 'good' })
    expect(runner.progress().rate).toBe('15/min')
    expect(await store.act('slower')).toMatchObject({ text: 'rate now 10/min' })
    expect(await store.act('resume')).toEqual({ text: 'resumed', tone: 'good' })
    await advance(w.clock, 200)
    expect(store.getSnapshot().notice?.text).toBe('resumed')
    expect(store.getSnapshot().events.map((e) => e.text)).toEqual(
      expect.arrayContaining(['paused by dashboard', 'rate 15/min, max in flight 5', 'resumed by dashboard']),
    )
    runner.abort()
    await settle(w.clock, run)
    store.stop()
  })

  it('changes the rate of a migration nobody runs in the journal itself', async () => {
    const w = aDashboardWorld(5)
    const id = await w.started({ rate: '10/min' })
    const { store } = w.store()
    store.start()
    expect(await store.act('slower')).toEqual({ text: 'rate now 5/min (written to the journal)', tone: 'good' })
    expect(w.journal.requireMigration(id).parameters.rate).toBe('5/min')
    store.stop()
  })

  it('says why a resume cannot work when no cfctl runs the migration', async () => {
    const w = aDashboardWorld(5)
    const id = await w.started()
    const { store } = w.store()
    store.start()
    const result = await store.act('resume')
    expect(result.tone).toBe('bad')
    expect(result.text).toContain(`cfctl migrate --resume ${id}`)
    store.stop()
  })

  it('resumes a paused migration nobody runs by running it here, and pauses it again on shutdown', async () => {
    const w = aDashboardWorld(20)
    const id = await w.started({ rate: '60/min', maxInFlight: 2 })
    const { store, control } = w.store({ control: { runnerFor: (migrationId) => w.runner(migrationId) } })
    store.start()

    const resumed = await store.act('resume')
    expect(resumed.text).toBe(`resumed: this dashboard runs ${id} now (q asks before it stops)`)
    await advance(w.clock, 20_000)
    expect(w.journal.requireMigration(id).state).toBe('running')
    expect(w.journal.stepCounts(id).done).toBeGreaterThan(1)
    expect(store.getSnapshot().busy).toEqual({ migrationId: id, what: 'run' })
    expect(await store.act('pause')).toEqual({ text: 'paused', tone: 'good' })

    await settle(w.clock, control.shutdown())
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'paused' })
    expect(w.journal.liveLockOf(id)).toBeUndefined()
    expect(control.busy).toBeUndefined()
    store.stop()
  })

  it('aborts the run of this process, then rolls its apps back', async () => {
    const w = aDashboardWorld(20)
    const id = w.plan({ rate: '60/min', maxInFlight: 2 })
    const runner = w.runner(id)
    const { store, control } = w.store({ control: { runner } })
    store.start()
    const run = runner.run()
    await advance(w.clock, 15_000)
    const moved = w.journal.steps(id).filter((s) => s.flipped).length
    expect(moved).toBeGreaterThan(0)

    const started = store.act('rollback')
    await settle(w.clock, run)
    expect((await settle(w.clock, started)).text).toBe(`rolling back ${id}, last moved first`)
    await advanceUntil(w.clock, () => control.busy === undefined)

    expect(w.journal.requireMigration(id).state).toBe('rolled-back')
    expect(w.world.fleet().every((app) => !app.diego)).toBe(true)
    await advance(w.clock, 200)
    expect(store.getSnapshot().notice?.text).toBe(`rolled back ${id}`)
    store.stop()
  })

  it('takes a run cut short by kill -9 on this host as nobody running it: b rolls it back at once', async () => {
    const path = aJournalFile()
    const w = aDashboardWorld(10, (clock) => Journal.open(path, { clock }))
    const id = w.plan({ rate: null, maxInFlight: 5 })
    const mine = Journal.open(path, { clock: w.clock })
    w.journal.setMigrationState(id, 'running', { event: { type: 'started', recovered: false } })
    // The killed cfctl's lock: its heartbeat is fresh, its pid is gone.
    w.journal.acquireLock('https://api.example.test', id, { pid: 2 ** 22 + 17, hostname: hostname(), token: 'killed' })
    expect(mine.liveLockOf(id)).toBeDefined()
    const runnerFor = (migrationId: string) =>
      new MigrationRunner({ journal: mine, migrationId, port: w.world.port(), clock: w.clock })
    const { store } = w.store({ journal: mine, control: { journal: mine, runnerFor } })
    store.start()
    expect((await store.act('rollback')).text).toBe(`rolling back ${id}, last moved first`)
    store.stop()
  })

  it('rolls back a migration nobody runs with a runner of its own, and will not while another runs it', async () => {
    const path = aJournalFile()
    const w = aDashboardWorld(10, (clock) => Journal.open(path, { clock }))
    const id = w.plan({ rate: null, maxInFlight: 5 })
    const mine = Journal.open(path, { clock: w.clock })
    const runnerFor = (migrationId: string) =>
      new MigrationRunner({ journal: mine, migrationId, port: w.world.port(), clock: w.clock })
    const { store, control } = w.store({ journal: mine, control: { journal: mine, runnerFor } })
    store.start()
    const run = w.runner(id).run()
    await advance(w.clock, 2_000)

    const refused = await store.act('rollback')
    expect(refused.text).toMatch(
      /^cfctl \(pid \d+ on .+\) runs (\S+): abort it \(a\) and press b again, or run cfctl rollback \1, which takes it over$/,
    )

    await settle(w.clock, run)
    expect(w.journal.requireMigration(id).state).toBe('completed')
    // Once the DEAs have let go of the apps, putting them back takes a boot each.
    await advance(w.clock, 40_000)
    const started = await store.act('rollback')
    expect(started.text).toBe(`rolling back ${id}, last moved first`)
    await advance(w.clock, 100)
    expect(store.getSnapshot().busy).toEqual({ migrationId: id, what: 'rollback' })
    await advanceUntil(w.clock, () => control.busy === undefined)
    expect(w.journal.requireMigration(id).state).toBe('rolled-back')
    store.stop()
    mine.close()
  })

  it('interrupts a rollback of its own on shutdown, leaving it resumable', async () => {
    const w = aDashboardWorld(10)
    const id = w.plan({ rate: null, maxInFlight: 5 })
    await settle(w.clock, w.runner(id).run())
    const { store, control } = w.store({
      control: { runnerFor: (migrationId) => w.runner(migrationId) },
    })
    store.start()
    w.journal.updateParameters(id, { rate: '6/min' })
    await store.act('rollback')
    await advance(w.clock, 1_000)
    await settle(w.clock, control.shutdown())
    expect(w.journal.requireMigration(id)).toMatchObject({ state: 'rolling-back', pausedBy: 'dashboard' })
    expect(w.journal.steps(id).some((s) => s.flipped)).toBe(true)
    store.stop()
  })

  it('polls the apps, keeps the last rows when a poll fails, and waits longer after a slow poll', async () => {
    const w = aDashboardWorld(3)
    let fail = false
    let slowMs = 0
    const source = {
      poll: async () => {
        if (slowMs) await w.clock.sleep(slowMs)
        if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:1')
        return w.source.poll()
      },
    }
    const { store } = w.store({ source, appsPollMs: 5_000 })
    store.start()
    await advance(w.clock, 200)
    expect(store.getSnapshot().apps.fleet.size).toBe(3)
    expect(store.getSnapshot().backends?.dea.apps).toBe(3)

    fail = true
    await advance(w.clock, 5_000)
    expect(store.getSnapshot().apps).toMatchObject({ error: 'connect ECONNREFUSED 127.0.0.1:1' })
    expect(store.getSnapshot().apps.fleet.size).toBe(3)

    fail = false
    slowMs = 4_000
    const before = w.source.polls
    await advance(w.clock, 30_000)
    // Each poll takes 4 s and the next waits 20 s: two polls in 30 s, not six.
    expect(w.source.polls - before).toBeLessThanOrEqual(2)
    expect(store.getSnapshot().apps.error).toBeUndefined()
    store.stop()
  })

  it('reads a long history in pages, then the step states', async () => {
    const w = aDashboardWorld(1_500)
    const id = w.plan({ rate: null, maxInFlight: 100 })
    await settle(w.clock, w.runner(id).run())
    expect(w.journal.events(id).length).toBeGreaterThan(4_000)
    const { store } = w.store()
    store.start()
    expect(store.getSnapshot().migration?.catchingUp).toBe(true)
    await advance(w.clock, 500)

    const snapshot = store.getSnapshot()
    expect(snapshot.migration).toMatchObject({ state: 'completed', catchingUp: false })
    expect(snapshot.steps.byGuid.size).toBe(1_500)
    expect([...snapshot.steps.byGuid.values()].every((s) => s.state === 'done')).toBe(true)
    expect(snapshot.events.at(-1)?.text).toBe('completed: 1500 done, 0 already there')
    store.stop()
  })

  it('picks up a migration that starts on the target after the dashboard', async () => {
    const w = aDashboardWorld(5)
    const { store } = w.store()
    store.start()
    expect(store.getSnapshot().migration).toBeUndefined()
    const id = w.plan()
    const run = w.runner(id).run()
    await advance(w.clock, 2_500)
    expect(store.getSnapshot().migration?.id).toBe(id)
    expect(store.getSnapshot().fleet.map((m) => m.id)).toEqual([id])
    await settle(w.clock, run)
    store.stop()
  })

  it('follows the running migration and never picks a planned record over it, even after it ends', async () => {
    const w = aDashboardWorld(10)
    const id = w.plan({ rate: '60/min' })
    const run = w.runner(id).run()
    await w.clock.advance(1_000)
    const stale = w.plan()
    const { store } = w.store()
    store.start()
    await advance(w.clock, 2_500)
    expect(store.getSnapshot().migration?.id).toBe(id)

    await settle(w.clock, run)
    await settle(w.clock, w.runner(id).rollback())
    await advance(w.clock, 5_000)

    expect(store.getSnapshot().migration).toMatchObject({ id, state: 'rolled-back' })
    expect(w.journal.requireMigration(stale).state).toBe('planned')
    store.stop()
  })

  it('will not run a migration paused from the journal before it ever started', async () => {
    const w = aDashboardWorld(5)
    const id = w.plan()
    controlMigration(w.journal, id, { type: 'pause', by: 'operator' })
    const { store, control } = w.store({
      migrationId: id,
      control: { runnerFor: (migrationId) => w.runner(migrationId) },
    })
    store.start()

    const result = await store.act('resume')

    expect(result).toMatchObject({ tone: 'warn', text: expect.stringContaining('was never started') })
    expect(control.busy).toBeUndefined()
    expect(w.journal.requireMigration(id).state).toBe('paused')
    expect(w.world.flips).toEqual([])
    store.stop()
  })

  it('watches the migration the operator picks, and stays on it', async () => {
    const w = aDashboardWorld(5)
    const first = w.plan()
    const { store } = w.store()
    store.start()
    await advance(w.clock, 2_500)
    const second = w.plan()
    store.watch(first)
    await advance(w.clock, 5_000)
    expect(store.getSnapshot().migration?.id).toBe(first)
    expect(second).not.toBe(first)
    store.stop()
  })

  it('polls a large fleet no faster than ten CC requests a second, a slow one a fifth of the time', () => {
    expect(nextPollAfter(5_000, 200, 50)).toBe(5_000)
    expect(nextPollAfter(5_000, 4_000, 50)).toBe(20_000)
    expect(nextPollAfter(5_000, 2_000, 50_000)).toBe(50_200)
  })
})
