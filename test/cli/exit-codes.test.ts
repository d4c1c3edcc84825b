// Exit codes a script branches on, and prompts that scripts answer with --yes: cfctl as its own process
// against an embedded foundation on 127.0.0.1.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { Journal } from '../../src/core/journal/index.js'
import { createMigration, planMigration } from '../../src/core/migration/index.js'
import { Foundation } from '../../src/scheduler/foundation.js'
import { aCliHome, type CliHome } from './run-cli.js'

let foundation: Foundation
let admin: CliHome

beforeAll(async () => {
  foundation = await Foundation.start({ seed: 'small', engineClock: new FakeClock(), log: () => {} })
  admin = aCliHome()
  expect((await admin.run(['target', foundation.apiUrl])).code).toBe(0)
  expect((await admin.run(['login', '-u', 'admin', '-p', 'admin'])).code).toBe(0)
}, 60_000)

afterAll(async () => {
  await foundation?.stop()
})

function aPlannedMigration(): string {
  const journal = Journal.open(join(admin.env.CFCTL_HOME!, 'journal.db'))
  try {
    const app = foundation.store.apps().find((a) => !a.diego)!
    const fleet = [
      {
        guid: app.guid,
        name: app.name,
        org: 'o',
        space: 's',
        state: 'STARTED' as const,
        instances: 1,
        memoryMb: 64,
        diego: false,
      },
    ]
    return createMigration(journal, planMigration(fleet, { to: 'diego' }), { target: foundation.apiUrl }).id
  } finally {
    journal.close()
  }
}

describe('exit codes', () => {
  it('has-diego-enabled --exit-code: 0 on Diego, 3 on the DEAs; without it, exit 0 and the word', async () => {
    const [dea, diego] = foundation.store.apps().filter((a) => !a.diego)
    expect((await admin.run(['enable-diego', '--guid', diego!.guid])).code).toBe(0)

    const onDea = await admin.run(['has-diego-enabled', '--guid', dea!.guid, '--exit-code'])
    const onDiego = await admin.run(['has-diego-enabled', '--guid', diego!.guid, '--exit-code'])
    const plain = await admin.run(['has-diego-enabled', '--guid', dea!.guid])

    expect([onDea.code, onDea.stdout.trim()]).toEqual([3, 'false'])
    expect([onDiego.code, onDiego.stdout.trim()]).toEqual([0, 'true'])
    expect([plain.code, plain.stdout.trim()]).toEqual([0, 'false'])
  }, 60_000)

  it('a dry run that selects nothing exits 1, as a run that selects nothing does, and records nothing', async () => {
    const dry = await admin.run(['migrate', '--to', 'diego', '--app-pattern', 'no-such-app-*', '--dry-run'])
    const real = await admin.run(['migrate', '--to', 'diego', '--app-pattern', 'no-such-app-*', '--yes'])

    for (const result of [dry, real]) {
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain('no app to move to diego')
    }
    expect(JSON.parse((await admin.run(['migrations', 'list', '--json'])).stdout)).toEqual([])
  }, 60_000)

  it('migrations abort asks like the dashboard: without a terminal it needs --yes (exit 2), then aborts', async () => {
    const id = aPlannedMigration()

    const unasked = await admin.run(['migrations', 'abort', id])
    expect(unasked.code).toBe(2)
    expect(unasked.stderr).toMatch(/hint:\s+pass --yes/)

    const aborted = await admin.run(['migrations', 'abort', id.slice(-4), '--yes', '--json'])
    expect(aborted.code, aborted.stderr).toBe(0)
    expect(JSON.parse(aborted.stdout)).toMatchObject({ id, state: 'aborted' })
  }, 60_000)

  it('migrations resume of a finished migration says so in one line and points to rollback, exit 2', async () => {
    const id = aPlannedMigration()
    expect((await admin.run(['migrations', 'abort', id, '--yes'])).code).toBe(0)

    const resumed = await admin.run(['migrations', 'resume', id])

    expect(resumed.code).toBe(2)
    expect(resumed.stderr).toContain(`migration ${id} is aborted; a finished migration takes no resume`)
    expect(resumed.stderr).toContain(`cfctl rollback ${id}`)
    expect(resumed.stderr).not.toContain('--resume')
  }, 60_000)
})

describe('--embedded', () => {
  it('runs migrate in a journal of its own, so the default journal keeps no migration of a foundation gone', async () => {
    const home = aCliHome()
    const run = await home.run([
      'migrate',
      '--embedded',
      '--to',
      'diego',
      '--app',
      'reviews-scheduler',
      '--yes',
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('"type":"summary"')

    const listed = await home.run(['migrations', 'list', '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([])
  }, 60_000)

  it('is not offered on the migrations subcommands, which never talk to a foundation', async () => {
    const result = await aCliHome().run(['migrations', 'list', '--embedded'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--embedded')
  }, 60_000)
})
