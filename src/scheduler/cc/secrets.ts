// Password hashes made ahead, on a worker thread, while the caller goes on with other work: a seed creates its
// users after writing the whole fleet, and their eight scrypt runs one after the other on the main thread
// were a tenth of a large foundation's boot. The worker hashes from the last password to the first, writing
// each hash into shared memory and flagging it; take() (asked in order, from the first) uses a hash the worker
// made, waits for the one it is making, or claims one it has not begun and hashes it here: with a small
// fleet written before the worker is through, the two threads meet in the middle. Whatever goes wrong on the
// worker's side (it does not start, a hash fails, it is slower than WAIT_MS), take() hashes on the caller's
// thread, as createUser did before. takeLater() hands out a hash to come instead, for an in-memory store,
// which has no row to write it into and so need not wait: the worker's when it is done (one thread hashing
// beside the boot, not several), else scrypt on libuv's pool; its caller's thread never hashes or waits.
import { randomBytes, scrypt, scryptSync } from 'node:crypto'
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

/** A salt and the hash to come under it; the promise never rejects (a failed hash is made again). */
export interface LaterSecret {
  salt: Buffer
  hash: Promise<Buffer>
}

export class PreparedSecrets {
  private readonly passwords: string[]
  private readonly salts: Buffer[]
  private readonly hashes: Uint8Array
  /** Per password: FREE, HASHING (the worker), CLAIMED (take), DONE or FAILED. */
  private readonly states: Int32Array
  private readonly taken: boolean[]
  private worker: Worker | undefined
  /** Hashes handed out by takeLater that the worker has yet to make: close() lets it make them first. */
  private awaited = 0
  private closing = false
  /** The worker ended (its loop done, or it failed): what it has not made, it will not. */
  private workerGone = false

  /**
   * Starts hashing each password (a list may repeat one: each use gets a salt of its own).
   * @param waitMs how long take() or takeLater() waits for one of the worker's hashes before hashing it itself
   */
  constructor(
    passwords: readonly string[],
    private readonly keylen: number,
    private readonly waitMs = WAIT_MS,
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
      // A worker that fails leaves its flags at 0: take() times out and the caller hashes; takeLater's waits
      // are woken to hash on their own.
      this.worker.on('error', () => {})
      this.worker.on('exit', () => {
        this.workerGone = true
        for (let i = 0; i < this.passwords.length; i++) Atomics.notify(this.states, i)
      })
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
    if (state === HASHING) Atomics.wait(this.states, i, HASHING, this.waitMs)
    if (state !== FREE && Atomics.load(this.states, i) === DONE) {
      const start = i * this.keylen
      return { salt, hash: Buffer.from(this.hashes.slice(start, start + this.keylen)) }
    }
    return { salt, hash: scryptSync(password, salt, this.keylen) }
  }

  /**
   * As take(), but the hash may come later: the worker's once it has made it (one it has not begun is left to
   * it), or scrypt's off this thread when there is no worker or it fails, ends or is more than waitMs from it.
   * Undefined for a password not prepared (or not any more).
   */
  takeLater(password: string): LaterSecret | undefined {
    const i = this.passwords.findIndex((p, k) => p === password && !this.taken[k])
    if (i < 0) return undefined
    this.taken[i] = true
    const salt = this.salts[i]!
    if (this.worker === undefined) return { salt, hash: hashLater(password, salt, this.keylen) }
    // Left to the worker even when it has not begun it: claimed here, it would be hashed on libuv's pool
    // beside the worker, and on two cores that is CPU taken from the boot that asked for it.
    this.awaited++
    const hash = this.workersHash(i).then((made) => {
      if (--this.awaited === 0 && this.closing) this.close()
      return made ?? hashLater(password, salt, this.keylen)
    })
    return { salt, hash }
  }

  /** Stops the worker (what nobody took is dropped), once it has made the hashes takeLater handed out. */
  close(): void {
    this.closing = true
    if (this.awaited > 0) return
    void this.worker?.terminate()
    this.worker = undefined
  }

  /**
   * The worker's hash of password i once it has made it; undefined (for the caller to hash) if it failed,
   * ended without it, or is more than waitMs from it; one it has not begun is then claimed, so it is made once.
   */
  private async workersHash(i: number): Promise<Buffer | undefined> {
    for (;;) {
      const state = Atomics.load(this.states, i)
      if (state === DONE) {
        const start = i * this.keylen
        return Buffer.from(this.hashes.slice(start, start + this.keylen))
      }
      if (state !== FREE && state !== HASHING) return undefined
      const wait = this.workerGone ? undefined : Atomics.waitAsync(this.states, i, state, this.waitMs)
      const outcome = wait === undefined ? 'timed-out' : wait.async ? await wait.value : wait.value
      if (outcome === 'timed-out' || this.workerGone) {
        if (Atomics.load(this.states, i) === DONE) continue
        Atomics.compareExchange(this.states, i, FREE, CLAIMED)
        return undefined
      }
    }
  }
}

/** scrypt on libuv's pool; a failure is hashed again on this thread, so the promise never rejects. */
function hashLater(password: string, salt: Buffer, keylen: number): Promise<Buffer> {
  return new Promise((resolve) =>
    scrypt(password, salt, keylen, (error, key) => resolve(error ? scryptSync(password, salt, keylen) : key)),
  )
}
