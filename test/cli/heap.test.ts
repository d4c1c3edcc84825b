import { afterEach, describe, expect, it, vi } from 'vitest'
import { HEAP_FLAGS } from '../../bin/heap-flags.js'
import { releaseStartupGarbage, releaseStartupGarbageSoon } from '../../src/cli/heap.js'

describe('releaseStartupGarbage', () => {
  const global = globalThis as { gc?: unknown }
  const original = global.gc
  afterEach(() => {
    global.gc = original
  })

  it('runs one full, compacting collection when bin/run.js exposed gc', () => {
    expect(HEAP_FLAGS).toContain('--expose-gc')
    const gc = vi.fn()
    global.gc = gc
    releaseStartupGarbage()
    expect(gc).toHaveBeenCalledExactlyOnceWith({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  })

  it('does nothing in a Node started without --expose-gc', () => {
    global.gc = undefined
    expect(() => releaseStartupGarbage()).not.toThrow()
  })

  it('collects a moment after the server is up, not before its API can answer', () => {
    vi.useFakeTimers()
    try {
      const gc = vi.fn()
      global.gc = gc
      releaseStartupGarbageSoon(1_000)
      expect(gc).not.toHaveBeenCalled()
      vi.advanceTimersByTime(1_000)
      expect(gc).toHaveBeenCalledExactlyOnceWith({ type: 'major', execution: 'sync', flavor: 'last-resort' })
    } finally {
      vi.useRealTimers()
    }
  })
})
