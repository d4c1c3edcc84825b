import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { newGuid } from '../../../src/scheduler/cc/guid.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('the guids the CC makes', () => {
  it('are version 4 UUIDs, each new', () => {
    const guids = Array.from({ length: 1_000 }, newGuid)
    for (const guid of guids)
      expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(guids).size).toBe(guids.length)
  })

  it('are flat strings: 20,000 kept take the heap of 36 characters each, not of a rope of slices', () => {
    gc()
    const before = process.memoryUsage().heapUsed
    const kept = Array.from({ length: 20_000 }, newGuid)
    gc()
    const perGuid = (process.memoryUsage().heapUsed - before) / kept.length
    // A flat one-byte string of 36 characters is 56-72 bytes with the array's slot; randomUUID's rope is ~490.
    expect(perGuid).toBeLessThan(150)
    expect(kept).toHaveLength(20_000)
  })
})
