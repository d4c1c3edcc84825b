// A proxy in front of the CC that injects faults into a seeded share of its /v2 calls, each of a kind drawn
// from a mix: a 503 before the CC sees the call, a 503 after the CC acted (the change made, the answer
// lost, as a gateway timing out would), the connection reset before the call is passed on or after the CC
// acted (the client sees a reset socket, not a status), or the answer held back a while (2 s by default).
// It keeps its own account of the PUTs the CC acted on, to hold against what the client journaled.
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  Agent as NodeAgent,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { mulberry32 } from '../../src/scheduler/random.js'

/** The share of /v2 calls that get each kind of fault (together at most 1). */
export interface FaultMix {
  /** Answered 503 without passing the call on: the CC never saw it. */
  refuse?: number
  /** Passed on, applied by the CC, then answered 503: the answer was lost. */
  lose?: number
  /** The connection reset before the call is passed on: the CC never saw it. */
  resetBefore?: number
  /** Passed on, applied by the CC, then the connection reset instead of its answer. */
  resetAfter?: number
  /** Passed on and applied; its answer held back `delayMs`. */
  delay?: number
  delayMs?: number
}

export type FaultKind = 'refused' | 'lost' | 'resetBefore' | 'resetAfter' | 'delayed'

export interface FaultCounts extends Record<FaultKind, number> {
  /** Calls passed on untouched. */
  passed: number
}

/** A PUT the CC answered with success: it acted on it, whatever the client was told. */
export interface ActedPut {
  path: string
  body: Record<string, unknown>
  /** The fault the client saw instead of the answer, if any. */
  fault: FaultKind | null
}

/** 503 to `share` of the calls, half before and half after the CC acted (the suite's original mix). */
export function half503(share: number): FaultMix {
  return { refuse: share / 2, lose: share / 2 }
}

export class FaultProxy {
  readonly counts: FaultCounts = { refused: 0, lost: 0, resetBefore: 0, resetAfter: 0, delayed: 0, passed: 0 }
  readonly actedPuts: ActedPut[] = []
  /** Off until armed, so that login and setup go through cleanly. */
  armed = false
  private readonly agent = new NodeAgent({ keepAlive: true, maxSockets: 64 })
  private readonly kinds: [FaultKind, number][]
  private readonly putKinds: [FaultKind, number][]
  private readonly delayMs: number

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    mix: FaultMix,
    putMix: FaultMix,
    private readonly random: () => number,
  ) {
    this.kinds = kindsOf(mix)
    this.delayMs = mix.delayMs ?? putMix.delayMs ?? 2_000
    this.putKinds = kindsOf(putMix)
  }

  /** `putMix` (default: `mix`) for the PUTs, so that a run with few of them still sees each fault on one. */
  static async start(upstream: string, mix: FaultMix, seed: number, putMix = mix): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined
    const server = createServer((req, res) => void proxy!.handle(req, res))
    proxy = new FaultProxy(server, new URL(upstream), mix, putMix, mulberry32(seed))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** Every fault injected, of any kind. */
  get faults(): number {
    return this.kinds.reduce((sum, [kind]) => sum + this.counts[kind], 0)
  }

  private pick(method: string | undefined): FaultKind | null {
    let r = this.random()
    for (const [kind, share] of method === 'PUT' ? this.putKinds : this.kinds) {
      if (r < share) return kind
      r -= share
    }
    return null
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.armed && req.url?.startsWith('/v2') ? this.pick(req.method) : null
    const body = await readAll(req)
    if (fault === 'refused') {
      this.counts.refused++
      unavailable(res)
      return
    }
    if (fault === 'resetBefore') {
      this.counts.resetBefore++
      req.socket.resetAndDestroy()
      return
    }
    let answer: Answer
    try {
      answer = await this.forward(req, body)
    } catch {
      res.writeHead(502).end()
      return
    }
    if (req.method === 'PUT' && answer.status < 300) {
      this.actedPuts.push({ path: req.url ?? '', body: parseBody(body), fault })
    }
    if (fault === null) this.counts.passed++
    else this.counts[fault]++
    if (fault === 'lost') return unavailable(res)
    if (fault === 'resetAfter') {
      req.socket.resetAndDestroy()
      return
    }
    if (fault === 'delayed') await new Promise((resolve) => setTimeout(resolve, this.delayMs))
    if (res.destroyed) return
    res.writeHead(answer.status, answer.headers)
    res.end(answer.body)
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (answer) => {
          readAll(answer).then((answered) => {
            const headers: IncomingHttpHeaders = { ...answer.headers, 'content-length': String(answered.length) }
            for (const hop of ['transfer-encoding', 'connection', 'keep-alive']) delete headers[hop]
            resolve({ status: answer.statusCode ?? 502, headers, body: answered })
          }, reject)
        },
      )
      upstream.on('error', reject)
      upstream.end(body)
    })
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.agent.destroy()
  }
}

function kindsOf(mix: FaultMix): [FaultKind, number][] {
  return [
    ['refused', mix.refuse ?? 0],
    ['lost', mix.lose ?? 0],
    ['resetBefore', mix.resetBefore ?? 0],
    ['resetAfter', mix.resetAfter ?? 0],
    ['delayed', mix.delay ?? 0],
  ]
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

function parseBody(body: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return {}
  }
}

function unavailable(res: ServerResponse): void {
  const body = JSON.stringify({ code: 10015, description: 'Service Unavailable', error_code: 'CF-ServiceUnavailable' })
  res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
