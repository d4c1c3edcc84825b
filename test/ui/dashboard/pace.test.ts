import { describe, expect, it } from 'vitest'
import { nextRate, paceOf, SPARK_BUCKETS } from '../../../src/ui/dashboard/pace.js'

const MINUTE = 60_000

describe('the rate keys', () => {
  it('step the limit up and down a ladder, above the top to no limit', () => {
    expect(nextRate('10/min', 1)).toBe('15/min')
    expect(nextRate('10/min', -1)).toBe('5/min')
    expect(nextRate('7/min', 1)).toBe('10/min')
    expect(nextRate('7/min', -1)).toBe('5/min')
    expect(nextRate('1/sec', 1)).toBe('120/min')
    expect(nextRate('3000/min', 1)).toBeNull()
    expect(nextRate(null, -1)).toBe('3000/min')
  })

  it('have nowhere to go past the ends', () => {
    expect(nextRate(null, 1)).toBeUndefined()
    expect(nextRate('1/min', -1)).toBeUndefined()
    expect(nextRate('10/hour', -1)).toBeUndefined()
  })
})

describe('the pace of a migration', () => {
  const now = 10 * MINUTE

  it('counts the starts of the last rate period against the limit', () => {
    const starts = [now - 90_000, now - 50_000, now - 30_000, now - 1_000]
    const pace = paceOf(starts, now, { rate: '10/min', maxInFlight: 2 }, { steps: 30, started: 30 })
    expect(pace.now).toBe('3/min')
    expect(pace.limit).toBe('10/min')
  })

  it('draws the starts of the last four periods in the sparkline', () => {
    const starts = [now - 4 * MINUTE - 1, now - 5_000, now - 4_000, now - 1_000]
    const pace = paceOf(starts, now, { rate: '10/min', maxInFlight: 2 }, { steps: 30, started: 30 })
    expect(pace.spark).toHaveLength(SPARK_BUCKETS)
    expect(pace.spark.reduce((a, b) => a + b, 0)).toBe(3)
    expect(pace.spark[SPARK_BUCKETS - 1]).toBe(3)
  })

  it('estimates the time left at the observed pace, never faster than the limit', () => {
    const everySixSeconds = Array.from({ length: 10 }, (_, i) => now - 60_000 + 6_000 * (i + 1))
    const pace = paceOf(everySixSeconds, now, { rate: '10/min', maxInFlight: 5 }, { steps: 20, started: 20 })
    expect(pace.etaMs).toBe(2 * MINUTE)
  })

  it("falls back on the plan's estimate before any step started", () => {
    const pace = paceOf([], now, { rate: '10/min', maxInFlight: 5 }, { steps: 50, started: 50 })
    expect(pace.now).toBe('0/min')
    expect(pace.etaMs).toBe(5 * MINUTE)
  })

  it('has nothing left when every step settled', () => {
    expect(paceOf([now], now, { rate: null, maxInFlight: 1 }, { steps: 0, started: 0 }).etaMs).toBe(0)
  })
})
