// The PostgreSQL connection of a PgStore, on a thread of its own: the journal's callers are synchronous
// (as node:sqlite is), and a PostgreSQL client is not. The store posts one statement at a time and waits on a
// shared flag (Atomics.wait); this thread runs it with `pg`, puts the answer on the reply port and wakes it.
// A batch (statements the journal deferred, then the one whose answer it waits for) runs as one multi-statement
// simple query, its parameters written in as quoted literals: one round trip to the server for all of them.
// Requests run one after another, in the order posted, whether the store waits for each (Atomics.wait) or not
// (an asynchronous COMMIT, which the store awaits while its thread goes on); each reply names its request, and
// every reply adds one to the shared flag.
// In:  { id, sql, params } | { id, batch: [{ sql, params }] } | { id, close: true }
// Out (on the reply port): { id, ok: true, rows, rowCount } | { id, ok: false, error }
import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'

interface Setup {
  url: string
  flag: SharedArrayBuffer
  reply: MessagePort
  connectTimeoutMs: number
  queryTimeoutMs: number
}

export interface PgRequest {
  id?: number
  sql?: string
  params?: unknown[]
  /** Run in order as one query; the answer is the last one's. */
  batch?: { sql: string; params: unknown[] }[]
  close?: boolean
}

export type PgReply = { id?: number } & (
  | { ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { ok: false; error: { message: string; code: string | undefined; connection: boolean } }
)

if (!parentPort) throw new Error('pg-worker runs as a worker thread')
const setup = workerData as Setup
const flag = new Int32Array(setup.flag)

// BIGINT (timestamps in ms, COUNT(*)) as a number, as node:sqlite gives it: every value fits in 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value))

const IDLE_IN_TRANSACTION_MS = 10_000
const LOCK_TIMEOUT_MS = 15_000

let client: pg.Client | undefined
/** The connection broke inside a transaction: the statements until its ROLLBACK must fail, not run alone. */
let lostInTransaction = false
let inTransaction = false

async function connection(): Promise<pg.Client> {
  if (client) return client
  const fresh = new pg.Client({
    connectionString: setup.url,
    connectionTimeoutMillis: setup.connectTimeoutMs,
    query_timeout: setup.queryTimeoutMs,
    keepAlive: true,
    application_name: 'cfctl',
  })
  fresh.on('error', () => drop(fresh))
  try {
    await fresh.connect()
    // A cfctl frozen inside a transaction (SIGSTOP, a paused VM) must not hold the lease row locked: the
    // server ends such a session long before the lease goes stale (30 s), and a takeover waits for a row at
    // most this long rather than forever.
    await fresh.query(
      `SET idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS}; SET lock_timeout = ${LOCK_TIMEOUT_MS}; SET standard_conforming_strings = on`,
    )
  } catch (error) {
    fresh.end().catch(() => {})
    throw error
  }
  client = fresh
  return fresh
}

function drop(which: pg.Client): void {
  if (client !== which) return
  client = undefined
  if (inTransaction) lostInTransaction = true
  which.end().catch(() => {})
}

/** Errors that say the server could not be reached or the connection broke, rather than a refused statement. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    // Class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections).
    if (/^08|^57P0[1-3]$|^53300$/.test(code)) return true
    if (/^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NETUNREACH|TIMEDOUT|AI_AGAIN)$|^ENOTFOUND$/.test(code)) return true
  }
  const message = error instanceof Error ? error.message : String(error)
  return /timeout|terminated|Connection terminated|not queryable|ended|closed/i.test(message)
}

/**
 * `$n` written in as a quoted literal: an untyped literal takes its type from where it stands, as an untyped
 * parameter does. standard_conforming_strings is on (set on connect), so only the quote needs doubling.
 */
function inline(sql: string, params: readonly unknown[]): string {
  if (params.length === 0) return sql
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1]
    if (value === null || value === undefined) return 'NULL'
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot write ${value} into SQL`)
    return `'${String(value).replace(/'/g, "''")}'`
  })
}

function endsTransaction(sql: string): boolean {
  const verb = sql.trim().split(/\s+/, 1)[0]!.toUpperCase()
  return verb === 'COMMIT' || (verb === 'ROLLBACK' && !/\bTO\b/i.test(sql))
}

/** The reply for a statement or batch that threw. */
function failed(error: unknown, connection: boolean): PgReply {
  return {
    ok: false,
    error: {
      message: error instanceof Error ? error.message : String(error),
      code: (error as { code?: string }).code,
      connection,
    },
  }
}

async function executeBatch(batch: { sql: string; params: unknown[] }[]): Promise<PgReply> {
  const begins = batch.some((s) => /^\s*BEGIN\b/i.test(s.sql))
  const ends = batch.some((s) => endsTransaction(s.sql))
  if (lostInTransaction) {
    if (ends) {
      lostInTransaction = false
      inTransaction = false
    }
    return {
      ok: false,
      error: { message: 'the connection to PostgreSQL broke inside a transaction', code: '08006', connection: true },
    }
  }
  let active: pg.Client | undefined
  try {
    const text = batch.map((s) => inline(s.sql, s.params)).join(';\n')
    active = await connection()
    const result = (await active.query(text)) as pg.QueryResult | pg.QueryResult[]
    if (begins) inTransaction = true
    if (ends) inTransaction = false
    const last = Array.isArray(result) ? result.at(-1) : result
    if (/^\s*COMMIT\b/i.test(batch.at(-1)!.sql) && last?.command === 'ROLLBACK') {
      // PostgreSQL answers the COMMIT of a transaction that an earlier error aborted with ROLLBACK, not an
      // error: nothing of it was written, and the caller must not believe otherwise.
      return {
        ok: false,
        error: { message: 'the transaction was rolled back, not committed', code: '25P02', connection: false },
      }
    }
    return { ok: true, rows: last?.rows ?? [], rowCount: last?.rowCount ?? 0 }
  } catch (error) {
    const connectionError = isConnectionError(error)
    // What ran of the batch before the error is in the transaction it began (or the one already open).
    if (begins && active) inTransaction = true
    if (connectionError && active) drop(active)
    if (ends) {
      // The batch was to end the transaction: what failed of it is rolled back now, so none of it stays.
      if (!connectionError && active) await active.query('ROLLBACK').catch(() => {})
      inTransaction = false
      lostInTransaction = false
    } else if (connectionError && !active && inTransaction) lostInTransaction = true
    return failed(error, connectionError)
  }
}

async function execute(request: PgRequest): Promise<PgReply> {
  if (request.batch) return executeBatch(request.batch)
  const sql = request.sql ?? ''
  const verb = sql.trim().split(/\s+/, 1)[0]!.toUpperCase()
  if (lostInTransaction) {
    // Only the end of the transaction clears it: a ROLLBACK ends it as asked; a COMMIT ends it failed, since
    // what it held is gone. A ROLLBACK TO a savepoint, or anything else, fails: a later COMMIT on a fresh
    // connection would otherwise "succeed" with none of the transaction's writes.
    const ends = endsTransaction(sql)
    if (ends) {
      lostInTransaction = false
      inTransaction = false
    }
    if (verb === 'ROLLBACK' && ends) return { ok: true, rows: [], rowCount: 0 }
    return {
      ok: false,
      error: { message: 'the connection to PostgreSQL broke inside a transaction', code: '08006', connection: true },
    }
  }
  let active: pg.Client | undefined
  try {
    active = await connection()
    const result = await active.query(sql, request.params ?? [])
    if (verb === 'BEGIN') inTransaction = true
    if (endsTransaction(sql)) inTransaction = false
    if (verb === 'COMMIT' && !Array.isArray(result) && result.command === 'ROLLBACK') {
      // As in a batch: a COMMIT answered ROLLBACK committed nothing.
      return {
        ok: false,
        error: { message: 'the transaction was rolled back, not committed', code: '25P02', connection: false },
      }
    }
    const rows = Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows
    return { ok: true, rows, rowCount: Array.isArray(result) ? 0 : (result.rowCount ?? 0) }
  } catch (error) {
    const connectionError = isConnectionError(error)
    // A failed COMMIT (or ROLLBACK) ends the transaction: the server rolls it back, or the connection that
    // held it is gone with it. Ended before the connection is dropped, so that the drop does not leave this
    // thread "lost in a transaction" that nobody will end: every later call would fail.
    const ends = endsTransaction(sql)
    if (ends) inTransaction = false
    if (connectionError && active) drop(active)
    if (ends) lostInTransaction = false
    if (connectionError && !active && inTransaction) lostInTransaction = true
    return failed(error, connectionError)
  }
}

async function handle(request: PgRequest): Promise<void> {
  let reply: PgReply
  try {
    if (request.close) {
      await client?.end().catch(() => {})
      client = undefined
      reply = { ok: true, rows: [], rowCount: 0 }
    } else {
      reply = await execute(request)
    }
  } catch (error) {
    // Every request is answered, so that neither the waiting thread nor the requests queued after it hang.
    reply = {
      ok: false,
      error: { message: error instanceof Error ? error.message : String(error), code: undefined, connection: false },
    }
  }
  setup.reply.postMessage({ ...reply, id: request.id })
  Atomics.add(flag, 0, 1)
  Atomics.notify(flag, 0)
}

// One request at a time, in the order posted (see above).
let queue: Promise<void> = Promise.resolve()
parentPort.on('message', (request: PgRequest) => {
  queue = queue.then(() => handle(request))
})
