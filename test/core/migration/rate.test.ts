import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/clock.js'
import {
  failureAllowance,
  formatDuration,
  type GateTicket,
  parseDuration,
  parseMaxFailures,
  parseRate,
  RateGate,
  rateWindow,
} from '../../../src/core/migration/index.js'
import { advance } from './fake-foundation.js'

describe('parseRate', () => {
  it('reads N/sec, N/min and N/hour, and their long and short spellings', () => {
    expect(parseRate('10/min')).toEqual({ count: 10, periodMs: 60_000, text: '10/min' })
    expect(parseRate(' 600 / minute ')).toEqual({ count: 600, periodMs: 60_000, text: '600/min' })
    expect(parseRate('5/s')).toEqual({ count: 5, periodMs: 1_000, text: '5/sec' })
    expect(parseRate('100/hour').periodMs).toBe(3_600_000)
    expect(parseRate('3/h').text).toBe('3/hour')
  })

  it('says what a rate must look like, naming the flag', () => {
    expect(() => parseRate('fast')).toThrow(
      '--rate must look like N/sec, N/min or N/hour with N a whole number above 0, for example 10/min, got "fast"',
    )
    expect(() => parseRate('10/day')).toThrow('--rate has an unknown unit "day"; use N/sec, N/min or N/hour')
    expect(() => parseRate('0/min')).toThrow('--rate must start more than 0 apps per min')
    expect(() => parseRate('1.5/min')).toThrow('--rate must look like')
    expect(() => parseRate('x', 'set-rate RATE')).toThrow(/^set-rate RATE must look like/)
  })

  it('spreads starts evenly, widening the window only below 100 ms a start', () => {
    expect(rateWindow(parseRate('10/min'))).toEqual({ intervalCap: 1, intervalMs: 6_000 })
    expect(rateWindow(parseRate('500/sec'))).toEqual({ intervalCap: 50, intervalMs: 100 })
    const odd = rateWindow(parseRate('333/sec'))
    expect(odd.intervalCap / odd.intervalMs).toBeCloseTo(0.333, 6)
  })
})

describe('parseMaxFailures', () => {
  it('reads a count or a share of the apps', () => {
    expect(failureAllowance(parseMaxFailures('3'), 1_000)).toBe(3)
    expect(failureAllowance(parseMaxFailures('5%'), 1_000)).toBe(50)
    expect(failureAllowance(parseMaxFailures('10%'), 15)).toBe(1)
  })

  it('says what it must be', () => {
    expect(() => parseMaxFailures('many')).toThrow(
      '--max-failures must be a count (3) or a percentage of the apps (5%), got "many"',
    )
    expect(() => parseMaxFailures('150%')).toThrow('--max-failures must be a percentage from 0% to 100%, got "150%"')
  })
})

describe('parseDuration', () => {
  it('reads durations as operators write them', () => {
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('2.5m')).toBe(150_000)
  })

  it('names the flag in the error', () => {
    expect(() => parseDuration('90', '--timeout')).toThrow(
      '--timeout must be a duration such as 500ms, 90s, 5m or 1h30m, got "90"',
    )
    expect(() => parseDuration('0s', '--timeout')).toThrow('--timeout must be longer than 0, got "0s"')
  })

  it('formats durations for plans and summaries', () => {
    expect(formatDuration(450)).toBe('450 ms')
    expect(formatDuration(90_000)).toBe('90 s')
    expect(formatDuration(50 * 60_000)).toBe('50 min')
    expect(formatDuration(125 * 60_000)).toBe('2 h 5 min')
  })
})

describe('RateGate', () => {
  /** Takes tickets as fast as the gate gives them, recording when each came. */
  function drive(gate: RateGate, count: number, hold: (ticket: GateTicket) => void = (t) => t.release()) {
    const times: number[] = []
    ;(async () => {
      for (let i = 0; i < count; i++) {
        const ticket = await gate.acquire()
        times.push(clock.now())
        hold(ticket!)
      }
    })()
    return times
  }
  let clock: FakeClock

  it('starts at most intervalCap per window, evenly', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: parseRate('10/min'), maxInFlight: 100 })
    const times = drive(gate, 12)
    await advance(clock, 70_000)
    const t0 = times[0]!
    expect(times.map((t) => t - t0)).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66].map((s) => s * 1_000))
  })

  it('holds starts at max-in-flight until a ticket is released', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: null, maxInFlight: 2 })
    const held: GateTicket[] = []
    const times = drive(gate, 4, (t) => held.push(t))
    await advance(clock, 1_000)
    expect(times).toHaveLength(2)
    expect(gate.inFlight).toBe(2)
    held[0]!.release()
    held[0]!.release()
    await advance(clock, 1)
    expect(times).toHaveLength(3)
    expect(gate.inFlight).toBe(2)
  })

  it('takes a new rate and a new concurrency live', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: parseRate('1/min'), maxInFlight: 1 })
    const held: GateTicket[] = []
    const times = drive(gate, 10, (t) => held.push(t))
    await advance(clock, 1_000)
    gate.setMaxInFlight(10)
    await advance(clock, 61_000)
    expect(times).toHaveLength(2)
    gate.setRate(parseRate('60/min'))
    await advance(clock, 5_000)
    expect(times.length).toBeGreaterThanOrEqual(6)
    gate.setRate(null)
    await advance(clock, 1)
    expect(times).toHaveLength(10)
  })

  it('gives back the start of a refunded ticket', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: parseRate('1/hour'), maxInFlight: 5 })
    const first = await gate.acquire()
    first!.refund()
    const second = await gate.acquire()
    expect(second).not.toBeNull()
    expect(gate.startsWithin()).toBe(1)
  })

  it('lets a waiter go when its signal aborts', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: null, maxInFlight: 1 })
    await gate.acquire()
    const controller = new AbortController()
    const waiting = gate.acquire({ signal: controller.signal })
    controller.abort()
    expect(await waiting).toBeNull()
    expect(gate.waiting).toBe(0)
  })

  it('lets recovered steps through regardless of the rate, but not past max-in-flight', async () => {
    clock = new FakeClock()
    const gate = new RateGate(clock, { rate: parseRate('1/hour'), maxInFlight: 3 })
    await gate.acquire()
    expect(await gate.acquire({ rateLimited: false })).not.toBeNull()
    expect(await gate.acquire({ rateLimited: false })).not.toBeNull()
    let fourth: GateTicket | null | undefined
    gate.acquire({ rateLimited: false }).then((t) => {
      fourth = t
    })
    await advance(clock, 1_000)
    expect(fourth).toBeUndefined()
  })

  it('refuses a max-in-flight below 1', () => {
    expect(() => new RateGate(new FakeClock(), { rate: null, maxInFlight: 0 })).toThrow(
      '--max-in-flight must be a whole number of apps above 0, got 0',
    )
  })
})
