// The README's examples name apps that the seeds it suggests really hold.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openStore } from '../../src/scheduler/cc/index.js'
import { seed } from '../../src/scheduler/cc/seed.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('the README', () => {
  const examples = [
    ...readme.matchAll(/cfctl (?:enable|has)-diego-?\w* (\S+) (?:--org|-o) (\S+) (?:--space|-s) (\S+)/g),
  ]

  it('has app examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2)
  })

  it.each(['small', 'medium'] as const)('names apps that the %s seed holds in the org and space it gives', (size) => {
    const store = openStore()
    seed(store, size)
    for (const [, app, org, space] of examples) {
      const orgRecord = store.orgs().find((o) => o.name === org)
      const spaceRecord = store.spacesOfOrg(orgRecord!.guid).find((s) => s.name === space)
      expect(
        store.apps().some((a) => a.name === app && a.spaceGuid === spaceRecord!.guid),
        `${app} in ${org}/${space}`,
      ).toBe(true)
    }
  })
})
