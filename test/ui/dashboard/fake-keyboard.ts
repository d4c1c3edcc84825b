// A terminal's input for driving the dashboard without a terminal: raw mode accepted, keys typed by the
// caller. Shared by the dashboard tests and bench/ui.bench.ts.
import { EventEmitter } from 'node:events'

export class FakeKeyboard extends EventEmitter {
  readonly isTTY = true
  private pending: string | null = null
  setRawMode(): this {
    return this
  }
  setEncoding(): this {
    return this
  }
  resume(): this {
    return this
  }
  pause(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  read(): string | null {
    const data = this.pending
    this.pending = null
    return data
  }
  type(data: string): void {
    this.pending = data
    this.emit('readable')
    this.emit('data', data)
  }
}
