// The CC's X-Cf-Warnings reach the operator: a line on stderr, or a {"type":"warning"} line on stderr under
// --json so stdout stays one JSON document. Against a stand-in CC on 127.0.0.1 that adds the header as
// cloud_controller_ng's base_controller.rb add_warning does (CGI-escaped, comma-joined).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appResource, envelope, fakeJwt, type RawServer, rawServer } from '../core/cc/support.js'
import { aCliHome, type CliHome } from './run-cli.js'

let cc: RawServer
let home: CliHome

beforeAll(async () => {
  cc = await rawServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    const json = (body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(body))
    }
    if (path === '/v2/info')
      return json({ api_version: '2.54.0', authorization_endpoint: cc.url, token_endpoint: cc.url })
    if (path === '/oauth/token')
      return json({
        access_token: fakeJwt('admin'),
        token_type: 'bearer',
        expires_in: 599,
        scope: 'cloud_controller.admin',
      })
    if (path === '/v2/apps')
      return json(envelope([appResource({ name: 'web' })], 1, 1), {
        'x-cf-warnings': 'Endpoint+deprecated,Warning%3A+apps+listing+will+change',
      })
    if (path === '/v2/organizations' || path === '/v2/spaces') return json(envelope([], 1, 1))
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ code: 10000, description: 'Unknown request', error_code: 'CF-NotFound' }))
  })
  home = aCliHome()
  const login = await home.run(['login', '-a', cc.url, '-u', 'admin', '-p', 'admin-secret-1'])
  expect(login.code, login.stderr).toBe(0)
}, 60_000)

afterAll(() => cc?.close())

describe('X-Cf-Warnings', () => {
  it('are shown on stderr', async () => {
    const result = await home.run(['apps'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('warning: Endpoint deprecated')
    expect(result.stderr).toContain('warning: Warning: apps listing will change')
    expect(result.stdout).toContain('web')
  }, 60_000)

  it('are warning events on stderr under --json, leaving stdout one JSON document', async () => {
    const result = await home.run(['apps', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const events = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
    expect(events).toContainEqual({ type: 'warning', message: 'Endpoint deprecated' })
    expect(JSON.parse(result.stdout).map((a: { name: string }) => a.name)).toEqual(['web'])
  }, 60_000)
})
