// A load generator run as its own process (so it does not share the server's event loop):
// keeps `connections` keep-alive connections busy, one request in flight on each, for `seconds`,
// after a one-second warm-up, and prints one JSON line with the request count, the rate, and latency
// percentiles. Talks only to the URL it is given.
//   node --import tsx bench/load.ts URL PATH TOKEN [connections] [seconds]
//
// It speaks HTTP/1.1 on raw sockets and only counts the body bytes against Content-Length: on a
// 2-core machine the generator shares the CPU with the server, and a full client (undici copies each
// body chunk into its WASM parser) spends more on a 150 KB page than the server does building it.
// Every response is still checked: status 200, a Content-Length, and exactly that many bytes.
import { connect, type Socket } from 'node:net'

const [urlArg, pathArg, tokenArg, connArg = '32', secondsArg = '5'] = process.argv.slice(2)
if (!urlArg || !pathArg || !tokenArg) {
  process.stderr.write('usage: load.ts URL PATH TOKEN [connections] [seconds]\n')
  process.exit(2)
}
const url = new URL(urlArg)
if (url.protocol !== 'http:') {
  process.stderr.write(`load.ts: only http URLs, got ${urlArg}\n`)
  process.exit(2)
}
const connections = Number(connArg)
const seconds = Number(secondsArg)
if (!(Number.isInteger(connections) && connections > 0) || !(seconds > 0)) {
  process.stderr.write('load.ts: connections must be a positive integer and seconds a positive number\n')
  process.exit(2)
}
const port = Number(url.port || 80)
const host = url.hostname
const request = Buffer.from(
  `GET ${pathArg} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: bearer ${tokenArg}\r\nAccept: application/json\r\n\r\n`,
  'latin1',
)
const HEADER_END = Buffer.from('\r\n\r\n')

/** One keep-alive connection that sends a request, reads the whole answer, and sends the next. */
class Connection {
  private readonly socket: Socket
  private head: Buffer = Buffer.alloc(0)
  private remaining = -1
  private started = 0n
  private onAnswer: ((ms: number) => void) | null = null
  private onError: ((error: Error) => void) | null = null

  constructor(ready: () => void, fail: (error: Error) => void) {
    this.socket = connect({ host, port, noDelay: true }, ready)
    this.socket.on('data', (chunk: Buffer) => this.read(chunk))
    this.socket.on('error', (error) => (this.onError ?? fail)(error))
    this.socket.on('close', () => this.onError?.(new Error('the server closed the connection')))
  }

  send(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.onAnswer = resolve
      this.onError = reject
      this.head = Buffer.alloc(0)
      this.remaining = -1
      this.started = process.hrtime.bigint()
      this.socket.write(request)
    })
  }

  close(): void {
    this.onError = null
    this.socket.destroy()
  }

  private read(chunk: Buffer): void {
    let body = chunk
    if (this.remaining < 0) {
      this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk])
      const end = this.head.indexOf(HEADER_END)
      if (end < 0) return
      const header = this.head.subarray(0, end).toString('latin1')
      const status = header.slice(9, 12)
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(header)
      if (status !== '200') {
        this.fail(`answered ${status}`)
        return
      }
      if (!length) {
        this.fail('answered without a Content-Length')
        return
      }
      this.remaining = Number(length[1])
      body = this.head.subarray(end + HEADER_END.length)
    }
    this.remaining -= body.length
    if (this.remaining < 0) {
      this.fail('sent more bytes than its Content-Length')
      return
    }
    if (this.remaining === 0) {
      const ms = Number(process.hrtime.bigint() - this.started) / 1e6
      const done = this.onAnswer
      this.onAnswer = null
      this.onError = null
      done?.(ms)
    }
  }

  private fail(why: string): void {
    this.onError?.(new Error(`GET ${pathArg} ${why}`))
    this.close()
  }
}

async function open(): Promise<Connection[]> {
  return Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<Connection>((resolve, reject) => {
          const connection: Connection = new Connection(() => resolve(connection), reject)
        }),
    ),
  )
}

async function run(pool: Connection[], durationMs: number, latencies: number[] | undefined): Promise<number> {
  const deadline = performance.now() + durationMs
  let count = 0
  await Promise.all(
    pool.map(async (connection) => {
      while (performance.now() < deadline) {
        const ms = await connection.send()
        count++
        latencies?.push(ms)
      }
    }),
  )
  return count
}

const pool = await open()
await run(pool, 1_000, undefined)
const latencies: number[] = []
const started = performance.now()
const count = await run(pool, seconds * 1_000, latencies)
const elapsed = (performance.now() - started) / 1_000
for (const connection of pool) connection.close()
latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]
process.stdout.write(
  `${JSON.stringify({ requests: count, seconds: elapsed, rps: count / elapsed, p50: pct(50), p99: pct(99), connections })}\n`,
)
