// cfctl against a shared journal on PostgreSQL, end to end: two machines (two CFCTL_HOMEs, each logged in
// on its own) and one --journal URL. Machine B changes the rate of machine A's run, A is killed with SIGKILL, and B
// resumes it: every app on Diego, each flipped by one PUT, exit 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliHome } from '../cli/run-cli.js'
import { startPostgres, type TestPostgres } from '../support/postgres.js'
import {
  anAdminAt,
  aTempDir,
  FLEET_ORG,
  jsonLines,
  migrationIdOf,
  StreamedCli,
  summaryOf,
  WatchedFoundation,
  writeSeedFile,
} from './support.js'

const APPS = 60

let world: WatchedFoundation
let machineA: CliHome
let machineB: CliHome
let server: TestPostgres

beforeAll(async () => {
  server = await startPostgres()
  world = await WatchedFoundation.start({ seed: writeSeedFile(aTempDir(), { apps: APPS }), speed: 50 })
  machineA = await anAdminAt(world.apiUrl)
  machineB = await anAdminAt(world.apiUrl)
}, 90_000)

afterAll(async () => {
  await world?.stop()
  await server?.destroy()
})

describe('cfctl with --journal postgres://', () => {
  it('is steered from another machine, and resumed there after a SIGKILL, flipping no app twice', async () => {
    const journal = ['--journal', server.url]
    const a = new StreamedCli(machineA, [
      'migrate',
      '--to',
      'diego',
      '--org',
      FLEET_ORG,
      '--rate',
      '3/sec',
      '--max-in-flight',
      '3',
      '--yes',
      '--json',
      ...journal,
    ])
    expect(await a.waitFor((line) => line.type === 'step-verified'), a.stderr).toBe(true)
    const id = migrationIdOf(a.lines)

    // Machine B sees the run and steers it through the journal: A takes the new rate within a second or so.
    const list = await machineB.run(['migrations', 'list', '--json', ...journal])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toContain(id)
    const setRate = await machineB.run(['migrations', 'set-rate', id, '4/sec', ...journal])
    expect(setRate.code, setRate.stderr).toBe(0)
    expect(await a.waitFor((line) => line.type === 'rate-changed' && line.rate === '4/sec'), a.stderr).toBe(true)

    // Machine A dies mid-run; B resumes the migration from the shared journal.
    a.child.kill('SIGKILL')
    expect((await a.exited).signal).toBe('SIGKILL')
    const b = await machineB.run(['migrate', '--resume', id, '--yes', '--json', ...journal])
    expect(b.code, b.stderr).toBe(0)
    expect(summaryOf(b)).toMatchObject({ state: 'completed', exitCode: 0, failures: [] })
    expect(jsonLines(b.stdout)[0]).toMatchObject({ type: 'lock-taken-over', fromPid: a.pid, reason: 'dead' })

    for (const app of world.appsOf(FLEET_ORG)) {
      expect(app.diego, `${app.name} on Diego`).toBe(true)
      expect(world.historyOf(app.guid).updates, `${app.name} set by one PUT`).toBe(1)
    }
  }, 180_000)

  it('says which journal it could not reach, without its password, and exits non-zero', async () => {
    const result = await machineB.run(['migrations', 'list', '--journal', 'postgres://ops:s3cret@127.0.0.1:1/cfctl'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/the journal postgres:\/\/ops:\*\*\*@127\.0\.0\.1:1\/cfctl cannot be reached/)
    expect(result.stderr).not.toContain('s3cret')
  })
})
