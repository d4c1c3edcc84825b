// The desired state the backends' loops read from the CC: every STARTED app whose flag points at the
// backend, kept between reads until the store changes (the DEA health manager reads it every pass).
import { afterEach, describe, expect, it } from 'vitest'
import { call, type Foundation, login, startFoundation } from './support.js'

let f: Foundation
afterEach(() => f?.close())

const guids = (specs: Iterable<{ appGuid: string }>) => [...specs].map((s) => s.appGuid)

describe('desiredApps', () => {
  it('lists the started apps of each backend in id order', async () => {
    f = await startFoundation()
    // Started with a droplet: a started app whose staging failed or is pending runs nowhere.
    const started = f.store.apps().filter((a) => a.state === 'STARTED' && a.packageState === 'STAGED')
    expect(started.length).toBeLessThan(f.store.apps().filter((a) => a.state === 'STARTED').length)
    expect(guids(f.cc.source.desiredApps('dea'))).toEqual(started.filter((a) => !a.diego).map((a) => a.guid))
    expect(guids(f.cc.source.desiredApps('diego'))).toEqual(started.filter((a) => a.diego).map((a) => a.guid))
  })

  it('hands back the same list while nothing changes, and a new one right after a change', async () => {
    f = await startFoundation()
    const first = f.cc.source.desiredApps('dea')
    expect(f.cc.source.desiredApps('dea')).toBe(first)
    const app = f.store.apps().find((a) => a.state === 'STARTED' && !a.diego)!
    const admin = (await login(f.url, 'admin', 'admin')).access_token
    const res = await call(f.url, `/v2/apps/${app.guid}`, admin, { method: 'PUT', body: { diego: true } })
    expect(res.status).toBe(201)
    const after = f.cc.source.desiredApps('dea')
    expect(after).not.toBe(first)
    expect(guids(after)).not.toContain(app.guid)
    expect(guids(first)).toContain(app.guid)
    expect(guids(f.cc.source.desiredApps('diego'))).toEqual([app.guid])
  })

  it('is a list the reader cannot change', async () => {
    f = await startFoundation()
    const list = f.cc.source.desiredApps('dea') as unknown as unknown[]
    expect(() => list.pop()).toThrow(TypeError)
  })
})
