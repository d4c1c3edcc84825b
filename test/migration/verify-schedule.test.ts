// The schedule of the checks of a moving app: quick at first, then on the verify interval.
import { describe, expect, it } from 'vitest'
import { nextCheckAfter } from '../../src/core/migration/runner.js'

function schedule(intervalMs: number, untilMs: number): number[] {
  const checks = [0]
  while (checks.at(-1)! < untilMs) checks.push(nextCheckAfter(checks.at(-1)!, intervalMs))
  return checks
}

describe('nextCheckAfter', () => {
  it('checks at 100, 200, 400 ... ms, then on every multiple of the interval', () => {
    expect(schedule(2_000, 8_000)).toEqual([0, 100, 200, 400, 800, 1_600, 2_000, 4_000, 6_000, 8_000])
  })

  it('never checks later than a plain poll on the interval would', () => {
    for (const interval of [50, 1_000, 2_000, 3_000]) {
      const checks = schedule(interval, 20 * interval)
      for (let k = 1; k <= 20; k++) expect(checks).toContain(k * interval)
    }
  })

  it('keeps to the grid when a check ran late', () => {
    expect(nextCheckAfter(2_700, 2_000)).toBe(4_000)
    expect(nextCheckAfter(130, 2_000)).toBe(260)
  })

  it('waits no longer than an interval shorter than the first step', () => {
    expect(schedule(50, 200)).toEqual([0, 50, 100, 150, 200])
  })
})
