// The flip audit against the embedded CC on 127.0.0.1, over real HTTP: a flip made through cfctl's client
// (as the admin) and one made by a developer with a raw PUT, as `cf enable-diego` or curl would, both show
// with who made them and when.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setBackend } from '../../../src/core/apps/inventory.js'
import { diegoFlips } from '../../../src/core/audit/diego-flips.js'
import type { CcClient } from '../../../src/core/cc/index.js'
import { api, tokenFor } from '../../integration/support.js'
import { type Foundation, startFoundation } from '../../scheduler/cc/support.js'
import { anAdminClient } from '../cc/support.js'

let f: Foundation
let client: CcClient

beforeAll(async () => {
  f = await startFoundation({ seed: 'small' })
  client = (await anAdminClient(f.url)).client
})

afterAll(async () => {
  await client?.close()
  await f?.close()
})

describe('cfctl audit against the embedded CC', () => {
  it("lists cfctl's flip and a developer's raw PUT, each with its actor and time", async () => {
    const developer = await tokenFor(f.url, 'developer', 'developer')
    const visible = await api(f.url, '/v2/apps?q=diego:false&results-per-page=100', developer)
    const [mine, theirs] = visible.body.resources as Array<{ metadata: { guid: string }; entity: { name: string } }>
    expect(mine && theirs).toBeTruthy()

    await setBackend(client, await client.app(mine!.metadata.guid), 'diego')
    f.clock.advance(5_000)
    const put = await api(f.url, `/v2/apps/${theirs!.metadata.guid}`, developer, {
      method: 'PUT',
      body: { diego: true },
    })
    expect(put.status).toBe(201)

    const flips = await diegoFlips(client)
    const byApp = new Map(flips.map((flip) => [flip.appGuid, flip]))
    const ours = byApp.get(mine!.metadata.guid)!
    const dev = byApp.get(theirs!.metadata.guid)!
    expect(ours).toMatchObject({ appName: mine!.entity.name, backend: 'diego', actorType: 'user' })
    expect(dev).toMatchObject({ appName: theirs!.entity.name, backend: 'diego', actorType: 'user' })
    expect(ours.actor).toMatch(/admin/)
    expect(dev.actor).toMatch(/developer/)
    expect(Date.parse(dev.time) - Date.parse(ours.time)).toBe(5_000)
    expect(ours.org).not.toBe('')
    expect(flips.indexOf(ours)).toBeLessThan(flips.indexOf(dev))

    const onlyTheirs = await diegoFlips(client, { app: theirs!.metadata.guid })
    expect(onlyTheirs.map((flip) => flip.actor)).toEqual([dev.actor])
  })
})
