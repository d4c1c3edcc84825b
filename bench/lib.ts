// Shared plumbing for `npm run bench`: timing helpers and the results file described in shared/BENCH.md.
import { writeFileSync } from 'node:fs'

export interface Figure {
  value: number
  unit: string
  note: string
}

export class Results {
  readonly figures = new Map<string, Figure>()

  record(key: string, value: number, unit: string, note: string): void {
    if (!Number.isFinite(value)) throw new Error(`${key}: refusing to record a non-finite figure (${value})`)
    this.figures.set(key, { value: round(value), unit, note })
    process.stdout.write(`  ${key.padEnd(34)} ${String(round(value)).padStart(12)} ${unit.padEnd(6)} ${note}\n`)
  }

  /** A benchmark that cannot run says why on stderr and leaves its key out. */
  skip(key: string, why: string): void {
    process.stderr.write(`  ${key}: not measured: ${why}\n`)
  }

  write(path: string): void {
    writeFileSync(path, `${JSON.stringify(Object.fromEntries(this.figures), null, 2)}\n`)
  }
}

export function round(value: number): number {
  if (Math.abs(value) >= 100) return Math.round(value * 10) / 10
  if (Math.abs(value) >= 1) return Math.round(value * 100) / 100
  return Math.round(value * 10_000) / 10_000
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Wall time of fn in milliseconds, measured with the monotonic clock. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

export function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export type Bench = (results: Results) => Promise<void>

/** An access token for the foundation's admin, as the cf CLI logs in (password grant, client `cf`). */
export async function adminToken(foundation: {
  apiUrl: string
  users: { admin: { username: string; password: string } }
}): Promise<string> {
  const { admin } = foundation.users
  // Node's own fetch: this file is bundled into the engine's RSS child, which must not carry an HTTP client.
  const res = await fetch(`${foundation.apiUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      username: admin.username,
      password: admin.password,
    }).toString(),
  })
  const body = (await res.json()) as { access_token?: string }
  if (res.status !== 200 || !body.access_token) throw new Error(`login answered ${res.status}`)
  return body.access_token
}
