// A filtered app list is kept between pages until the store changes: these pin down that a kept list
// never outlives a write, whoever makes it, and that kept lists answer byte for byte as fresh ones.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ListCache } from '../../../src/scheduler/cc/list-cache.js'
import { type Answer, call, type Foundation, type Json, login, orgsOf, startFoundation } from './support.js'

describe('ListCache', () => {
  it('builds a list once per key until the generation changes', () => {
    const source = { generation: 1 }
    const cache = new ListCache<number>(source)
    let builds = 0
    const build = () => {
      builds++
      return [builds]
    }
    expect(cache.get('a', build)).toEqual([1])
    expect(cache.get('a', build)).toEqual([1])
    expect(builds).toBe(1)
    source.generation = 2
    expect(cache.get('a', build)).toEqual([2])
    expect(builds).toBe(2)
  })

  it('keeps nothing when a build throws', () => {
    const cache = new ListCache<number>({ generation: 0 })
    expect(() =>
      cache.get('bad', () => {
        throw new Error('bad filter')
      }),
    ).toThrow('bad filter')
    expect(cache.size).toBe(0)
  })

  it('drops the oldest list past its bound', () => {
    const cache = new ListCache<string>({ generation: 0 }, 2)
    cache.get('a', () => ['a'])
    cache.get('b', () => ['b'])
    cache.get('c', () => ['c'])
    expect(cache.size).toBe(2)
    expect(cache.get('a', () => ['a again'])).toEqual(['a again'])
  })
})

describe('GET /v2/apps with q, between writes', () => {
  let f: Foundation
  let admin: string
  let developer: string

  beforeEach(async () => {
    f = await startFoundation({ seed: 'small' })
    admin = (await login(f.url, 'admin', 'admin')).access_token
    developer = (await login(f.url, 'developer', 'developer')).access_token
  })
  afterEach(() => f.close())

  async function guids(query: string, token = admin): Promise<string[]> {
    const res: Answer = await call(f.url, `/v2/apps?results-per-page=100&${query}`, token)
    expect(res.status).toBe(200)
    return res.body.resources.map((r: Json) => r.metadata.guid)
  }

  const onDea = () =>
    f.store
      .apps()
      .filter((a) => !a.diego)
      .map((a) => a.guid)

  it('lists an app on its new backend right after a PUT flips it', async () => {
    expect(await guids('q=diego:false')).toEqual(onDea())
    const app = f.store.apps().find((a) => !a.diego)!
    const put = await call(f.url, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { diego: true } })
    expect(put.status).toBe(201)
    expect(await guids('q=diego:false')).not.toContain(app.guid)
    expect(await guids('q=diego:true')).toContain(app.guid)
    expect(await guids('q=diego:false')).toEqual(onDea())
  })

  it('drops a deleted app from a list it was kept in', async () => {
    const app = f.store.apps()[0]!
    expect(await guids(`q=space_guid:${app.spaceGuid}`)).toContain(app.guid)
    expect((await call(f.url, `/v2/apps/${app.guid}`, admin, { method: 'DELETE' })).status).toBe(204)
    expect(await guids(`q=space_guid:${app.spaceGuid}`)).not.toContain(app.guid)
  })

  it('shows a developer the apps of a space they were just given', async () => {
    const { second } = orgsOf(f.store)
    const query = `q=organization_guid:${second.guid}`
    expect(await guids(query, developer)).toEqual([])
    const user = f.store.userNamed('developer')!
    f.store.addSpaceDeveloper(user.guid, f.store.spacesOfOrg(second.guid)[0]!.guid)
    expect(await guids(query, developer)).not.toEqual([])
    // The admin's list under the same q was never the developer's.
    expect(await guids(query)).toEqual(
      f.store
        .apps()
        .filter((a) => a.orgGuid === second.guid)
        .map((a) => a.guid),
    )
  })

  it('answers a kept list with the same bytes as a freshly filtered one', async () => {
    const path = '/v2/apps?q=diego:false&results-per-page=7&page=2'
    const fresh = await (await fetch(`${f.url}${path}`, { headers: { authorization: `bearer ${admin}` } })).text()
    const kept = await (await fetch(`${f.url}${path}`, { headers: { authorization: `bearer ${admin}` } })).text()
    expect(kept).toBe(fresh)
    expect(JSON.parse(kept).resources.length).toBeGreaterThan(0)
  })

  it('still refuses a bad filter value on every request', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await call(f.url, '/v2/apps?q=state:STARTED', admin)
      expect(res.status).toBe(400)
      expect(res.body.error_code).toBe('CF-BadQueryParameter')
    }
  })
})
