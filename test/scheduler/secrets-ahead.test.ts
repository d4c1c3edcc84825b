// The seed users' password hashes begun as `cfctl server` starts (bin/run.js), taken by the foundation's seed.
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { seedPasswords } from '../../src/scheduler/cc/index.js'
import { Foundation } from '../../src/scheduler/foundation.js'
import { DEFAULT_SEED_PASSWORDS, startSeedSecrets, takeSeedSecrets } from '../../src/scheduler/secrets-ahead.js'

afterEach(() => {
  takeSeedSecrets([])?.close() // whatever a test began and left
})

describe('seed secrets begun ahead', () => {
  it('are of the passwords a seed with the default logins creates', () => {
    expect(DEFAULT_SEED_PASSWORDS).toEqual(seedPasswords())
  })

  it('are not begun when a flag names other logins or a data file', () => {
    for (const args of [
      ['--data', 'f.db'],
      ['--data=f.db'],
      ['--admin-user', 'ops:pw'],
      ['--admin-user=ops:pw'],
      ['--seed', 'medium', '--developer-user', 'dev:pw'],
      ['--developer-user=dev:pw'],
    ]) {
      expect(startSeedSecrets(args)).toBe(false)
      expect(takeSeedSecrets(DEFAULT_SEED_PASSWORDS)).toBeUndefined()
    }
  })

  it('are handed out once, and only for exactly the passwords they were begun for', () => {
    expect(startSeedSecrets(['--seed', 'medium'])).toBe(true)
    expect(takeSeedSecrets([...DEFAULT_SEED_PASSWORDS].reverse())).toBeUndefined()
    expect(takeSeedSecrets(DEFAULT_SEED_PASSWORDS)).toBeUndefined() // stopped: they were for other passwords

    expect(startSeedSecrets([])).toBe(true)
    const secrets = takeSeedSecrets(DEFAULT_SEED_PASSWORDS)
    expect(secrets).toBeDefined()
    secrets?.close()
    expect(takeSeedSecrets(DEFAULT_SEED_PASSWORDS)).toBeUndefined()
  })

  it("are what a seeded foundation's users are created with; every login works", async () => {
    expect(startSeedSecrets(['--seed', 'small'])).toBe(true)
    const foundation = await Foundation.start({ seed: 'small', engineClock: new FakeClock(), log: () => {} })
    try {
      expect(takeSeedSecrets(DEFAULT_SEED_PASSWORDS)).toBeUndefined() // the seed took them
      for (const password of DEFAULT_SEED_PASSWORDS) {
        expect((await foundation.store.authenticate(password, password))?.username).toBe(password)
        expect(await foundation.store.authenticate(password, `${password}!`)).toBeUndefined()
      }
    } finally {
      await foundation.stop()
    }
  })
})
