// `cfctl migrate` as a script or a CI job sees it: exit codes, refusals that name the flag, a dry run that
// changes nothing, the pause file, and a pause from another terminal, all against a real foundation on
// 127.0.0.1 with the CLI as its own process.
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Journal } from '../../src/core/journal/index.js'
import { createMigration, planMigration } from '../../src/core/migration/index.js'
import { aCliHome } from '../cli/run-cli.js'
import {
  anAdminAt,
  aTempDir,
  type CliHome,
  FLEET_ORG,
  type Json,
  jsonLines,
  StreamedCli,
  WatchedFoundation,
  writeSeedFile,
} from './support.js'

let world: WatchedFoundation

beforeAll(async () => {
  // Two orgs' worth in one: each test below narrows to its own space, so that they do not share apps.
  world = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: 200 }), speed: 50 })
}, 60_000)

afterAll(async () => {
  await world?.stop()
})

/**
 * The one operator (one journal) of the tests that move apps: the runner takes a flip that its journal does
 * not know of for another cfctl's work on the target, so the moves of one test must be in the journal of
 * the next.
 */
let operatorHome: CliHome | undefined
async function theOperator(): Promise<CliHome> {
  operatorHome ??= await anAdminAt(world.apiUrl)
  return operatorHome
}

function appsIn(space: string) {
  const store = world.foundation.store
  const org = store.orgs().find((o) => o.name === FLEET_ORG)!
  const s = store.spacesOfOrg(org.guid).find((x) => x.name === space)!
  return store.appsInSpace(s.guid)
}

function updatesOn(space: string): number {
  return appsIn(space).reduce((n, app) => n + world.historyOf(app.guid).updates, 0)
}

/** `cfctl migrate` of a space to Diego at 4 apps a second, in a process of its own, once its first app is verified. */
async function aRunningMigration(admin: CliHome, space: string): Promise<{ cli: StreamedCli; id: string }> {
  const cli = new StreamedCli(admin, [
    'migrate',
    '--to',
    'diego',
    '--space',
    space,
    '--rate',
    '4/sec',
    '--yes',
    '--json',
  ])
  expect(await cli.waitFor((e) => e.type === 'step-verified'), cli.stderr).toBe(true)
  return { cli, id: cli.lines.find((e) => e.migrationId).migrationId as string }
}

describe('cfctl migrate: refusals', () => {
  let admin: CliHome
  beforeAll(async () => {
    admin = await anAdminAt(world.apiUrl)
  }, 30_000)

  it('refuses to start without --yes when there is no terminal to ask, exit 2 with a hint', async () => {
    const result = await admin.run(['migrate', '--to', 'diego', '--space', 'space-1'])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toContain('there is no terminal to ask')
    expect(result.stderr).toMatch(/hint:\s+pass --yes/)
    expect(updatesOn('space-1')).toBe(0)
    expect(JSON.parse((await admin.run(['migrations', 'list', '--json'])).stdout)).toEqual([])
    // Before it asks the foundation anything: a user who never logged in gets the same answer.
    const anyone = await aCliHome().run(['migrate', '--to', 'diego'])
    expect(anyone.code, anyone.stderr).toBe(2)
    expect(anyone.stderr).toContain('there is no terminal to ask')
  })

  it('prints the plan with --dry-run and changes nothing, on the foundation or in the journal', async () => {
    const result = await admin.run([
      'migrate',
      '--to',
      'diego',
      '--space',
      'space-1',
      '--rate',
      '10/min',
      '--max-in-flight',
      '10',
      '--dry-run',
    ])
    expect(result.code).toBe(0)
    const [plan, ...rest] = jsonLines(result.stdout)
    expect(rest).toEqual([])
    expect(plan).toMatchObject({ type: 'plan', to: 'diego', from: 'dea', rate: '10/min', totals: { apps: 50 } })
    expect(plan.capacity).toMatchObject({ ok: true, target: { ok: true }, wayBack: { ok: true } })
    // 50 apps at 10 a minute; ten in flight would verify 45 started ones sooner than that.
    expect(plan.expectedDurationMs).toBe(5 * 60_000)
    expect(plan.steps.map((s: Json) => s.guid).sort()).toEqual(
      appsIn('space-1')
        .map((a) => a.guid)
        .sort(),
    )
    expect(updatesOn('space-1')).toBe(0)
    expect(JSON.parse((await admin.run(['migrations', 'list', '--json'])).stdout)).toEqual([])
  })

  it('refuses a second migration on a target another cfctl runs, exit 1, and leaves the journal as it was', async () => {
    const home = await anAdminAt(world.apiUrl)
    const journal = Journal.open(join(home.env.CFCTL_HOME!, 'journal.db'))
    const running = createMigration(journal, planMigration([], { to: 'diego' }), { target: world.apiUrl })
    // A live holder: this test's own pid on this host, with a fresh heartbeat.
    journal.acquireLock(world.apiUrl, running.id, { pid: process.pid, hostname: hostname(), token: 'the-other-run' })
    const rowsOf = () => {
      const migrations = journal.migrations()
      return {
        migrations,
        steps: migrations.map((m) => journal.steps(m.id)),
        events: migrations.map((m) => journal.events(m.id)),
      }
    }
    const before = rowsOf()

    const result = await home.run(['migrate', '--to', 'diego', '--space', 'space-2', '--yes'])

    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain(`migration ${running.id} is running against ${world.apiUrl}`)
    expect(result.stderr).toContain(`its process exits when paused: cfctl migrations pause ${running.id}`)
    expect(result.stdout).not.toContain('Plan:')
    expect(rowsOf()).toEqual(before)
    expect(updatesOn('space-2')).toBe(0)
    journal.close()
  })

  it('names --to when it is not a backend, exit 2', async () => {
    const result = await admin.run(['migrate', '--to', 'kubernetes', '--yes'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/error: --to: expected one of diego, dea, got "kubernetes"/)
  })

  for (const rate of ['fast', '10/fortnight', '0/min']) {
    it(`names --rate when it reads "${rate}", exit 2, before it asks the foundation anything`, async () => {
      // A user who never logged in: the usage error comes first.
      const result = await aCliHome().run(['migrate', '--to', 'diego', '--rate', rate, '--yes'])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(new RegExp(`error:.*--rate .*"${rate.replace('/', '\\/')}"`))
    })
  }

  it('names the flag of any other malformed value, exit 2', async () => {
    for (const [flag, value] of [
      ['--timeout', 'soon'],
      ['--max-failures', 'many'],
      ['--probe-interval', '-1s'],
    ]) {
      const result = await admin.run(['migrate', '--to', 'diego', flag!, value!, '--yes'])
      expect(result.code, `${flag} ${value}`).toBe(2)
      expect(result.stderr, `${flag} ${value}`).toContain(flag)
    }
  })
})

describe('cfctl migrate: pauses', () => {
  it('holds while the pause file exists (paused by pause-file) and goes on once it is removed', async () => {
    const admin = await theOperator()
    const pauseFile = join(aTempDir(), 'pause')
    writeFileSync(pauseFile, '')
    const cli = new StreamedCli(admin, [
      'migrate',
      '--to',
      'diego',
      '--space',
      'space-2',
      '--max-in-flight',
      '4',
      '--pause-file',
      pauseFile,
      '--yes',
      '--json',
    ])
    expect(await cli.waitFor((e) => e.type === 'paused')).toBe(true)
    const paused = cli.lines.find((e) => e.type === 'paused')
    expect(paused).toMatchObject({ by: 'pause-file' })
    const id = paused.migrationId as string

    // Held: nothing starts, however long it waits.
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect(cli.running).toBe(true)
    expect(cli.lines.filter((e) => e.type === 'step-started')).toEqual([])
    expect(updatesOn('space-2')).toBe(0)
    const shown = JSON.parse((await admin.run(['migrations', 'show', id, '--json'])).stdout)
    expect(shown).toMatchObject({ state: 'paused', pausedBy: 'pause-file', runner: { pid: cli.pid } })

    rmSync(pauseFile)
    const { code } = await cli.exited
    expect(code, cli.stderr).toBe(0)
    const types = cli.lines.map((e) => e.type)
    expect(types.indexOf('resumed')).toBeGreaterThan(types.indexOf('paused'))
    expect(cli.lines.find((e) => e.type === 'resumed')).toMatchObject({ by: 'pause-file' })
    expect(cli.lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', steps: { done: 50 } })
    expect(appsIn('space-2').every((app) => app.diego)).toBe(true)
    expect(existsSync(pauseFile)).toBe(false)
  }, 60_000)

  it('is paused by `migrations pause` from another process (exit 3, who paused it recorded) and finished by --resume', async () => {
    const admin = await theOperator()
    const { cli, id } = await aRunningMigration(admin, 'space-3')

    const pause = await admin.run(['migrations', 'pause', id, '--json'])
    expect(pause.code, pause.stderr).toBe(0)
    expect(JSON.parse(pause.stdout)).toMatchObject({ id, delivered: 'runner' })

    const { code } = await cli.exited
    expect(code, cli.stderr).toBe(3)
    const summary = cli.lines.at(-1)
    expect(summary).toMatchObject({ type: 'summary', state: 'paused', exitCode: 3 })
    expect(summary.pausedBy).toMatch(/^operator/)
    expect(summary.steps.pending).toBeGreaterThan(0)
    expect(summary.steps.flipping + summary.steps.verifying).toBe(0)
    expect(cli.stderr).toContain(`cfctl migrate --resume ${id}`)

    const shown = JSON.parse((await admin.run(['migrations', 'show', id, '--json'])).stdout)
    expect(shown).toMatchObject({ state: 'paused', pausedBy: summary.pausedBy, runner: null })
    const movedWhilePaused = updatesOn('space-3')
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(updatesOn('space-3')).toBe(movedWhilePaused)

    const resumed = await admin.run(['migrate', '--resume', id, '--json'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const lines = jsonLines(resumed.stdout)
    expect(lines[0]).toMatchObject({ type: 'started', recovered: false })
    expect(lines).toContainEqual(expect.objectContaining({ type: 'resumed', by: 'resume' }))
    expect(lines.at(-1)).toMatchObject({ type: 'summary', state: 'completed', steps: { done: 50, pending: 0 } })
    for (const app of appsIn('space-3')) {
      expect(app.diego, app.name).toBe(true)
      expect(world.historyOf(app.guid).diegoChanges, app.name).toEqual([true])
    }
  }, 60_000)
})

describe('cfctl rollback while a migration runs', () => {
  it('takes over: the forward run in the other process is aborted (exit 3), then every moved app goes back', async () => {
    const admin = await theOperator()
    const { cli, id } = await aRunningMigration(admin, 'space-1')

    // A malformed flag is refused before the forward run is touched.
    const refused = await admin.run(['rollback', id.slice(-4), '--rate', 'fast', '--yes', '--json'])
    expect(refused.code, refused.stderr).toBe(2)
    expect(JSON.parse(refused.stdout).error.message).toMatch(/rate/)
    expect(cli.lines.some((e) => e.type === 'aborted' || e.type === 'summary')).toBe(false)

    const rollback = await admin.run(['rollback', id.slice(-4), '--yes', '--json'])

    expect(rollback.code, rollback.stderr).toBe(0)
    expect(rollback.stderr).toContain(`stopping the run of pid ${cli.pid}`)
    expect(jsonLines(rollback.stdout).at(-1)).toMatchObject({ type: 'summary', state: 'rolled-back' })
    const { code } = await cli.exited
    expect(code, cli.stderr).toBe(3)
    expect(cli.lines.at(-1)).toMatchObject({ type: 'summary', state: 'aborted' })
    for (const app of appsIn('space-1')) expect(app.diego, app.name).toBe(false)
  }, 60_000)
})

describe('cfctl rollback stopped by a signal', () => {
  it('stops at SIGTERM once the apps in flight settle (exit 3), leaves at once at a second one (130), and goes on when run again', async () => {
    const admin = await theOperator()
    const { cli, id } = await aRunningMigration(admin, 'space-4')
    // Enough moved apps that the rollback, at 2 a second, is still going when each signal comes.
    expect(
      await cli.waitFor((_, i) => cli.lines.slice(0, i + 1).filter((e) => e.type === 'step-verified').length >= 12),
    ).toBe(true)
    const rollbackArgs = ['rollback', id, '--rate', '2/sec', '--yes', '--json']

    const first = new StreamedCli(admin, rollbackArgs)
    expect(await first.waitFor((e) => e.type === 'step-rolled-back'), first.stderr).toBe(true)
    first.child.kill('SIGTERM')
    const stopped = await first.exited
    expect(stopped.code, first.stderr).toBe(3)
    expect(first.lines.at(-1)).toMatchObject({ type: 'summary', exitCode: 3 })
    expect(first.lines.at(-1).steps.flipping + first.lines.at(-1).steps.verifying).toBe(0)
    expect(first.stderr).toContain(`cfctl rollback ${id}`)
    expect((await cli.exited).code, cli.stderr).toBe(3)

    const second = new StreamedCli(admin, rollbackArgs)
    expect(await second.waitFor((e) => e.type === 'step-rolling-back'), second.stderr).toBe(true)
    second.child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 50))
    second.child.kill('SIGTERM')
    const left = await second.exited
    expect(left.code, second.stderr).toBe(130)
    expect(second.stderr).toContain(`leaving now; carry on with: cfctl rollback ${id}`)

    const last = await admin.run(rollbackArgs)
    expect(last.code, last.stderr).toBe(0)
    expect(jsonLines(last.stdout).at(-1)).toMatchObject({ type: 'summary', state: 'rolled-back' })
    for (const app of appsIn('space-4')) {
      expect(app.diego, app.name).toBe(false)
      expect(world.historyOf(app.guid).diegoChanges.length, app.name).toBeLessThanOrEqual(2)
    }
  }, 90_000)
})
