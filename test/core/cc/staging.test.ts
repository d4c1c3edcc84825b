// Apps that are not staged, as a real CC shows them: /v2/apps/:guid/instances answers the staging error
// (instances_controller.rb of cloud_controller_ng 067f553, codes of vendor/errors/v2.yml) and the app's
// entity carries package_state and staging_failed_reason. The migration's port turns each into one clear
// AppNotStagedError, never retried, the staging 504 included.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { AppNotStagedError, CcClient, STAGING_ERRORS, unstagedOf } from '../../../src/core/cc/index.js'
import { RouteProbe } from '../../../src/core/cc/route-probe.js'
import { FoundationPort } from '../../../src/core/migration/foundation-port.js'
import { isTransient } from '../../../src/core/migration/port.js'
import { API, appResource, CountingTokens, cfError, mockNetworkOfTests, SleepRecorder } from './support.js'

const network = mockNetworkOfTests()

function port() {
  const clock = new SleepRecorder()
  const client = new CcClient({ apiUrl: API, auth: new CountingTokens('t'), clock })
  return { port: new FoundationPort(client, new RouteProbe()), clock }
}

/** The body a real CC renders for a staging error of /instances: the message with 'cannot get instances…'. */
function stagingBody(errorCode: string) {
  const { code, message } = STAGING_ERRORS[errorCode]!
  return cfError(code, errorCode, message.replace('%s', 'cannot get instances since staging failed'))
}

const CASES = [
  ['CF-StagingError', 400, 'FAILED'],
  ['CF-NotStaged', 400, 'PENDING'],
  ['CF-NoAppDetectedError', 400, 'FAILED'],
  ['CF-BuildpackCompileFailed', 400, 'FAILED'],
  ['CF-BuildpackReleaseFailed', 400, 'FAILED'],
  ['CF-StagingTimeExpired', 504, 'FAILED'],
  ['CF-InsufficientResources', 400, 'FAILED'],
  ['CF-NoCompatibleCell', 400, 'FAILED'],
] as const

describe('the port meets every staging error of /v2/apps/:guid/instances', () => {
  it.each(CASES)('%s (HTTP %i) is a %s app, asked once', async (errorCode, status, state) => {
    let asked = 0
    network.use(
      http.get(`${API}/v2/apps/:guid/instances`, () => {
        asked++
        return HttpResponse.json(stagingBody(errorCode), { status })
      }),
    )
    const { port: p, clock } = port()
    const error = (await p.instances('app-1').catch((e: unknown) => e)) as AppNotStagedError
    expect(error).toBeInstanceOf(AppNotStagedError)
    expect(error.unstaged.state).toBe(state)
    expect(error.unstaged.errorCode).toBe(errorCode)
    expect(error.status).toBe(status)
    expect(error.message).toContain(state === 'PENDING' ? 'staging has not finished' : errorCode)
    expect(isTransient(error)).toBe(false)
    expect(asked).toBe(1)
    expect(clock.sleeps).toEqual([])
  })

  it('still reads a stopped app (CF-InstancesError) as one with no instances', async () => {
    network.use(
      http.get(`${API}/v2/apps/:guid/instances`, () =>
        HttpResponse.json(
          cfError(
            220001,
            'CF-InstancesError',
            'Instances error: Request failed for app: web as the app is in stopped state.',
          ),
          { status: 400 },
        ),
      ),
    )
    expect(await port().port.instances('app-1')).toEqual([])
  })
})

describe('the staging state of the app entity', () => {
  it('reads a failed staging with its reason, and a pending one, off getApp', async () => {
    const apps: Record<string, ReturnType<typeof appResource>> = {
      failed: appResource({
        guid: 'failed',
        package_state: 'FAILED',
        staging_failed_reason: 'BuildpackCompileFailed',
        staging_failed_description: 'App staging failed in the buildpack compile phase',
      }),
      pending: appResource({ guid: 'pending', package_state: 'PENDING' }),
      staged: appResource({ guid: 'staged' }),
    }
    network.use(http.get(`${API}/v2/apps/:guid`, ({ params }) => HttpResponse.json(apps[params.guid as string]!)))
    const { port: p } = port()
    expect((await p.getApp('failed')).unstaged).toEqual({
      state: 'FAILED',
      errorCode: 'CF-BuildpackCompileFailed',
      reason: 'staging failed: App staging failed in the buildpack compile phase (CF-BuildpackCompileFailed)',
    })
    expect((await p.getApp('pending')).unstaged).toMatchObject({ state: 'PENDING', errorCode: 'CF-NotStaged' })
    expect((await p.getApp('staged')).unstaged).toBeUndefined()
  })

  it('names StagingError when a FAILED app gives no reason, as the CC defaults it', () => {
    expect(unstagedOf({ packageState: 'FAILED' })).toMatchObject({ errorCode: 'CF-StagingError' })
  })
})

describe('retrying', () => {
  it("does not retry the CC's own 504 (CF-StagingTimeExpired), but does a gateway's", async () => {
    let asked = 0
    network.use(
      http.get(`${API}/v2/apps/:guid`, ({ params }) => {
        asked++
        if (params.guid === 'staging') return HttpResponse.json(stagingBody('CF-StagingTimeExpired'), { status: 504 })
        return new HttpResponse('504 Gateway Time-out', { status: 504 })
      }),
    )
    const clock = new SleepRecorder()
    const client = new CcClient({ apiUrl: API, auth: new CountingTokens('t'), clock, random: () => 0 })
    await expect(client.app('staging')).rejects.toMatchObject({ status: 504, errorCode: 'CF-StagingTimeExpired' })
    expect(asked).toBe(1)
    asked = 0
    await expect(client.app('gateway')).rejects.toMatchObject({ status: 504 })
    expect(asked).toBe(5)
  })

  it('tells the runner a staging 504 is not transient, a bare 504 is', () => {
    expect(isTransient({ status: 504, errorCode: 'CF-StagingTimeExpired' })).toBe(false)
    expect(isTransient({ status: 504, errorCode: 'UnknownError' })).toBe(true)
    expect(isTransient({ status: 503, errorCode: 'CF-InstancesUnavailable' })).toBe(true)
    expect(isTransient({ status: 502, errorCode: 'CF-ServiceGatewayError' })).toBe(true)
  })
})
