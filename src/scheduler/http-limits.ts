// Bounded requests for the foundation's HTTP servers (the API and the router), as the nginx in front of
// a real CC bounds them: a request must arrive whole within a time limit (408 and the connection
// closed, like nginx's client_body_timeout), headers have a size limit (431), and a body larger than
// the limit is refused with 413 as soon as its Content-Length says so, without reading it (nginx's
// client_max_body_size). A client that declares 10 GB and sends 10 bytes gets its 413 at once; one
// that stalls mid-body gets its 408 when the request time is up. Neither holds a connection for long.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

// node:http through getBuiltinModule, not an ESM import: an ESM import reads every export of node:http, and
// reading its WebSocket, CloseEvent and MessageEvent loads Node's bundled HTTP client (undici, with http2),
// tens of milliseconds of every `cfctl server` start for classes the server never uses.
const { createServer } = process.getBuiltinModule('node:http')

export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this (node's requestTimeout). */
  requestTimeoutMs: number
  /** The headers must arrive within this. */
  headersTimeoutMs: number
  /** Largest request head; bigger is 431 (node's maxHeaderSize). */
  maxHeaderBytes: number
  /** Largest body a handler reads; a Content-Length above it is 413 before the handler runs. */
  maxBodyBytes: number
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 20_000,
  // nginx's large_client_header_buffers (4 × 8k) bound a request head to about this.
  maxHeaderBytes: 32 * 1024,
  maxBodyBytes: 1024 * 1024,
})

/** nginx's own 413 page. */
const TOO_LARGE_PAGE =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body bgcolor="white">\r\n' +
  '<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'

/** Checks limits given as options; throws naming the field when one is not a positive integer. */
export function resolveHttpLimits(limits: Partial<HttpLimits> = {}): HttpLimits {
  const resolved = { ...DEFAULT_HTTP_LIMITS, ...limits }
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`httpLimits.${key} must be a positive integer, got ${value}`)
  }
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) resolved.headersTimeoutMs = resolved.requestTimeoutMs
  return resolved
}

/** Answers 413 and closes the connection, leaving the body unread. */
export function refuseTooLarge(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(413, {
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(TOO_LARGE_PAGE),
    Connection: 'close',
  })
  res.end(TOO_LARGE_PAGE)
}

/** An HTTP server with these limits in front of `handler`. */
export function boundedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: Partial<HttpLimits> = {},
): Server {
  const resolved = resolveHttpLimits(limits)
  const server = createServer(
    {
      requestTimeout: resolved.requestTimeoutMs,
      headersTimeout: resolved.headersTimeoutMs,
      maxHeaderSize: resolved.maxHeaderBytes,
      // How often node looks for requests past their time; the default (30 s) is coarser than a limit.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(resolved.requestTimeoutMs / 4))),
    },
    (req, res) => {
      const declared = Number(req.headers['content-length'] ?? 0)
      if (declared > resolved.maxBodyBytes) {
        refuseTooLarge(res)
        return
      }
      handler(req, res)
    },
  )
  server.keepAliveTimeout = 5_000
  return server
}
