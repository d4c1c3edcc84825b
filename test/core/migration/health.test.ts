import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import { instancesHealth, RoutabilityMonitor, type RouteGap } from '../../../src/core/migration/index.js'

describe('instancesHealth', () => {
  it('is healthy when every desired index is RUNNING', () => {
    expect(
      instancesHealth(
        [
          { index: 0, state: 'RUNNING' },
          { index: 1, state: 'RUNNING' },
        ],
        2,
      ),
    ).toEqual({ healthy: true, running: 2, desired: 2, summary: '2 of 2 instances RUNNING' })
  })

  it('names the indexes that are not running, with the details the CC gave', () => {
    const health = instancesHealth(
      [
        { index: 0, state: 'RUNNING' },
        { index: 1, state: 'CRASHED', details: 'insufficient resources: memory' },
      ],
      3,
    )
    expect(health).toMatchObject({ healthy: false, running: 1 })
    expect(health.summary).toBe(
      '1 of 3 instances RUNNING; index 1 CRASHED (insufficient resources: memory), index 2 DOWN',
    )
  })

  it('counts an index as running when either of its two records runs (an evacuating copy)', () => {
    const health = instancesHealth(
      [
        { index: 0, state: 'RUNNING' },
        { index: 0, state: 'STARTING' },
      ],
      1,
    )
    expect(health.healthy).toBe(true)
  })

  it('does not count extra indexes toward the desired ones', () => {
    expect(instancesHealth([{ index: 5, state: 'RUNNING' }], 1).healthy).toBe(false)
  })
})

describe('RoutabilityMonitor', () => {
  it('reports a gap from the first failed probe to the next success', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const answers = [true, false, false, false, true, true]
    const gaps: RouteGap[] = []
    const monitor = new RoutabilityMonitor(
      clock,
      async () => answers.shift() ?? true,
      1_000,
      (g) => gaps.push(g),
    )
    monitor.start()
    await clock.advance(10_000)
    monitor.stop()
    expect(gaps).toEqual([{ startedAt: t0 + 2_000, endedAt: t0 + 5_000, ms: 3_000, open: false }])
  })

  it('reports a gap still open when the watch ends, and counts a probe that throws as a failure', async () => {
    const clock = new FakeClock()
    const t0 = clock.now()
    const gaps: RouteGap[] = []
    const monitor = new RoutabilityMonitor(
      clock,
      async () => {
        throw new Error('ECONNREFUSED')
      },
      500,
      (g) => gaps.push(g),
    )
    monitor.start()
    await clock.advance(2_000)
    monitor.stop()
    await clock.advance(2_000)
    expect(gaps).toEqual([{ startedAt: t0 + 500, endedAt: t0 + 2_000, ms: 1_500, open: true }])
  })

  it('does not stack probes slower than the interval', async () => {
    const clock = new FakeClock()
    let probes = 0
    const monitor = new RoutabilityMonitor(
      clock,
      async () => {
        probes++
        await clock.sleep(2_500)
        return true
      },
      1_000,
      () => {},
    )
    monitor.start()
    await clock.advance(10_000)
    monitor.stop()
    expect(probes).toBeLessThanOrEqual(4)
  })
})
