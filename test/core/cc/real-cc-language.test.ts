// The client asks a CC only what a real cloud_controller_ng (API 2.54, 067f553) understands: the `q` keys
// of apps_controller.rb, a page size within the CC's max_results_per_page; and it passes on the
// X-Cf-Warnings the CC adds (base_controller.rb add_warning).
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { APP_QUERY_KEYS, nameFilters, sameName } from '../../../src/core/cc/query.js'
import { API, aClient, appResource, cfError, envelope, mockNetworkOfTests } from './support.js'

const network = mockNetworkOfTests()

/** A /v2/apps that, like a real CC, rejects a q key it does not know with 400 CF-BadQueryParameter. */
function strictApps(apps: ReturnType<typeof appResource>[], maxPerPage = 100) {
  const asked: URLSearchParams[] = []
  network.use(
    http.get(`${API}/v2/apps`, ({ request }) => {
      const params = new URL(request.url).searchParams
      asked.push(params)
      for (const q of params.getAll('q')) {
        const key = /^[a-z_]+/.exec(q)?.[0] ?? q
        if (!APP_QUERY_KEYS.includes(key))
          return HttpResponse.json(cfError(10005, 'CF-BadQueryParameter', `The query parameter is invalid: ${key}`), {
            status: 400,
          })
      }
      const size = Number(params.get('results-per-page') ?? 50)
      if (size > maxPerPage)
        return HttpResponse.json(
          cfError(
            10005,
            'CF-BadQueryParameter',
            `The query parameter is invalid: results_per_page must be <= ${maxPerPage}`,
          ),
          { status: 400 },
        )
      const page = Number(params.get('page') ?? 1)
      const pages = Math.max(1, Math.ceil(apps.length / size))
      return HttpResponse.json(envelope(apps.slice((page - 1) * size, page * size), page, pages, apps.length))
    }),
  )
  return asked
}

describe('q filters a real CC accepts', () => {
  it('matches --state on the client and never sends q=state', async () => {
    const asked = strictApps([
      appResource({ name: 'web', state: 'STARTED' }),
      appResource({ name: 'batch', state: 'STOPPED' }),
      appResource({ name: 'api', state: 'STARTED', diego: true }),
    ])
    const started = await aClient().apps({ state: 'STARTED' })
    expect(started.map((a) => a.name)).toEqual(['web', 'api'])
    const stoppedOnDea = await aClient().apps({ state: 'STOPPED', diego: false })
    expect(stoppedOnDea.map((a) => a.name)).toEqual(['batch'])
    for (const params of asked) for (const q of params.getAll('q')) expect(q).not.toMatch(/^state/)
  })

  it('matches --state on the client for a list of names too', async () => {
    strictApps([appResource({ name: 'web', state: 'STOPPED' }), appResource({ name: 'api', state: 'STARTED' })])
    expect((await aClient().apps({ names: ['web', 'api'], state: 'STOPPED' })).map((a) => a.name)).toEqual(['web'])
  })

  it('asks for a name once whatever its case, as the CC compares names without case', () => {
    expect(nameFilters(['Web', 'web', 'WEB', 'api'])).toEqual(['name IN Web,api'])
    expect(sameName('Checkout-Worker', 'checkout-worker')).toBe(true)
    expect(sameName('web', 'web2')).toBe(false)
  })
})

describe('the page size', () => {
  it('follows a CC that allows fewer than 100 results a page, and keeps to it', async () => {
    const apps = Array.from({ length: 120 }, (_, i) => appResource({ name: `app-${String(i).padStart(3, '0')}` }))
    const asked = strictApps(apps, 50)
    const cc = aClient()
    const listed = await cc.apps()
    expect(listed.map((a) => a.name)).toEqual(apps.map((a) => a.entity.name))
    expect(asked.map((p) => p.get('results-per-page'))).toEqual(['100', '50', '50', '50'])
    asked.length = 0
    await cc.apps()
    expect(new Set(asked.map((p) => p.get('results-per-page')))).toEqual(new Set(['50']))
  })

  it('passes on a CF-BadQueryParameter that is not about the page size', async () => {
    network.use(
      http.get(`${API}/v2/apps`, () =>
        HttpResponse.json(cfError(10005, 'CF-BadQueryParameter', 'The query parameter is invalid: name'), {
          status: 400,
        }),
      ),
    )
    await expect(aClient().apps()).rejects.toMatchObject({ status: 400, errorCode: 'CF-BadQueryParameter' })
  })
})

describe('X-Cf-Warnings', () => {
  it('hands each warning to onWarning, decoded as the CC escapes it, once per text', async () => {
    const apps = Array.from({ length: 150 }, () => appResource())
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        return HttpResponse.json(envelope(apps.slice((page - 1) * 100, page * 100), page, 2, 150), {
          headers: { 'X-Cf-Warnings': 'Endpoint+deprecated,Warning%3A+Warning+message+may+go+here.' },
        })
      }),
    )
    const warnings: string[] = []
    await aClient({ onWarning: (w) => warnings.push(w) }).apps()
    expect(warnings).toEqual(['Endpoint deprecated', 'Warning: Warning message may go here.'])
  })

  it('passes on the warnings of an error answer too', async () => {
    network.use(
      http.get(`${API}/v2/apps/:guid`, () =>
        HttpResponse.json(cfError(100004, 'CF-AppNotFound', 'The app could not be found: x'), {
          status: 404,
          headers: { 'X-Cf-Warnings': 'Endpoint+deprecated' },
        }),
      ),
    )
    const warnings: string[] = []
    await expect(aClient({ onWarning: (w) => warnings.push(w) }).app('x')).rejects.toMatchObject({ status: 404 })
    expect(warnings).toEqual(['Endpoint deprecated'])
  })
})
