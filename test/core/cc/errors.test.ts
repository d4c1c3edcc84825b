import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { CfApiError, CfSchemaError } from '../../../src/core/cc/index.js'
import { API, aClient, appResource, cfError, mockNetworkOfTests } from './support.js'

const network = mockNetworkOfTests()

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error,
  )
}

describe('CF errors', () => {
  it('maps 404 CF-AppNotFound to a CfApiError that keeps the code and the description', async () => {
    network.use(
      http.get(`${API}/v2/apps/:guid`, ({ params }) =>
        HttpResponse.json(cfError(100004, 'CF-AppNotFound', `The app could not be found: ${params.guid}`), {
          status: 404,
        }),
      ),
    )
    const error = (await failure(aClient().app('nope'))) as CfApiError
    expect(error).toBeInstanceOf(CfApiError)
    expect(error).toMatchObject({
      status: 404,
      code: 100004,
      errorCode: 'CF-AppNotFound',
      description: 'The app could not be found: nope',
      method: 'GET',
      path: '/v2/apps/nope',
    })
    expect(error.message).toContain('CF-AppNotFound')
    expect(error.message).toContain('The app could not be found: nope')
  })

  it('maps 400 CF-BadQueryParameter from a list', async () => {
    network.use(
      http.get(`${API}/v2/apps`, () =>
        HttpResponse.json(cfError(10005, 'CF-BadQueryParameter', 'The query parameter is invalid: stack_guid'), {
          status: 400,
        }),
      ),
    )
    const error = (await failure(aClient().apps({ stackGuid: 'no-such-stack' }))) as CfApiError
    expect(error).toMatchObject({ status: 400, code: 10005, errorCode: 'CF-BadQueryParameter', path: '/v2/apps' })
  })

  it('maps 403 CF-BackendSelectionNotAuthorized from an update', async () => {
    network.use(
      http.put(`${API}/v2/apps/:guid`, () =>
        HttpResponse.json(
          cfError(
            320005,
            'CF-BackendSelectionNotAuthorized',
            'You cannot select the backend on which to run this application',
          ),
          { status: 403 },
        ),
      ),
    )
    const error = (await failure(aClient().updateApp('a', { diego: true }))) as CfApiError
    expect(error).toMatchObject({
      status: 403,
      code: 320005,
      errorCode: 'CF-BackendSelectionNotAuthorized',
      method: 'PUT',
    })
  })

  it('describes an error answer that is not a CC error body by its status and an excerpt', async () => {
    network.use(
      http.get(
        `${API}/v2/apps/:guid`,
        () => new HttpResponse('<html><body>Bad Gateway</body></html>', { status: 500 }),
      ),
    )
    const error = (await failure(aClient().app('a'))) as CfApiError
    expect(error).toMatchObject({ status: 500, code: 0, errorCode: 'UnknownError' })
    expect(error.description).toContain('HTTP 500')
    expect(error.description).toContain('Bad Gateway')
  })
})

describe('schema failures', () => {
  it('names the field and what was expected when an app lacks its diego flag', async () => {
    const app = appResource()
    delete (app.entity as Record<string, unknown>).diego
    network.use(http.get(`${API}/v2/apps/:guid`, () => HttpResponse.json(app)))
    const error = (await failure(aClient().app(app.metadata.guid))) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.field).toBe('entity.diego')
    expect(error.method).toBe('GET')
    expect(error.path).toBe(`/v2/apps/${app.metadata.guid}`)
    expect(error.expected).toMatch(/expected boolean/)
  })

  it('names the field of an unknown app state', async () => {
    network.use(http.get(`${API}/v2/apps/:guid`, () => HttpResponse.json(appResource({ state: 'PENDING' }))))
    const error = (await failure(aClient().app('a'))) as CfSchemaError
    expect(error.field).toBe('entity.state')
    expect(error.expected).toMatch(/STARTED.*STOPPED/)
  })

  it('says so when a success is not JSON', async () => {
    network.use(http.get(`${API}/v2/info`, () => new HttpResponse('<html>login page</html>', { status: 200 })))
    const error = (await failure(aClient().info())) as CfSchemaError
    expect(error).toBeInstanceOf(CfSchemaError)
    expect(error.field).toBe('')
    expect(error.message).toContain('JSON')
  })

  it('names the missing token endpoint of /v2/info', async () => {
    network.use(
      http.get(`${API}/v2/info`, () =>
        HttpResponse.json({ authorization_endpoint: 'https://login', api_version: '2.54.0' }),
      ),
    )
    const error = (await failure(aClient().info())) as CfSchemaError
    expect(error.field).toBe('token_endpoint')
  })

  it('ignores fields it does not use, whatever their value', async () => {
    const app = appResource({ environment_json: null, buildpack: 42, docker_credentials_json: { odd: true } })
    network.use(http.get(`${API}/v2/apps/:guid`, () => HttpResponse.json(app)))
    await expect(aClient().app(app.metadata.guid)).resolves.toMatchObject({ guid: app.metadata.guid })
  })
})
