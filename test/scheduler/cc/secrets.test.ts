import { scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { PreparedSecrets } from '../../../src/scheduler/cc/secrets.js'

describe('password hashes made ahead on a worker', () => {
  it('hands out each prepared hash once, with its own salt, equal to scrypt of the password under it', () => {
    const prepared = new PreparedSecrets(['pw', 'other', 'pw'], 32)
    try {
      const first = prepared.take('pw')
      const second = prepared.take('pw')
      const other = prepared.take('other')
      for (const [secret, password] of [
        [first, 'pw'],
        [second, 'pw'],
        [other, 'other'],
      ] as const) {
        expect(secret).toBeDefined()
        expect(secret!.hash.equals(scryptSync(password, secret!.salt, 32))).toBe(true)
      }
      expect(first!.salt.equals(second!.salt)).toBe(false)
      expect(prepared.take('pw')).toBeUndefined() // both used
      expect(prepared.take('never prepared')).toBeUndefined()
    } finally {
      prepared.close()
    }
  })

  it('hands out hashes to come, all made on the worker, which close() lets finish them', async () => {
    const passwords = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    const prepared = new PreparedSecrets(passwords, 32, 60_000)
    const later = passwords.map((password) => ({ password, secret: prepared.takeLater(password)! }))
    prepared.close() // as a foundation does right after its seed, before the worker is through
    for (const { password, secret } of later) {
      expect((await secret.hash).equals(scryptSync(password, secret.salt, 32))).toBe(true)
    }
    // Every one by the worker (DONE), none claimed back to be hashed on libuv's pool beside it.
    const states = (prepared as unknown as { states: Int32Array }).states
    expect([...states]).toEqual(passwords.map(() => 1))
    expect(new Set(later.map(({ secret }) => secret.salt.toString('hex'))).size).toBe(passwords.length)
    expect(prepared.takeLater('a')).toBeUndefined()
  })

  it('hashes off the caller thread what a worker that is gone did not make', async () => {
    const prepared = new PreparedSecrets(['a', 'b'], 32, 60_000)
    const first = prepared.takeLater('a')!
    await new Promise((resolve) => setTimeout(resolve, 0))
    // A worker that ends (fails, or is stopped) without the hash: the wait ends with it, not after waitMs.
    await (prepared as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate()
    expect((await first.hash).equals(scryptSync('a', first.salt, 32))).toBe(true)
    prepared.close()
  })
})
