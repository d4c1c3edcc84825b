// A page that starts with a UTF-8 byte order mark: the text read (undici's body.text()) skips it, so a plain
// list reads the page; a mapped list, read from the page's bytes (pick-json.ts), must read it as well.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { API, aClient, appResource, envelope, mockNetworkOfTests } from './support.js'

const network = mockNetworkOfTests()

describe('a page with a byte order mark', () => {
  it('is read by a mapped list as by a plain one', async () => {
    const apps = [appResource({ name: 'web' }), appResource({ name: 'api' })]
    network.use(
      http.get(
        `${API}/v2/apps`,
        () =>
          new HttpResponse(`\ufeff${JSON.stringify(envelope(apps, 1, 1, 2))}`, {
            headers: { 'content-type': 'application/json; charset=utf-8' },
          }),
      ),
    )
    const client = aClient()
    expect((await client.apps()).map((a) => a.name)).toEqual(['web', 'api'])
    const schema = z.object({ entity: z.object({ name: z.string() }) })
    expect(await client.listMapped('/v2/apps', schema, (app) => app.entity.name)).toEqual(['web', 'api'])
  })
})
