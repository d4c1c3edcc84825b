import { describe, expect, it } from 'vitest'
import { colorEnabled, csv, formatMb, painterFor, table } from '../../src/ui/text.js'

type Row = { name: string; n: number }
const rows: Row[] = [
  { name: 'a-very-long-application-name', n: 3 },
  { name: 'short', n: 12 },
]
const columns = [
  { header: 'name', value: (r: Row) => r.name, shrinkable: true },
  { header: 'count', value: (r: Row) => String(r.n), align: 'right' as const },
]

describe('table', () => {
  it('pads columns to the widest cell and right-aligns numbers', () => {
    expect(table(rows, columns).split('\n')).toEqual([
      'name                          count',
      'a-very-long-application-name      3',
      'short                            12',
    ])
  })

  it('cuts shrinkable columns with an ellipsis to fit the terminal', () => {
    const lines = table(rows, columns, 20).split('\n')
    expect(lines.every((line) => line.length <= 20)).toBe(true)
    expect(lines[1]).toMatch(/^a-very-long-\S*… +3$/)
  })
})

describe('csv', () => {
  it('quotes fields with commas and quotes', () => {
    expect(csv([{ name: 'a,"b"', n: 1 }], columns)).toBe('name,count\n"a,""b""",1')
  })
})

describe('colour', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream
  it('is off with NO_COLOR, and off when the stream is not a terminal', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false)
    expect(colorEnabled({ isTTY: false } as NodeJS.WriteStream, {})).toBe(false)
    expect(colorEnabled(tty, {})).toBe(true)
    expect(painterFor(tty, { NO_COLOR: '1' }).red('x')).toBe('x')
    expect(painterFor(tty, {}).red('x')).toBe('\u001b[31mx\u001b[39m')
  })
})

describe('formatMb', () => {
  it('reads as an operator writes memory', () => {
    expect(formatMb(256)).toBe('256M')
    expect(formatMb(1024)).toBe('1G')
    expect(formatMb(1536)).toBe('1.5G')
  })
})
