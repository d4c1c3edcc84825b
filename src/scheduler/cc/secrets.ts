// Password hashes made ahead, on a worker thread, while the caller goes on with other work: a seed creates its
// users after writing the whole fleet, and their eight scrypt runs one after the other on the main thread
// were a tenth of a large foundation's boot. The worker hashes from the last password to the first, writing
// each hash into shared memory and flagging it; take() (asked in order, from the first) uses a hash the worker
// made, waits for the one it is making, or claims one it has not begun and hashes it here: with a small
// fleet written before the worker is through, the two threads meet in the middle. Whatever goes wrong on the
// worker's side (it does not start, a hash fails, it is slower than WAIT_MS), take() hashes on the caller's
// thread, as createUser did before.
import { randomBytes, scryptSync } from 'node:crypto'
import { Worker } from 'node:worker_threads'

/** How long take() waits for one hash before the caller hashes on its own. */
const WAIT_MS = 5_000

// A script, so the worker needs no file of its own in dist/ (CommonJS: `eval` workers are scripts).
// The states of each hash, in shared memory.
const FREE = 0
const DONE = 1
const FAILED = 2
const HASHING = 3
const CLAIMED = 4

const WORKER = `
const { workerData } = require('node:worker_threads')
const { scryptSync } = require('node:crypto')
const { passwords, salts, keylen, out, flags } = workerData
const hashes = new Uint8Array(out)
const state = new Int32Array(flags)
for (let i = passwords.length - 1; i >= 0; i--) {
  if (Atomics.compareExchange(state, i, ${FREE}, ${HASHING}) !== ${FREE}) continue
  let outcome = ${DONE}
  try {
    hashes.set(scryptSync(passwords[i], Buffer.from(salts[i]), keylen), i * keylen)
  } catch {
    outcome = ${FAILED}
  }
  Atomics.store(state, i, outcome)
  Atomics.notify(state, i)
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
  /** Per password: FREE, HASHING (the worker), CLAIMED (take), DONE or FAILED. */
  private readonly states: Int32Array
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
    this.states = new Int32Array(flags)
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

  /**
   * A salt and the password's hash under it, not handed out before: the worker's, or made here when the worker
   * has not begun it (or failed, or is too slow). Undefined for a password not prepared (or not any more).
   */
  take(password: string): Secret | undefined {
    const i = this.passwords.findIndex((p, k) => p === password && !this.taken[k])
    if (i < 0) return undefined
    this.taken[i] = true
    const salt = this.salts[i]!
    const state = this.worker === undefined ? FREE : Atomics.compareExchange(this.states, i, FREE, CLAIMED)
    if (state === HASHING) Atomics.wait(this.states, i, HASHING, WAIT_MS)
    if (state !== FREE && Atomics.load(this.states, i) === DONE) {
      const start = i * this.keylen
      return { salt, hash: Buffer.from(this.hashes.slice(start, start + this.keylen)) }
    }
    return { salt, hash: scryptSync(password, salt, this.keylen) }
  }

  /** Stops the worker (what nobody took is dropped). */
  close(): void {
    void this.worker?.terminate()
    this.worker = undefined
  }
}
