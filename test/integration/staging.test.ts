// Staging, restarts and crashes on the real engines: a real Foundation on 127.0.0.1, the backends on a
// FakeClock, driven with the requests the cf CLI sends (`cf restage`: POST /v2/apps/:guid/restage, then
// GET /v2/apps/:guid until package_state is STAGED, then GET /instances; `cf restart-app-instance`:
// DELETE /v2/apps/:guid/instances/:index; `cf events`: GET /v2/events?...&q=actee:GUID).
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import type { AppRecord } from '../../src/scheduler/cc/index.js'
import { Foundation } from '../../src/scheduler/foundation.js'
import { api, tokenFor } from './support.js'

let f: Foundation | undefined
afterEach(async () => {
  await f?.stop()
  f = undefined
})

async function start(): Promise<{ foundation: Foundation; clock: FakeClock; token: string }> {
  const clock = new FakeClock()
  const foundation = await Foundation.start({ seed: 'small', engineClock: clock, log: () => {} })
  f = foundation
  await clock.advanceUntil(() => allStartedRun(foundation), { step: 1_000, limit: 120_000 })
  return { foundation, clock, token: await tokenFor(foundation.apiUrl, 'admin', 'admin') }
}

function allStartedRun(foundation: Foundation): boolean {
  return foundation.store
    .apps()
    .filter((a) => a.state === 'STARTED' && a.packageState === 'STAGED')
    .every((a) => running(foundation, a) === a.instances)
}

function running(foundation: Foundation, app: AppRecord): number {
  const backend = app.diego ? foundation.diego : foundation.dea
  return backend.instances(app.guid).filter((s) => s.state === 'RUNNING').length
}

function aStartedApp(foundation: Foundation, diego: boolean): AppRecord {
  const app = foundation.store
    .apps()
    .find((a) => a.state === 'STARTED' && a.packageState === 'STAGED' && a.diego === diego && a.instances >= 1)
  if (!app) throw new Error(`the seed has no started ${diego ? 'Diego' : 'DEA'} app`)
  return app
}

describe('restage on the engines', () => {
  it('stages a Diego app as one Task in the BBS, run once, then runs the new droplet', async () => {
    const { foundation, clock, token } = await start()
    const flipped = await api(foundation.apiUrl, `/v2/apps/${aStartedApp(foundation, false).guid}`, token, {
      method: 'PUT',
      body: { diego: true },
    })
    const app = foundation.store.app(flipped.body.metadata.guid)!
    await clock.advanceUntil(() => running(foundation, app) === app.instances, { step: 1_000, limit: 120_000 })

    const res = await api(foundation.apiUrl, `/v2/apps/${app.guid}/restage`, token, { method: 'POST' })
    expect(res.status).toBe(201)
    expect(res.body.entity.package_state).toBe('PENDING')
    const tasks = [...foundation.diego.bbs.tasks()]
    expect(tasks).toHaveLength(1)
    const [task] = tasks
    expect(task).toMatchObject({ state: 'PENDING' })
    expect((await api(foundation.apiUrl, `/v2/apps/${app.guid}/instances`, token)).body.error_code).toBe('CF-NotStaged')

    await clock.advanceUntil(() => foundation.store.app(app.guid)!.packageState !== 'PENDING', { step: 1_000 })
    expect(foundation.store.app(app.guid)!.packageState).toBe('STAGED')
    expect(task!.auctionAttempts).toBe(1)
    await clock.advanceUntil(() => running(foundation, foundation.store.app(app.guid)!) === app.instances, {
      step: 1_000,
      limit: 120_000,
    })
    const instances = await api(foundation.apiUrl, `/v2/apps/${app.guid}/instances`, token)
    expect(instances.status).toBe(200)
    expect((Object.values(instances.body) as { state: string }[]).every((i) => i.state === 'RUNNING')).toBe(true)
    // The completed Task is resolved and deleted: nothing of the staging is left in the BBS.
    await clock.advance(1_000)
    expect([...foundation.diego.bbs.tasks()]).toHaveLength(0)
  }, 30_000)

  it('stages a DEA app on a DEA, then the DEAs run it; /instances in the DEA client’s shape', async () => {
    const { foundation, clock, token } = await start()
    const app = aStartedApp(foundation, false)
    const res = await api(foundation.apiUrl, `/v2/apps/${app.guid}/restage`, token, { method: 'POST' })
    expect(res.status).toBe(201)
    expect(running(foundation, app)).toBe(0)
    await clock.advanceUntil(() => foundation.store.app(app.guid)!.packageState === 'STAGED', { step: 1_000 })
    await clock.advanceUntil(() => running(foundation, app) === app.instances, { step: 1_000, limit: 120_000 })
    const instances = await api(foundation.apiUrl, `/v2/apps/${app.guid}/instances`, token)
    expect(instances.body['0']).toEqual({
      state: 'RUNNING',
      since: expect.any(Number),
      debug_ip: null,
      debug_port: null,
      console_ip: null,
      console_port: null,
    })
  }, 30_000)
})

describe('DELETE /v2/apps/:guid/instances/:index on the engines', () => {
  it('stops that DEA instance; the health manager starts it again', async () => {
    const { foundation, clock, token } = await start()
    const app = aStartedApp(foundation, false)
    const res = await api(foundation.apiUrl, `/v2/apps/${app.guid}/instances/0`, token, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(running(foundation, app)).toBe(app.instances - 1)
    await clock.advanceUntil(() => running(foundation, app) === app.instances, { step: 1_000, limit: 300_000 })
    expect(running(foundation, app)).toBe(app.instances)
  }, 30_000)
})

describe('app.crash events', () => {
  it('records a crash on either backend as the app’s app.crash event, the app as actor', async () => {
    const { foundation, token } = await start()
    const app = aStartedApp(foundation, false)
    foundation.dea.crashInstance(app.guid, 0)
    const res = await api(foundation.apiUrl, `/v2/events?q=type:app.crash&q=actee:${app.guid}`, token)
    expect(res.body.total_results).toBe(1)
    expect(res.body.resources[0].entity).toMatchObject({
      type: 'app.crash',
      actor: app.guid,
      actor_type: 'app',
      actor_name: app.name,
      actee: app.guid,
      actee_type: 'app',
      metadata: { index: 0, reason: 'CRASHED', exit_status: 1, instance: expect.any(String) },
    })
  }, 30_000)

  it('takes Diego’s crash reason as the exit description', async () => {
    const { foundation, clock, token } = await start()
    const app = aStartedApp(foundation, false)
    await api(foundation.apiUrl, `/v2/apps/${app.guid}`, token, { method: 'PUT', body: { diego: true } })
    const flipped = foundation.store.app(app.guid)!
    await clock.advanceUntil(() => running(foundation, flipped) === app.instances, { step: 1_000, limit: 120_000 })
    foundation.diego.crashInstance(app.guid, 0, 'Exited with status 137')
    const res = await api(foundation.apiUrl, `/v2/events?q=type:app.crash&q=actee:${app.guid}`, token)
    expect(res.body.resources.map((r: { entity: { metadata: unknown } }) => r.entity.metadata)).toEqual([
      {
        instance: expect.any(String),
        index: 0,
        exit_status: 137,
        exit_description: 'Exited with status 137',
        reason: 'CRASHED',
      },
    ])
  }, 30_000)
})
