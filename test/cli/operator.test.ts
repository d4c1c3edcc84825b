// The operator commands against a real embedded foundation on 127.0.0.1, run as separate processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { APP_COLUMNS } from '../../src/commands/apps.js'
import type { AppRow } from '../../src/core/apps/inventory.js'
import { Foundation } from '../../src/scheduler/foundation.js'
import { table } from '../../src/ui/text.js'
import { aCliHome, type CliHome } from './run-cli.js'

let foundation: Foundation
let admin: CliHome

beforeAll(async () => {
  foundation = await Foundation.start({
    seed: 'small',
    usersCanSelectBackend: false,
    engineClock: new FakeClock(),
    log: () => {},
  })
  admin = aCliHome()
  expect((await admin.run(['target', foundation.apiUrl])).code).toBe(0)
  const login = await admin.run(['login', '-u', 'admin', '-p', 'admin'])
  expect(login.stderr).toBe('')
  expect(login.code).toBe(0)
}, 60_000)

afterAll(async () => {
  await foundation?.stop()
})

function deaAppsOnServer() {
  return foundation.store
    .apps()
    .filter((app) => !app.diego)
    .map((app) => app.guid)
    .sort()
}

describe('cfctl apps', () => {
  it('--backend dea --json returns exactly the apps the server holds on DEA', async () => {
    const result = await admin.run(['apps', '--backend', 'dea', '--json'])
    expect(result.code).toBe(0)
    const apps = JSON.parse(result.stdout) as Array<{ guid: string; backend: string; org: string; space: string }>
    expect(apps.map((a) => a.guid).sort()).toEqual(deaAppsOnServer())
    expect(apps.every((a) => a.backend === 'dea' && a.org !== '' && a.space !== '')).toBe(true)
  })

  it('prints a table with a count per backend', async () => {
    const result = await admin.run(['apps', '--org', foundation.store.orgs()[0]!.name])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^name\s+org\/space\s+state\s+instances\s+memory\s+backend$/m)
    expect(result.stdout).toMatch(/\d+ apps: \d+ on DEA, \d+ on Diego/)
  })

  it('names an unknown org and exits 1', async () => {
    const result = await admin.run(['apps', '--org', 'no-such-org'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('org "no-such-org" not found')
  })

  it('rejects a bad --backend as a usage error (exit 2)', async () => {
    const result = await admin.run(['apps', '--backend', 'kubernetes'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: --backend: expected one of dea, diego, got "kubernetes"$/m)
  })

  it('takes --backend and --state in any case, as the tables print them (DEA, Diego)', async () => {
    const result = await admin.run(['apps', '--backend', 'DEA', '--state', 'Started', '--json'])
    expect(result.code).toBe(0)
    const apps = JSON.parse(result.stdout) as Array<{ backend: string; state: string }>
    expect(apps.length).toBeGreaterThan(0)
    expect(apps.every((a) => a.backend === 'dea' && a.state === 'STARTED')).toBe(true)
  })

  it('takes migrate --to in any case too', async () => {
    const result = await admin.run(['migrate', '--to', 'Diego', '--dry-run', '--json'])
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout.split('\n')[0]!)).toMatchObject({ type: 'plan', to: 'diego', from: 'dea' })
  })

  it('lists apps by name', async () => {
    const result = await admin.run(['apps', '--json'])
    const names = (JSON.parse(result.stdout) as Array<{ name: string }>).map((a) => a.name)
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)))
    const table = await admin.run(['apps'])
    const rows = table.stdout
      .split('\n')
      .slice(1)
      .filter((line) => /^\S+\s+\S+\/\S+\s/.test(line))
    expect(rows.map((line) => line.split(/\s+/)[0])).toEqual([...names])
  })
})

describe('the apps table', () => {
  it('never cuts an app name on a narrow terminal; org/space gives way', () => {
    const row = {
      guid: 'g',
      name: 'recommendations-scheduler-blue-green-canary',
      org: 'umbrella-retail',
      space: 'integration',
      state: 'STARTED',
      instances: 3,
      memoryMb: 512,
      backend: 'dea',
    } as AppRow
    const text = table([row], APP_COLUMNS, 60)
    expect(text).toContain('recommendations-scheduler-blue-green-canary  ')
    expect(text).toContain('…')
  })
})

describe('cfctl enable-diego', () => {
  it('moves one app, and apps --backend diego then lists it', async () => {
    const app = foundation.store.apps().find((a) => !a.diego && a.state === 'STARTED')!
    const org = foundation.store
      .orgs()
      .find((o) => foundation.store.spacesOfOrg(o.guid).some((s) => s.guid === app.spaceGuid))!
    const space = foundation.store.spacesOfOrg(org.guid).find((s) => s.guid === app.spaceGuid)!
    const moved = await admin.run(['enable-diego', app.name, '--org', org.name, '--space', space.name])
    expect(moved.code).toBe(0)
    expect(moved.stdout).toContain(`${app.name} now runs on Diego`)
    expect(foundation.store.app(app.guid)?.diego).toBe(true)

    const listed = await admin.run(['apps', '--backend', 'diego', '--json'])
    expect(JSON.parse(listed.stdout).map((a: { guid: string }) => a.guid)).toContain(app.guid)

    const asked = await admin.run(['has-diego-enabled', '--guid', app.guid])
    expect(asked.stdout.trim()).toBe('true')
  })

  it('names the org and space it searched when the flags gave them and the app is not there', async () => {
    const org = foundation.store.orgs()[0]!
    const space = foundation.store.spacesOfOrg(org.guid)[0]!
    const result = await admin.run(['enable-diego', 'no-such-app', '--org', org.name, '--space', space.name])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      `error: app "no-such-app" not found in space "${space.name}" of org "${org.name}"\n` +
        `hint:  check the name (cfctl apps --org ${org.name} --space ${space.name} lists the apps there), or pass --guid GUID\n`,
    )
  })

  it("refuses a developer's flip with the CF error shown plainly when selection is off", async () => {
    const developer = aCliHome()
    await developer.run(['target', foundation.apiUrl])
    expect((await developer.run(['login', '-u', 'developer', '-p', 'developer'])).code).toBe(0)
    const user = foundation.store.userNamed('developer')!
    const spaces = foundation.store.developerSpaceGuids(user.guid)
    const app = foundation.store.apps().find((a) => !a.diego && spaces.has(a.spaceGuid))!
    const result = await developer.run(['enable-diego', '--guid', app.guid])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: .*\(CF-BackendSelectionNotAuthorized, code 320005\)$/m)
    expect(result.stderr).toMatch(/^hint: {2}users_can_select_backend is off/m)
    expect(foundation.store.app(app.guid)?.diego).toBe(false)
  })
})

describe('cfctl without a target', () => {
  it('says how to get one and exits 1', async () => {
    const result = await aCliHome().run(['apps'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no target set')
    expect(result.stderr).toContain('cfctl target URL')
  })

  it('never prints a token, and keeps its config 0600', async () => {
    const { readFileSync, statSync } = await import('node:fs')
    const path = `${admin.env.CFCTL_HOME}/config.json`
    const token = JSON.parse(readFileSync(path, 'utf8')).accessToken as string
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const result = await admin.run(['target', '--json'])
    expect(result.stdout + result.stderr).not.toContain(token.slice(0, 40))
  })
})
