import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { CcClient, CfApiError } from '../../../src/core/cc/index.js'
import { API, appResource, CountingTokens, envelope, mockNetworkOfTests, SleepRecorder } from './support.js'

const network = mockNetworkOfTests()

function setup(options: { retries?: number; maxRetryAfterMs?: number } = {}) {
  const clock = new SleepRecorder()
  // random() = 1 puts every backoff at its ceiling: 250, 500, 1000, 2000 ms.
  const client = new CcClient({ apiUrl: API, auth: new CountingTokens('t'), clock, random: () => 1, ...options })
  return { clock, client }
}

/** /v2/apps/:guid answers `failures` in turn, then the app. */
function failThenServe(failures: Array<{ status: number; headers?: Record<string, string> }>) {
  const app = appResource({ name: 'web' })
  let calls = 0
  network.use(
    http.get(`${API}/v2/apps/:guid`, () => {
      const failure = failures[calls++]
      if (failure) {
        return HttpResponse.json(
          { code: 10001, description: `status ${failure.status}`, error_code: 'CF-ServiceUnavailable' },
          { status: failure.status, headers: failure.headers },
        )
      }
      return HttpResponse.json(app)
    }),
  )
  return {
    app,
    get calls() {
      return calls
    },
  }
}

describe('retries', () => {
  for (const status of [429, 502, 503, 504]) {
    it(`tries a GET again after ${status}, waiting a growing backoff`, async () => {
      const { clock, client } = setup()
      const served = failThenServe([{ status }, { status }])
      const app = await client.app(served.app.metadata.guid)
      expect(app.name).toBe('web')
      expect(served.calls).toBe(3)
      expect(clock.sleeps).toEqual([250, 500])
    })
  }

  it('does not try again after a 500, a 404 or a 400', async () => {
    for (const status of [500, 404, 400]) {
      network.reset()
      const { clock, client } = setup()
      const served = failThenServe([{ status }])
      await expect(client.app('x')).rejects.toBeInstanceOf(CfApiError)
      expect(served.calls).toBe(1)
      expect(clock.sleeps).toEqual([])
    }
  })

  it('gives up after `retries` tries more and reports the last answer', async () => {
    const { clock, client } = setup({ retries: 3 })
    const served = failThenServe(Array.from({ length: 10 }, () => ({ status: 503 })))
    const error = (await client.app('x').catch((e: unknown) => e)) as CfApiError
    expect(error).toBeInstanceOf(CfApiError)
    expect(error.status).toBe(503)
    expect(served.calls).toBe(4)
    expect(clock.sleeps).toEqual([250, 500, 1000])
  })

  it('spreads waits with jitter between half and all of the ceiling', async () => {
    const clock = new SleepRecorder()
    const client = new CcClient({ apiUrl: API, auth: new CountingTokens('t'), clock, random: () => 0 })
    failThenServe([{ status: 502 }, { status: 502 }, { status: 502 }])
    await client.app('x')
    expect(clock.sleeps).toEqual([125, 250, 500])
  })

  it('waits the seconds of a Retry-After instead of its own backoff', async () => {
    const { clock, client } = setup()
    failThenServe([
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 503, headers: { 'Retry-After': '0' } },
    ])
    await client.app('x')
    expect(clock.sleeps).toEqual([7000, 0])
  })

  it('waits until the HTTP date of a Retry-After, read on the injected clock', async () => {
    const { clock, client } = setup()
    const at = new Date(clock.now() + 42_000).toUTCString()
    failThenServe([{ status: 503, headers: { 'Retry-After': at } }])
    await client.app('x')
    expect(clock.sleeps).toEqual([42_000])
  })

  it('does not wait out a Retry-After longer than maxRetryAfterMs: it fails with the answer at once', async () => {
    const { clock, client } = setup({ maxRetryAfterMs: 60_000 })
    const served = failThenServe([{ status: 429, headers: { 'Retry-After': '3600' } }])
    await expect(client.app('x')).rejects.toMatchObject({ status: 429 })
    expect(served.calls).toBe(1)
    expect(clock.sleeps).toEqual([])
  })

  it('tries a PUT of the diego flag again after a 502: the update is idempotent', async () => {
    const { clock, client } = setup()
    const app = appResource({ diego: true })
    const bodies: unknown[] = []
    network.use(
      http.put(`${API}/v2/apps/:guid`, async ({ request }) => {
        bodies.push(await request.json())
        if (bodies.length === 1) return new HttpResponse('bad gateway', { status: 502 })
        return HttpResponse.json(app, { status: 201 })
      }),
    )
    const updated = await client.updateApp(app.metadata.guid, { diego: true })
    expect(updated.diego).toBe(true)
    expect(bodies).toEqual([{ diego: true }, { diego: true }])
    expect(clock.sleeps).toEqual([250])
  })

  it('retries each page of a list on its own', async () => {
    const { clock, client } = setup()
    const seen = new Map<number, number>()
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        seen.set(page, (seen.get(page) ?? 0) + 1)
        if (page === 3 && seen.get(page) === 1) return new HttpResponse(null, { status: 504 })
        return HttpResponse.json(envelope([appResource({ name: `p${page}` })], page, 4, 4))
      }),
    )
    const apps = await client.apps()
    expect(apps.map((a) => a.name)).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(seen.get(3)).toBe(2)
    expect(clock.sleeps).toEqual([250])
  })
})
