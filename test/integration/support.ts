// Plain HTTP against a real foundation, with undici (global fetch drops the Host header, which the
// router routes on). Answers are parsed once here; tests assert on their shapes.
import { request } from 'undici'
import { callOf } from '../scheduler/cc/support.js'

/** Parsed JSON that tests assert on shape by shape; typed loosely on purpose, here only. */
// biome-ignore lint/suspicious/noExplicitAny: answers are checked by the assertions, not by the compiler
export type Json = any

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Json
  text: string
}

async function answer(res: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const text = await res.body.text()
  let body: Json
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: res.statusCode, headers: res.headers, body, text }
}

/** The cf CLI's login: password grant for client `cf` with an empty secret (HTTP Basic `cf:`). */
export async function login(apiUrl: string, username: string, password: string): Promise<Answer> {
  const res = await request(`${apiUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  })
  return answer(res)
}

/** An access token for a user, or a thrown error saying why not. */
export async function tokenFor(apiUrl: string, username: string, password: string): Promise<string> {
  const res = await login(apiUrl, username, password)
  if (res.status !== 200) throw new Error(`login as ${username} answered ${res.status}: ${res.text}`)
  return res.body.access_token as string
}

/** A CC call with a bearer token (or none); `rawBody` is sent as is, `body` as JSON. */
export async function api(
  apiUrl: string,
  path: string,
  token: string | null,
  init: { method?: 'GET' | 'PUT' | 'DELETE' | 'POST'; body?: unknown; rawBody?: string } = {},
): Promise<Answer> {
  return answer(await request(`${apiUrl}${path}`, { method: init.method ?? 'GET', ...callOf(token, init) }))
}

/** A request through the router for `hostname` (sent as the Host header). */
export async function viaRouter(routerUrl: string, hostname: string): Promise<Answer> {
  return answer(await request(`${routerUrl}/`, { headers: { host: hostname } }))
}

/** Every resource of a list, following next_url from `path` to the end; also the pages' totals. */
export async function walk(
  apiUrl: string,
  path: string,
  token: string,
): Promise<{ resources: Json[]; totals: number[]; pages: number }> {
  const resources: Json[] = []
  const totals: number[] = []
  let next: string | null = path
  let pages = 0
  while (next !== null) {
    const res = await api(apiUrl, next, token)
    if (res.status !== 200) throw new Error(`GET ${next} answered ${res.status}: ${res.text}`)
    resources.push(...res.body.resources)
    totals.push(res.body.total_results)
    next = res.body.next_url
    pages++
    if (pages > 10_000) throw new Error('next_url never ends')
  }
  return { resources, totals, pages }
}
