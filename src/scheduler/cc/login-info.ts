// UAA's login info: `GET /login` as the UAA (and the login server in front of it) answered it in 2016
// (LoginInfoEndpoint, UAA 3.x). Every cf CLI v6 login reads it from /v2/info's authorization_endpoint
// first: `links.uaa` says where tokens come from, `prompts` what `cf login` asks for. A JSON Accept
// gets the model as JSON; anything else gets the login page, here a minimal one.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../clock.js'

/** The UAA release of cf-release v233 (spring 2016), the era of API 2.54. */
export const UAA_VERSION = '3.3.0'

/**
 * The JSON model of `/login` for a UAA and login server both at `baseUrl`. UAA drops its UI-only
 * links (`createAccountLink`, `forgotPasswordLink`) from the JSON; the `passcode` prompt is left out
 * while no SAML or OAuth identity provider is configured, as here.
 */
export function loginInfoBody(baseUrl: string, now: number): Record<string, unknown> {
  const host = new URL(baseUrl).host
  return {
    app: { version: UAA_VERSION },
    links: { uaa: baseUrl, passwd: '/forgot_password', login: baseUrl, register: '/create_account' },
    zone_name: 'uaa',
    entityID: host,
    commit_id: 'cfctl',
    idpDefinitions: {},
    prompts: { username: ['text', 'Email'], password: ['password', 'Password'] },
    // LoginInfoEndpoint's fallback when git.properties has no commit time: now, as yyyy/MM/dd HH:mm:ss.
    timestamp: new Date(now).toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', '/'),
  }
}

/** Whether the request asks for JSON, as Spring's `headers = "Accept=application/json"` mapping decides. */
function wantsJson(req: IncomingMessage): boolean {
  return /application\/json/i.test(req.headers.accept ?? '')
}

export function handleLoginInfo(req: IncomingMessage, res: ServerResponse, baseUrl: string, clock: Clock): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = JSON.stringify({
      error: 'method_not_allowed',
      error_description: `Request method '${req.method}' not supported`,
    })
    res.writeHead(405, {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': Buffer.byteLength(body),
      Allow: 'GET',
    })
    res.end(body)
    return
  }
  if (wantsJson(req)) {
    const body = JSON.stringify(loginInfoBody(baseUrl, clock.now()))
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  const page =
    '<!DOCTYPE html><html><head><title>Cloud Foundry</title></head><body>' +
    '<form action="/login.do" method="post"><input name="username" type="text" placeholder="Email">' +
    '<input name="password" type="password" placeholder="Password"><input type="submit" value="Sign in"></form>' +
    '</body></html>'
  res.writeHead(200, { 'Content-Type': 'text/html;charset=UTF-8', 'Content-Length': Buffer.byteLength(page) })
  res.end(req.method === 'HEAD' ? undefined : page)
}
