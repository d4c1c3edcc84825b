// When a new user's password hash is made: before createUser returns where the user's row is written (a data
// file), and off the caller's thread in memory, where a login waits for it instead.
import { randomBytes, scryptSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../../../src/scheduler/cc/index.js'

const AT = Date.UTC(2026, 0, 1)
const user = (username: string, password: string) => ({ username, password, admin: false, at: AT })

/** How long one scrypt of a password takes here, on this thread (tens of milliseconds). */
function oneHashMs(): number {
  const started = performance.now()
  scryptSync('password', randomBytes(16), 32)
  return performance.now() - started
}

describe('a new user password hash', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfctl-users-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('is not made on the caller thread in memory: eight users take less than two hashes, logins wait', async () => {
    const store = openStore()
    const hash = oneHashMs()
    const started = performance.now()
    for (let i = 0; i < 8; i++) store.createUser(user(`user-${i}`, `pw-${i}`))
    expect(performance.now() - started).toBeLessThan(2 * hash)
    for (let i = 0; i < 8; i++) expect((await store.authenticate(`user-${i}`, `pw-${i}`))?.username).toBe(`user-${i}`)
    expect(await store.authenticate('user-0', 'pw-1')).toBeUndefined()
  })

  it('is taken from the hashes prepared on a worker in memory, also after they are forgotten', async () => {
    const store = openStore()
    store.prepareSecrets(['pw', 'pw', 'other'])
    store.createUser(user('ana', 'pw'))
    store.createUser(user('bob', 'pw'))
    store.createUser(user('cy', 'other'))
    store.forgetPreparedSecrets() // as a foundation does right after its seed
    expect((await store.authenticate('ana', 'pw'))?.username).toBe('ana')
    expect((await store.authenticate('bob', 'pw'))?.username).toBe('bob')
    expect((await store.authenticate('cy', 'other'))?.username).toBe('cy')
    expect(await store.authenticate('cy', 'pw')).toBeUndefined()
  })

  it('is in the row before createUser returns where rows are written: a reopened file logs the user in', async () => {
    const path = join(dir, 'cc.db')
    const store = openStore({ path })
    store.createUser(user('ana', 'pw'))
    store.close()
    const reopened = openStore({ path })
    expect((await reopened.authenticate('ana', 'pw'))?.username).toBe('ana')
    expect(await reopened.authenticate('ana', 'nope')).toBeUndefined()
    reopened.close()
  })
})
