// Every CC client call, the migration's port and every UAA grant, run against a corpus of a real Cloud
// Controller's and UAA's answers (cc-corpus.ts, uaa-corpus.ts: each fixture names its source). A request
// no fixture answers fails the test, so the client cannot drift into a dialect only the embedded CC speaks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findApp, listApps } from '../../../../src/core/apps/inventory.js'
import { diegoFlips } from '../../../../src/core/audit/diego-flips.js'
import {
  AppNotStagedError,
  CcClient,
  type CfApiError,
  CfAuthError,
  cfErrorHint,
  requestToken,
} from '../../../../src/core/cc/index.js'
import { RouteProbe } from '../../../../src/core/cc/route-probe.js'
import { FoundationPort } from '../../../../src/core/migration/foundation-port.js'
import { instancesHealth } from '../../../../src/core/migration/health.js'
import { isTransient } from '../../../../src/core/migration/port.js'
import { CountingTokens, type MockNetwork, mockNetwork, SleepRecorder } from '../support.js'
import { APP_GUID, CC_CORPUS, INSTANCE_APPS, SPACE_GUID, STAGING_CASES, STALE_TOKEN, stagingGuid } from './cc-corpus.js'
import { type Fixture, type ServedCorpus, serveCorpus } from './fixture.js'
import { ACCESS, EXPIRED_REFRESH, REFRESH_2016, REFRESH_OPAQUE, UAA_2016, UAA_CURRENT } from './uaa-corpus.js'

const CC = 'http://127.0.0.1:9'
/** UAA at its own origin on a real foundation; the corpus answers it here. */
const UAA = 'http://127.0.0.1:9'

let network: MockNetwork
let served: ServedCorpus
const used = new Set<string>()

beforeAll(async () => {
  network = await mockNetwork()
})
afterAll(() => network.close())

function serve(corpus: readonly Fixture[], origin = CC): void {
  network.reset()
  served = serveCorpus(network, origin, corpus)
}

afterEach(() => {
  for (const id of served.used) used.add(id)
  expect(served.unmatched, 'requests no fixture of the corpus answers').toEqual([])
})

function client(tokens = new CountingTokens(ACCESS)) {
  return new CcClient({ apiUrl: CC, auth: tokens, clock: new SleepRecorder() })
}

function port() {
  return new FoundationPort(client(), new RouteProbe())
}

describe('the CC client against a real CC', () => {
  it('reads /v2/info', async () => {
    serve(CC_CORPUS)
    const info = await new CcClient({ apiUrl: CC }).info()
    expect(info).toMatchObject({ apiVersion: '2.54.0', tokenEndpoint: 'https://uaa.sys.example.com' })
  })

  it('lists every app, at the page size the CC allows, following its pages', async () => {
    serve(CC_CORPUS)
    const apps = await client().apps()
    expect(apps.map((a) => [a.name, a.state, a.diego])).toEqual([
      ['accounts-api', 'STARTED', false],
      ['checkout-worker', 'STARTED', false],
      ['search', 'STOPPED', true],
    ])
    expect([...served.used].sort()).toEqual(['apps-page-1', 'apps-page-2', 'apps-page-size-refused'])
  })

  it('lists by state with no q=state, which a real CC refuses', async () => {
    serve(CC_CORPUS)
    const listing = await listApps(client(), { state: 'started' })
    expect(listing.apps.map((a) => [a.name, a.org, a.space])).toEqual([
      ['accounts-api', 'acme-retail', 'prod'],
      ['checkout-worker', 'acme-retail', 'prod'],
    ])
    expect(served.used.has('apps-q-state-refused')).toBe(false)
  })

  it('finds an app by its name in another case, as the CC matches names', async () => {
    serve(CC_CORPUS)
    const app = await findApp(client(), { name: 'Checkout-Worker', defaultSpaceGuid: SPACE_GUID })
    expect(app.guid).toBe(APP_GUID)
  })

  it('reads one app and flips its diego flag (201 Created)', async () => {
    serve(CC_CORPUS)
    const cc = client()
    expect((await cc.app(APP_GUID)).diego).toBe(false)
    expect((await cc.updateApp(APP_GUID, { diego: true })).diego).toBe(true)
  })

  it("keeps the CC's refusal of a developer's flip, with a hint", async () => {
    serve(CC_CORPUS)
    const error = (await client()
      .updateApp('d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70', { diego: true })
      .catch((e: unknown) => e)) as CfApiError
    expect(error).toMatchObject({ status: 403, code: 320005, errorCode: 'CF-BackendSelectionNotAuthorized' })
    expect(cfErrorHint(error)).toContain('users_can_select_backend')
  })

  it('tells a 404 (no such app) from a 403 (an app the user may not see)', async () => {
    serve(CC_CORPUS)
    const cc = client()
    const missing = (await cc.app('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e)) as CfApiError
    expect(missing).toMatchObject({ status: 404, errorCode: 'CF-AppNotFound' })
    const hidden = (await cc.app('e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b').catch((e: unknown) => e)) as CfApiError
    expect(hidden).toMatchObject({ status: 403, code: 10003, errorCode: 'CF-NotAuthorized' })
    expect(cfErrorHint(hidden)).not.toMatch(/not found/i)
  })

  it('refreshes an expired token once (401 CF-InvalidAuthToken) and asks again', async () => {
    serve(CC_CORPUS)
    const tokens = new CountingTokens(STALE_TOKEN, () => ACCESS)
    expect((await client(tokens).app(APP_GUID)).guid).toBe(APP_GUID)
    expect(tokens.refreshes).toBe(1)
    expect(served.used.has('token-expired')).toBe(true)
  })

  it('says a request without a token needs one (401 CF-NotAuthenticated)', async () => {
    serve(CC_CORPUS)
    const error = await new CcClient({ apiUrl: CC, clock: new SleepRecorder() })
      .organizations()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CfAuthError)
    expect((error as CfAuthError).errorCode).toBe('CF-NotAuthenticated')
  })

  it("reads an app's route with its domain inlined", async () => {
    serve(CC_CORPUS)
    expect(await client().appRoutes(APP_GUID)).toEqual([{ host: 'checkout', domain: 'apps.example.com', path: '' }])
  })

  it('reads orgs, spaces and feature flags', async () => {
    serve(CC_CORPUS)
    const cc = client()
    expect((await cc.organizations()).map((o) => o.name)).toEqual(['acme-retail'])
    expect((await cc.spaces()).map((s) => s.name)).toEqual(['prod'])
    expect((await cc.featureFlags()).find((f) => f.name === 'diego_docker')).toEqual({
      name: 'diego_docker',
      enabled: false,
    })
  })

  it("has no capacity to show on a real CC (404 CF-NotFound for cfctl's extension), and says so without failing", async () => {
    serve(CC_CORPUS)
    expect(await client().backendsCapacity()).toBeUndefined()
    expect(await port().capacity('diego')).toBeUndefined()
  })

  it('audits the diego flips among the audit.app.update events', async () => {
    serve(CC_CORPUS)
    const flips = await diegoFlips(client())
    expect(flips.map((f) => [f.appName, f.backend, f.actor, f.time, f.org, f.space])).toEqual([
      ['checkout-worker', 'diego', 'admin', '2016-04-08T14:40:01Z', 'acme-retail', 'prod'],
    ])
  })
})

describe("the migration's port against a real CC", () => {
  it('flips an app and reads it back', async () => {
    serve(CC_CORPUS)
    const p = port()
    await p.setDiego(APP_GUID, true)
    expect(await p.getApp(APP_GUID)).toEqual({
      guid: APP_GUID,
      name: 'checkout-worker',
      diego: false,
      state: 'STARTED',
      instances: 2,
    })
    expect(await p.hasRoute(APP_GUID)).toBe(true)
  })

  it.each([
    ['running on Diego', INSTANCE_APPS.running, 2, true, '2 of 2 instances RUNNING'],
    ["of the API docs' example, in every Diego state", APP_GUID, 4, false, '1 of 4 instances RUNNING'],
    ['running on a DEA, one still starting', INSTANCE_APPS.deaRunning, 2, false, 'index 1 STARTING'],
    ['crashed', INSTANCE_APPS.crashed, 2, false, 'index 0 CRASHED'],
    ['flapping', INSTANCE_APPS.flapping, 2, false, 'index 0 FLAPPING'],
    ['unplaceable', INSTANCE_APPS.placementFailed, 2, false, 'insufficient resources: memory'],
  ])('reads the instances of an app %s', async (_what, guid, desired, healthy, summary) => {
    serve(CC_CORPUS)
    const health = instancesHealth(await port().instances(guid), desired)
    expect(health.healthy).toBe(healthy)
    expect(health.summary).toContain(summary)
  })

  it('reads a stopped app (CF-InstancesError) as one with no instances', async () => {
    serve(CC_CORPUS)
    expect(await port().instances(INSTANCE_APPS.stopped)).toEqual([])
  })

  it.each(STAGING_CASES.map((c) => [c.errorCode, c.status] as const))(
    'meets %s (HTTP %i) on /instances as an app not staged, asked once, and reads its reason off the app',
    async (errorCode, status) => {
      serve(CC_CORPUS)
      const p = port()
      const guid = stagingGuid(errorCode)
      const error = (await p.instances(guid).catch((e: unknown) => e)) as AppNotStagedError
      expect(error).toBeInstanceOf(AppNotStagedError)
      expect(error).toMatchObject({ status, errorCode })
      expect(isTransient(error)).toBe(false)
      const app = await p.getApp(guid)
      expect(app.unstaged).toMatchObject({
        state: errorCode === 'CF-NotStaged' ? 'PENDING' : 'FAILED',
        errorCode,
      })
    },
  )
})

describe.each([
  ['2016', UAA_2016, REFRESH_2016],
  ['current', UAA_CURRENT, REFRESH_OPAQUE],
] as const)('UAA of %s', (era, corpus, refreshToken) => {
  const options = { clock: new SleepRecorder() }

  it('grants tokens for a password, a refresh token and a client', async () => {
    serve(corpus, UAA)
    const login = await requestToken(UAA, { type: 'password', username: 'admin', password: 'admin-secret-1' }, options)
    expect(login).toMatchObject({ accessToken: ACCESS, refreshToken, tokenType: 'bearer' })
    const refreshed = await requestToken(UAA, { type: 'refresh_token', refreshToken }, options)
    expect(refreshed.accessToken).toBe(ACCESS)
    const ci = await requestToken(
      UAA,
      { type: 'client_credentials', clientId: 'cfctl-ci', clientSecret: 'ci-secret-1' },
      options,
    )
    expect(ci.refreshToken).toBeUndefined()
  })

  it("blames a wrong password on the user's credentials, never the client cf, with what to check", async () => {
    serve(corpus, UAA)
    const error = (await requestToken(
      UAA,
      { type: 'password', username: 'admin', password: 'wrong-password-1' },
      options,
    ).catch((e: unknown) => e)) as CfAuthError
    expect(error.message).toBe('UAA rejected the credentials of user "admin" (UAA: Bad credentials)')
    expect(error.errorCode).toBe(era === '2016' ? 'unauthorized' : 'invalid_client')
    expect(error.hint).toContain('--client-credentials')
  })

  it('says an expired refresh token needs a new login, and never quotes the token', async () => {
    serve(corpus, UAA)
    const error = (await requestToken(UAA, { type: 'refresh_token', refreshToken: EXPIRED_REFRESH }, options).catch(
      (e: unknown) => e,
    )) as CfAuthError
    expect(error.message).toContain('rejected the refresh token')
    expect(error.message).not.toContain(EXPIRED_REFRESH)
    expect(error.hint).toBe('run: cfctl login')
  })

  it('names the client whose secret is wrong', async () => {
    serve(corpus, UAA)
    const error = (await requestToken(
      UAA,
      { type: 'client_credentials', clientId: 'cfctl-ci', clientSecret: 'wrong-secret' },
      options,
    ).catch((e: unknown) => e)) as CfAuthError
    expect(error.message).toContain('OAuth client "cfctl-ci"')
  })
})

describe('the corpus', () => {
  it('is used whole, except the answer to a query cfctl must never send', () => {
    const all = [...CC_CORPUS, ...UAA_2016, ...UAA_CURRENT].map((f) => f.id)
    expect(all.filter((id) => !used.has(id))).toEqual(['apps-q-state-refused'])
    for (const fixture of [...CC_CORPUS, ...UAA_2016, ...UAA_CURRENT]) expect(fixture.source.length).toBeGreaterThan(10)
  })
})
