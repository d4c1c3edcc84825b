import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, seed } from '../../../src/scheduler/cc/index.js'
import { FakeClock } from '../../../src/scheduler/clock.js'
import { call, type Foundation, login, startFoundation } from './support.js'

describe('a foundation on a SQLite file', () => {
  let dir: string
  let path: string
  let running: Foundation | undefined

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-cc-'))
    path = join(dir, 'foundation.db')
  })
  afterEach(async () => {
    await running?.close()
    running = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps flags, and tokens stay valid, across a restart', async () => {
    const clock = new FakeClock()
    const store = openStore({ path })
    running = await startFoundation({ store, clock })
    expect(existsSync(`${path}-wal`)).toBe(true)
    const { access_token } = await login(running.url, 'admin', 'admin')
    const app = store.apps().find((a) => a.state === 'STARTED')!
    expect(
      (await call(running.url, `/v2/apps/${app.guid}`, access_token, { method: 'PUT', body: { diego: true } })).status,
    ).toBe(201)
    await running.close()
    store.close()

    const reopened = openStore({ path })
    running = await startFoundation({ store: reopened, clock, seed: false })
    const res = await call(running.url, `/v2/apps/${app.guid}`, access_token)
    expect(res.status).toBe(200)
    expect(res.body.entity.diego).toBe(true)
    expect([...running.cc.source.desiredApps('diego')].map((s) => s.appGuid)).toContain(app.guid)
    expect(reopened.apps().map((a) => a.guid)).toEqual(store.apps().map((a) => a.guid))
    expect((await login(running.url, 'developer', 'developer')).access_token).toBeTruthy()
    reopened.close()
  })

  it('is not seeded a second time', async () => {
    const first = openStore({ path })
    seed(first, 'small')
    const guids = first.apps().map((a) => a.guid)
    first.close()
    const again = openStore({ path })
    expect(seed(again, 'medium').seeded).toBe(false)
    expect(again.apps().map((a) => a.guid)).toEqual(guids)
    again.close()
  })

  it('does not accept tokens signed by another foundation', async () => {
    const a = await startFoundation()
    const b = await startFoundation()
    try {
      const { access_token } = await login(a.url, 'admin', 'admin')
      const res = await call(b.url, '/v2/apps', access_token)
      expect(res.status).toBe(401)
      expect(res.body.error_code).toBe('CF-InvalidAuthToken')
    } finally {
      await a.close()
      await b.close()
    }
  })
})
