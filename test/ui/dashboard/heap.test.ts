import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { keepHeapSmall } from '../../../src/ui/dashboard/heap.js'

const MB = 1024 * 1024

describe('the heap between polls', () => {
  it('is collected once it grew by the allowance since the least it was seen at, and not before', async () => {
    const clock = new FakeClock()
    let used = 40 * MB
    let collections = 0
    const collect = () => {
      collections++
      used = 38 * MB
    }
    const timer = keepHeapSmall({ clock, collect, used: () => used, growthBytes: 8 * MB })
    used = 47 * MB
    await clock.advance(500)
    expect(collections).toBe(0)
    // V8 collected on its own: the allowance counts from there.
    used = 36 * MB
    await clock.advance(500)
    used = 45 * MB
    await clock.advance(500)
    expect(collections).toBe(1)
    // From what the collection left.
    used = 45 * MB
    await clock.advance(500)
    expect(collections).toBe(1)
    used = 47 * MB
    await clock.advance(500)
    expect(collections).toBe(2)
    timer?.cancel()
    used = 90 * MB
    await clock.advance(5_000)
    expect(collections).toBe(2)
  })

  it('does nothing where Node gives no way to collect', () => {
    expect(keepHeapSmall({ clock: new FakeClock() })).toBeUndefined()
  })
})
