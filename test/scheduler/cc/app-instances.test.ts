import { afterEach, describe, expect, it } from 'vitest'
import type { InstanceStatus } from '../../../src/scheduler/backend.js'
import type { AppRecord } from '../../../src/scheduler/cc/index.js'
import { call, type Foundation, type Json, login, startFoundation } from './support.js'

let f: Foundation
let admin: string
afterEach(() => f?.close())

async function start(attach = true) {
  f = await startFoundation({ attach })
  admin = (await login(f.url, 'admin', 'admin')).access_token
}

/** A started app with exactly `instances` instances, on the DEA or flipped to Diego. */
function aStartedApp(instances: number, diego = false): AppRecord {
  const app = f.store.apps().find((a) => a.state === 'STARTED')!
  return f.store.updateApp(app.guid, { instances, diego }, f.clock.now())
}

const status = (s: Partial<InstanceStatus> & Pick<InstanceStatus, 'index' | 'state'>): InstanceStatus => ({
  since: f.clock.now() - 90_000,
  backend: 'dea',
  ...s,
})

describe('GET /v2/apps/:guid/instances', () => {
  it('reports what the DEA runs in the DEA client’s shape: no uptime, DOWN with since, extras left out', async () => {
    await start()
    const app = aStartedApp(4)
    const since = f.clock.now() - 90_000
    f.dea.report(app.guid, [
      status({ index: 0, state: 'RUNNING', host: 'dea-3', port: 61001, uptimeSec: 90 }),
      status({ index: 1, state: 'FLAPPING', host: 'dea-1' }),
      status({ index: 2, state: 'CRASHED', host: 'dea-1' }),
      status({ index: 4, state: 'RUNNING', host: 'dea-2' }),
    ])
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.status).toBe(200)
    const now = Math.floor(f.clock.now() / 1000)
    expect(res.body).toEqual({
      '0': {
        state: 'RUNNING',
        since: since / 1000,
        debug_ip: null,
        debug_port: null,
        console_ip: null,
        console_port: null,
      },
      '1': { state: 'FLAPPING', since: since / 1000 },
      // The DEAs answer find.droplet for STARTING and RUNNING only: a crashed index is DOWN.
      '2': { state: 'DOWN', since: now },
      '3': { state: 'DOWN', since: now },
    })
  })

  it('reports Diego’s in TPS’s shape: state, uptime and since; DOWN with uptime 0', async () => {
    await start()
    const app = aStartedApp(2, true)
    const since = f.clock.now() - 90_000
    f.diego.report(app.guid, [status({ index: 0, state: 'RUNNING', backend: 'diego', uptimeSec: 90 })])
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.body).toEqual({
      '0': { state: 'RUNNING', since: since / 1000, uptime: 90 },
      '1': { state: 'DOWN', uptime: 0 },
    })
  })

  it('asks the backend the app’s flag points at, and passes Diego’s placement error on', async () => {
    await start()
    const app = aStartedApp(2, true)
    f.dea.report(app.guid, [status({ index: 0, state: 'RUNNING' })])
    f.diego.report(app.guid, [
      status({ index: 0, state: 'CRASHED', backend: 'diego', host: 'cell-z1-4' }),
      status({ index: 1, state: 'DOWN', backend: 'diego', details: 'insufficient resources: memory' }),
    ])
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.body['0'].state).toBe('CRASHED')
    expect(res.body['1']).toEqual({ details: 'insufficient resources: memory', state: 'DOWN', uptime: 0 })
  })

  it('prefers the running copy when a backend reports one index twice', async () => {
    await start()
    const app = aStartedApp(1, true)
    f.diego.report(app.guid, [
      status({ index: 0, state: 'STARTING', backend: 'diego' }),
      status({ index: 0, state: 'RUNNING', backend: 'diego' }),
    ])
    expect((await call(f.url, `/v2/apps/${app.guid}/instances`, admin)).body['0'].state).toBe('RUNNING')
  })

  it('answers a stopped app with InstancesError', async () => {
    await start()
    const app = f.store.apps().find((a) => a.state === 'STOPPED')!
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 220001,
      description: `Instances error: Request failed for app: ${app.name} as the app is in stopped state.`,
      error_code: 'CF-InstancesError',
    })
  })

  it('answers InstancesUnavailable while no backend is attached', async () => {
    await start(false)
    const app = aStartedApp(1)
    const res = await call(f.url, `/v2/apps/${app.guid}/instances`, admin)
    expect(res.status).toBe(503)
    expect(res.body.error_code).toBe('CF-InstancesUnavailable')
  })
})

describe('GET /v2/apps/:guid/stats', () => {
  it('has CC’s shape: per index, the state and a stats block', async () => {
    await start()
    const app = aStartedApp(2)
    f.dea.report(app.guid, [status({ index: 0, state: 'RUNNING', host: 'dea-7', port: 61010, uptimeSec: 65 })])
    const res = await call(f.url, `/v2/apps/${app.guid}/stats`, admin)
    expect(res.status).toBe(200)
    expect(res.body['0']).toEqual({
      state: 'RUNNING',
      stats: {
        name: app.name,
        uris: [app.routes[0]!.hostname],
        host: 'dea-7',
        port: 61010,
        uptime: 65,
        mem_quota: app.memoryMb * 1024 * 1024,
        disk_quota: app.diskMb * 1024 * 1024,
        fds_quota: 16384,
        usage: { time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/), cpu: 0, mem: 0, disk: 0 },
      },
    })
    // The DEA client's find_stats: an index no DEA answered for is DOWN with since, no uptime.
    expect(res.body['1']).toEqual({ state: 'DOWN', since: Math.floor(f.clock.now() / 1000) })
  })

  it('answers a stopped app with AppStoppedStatsError', async () => {
    await start()
    const app = f.store.apps().find((a) => a.state === 'STOPPED')!
    const res = await call(f.url, `/v2/apps/${app.guid}/stats`, admin)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      code: 200003,
      description: `Could not fetch stats for stopped app: ${app.name}`,
      error_code: 'CF-AppStoppedStatsError',
    })
  })

  it('answers StatsUnavailable while no backend is attached', async () => {
    await start(false)
    const res = await call(f.url, `/v2/apps/${aStartedApp(1).guid}/stats`, admin)
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ code: 200002, error_code: 'CF-StatsUnavailable' })
  })
})

describe('GET /v2/apps/:guid/summary', () => {
  it('counts the starting and running instances and lists the app’s routes', async () => {
    await start()
    const app = aStartedApp(3)
    f.dea.report(app.guid, [status({ index: 0, state: 'RUNNING' }), status({ index: 1, state: 'STARTING' })])
    const res = await call(f.url, `/v2/apps/${app.guid}/summary`, admin)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      guid: app.guid,
      name: app.name,
      running_instances: 2,
      services: [],
      instances: 3,
      diego: false,
      routes: [
        {
          guid: app.routes[0]!.guid,
          host: app.routes[0]!.host,
          port: null,
          path: '',
          domain: { guid: app.routes[0]!.domainGuid, name: 'apps.internal' },
        },
      ],
    })
    expect(res.body.available_domains).toEqual([
      { guid: app.routes[0]!.domainGuid, name: 'apps.internal', router_group_guid: null, router_group_type: null },
    ])
  })

  it('reports running_instances -1 when the backend cannot answer', async () => {
    await start(false)
    const res = await call(f.url, `/v2/apps/${aStartedApp(1).guid}/summary`, admin)
    expect(res.status).toBe(200)
    expect(res.body.running_instances).toBe(-1)
  })

  it('reports zero running for a stopped app rather than an error', async () => {
    await start()
    const app = f.store.apps().find((a) => a.state === 'STOPPED')!
    const res = await call(f.url, `/v2/apps/${app.guid}/summary`, admin)
    expect(res.status).toBe(200)
    expect(res.body.running_instances).toBe(0)
  })
})

describe('GET /v2/config/feature_flags', () => {
  it('lists CC’s flags as CC does', async () => {
    await start()
    const res = await call(f.url, '/v2/config/feature_flags', admin)
    expect(res.status).toBe(200)
    expect(res.body).toContainEqual({
      name: 'app_scaling',
      enabled: true,
      error_message: null,
      url: '/v2/config/feature_flags/app_scaling',
    })
    expect(res.body.find((flag: Json) => flag.name === 'diego_docker').enabled).toBe(false)
  })
})
