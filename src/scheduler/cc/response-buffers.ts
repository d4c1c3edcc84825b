// Reusable response buffers for the big list pages. A page of 100 apps is about 150 KB; allocating
// one per request at thousands of requests a second is hundreds of MB a second of external memory,
// which drives V8 into full mark-compacts over the whole heap (tens of thousands of records and the
// backends' state) and shows up as latency spikes. A buffer goes back to the pool only once the
// response has finished, that is once node has handed every byte to the kernel.
import type { ServerResponse } from 'node:http'

export class ResponseBuffers {
  private readonly free: Buffer[] = []

  /**
   * @param slabBytes size of each pooled buffer; larger bodies get a buffer of their own
   * @param maxFree how many idle buffers to keep
   */
  constructor(
    private readonly slabBytes = 256 * 1024,
    private readonly maxFree = 64,
  ) {}

  /** A buffer of exactly `length` bytes (a view of a pooled slab when it fits). */
  take(length: number): Buffer {
    if (length > this.slabBytes) return Buffer.allocUnsafeSlow(length)
    const slab = this.free.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes)
    return slab.subarray(0, length)
  }

  /** Returns `body`'s slab to the pool once `res` has finished sending it (never on an error). */
  releaseAfter(res: ServerResponse, body: Buffer): void {
    if (body.buffer.byteLength !== this.slabBytes || body.byteOffset !== 0) return
    res.once('finish', () => {
      if (this.free.length < this.maxFree) this.free.push(Buffer.from(body.buffer, 0, this.slabBytes))
    })
  }

  get idle(): number {
    return this.free.length
  }
}
