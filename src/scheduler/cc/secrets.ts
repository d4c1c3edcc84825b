// Password hashes made ahead, on a worker thread, while the caller goes on with other work: a seed creates its
// users after writing the whole fleet, and their eight scrypt runs one after the other on the main thread
// were a tenth of a large foundation's boot. The worker writes each hash into shared memory and flags it;
// take() reads one, waiting for the worker only if it is not done yet. Whatever goes wrong on the worker's
// side (it does not start, a hash fails, it is slower than WAIT_MS), take() answers undefined and the caller
// hashes on its own, as it did before.
import { randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/** How long take() waits for one hash before the caller hashes on its own. */
const WAIT_MS = 5_000

// A script, so the worker needs no file of its own in dist/ (CommonJS: `eval` workers are scripts).
const WORKER = `
const { workerData } = require('node:worker_threads')
const { scryptSync } = require('node:crypto')
const { passwords, salts, keylen, out, flags } = workerData
const hashes = new Uint8Array(out)
const done = new Int32Array(flags)
for (let i = 0; i < passwords.length; i++) {
  let state = 1
  try {
    hashes.set(scryptSync(passwords[i], Buffer.from(salts[i]), keylen), i * keylen)
  } catch {
    state = 2
  }
  Atomics.store(done, i, state)
  Atomics.notify(done, i)
}
`

export interface Secret {
  salt: Buffer
  hash: Buffer
}

export class PreparedSecrets {
  private readonly passwords: string[]
  private readonly salts: Buffer[]
  private readonly hashes: Uint8Array
  private readonly done: Int32Array
  private readonly taken: boolean[]
  private worker: Worker | undefined

  /** Starts hashing each password (a list may repeat one: each use gets a salt of its own). */
  constructor(
    passwords: readonly string[],
    private readonly keylen: number,
  ) {
    this.passwords = [...passwords]
    this.salts = this.passwords.map(() => randomBytes(16))
    this.taken = this.passwords.map(() => false)
    const out = new SharedArrayBuffer(keylen * this.passwords.length)
    const flags = new SharedArrayBuffer(4 * Math.max(1, this.passwords.length))
    this.hashes = new Uint8Array(out)
    this.done = new Int32Array(flags)
    if (this.passwords.length === 0) return
    try {
      this.worker = new Worker(WORKER, {
        eval: true,
        workerData: { passwords: this.passwords, salts: this.salts, keylen, out, flags },
      })
      this.worker.unref()
      // A worker that fails leaves its flags at 0: take() times out and the caller hashes.
      this.worker.on('error', () => {})
    } catch {
      this.worker = undefined
    }
  }

  /** A salt and the password's hash under it, not handed out before; undefined when none can be had. */
  take(password: string): Secret | undefined {
    const i = this.passwords.findIndex((p, k) => p === password && !this.taken[k])
    if (i < 0 || this.worker === undefined) return undefined
    this.taken[i] = true
    if (Atomics.load(this.done, i) === 0) Atomics.wait(this.done, i, 0, WAIT_MS)
    if (Atomics.load(this.done, i) !== 1) return undefined
    const start = i * this.keylen
    return { salt: this.salts[i]!, hash: Buffer.from(this.hashes.slice(start, start + this.keylen)) }
  }

  /** Stops the worker (what nobody took is dropped). */
  close(): void {
    void this.worker?.terminate()
    this.worker = undefined
  }
}
