import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cfConfigPath, readCfCliConfig } from '../../../src/core/auth/cf-config.js'
import { cfctlHome, configPath, readConfig, writeConfig } from '../../../src/core/auth/config.js'
import { ConfigError } from '../../../src/core/errors.js'

const aTarget = { api: 'http://127.0.0.1:9022', tokenEndpoint: 'http://127.0.0.1:9022', skipSslValidation: false }

function aDir(): string {
  return mkdtempSync(join(tmpdir(), 'cfctl-config-'))
}

describe("cfctl's config", () => {
  it('lives in $CFCTL_HOME when it is set, else ~/.cfctl', () => {
    expect(configPath({ CFCTL_HOME: '/x/y' })).toBe('/x/y/config.json')
    expect(cfctlHome({})).toMatch(/\.cfctl$/)
  })

  it('reads as empty when there is no file yet', () => {
    expect(readConfig(join(aDir(), 'config.json'))).toEqual({ version: 1 })
  })

  it('is written with mode 0600, atomically, and reads back the same', () => {
    const dir = aDir()
    const path = join(dir, 'nested', 'config.json')
    writeConfig(path, { version: 1, target: aTarget, accessToken: 'a.b.c', refreshToken: 'r' })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readdirSync(join(dir, 'nested'))).toEqual(['config.json'])
    expect(readConfig(path)).toMatchObject({ target: aTarget, accessToken: 'a.b.c', refreshToken: 'r' })
  })

  it('names the broken field of a config that fails its schema, and does not reset it', () => {
    const path = join(aDir(), 'config.json')
    writeFileSync(path, JSON.stringify({ version: 1, target: { api: 'not a url', tokenEndpoint: 'x' } }))
    expect(() => readConfig(path)).toThrow(ConfigError)
    expect(() => readConfig(path)).toThrow(/target\.api/)
    expect(readFileSync(path, 'utf8')).toContain('not a url')
  })

  it('says a file that is not JSON is not JSON', () => {
    const path = join(aDir(), 'config.json')
    writeFileSync(path, '{ nope')
    expect(() => readConfig(path)).toThrow(/not valid JSON/)
  })
})

describe("the cf CLI's config", () => {
  function cfHome(config: unknown): string {
    const home = aDir()
    mkdirSync(join(home, '.cf'))
    writeFileSync(join(home, '.cf', 'config.json'), JSON.stringify(config))
    return home
  }

  it('is found under $CF_HOME, falling back to $HOME', () => {
    expect(cfConfigPath({ CF_HOME: '/cf', HOME: '/home/u' })).toBe('/cf/.cf/config.json')
    expect(cfConfigPath({ HOME: '/home/u' })).toBe('/home/u/.cf/config.json')
  })

  it('gives its target, tokens without the bearer prefix, org and space', () => {
    const home = cfHome({
      ConfigVersion: 3,
      Target: 'https://api.example.com/',
      APIVersion: '2.75.0',
      AuthorizationEndpoint: 'https://login.example.com',
      UaaEndpoint: 'https://uaa.example.com',
      AccessToken: 'bearer eyJhbGciOiJSUzI1NiJ9.e30.sig',
      RefreshToken: 'refresh-me',
      SSLDisabled: true,
      OrganizationFields: { GUID: 'org-guid', Name: 'acme' },
      SpaceFields: { GUID: 'space-guid', Name: 'prod', AllowSSH: true },
    })
    const config = readCfCliConfig(cfConfigPath({ CF_HOME: home }))!
    expect(config.target).toEqual({
      api: 'https://api.example.com',
      tokenEndpoint: 'https://uaa.example.com',
      apiVersion: '2.75.0',
      skipSslValidation: true,
    })
    expect(config.accessToken).toBe('eyJhbGciOiJSUzI1NiJ9.e30.sig')
    expect(config.refreshToken).toBe('refresh-me')
    expect(config.org).toEqual({ guid: 'org-guid', name: 'acme' })
    expect(config.space).toEqual({ guid: 'space-guid', name: 'prod' })
  })

  it('matches keys without regard to case, as the cf CLI does', () => {
    const home = cfHome({
      target: 'https://api.example.com',
      authorizationendpoint: 'https://login.example.com',
      accesstoken: 'Bearer t',
    })
    const config = readCfCliConfig(cfConfigPath({ CF_HOME: home }))!
    expect(config.target?.tokenEndpoint).toBe('https://login.example.com')
    expect(config.accessToken).toBe('t')
  })

  it('is ignored when absent or without a target', () => {
    expect(readCfCliConfig(join(aDir(), 'none.json'))).toBeUndefined()
    const home = cfHome({ AccessToken: 'bearer x' })
    expect(readCfCliConfig(cfConfigPath({ CF_HOME: home }))).toBeUndefined()
  })
})
