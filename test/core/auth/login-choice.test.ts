// `cfctl login` on a terminal offers the orgs and spaces to choose from, as `cf login` does; flags and a
// single choice need no question.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pickChoice } from '../../../src/cli/prompt.js'
import { FakeClock } from '../../../src/clock.js'
import { memorySession } from '../../../src/core/auth/session.js'
import { type Chooser, discoverTarget, logIn } from '../../../src/core/auth/target.js'
import { Foundation } from '../../../src/scheduler/foundation.js'

let foundation: Foundation

beforeAll(async () => {
  foundation = await Foundation.start({ seed: 'small', engineClock: new FakeClock(), log: () => {} })
})
afterAll(async () => {
  await foundation?.stop()
})

async function loggedIn(choice: Parameters<typeof logIn>[2]) {
  const session = memorySession(await discoverTarget(foundation.apiUrl))
  return logIn(session, { kind: 'password', username: 'admin', password: 'admin' }, choice)
}

describe('logIn with a chooser', () => {
  it('asks for an org among several (sorted by name), then for a space of it', async () => {
    const asked: Array<[string, readonly string[]]> = []
    const choose: Chooser = async (kind, names) => {
      asked.push([kind, names])
      return kind === 'org' ? 'globex-retail' : 'prod'
    }
    const result = await loggedIn({ choose })
    expect(asked[0]).toEqual(['org', ['acme-retail', 'globex-retail']])
    expect(asked[1]![0]).toBe('space')
    expect(asked[1]![1]).toEqual([...asked[1]![1]].sort())
    expect(result).toMatchObject({ org: 'globex-retail', space: 'prod' })
  })

  it('asks nothing when the flags name the org and space', async () => {
    const choose: Chooser = async () => {
      throw new Error('asked')
    }
    expect(await loggedIn({ org: 'acme-retail', space: 'dev', choose })).toMatchObject({
      org: 'acme-retail',
      space: 'dev',
    })
  })

  it('leaves org and space unset when the operator skips', async () => {
    expect(await loggedIn({ choose: async () => undefined })).toMatchObject({ org: undefined, space: undefined })
  })
})

describe('pickChoice', () => {
  const names = ['acme-retail', 'globex-retail']
  it.each([
    ['2', 'globex-retail'],
    ['Globex-Retail', 'globex-retail'],
    ['', undefined],
    ['3', null],
    ['initech', null],
  ])('reads %j as %j', (answer, picked) => {
    expect(pickChoice(names, answer)).toBe(picked)
  })
})
