// A migration's output format follows stdout, where its data goes: JSON lines into a file or a pipe even
// when stderr is a terminal, the live view when stdout is a terminal.
import { describe, expect, it } from 'vitest'
import { outputMode } from '../../src/cli/migration-output.js'

describe('outputMode', () => {
  it('is JSON lines when stdout is not a terminal', () => {
    expect(outputMode(false, { isTTY: false })).toBe('json')
  })

  it('is the live view when stdout is a terminal', () => {
    expect(outputMode(false, { isTTY: true })).toBe('tty')
  })

  it('is JSON lines with --json, terminal or not', () => {
    expect(outputMode(true, { isTTY: true })).toBe('json')
  })
})
