// A load generator run as its own process (so it does not share the server's event loop):
// keeps `connections` requests in flight for `seconds`, after a warm-up, and prints one JSON line
// with the request count, the rate, and latency percentiles. Talks only to the URL it is given.
//   node --import tsx bench/load.ts URL PATH TOKEN [connections] [seconds]
import { Pool } from 'undici'

const [urlArg, pathArg, tokenArg, connArg = '32', secondsArg = '5'] = process.argv.slice(2)
if (!urlArg || !pathArg || !tokenArg) {
  process.stderr.write('usage: load.ts URL PATH TOKEN [connections] [seconds]\n')
  process.exit(2)
}
const url: string = urlArg
const path: string = pathArg
const token: string = tokenArg
const connections = Number(connArg)
const seconds = Number(secondsArg)
const pool = new Pool(url, { connections, pipelining: 1 })
const headers = { authorization: `bearer ${token}` }

// undici's low-level dispatch: the body is counted as it arrives, with no stream in between, so the
// generator spends as little of the machine's CPU as it can (it shares the cores with the server).
function once(): Promise<number> {
  const start = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    let status = 0
    let expected = -1
    let received = 0
    pool.dispatch(
      { method: 'GET', path, headers },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode
          const length = responseHeaders['content-length']
          if (typeof length === 'string') expected = Number(length)
        },
        onResponseData(_controller, chunk) {
          received += chunk.length
        },
        onResponseEnd() {
          if (status !== 200) return reject(new Error(`GET ${path} answered ${status}`))
          if (expected >= 0 && received !== expected)
            return reject(new Error(`GET ${path}: ${received} bytes of ${expected}`))
          resolve(Number(process.hrtime.bigint() - start) / 1e6)
        },
        onResponseError(_controller, error) {
          reject(error)
        },
      },
    )
  })
}

async function run(durationMs: number, latencies: number[] | undefined): Promise<number> {
  const deadline = performance.now() + durationMs
  let count = 0
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const ms = await once()
        count++
        latencies?.push(ms)
      }
    }),
  )
  return count
}

await run(1_000, undefined)
const latencies: number[] = []
const started = performance.now()
const count = await run(seconds * 1_000, latencies)
const elapsed = (performance.now() - started) / 1_000
latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]
process.stdout.write(
  `${JSON.stringify({ requests: count, seconds: elapsed, rps: count / elapsed, p50: pct(50), p99: pct(99), connections })}\n`,
)
await pool.close()
