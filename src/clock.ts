// The one place in cfctl that touches wall time, shared by both halves (the scheduler and the client core
// never import each other; src/scheduler/clock.ts re-exports this for the engine). Everything that waits takes a Clock,
// so tests drive a FakeClock by hand and a 30-minute convergence story runs in milliseconds.

export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds since the epoch (real or simulated). */
  now(): number
  /** Runs fn once after ms. */
  after(ms: number, fn: () => void): Timer
  /** Runs fn every ms, first after one interval. */
  every(ms: number, fn: () => void): Timer
  /** Resolves after ms. */
  sleep(ms: number): Promise<void>
}

export class RealClock implements Clock {
  now(): number {
    return Date.now()
  }

  after(ms: number, fn: () => void): Timer {
    const handle = setTimeout(fn, Math.max(0, ms))
    handle.unref?.()
    return { cancel: () => clearTimeout(handle) }
  }

  every(ms: number, fn: () => void): Timer {
    const handle = setInterval(fn, Math.max(1, ms))
    handle.unref?.()
    return { cancel: () => clearInterval(handle) }
  }

  sleep(ms: number): Promise<void> {
    // Unlike after(), a sleep keeps the process alive: someone is awaiting it.
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
  }
}

interface PendingTimer {
  id: number
  due: number
  fn: () => void
  interval: number | undefined
  cancelled: boolean
}

/**
 * A clock that moves only when a test moves it. Timers fire in due order (ties in creation
 * order), and pending promise callbacks are flushed between timers, so async code that awaits
 * a sleep() sees the time it expects.
 */
export class FakeClock implements Clock {
  private current: number
  private nextId = 0
  private heap: PendingTimer[] = []

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  after(ms: number, fn: () => void): Timer {
    return this.schedule(Math.max(0, ms), fn, undefined)
  }

  every(ms: number, fn: () => void): Timer {
    const interval = Math.max(1, ms)
    return this.schedule(interval, fn, interval)
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.after(ms, resolve)
    })
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.heap.filter((t) => !t.cancelled).length
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms)
    await flushMicrotasks()
    for (;;) {
      const top = this.peek()
      if (!top || top.due > target) break
      this.pop()
      this.current = Math.max(this.current, top.due)
      if (top.interval !== undefined) {
        top.due += top.interval
        this.push(top)
      }
      top.fn()
      await flushMicrotasks()
    }
    this.current = target
    await flushMicrotasks()
  }

  /** Advances in steps of `step` until `done()` holds or `limit` ms have passed; returns the time spent. */
  async advanceUntil(done: () => boolean, { step = 100, limit = 3_600_000 } = {}): Promise<number> {
    const start = this.current
    while (!done()) {
      if (this.current - start >= limit) throw new Error(`condition not reached within ${limit} ms of simulated time`)
      await this.advance(step)
    }
    return this.current - start
  }

  private schedule(delay: number, fn: () => void, interval: number | undefined): Timer {
    const timer: PendingTimer = { id: this.nextId++, due: this.current + delay, fn, interval, cancelled: false }
    this.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
      },
    }
  }

  private peek(): PendingTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop()
    return this.heap[0]
  }

  private push(timer: PendingTimer): void {
    const heap = this.heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  private pop(): PendingTimer | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && earlier(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && earlier(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }
}

function earlier(a: PendingTimer, b: PendingTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.id < b.id)
}

async function flushMicrotasks(): Promise<void> {
  // A few turns let chains of awaits settle before the next timer fires.
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

/** A clock that runs `factor` times faster than wall time (for demos and `--speed`). */
export class ScaledClock implements Clock {
  private readonly origin: number
  private readonly factor: number
  private readonly base: Clock

  constructor(factor: number, base: Clock = new RealClock()) {
    if (!(factor > 0)) throw new RangeError(`speed factor must be above 0, got ${factor}`)
    this.factor = factor
    this.base = base
    this.origin = base.now()
  }

  now(): number {
    return this.origin + (this.base.now() - this.origin) * this.factor
  }

  after(ms: number, fn: () => void): Timer {
    return this.base.after(ms / this.factor, fn)
  }

  every(ms: number, fn: () => void): Timer {
    return this.base.every(ms / this.factor, fn)
  }

  sleep(ms: number): Promise<void> {
    return this.base.sleep(ms / this.factor)
  }
}
