// The CC store under random writes, refused writes and rolled-back transactions: an in-memory store and a
// data file agree on every write (taken or refused) and on everything they serve, and the data file opened
// again serves exactly what it served before it was closed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../src/scheduler/cc/index.js'

const AT = Date.UTC(2026, 0, 1)
const NAMES = ['web', 'api', 'worker', 'db']
const HOSTS = ['web', 'api', 'www', 'x']

type Op =
  | { kind: 'org'; name: number }
  | { kind: 'space'; org: number; name: number }
  | { kind: 'app'; space: number; name: number; hosts: number[]; instances: number; memoryMb: number }
  | { kind: 'update'; app: number; patch: Record<string, unknown> }
  | { kind: 'delete'; app: number }
  | { kind: 'rolledBack'; ops: Op[] }

const patch = fc.record(
  {
    name: fc.constantFrom(...NAMES),
    instances: fc.integer({ min: -1, max: 5 }),
    memoryMb: fc.constantFrom(0, 128, 1024),
    diskMb: fc.constantFrom(512, 2048),
    state: fc.constantFrom('STARTED', 'STOPPED', 'BROKEN'),
    diego: fc.boolean(),
    version: fc.constantFrom('v1', 'v2'),
    healthCheckType: fc.constantFrom('port', 'process', 'none'),
    enableSsh: fc.boolean(),
    ports: fc.option(fc.array(fc.integer({ min: 1024, max: 65535 }), { maxLength: 3 }), { nil: null }),
    packageState: fc.constantFrom('PENDING', 'STAGED', 'FAILED'),
    stagingFailedReason: fc.option(fc.constantFrom('StagingError', 'StagingTimeExpired'), { nil: null }),
    stagingFailedDescription: fc.option(fc.constantFrom('boom', 'ü ✓ 𝄞'), { nil: null }),
    packageUpdatedAt: fc.integer({ min: AT, max: AT + 1e9 }),
  },
  { requiredKeys: [] },
)

const single: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('org' as const), name: fc.nat(2) }),
  fc.record({ kind: fc.constant('space' as const), org: fc.nat(), name: fc.nat(2) }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('app' as const),
      space: fc.nat(),
      name: fc.nat(NAMES.length - 1),
      hosts: fc.array(fc.nat(HOSTS.length - 1), { maxLength: 2 }),
      instances: fc.integer({ min: 0, max: 4 }),
      memoryMb: fc.constantFrom(256, 1024),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('update' as const), app: fc.nat(), patch }) },
  fc.record({ kind: fc.constant('delete' as const), app: fc.nat() }),
)
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: single },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rolledBack' as const),
      ops: fc.array(single, { minLength: 1, maxLength: 4 }),
    }),
  },
)

const START: Op[] = [
  { kind: 'org', name: 0 },
  { kind: 'space', org: 0, name: 0 },
  { kind: 'app', space: 0, name: 0, hosts: [0], instances: 1, memoryMb: 256 },
  { kind: 'app', space: 0, name: 1, hosts: [1], instances: 2, memoryMb: 1024 },
]

/** One store and the guids it was given, so that two stores can be given the same ones. */
class Subject {
  private n = 0
  constructor(
    readonly store: Store,
    private readonly domainGuid: string,
  ) {}

  apply(o: Op, depth = 0): string {
    const s = this.store
    const pickOf = <T>(list: readonly T[], i: number) => (list.length === 0 ? undefined : list[i % list.length])
    const guid = () => `00000000-0000-4000-8000-${(++this.n).toString(16).padStart(12, '0')}`
    try {
      switch (o.kind) {
        case 'org':
          s.createOrg({ name: `org-${o.name}`, at: AT, guid: guid() })
          break
        case 'space': {
          const org = pickOf(s.orgs(), o.org)
          if (!org) return 'none'
          s.createSpace({ orgGuid: org.guid, name: `space-${o.name}`, at: AT, guid: guid() })
          break
        }
        case 'app': {
          const space = pickOf(s.spaces(), o.space)
          if (!space) return 'none'
          s.createApp({
            spaceGuid: space.guid,
            name: NAMES[o.name]!,
            instances: o.instances,
            memoryMb: o.memoryMb,
            diskMb: 1024,
            state: 'STARTED',
            diego: o.instances % 2 === 0,
            version: 'v0',
            at: AT,
            guid: guid(),
            routes: [...new Set(o.hosts)].map((h) => ({ host: HOSTS[h]!, domainGuid: this.domainGuid, guid: guid() })),
          })
          break
        }
        case 'update': {
          const app = pickOf(s.apps(), o.app)
          if (!app) return 'none'
          s.updateApp(app.guid, o.patch, AT + 1000 * this.n++)
          break
        }
        case 'delete': {
          const app = pickOf(s.apps(), o.app)
          if (!app) return 'none'
          s.deleteApp(app.guid)
          break
        }
        case 'rolledBack': {
          const inner: string[] = []
          try {
            s.transaction(() => {
              for (const each of o.ops) inner.push(this.apply(each, depth + 1))
              throw new Error('rolled back')
            })
          } catch {}
          return `rolled back [${inner.join(',')}]`
        }
      }
      return 'ok'
    } catch (error) {
      // Inside a transaction a refused write ends it, as it would a caller's.
      if (depth > 0) throw error
      return 'refused'
    }
  }
}

/** Everything the store serves, with or without the ids (an in-memory store numbers deleted apps' ids apart). */
function served(store: Store, withIds: boolean) {
  const strip = <T extends { id: number }>(r: T) => (withIds ? r : { ...r, id: 0 })
  return {
    orgs: store.orgs().map(strip),
    spaces: store.spaces().map(strip),
    domains: store.domains().map(strip),
    stacks: store.stacks().map((s) => ({ ...strip(s), guid: '' })),
    apps: store.apps().map((a) => ({ ...strip(a), stackGuid: '', routes: a.routes.map(strip) })),
    bySpace: store.spaces().map((s) => store.appsInSpace(s.guid).map((a) => a.guid)),
    byName: store.spaces().map((s) => NAMES.map((n) => store.appNamed(s.guid, n)?.guid)),
    byHost: HOSTS.map((h) => store.appByHostname(`${h}.apps.test`)?.guid),
  }
}

describe('the CC store, property: in memory and on disk alike, and the same once opened again', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-reopen-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('takes and refuses the same writes in memory and on disk, serves the same, and serves it again when reopened', () => {
    let run = 0
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
        const path = join(dir, `cc-${run++}.db`)
        const subjects = [openStore(), openStore({ path })].map((store) => {
          const domain = store.createDomain('apps.test', '00000000-0000-4000-8000-d0000000000d')
          const subject = new Subject(store, domain.guid)
          // A start to build on: an org, a space and two apps, so that most writes find what they act on.
          for (const o of START) expect(subject.apply(o)).toBe('ok')
          return subject
        })
        const [memory, file] = subjects as [Subject, Subject]
        try {
          for (const o of ops) {
            const generation = file.store.generation
            expect(memory.apply(o), JSON.stringify(o)).toBe(file.apply(o))
            if (o.kind === 'rolledBack') expect(file.store.generation).toBe(generation)
            expect(served(memory.store, false)).toEqual(served(file.store, false))
          }
          const before = served(file.store, true)
          file.store.close()
          const reopened = openStore({ path })
          try {
            expect(served(reopened, true)).toEqual(before)
          } finally {
            reopened.close()
          }
        } finally {
          memory.store.close()
        }
      }),
      { numRuns: 50 },
    )
  })
})
