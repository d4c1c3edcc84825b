import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, aClient, appResource, cfError, envelope, mockNetworkOfTests } from './support.js'

const network = mockNetworkOfTests()

function resource(guid: string, entity: Record<string, unknown>) {
  return { metadata: { guid, url: `/x/${guid}`, created_at: '2016-01-01T00:00:00Z', updated_at: null }, entity }
}

describe('info', () => {
  it('reads the endpoints and the API version, and the router URL of the embedded foundation', async () => {
    network.use(
      http.get(`${API}/v2/info`, () =>
        HttpResponse.json({
          name: 'vcap',
          build: '2222',
          support: 'http://support.cloudfoundry.com',
          version: 2,
          description: 'Cloud Foundry sponsored by Pivotal',
          authorization_endpoint: 'https://login.example.com',
          token_endpoint: 'https://uaa.example.com/',
          min_cli_version: null,
          min_recommended_cli_version: null,
          api_version: '2.54.0',
          app_ssh_endpoint: 'ssh.example.com:2222',
          routing_endpoint: 'https://api.example.com/routing',
          doppler_logging_endpoint: 'wss://doppler.example.com:443',
          x_cfctl_router_url: 'http://127.0.0.1:4321',
        }),
      ),
    )
    expect(await aClient().info()).toEqual({
      name: 'vcap',
      build: '2222',
      description: 'Cloud Foundry sponsored by Pivotal',
      apiVersion: '2.54.0',
      authorizationEndpoint: 'https://login.example.com',
      tokenEndpoint: 'https://uaa.example.com',
      routingEndpoint: 'https://api.example.com/routing',
      dopplerLoggingEndpoint: 'wss://doppler.example.com:443',
      routerUrl: 'http://127.0.0.1:4321',
    })
  })
})

describe('apps', () => {
  it('turns the v2 app into a camelCase App', async () => {
    const raw = appResource({ name: 'web', state: 'STOPPED', instances: 3, memory: 512, disk_quota: 2048, diego: true })
    network.use(http.get(`${API}/v2/apps/:guid`, () => HttpResponse.json(raw)))
    expect(await aClient().app(raw.metadata.guid)).toEqual({
      guid: raw.metadata.guid,
      name: 'web',
      spaceGuid: 'space-1',
      state: 'STOPPED',
      instances: 3,
      memoryMb: 512,
      diskMb: 2048,
      diego: true,
      stackGuid: 'stack-1',
      version: 'version-1',
      healthCheckType: 'port',
      packageState: 'STAGED',
      detectedBuildpack: 'ruby 1.6.7',
      enableSsh: true,
      createdAt: '2016-03-01T10:00:00Z',
      updatedAt: '2016-03-02T11:00:00Z',
    })
  })

  it('takes the creation time as the update time of an app never updated', async () => {
    const raw = appResource()
    raw.metadata.updated_at = null as unknown as string
    network.use(http.get(`${API}/v2/apps/:guid`, () => HttpResponse.json(raw)))
    expect((await aClient().app(raw.metadata.guid)).updatedAt).toBe(raw.metadata.created_at)
  })

  it('updates an app with a PUT of only the given fields, and reads the 201 answer', async () => {
    const raw = appResource({ diego: true })
    let sent: unknown
    let contentType: string | null = null
    network.use(
      http.put(`${API}/v2/apps/:guid`, async ({ request }) => {
        sent = await request.json()
        contentType = request.headers.get('content-type')
        return HttpResponse.json(raw, { status: 201 })
      }),
    )
    const app = await aClient().updateApp(raw.metadata.guid, { diego: true })
    expect(sent).toEqual({ diego: true })
    expect(contentType).toBe('application/json')
    expect(app.diego).toBe(true)
  })

  it('refuses an empty update or a bad instance count before sending anything', async () => {
    await expect(aClient().updateApp('a', {})).rejects.toThrow(/at least one of/)
    await expect(aClient().updateApp('a', { instances: -1 })).rejects.toThrow(/instances must be an integer/)
  })

  it('keeps a guid to one path segment', async () => {
    let path = ''
    network.use(
      http.get(`${API}/v2/apps/:guid`, ({ request }) => {
        path = new URL(request.url).pathname
        return HttpResponse.json(appResource())
      }),
    )
    await aClient().app('../organizations?x')
    expect(path).toBe('/v2/apps/..%2Forganizations%3Fx')
  })
})

describe('app instances', () => {
  it('maps each index to its state, with since in ms', async () => {
    network.use(
      http.get(`${API}/v2/apps/:guid/instances`, () =>
        HttpResponse.json({
          '1': { state: 'STARTING', since: 1403140718.5, uptime: 3 },
          '0': { state: 'RUNNING', since: 1403140717.984577, uptime: 2405 },
          '2': { details: 'insufficient resources: memory', state: 'DOWN', uptime: 0 },
          '3': { state: 'RUNNING', since: 1403140717, debug_ip: null, debug_port: null, console_ip: null },
        }),
      ),
    )
    const instances = await aClient().appInstances('a')
    expect([...instances.keys()]).toEqual([0, 1, 2, 3])
    expect(instances.get(0)).toEqual({ state: 'RUNNING', since: 1403140717985, uptime: 2405 })
    expect(instances.get(2)).toEqual({ state: 'DOWN', uptime: 0, details: 'insufficient resources: memory' })
    expect(instances.get(3)).toEqual({ state: 'RUNNING', since: 1403140717000 })
  })

  it('maps CF-InstancesError of a stopped app', async () => {
    network.use(
      http.get(`${API}/v2/apps/:guid/instances`, () =>
        HttpResponse.json(cfError(220001, 'CF-InstancesError', 'Instances error: app is stopped'), { status: 400 }),
      ),
    )
    await expect(aClient().appInstances('a')).rejects.toMatchObject({ code: 220001, errorCode: 'CF-InstancesError' })
  })
})

describe('app routes', () => {
  it('reads inlined domains and asks for them inline', async () => {
    let params: URLSearchParams | undefined
    network.use(
      http.get(`${API}/v2/apps/:guid/routes`, ({ request }) => {
        params = new URL(request.url).searchParams
        return HttpResponse.json(
          envelope(
            [
              resource('r1', {
                host: 'web',
                path: '',
                domain_guid: 'd1',
                domain_url: '/v2/shared_domains/d1',
                domain: resource('d1', { name: 'apps.example.com' }),
              }),
              resource('r2', {
                host: 'api',
                path: '/v1',
                domain_guid: 'd1',
                domain: resource('d1', { name: 'apps.example.com' }),
              }),
            ],
            1,
            1,
          ),
        )
      }),
    )
    expect(await aClient().appRoutes('a')).toEqual([
      { host: 'web', domain: 'apps.example.com', path: '' },
      { host: 'api', domain: 'apps.example.com', path: '/v1' },
    ])
    expect(params?.get('inline-relations-depth')).toBe('1')
  })

  it('looks a domain up once when the CC did not inline it, and reads a missing path as none', async () => {
    const lookups: string[] = []
    network.use(
      http.get(`${API}/v2/apps/:guid/routes`, () =>
        HttpResponse.json(
          envelope(
            [
              resource('r1', { host: 'a', domain_guid: 'd1', domain_url: '/v2/shared_domains/d1' }),
              resource('r2', { host: 'b', domain_guid: 'd1', domain_url: '/v2/shared_domains/d1' }),
              resource('r3', { host: 'c', domain_guid: 'd2' }),
            ],
            1,
            1,
          ),
        ),
      ),
      http.get(`${API}/v2/shared_domains/:guid`, ({ params }) => {
        lookups.push(`shared/${params.guid}`)
        return HttpResponse.json(resource(String(params.guid), { name: 'shared.example.com' }))
      }),
      http.get(`${API}/v2/domains/:guid`, ({ params }) => {
        lookups.push(`domains/${params.guid}`)
        return HttpResponse.json(resource(String(params.guid), { name: 'private.example.com' }))
      }),
    )
    expect(await aClient().appRoutes('a')).toEqual([
      { host: 'a', domain: 'shared.example.com', path: '' },
      { host: 'b', domain: 'shared.example.com', path: '' },
      { host: 'c', domain: 'private.example.com', path: '' },
    ])
    expect(lookups.sort()).toEqual(['domains/d2', 'shared/d1'])
  })
})

describe('orgs, spaces and feature flags', () => {
  it('lists orgs by name', async () => {
    let q: string[] = []
    network.use(
      http.get(`${API}/v2/organizations`, ({ request }) => {
        q = new URL(request.url).searchParams.getAll('q')
        return HttpResponse.json(envelope([resource('o1', { name: 'acme', status: 'active' })], 1, 1))
      }),
    )
    expect(await aClient().organizations({ name: 'acme' })).toEqual([{ guid: 'o1', name: 'acme', status: 'active' }])
    expect(q).toEqual(['name:acme'])
  })

  it('lists spaces by name within an org', async () => {
    let q: string[] = []
    network.use(
      http.get(`${API}/v2/spaces`, ({ request }) => {
        q = new URL(request.url).searchParams.getAll('q')
        return HttpResponse.json(envelope([resource('s1', { name: 'dev', organization_guid: 'o1' })], 1, 1))
      }),
    )
    expect(await aClient().spaces({ name: 'dev', orgGuid: 'o1' })).toEqual([{ guid: 's1', name: 'dev', orgGuid: 'o1' }])
    expect(q).toEqual(['name:dev', 'organization_guid:o1'])
  })

  it('reads the feature flags', async () => {
    network.use(
      http.get(`${API}/v2/config/feature_flags`, () =>
        HttpResponse.json([
          {
            name: 'user_org_creation',
            enabled: false,
            error_message: null,
            url: '/v2/config/feature_flags/user_org_creation',
          },
          { name: 'diego_docker', enabled: true, error_message: null, url: '/v2/config/feature_flags/diego_docker' },
        ]),
      ),
    )
    expect(await aClient().featureFlags()).toEqual([
      { name: 'user_org_creation', enabled: false },
      { name: 'diego_docker', enabled: true },
    ])
  })
})

describe('backend capacity', () => {
  it('reads the embedded foundation extension in camelCase', async () => {
    const one = (nodes: number) => ({
      nodes,
      nodes_up: nodes - 1,
      memory_mb: { total: 1000, used: 250 },
      disk_mb: { total: 5000, used: 100 },
      containers: { total: 250, used: 10 },
    })
    network.use(http.get(`${API}/v2/x-cfctl/backends`, () => HttpResponse.json({ dea: one(3), diego: one(5) })))
    const capacity = await aClient().backendsCapacity()
    expect(capacity?.diego).toEqual({
      nodes: 5,
      nodesUp: 4,
      memoryMb: { total: 1000, used: 250 },
      diskMb: { total: 5000, used: 100 },
      containers: { total: 250, used: 10 },
    })
    expect(capacity?.dea.nodes).toBe(3)
  })

  it('is undefined where the CC does not serve it (a real Cloud Foundry)', async () => {
    network.use(
      http.get(`${API}/v2/x-cfctl/backends`, () =>
        HttpResponse.json(cfError(10000, 'CF-NotFound', 'Unknown request'), { status: 404 }),
      ),
    )
    expect(await aClient().backendsCapacity()).toBeUndefined()
  })
})
