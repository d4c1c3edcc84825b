// Where apps run: the fleet by backend, one app found by name, and the flip of one app's backend.
// Everything here goes through the CC client, so it works the same on a real foundation.
import { type App, type CcClient, type Org, type Space, type Unstaged, unstagedOf } from '../cc/index.js'
import { UsageError, UserError } from '../errors.js'

export type BackendName = 'dea' | 'diego'
export type AppStateName = 'started' | 'stopped'

export function backendOf(app: { diego: boolean }): BackendName {
  return app.diego ? 'diego' : 'dea'
}

export interface AppRow {
  guid: string
  name: string
  org: string
  space: string
  state: 'STARTED' | 'STOPPED'
  instances: number
  memoryMb: number
  diskMb: number
  backend: BackendName
  /** Set when the app is not staged: staging failed (with the CC's reason) or has not finished. */
  unstaged?: Unstaged
}

export interface Scope {
  /** Org name; with `space`, the space is looked up inside it. */
  org?: string
  space?: string
}

export interface ListOptions extends Scope {
  backend?: BackendName
  state?: AppStateName
}

export interface AppListing {
  apps: AppRow[]
  /** Apps per backend among those listed. */
  counts: Record<BackendName, number>
}

/** Resolves org and space names to guids, with errors that say which name was not found. */
export async function resolveScope(
  client: CcClient,
  scope: Scope,
): Promise<{ org: Org | undefined; space: Space | undefined }> {
  let org: Org | undefined
  if (scope.org !== undefined) {
    const orgs = await client.organizations({ name: scope.org })
    org = orgs[0]
    if (!org)
      throw new UserError(
        `org "${scope.org}" not found`,
        'check the spelling; a CC lists only the orgs your user is a member of (an admin sees all)',
      )
  }
  let space: Space | undefined
  if (scope.space !== undefined) {
    const spaces = await client.spaces({ name: scope.space, orgGuid: org?.guid })
    if (spaces.length === 0)
      throw new UserError(
        `space "${scope.space}" not found${org ? ` in org "${org.name}"` : ''}`,
        'check the name; a CC lists only the spaces your user has a role in (an admin sees all)',
      )
    if (spaces.length > 1)
      throw new UsageError(
        `space "${scope.space}" exists in ${spaces.length} orgs`,
        'name the org too: --org ORG --space SPACE',
      )
    space = spaces[0]
  }
  return { org, space }
}

/** The apps the flags select, with org and space names, and a count per backend. */
export async function listApps(client: CcClient, options: ListOptions): Promise<AppListing> {
  const { org, space } = await resolveScope(client, options)
  const [apps, spaces, orgs] = await Promise.all([
    client.apps({
      diego: options.backend === undefined ? undefined : options.backend === 'diego',
      state: options.state === undefined ? undefined : options.state === 'started' ? 'STARTED' : 'STOPPED',
      spaceGuid: space?.guid,
      orgGuid: space ? undefined : org?.guid,
    }),
    client.spaces(),
    client.organizations(),
  ])
  const orgNames = new Map(orgs.map((o) => [o.guid, o.name]))
  const spaceOf = new Map(spaces.map((s) => [s.guid, { name: s.name, org: orgNames.get(s.orgGuid) ?? s.orgGuid }]))
  const counts: Record<BackendName, number> = { dea: 0, diego: 0 }
  const rows = apps.map((app): AppRow => {
    const where = spaceOf.get(app.spaceGuid)
    const backend = backendOf(app)
    counts[backend]++
    return {
      guid: app.guid,
      name: app.name,
      org: where?.org ?? '',
      space: where?.name ?? app.spaceGuid,
      state: app.state,
      instances: app.instances,
      memoryMb: app.memoryMb,
      diskMb: app.diskMb,
      backend,
      ...unstagedField(app),
    }
  })
  return { apps: rows, counts }
}

function unstagedField(app: App): { unstaged?: Unstaged } {
  const unstaged = unstagedOf(app)
  return unstaged ? { unstaged } : {}
}

export interface AppRef extends Scope {
  name?: string
  guid?: string
  /** The targeted org and space, used when the flags name neither. */
  defaultOrgGuid?: string
  defaultSpaceGuid?: string
  /** How the command takes a guid, for hints; default `--guid GUID`. */
  guidFlag?: string
  /** Their names, to say where an app was looked for. */
  defaultOrgName?: string
  defaultSpaceName?: string
}

/** One app, by guid or by name in the given (or targeted) space; a name found in several spaces is an error. */
export async function findApp(client: CcClient, ref: AppRef): Promise<App> {
  if (ref.guid) return client.app(ref.guid)
  const byGuid = ref.guidFlag ?? '--guid GUID'
  if (!ref.name) throw new UsageError('name the app', `pass APP, or ${byGuid}`)
  let spaceGuid = ref.defaultSpaceGuid
  let orgGuid = ref.defaultOrgGuid
  // Where the name was looked for, to say so when it is not there: the flags' org/space, else the target's.
  let where = spaceGuid
    ? ` in the targeted space${ref.defaultSpaceName ? ` (${ref.defaultOrgName ?? '?'}/${ref.defaultSpaceName})` : ''}`
    : orgGuid
      ? ` in the targeted org${ref.defaultOrgName ? ` (${ref.defaultOrgName})` : ''}`
      : ' on the foundation'
  let hint = `check the name, or pass --org/--space or ${byGuid}`
  if (ref.org !== undefined || ref.space !== undefined) {
    const { org, space } = await resolveScope(client, ref)
    spaceGuid = space?.guid
    orgGuid = space ? undefined : org?.guid
    where = space ? ` in space "${space.name}"${org ? ` of org "${org.name}"` : ''}` : ` in org "${org!.name}"`
    const listing = `cfctl apps${org ? ` --org ${org.name}` : ''}${space ? ` --space ${space.name}` : ''}`
    hint = `check the name (${listing} lists the apps there), or pass ${byGuid}`
  }
  const found = await client.apps({ name: ref.name, spaceGuid, orgGuid: spaceGuid ? undefined : orgGuid })
  if (found.length === 1) return found[0]!
  if (found.length === 0) throw new UserError(`app "${ref.name}" not found${where}`, hint)
  const spaces = await client.spaces()
  const orgs = new Map((await client.organizations()).map((o) => [o.guid, o.name]))
  const places = found.map((app) => {
    const space = spaces.find((s) => s.guid === app.spaceGuid)
    return space ? `${orgs.get(space.orgGuid) ?? space.orgGuid}/${space.name}` : app.spaceGuid
  })
  throw new UsageError(
    `app "${ref.name}" exists in ${found.length} spaces: ${places.join(', ')}`,
    `pick one with --org ORG --space SPACE, or ${byGuid}`,
  )
}

export interface BackendChange {
  guid: string
  name: string
  backend: BackendName
  /** False when the app already ran there and nothing was sent. */
  changed: boolean
}

/** Points an app at a backend (the CC's `diego` flag). The old backend winds its instances down on its own. */
export async function setBackend(client: CcClient, app: App, backend: BackendName): Promise<BackendChange> {
  const diego = backend === 'diego'
  if (app.diego === diego) return { guid: app.guid, name: app.name, backend, changed: false }
  const updated = await client.updateApp(app.guid, { diego })
  return { guid: updated.guid, name: updated.name, backend: backendOf(updated), changed: true }
}

export interface BackendUsage {
  apps: number
  startedApps: number
  /** Desired instances of the started apps. */
  instances: number
  memoryMb: number
  capacity?: {
    nodes: number
    nodesUp: number
    memoryMb: { total: number; used: number }
    diskMb: { total: number; used: number }
    /** `total` null: no container limit (DEAs). */
    containers: { total: number | null; used: number }
  }
}

/** Apps and instances per backend, with capacity where the target reports it. */
export async function backendsSummary(client: CcClient): Promise<Record<BackendName, BackendUsage>> {
  const [apps, capacity] = await Promise.all([client.apps(), client.backendsCapacity()])
  const usage = (): BackendUsage => ({ apps: 0, startedApps: 0, instances: 0, memoryMb: 0 })
  const out: Record<BackendName, BackendUsage> = { dea: usage(), diego: usage() }
  for (const app of apps) {
    const u = out[backendOf(app)]
    u.apps++
    if (app.state === 'STARTED') {
      u.startedApps++
      u.instances += app.instances
      u.memoryMb += app.instances * app.memoryMb
    }
  }
  if (capacity) {
    for (const backend of ['dea', 'diego'] as const) {
      const c = capacity[backend]
      out[backend].capacity = {
        nodes: c.nodes,
        nodesUp: c.nodesUp,
        memoryMb: c.memoryMb,
        diskMb: c.diskMb,
        containers: c.containers,
      }
    }
  }
  return out
}
