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
})
