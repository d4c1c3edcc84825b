// The flip audit against the real CC's /v2/events, as cloud_controller_ng 067f553 renders it: events of
// type audit.app.update with the update's request under metadata.request (app_event_repository.rb), the
// entity fields of event.rb, filtered by the CC on type, actee and timestamp only (events_controller.rb).
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { diegoFlips, parseSince, requestedDiego } from '../../../src/core/audit/diego-flips.js'
import { API, aClient, appResource, envelope, mockNetworkOfTests } from '../cc/support.js'

const network = mockNetworkOfTests()

const ORG = { guid: '7c6c8b3a-0f4e-4b71-9d8f-4b58b37e3a01', name: 'acme-retail' }
const OTHER_ORG = { guid: '0d6e0a5c-2a8e-49a2-8e3d-2b9c1d7c6f02', name: 'globex' }
const SPACE = { guid: 'b8a5e1f0-4c7d-4a3b-8e6f-1a2b3c4d5e03', name: 'prod', org: ORG.guid }
const OTHER_SPACE = { guid: 'c9b6f2a1-5d8e-4b4c-9f7a-2b3c4d5e6f04', name: 'dev', org: OTHER_ORG.guid }
const APP = '6064d98a-95e6-400b-bc03-be65e6d59622'

function orgResource(o: { guid: string; name: string }) {
  return {
    metadata: {
      guid: o.guid,
      url: `/v2/organizations/${o.guid}`,
      created_at: '2016-03-01T10:00:00Z',
      updated_at: null,
    },
    entity: { name: o.name, billing_enabled: false, quota_definition_guid: 'q-1', status: 'active' },
  }
}
function spaceResource(s: { guid: string; name: string; org: string }) {
  return {
    metadata: { guid: s.guid, url: `/v2/spaces/${s.guid}`, created_at: '2016-03-01T10:00:00Z', updated_at: null },
    entity: { name: s.name, organization_guid: s.org, space_quota_definition_guid: null, allow_ssh: true },
  }
}

let eventCount = 0
/** An event as a 2016 CC renders it (every field of event.rb's export_attributes). */
function event(fields: {
  at: string
  request?: Record<string, unknown>
  type?: string
  actor?: string
  actorName?: string | null
  actorType?: string
  app?: string
  appName?: string
  space?: { guid: string; org: string }
}) {
  eventCount++
  const guid = `e${String(eventCount).padStart(7, '0')}-1111-4222-8333-444455556666`
  const space = fields.space ?? SPACE
  return {
    metadata: { guid, url: `/v2/events/${guid}`, created_at: fields.at, updated_at: null },
    entity: {
      type: fields.type ?? 'audit.app.update',
      actor: fields.actor ?? 'uaa-admin-guid',
      actor_type: fields.actorType ?? 'user',
      actor_name: fields.actorName === undefined ? 'admin' : fields.actorName,
      actee: fields.app ?? APP,
      actee_type: 'app',
      actee_name: fields.appName ?? 'checkout-worker',
      timestamp: fields.at,
      metadata: fields.request ? { request: fields.request } : {},
      space_guid: space.guid,
      organization_guid: space.org,
    },
  }
}

function serve(events: ReturnType<typeof event>[]) {
  const asked: string[][] = []
  network.use(
    http.get(`${API}/v2/organizations`, ({ request }) => {
      const name = new URL(request.url).searchParams.get('q')?.replace(/^name:/, '')
      const orgs = [ORG, OTHER_ORG].filter((o) => name === undefined || o.name === name)
      return HttpResponse.json(envelope(orgs.map(orgResource), 1, 1))
    }),
    http.get(`${API}/v2/spaces`, ({ request }) => {
      const q = new URL(request.url).searchParams.getAll('q')
      const all = [SPACE, OTHER_SPACE].filter((s) => q.every((f) => f !== 'name:prod' || s.name === 'prod'))
      return HttpResponse.json(envelope(all.map(spaceResource), 1, 1))
    }),
    http.get(`${API}/v2/events`, ({ request }) => {
      const q = new URL(request.url).searchParams.getAll('q')
      asked.push(q)
      return HttpResponse.json(envelope(events, 1, 1))
    }),
  )
  return asked
}

describe('diegoFlips', () => {
  it("lists each change of an app's diego flag with who made it and when, and no other update", async () => {
    const asked = serve([
      event({ at: '2016-04-08T14:00:00Z', request: { instances: 3 } }),
      event({ at: '2016-04-08T14:38:42Z', request: { diego: true }, actorName: 'admin' }),
      event({
        at: '2016-04-09T09:12:03Z',
        request: { diego: false },
        actor: 'uaa-dev-guid',
        actorName: 'dev@acme.example',
      }),
      event({ at: '2016-04-09T10:00:00Z', type: 'audit.app.start' }),
    ])
    const flips = await diegoFlips(aClient())
    expect(flips).toEqual([
      {
        time: '2016-04-08T14:38:42Z',
        appGuid: APP,
        appName: 'checkout-worker',
        org: 'acme-retail',
        space: 'prod',
        backend: 'diego',
        actor: 'admin',
        actorGuid: 'uaa-admin-guid',
        actorType: 'user',
      },
      expect.objectContaining({ backend: 'dea', actor: 'dev@acme.example', time: '2016-04-09T09:12:03Z' }),
    ])
    expect(asked).toEqual([['type:audit.app.update']])
  })

  it('asks the CC for events since a time, and for one app by actee', async () => {
    const asked = serve([])
    await diegoFlips(aClient(), { since: new Date('2016-04-01T00:00:00Z'), app: APP })
    expect(asked[0]!.sort()).toEqual(
      [`actee:${APP}`, 'timestamp>=2016-04-01T00:00:00.000Z', 'type:audit.app.update'].sort(),
    )
  })

  it('narrows to an org or a space on the client, as the CC cannot filter events by them', async () => {
    const asked = serve([
      event({ at: '2016-04-08T14:38:42Z', request: { diego: true } }),
      event({
        at: '2016-04-08T15:00:00Z',
        request: { diego: true },
        app: 'other',
        appName: 'ledger',
        space: OTHER_SPACE,
      }),
    ])
    expect((await diegoFlips(aClient(), { org: 'globex' })).map((f) => f.appName)).toEqual(['ledger'])
    expect((await diegoFlips(aClient(), { org: 'acme-retail', space: 'prod' })).map((f) => f.appName)).toEqual([
      'checkout-worker',
    ])
    for (const q of asked) for (const f of q) expect(f).toMatch(/^(type|actee|timestamp)/)
  })

  it('asks for the app by guid with its own flag (--app GUID) when a name is in several spaces', async () => {
    serve([])
    network.use(
      http.get(`${API}/v2/apps`, () =>
        HttpResponse.json(
          envelope(
            [
              appResource({ name: 'checkout-worker', space_guid: SPACE.guid }),
              appResource({ name: 'checkout-worker', space_guid: OTHER_SPACE.guid }),
            ],
            1,
            1,
          ),
        ),
      ),
    )
    const refused = await diegoFlips(aClient(), { app: 'checkout-worker' }).catch((error: unknown) => error)
    expect(refused).toMatchObject({
      message: 'app "checkout-worker" exists in 2 spaces: acme-retail/prod, globex/dev',
      hint: 'pick one with --org ORG --space SPACE, or --app GUID',
    })
  })

  it('names the actor by guid when the CC has no name for it (a UAA client)', async () => {
    serve([event({ at: '2016-04-08T14:38:42Z', request: { diego: true }, actor: 'cfctl-ci', actorName: null })])
    expect((await diegoFlips(aClient()))[0]).toMatchObject({ actor: 'cfctl-ci', actorGuid: 'cfctl-ci' })
  })
})

describe('requestedDiego', () => {
  it('reads the request as the CC does: t and true are true, any other text false', () => {
    expect(requestedDiego({ request: { diego: true } })).toBe(true)
    expect(requestedDiego({ request: { diego: 'true' } })).toBe(true)
    expect(requestedDiego({ request: { diego: 'yes' } })).toBe(false)
    expect(requestedDiego({ request: { name: 'x' } })).toBeUndefined()
    expect(requestedDiego({})).toBeUndefined()
    expect(requestedDiego(null)).toBeUndefined()
  })
})

describe('parseSince', () => {
  const now = Date.parse('2016-04-10T12:00:00Z')
  it('takes a time ago or a date', () => {
    expect(parseSince('24h', now).toISOString()).toBe('2016-04-09T12:00:00.000Z')
    expect(parseSince('7d', now).toISOString()).toBe('2016-04-03T12:00:00.000Z')
    expect(parseSince('2016-04-01', now).toISOString()).toBe('2016-04-01T00:00:00.000Z')
    expect(parseSince('2016-04-01T10:00:00Z', now).toISOString()).toBe('2016-04-01T10:00:00.000Z')
  })
  it('refuses anything else, naming the flag', () => {
    expect(() => parseSince('yesterday', now)).toThrow(/--since must be/)
  })
})
