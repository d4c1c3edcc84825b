import { describe, expect, it } from 'vitest'
import { FakeClock, ScaledClock } from '../../src/scheduler/clock.js'

describe('FakeClock', () => {
  it('fires timers in due order as time is advanced, not before', async () => {
    const clock = new FakeClock(0)
    const fired: string[] = []
    clock.after(300, () => fired.push('c'))
    clock.after(100, () => fired.push('a'))
    clock.after(200, () => fired.push('b'))
    await clock.advance(150)
    expect(fired).toEqual(['a'])
    await clock.advance(150)
    expect(fired).toEqual(['a', 'b', 'c'])
    expect(clock.now()).toBe(300)
  })

  it('runs an interval once per period and stops when cancelled', async () => {
    const clock = new FakeClock(0)
    const at: number[] = []
    const timer = clock.every(30_000, () => at.push(clock.now()))
    await clock.advance(95_000)
    expect(at).toEqual([30_000, 60_000, 90_000])
    timer.cancel()
    await clock.advance(60_000)
    expect(at).toHaveLength(3)
  })

  it('lets async code that sleeps in a loop see simulated time pass', async () => {
    const clock = new FakeClock(0)
    const wakes: number[] = []
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1_000)
        wakes.push(clock.now())
      }
    })()
    await clock.advance(3_000)
    await loop
    expect(wakes).toEqual([1_000, 2_000, 3_000])
  })

  it('keeps creation order among timers due at the same instant', async () => {
    const clock = new FakeClock(0)
    const fired: number[] = []
    for (let i = 0; i < 5; i++) clock.after(10, () => fired.push(i))
    await clock.advance(10)
    expect(fired).toEqual([0, 1, 2, 3, 4])
  })

  it('advanceUntil stops as soon as the condition holds and fails past its limit', async () => {
    const clock = new FakeClock(0)
    let ready = false
    clock.after(2_500, () => (ready = true))
    expect(await clock.advanceUntil(() => ready, { step: 1_000 })).toBe(3_000)
    await expect(clock.advanceUntil(() => false, { step: 1_000, limit: 5_000 })).rejects.toThrow(/within 5000 ms/)
  })
})

describe('ScaledClock', () => {
  it('shrinks delays by its factor on the underlying clock', async () => {
    const base = new FakeClock(0)
    const clock = new ScaledClock(10, base)
    let fired = false
    clock.after(30_000, () => (fired = true))
    await base.advance(2_999)
    expect(fired).toBe(false)
    await base.advance(1)
    expect(fired).toBe(true)
    expect(clock.now()).toBe(30_000)
  })

  it('refuses a factor that is not positive', () => {
    expect(() => new ScaledClock(0)).toThrow(/above 0/)
  })
})
