// The client against the real CC of the embedded foundation on 127.0.0.1: the shapes the server renders
// are the shapes the client parses, and the concurrent walk returns what a cf CLI-style next_url walk does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CcClient, CfApiError } from '../../../src/core/cc/index.js'
import { type Foundation, startFoundation } from '../../scheduler/cc/support.js'
import { anAdminClient } from './support.js'

let f: Foundation
let adminToken: string
let client: CcClient

beforeAll(async () => {
  f = await startFoundation({ seed: 'medium' })
  const admin = await anAdminClient(f.url)
  client = admin.client
  adminToken = admin.token
})

afterAll(async () => {
  await client?.close()
  await f?.close()
})

/** Every app guid in the order a sequential next_url walk (as the cf CLI does it) sees them. */
async function sequentialWalk(path: string): Promise<string[]> {
  const guids: string[] = []
  let next: string | null = `${path}${path.includes('?') ? '&' : '?'}results-per-page=100`
  while (next) {
    const res = await fetch(`${f.url}${next}`, { headers: { authorization: `bearer ${adminToken}` } })
    const body = (await res.json()) as { next_url: string | null; resources: Array<{ metadata: { guid: string } }> }
    guids.push(...body.resources.map((r) => r.metadata.guid))
    next = body.next_url
  }
  return guids
}

describe('the client against the embedded CC', () => {
  it('reads /v2/info without a token', async () => {
    const info = await new CcClient({ apiUrl: f.url }).info()
    expect(info.apiVersion).toMatch(/^2\./)
    expect(info.tokenEndpoint).toBe(f.url)
  })

  it('lists every app, in the order of a sequential walk', async () => {
    const apps = await client.apps()
    expect(apps.length).toBe(f.store.apps().length)
    expect(apps.length).toBeGreaterThan(1000)
    expect(apps.map((a) => a.guid)).toEqual(await sequentialWalk('/v2/apps'))
  })

  it('lists the apps of one backend with the diego filter', async () => {
    const dea = await client.apps({ diego: false })
    expect(dea.length).toBe(f.store.apps().filter((a) => !a.diego).length)
    expect(dea.every((a) => a.diego === false)).toBe(true)
  })

  it('finds apps by name, by several names, and by space', async () => {
    const [first, second] = f.store.apps()
    const byName = await client.apps({ name: first!.name, spaceGuid: first!.spaceGuid })
    expect(byName.map((a) => a.guid)).toEqual([first!.guid])
    const byNames = await client.apps({ names: [first!.name, second!.name], spaceGuid: first!.spaceGuid })
    expect(byNames.map((a) => a.guid)).toContain(first!.guid)
  })

  it('flips an app to Diego with a PUT and reads the 201 answer', async () => {
    const app = f.store.apps().find((a) => !a.diego)!
    const updated = await client.updateApp(app.guid, { diego: true })
    expect(updated.diego).toBe(true)
    expect((await client.app(app.guid)).diego).toBe(true)
  })

  it('maps the CC error for an unknown app', async () => {
    const error = (await client.app('no-such-guid').catch((e: unknown) => e)) as CfApiError
    expect(error).toBeInstanceOf(CfApiError)
    expect(error).toMatchObject({ status: 404, code: 100004, errorCode: 'CF-AppNotFound' })
  })

  it('lists orgs and spaces, and spaces by org', async () => {
    const orgs = await client.organizations()
    const spaces = await client.spaces({ orgGuid: orgs[0]!.guid })
    expect(orgs.length).toBe(f.store.orgs().length)
    expect(spaces.length).toBeGreaterThan(0)
    expect(spaces.every((s) => s.orgGuid === orgs[0]!.guid)).toBe(true)
    expect(await client.organizations({ name: orgs[0]!.name })).toEqual([orgs[0]])
  })

  it('reads the feature flags and the backend capacity', async () => {
    expect((await client.featureFlags()).length).toBeGreaterThan(0)
    const capacity = await client.backendsCapacity()
    expect(capacity?.dea).toBeDefined()
    expect(capacity?.diego).toBeDefined()
  })

  it('reads the instances a backend reports', async () => {
    const app = f.store.apps().find((a) => a.state === 'STARTED' && !a.diego && a.instances > 0)!
    f.dea.report(app.guid, [{ index: 0, state: 'RUNNING', since: f.clock.now() - 10_000, backend: 'dea' }])
    const instances = await client.appInstances(app.guid)
    expect(instances.get(0)?.state).toBe('RUNNING')
    expect(instances.get(0)?.since).toBe(f.clock.now() - 10_000)
  })
})
