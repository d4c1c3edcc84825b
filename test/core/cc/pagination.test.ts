import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CfSchemaError } from '../../../src/core/cc/index.js'
import { API, aClient, appResource, envelope, mockNetworkOfTests } from './support.js'

const network = mockNetworkOfTests()

/** A fleet of `total` apps served 100 a page, page n answering after `latency(n)` ms. */
function serveFleet(total: number, latency: (page: number) => number = () => 0) {
  const apps = Array.from({ length: total }, (_, i) => appResource({ name: `app-${String(i).padStart(5, '0')}` }))
  const pages: number[] = []
  const perPage: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  network.use(
    http.get(`${API}/v2/apps`, async ({ request }) => {
      const url = new URL(request.url)
      const page = Number(url.searchParams.get('page') ?? 1)
      const size = Number(url.searchParams.get('results-per-page') ?? 50)
      pages.push(page)
      perPage.push(url.searchParams.get('results-per-page') ?? '')
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await delay(latency(page))
      inFlight--
      const totalPages = Math.max(1, Math.ceil(total / size))
      return HttpResponse.json(envelope(apps.slice((page - 1) * size, page * size), page, totalPages, total))
    }),
  )
  return {
    names: apps.map((a) => a.entity.name),
    pages,
    perPage,
    get maxInFlight() {
      return maxInFlight
    },
  }
}

describe('the paginated walk', () => {
  it('reads page 1 with 100 results a page, then every other page, and returns all apps in order', async () => {
    const fleet = serveFleet(950)
    const apps = await aClient().apps()
    expect(apps.map((a) => a.name)).toEqual(fleet.names)
    expect(fleet.pages[0]).toBe(1)
    expect([...fleet.pages].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(fleet.perPage)).toEqual(new Set(['100']))
  })

  it('hands each resource of a list to map, and keeps only what map returns, in order', async () => {
    const fleet = serveFleet(250)
    const schema = z.object({ entity: z.object({ name: z.string() }) })
    const seen: unknown[] = []
    const names = await aClient().listMapped('/v2/apps', schema, (app) => {
      seen.push(app)
      return app.entity.name
    })
    expect(names).toEqual(fleet.names)
    expect(seen[0]).toEqual({ entity: { name: fleet.names[0] } })
  })

  it('keeps the CC order when later pages answer first', async () => {
    // Page 2 is the slowest, page 10 the fastest: completion order is the reverse of page order.
    const fleet = serveFleet(1000, (page) => (page === 1 ? 0 : (12 - page) * 15))
    const apps = await aClient({ pageConcurrency: 9 }).apps()
    expect(apps.map((a) => a.name)).toEqual(fleet.names)
  })

  it('fetches the pages after the first side by side, never more than pageConcurrency at once', async () => {
    const fleet = serveFleet(2000, (page) => (page === 1 ? 0 : 20))
    await aClient({ pageConcurrency: 4 }).apps()
    expect(fleet.maxInFlight).toBe(4)
    expect(fleet.pages).toHaveLength(20)
  })

  it('asks for one page only when the list fits on it, and none more for an empty list', async () => {
    const small = serveFleet(0)
    expect(await aClient().apps()).toEqual([])
    expect(small.pages).toEqual([1])
  })

  it('follows on past the page count of page 1 when the list grew during the walk', async () => {
    const first = Array.from({ length: 100 }, (_, i) => appResource({ name: `a${i}` }))
    const second = Array.from({ length: 100 }, (_, i) => appResource({ name: `b${i}` }))
    const third = [appResource({ name: 'c0' })]
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        // Page 1 counted 2 pages; by the time page 2 is read a third exists.
        if (page === 1) return HttpResponse.json(envelope(first, 1, 2, 200))
        if (page === 2) return HttpResponse.json(envelope(second, 2, 3, 201))
        return HttpResponse.json(envelope(third, 3, 3, 201))
      }),
    )
    const apps = await aClient().apps()
    expect(apps).toHaveLength(201)
    expect(apps.at(-1)!.name).toBe('c0')
  })

  it('keeps an app once when the list shifted and it shows up on two pages', async () => {
    const shifted = appResource({ name: 'shifted' })
    const page1 = [...Array.from({ length: 99 }, (_, i) => appResource({ name: `a${i}` })), shifted]
    const page2 = [shifted, appResource({ name: 'last' })]
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        return HttpResponse.json(page === 1 ? envelope(page1, 1, 2, 200) : envelope(page2, 2, 2, 200))
      }),
    )
    const names = (await aClient().apps()).map((a) => a.name)
    expect(names.filter((n) => n === 'shifted')).toHaveLength(1)
    expect(names.at(-1)).toBe('last')
    expect(names).toHaveLength(101)
  })

  it('names the page, the index and the field when one resource fails its schema', async () => {
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        const apps = Array.from({ length: page === 1 ? 100 : 5 }, () => appResource())
        if (page === 2) apps[3] = appResource({ diego: 'yes' })
        return HttpResponse.json(envelope(apps, page, 2, 105))
      }),
    )
    const error = await aClient()
      .apps()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CfSchemaError)
    const schemaError = error as CfSchemaError
    expect(schemaError.field).toBe('resources[3].entity.diego')
    expect(schemaError.path).toBe('/v2/apps (page 2)')
    expect(schemaError.message).toMatch(/resources\[3\]\.entity\.diego: .*expected boolean/)
  })

  it('names the envelope field when the page itself is not an envelope', async () => {
    network.use(http.get(`${API}/v2/apps`, () => HttpResponse.json({ resources: [], total_results: 0 })))
    const error = (await aClient()
      .apps()
      .catch((e: unknown) => e)) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.field).toBe('total_pages')
  })

  it('reads a mapped list from the bytes of each page, keeping only what its schema reads', async () => {
    // Members the schema does not read are stepped over, so a page that the full read would parse the same
    // way gives the same records, and a field the schema reads is checked as before.
    const fleet = serveFleet(350)
    const schema = z.object({ metadata: z.object({ guid: z.string() }), entity: z.object({ name: z.string() }) })
    const seen: unknown[] = []
    const names = await aClient({ pageConcurrency: 3 }).listMapped('/v2/apps', schema, (app) => {
      seen.push(app)
      return app.entity.name
    })
    expect(names).toEqual(fleet.names)
    expect(Object.keys(seen[0] as object)).toEqual(['metadata', 'entity'])
    expect((seen[0] as { metadata: object }).metadata).toEqual({ guid: expect.any(String) })
  })

  it('names the page, the index and the field when a resource of a mapped list fails its schema', async () => {
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        const apps = Array.from({ length: page === 1 ? 100 : 5 }, () => appResource())
        if (page === 2) apps[3] = appResource({ memory: '256' })
        return HttpResponse.json(envelope(apps, page, 2, 105))
      }),
    )
    const schema = z.object({ entity: z.object({ name: z.string(), memory: z.number() }) })
    const error = (await aClient()
      .listMapped('/v2/apps', schema, (app) => app.entity.memory)
      .catch((e: unknown) => e)) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.field).toBe('resources[3].entity.memory')
    expect(error.path).toBe('/v2/apps (page 2)')
  })

  it('refuses a page of a mapped list that is not JSON, quoting its start', async () => {
    network.use(
      http.get(
        `${API}/v2/apps`,
        () => new HttpResponse('{"total_pages":1,"resources":[{"entity":{"name":"web"}},', { status: 200 }),
      ),
    )
    const error = (await aClient()
      .listMapped('/v2/apps', z.object({ entity: z.object({ name: z.string() }) }), (app) => app.entity.name)
      .catch((e: unknown) => e)) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.message).toMatch(/JSON, got "\{"total_pages":1/)
  })

  it('stops asking for pages once one has failed, and reports that failure', async () => {
    const asked: number[] = []
    network.use(
      http.get(`${API}/v2/apps`, async ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page'))
        asked.push(page)
        if (page === 2)
          return HttpResponse.json({ code: 10001, description: 'boom', error_code: 'UnknownError' }, { status: 500 })
        await delay(5)
        return HttpResponse.json(envelope([appResource()], page, 50, 5000))
      }),
    )
    await expect(aClient({ pageConcurrency: 2 }).apps()).rejects.toMatchObject({ status: 500, description: 'boom' })
    expect(asked.length).toBeLessThan(10)
  })
})

describe('list filters', () => {
  function recordQueries() {
    const queries: string[][] = []
    network.use(
      http.get(`${API}/v2/apps`, ({ request }) => {
        queries.push(new URL(request.url).searchParams.getAll('q'))
        return HttpResponse.json(envelope([], 1, 1))
      }),
    )
    return queries
  }

  it('sends one q parameter per filter', async () => {
    const queries = recordQueries()
    await aClient().apps({ diego: false, spaceGuid: 's-1', name: 'web', stackGuid: 'st-1' })
    expect(queries[0]!.sort()).toEqual(['diego:false', 'name:web', 'space_guid:s-1', 'stack_guid:st-1'].sort())
  })

  it('asks for several names with name IN, in batches that keep the URL short', async () => {
    const queries = recordQueries()
    const names = Array.from({ length: 120 }, (_, i) => `app-${i}`)
    await aClient().apps({ names, orgGuid: 'o-1' })
    expect(queries).toHaveLength(3)
    for (const q of queries) expect(q).toContain('organization_guid:o-1')
    const inFilters = queries.map((q) => q.find((f) => f.startsWith('name IN '))!)
    expect(inFilters.flatMap((f) => f.slice('name IN '.length).split(','))).toEqual(names)
  })

  it('sends nothing for an empty list of names', async () => {
    const queries = recordQueries()
    expect(await aClient().apps({ names: [] })).toEqual([])
    expect(queries).toHaveLength(0)
  })
})
