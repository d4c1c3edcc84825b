// The baseline of cli.list_speedup_vs_sequential: what the Diego-Enabler plugin's `cf dea-apps` did
// (thingdoer/dea_apps.go, api/paginated_requester.go), one page after another: GET /v2/apps?q=diego:false
// at the CC's default page size, then each next page until there is none, then the spaces (and here the
// orgs, for their names) the same way. Plain undici and JSON.parse, no schema. It prints the same rows as
// `cfctl apps --backend dea --json`, so both sides of the ratio do the same job in their own process.
// Run with plain node (its TypeScript is erasable):
//   CF_WALK_TOKEN=... node bench/cf-walk.ts API_URL [results-per-page]
import { Agent, request } from 'undici'

interface Resource<E> {
  metadata: { guid: string }
  entity: E
}

interface Page<E> {
  next_url: string | null
  resources: Resource<E>[]
}

interface AppEntity {
  name: string
  space_guid: string
  state: 'STARTED' | 'STOPPED'
  instances: number
  memory: number
  disk_quota: number
  diego: boolean
}

const [apiUrl, perPage] = process.argv.slice(2)
const token = process.env.CF_WALK_TOKEN
if (!apiUrl || !token) {
  process.stderr.write('usage: CF_WALK_TOKEN=TOKEN node bench/cf-walk.ts API_URL [results-per-page]\n')
  process.exit(2)
}
// One keep-alive connection, as Go's http.Client reuses one for requests made one after another.
const dispatcher = new Agent({ connections: 1 })

async function walk<E>(path: string): Promise<Resource<E>[]> {
  const out: Resource<E>[] = []
  let next: string | null = perPage ? `${path}${path.includes('?') ? '&' : '?'}results-per-page=${perPage}` : path
  while (next) {
    const res = await request(`${apiUrl}${next}`, { dispatcher, headers: { authorization: `bearer ${token}` } })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`GET ${next} answered ${res.statusCode}: ${text.slice(0, 200)}`)
    const page = JSON.parse(text) as Page<E>
    out.push(...page.resources)
    next = page.next_url
  }
  return out
}

const apps = await walk<AppEntity>('/v2/apps?q=diego:false')
const spaces = await walk<{ name: string; organization_guid: string }>('/v2/spaces')
const orgs = await walk<{ name: string }>('/v2/organizations')
await dispatcher.close()

const orgNames = new Map(orgs.map((o) => [o.metadata.guid, o.entity.name]))
const spaceOf = new Map(
  spaces.map((s) => [s.metadata.guid, { name: s.entity.name, org: orgNames.get(s.entity.organization_guid) ?? '' }]),
)
const rows = apps.map(({ metadata, entity }) => {
  const where = spaceOf.get(entity.space_guid)
  return {
    guid: metadata.guid,
    name: entity.name,
    org: where?.org ?? '',
    space: where?.name ?? entity.space_guid,
    state: entity.state,
    instances: entity.instances,
    memoryMb: entity.memory,
    diskMb: entity.disk_quota,
    backend: entity.diego ? 'diego' : 'dea',
  }
})
process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
