// A fixture of the contract corpus: one request as a real client sends it and the answer a real Cloud
// Controller or UAA gives, with where that answer is documented. `serveCorpus` answers through msw from a
// corpus, and records which fixtures were used and which requests matched none.
import { HttpResponse, http } from 'msw'
import type { MockNetwork } from '../support.js'

export interface Fixture {
  id: string
  /** Where the answer comes from: the source file, spec or document of the real service. */
  source: string
  request: {
    method: 'GET' | 'PUT' | 'POST'
    path: string
    /** Parameters the request must carry. `q` lists every filter; without `partial`, exactly these. */
    query?: Record<string, string | string[]>
    /** The request's `q` filters need only include those listed. */
    partial?: boolean
    /** A JSON body the request must carry, exactly. */
    body?: unknown
    /** Form fields the request must carry (UAA's token requests). */
    form?: Record<string, string>
    /** The HTTP Basic credentials (`client:secret`, UAA's client authentication) the request must carry. */
    basic?: string
    /** The bearer token the request must carry. */
    bearer?: string
  }
  response: { status: number; headers?: Record<string, string>; body: unknown }
}

export interface ServedCorpus {
  used: Set<string>
  unmatched: string[]
}

export function serveCorpus(network: MockNetwork, origin: string, corpus: readonly Fixture[]): ServedCorpus {
  const served: ServedCorpus = { used: new Set(), unmatched: [] }
  network.use(
    http.all(`${origin}/*`, async ({ request }) => {
      const url = new URL(request.url)
      const text = request.method === 'GET' ? '' : await request.text()
      const fixture = corpus.find((f) => matches(f, request, url, text))
      if (!fixture) {
        served.unmatched.push(`${request.method} ${url.pathname}${url.search}`)
        return HttpResponse.json({ error: 'no fixture for this request' }, { status: 599 })
      }
      served.used.add(fixture.id)
      const { status, headers, body } = fixture.response
      return HttpResponse.json(body as never, { status, headers })
    }),
  )
  return served
}

function matches(fixture: Fixture, request: Request, url: URL, text: string): boolean {
  const want = fixture.request
  if (want.method !== request.method || want.path !== url.pathname) return false
  const query = want.query ?? {}
  const q = url.searchParams.getAll('q')
  const wantQ = query.q === undefined ? [] : Array.isArray(query.q) ? query.q : [query.q]
  if (want.partial ? !wantQ.every((f) => q.includes(f)) : !sameSet(q, wantQ)) return false
  for (const [key, value] of Object.entries(query)) {
    if (key === 'q') continue
    if (url.searchParams.get(key) !== value) return false
  }
  if (want.body !== undefined && JSON.stringify(safeJson(text)) !== JSON.stringify(want.body)) return false
  if (want.form !== undefined) {
    const form = new URLSearchParams(text)
    for (const [key, value] of Object.entries(want.form)) if (form.get(key) !== value) return false
  }
  const authorization = request.headers.get('authorization') ?? ''
  if (want.basic !== undefined) {
    const basic = authorization.replace(/^Basic /i, '')
    if (Buffer.from(basic, 'base64').toString() !== want.basic) return false
  }
  if (want.bearer !== undefined && authorization.replace(/^bearer /i, '') !== want.bearer) return false
  return true
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
