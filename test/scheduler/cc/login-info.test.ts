// UAA's login info at /v2/info's authorization_endpoint: what every cf CLI v6 login reads first
// (GET {authorization_endpoint}/login, Accept: application/json), as UAA's LoginInfoEndpoint answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Foundation, type Json, startFoundation } from './support.js'

describe('GET {authorization_endpoint}/login', () => {
  let f: Foundation
  beforeAll(async () => {
    f = await startFoundation()
  })
  afterAll(() => f.close())

  it('answers the JSON model the cf CLI reads: links.uaa, links.login, the prompts and app.version', async () => {
    const info = await call(f.url, '/v2/info', null)
    const res = await fetch(`${info.body.authorization_endpoint}/login`, {
      headers: { accept: 'application/json', 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await res.json()) as Json
    expect(body.links).toEqual({
      uaa: info.body.token_endpoint,
      login: info.body.authorization_endpoint,
      passwd: '/forgot_password',
      register: '/create_account',
    })
    // No identity provider but UAA's own: the passcode prompt is left out.
    expect(body.prompts).toEqual({ username: ['text', 'Email'], password: ['password', 'Password'] })
    expect(body.app.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(body).toMatchObject({ zone_name: 'uaa', idpDefinitions: {} })
    expect(body.entityID).toBe(new URL(f.url).host)
    expect(body).not.toHaveProperty('createAccountLink')
    expect(body).not.toHaveProperty('fieldUsernameShow')
  })

  it('needs no token, and a browser (no JSON in Accept) gets the login page', async () => {
    const res = await fetch(`${f.url}/login`, { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toContain('name="password"')
  })
})
