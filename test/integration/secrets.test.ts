// The foundation keeps its secrets: what `cfctl server` prints, and who may read its data file (which
// holds the token-signing key and the password hashes).
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { openStore } from '../../src/scheduler/cc/index.js'
import { Foundation, type FoundationOptions } from '../../src/scheduler/foundation.js'

const dirs: string[] = []
const running: Foundation[] = []
afterEach(async () => {
  for (const f of running.splice(0)) await f.stop()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function aDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfctl-secrets-'))
  dirs.push(dir)
  return dir
}

async function start(options: FoundationOptions): Promise<Foundation> {
  const f = await Foundation.start({ seed: 'small', engineClock: new FakeClock(), log: () => {}, ...options })
  running.push(f)
  return f
}

const modeOf = (path: string) => statSync(path).mode & 0o777

describe('what cfctl server prints', () => {
  it('never shows a password the operator chose, in the logins or the sample curl line', async () => {
    const f = await start({
      users: {
        admin: { username: 'ops', password: 'Sekr1t-admin' },
        developer: { username: 'dev', password: 'Sekr1t-dev' },
      },
    })
    const banner = f.describe()
    expect(banner).toContain('ops/')
    expect(banner).toContain('dev/')
    expect(banner).not.toContain('Sekr1t')
    expect(banner).toMatch(/username=ops -d password=PASSWORD /)
  })

  it('shows the built-in demo logins as the README documents them', async () => {
    const banner = (await start({})).describe()
    expect(banner).toContain('admin/admin (cloud_controller.admin)')
    expect(banner).toContain('developer/developer (space developer)')
  })
})

describe('the data file', () => {
  it('is created 0600, with its WAL files, so the signing key in it is the operator’s alone', async () => {
    const path = join(aDir(), 'foundation.db')
    const f = await start({ dataFile: path })
    expect(modeOf(path)).toBe(0o600)
    for (const companion of [`${path}-wal`, `${path}-shm`])
      if (existsSync(companion)) expect(modeOf(companion)).toBe(0o600)
    await f.stop()
    expect(modeOf(path)).toBe(0o600)
  })

  it('is tightened to 0600 when an earlier run left it readable by others', () => {
    const path = join(aDir(), 'old.db')
    openStore({ path }).close()
    chmodSync(path, 0o644)
    writeFileSync(`${path}-wal`, '')
    chmodSync(`${path}-wal`, 0o644)
    const store = openStore({ path })
    expect(store.signingKey.length).toBe(32)
    if (existsSync(`${path}-wal`)) expect(modeOf(`${path}-wal`)).toBe(0o600)
    store.close()
    expect(modeOf(path)).toBe(0o600)
  })
})
