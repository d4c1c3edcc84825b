import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store, StoreError } from '../../../src/scheduler/cc/index.js'
import { aSpace } from './support.js'

const AT = Date.UTC(2026, 0, 1)

function anApp(store: Store, spaceGuid: string, name: string, extra: { host?: string; domainGuid?: string } = {}) {
  return store.createApp({
    spaceGuid,
    name,
    instances: 2,
    memoryMb: 512,
    diskMb: 1024,
    state: 'STARTED',
    diego: false,
    at: AT,
    routes: extra.host && extra.domainGuid ? [{ host: extra.host, domainGuid: extra.domainGuid }] : [],
  })
}

describe('the CC store', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-store-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('writes nothing of a transaction that fails, in memory or on disk', () => {
    const path = join(dir, 'cc.db')
    const store = openStore({ path })
    const generation = store.generation
    expect(() =>
      store.transaction(() => {
        const { space } = aSpace(store)
        anApp(store, space.guid, 'web')
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(store.orgs()).toEqual([])
    expect(store.apps()).toEqual([])
    expect(store.domains()).toEqual([])
    expect(store.generation).toBe(generation)
    store.close()
    const reopened = openStore({ path })
    expect(reopened.orgs()).toEqual([])
    expect(reopened.apps()).toEqual([])
    reopened.close()
  })

  it('rolls back creates, updates and deletes of apps together, in memory and on disk', () => {
    for (const store of [openStore(), openStore({ path: join(dir, 'cc.db') })]) {
      const { space, domain } = aSpace(store)
      const [a, b] = ['a', 'b'].map((n) => anApp(store, space.guid, n, { host: n, domainGuid: domain.guid }))
      const before = store.apps()
      expect(() =>
        store.transaction(() => {
          anApp(store, space.guid, 'c', { host: 'c', domainGuid: domain.guid })
          store.deleteApp(a!.guid)
          anApp(store, space.guid, 'a', { host: 'a', domainGuid: domain.guid })
          store.updateApp(b!.guid, { name: 'b2', instances: 9 }, AT + 1)
          throw new Error('boom')
        }),
      ).toThrow('boom')
      expect(store.apps()).toEqual(before)
      expect(store.apps()[0]).toBe(a)
      expect(store.appNamed(space.guid, 'a')).toBe(a)
      expect(store.appNamed(space.guid, 'b')).toBe(b)
      expect(store.appNamed(space.guid, 'b2')).toBeUndefined()
      expect(store.appNamed(space.guid, 'c')).toBeUndefined()
      expect(store.appByHostname('a.apps.test')).toBe(a)
      expect(store.appByHostname('c.apps.test')).toBeUndefined()
      expect(store.appsInSpace(space.guid)).toEqual(before)
      store.close()
    }
  })

  it('rolls back an app whose route is taken: the app row and its route go together', () => {
    const store = openStore()
    const { space, domain } = aSpace(store)
    anApp(store, space.guid, 'web', { host: 'web', domainGuid: domain.guid })
    expect(() => anApp(store, space.guid, 'api', { host: 'web', domainGuid: domain.guid })).toThrow(StoreError)
    expect(store.apps().map((a) => a.name)).toEqual(['web'])
    expect(store.appNamed(space.guid, 'api')).toBeUndefined()
    // The rolled-back insert left no row behind: the name is free again.
    expect(anApp(store, space.guid, 'api', { host: 'api', domainGuid: domain.guid }).name).toBe('api')
  })

  it('refuses a second app of the same name in a space', () => {
    const store = openStore()
    const { space } = aSpace(store)
    anApp(store, space.guid, 'web')
    expect(() => anApp(store, space.guid, 'web')).toThrow('app "web" already exists in space "dev"')
  })

  it('refuses impossible sizes with a message naming the field', () => {
    const store = openStore()
    const { space } = aSpace(store)
    const base = { spaceGuid: space.guid, name: 'x', diskMb: 1024, state: 'STARTED' as const, diego: false, at: AT }
    expect(() => store.createApp({ ...base, instances: -1, memoryMb: 256 })).toThrow(
      /instances must be an integer >= 0/,
    )
    expect(() => store.createApp({ ...base, instances: 1, memoryMb: 0 })).toThrow(/memory must be/)
    expect(store.apps()).toEqual([])
  })

  it('replaces a record on update and leaves the old one as it was', () => {
    const store = openStore()
    const { space } = aSpace(store)
    const before = anApp(store, space.guid, 'web')
    const after = store.updateApp(before.guid, { diego: true, instances: 5 }, AT + 1000)
    expect(after).not.toBe(before)
    expect(before).toMatchObject({ diego: false, instances: 2 })
    expect(after).toMatchObject({ diego: true, instances: 5, updatedAt: AT + 1000, createdAt: AT })
    expect(store.app(before.guid)).toBe(after)
    expect(store.apps()).toEqual([after])
    expect(store.appsInSpace(space.guid)).toEqual([after])
  })

  it('keeps apps in id order through deletes and inserts', () => {
    const store = openStore()
    const { space, domain } = aSpace(store)
    const names = ['a', 'b', 'c', 'd']
    const apps = names.map((n) => anApp(store, space.guid, n, { host: n, domainGuid: domain.guid }))
    store.deleteApp(apps[1]!.guid)
    store.deleteApp(apps[3]!.guid)
    anApp(store, space.guid, 'e')
    expect(store.apps().map((a) => a.name)).toEqual(['a', 'c', 'e'])
    expect(store.apps().map((a) => a.id)).toEqual([...store.apps().map((a) => a.id)].sort((x, y) => x - y))
    expect(store.appByHostname('b.apps.test')).toBeUndefined()
    expect(store.appByHostname('C.APPS.TEST')?.name).toBe('c')
  })

  it('checks passwords with scrypt', async () => {
    const store = openStore()
    store.createUser({ username: 'ana', password: 's3cret', admin: false, at: AT })
    expect((await store.authenticate('ana', 's3cret'))?.username).toBe('ana')
    expect(await store.authenticate('ana', 'S3cret')).toBeUndefined()
    expect(await store.authenticate('bob', 's3cret')).toBeUndefined()
  })

  it('creates users from secrets hashed ahead: each logs in with its own password, after a reopen too', async () => {
    const path = join(dir, 'cc.db')
    const store = openStore({ path })
    store.prepareSecrets(['pw', 'pw', 'other'])
    store.createUser({ username: 'ana', password: 'pw', admin: false, at: AT })
    store.createUser({ username: 'bob', password: 'pw', admin: false, at: AT })
    store.createUser({ username: 'cy', password: 'pw', admin: false, at: AT }) // none left for it: hashed here
    store.forgetPreparedSecrets()
    store.createUser({ username: 'dee', password: 'other', admin: false, at: AT })
    store.close()
    const reopened = openStore({ path })
    for (const [name, password] of [
      ['ana', 'pw'],
      ['bob', 'pw'],
      ['cy', 'pw'],
      ['dee', 'other'],
    ] as const) {
      expect((await reopened.authenticate(name, password))?.username).toBe(name)
      expect(await reopened.authenticate(name, `${password}!`)).toBeUndefined()
    }
    reopened.close()
  })

  it('persists everything, roles and the token signing key included', () => {
    const path = join(dir, 'cc.db')
    const store = openStore({ path })
    const { space, domain } = aSpace(store)
    const app = anApp(store, space.guid, 'web', { host: 'web', domainGuid: domain.guid })
    store.updateApp(app.guid, { diego: true }, AT + 5)
    const user = store.createUser({ username: 'dev', password: 'pw', admin: false, at: AT })
    store.addSpaceDeveloper(user.guid, space.guid)
    const key = Buffer.from(store.signingKey)
    const snapshot = store.apps()
    store.close()
    const reopened = openStore({ path })
    expect(reopened.apps()).toEqual(snapshot)
    expect([...reopened.developerSpaceGuids(user.guid)]).toEqual([space.guid])
    expect(reopened.signingKey.equals(key)).toBe(true)
    expect(reopened.defaultStack.name).toBe('cflinuxfs2')
    reopened.close()
  })

  it('keeps an in-memory store in its index alone: SQLite holds no second copy of the rows', () => {
    const store = openStore()
    const { space, domain } = aSpace(store)
    anApp(store, space.guid, 'web', { host: 'web', domainGuid: domain.guid })
    const tables = store.database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    const names = tables.map((t) => t.name)
    for (const table of ['orgs', 'spaces', 'apps', 'routes', 'users']) expect(names).not.toContain(table)
    expect(store.appByHostname('web.apps.test')?.name).toBe('web')
  })

  it('refuses a guid that is taken, in memory and on disk, and writes nothing', () => {
    for (const store of [openStore(), openStore({ path: join(dir, 'cc.db') })]) {
      const { org, space } = aSpace(store)
      const app = anApp(store, space.guid, 'web')
      expect(() => store.createOrg({ name: 'other', at: AT, guid: org.guid })).toThrow(StoreError)
      expect(() => store.createSpace({ orgGuid: org.guid, name: 'qa', at: AT, guid: space.guid })).toThrow(
        `space guid ${space.guid} is taken`,
      )
      const taken = { spaceGuid: space.guid, name: 'api', instances: 1, memoryMb: 256, diskMb: 1024, guid: app.guid }
      expect(() => store.createApp({ ...taken, state: 'STOPPED', diego: false, at: AT })).toThrow(StoreError)
      expect(store.orgs().map((o) => o.name)).toEqual(['acme'])
      expect(store.spaces().map((s) => s.name)).toEqual(['dev'])
      expect(store.apps().map((a) => a.name)).toEqual(['web'])
      store.close()
    }
  })

  it('numbers rows in memory as SQLite does: a rolled-back insert takes no id', () => {
    for (const store of [openStore(), openStore({ path: join(dir, 'cc.db') })]) {
      const { space } = aSpace(store)
      const first = anApp(store, space.guid, 'a')
      expect(() =>
        store.transaction(() => {
          anApp(store, space.guid, 'b')
          throw new Error('boom')
        }),
      ).toThrow('boom')
      expect(anApp(store, space.guid, 'c').id).toBe(first.id + 1)
      store.close()
    }
  })

  it('holds an app with its route in under 1,000 bytes of heap, in memory', () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const store = openStore()
    const { space, domain } = aSpace(store)
    const spaces = Array.from({ length: 200 }, (_, i) =>
      store.createSpace({ orgGuid: space.orgGuid, name: `s${i}`, at: AT }),
    )
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 10_000; i++) {
      const name = `app-${i.toString(16).padStart(8, '0')}`
      anApp(store, spaces[i % spaces.length]!.guid, name, { host: name, domainGuid: domain.guid })
    }
    gc()
    const perApp = (process.memoryUsage().heapUsed - before) / store.apps().length
    // About 800 now; a guid left as randomUUID()'s rope costs ~490 bytes, and each app has three.
    expect(perApp).toBeLessThan(1_000)
  })

  it('gives an in-memory store its own signing key each time', () => {
    expect(openStore().signingKey.equals(openStore().signingKey)).toBe(false)
  })
})
