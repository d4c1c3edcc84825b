import { describe, expect, it } from 'vitest'
import { bar, cell, count, rule, shortDuration, sparkline } from '../../../src/ui/dashboard/format.js'

describe('dashboard text pieces', () => {
  it('draws a bar of the given width, full cells for the fraction done', () => {
    expect(bar(0.5, 10)).toBe('█████░░░░░')
    expect(bar(0, 4)).toBe('░░░░')
    expect(bar(1.7, 4)).toBe('████')
    expect(bar(Number.NaN, 3)).toBe('░░░')
  })

  it('scales a sparkline to its maximum, keeping idle buckets visible', () => {
    expect(sparkline([0, 1, 2, 4], 4)).toBe('▁▃▅█')
    expect(sparkline([0, 0, 0])).toBe('▁▁▁')
  })

  it('groups thousands', () => {
    expect(count(0)).toBe('0')
    expect(count(999)).toBe('999')
    expect(count(50_000)).toBe('50,000')
    expect(count(1_234_567)).toBe('1,234,567')
    expect(count(-4_200)).toBe('-4,200')
  })

  it('says durations briefly', () => {
    expect(shortDuration(850)).toBe('850ms')
    expect(shortDuration(4_200)).toBe('4.2s')
    expect(shortDuration(42_000)).toBe('42s')
    expect(shortDuration(12 * 60_000)).toBe('12m')
    expect(shortDuration(65 * 60_000 + 61 * 60_000)).toBe('2h06m')
  })

  it('cuts or pads cells to an exact width', () => {
    expect(cell('abcdef', 4)).toBe('abc…')
    expect(cell('ab', 4)).toBe('ab  ')
    expect(cell('7', 3, 'right')).toBe('  7')
    expect(rule('Apps', 12)).toBe('── Apps ────')
    expect(rule('Apps', 12)).toHaveLength(12)
  })
})
