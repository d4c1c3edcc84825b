// An in-memory store refuses what a data file's SQLite refuses, and a refused write leaves nothing behind:
// the in-memory store has no SQLite constraints behind its own checks any more (store-rows.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../../../src/scheduler/cc/index.js'
import { aSpace } from './support.js'

const AT = Date.UTC(2026, 0, 1)

const app = (spaceGuid: string, name: string, routes: { host: string; domainGuid: string; guid?: string }[]) => ({
  spaceGuid,
  name,
  instances: 1,
  memoryMb: 256,
  diskMb: 1024,
  state: 'STARTED' as const,
  diego: true,
  at: AT,
  routes,
})

describe('an in-memory store and a data file refuse the same routes', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-parity-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const stores = () =>
    [
      ['in memory', openStore()],
      ['on disk', openStore({ path: join(dir, 'cc.db') })],
    ] as const

  it('refuses a route guid another route has, and writes nothing of the app', () => {
    for (const [where, store] of stores()) {
      const { space, domain } = aSpace(store)
      const web = store.createApp(app(space.guid, 'web', [{ host: 'web', domainGuid: domain.guid }]))
      const taken = web.routes[0]!.guid
      expect(
        () => store.createApp(app(space.guid, 'api', [{ host: 'api', domainGuid: domain.guid, guid: taken }])),
        where,
      ).toThrow()
      expect(
        store.apps().map((a) => a.name),
        where,
      ).toEqual(['web'])
      store.close()
    }
  })

  it('refuses an app given the same host twice, and writes nothing of it', () => {
    for (const [where, store] of stores()) {
      const { space, domain } = aSpace(store)
      const twice = [
        { host: 'web', domainGuid: domain.guid },
        { host: 'web', domainGuid: domain.guid },
      ]
      expect(() => store.createApp(app(space.guid, 'web', twice)), where).toThrow()
      expect(store.apps(), where).toEqual([])
      expect(store.appByHostname('web.apps.test'), where).toBeUndefined()
      store.close()
    }
  })
})
