// One rule of scope for the commands that select apps: flags say it; else the targeted org and space;
// --all widens it to the whole foundation.
import { describe, expect, it } from 'vitest'
import { scopeOf } from '../../src/cli/scope.js'

const targeted = { org: { guid: 'o', name: 'acme' }, space: { guid: 's', name: 'prod' } }

describe('scopeOf', () => {
  it('is the targeted org and space when no flag says otherwise', () => {
    expect(scopeOf({}, targeted)).toEqual({
      org: 'acme',
      space: 'prod',
      label: 'org acme, space prod (targeted; --all for every org and space)',
    })
    expect(scopeOf({}, { org: targeted.org, space: undefined })).toMatchObject({ org: 'acme', space: undefined })
  })

  it('is what --org and --space say, over the target', () => {
    expect(scopeOf({ org: 'globex' }, targeted)).toEqual({
      org: 'globex',
      space: undefined,
      label: 'org globex (as asked)',
    })
  })

  it('is every org and space with --all, or with nothing targeted', () => {
    expect(scopeOf({ all: true }, targeted)).toEqual({ label: 'every org and space' })
    expect(scopeOf({}, { org: undefined, space: undefined })).toEqual({ label: 'every org and space' })
  })

  it('refuses --all with --org or --space', () => {
    expect(() => scopeOf({ all: true, org: 'acme' }, targeted)).toThrow(/--all widens to every org and space/)
  })
})

describe('apps and migrate after cfctl target -o ORG -s SPACE', () => {
  it('act on the targeted space, say so in the plan, and --all widens them', async () => {
    const { FakeClock } = await import('../../src/clock.js')
    const { Foundation } = await import('../../src/scheduler/foundation.js')
    const { aCliHome } = await import('./run-cli.js')
    const foundation = await Foundation.start({ seed: 'small', engineClock: new FakeClock(), log: () => {} })
    try {
      const home = aCliHome()
      expect((await home.run(['login', '-a', foundation.apiUrl, '-u', 'admin', '-p', 'admin'])).code).toBe(0)
      const app = foundation.store.apps().find((a) => !a.diego)!
      const space = foundation.store.space(app.spaceGuid)!
      const org = foundation.store.orgs().find((o) => o.guid === space.orgGuid)!
      const inSpace = foundation.store.apps().filter((a) => a.spaceGuid === space.guid)
      expect((await home.run(['target', '-o', org.name, '-s', space.name])).code).toBe(0)

      const scoped = JSON.parse((await home.run(['apps', '--json'])).stdout) as Array<{ guid: string }>
      const all = JSON.parse((await home.run(['apps', '--all', '--json'])).stdout) as Array<{ guid: string }>
      const plan = JSON.parse(
        (await home.run(['migrate', '--to', 'diego', '--dry-run', '--json'])).stdout.split('\n')[0]!,
      )

      expect(scoped.map((a) => a.guid).sort()).toEqual(inSpace.map((a) => a.guid).sort())
      expect(all.length).toBe(foundation.store.apps().length)
      expect(plan.scope).toBe(`org ${org.name}, space ${space.name} (targeted; --all for every org and space)`)
      expect(
        plan.steps.every((s: { org: string; space: string }) => s.org === org.name && s.space === space.name),
      ).toBe(true)
    } finally {
      await foundation.stop()
    }
  }, 60_000)
})
