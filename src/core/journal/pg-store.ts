// The journal on PostgreSQL, behind the same synchronous SqlStore as the SQLite file. The connection lives
// in a worker thread (pg-worker.ts); each statement is posted to it and this thread blocks on a shared flag
// (Atomics.wait) until the answer is on the reply port, which it reads with receiveMessageOnPort. A round
// trip costs the statement plus some 50 µs of thread hand-off, and every caller of the Journal stays as it was.
// Statements whose answer the journal does not need (BEGIN, the fence, a step's UPDATE, an event's INSERT) are
// deferred and sent with the next one that needs an answer, as one multi-statement query: a fenced step
// transition is one round trip, where it was six.
// A server that cannot be reached gives JournalUnavailableError, which the runner treats as an outage.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads'
import { JournalError } from './errors.js'
import type { PgReply, PgRequest } from './pg-worker.js'
import { PG_UPGRADES } from './schema.js'
import type { SqlStore, SqlValue } from './store.js'

/** The journal's database could not be reached (or the connection broke): nothing of the call was recorded. */
export class JournalUnavailableError extends JournalError {
  constructor(location: string, why: string) {
    super(`the journal ${location} cannot be reached: ${why}`)
    this.name = 'JournalUnavailableError'
  }
}

/** A statement PostgreSQL refused (a constraint, a trigger): the caller's, not the connection's, problem. */
export class PgStatementError extends JournalError {
  readonly code: string | undefined
  constructor(message: string, code: string | undefined) {
    super(message)
    this.name = 'PgStatementError'
    this.code = code
  }
}

export interface PgStoreOptions {
  connectTimeoutMs?: number
  queryTimeoutMs?: number
}

const FROM_SOURCES = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(FROM_SOURCES ? './pg-worker.ts' : './pg-worker.js', import.meta.url)
const WORKER_EXEC_ARGV =
  FROM_SOURCES && !process.execArgv.some((arg) => arg.includes('tsx'))
    ? [...process.execArgv, '--import', 'tsx']
    : undefined

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  }
}

export class PgStore implements SqlStore {
  readonly kind = 'postgres'
  readonly location: string
  readonly upgrades = PG_UPGRADES
  readonly lockRows = ' FOR UPDATE'
  private readonly url: string
  private readonly connectTimeoutMs: number
  private readonly queryTimeoutMs: number
  private worker: { thread: Worker; flag: Int32Array; reply: MessagePort } | undefined
  private readonly translated = new Map<string, string>()
  private transaction = false
  private closed = false
  /** Deferred statements, sent ahead of the next statement whose answer is needed, in one round trip. */
  private queue: { sql: string; params: SqlValue[] }[] = []
  /** Statements deferred, and of those sent, since the store opened (mark() and discardTo()). */
  private deferredCount = 0
  private sentCount = 0
  private requests = 0
  /** A transaction of this store's is open on the server (its BEGIN was sent, its end not yet). */
  private remoteTransaction = false
  /** The asynchronous COMMITs not yet answered, by request id. */
  private readonly awaited = new Map<number, (reply: PgReply) => void>()

  constructor(url: string, options: PgStoreOptions = {}) {
    this.url = url
    this.location = redactUrl(url)
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000
    this.queryTimeoutMs = options.queryTimeoutMs ?? 10_000
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    return this.query(sql, params).rows as T[]
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): T | undefined {
    return this.query(sql, params).rows[0] as T | undefined
  }

  run(sql: string, params: readonly SqlValue[] = []): number {
    if (sql === 'ROLLBACK' && this.queue.some((s) => verbOf(s.sql) === 'BEGIN')) {
      // The transaction never reached the server: forgetting its statements is its rollback.
      this.queue = []
      this.sentCount = this.deferredCount
      this.transaction = false
      return 0
    }
    return this.query(sql, params).rowCount
  }

  mark(): number {
    return this.deferredCount
  }

  discardTo(mark: number): boolean {
    if (this.sentCount > mark) return false
    this.queue.length -= this.deferredCount - mark
    this.deferredCount = mark
    this.sentCount = mark
    return true
  }

  defer(sql: string, params: readonly SqlValue[] = []): void {
    if (this.closed) throw new Error(`the journal ${this.location} is closed`)
    const translated = this.translate(sql)
    // Counted as begun at once, so that a failure before the batch is sent still ends with a ROLLBACK.
    if (verbOf(translated) === 'BEGIN') this.transaction = true
    this.queue.push({ sql: translated, params: params.map((p) => (typeof p === 'bigint' ? String(p) : p)) })
    this.deferredCount++
  }

  exec(sql: string): void {
    this.call({ sql })
  }

  get inTransaction(): boolean {
    return this.transaction
  }

  lockSchema(): void {
    // Two cfctl opening a fresh database at once: the second waits, then finds the schema made.
    this.call({ sql: 'SELECT pg_advisory_xact_lock(2054716519)' })
  }

  schemaVersion(): number {
    const table = this.get<{ t: string | null }>("SELECT to_regclass('cfctl_journal_schema')::text AS t")
    if (!table?.t) return 0
    return Number(this.get<{ version: number }>('SELECT version FROM cfctl_journal_schema')?.version ?? 0)
  }

  setSchemaVersion(version: number): void {
    this.run('UPDATE cfctl_journal_schema SET version = ?', [version])
  }

  mode(): string {
    return 'postgres'
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    const worker = this.worker
    if (!worker) return
    try {
      this.call({ close: true }, 2_000)
    } catch {
      // Closing a connection that is gone.
    }
    this.worker = undefined
    this.queue = []
    worker.reply.close()
    void worker.thread.terminate()
  }

  private query(sql: string, params: readonly SqlValue[]): { rows: Record<string, unknown>[]; rowCount: number } {
    return this.call({ sql: this.translate(sql), params: params.map((p) => (typeof p === 'bigint' ? String(p) : p)) })
  }

  /** `?` to `$n` (the journal's SQL has no `?` inside literals), and SQLite's BEGIN IMMEDIATE to BEGIN. */
  private translate(sql: string): string {
    let out = this.translated.get(sql)
    if (out === undefined) {
      let n = 0
      out = sql.replace(/\?/g, () => `$${++n}`).replace(/^BEGIN IMMEDIATE$/, 'BEGIN')
      this.translated.set(sql, out)
    }
    return out
  }

  /**
   * Sends the deferred statements with a COMMIT, and returns at once: the promise settles when the server has
   * answered (rejecting with JournalUnavailableError or PgStatementError, the transaction rolled back). This
   * thread goes on meanwhile; a later statement runs after the COMMIT, on the same connection, in order.
   */
  commitAsync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the journal ${this.location} is closed`))
    const request: PgRequest = { id: ++this.requests, batch: [...this.queue, { sql: 'COMMIT', params: [] }] }
    this.queue = []
    this.sentCount = this.deferredCount
    this.transaction = false
    this.remoteTransaction = false
    return this.post(request).then(() => undefined)
  }

  queryAsync(sql: string, params: readonly SqlValue[] = []): Promise<{ rows: unknown[]; rowCount: number }> {
    if (this.closed) return Promise.reject(new Error(`the journal ${this.location} is closed`))
    // Inside a transaction that reached the server, the statement belongs to it, in order: sent as any other.
    if (this.remoteTransaction) {
      try {
        return Promise.resolve(this.query(sql, params))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return this.post({
      id: ++this.requests,
      sql: this.translate(sql),
      params: params.map((p) => (typeof p === 'bigint' ? String(p) : p)),
    })
  }

  /** Posts a request whose answer settles the promise, without waiting for it. */
  private post(request: PgRequest): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> {
    const worker = this.spawn()
    const settled = new Promise<{ rows: Record<string, unknown>[]; rowCount: number }>((resolve, reject) => {
      this.awaited.set(request.id!, (reply) => (reply.ok ? resolve(reply) : reject(this.errorOf(reply))))
    })
    // Held open while an answer is awaited, so that cfctl does not exit before it comes.
    worker.reply.ref()
    worker.thread.postMessage(request)
    return settled
  }

  private call(single: PgRequest, timeoutMs = this.connectTimeoutMs + this.queryTimeoutMs + 2_000) {
    if (this.closed && !single.close) throw new Error(`the journal ${this.location} is closed`)
    // The deferred statements go first, with this one, as one multi-statement query: one round trip.
    const request: PgRequest =
      this.queue.length > 0 && !single.close
        ? { batch: [...this.queue, { sql: single.sql ?? '', params: single.params ?? [] }] }
        : { ...single }
    request.id = ++this.requests
    this.queue = []
    this.sentCount = this.deferredCount
    const verbs = (request.batch ?? [request]).map((s) => verbOf(s.sql ?? ''))
    const begins = verbs.includes('BEGIN')
    const ends = verbs.some((verb, i) => endsTransaction(verb, (request.batch ?? [request])[i]!.sql ?? ''))
    const worker = this.spawn()
    worker.thread.postMessage(request)
    const reply = this.await(worker, request.id, timeoutMs)
    if (!reply) {
      // The thread is stuck on a connection that answers nothing: start over with a new one.
      this.worker = undefined
      this.transaction = false
      this.remoteTransaction = false
      worker.reply.close()
      void worker.thread.terminate()
      const error = new JournalUnavailableError(this.location, `no answer within ${timeoutMs} ms`)
      for (const settle of this.awaited.values())
        settle({ ok: false, error: { message: error.message, code: undefined, connection: true } })
      this.awaited.clear()
      throw error
    }
    // A batch that began a transaction and failed before its end leaves it open (to be rolled back); one that
    // held the end ended it either way (the worker rolls back what failed).
    if (begins && (reply.ok || request.batch)) this.transaction = this.remoteTransaction = true
    if (ends) this.transaction = this.remoteTransaction = false
    if (!reply.ok) throw this.errorOf(reply)
    return reply
  }

  /**
   * Blocks until the reply to request `id` is on the port (undefined after `timeoutMs`). The replies to
   * asynchronous COMMITs posted before it come first: they settle their promises on the way.
   */
  private await(worker: NonNullable<PgStore['worker']>, id: number, timeoutMs: number): PgReply | undefined {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const seen = Atomics.load(worker.flag, 0)
      for (let message = receiveMessageOnPort(worker.reply); message; message = receiveMessageOnPort(worker.reply)) {
        const reply = message.message as PgReply
        if (reply.id === id) return reply
        this.settle(reply)
      }
      const left = deadline - performance.now()
      if (left <= 0) return undefined
      Atomics.wait(worker.flag, 0, seen, left)
    }
  }

  /** An asynchronous COMMIT answered. */
  private settle(reply: PgReply): void {
    const settle = reply.id === undefined ? undefined : this.awaited.get(reply.id)
    if (!settle) return
    this.awaited.delete(reply.id!)
    if (this.awaited.size === 0) this.worker?.reply.unref()
    settle(reply)
  }

  private errorOf(reply: PgReply & { ok: false }): JournalError {
    if (reply.error.connection) return new JournalUnavailableError(this.location, reply.error.message)
    return new PgStatementError(reply.error.message, reply.error.code)
  }

  private spawn(): NonNullable<PgStore['worker']> {
    if (this.worker) return this.worker
    const flag = new Int32Array(new SharedArrayBuffer(4))
    const { port1, port2 } = new MessageChannel()
    const thread = new Worker(WORKER_URL, {
      ...(WORKER_EXEC_ARGV ? { execArgv: WORKER_EXEC_ARGV } : {}),
      workerData: {
        url: this.url,
        flag: flag.buffer,
        reply: port2,
        connectTimeoutMs: this.connectTimeoutMs,
        queryTimeoutMs: this.queryTimeoutMs,
      },
      transferList: [port2],
    })
    // The thread must not keep a finished cfctl alive; close() ends it too.
    thread.unref()
    port1.on('message', (reply: PgReply) => this.settle(reply))
    port1.unref()
    this.worker = { thread, flag, reply: port1 }
    return this.worker
  }
}

function verbOf(sql: string): string {
  return sql.trim().split(/\s+/, 1)[0]!.toUpperCase()
}

function endsTransaction(verb: string, sql: string): boolean {
  return verb === 'COMMIT' || (verb === 'ROLLBACK' && !/\bTO\b/i.test(sql))
}
