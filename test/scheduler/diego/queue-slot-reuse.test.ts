// The auctioneer's queue holds slots: a record removed while queued and a new one given its slot before the
// batch must not take the removed record's place in the batch order (ties keep arrival order, see auction.ts).
import { describe, expect, it } from 'vitest'
import { aCellSpec, anApp } from './builders.js'
import { aDiegoFoundation } from './foundation.js'

describe('the auction queue and a reused slot', () => {
  it('places requests in the order they arrived, not in the order of the slots they reuse', async () => {
    // One container of room: whoever comes first in the batch gets it.
    const f = aDiegoFoundation([aCellSpec('only', { containers: 1 })], { auctionIntervalMs: 100 })
    try {
      f.desire(anApp('first', { instances: 1 })) // queued first, in slot 0
      f.desire(anApp('second', { instances: 1 })) // queued second, slot 1
      f.stop('first') // slot 0 freed while queued
      f.desire(anApp('third', { instances: 1 })) // queued third: takes slot 0 again
      await f.clock.advance(100)
      const placed = f.events
        .filter((e) => e.type === 'lrp-placed')
        .map((e) => (e as { processGuid: string }).processGuid)
      expect(placed).toEqual(['second-v1'])
    } finally {
      f.diego.shutdown()
    }
  })
})
